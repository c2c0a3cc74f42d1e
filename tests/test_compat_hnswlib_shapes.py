"""Every compat method against the real hnswlib, input shape by input shape.

For each method and each kind of input (lists, tuples, numpy arrays of several dtypes, 1-D,
2-D, (n, 1) columns, scalars, numpy scalars, empty inputs), both libraries must accept it and
give results of the same shape and dtype, or both must refuse it with the same exception
type. The exceptions are listed in DOCUMENTED_DIFFERENCES, each with the reason, and are the
ones vecindex.compat.hnswlib's docstring names: inputs hnswlib misreads without a word
(wrong dim, NaN, fractional or string labels, 2-D label arrays), labels from 2**63 on, and
empty batches, which compat takes as a no-op where hnswlib raises IndexError.
"""
import numpy as np
import pytest

from vecindex.compat import hnswlib as compat

DIM = 4
COUNT = 10
DATA = np.random.default_rng(3).standard_normal((COUNT, DIM)).astype(np.float32)


@pytest.fixture(scope="module")
def reference():
    return pytest.importorskip("hnswlib")


def hnsw(module):
    index = module.Index("l2", DIM)
    index.init_index(100, M=8, ef_construction=50)
    index.set_num_threads(1)
    index.add_items(DATA)
    return index


def brute_force(module):
    index = module.BFIndex("l2", DIM)
    index.init_index(100)
    index.add_items(DATA)
    return index


def column_labels(module):
    """What existing code passes to get_items: the (n, 1) labels of knn_query(k=1)."""
    return hnsw(module).knn_query(DATA[:3], k=1)[0]


# ---- inputs -------------------------------------------------------------------------------

VECTORS = {
    "float32 2-D": DATA[:3],
    "float64 2-D": DATA[:3].astype(np.float64),
    "float16 2-D": DATA[:3].astype(np.float16),
    "int64 2-D": np.ones((3, DIM), np.int64),
    "bool 2-D": np.ones((3, DIM), bool),
    "Fortran order": np.asfortranarray(DATA[:3]),
    "strided rows": DATA[::3],
    "list of lists": DATA[:3].tolist(),
    "tuple of tuples": tuple(map(tuple, DATA[:3].tolist())),
    "1-D array": DATA[0],
    "1-D list": DATA[0].tolist(),
    "(0, dim) array": np.empty((0, DIM), np.float32),
    "empty list": [],
    "3-D array": DATA[:2].reshape(1, 2, DIM),
    "scalar": 1.0,
    "wrong dim": DATA[:3, :3],
    "(n, 1) column": DATA[:3, :1],
    "NaN": np.full((1, DIM), np.nan, np.float32),
    "inf": np.full((1, DIM), np.inf, np.float32),
    "strings": [["a"] * DIM],
}

LABEL_LISTS = {
    "list": [1, 2],
    "tuple": (1, 2),
    "range": range(1, 3),
    "int64 array": np.array([1, 2]),
    "uint64 array": np.array([1, 2], np.uint64),
    "int32 array": np.array([1, 2], np.int32),
    "int8 array": np.array([1, 2], np.int8),
    "whole float64 array": np.array([1.0, 2.0]),
    "fractional float": [1.5],
    "(n, 1) int64": np.array([[1], [2]]),
    "(n, 1) uint64": np.array([[1], [2]], np.uint64),
    "(n, 1) from knn_query": column_labels,
    "(1, n)": np.array([[1, 2]]),
    "(n, 2)": np.array([[1, 2], [3, 4]]),
    "int": 1,
    "numpy int64": np.int64(1),
    "numpy uint64": np.uint64(1),
    "0-d array": np.array(1),
    "empty list": [],
    "empty array": np.array([], np.int64),
    "bool array": np.array([True, False]),
    "strings": ["1"],
    "negative": [-1],
    "2**63": [2**63],
    "2**64": [2**64],
    "None": None,
}

SINGLE_LABELS = {
    "int": 1,
    "numpy int64": np.int64(1),
    "numpy uint64": np.uint64(1),
    "numpy int32": np.int32(1),
    "0-d array": np.array(1),
    "bool": True,
    "float": 1.0,
    "list": [1],
    "one-element array": np.array([1]),
    "negative": -1,
    "2**63": 2**63,
    "2**64": 2**64,
    "None": None,
    "string": "1",
}

