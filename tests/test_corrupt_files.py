"""Corrupt, truncated or foreign files raise FormatError and never crash the process.

Loads run in a subprocess, so a crash (SIGSEGV, abort) fails the test instead of killing pytest."""
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import vecindex


@pytest.fixture(scope="module")
def saved_bytes():
    rng = np.random.default_rng(5)
    index = vecindex.Index(dim=8, M=4, ef_construction=20)
    index.add(rng.normal(size=(300, 8)))
    index.delete([7])
    return index.to_bytes()


LOADER = textwrap.dedent(
    """
    import sys, vecindex
    paths = sys.argv[1:]
    outcomes = []
    for path in paths:
        data = open(path, "rb").read()
        try:
            index = vecindex.Index.from_bytes(data)
            index.check_integrity()
            index.search([0.0] * index.dim, k=3)
            outcomes.append("loaded")
        except vecindex.FormatError:
            outcomes.append("format-error")
    print(" ".join(outcomes))
    """
)


def load_in_subprocess(tmp_path, blobs):
    paths = []
    for i, blob in enumerate(blobs):
        path = tmp_path / f"case{i}.vx"
        path.write_bytes(blob)
        paths.append(str(path))
    result = subprocess.run([sys.executable, "-c", LOADER, *paths], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"loader crashed or raised: rc={result.returncode}\n{result.stderr[-2000:]}"
    return result.stdout.split()


def test_every_truncation_is_a_format_error(saved_bytes, tmp_path):
    cuts = sorted(set(np.linspace(0, len(saved_bytes) - 1, 120).astype(int).tolist()))
    outcomes = load_in_subprocess(tmp_path, [saved_bytes[:cut] for cut in cuts])
    assert outcomes == ["format-error"] * len(cuts)


def test_bit_flips_are_detected(saved_bytes, tmp_path):
    rng = np.random.default_rng(9)
    blobs = []
    for position in rng.integers(0, len(saved_bytes), size=150):
        mutated = bytearray(saved_bytes)
        mutated[position] ^= 1 << int(rng.integers(0, 8))
        blobs.append(bytes(mutated))
    outcomes = load_in_subprocess(tmp_path, blobs)
    # Flips in alignment padding are harmless; everything else must be caught by a checksum.
    assert set(outcomes) <= {"format-error", "loaded"}
    assert outcomes.count("format-error") >= 0.9 * len(blobs)


def test_foreign_files_are_format_errors(tmp_path):
    blobs = [b"", b"VECINDX", b"PK\x03\x04 not an index", bytes(4096), b"VECINDX\x00" + bytes(100)]
    assert load_in_subprocess(tmp_path, blobs) == ["format-error"] * len(blobs)


def test_newer_format_version_is_refused(saved_bytes):
    mutated = bytearray(saved_bytes)
    mutated[8] = 99
    with pytest.raises(vecindex.FormatError, match="version"):
        vecindex.Index.from_bytes(bytes(mutated))


def test_format_error_is_a_value_error():
    assert issubclass(vecindex.FormatError, ValueError)
