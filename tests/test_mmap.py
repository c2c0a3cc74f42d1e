"""Memory-mapped loading: read-only, searchable at once, same results as a normal load, and
the mapped vectors are not copied into RAM."""
import json
import struct
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import vecindex
from conftest import clustered


@pytest.fixture(scope="module", params=["l2", "ip", "cosine"])
def saved(request, tmp_path_factory):
    data = clustered(1200, 20, seed=31)
    index = vecindex.Index(dim=20, metric=request.param, M=8, ef_construction=40)
    index.add(data)
    index.delete([3])
    path = tmp_path_factory.mktemp("mmap") / "index.vx"
    index.save(path)
    return index, path, data


def test_mmap_search_matches_the_in_memory_index(saved):
    index, path, data = saved
    mapped = vecindex.Index.load(path, mmap=True)
    queries = clustered(40, 20, seed=32)
    a = index.search(queries, k=10)
    b = mapped.search(queries, k=10)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    np.testing.assert_array_equal(mapped.get([0, 5]), index.get([0, 5]))
    assert mapped.read_only and not index.read_only
    usage = mapped.memory_usage()
    assert usage["mapped"] > 0 and usage["codes"] < usage["mapped"]


@pytest.mark.parametrize("count", [1, 2, 3, 5, 6, 7, 1201])
def test_mmap_views_the_level0_links_for_any_count(count, tmp_path):
    """The level-0 neighbour lists are read in place whatever the node count (the levels before
    them are padded so they stay 4-byte aligned): same results as a copying load, and
    memory_usage() counts them under 'mapped', not 'graph'."""
    M = 5
    data = clustered(count, 6, seed=33)
    index = vecindex.Index(dim=6, M=M, ef_construction=20)
    index.add(data)
    path = tmp_path / "index.vx"
    index.save(path)
    copied = vecindex.Index.load(path)
    mapped = vecindex.Index.load(path, mmap=True)
    mapped.check_integrity()
    queries = clustered(10, 6, seed=34)
    for a, b in zip(copied.search(queries, k=3), mapped.search(queries, k=3)):
        np.testing.assert_array_equal(a, b)
    level0_bytes = count * (1 + 2 * M) * 4
    # The copying load holds the lists in a 64-byte aligned arena; the mapped load holds none.
    moved = copied.memory_usage()["graph"] - mapped.memory_usage()["graph"]
    assert level0_bytes <= moved < level0_bytes + 64
    assert mapped.memory_usage()["mapped"] == path.stat().st_size


def test_mmap_index_refuses_writes(saved):
    _, path, data = saved
    mapped = vecindex.Index.load(path, mmap=True)
    with pytest.raises(RuntimeError, match="read-only"):
        mapped.add(data[:1])
    with pytest.raises(RuntimeError, match="read-only"):
        mapped.delete([0])
    with pytest.raises(RuntimeError, match="read-only"):
        mapped.compact()
    assert len(mapped) == len(data) - 1


def test_mmap_of_a_corrupt_file_is_a_format_error(saved, tmp_path):
    _, path, _ = saved
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    bad = tmp_path / "bad.vx"
    bad.write_bytes(bytes(blob))
    with pytest.raises(vecindex.FormatError):
        vecindex.Index.load(bad, mmap=True)
    bad.write_bytes(bytes(blob[:100]))
    with pytest.raises(vecindex.FormatError):
        vecindex.Index.load(bad, mmap=True)


def test_mmap_index_can_be_saved_and_pickled(saved, tmp_path):
    import pickle

    index, path, _ = saved
    mapped = vecindex.Index.load(path, mmap=True)
    clone = pickle.loads(pickle.dumps(mapped))
    assert not clone.read_only and len(clone) == len(index)
    mapped.save(tmp_path / "copy.vx")
    assert vecindex.Index.load(tmp_path / "copy.vx").search(np.zeros(20), k=3)[0].shape == (3,)


# Maps a file in a fresh process and reports how much anonymous memory (RssAnon: the heap, not
# the page cache behind the mapping) the load added, with memory_usage() and a search result.
RSS_LOADER = textwrap.dedent(
    """
    import json, sys, vecindex
    def anonymous():
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) * 1024
    before = anonymous()
    index = vecindex.Index.load(sys.argv[1], mmap=True)
    grown = anonymous() - before
    found, _ = index.search([0.5] * index.dim, k=3)
    print(json.dumps({"grown": grown, "usage": index.memory_usage(), "found": found.tolist()}))
    """
)

