"""Behaviour of the public API: ids, shapes, dtypes, short results, get/contains/len."""
import numpy as np
import pytest

import vecindex


def make_index(n=200, dim=8, metric="l2", seed=0):
    rng = np.random.default_rng(seed)
    data = rng.normal(size=(n, dim)).astype(np.float32)
    index = vecindex.Index(dim=dim, metric=metric)
    index.add(data)
    return index, data


def test_default_ids_count_from_zero_and_continue():
    index, _ = make_index(n=10)
    more = index.add(np.ones((3, 8)))
    np.testing.assert_array_equal(more, [10, 11, 12])
    assert more.dtype == np.int64


def test_explicit_ids_are_returned_by_search():
    rng = np.random.default_rng(1)
    data = rng.normal(size=(50, 8)).astype(np.float32)
    index = vecindex.Index(dim=8)
    index.add(data, ids=np.arange(1000, 1050))
    ids, distances = index.search(data[7], k=1)
    assert ids.shape == (1,) and ids[0] == 1007
    assert distances[0] == pytest.approx(0.0, abs=1e-5)
    assert 1000 in index and 7 not in index and len(index) == 50


def test_auto_ids_continue_after_the_largest_explicit_id():
    index = vecindex.Index(dim=2)
    index.add([[0, 1]], ids=[41])
    assert index.add([[1, 0]])[0] == 42


def test_result_shapes_and_dtypes():
    index, data = make_index()
    ids, distances = index.search(data[:5], k=3)
    assert ids.shape == (5, 3) and distances.shape == (5, 3)
    assert ids.dtype == np.int64 and distances.dtype == np.float32
    one_ids, one_distances = index.search(data[0], k=3)
    assert one_ids.shape == (3,) and one_distances.shape == (3,)


def test_k_larger_than_index_pads_with_minus_one_and_inf():
    index, data = make_index(n=5)
    ids, distances = index.search(data[0], k=8)
    assert sorted(ids[:5].tolist()) == [0, 1, 2, 3, 4]
    assert (ids[5:] == -1).all() and np.isinf(distances[5:]).all()


def test_empty_index_returns_padding():
    index = vecindex.Index(dim=3)
    ids, distances = index.search(np.zeros(3), k=2)
    assert (ids == -1).all() and np.isinf(distances).all()
    assert len(index) == 0


def test_input_conversions_float64_int_lists_and_non_contiguous():
    index = vecindex.Index(dim=4)
    index.add(np.arange(40, dtype=np.float64).reshape(10, 4))
    index.add([[1, 2, 3, 4]])
    wide = np.arange(80, dtype=np.float32).reshape(10, 8)
    index.add(wide[:, ::2])  # non-contiguous view
    assert len(index) == 21
    np.testing.assert_array_equal(index.get([10]), [[1, 2, 3, 4]])
    np.testing.assert_array_equal(index.get([11]), wide[:1, ::2])
    ids, _ = index.search(wide[3, ::2], k=1)
    assert ids[0] == 14


def test_get_returns_float32_rows_in_order():
    index, data = make_index()
    got = index.get([3, 1])
    assert got.dtype == np.float32 and got.shape == (2, 8)
    np.testing.assert_array_equal(got, data[[3, 1]])


def test_cosine_get_returns_normalised_vectors():
    index = vecindex.Index(dim=2, metric="cosine")
    index.add([[3.0, 4.0]])
    np.testing.assert_allclose(index.get([0]), [[0.6, 0.8]], rtol=1e-6)


def test_ef_search_property_and_per_call_ef():
    index, data = make_index()
    index.ef_search = 96
    assert index.ef_search == 96
    ids_a, _ = index.search(data[:3], k=4, ef=200)
    ids_b, _ = index.search(data[:3], k=4)
    assert ids_a.shape == ids_b.shape


def test_replace_overwrites_the_vector():
    index, data = make_index(n=20)
    index.add([np.full(8, 100.0)], ids=[3], replace=True)
    np.testing.assert_array_equal(index.get([3]), [np.full(8, 100.0)])
    ids, _ = index.search(np.full(8, 100.0), k=1)
    assert ids[0] == 3 and len(index) == 20
    ids, _ = index.search(data[3], k=20)
    assert list(ids).count(3) <= 1


