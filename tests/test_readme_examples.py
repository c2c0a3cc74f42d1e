"""Every ```python block of README.md runs as written, and shows what it really returns.

The blocks run in order in one namespace, as a reader pasting them into one session would,
after PRELUDE: the only names it defines are the free data names the README leaves to the
reader. An expression statement followed by a comment that is a Python literal (on its
line, continued on the comment-only lines below it) must evaluate to that literal; ``...``
in it stands for any value, and a comment that starts with ``e.g.`` fixes only the shape
(keys, types, lengths), for outputs that depend on the machine. A str-valued expression
(a repr) must equal its comment's text.
"""
from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import numpy as np
import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
CI_RUN = Path(__file__).resolve().parents[1] / ".ci" / "run"

# The free names the README's examples use, with small seeded data (dim 384, as they say).
PRELUDE = """
import numpy as np
rng = np.random.default_rng(2026)
vectors = rng.standard_normal((1000, 384)).astype(np.float32)   # the data being indexed
more = rng.standard_normal((2, 384)).astype(np.float32)         # two more rows
queries = rng.standard_normal((5, 384)).astype(np.float32)
one_query = queries[0]
q = queries[0]
sample = rng.standard_normal((300, 384)).astype(np.float32)     # training sample (pq needs 256)
stop_requested = False                                          # the Progress example's flag
"""


def python_blocks(text: str) -> list[tuple[int, str]]:
    """(first line number, code) of every ```python fenced block."""
    blocks = []
    for match in re.finditer(r"^```python\n(.*?)^```", text, flags=re.S | re.M):
        blocks.append((text.count("\n", 0, match.start(1)) + 1, match.group(1)))
    return blocks


def shown_outputs(code: str) -> dict[int, str]:
    """Line number -> the comment on that line plus the comment-only lines right below it."""
    comments: dict[int, str] = {}
    comment_only: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(code).readline):
        if token.type == tokenize.COMMENT:
            line = token.start[0]
            comments[line] = token.string[1:].strip()
            if not token.line[: token.start[1]].strip():
                comment_only.add(line)
    shown = {}
    for line in range(1, code.count("\n") + 2):
        parts = [comments[line]] if line in comments and line not in comment_only else []
        below = line + 1
        while below in comment_only:
            parts.append(comments[below])
            below += 1
        if parts:
            shown[line] = " ".join(parts)
    return shown


def same_shape(shown, actual) -> bool:
    if isinstance(shown, dict):
        return isinstance(actual, dict) and shown.keys() == actual.keys() and all(
            same_shape(shown[key], actual[key]) for key in shown)
    if isinstance(shown, list):
        return isinstance(actual, list) and all(same_shape(shown[0], item) for item in actual[:1]) if shown else True
    return shown is ... or type(shown) is type(actual)


def matches(shown, actual) -> bool:
    if shown is ...:
        return True
    if isinstance(shown, dict):
        return isinstance(actual, dict) and shown.keys() == actual.keys() and all(
            matches(shown[key], actual[key]) for key in shown)
    if isinstance(shown, (list, tuple)):
        return (isinstance(actual, (list, tuple)) and len(shown) == len(actual)
                and all(matches(a, b) for a, b in zip(shown, actual)))
    return type(shown) is type(actual) and shown == actual


def check_shown(comment: str, value, where: str) -> bool:
    """Compares a value with the comment that shows it; False if the comment shows no value."""
    example = comment.startswith("e.g. ")
    text = comment[len("e.g. "):] if example else comment
    try:
        shown = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        if isinstance(value, str):  # a repr shown as text
            assert value == text, f"{where}: shows {text!r}, really {value!r}"
            return True
        return False  # prose, not an output
    if example:
        assert same_shape(shown, value), f"{where}: shows the shape of {shown!r}, really {value!r}"
    else:
        assert matches(shown, value), f"{where}: shows {shown!r}, really {value!r}"
    return True


def run_block(code: str, first_line: int, namespace: dict) -> int:
    """Runs the block statement by statement; returns how many shown outputs it checked."""
    shown = shown_outputs(code)
    statements = ast.parse(code).body
    checked = 0
    for node in statements:
        where = f"README.md line {first_line + node.lineno - 1}"
        if isinstance(node, ast.Expr):
            value = eval(compile(ast.Expression(node.value), where, "eval"), namespace)
            last_on_line = not any(other.lineno == node.end_lineno and other.col_offset > node.col_offset
                                   for other in statements)
            if last_on_line and node.end_lineno in shown:
                checked += check_shown(shown[node.end_lineno], value, where)
        else:
            exec(compile(ast.Module([node], type_ignores=[]), where, "exec"), namespace)
    return checked


def test_every_python_block_runs_and_shows_its_real_output(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # the quick start saves idx.vx in the working folder
    blocks = python_blocks(README.read_text())
    assert len(blocks) >= 5, "the README's python blocks were not found"
    namespace: dict = {}
    exec(PRELUDE, namespace)
    checked = sum(run_block(code, line, namespace) for line, code in blocks)
    # The quick start's simd_info, and get_attrs, explain, memory_usage, repr and stats.
    assert checked >= 6
    assert "/1000" in capsys.readouterr().out  # the progress callback printed done/total


def test_shown_output_checks_can_fail():
    with pytest.raises(AssertionError):
        check_shown("{'a': 1}", {"a": 2}, "here")
    with pytest.raises(AssertionError):
        check_shown("e.g. {'level': 'x'}", {"level": "x", "extra": 1}, "here")
    with pytest.raises(AssertionError):
        check_shown("vecindex.Index(dim=3)", "vecindex.Index(dim=4)", "here")
    assert check_shown("{'a': ..., 'b': [1]}", {"a": object(), "b": [1]}, "here")
    assert not check_shown("vectors back as float32", np.zeros(3), "here")


def test_ci_runs_the_readme_test_command_with_strict_skips():
    command = 'pip install ".[test]" && python -m pytest'
    assert f"```\n{command}\n```" in README.read_text()
    lines = CI_RUN.read_text().splitlines()
    calls = [line for line in lines if line.startswith(command)]
    assert len(calls) == 1, calls
    assert lines.index("export VECINDEX_STRICT_SKIPS=1") < lines.index(calls[0])
