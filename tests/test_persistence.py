"""save/load, bytes and pickle round trips give bit-identical search results."""
import pickle

import numpy as np
import pytest

import vecindex


@pytest.fixture(scope="module")
def built(small_data_module):
    data, queries = small_data_module
    index = vecindex.Index(dim=data.shape[1], metric="cosine", M=12, ef_construction=80)
    index.add(data, ids=np.arange(len(data)) * 3 + 5)
    index.delete([5, 8])
    return index, queries


@pytest.fixture(scope="module")
def small_data_module():
    from conftest import clustered

    return clustered(1500, 24, seed=3), clustered(50, 24, seed=4)


def assert_same_results(a, b, queries):
    ids_a, dist_a = a.search(queries, k=10, ef=50)
    ids_b, dist_b = b.search(queries, k=10, ef=50)
    np.testing.assert_array_equal(ids_a, ids_b)
    np.testing.assert_array_equal(dist_a, dist_b)


def test_save_and_load_round_trip(built, tmp_path):
    index, queries = built
    path = tmp_path / "index.vx"
    index.save(path)
    loaded = vecindex.Index.load(path)
    assert_same_results(index, loaded, queries)
    assert len(loaded) == len(index) and loaded.metric == "cosine" and loaded.M == 12
    assert 5 not in loaded and 11 in loaded
    loaded.check_integrity()


def test_pickle_round_trip(built):
    index, queries = built
    clone = pickle.loads(pickle.dumps(index))
    assert_same_results(index, clone, queries)


def test_bytes_round_trip_and_continued_adds(built):
    index, queries = built
    clone = vecindex.Index.from_bytes(index.to_bytes())
    new_id = clone.add(np.ones((1, 24)))[0]
    assert new_id == index.ids().max() + 1
    assert clone.search(np.ones(24), k=1)[0][0] == new_id


def test_save_replaces_atomically_without_leftovers(built, tmp_path):
    index, _ = built
    path = tmp_path / "index.vx"
    path.write_bytes(b"old contents")
    index.save(path)
    assert [p.name for p in tmp_path.iterdir()] == ["index.vx"]
    vecindex.Index.load(path)


def test_save_into_missing_folder_is_os_error(built, tmp_path):
    index, _ = built
    with pytest.raises(OSError):
        index.save(tmp_path / "no" / "such" / "dir" / "index.vx")


def test_empty_index_round_trips(tmp_path):
    index = vecindex.Index(dim=3)
    index.save(tmp_path / "empty.vx")
    loaded = vecindex.Index.load(tmp_path / "empty.vx")
    assert len(loaded) == 0
    assert (loaded.search(np.zeros(3), k=2)[0] == -1).all()