def test_delete_hides_ids_from_search():
    index, data = make_index(n=50)
    index.delete([0, 1])
    ids, _ = index.search(data[:2], k=10)
    assert 0 not in ids and 1 not in ids
    assert len(index) == 48 and 0 not in index
    with pytest.raises(KeyError):
        index.delete([0])


def test_repr_and_introspection():
    index, _ = make_index()
    text = repr(index)
    assert "dim=8" in text and "metric='l2'" in text and "size=200" in text
    usage = index.memory_usage()
    assert usage["graph"] > 0 and usage["codes"] >= 200 * 8 * 4
    assert index.stats()["mean_degree0"] > 0


def test_simd_info_reports_level_and_availability():
    info = vecindex.simd_info()
    assert info["level"] in info["available"]
    assert "scalar" in info["available"]


def test_rejected_f16_replace_keeps_the_old_vector():
    """Issue 12: a replace refused for a value f16 cannot hold used to delete the id."""
    index = vecindex.Index(dim=4, dtype="f16")
    index.add(np.eye(4), ids=[1, 2, 3, 4])
    with pytest.raises(ValueError, match="f16 range"):
        index.add([[1e5, 0, 0, 0]], ids=[3], replace=True)
    assert 3 in index and len(index) == 4
    np.testing.assert_array_equal(index.get([3]), np.eye(4)[2:3])
    index.check_integrity()


def test_batch_with_one_bad_row_changes_nothing():
    """Issue 12: a batch whose third row is out of range used to replace id 3 and add id 100."""
    index = vecindex.Index(dim=4, dtype="f16")
    index.add(np.eye(4), ids=[1, 2, 3, 4])
    batch = np.array([[9, 9, 9, 9], [8, 8, 8, 8], [1e5, 0, 0, 0]], dtype=np.float32)
    with pytest.raises(ValueError, match="row 2"):
        index.add(batch, ids=[3, 100, 101], replace=True)
    assert sorted(index.ids().tolist()) == [1, 2, 3, 4]
    np.testing.assert_array_equal(index.get([3]), np.eye(4)[2:3])
    assert index.add(np.ones(4))[0] == 5  # the refused ids were not used up either
    index.check_integrity()


def test_replace_without_attrs_keeps_the_attributes():
    index = vecindex.Index(dim=4, attributes={"tag": "keyword", "size": "int"})
    index.add(np.eye(4), ids=[1, 2, 3, 4], attrs={"tag": ["a", "b", "c", "d"], "size": [10, 20, 30, 40]})
    index.add([[5, 5, 5, 5]], ids=[3], replace=True)
    assert index.get_attrs([3]) == {"tag": ["c"], "size": [30]}
    assert index.search(np.full(4, 5.0), k=1, filter=vecindex.F.tag == "c")[0].tolist() == [3]
    # attrs given: the row is replaced, and columns left out become missing.
    index.add([[6, 6, 6, 6]], ids=[3], replace=True, attrs={"tag": ["z"]})
    assert index.get_attrs([3]) == {"tag": ["z"], "size": [None]}
    assert index.search(np.full(4, 6.0), k=1, filter=vecindex.F.size == 30)[0].tolist() == [-1]
    index.check_integrity()


def test_a_replaced_id_is_never_missing_from_search_nor_found_twice():
    """While a replace runs, a search finds the id with its old or its new vector."""
    import threading

    rng = np.random.default_rng(5)
    data = rng.normal(size=(300, 8)).astype(np.float32)
    index = vecindex.Index(dim=8, M=8, ef_construction=100)
    index.add(data)
    versions = [np.full((1, 8), 10.0, np.float32), np.full((1, 8), -10.0, np.float32)]
    stop = threading.Event()
    seen = []

    def replace_forever():
        i = 0
        while not stop.is_set() and i < 400:
            index.add(versions[i % 2], ids=[7], replace=True)
            i += 1
        stop.set()

    writer = threading.Thread(target=replace_forever)
    writer.start()
    try:
        while not stop.is_set():
            found, _ = index.search(versions[0][0], k=2, filter=[7])  # exact scan of id 7 alone
            seen.append(found.tolist())
            near, _ = index.search(versions[0][0], k=10)
            seen.append([near.tolist().count(7)])
    finally:
        stop.set()
        writer.join()
    assert [7, -1] in seen
    assert all(row in ([7, -1], [1], [0]) for row in seen), [row for row in seen if row not in ([7, -1], [1], [0])][:5]
    assert len(index) == 300
    index.check_integrity()
