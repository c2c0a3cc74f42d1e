"""String keys survive save, load, mmap, bytes and pickle; the KEYS section is validated."""
import pickle

import numpy as np
import pytest

import vecindex
from conftest import clustered

DIM = 16


def build(n=300, seed=5):
    data = clustered(n, DIM, seed=seed)
    index = vecindex.Index(dim=DIM, M=8, ef_construction=64, keys="str", attributes={"group": "int"})
    keys = [f"κλειδί-{i}/ü" if i % 2 else f"k{i}" for i in range(n)]
    index.add(data, ids=keys, attrs={"group": [i % 4 for i in range(n)]})
    index.delete(keys[::7])
    return index, data


def snapshot(index, queries):
    keys, distances = index.search(queries, k=8)
    filtered, _ = index.search(queries, k=5, filter=vecindex.F.group == 2)
    ids = index.ids()
    return {
        "ids": list(ids),
        "keys": keys.tolist(),
        "distances": distances.tolist(),
        "filtered": filtered.tolist(),
        "vectors": index.get(ids).tolist(),
        "attrs": index.get_attrs(ids),
        "len": len(index),
        "key_type": index.key_type,
    }


def test_save_load_mmap_bytes_and_pickle_keep_every_key(tmp_path):
    index, _ = build()
    queries = clustered(12, DIM, seed=6)
    before = snapshot(index, queries)
    path = tmp_path / "keys.vx"
    index.save(path)
    copies = [
        vecindex.Index.load(path),
        vecindex.Index.load(path, mmap=True),
        vecindex.Index.from_bytes(index.to_bytes()),
        pickle.loads(pickle.dumps(index)),
    ]
    for copy in copies:
        assert snapshot(copy, queries) == before
        copy.check_integrity()
    assert copies[1].read_only and copies[1].memory_usage()["keys"] > 0


def test_a_loaded_index_keeps_adding_deleting_and_refusing_existing_keys(tmp_path):
    index, data = build(n=60)
    path = tmp_path / "keys.vx"
    index.save(path)
    loaded = vecindex.Index.load(path)
    with pytest.raises(ValueError, match="already in the index"):
        loaded.add(data[1], ids=["κλειδί-1/ü"])
    loaded.add(data[0], ids=["k0"])  # deleted before the save: free to add again
    loaded.add(data[2], ids=["new"])
    loaded.delete(["k2"])
    assert "k0" in loaded and "new" in loaded and "k2" not in loaded
    keys, _ = loaded.search(data[2], k=1)
    assert keys[0] == "new"
    loaded.check_integrity()


def test_an_empty_str_index_stays_str_after_a_round_trip():
    empty = vecindex.Index(dim=4, keys="str")
    copy = vecindex.Index.from_bytes(empty.to_bytes())
    assert copy.key_type == "str" and len(copy) == 0
    copy.add(np.ones((1, 4)), ids=["a"])
    assert "a" in copy


def test_int_index_files_have_no_keys_section():
    index = vecindex.Index(dim=4)
    index.add(np.ones((3, 4)))
    assert b"KEYS" not in index.to_bytes()
    assert vecindex.Index.from_bytes(index.to_bytes()).key_type == "int"