# add_items ids for two rows (one row where the input holds one label, none where empty).
ADD_IDS = {
    "list": ([20, 21], 2),
    "tuple": ((20, 21), 2),
    "range": (range(20, 22), 2),
    "int64 array": (np.array([20, 21]), 2),
    "uint64 array": (np.array([20, 21], np.uint64), 2),
    "int32 array": (np.array([20, 21], np.int32), 2),
    "whole float64 array": (np.array([20.0, 21.0]), 2),
    "fractional float": ([20.5], 1),
    "(n, 1)": (np.array([[20], [21]]), 2),
    "(1, n)": (np.array([[20, 21]]), 2),
    "int": (20, 1),
    "numpy int64": (np.int64(20), 1),
    "numpy uint64": (np.uint64(20), 1),
    "0-d array": (np.array(20), 1),
    "empty list": ([], 0),
    "bool array": (np.array([True, False]), 2),
    "strings": (["20"], 1),
    "negative": ([-1], 1),
    "2**63": ([2**63], 1),
    "2**64": ([2**64], 1),
    "None": (None, 2),
    "too few": ([20], 2),
}

INTEGERS = {
    "int": 5,
    "numpy int64": np.int64(5),
    "numpy uint64": np.uint64(5),
    "bool": True,
    "float": 5.0,
    "negative": -1,
    "None": None,
}


def _deleted_first(module, build):
    index = build(module)
    (index.mark_deleted if hasattr(index, "mark_deleted") else index.delete_vector)(1)
    return index


def _value(value, module):
    return value(module) if callable(value) and not isinstance(value, range) else value


def _add_with_ids(ids, rows):
    def call(module):
        index = module.Index("l2", DIM)
        index.init_index(100)
        index.add_items(DATA[:rows] if rows else np.empty((0, DIM), np.float32), _value(ids, module))
        return sorted(index.get_ids_list())
    return call


def _fresh(build, method, *args, **kwargs):
    def call(module):
        return getattr(build(module), method)(*(_value(arg, module) for arg in args), **kwargs)
    return call


def _adds(build_empty, value):
    def call(module):
        index = build_empty(module)
        index.add_items(_value(value, module))
        return index.get_current_count()
    return call


def _empty_hnsw(module):
    index = module.Index("l2", DIM)
    index.init_index(100)
    return index


def _empty_brute_force(module):
    index = module.BFIndex("l2", DIM)
    index.init_index(100)
    return index


def _unmark(value):
    def call(module):
        return _deleted_first(module, hnsw).unmark_deleted(_value(value, module))
    return call


def _cases():
    cases = {}
    for name, value in VECTORS.items():
        cases[("Index.add_items data", name)] = _adds(_empty_hnsw, value)
        cases[("Index.knn_query data", name)] = _fresh(hnsw, "knn_query", value, k=1)
        cases[("BFIndex.add_items data", name)] = _adds(_empty_brute_force, value)
        cases[("BFIndex.knn_query data", name)] = _fresh(brute_force, "knn_query", value, k=1)
    for name, value in LABEL_LISTS.items():
        cases[("Index.get_items", name)] = _fresh(hnsw, "get_items", value)
        cases[("Index.get_items list", name)] = _fresh(hnsw, "get_items", value, return_type="list")
    for name, value in SINGLE_LABELS.items():
        cases[("Index.mark_deleted", name)] = _fresh(hnsw, "mark_deleted", value)
        cases[("Index.unmark_deleted", name)] = _unmark(value)
        cases[("BFIndex.delete_vector", name)] = _fresh(brute_force, "delete_vector", value)
    for name, (ids, rows) in ADD_IDS.items():
        cases[("Index.add_items ids", name)] = _add_with_ids(ids, rows)
    for name, value in INTEGERS.items():
        cases[("Index.knn_query k", name)] = _fresh(hnsw, "knn_query", DATA[:2], k=value)
        cases[("BFIndex.knn_query k", name)] = _fresh(brute_force, "knn_query", DATA[:2], k=value)
        cases[("Index.set_ef", name)] = _fresh(hnsw, "set_ef", value)
        cases[("Index.set_num_threads", name)] = _fresh(hnsw, "set_num_threads", value)
        cases[("Index.knn_query num_threads", name)] = _fresh(hnsw, "knn_query", DATA[:2], k=1,
                                                              num_threads=value)
        cases[("Index.resize_index", name)] = _fresh(hnsw, "resize_index", value)
        cases[("Index.init_index max_elements", name)] = _fresh(lambda m: m.Index("l2", DIM), "init_index", value)
        cases[("Index.init_index M", name)] = _fresh(lambda m: m.Index("l2", DIM), "init_index", 10, M=value)
        cases[("Index(dim)", name)] = lambda m, value=value: m.Index("l2", value).dim
    return cases


