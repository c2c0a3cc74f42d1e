"""The CI skip policy (tests/skip_policy.py): with VECINDEX_STRICT_SKIPS=1 a skip fails the
session unless its reason is allow-listed and its condition holds on this machine."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

import skip_policy

TESTS = Path(__file__).resolve().parent

CONFTEST = f"""
import sys
sys.path.insert(0, {str(TESTS)!r})
import skip_policy

def pytest_configure(config):
    skip_policy.register_if_strict(config)
"""


def run_session(tmp_path, reason, strict, where="test"):
    (tmp_path / "conftest.py").write_text(CONFTEST)
    if where == "module":
        body = f"import pytest\npytest.skip({reason!r}, allow_module_level=True)\n"
    else:
        body = f"import pytest\n\ndef test_skipped():\n    pytest.skip({reason!r})\n\ndef test_ok():\n    pass\n"
    (tmp_path / "test_sample.py").write_text(body)
    (tmp_path / "test_other.py").write_text("def test_runs():\n    pass\n")
    env = {key: value for key, value in os.environ.items() if key != skip_policy.STRICT_ENV}
    if strict:
        env[skip_policy.STRICT_ENV] = "1"
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)


def one_reason(holds: bool) -> str:
    """An allow-listed reason whose condition does (or does not) hold on this machine."""
    examples = {"every level is available here": None, "checks x86-64 ISA extensions": None,
                "native compiler targets aarch64": None}
    for reason in examples:
        if (skip_policy.why_not_allowed(reason) is None) == holds:
            return reason
    pytest.fail(f"no example reason with holds={holds}")


@pytest.mark.parametrize("where", ["test", "module"])
def test_a_missing_package_skip_fails_a_strict_session(tmp_path, where):
    reason = "could not import 'hnswlib': No module named 'hnswlib'"
    strict = run_session(tmp_path, reason, strict=True, where=where)
    assert strict.returncode == 1, strict.stdout
    assert "skips not allowed" in strict.stdout and "hnswlib" in strict.stdout
    assert run_session(tmp_path, reason, strict=False, where=where).returncode == 0


def test_an_allowed_skip_passes_a_strict_session(tmp_path):
    result = run_session(tmp_path, one_reason(holds=True), strict=True)
    assert result.returncode == 0, result.stdout


def test_an_allowed_reason_that_does_not_hold_here_fails(tmp_path):
    result = run_session(tmp_path, one_reason(holds=False), strict=True)
    assert result.returncode == 1, result.stdout
    assert "does not hold on this machine" in result.stdout


def test_every_allowed_reason_has_a_comment_saying_why():
    lines = (TESTS / "skip_policy.py").read_text().splitlines()
    entries = [number for number, line in enumerate(lines) if line.strip().startswith("AllowedSkip(")]
    assert len(entries) == len(skip_policy.ALLOWED_SKIPS)
    for number in entries:
        above = number - 1
        # A comment may cover a group of entries: skip entries (and their continuation lines).
        while lines[above].strip().startswith("AllowedSkip(") or lines[above].startswith(" " * 8):
            above -= 1
        assert lines[above].strip().startswith("#"), lines[number]
