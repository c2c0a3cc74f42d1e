"""The type stubs (_core.pyi) and docstrings cover the public API."""
import ast
import inspect
from pathlib import Path

import pytest

import vecindex
from vecindex import _core

STUB_NAMES = ("_core.pyi",)
# pybind11 adds these to every class; they need no stub entry.
IMPLICIT_MEMBERS = {"__init__", "__new__", "__doc__", "__module__", "__dict__", "__weakref__", "__getstate__",
                    "__setstate__", "__len__", "__repr__"}


def _stub_tree():
    path = Path(_core.__file__).with_name("_core.pyi")
    if not path.exists():  # an install that drops .pyi files has nothing to check
        pytest.skip(f"{path} is not installed")
    return ast.parse(path.read_text())


def _stubbed(tree):
    names, members = set(), {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            names.add(node.name)
            members[node.name] = {item.name for item in node.body if isinstance(item, ast.FunctionDef)}
        elif isinstance(node, ast.FunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(target.id for target in node.targets if isinstance(target, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):  # NAME: type
            names.add(node.target.id)
    return names, members


def _runtime_members(cls):
    return {name for name in vars(cls)
            if not name.startswith(("__", "_pybind11")) or name in ("__init__", "__len__", "__repr__")}


def test_every_name_of_the_extension_has_a_stub():
    names, _ = _stubbed(_stub_tree())
    runtime = {name for name in dir(_core) if not name.startswith("__")}
    assert runtime - names == set()


def test_every_stubbed_name_exists_in_the_extension():
    names, members = _stubbed(_stub_tree())
    assert {name for name in names if not hasattr(_core, name)} <= {"ProgressCallback"}
    for class_name, stubbed in members.items():
        cls = getattr(_core, class_name)
        assert {m for m in stubbed if not hasattr(cls, m)} == set(), class_name


def test_every_class_member_has_a_stub():
    _, members = _stubbed(_stub_tree())
    for class_name, stubbed in members.items():
        cls = getattr(_core, class_name)
        if issubclass(cls, BaseException):
            continue
        missing = _runtime_members(cls) - stubbed - IMPLICIT_MEMBERS
        assert missing == set(), f"{class_name} lacks stubs for {sorted(missing)}"


def test_all_lists_importable_names():
    for name in vecindex.__all__:
        assert hasattr(vecindex, name), name


@pytest.mark.parametrize("name", vecindex.__all__)
def test_every_public_name_has_a_docstring(name):
    obj = getattr(vecindex, name)
    assert inspect.getdoc(obj), f"vecindex.{name} has no docstring"


def _public_members(cls):
    for name, member in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(member, (staticmethod, classmethod)):
            member = member.__func__
        if callable(member) or isinstance(member, property):
            yield name, member


@pytest.mark.parametrize("name", [n for n in vecindex.__all__ if inspect.isclass(getattr(vecindex, n))])
def test_every_public_method_and_property_has_a_docstring(name):
    cls = getattr(vecindex, name)
    undocumented = [member_name for member_name, member in _public_members(cls) if not inspect.getdoc(member)]
    assert undocumented == [], f"vecindex.{name}: no docstring on {undocumented}"


def test_help_of_index_reads_like_documentation():
    text = inspect.getdoc(vecindex.Index)
    for word in ("metric", "dtype", "ef_search", "attributes"):
        assert word in text
