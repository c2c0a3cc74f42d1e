"""Corrupt, truncated or foreign files raise FormatError and never crash the process.

Loads run in a subprocess, so a crash (SIGSEGV, abort) fails the test instead of killing pytest."""
import struct
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import vecindex
import vx_file


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
    mapped, paths = sys.argv[1] == "mmap", sys.argv[2:]
    outcomes = []
    for path in paths:
        try:
            if mapped:  # validated in place, where the mapped vectors and level-0 links are read
                index = vecindex.Index.load(path, mmap=True)
            else:
                index = vecindex.Index.from_bytes(open(path, "rb").read())
            index.check_integrity()
            index.search([0.0] * index.dim, k=3)
            outcomes.append("loaded")
        except vecindex.FormatError:
            outcomes.append("format-error")
    print(" ".join(outcomes))
    """
)


def load_in_subprocess(tmp_path, blobs, mmap=False):
    paths = []
    for i, blob in enumerate(blobs):
        path = tmp_path / f"case{i}.vx"
        path.write_bytes(blob)
        paths.append(str(path))
    mode = "mmap" if mmap else "bytes"
    result = subprocess.run([sys.executable, "-c", LOADER, mode, *paths], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"loader crashed or raised: rc={result.returncode}\n{result.stderr[-2000:]}"
    return result.stdout.split()


@pytest.mark.parametrize("mmap", [False, True])
def test_every_truncation_is_a_format_error(saved_bytes, tmp_path, mmap):
    cuts = sorted(set(np.linspace(0, len(saved_bytes) - 1, 120).astype(int).tolist()))
    outcomes = load_in_subprocess(tmp_path, [saved_bytes[:cut] for cut in cuts], mmap=mmap)
    assert outcomes == ["format-error"] * len(cuts)


@pytest.mark.parametrize("mmap", [False, True])
def test_bit_flips_are_detected(saved_bytes, tmp_path, mmap):
    rng = np.random.default_rng(9)
    blobs = []
    for position in rng.integers(0, len(saved_bytes), size=150):
        mutated = bytearray(saved_bytes)
        mutated[position] ^= 1 << int(rng.integers(0, 8))
        blobs.append(bytes(mutated))
    assert load_in_subprocess(tmp_path, blobs, mmap=mmap) == ["format-error"] * len(blobs)


def resealed_graph_damage() -> dict[str, bytes]:
    """A saved index (302 nodes, so the levels are followed by 2 bytes of padding) and copies
    whose GRPH section is damaged and then re-sealed, so only the graph's own checks can
    catch them: the padding, a degree, and links out of range, to self, repeated, to a node
    absent at that level, and from a node absent from the graph."""
    rng = np.random.default_rng(6)
    index = vecindex.Index(dim=8, M=4, ef_construction=20)
    index.add(rng.normal(size=(302, 8)))
    index.delete([7])
    index.compact()  # slot 7 leaves the graph: level -1, no links
    blob = index.to_bytes()
    meta = dict(vx_file.sections(blob))["META"]
    offset, fmt = vx_file.meta_fields(meta)["count"]
    count = struct.unpack_from(fmt, meta, offset)[0]
    graph = dict(vx_file.sections(blob))["GRPH"]
    layout = vx_file.graph_layout(graph, count, 4)
    levels = layout["levels"]
    assert count % 4 == 2 and levels[7] == -1

    def edit(at: int, fmt: str, value: int) -> bytes:
        payload = bytearray(graph)
        struct.pack_into(fmt, payload, at, value)
        return vx_file.replace_section(blob, "GRPH", bytes(payload))

    block = vx_file.link_block(layout, 0, 0)
    first = struct.unpack_from("<I", graph, block + 4)[0]
    upper = next(slot for slot in range(count) if levels[slot] >= 1)
    ground = next(slot for slot in range(count) if levels[slot] == 0)
    files = {"undamaged": vx_file.replace_section(blob, "GRPH", graph)}
    for i in range(-count % 4):
        files[f"padding byte {i}"] = edit(layout["levels_at"] + count + i, "<B", 1)
    files["degree above 2M"] = edit(block, "<I", 2 * 4 + 1)
    files["link out of range"] = edit(block + 4, "<I", count)
    files["link to self"] = edit(block + 4, "<I", 0)
    files["repeated link"] = edit(block + 8, "<I", first)
    files["link to a node absent at level 1"] = edit(vx_file.link_block(layout, upper, 1) + 4, "<I", ground)
    files["links from a node not in the graph"] = edit(vx_file.link_block(layout, 7, 0), "<I", 1)
    return files


@pytest.mark.parametrize("mmap", [False, True])
def test_resealed_graph_damage_is_refused(tmp_path, mmap):
    """Both loads validate the level-0 links before use: the copying one in its copy, the
    mapped one in place in the file, and both refuse non-zero padding."""
    files = resealed_graph_damage()
    outcomes = dict(zip(files, load_in_subprocess(tmp_path, list(files.values()), mmap=mmap)))
    assert outcomes.pop("undamaged") == "loaded"
    assert outcomes == {name: "format-error" for name in outcomes}


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