BIG_COUNT, BIG_DIM = 100_000, 384


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads RssAnon from /proc/self/status")
@pytest.mark.parametrize("dtype", ["f32", "sq8"])
def test_mmap_load_adds_almost_none_of_the_vector_bytes_to_ram(dtype, tmp_path):
    """100,000 x 384 float32 vectors are 153.6 MB; with the default M (16) mapping an f32 file
    must add under 16 MB to anonymous memory and under 10% of the vector bytes, and the same 10%
    holds for the full vectors an sq8 index keeps for reranking (its sq8 codes are copied, and
    counted in memory_usage()["codes"]). The level-0 links (13.2 MB here) are mapped too."""
    data = np.random.default_rng(41).random((BIG_COUNT, BIG_DIM), dtype=np.float32)
    # Default M; ef_construction=1 keeps the build to seconds (degrees still reach 2M at level 0).
    index = vecindex.Index(dim=BIG_DIM, ef_construction=1, dtype=dtype, rerank=dtype != "f32")
    assert index.M == 16
    index.add(data, threads=2)
    path = tmp_path / "big.vx"
    path.write_bytes(index.to_bytes())
    del index, data
    result = subprocess.run([sys.executable, "-c", RSS_LOADER, str(path)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    usage, grown = report["usage"], report["grown"]
    vector_bytes = BIG_COUNT * BIG_DIM * 4
    copied_codes = usage["codes"] if dtype != "f32" else 0
    assert grown - copied_codes < 0.1 * vector_bytes, f"mapping added {grown / 2**20:.1f} MiB: {usage}"
    if dtype == "f32":
        assert grown < 16_000_000, f"mapping added {grown / 1e6:.1f} MB: {usage}"
    # The level-0 links are mapped: 'graph' holds only the levels and upper-level lists.
    assert usage["graph"] < BIG_COUNT * (1 + 2 * 16) * 4 // 4
    assert usage["mapped"] == path.stat().st_size
    # memory_usage() counts what is resident: the mapped vectors under "mapped" only.
    assert usage["full_vectors"] == 0
    if dtype == "f32":
        assert usage["codes"] == 0
    else:
        assert usage["codes"] >= BIG_COUNT * BIG_DIM  # one byte per dimension, copied
    in_ram = usage["graph"] + usage["codes"] + usage["full_vectors"] + usage["attributes"]
    assert in_ram <= grown + (4 << 20), f"memory_usage() reports {in_ram} bytes, the load added {grown}"
    assert len(report["found"]) == 3 and min(report["found"]) >= 0


def test_format_1_files_without_level_padding_still_load(tmp_path):
    """Format 1 wrote the level-0 lists straight after the levels; such files load (plain and
    mapped, the unaligned lists then copied) with the same results as the format 2 file."""
    import vx_file

    count = 1201  # not a multiple of 4: format 2 pads 3 bytes after the levels
    data = np.random.default_rng(5).normal(size=(count, 16)).astype(np.float32)
    index = vecindex.Index(dim=16, M=4)
    index.add(data)
    index.save(tmp_path / "v2.vx")
    blob = (tmp_path / "v2.vx").read_bytes()
    assert struct.unpack_from("<I", blob, 8)[0] == 2
    graph = dict(vx_file.sections(blob))["GRPH"]
    layout = vx_file.graph_layout(graph, count, 4)
    unpadded = vx_file.replace_section(blob, "GRPH", graph[:layout["levels_at"] + count] + graph[layout["level0_at"]:])

    def sealed(version):
        path = tmp_path / f"as-v{version}.vx"
        path.write_bytes(vx_file.reseal(vx_file.write_table(unpadded, vx_file.read_table(unpadded), version=version)))
        return path

    expected = index.search(data[:50], k=5)[0]
    for mmap in (False, True):
        loaded = vecindex.Index.load(sealed(1), mmap=mmap)
        loaded.check_integrity()
        assert np.array_equal(loaded.search(data[:50], k=5)[0], expected)
    # The same unpadded graph declared as format 2 is refused, not misread.
    with pytest.raises(vecindex.FormatError):
        vecindex.Index.load(sealed(2))
