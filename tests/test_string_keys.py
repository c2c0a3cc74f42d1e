"""String keys (Index(..., keys="str")): every call takes and returns str keys, and the
results match an int-keyed index built from the same vectors."""
import numpy as np
import pytest

import vecindex
from vecindex import F
from conftest import clustered

DIM = 16


def key(i: int) -> str:
    return f"doc-{i}#chunk"


def build(n=300, seed=3, **options):
    data = clustered(n, DIM, seed=seed)
    index = vecindex.Index(dim=DIM, M=8, ef_construction=64, keys="str", **options)
    index.add(data, ids=[key(i) for i in range(n)])
    return index, data


def twin(data, **options):
    """The same vectors under int ids 0..n-1 (same seed and insertion order: the same graph)."""
    index = vecindex.Index(dim=DIM, M=8, ef_construction=64, **options)
    index.add(data)
    return index


def as_keys(ids):
    return np.vectorize(lambda i: None if i < 0 else key(int(i)), otypes=[object])(ids)


def test_search_returns_the_keys_of_the_int_index_results():
    index, data = build()
    queries = clustered(20, DIM, seed=4)
    keys, distances = index.search(queries, k=5)
    ids, int_distances = twin(data).search(queries, k=5)
    assert keys.dtype == object and keys.shape == (20, 5)
    assert all(isinstance(k, str) for k in keys.flat)
    assert (keys == as_keys(ids)).all()
    np.testing.assert_allclose(distances, int_distances, rtol=1e-6)


def test_one_query_gives_1d_results():
    index, data = build(n=50)
    keys, distances = index.search(data[7], k=3)
    assert keys.shape == (3,) and keys[0] == key(7) and distances[0] == 0


def test_short_rows_are_padded_with_none_and_inf():
    index, data = build(n=4)
    keys, distances = index.search(data[:2], k=6)
    assert [k is None for k in keys[0]] == [False] * 4 + [True] * 2
    assert np.isinf(distances[:, 4:]).all() and np.isfinite(distances[:, :4]).all()


def test_add_returns_the_keys_and_requires_them():
    index = vecindex.Index(dim=DIM, keys="str")
    data = clustered(3, DIM, seed=1)
    added = index.add(data, ids=["a", "b", "c"])
    assert added.dtype == object and list(added) == ["a", "b", "c"]
    with pytest.raises(ValueError, match="needs ids"):
        index.add(data)
    assert len(index) == 3


def test_contains_get_get_attrs_ids_and_delete():
    index, data = build(n=40, attributes={"group": "int"})
    index.add(clustered(1, DIM, seed=9), ids=["extra"], attrs={"group": [7]})
    assert key(3) in index and "extra" in index
    assert "missing" not in index and 3 not in index and None not in index
    np.testing.assert_array_equal(index.get([key(3), key(5)]), data[[3, 5]])
    assert index.get_attrs(["extra", key(0)]) == {"group": [7, None]}
    assert sorted(index.ids()) == sorted([key(i) for i in range(40)] + ["extra"])
    index.delete([key(3), "extra"])
    assert key(3) not in index and "extra" not in index and len(index) == 39
    keys, _ = index.search(data, k=40)
    assert key(3) not in set(keys.flat)
    index.check_integrity()


def test_a_single_str_is_one_key():
    index, data = build(n=10)
    np.testing.assert_array_equal(index.get(key(2)), data[[2]])
    index.delete(key(2))
    assert key(2) not in index


def test_replace_keeps_the_key_and_swaps_the_vector():
    index, data = build(n=30)
    new = clustered(1, DIM, seed=77)
    index.add(new, ids=[key(4)], replace=True)
    np.testing.assert_array_equal(index.get([key(4)]), new)
    assert len(index) == 30
    keys, distances = index.search(new[0], k=1)
    assert keys[0] == key(4) and distances[0] == 0


def test_allow_list_of_keys_and_f_expressions():
    index, data = build(n=200, attributes={"group": "int"})
    index.add(clustered(60, DIM, seed=8), ids=[f"g{i}" for i in range(60)], attrs={"group": [i % 3 for i in range(60)]})
    queries = clustered(5, DIM, seed=10)
    allowed = [key(10), key(20), "g4", "unknown"]
    keys, _ = index.search(queries, k=3, filter=allowed)
    assert set(keys.flat) <= {key(10), key(20), "g4"}
    assert (keys != None).all()  # noqa: E711 (elementwise)
    keys, _ = index.search(queries, k=10, filter=F.group == 1)
    assert set(keys.flat) == {f"g{i}" for i in range(60) if i % 3 == 1} & set(keys.flat) and None not in set(keys.flat)
    both = vecindex.AllowList(["g1", "g2", "g4", key(1)]) & (F.group == 1)
    keys, _ = index.search(queries, k=5, filter=both)
    assert set(keys[0]) == {"g1", "g4", None}
    keys, _ = index.search(queries, k=5, filter=lambda k: k in ("g5", key(7)))
    assert set(keys[0]) == {"g5", key(7), None}
    per_query = [[key(1)], None, F.group == 2, [key(2), key(3)], ["g0"]]
    keys, _ = index.search(queries, k=2, filter=per_query)
    assert list(keys[0]) == [key(1), None] and list(keys[4]) == ["g0", None]
    assert index.explain(allowed)["matches"] == 3


def test_int_allow_lists_and_masks_are_refused_on_a_str_index():
    index, data = build(n=20)
    with pytest.raises(ValueError, match="must be str; item 0 is int"):
        index.search(data[0], k=2, filter=[1, 2])
    with pytest.raises(ValueError, match="must hold str keys, not int ids"):
        index.search(data[0], k=2, filter=vecindex.AllowList([1, 2]))
    with pytest.raises(ValueError, match="boolean mask"):
        index.search(data[0], k=2, filter=np.ones(20, dtype=bool))
    keys, _ = index.search(data[0], k=2, filter=[])
    assert list(keys) == [None, None]


def test_str_allow_list_is_refused_on_an_int_index():
    index = twin(clustered(20, DIM, seed=3))
    with pytest.raises(ValueError, match="keys='str'"):
        index.search(np.zeros(DIM), k=2, filter=vecindex.AllowList(["a"]))


def test_key_type_and_repr():
    assert vecindex.Index(dim=4, keys="str").key_type == "str"
    assert vecindex.Index(dim=4).key_type == "int"
    assert repr(vecindex.Index(dim=4, keys="str")).endswith(", keys='str')")
    assert "keys" not in repr(vecindex.Index(dim=4))
    with pytest.raises(ValueError, match="'int' or 'str'"):
        vecindex.Index(dim=4, keys="uuid")


def test_int_calls_refuse_keys_and_str_calls_refuse_int_index():
    index = twin(clustered(5, DIM, seed=3))
    with pytest.raises(ValueError, match="keys='str'"):
        index._core.add_keys(np.zeros((1, DIM), np.float32), ["a"], False, 1)
    str_index, _ = build(n=5)
    with pytest.raises(ValueError, match="string keys"):
        str_index._core.add(np.zeros((1, DIM), np.float32), None, False, 1)


def test_allow_list_of_str_holds_keys():
    allow = vecindex.AllowList(["a", "b"])
    assert allow.ids == ["a", "b"] and repr(allow) == "AllowList(<2 keys>)"
    index, data = build(n=10)
    keys, _ = index.search(data[0], k=3, filter=vecindex.AllowList([key(1), key(2)]))
    assert set(keys) == {key(1), key(2), None}
