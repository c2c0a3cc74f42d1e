"""Memory-mapped loading: read-only, searchable at once, same results as a normal load."""
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
