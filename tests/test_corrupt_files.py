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
    assert load_in_subprocess(tmp_path, blobs) == ["format-error"] * len(blobs)


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


# Flips every byte of one file in turn (three patterns each) and prints the positions and
# patterns that did not raise FormatError, or the first other exception.
EVERY_BYTE = textwrap.dedent(
    """
    import sys, vecindex
    blob = open(sys.argv[1], "rb").read()
    missed = []
    for position in range(len(blob)):
        for pattern in (0xFF, 0x01, 0x80):
            mutated = bytearray(blob)
            mutated[position] ^= pattern
            try:
                vecindex.Index.from_bytes(bytes(mutated))
                missed.append(f"{position}^{pattern:#x}")
            except vecindex.FormatError:
                pass
    print(" ".join(missed))
    """
)


def small_saved_files():
    """Small saved files: f32 (with attributes and deletions) and every compressed dtype, with
    and without full vectors kept for reranking."""
    rng = np.random.default_rng(21)
    files = {}
    plain = vecindex.Index(dim=5, M=3, ef_construction=10, attributes={"tag": "keyword", "n": "int"})
    plain.add(rng.normal(size=(20, 5)), attrs={"tag": [f"t{i % 3}" for i in range(20)], "n": list(range(20))})
    plain.delete([4])
    files["f32"] = plain.to_bytes()
    for dtype in ("f16", "bf16", "sq8", "sq4", "pq", "rabitq"):
        for rerank in (False, True):
            options = {"pq_m": 2} if dtype == "pq" else {}
            index = vecindex.Index(dim=4, dtype=dtype, rerank=rerank, M=2, ef_construction=8, **options)
            index.add(rng.normal(size=(256 if dtype == "pq" else 40, 4)))
            files[f"{dtype}{'+rerank' if rerank else ''}"] = index.to_bytes()
    files["empty-sq8"] = vecindex.Index(dim=3, dtype="sq8").to_bytes()
    return files


def test_every_byte_of_a_file_is_covered(tmp_path):
    """Flipping any byte, alignment padding included, raises FormatError (bit-flipped file)."""
    for name, blob in small_saved_files().items():
        path = tmp_path / f"{name}.vx"
        path.write_bytes(blob)
        result = subprocess.run([sys.executable, "-c", EVERY_BYTE, str(path)], capture_output=True, text=True,
                                timeout=300)
        assert result.returncode == 0, f"{name}: loader crashed or raised\n{result.stderr[-2000:]}"
        missed = result.stdout.split()
        assert missed == [], f"{name} ({len(blob)} bytes): {len(missed)} flips loaded: {' '.join(missed[:20])}"
