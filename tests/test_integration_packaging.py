"""Packaging of the framework stores: optional, lazily imported, with a helpful ImportError."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

BLOCKER = """
import importlib.abc, sys

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == {blocked!r}:
            raise ImportError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, Block())
"""


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120)


def test_import_vecindex_imports_no_framework():
    result = _run("""
        import sys, vecindex, vecindex.integrations
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("langchain_core", "llama_index"))
        print(loaded)
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("module, blocked, extra", [
    ("langchain", "langchain_core", "langchain"),
    ("llama_index", "llama_index", "llama-index"),
])
def test_a_missing_framework_names_the_extra(module, blocked, extra):
    result = _run(BLOCKER.format(blocked=blocked) + f"""
try:
    import vecindex.integrations.{module}
except ImportError as error:
    print("ImportError:", error)
""")
    assert result.returncode == 0, result.stderr
    assert f'pip install "vecindex[{extra}]"' in result.stdout
    assert blocked in result.stdout


def test_the_frameworks_import_when_installed():
    result = _run("""
        from vecindex.integrations.langchain import VecindexStore
        from vecindex.integrations.llama_index import VecindexVectorStore
        print(VecindexStore.__mro__[1].__name__, VecindexVectorStore.__mro__[1].__name__)
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["VectorStore", "BasePydanticVectorStore"]


def _expanded_extra(extras: dict, name: str) -> set:
    """The requirements of one extra, with `vecindex[a,b]` self-references expanded."""
    found = set()
    for item in extras[name]:
        if item.startswith("vecindex["):
            for inner in item[len("vecindex["):item.index("]")].split(","):
                found |= _expanded_extra(extras, inner.strip())
        else:
            found.add(item)
    return found


def test_ci_installs_the_frameworks_and_ray_through_the_test_extra():
    import tomllib
    from pathlib import Path

    extras = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())[
        "project"]["optional-dependencies"]
    assert extras["langchain"] and extras["llama-index"] and extras["distributed"]
    test = _expanded_extra(extras, "test")
    assert set(extras["langchain"]) | set(extras["llama-index"]) | set(extras["distributed"]) <= test
    assert any(item.startswith("langchain-tests") for item in test)
    assert set(extras["test-core"]) <= test