CASES = _cases()

# Where compat, on purpose, does not do what hnswlib does: (method, input) -> what compat
# raises instead (None: compat accepts), and why.
WRONG_DIM = "hnswlib reads queries of the wrong dim past their end; compat raises RuntimeError"
NAN = "hnswlib stores NaN/inf and returns nonsense; compat raises ValueError"
MISREAD = "hnswlib misreads these labels without a word; compat raises"
BIG = "vecindex ids are int64: compat labels must be below 2**63"
EMPTY = "hnswlib raises IndexError on an empty batch; compat adds nothing"
EMPTY_QUERY = "both refuse an empty list of queries: hnswlib with IndexError, compat with its wrong-dim RuntimeError"
NEGATIVE_DIM = "hnswlib takes dim as a signed int and builds an index of dim -1"
DOCUMENTED_DIFFERENCES = {
    ("Index.knn_query data", "empty list"): (RuntimeError, EMPTY_QUERY),
    ("BFIndex.knn_query data", "empty list"): (RuntimeError, EMPTY_QUERY),
    ("Index(dim)", "negative"): (TypeError, NEGATIVE_DIM),
    **{(method, name): (RuntimeError, WRONG_DIM)
       for method in ("Index.knn_query data", "BFIndex.knn_query data") for name in ("wrong dim", "(n, 1) column")},
    **{(method, name): (ValueError, NAN)
       for method in ("Index.add_items data", "Index.knn_query data", "BFIndex.add_items data",
                      "BFIndex.knn_query data") for name in ("NaN", "inf")},
    **{(method, name): (error, MISREAD)
       for method in ("Index.get_items", "Index.get_items list")
       for name, error in (("fractional float", TypeError), ("bool array", TypeError), ("strings", TypeError),
                           ("(1, n)", ValueError), ("(n, 2)", ValueError))},
    **{("Index.add_items ids", name): (TypeError, MISREAD) for name in ("fractional float", "bool array", "strings")},
    ("Index.add_items ids", "2**63"): (OverflowError, BIG),
    ("Index.add_items data", "(0, dim) array"): (None, EMPTY),
    ("Index.add_items ids", "empty list"): (None, EMPTY),
}


def outcome(call, module):
    try:
        return "ok", signature(call(module))
    except Exception as error:  # the exception type is the outcome
        return "raises", type(error)


def signature(value):
    """What must agree between the libraries: types, shapes and dtypes; labels and counts."""
    if isinstance(value, np.ndarray):
        return ("ndarray", value.shape, value.dtype.str)
    if isinstance(value, tuple):
        return tuple(signature(item) for item in value)
    if isinstance(value, list):
        return ("list", len(value), tuple(signature(item) for item in value[:2]))
    if isinstance(value, (int, np.integer)):  # counts, labels, dims: compared by value
        return int(value)
    return type(value).__name__


@pytest.mark.parametrize("method, name", sorted(CASES))
def test_compat_accepts_and_refuses_what_hnswlib_does(reference, method, name):
    call = CASES[(method, name)]
    theirs, ours = outcome(call, reference), outcome(call, compat)
    if (method, name) in DOCUMENTED_DIFFERENCES:
        error, why = DOCUMENTED_DIFFERENCES[(method, name)]
        assert ours[0] == ("ok" if error is None else "raises"), (why, ours)
        if error is not None:
            assert ours[1] is error, (why, ours)
        assert theirs != ours, f"listed as a difference ({why}), but hnswlib now agrees: {theirs}"
        return
    assert ours == theirs, f"hnswlib: {theirs}, compat: {ours}"


def test_get_items_takes_labels_straight_from_knn_query(reference):
    for module in (compat, reference):
        index = hnsw(module)
        labels, _ = index.knn_query(DATA[:5], k=1)
        np.testing.assert_array_equal(index.get_items(labels), DATA[:5])
        labels, _ = index.knn_query(DATA[:5], k=3)
        np.testing.assert_array_equal(index.get_items(labels[:, :1]), DATA[:5])


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_bfindex_refuses_nan_and_inf_in_data_and_queries(bad):
    index = brute_force(compat)
    data = DATA[:2].copy()
    data[1, 2] = bad
    with pytest.raises(ValueError, match="NaN or infinity"):
        index.add_items(data, ids=[50, 51])
    assert index.get_current_count() == COUNT  # nothing of the batch was stored
    with pytest.raises(ValueError, match="NaN or infinity"):
        index.knn_query(data, k=1)
