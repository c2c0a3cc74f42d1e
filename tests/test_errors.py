"""Every misuse raises a clear Python exception that says what was expected."""
import numpy as np
import pytest

import vecindex


@pytest.fixture
def index():
    idx = vecindex.Index(dim=4)
    idx.add(np.eye(4))
    return idx


def test_unknown_metric():
    with pytest.raises(ValueError, match="unknown metric"):
        vecindex.Index(dim=4, metric="manhattan")


@pytest.mark.parametrize("kwargs", [{"dim": 0}, {"dim": -3}, {"dim": 4, "M": 1}, {"dim": 4, "ef_construction": 0}])
def test_bad_construction_parameters(kwargs):
    with pytest.raises(ValueError):
        vecindex.Index(**kwargs)


def test_non_integer_dim_is_a_type_error():
    with pytest.raises(TypeError):
        vecindex.Index(dim=4.5)


def test_unknown_dtype():
    with pytest.raises(ValueError, match="dtype"):
        vecindex.Index(dim=4, dtype="f8")


def test_wrong_dimension_names_both_sizes(index):
    with pytest.raises(ValueError, match="3 columns; this index has dim=4"):
        index.add(np.ones((2, 3)))
    with pytest.raises(ValueError, match="dim=4"):
        index.search(np.ones(5), k=1)


def test_wrong_rank(index):
    with pytest.raises(ValueError, match="shape"):
        index.add(np.ones((2, 2, 4)))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, 1e39])
def test_non_finite_vectors(index, bad):
    vectors = np.ones((2, 4))
    vectors[1, 2] = bad
    with pytest.raises(ValueError, match="NaN or infinity"):
        index.add(vectors)
    with pytest.raises(ValueError, match="NaN or infinity"):
        index.search(vectors, k=1)
    assert len(index) == 4


@pytest.mark.parametrize("dim", [1, 3, 8, 13, 384])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("metric", ["l2", "cosine"])
def test_the_core_refuses_non_finite_values_itself(dim, bad, metric):
    """The core's own check, below the wrapper's: a bad value at any position, including the
    tail a vectorised loop leaves, names its row, and the index stays as it was."""
    idx = vecindex.Index(dim=dim, metric=metric)
    idx.add(np.ones((1, dim), np.float32))
    for position in sorted({0, dim // 2, dim - 1}):
        vectors = np.ones((3, dim), np.float32)
        vectors[2, position] = bad
        with pytest.raises(ValueError, match=r"NaN or infinity \(row 2\)"):
            idx._core.add(vectors, np.array([10, 11, 12]), False, 1)
        with pytest.raises(ValueError, match=r"NaN or infinity \(row 2\)"):
            idx._core.search(vectors, vecindex._core.SearchParams(k=1, rerank_factor=1, threads=1))
    assert len(idx) == 1


def test_the_core_refuses_rows_too_large_for_float32_distances():
    idx = vecindex.Index(dim=5, metric="l2")
    vectors = np.ones((2, 5), np.float32)
    vectors[1, 4] = 3e18  # finite, but its squared norm (9e36) is over the 1e36 limit
    with pytest.raises(ValueError, match="row 1 is too large"):
        idx._core.add(vectors, np.array([1, 2]), False, 1)
    assert len(idx) == 0


def test_non_numeric_vectors(index):
    with pytest.raises(ValueError):
        index.add([["a", "b", "c", "d"]])


def test_negative_ids(index):
    with pytest.raises(ValueError, match="non-negative"):
        index.add(np.ones((1, 4)), ids=[-1])


def test_existing_id_without_replace(index):
    with pytest.raises(ValueError, match="already in the index"):
        index.add(np.ones((1, 4)), ids=[2])
    assert len(index) == 4


def test_repeated_ids_in_one_call(index):
    with pytest.raises(ValueError, match="repeat"):
        index.add(np.ones((2, 4)), ids=[9, 9])


def test_id_count_must_match_vectors(index):
    with pytest.raises(ValueError, match="ids for 2 vectors"):
        index.add(np.ones((2, 4)), ids=[10])


def test_non_integer_ids(index):
    with pytest.raises(ValueError, match="integers"):
        index.add(np.ones((1, 4)), ids=[1.5])


@pytest.mark.parametrize("k", [0, -1])
def test_k_below_one(index, k):
    with pytest.raises(ValueError, match="k must be >= 1"):
        index.search(np.ones(4), k=k)


def test_huge_k_is_refused(index):
    with pytest.raises(ValueError, match="k must be <="):
        index.search(np.ones(4), k=10**9)


def test_threads_zero(index):
    with pytest.raises(ValueError, match="threads"):
        index.search(np.ones(4), k=1, threads=0)


def test_unknown_ids_in_get(index):
    with pytest.raises(KeyError, match="99"):
        index.get([0, 99])


def test_ef_search_must_be_positive(index):
    with pytest.raises(ValueError):
        index.ef_search = 0


def test_missing_file_is_os_error(tmp_path):
    with pytest.raises(OSError):
        vecindex.Index.load(tmp_path / "missing.vx")
