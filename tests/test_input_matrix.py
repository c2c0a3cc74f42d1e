"""Input-validation matrix: for every public method of vecindex.Index, every kind of bad input
raises the documented exception (or is handled as documented), and a refused call leaves the
index exactly as it was. Never a crash, never a silent wrong answer."""
from __future__ import annotations

import numpy as np
import pytest

import vecindex
from vecindex import F, _codec_testing

DIM = 4
BASE = np.arange(10 * DIM, dtype=np.float32).reshape(10, DIM) / 7.0
QUERY = BASE[3] + 0.01


@pytest.fixture
def index():
    idx = vecindex.Index(dim=DIM, M=4, ef_construction=20)
    idx.add(BASE, ids=np.arange(10) * 10)
    return idx


def snapshot(idx) -> tuple:
    ids, distances = idx.search(BASE, k=3)
    return len(idx), sorted(idx.ids().tolist()), ids.tolist(), distances.tolist(), idx.ef_search


def refused(idx, call, error, observe=snapshot):
    """call(idx) raises `error`, and the index is unchanged (as `observe` sees it) and sound afterwards."""
    before = observe(idx)
    with pytest.raises(error):
        call(idx)
    assert observe(idx) == before
    idx.check_integrity()


# -- constructor ---------------------------------------------------------------------------
CONSTRUCTOR_CASES = [
    ({"dim": 0}, ValueError), ({"dim": -1}, ValueError), ({"dim": 65537}, ValueError),
    ({"dim": 4.0}, TypeError), ({"dim": "4"}, TypeError), ({"dim": None}, TypeError), ({"dim": True}, TypeError),
    ({"dim": 4, "metric": "manhattan"}, ValueError), ({"dim": 4, "metric": None}, ValueError),
    ({"dim": 4, "metric": ""}, ValueError), ({"dim": 4, "metric": 2}, ValueError),
    ({"dim": 4, "M": 1}, ValueError), ({"dim": 4, "M": 0}, ValueError), ({"dim": 4, "M": -1}, ValueError),
    ({"dim": 4, "M": 1025}, ValueError), ({"dim": 4, "M": None}, TypeError), ({"dim": 4, "M": 2.5}, TypeError),
    ({"dim": 4, "ef_construction": 0}, ValueError), ({"dim": 4, "ef_construction": 10**6}, ValueError),
    ({"dim": 4, "ef_search": 0}, ValueError), ({"dim": 4, "ef_search": 100001}, ValueError),
    ({"dim": 4, "ef_search": np.nan}, TypeError),
    ({"dim": 4, "dtype": "f8"}, ValueError), ({"dim": 4, "dtype": ""}, ValueError), ({"dim": 4, "dtype": 3}, TypeError),
    ({"dim": 4, "seed": -1}, ValueError), ({"dim": 4, "seed": 2**64}, ValueError), ({"dim": 4, "seed": "1"}, TypeError),
]


@pytest.mark.parametrize("kwargs, error", CONSTRUCTOR_CASES, ids=[str(c[0]) for c in CONSTRUCTOR_CASES])
def test_constructor_refuses(kwargs, error):
    with pytest.raises(error):
        vecindex.Index(**kwargs)


def test_constructor_accepts_numpy_integers_and_metric_case():
    idx = vecindex.Index(dim=np.int64(4), metric="L2", M=np.int32(4))
    assert idx.dim == 4 and idx.metric == "l2" and idx.M == 4


# -- add -----------------------------------------------------------------------------------
ADD_CASES = {
    "wrong columns": (lambda i: i.add(np.ones((2, 3))), ValueError),
    "too many columns": (lambda i: i.add(np.ones((2, 5))), ValueError),
    "3-D": (lambda i: i.add(np.ones((2, 2, DIM))), ValueError),
    "scalar": (lambda i: i.add(5.0), ValueError),
    "empty list": (lambda i: i.add([]), ValueError),
    "empty, wrong dim": (lambda i: i.add(np.empty((0, 3))), ValueError),
    "strings": (lambda i: i.add([["a", "b", "c", "d"]]), ValueError),
    "numeric strings": (lambda i: i.add(np.array([["1", "2", "3", "4"]])), ValueError),
    "None": (lambda i: i.add(None), ValueError),
    "objects": (lambda i: i.add(np.array([[1, 2, 3, object()]], dtype=object)), ValueError),
    "complex": (lambda i: i.add(np.ones((1, DIM), dtype=complex)), ValueError),
    "ragged": (lambda i: i.add([[1, 2, 3, 4], [1, 2]]), ValueError),
    "NaN": (lambda i: i.add(np.full((1, DIM), np.nan)), ValueError),
    "inf": (lambda i: i.add(np.full((1, DIM), -np.inf)), ValueError),
    "beyond float32": (lambda i: i.add(np.full((1, DIM), 1e39)), ValueError),
    "norm overflows float32": (lambda i: i.add(np.full((1, DIM), 3e38, dtype=np.float32)), ValueError),
    "NaN in a later row": (lambda i: i.add(np.vstack([np.ones((3, DIM)), np.full((1, DIM), np.nan)])), ValueError),
    "negative id": (lambda i: i.add(np.ones((1, DIM)), ids=[-1]), ValueError),
    "duplicate ids": (lambda i: i.add(np.ones((2, DIM)), ids=[5, 5]), ValueError),
    "existing id": (lambda i: i.add(np.ones((1, DIM)), ids=[10]), ValueError),
    "existing id in a batch": (lambda i: i.add(np.ones((2, DIM)), ids=[1, 20]), ValueError),
    "too few ids": (lambda i: i.add(np.ones((2, DIM)), ids=[1]), ValueError),
    "too many ids": (lambda i: i.add(np.ones((1, DIM)), ids=[1, 2]), ValueError),
    "2-D ids": (lambda i: i.add(np.ones((2, DIM)), ids=[[1], [2]]), ValueError),
    "fractional ids": (lambda i: i.add(np.ones((1, DIM)), ids=[1.5]), ValueError),
    "NaN ids": (lambda i: i.add(np.ones((1, DIM)), ids=[np.nan]), ValueError),
    "string ids": (lambda i: i.add(np.ones((1, DIM)), ids=["7"]), ValueError),
    "bool ids": (lambda i: i.add(np.ones((1, DIM)), ids=[True]), ValueError),
    "id beyond int64": (lambda i: i.add(np.ones((1, DIM)), ids=np.array([2**63], dtype=np.uint64)), ValueError),
    "id beyond uint64": (lambda i: i.add(np.ones((1, DIM)), ids=[2**64]), ValueError),
    "threads=0": (lambda i: i.add(np.ones((1, DIM)), threads=0), ValueError),
    "threads=-1": (lambda i: i.add(np.ones((1, DIM)), threads=-1), ValueError),
    "threads huge": (lambda i: i.add(np.ones((1, DIM)), threads=10**6), ValueError),
    "threads float": (lambda i: i.add(np.ones((1, DIM)), threads=2.0), TypeError),
}


@pytest.mark.parametrize("case", list(ADD_CASES))
def test_add_refuses(index, case):
    call, error = ADD_CASES[case]
    refused(index, call, error)


def test_add_edge_cases_handled_as_documented(index):
    assert index.add(np.empty((0, DIM))).shape == (0,)
    assert index.add(np.empty((0, DIM)), ids=[]).shape == (0,)
    assert len(index) == 10
    # 1-D is one vector; ints, bools and float64 are converted; non-contiguous input is fine.
    assert index.add(np.arange(DIM)).tolist() == [91]
    wide = np.arange(3 * 2 * DIM, dtype=np.float64).reshape(3, 2 * DIM)[:, ::2]
    new = index.add(wide, ids=[200, 201, 202])
    np.testing.assert_array_equal(index.get(new), wide.astype(np.float32))
    # replace=True swaps the vector and keeps one live copy of the id.
    index.add(np.full((1, DIM), 9.0), ids=[0], replace=True)
    np.testing.assert_array_equal(index.get([0]), np.full((1, DIM), 9.0, dtype=np.float32))
    assert index.ids().tolist().count(0) == 1
    index.check_integrity()


def test_largest_id_round_trips(tmp_path):
    """id 2**63-1 is a valid id: adding it, saving and loading must work (no overflow)."""
    idx = vecindex.Index(dim=DIM)
    idx.add(np.ones((1, DIM)), ids=[2**63 - 1])
    with pytest.raises(ValueError, match="overflow"):
        idx.add(np.ones((1, DIM)))  # automatic ids are used up, and say so
    idx.save(tmp_path / "max.vx")
    loaded = vecindex.Index.load(tmp_path / "max.vx")
    assert loaded.ids().tolist() == [2**63 - 1]
    assert loaded.search(np.ones(DIM), k=1)[0].tolist() == [2**63 - 1]


# -- search --------------------------------------------------------------------------------
SEARCH_CASES = {
    "wrong columns": (lambda i: i.search(np.ones(3)), ValueError),
    "3-D": (lambda i: i.search(np.ones((1, 1, DIM))), ValueError),
    "empty 1-D": (lambda i: i.search([]), ValueError),
    "strings": (lambda i: i.search(["a"] * DIM), ValueError),
    "None": (lambda i: i.search(None), ValueError),
    "NaN": (lambda i: i.search(np.full(DIM, np.nan)), ValueError),
    "inf": (lambda i: i.search(np.full(DIM, np.inf)), ValueError),
    "norm overflows float32": (lambda i: i.search(np.full(DIM, 3e38, dtype=np.float32)), ValueError),
    "k=0": (lambda i: i.search(QUERY, k=0), ValueError),
    "k=-1": (lambda i: i.search(QUERY, k=-1), ValueError),
    "k huge": (lambda i: i.search(QUERY, k=10**9), ValueError),
    "k float": (lambda i: i.search(QUERY, k=2.0), TypeError),
    "k None": (lambda i: i.search(QUERY, k=None), TypeError),
    "k string": (lambda i: i.search(QUERY, k="3"), TypeError),
    "ef=0": (lambda i: i.search(QUERY, ef=0), ValueError),
    "ef huge": (lambda i: i.search(QUERY, ef=10**9), ValueError),
    "threads=0": (lambda i: i.search(QUERY, threads=0), ValueError),
    "threads=-1": (lambda i: i.search(QUERY, threads=-1), ValueError),
    "rerank_factor=0": (lambda i: i.search(QUERY, rerank_factor=0), ValueError),
}


@pytest.mark.parametrize("case", list(SEARCH_CASES))
def test_search_refuses(index, case):
    call, error = SEARCH_CASES[case]
    refused(index, call, error)


def test_search_edge_cases_handled_as_documented(index):
    ids, distances = index.search(np.empty((0, DIM)), k=3)
    assert ids.shape == (0, 3) and distances.shape == (0, 3)
    # More neighbours than vectors: every vector once, then -1 / +inf padding.
    ids, distances = index.search(QUERY, k=25)
    assert sorted(ids[:10].tolist()) == sorted(index.ids().tolist())
    assert ids[10:].tolist() == [-1] * 15 and np.isinf(distances[10:]).all()
    # The largest allowed ef and k are exact here, and ef below k is raised to k.
    exact = np.argsort(((BASE - QUERY) ** 2).sum(1), kind="stable")[:5] * 10
    assert index.search(QUERY, k=5, ef=10**6)[0].tolist() == exact.tolist()
    assert index.search(QUERY, k=5, ef=1)[0].tolist() == exact.tolist()
    assert index.search(QUERY, k=100000)[0].shape == (100000,)
    assert index.search(QUERY, k=3, threads=4096)[0].tolist() == exact[:3].tolist()


def test_search_of_empty_and_fully_deleted_index():
    idx = vecindex.Index(dim=DIM)
    ids, distances = idx.search(np.ones((2, DIM)), k=3)
    assert (ids == -1).all() and np.isinf(distances).all()
    idx.add(np.ones((3, DIM)))
    idx.delete([0, 1, 2])
    ids, _ = idx.search(np.ones(DIM), k=3)
    assert ids.tolist() == [-1, -1, -1]


# -- get, delete, ef_search, train ---------------------------------------------------------
OTHER_CASES = {
    "get unknown": (lambda i: i.get([0, 5]), KeyError),
    "get negative": (lambda i: i.get([-1]), ValueError),
    "get strings": (lambda i: i.get(["a"]), ValueError),
    "get None": (lambda i: i.get(None), ValueError),
    "get 2-D": (lambda i: i.get([[0]]), ValueError),
    "get fractional": (lambda i: i.get([0.5]), ValueError),
    "delete unknown": (lambda i: i.delete([0, 5]), KeyError),
    "delete negative": (lambda i: i.delete([-3]), ValueError),
    "delete strings": (lambda i: i.delete(["0"]), ValueError),
    "delete None": (lambda i: i.delete(None), ValueError),
    "delete beyond int64": (lambda i: i.delete([2**64]), ValueError),
    "ef_search=0": (lambda i: setattr(i, "ef_search", 0), ValueError),
    "ef_search=-1": (lambda i: setattr(i, "ef_search", -1), ValueError),
    "ef_search huge": (lambda i: setattr(i, "ef_search", 10**6), ValueError),
    "ef_search float": (lambda i: setattr(i, "ef_search", 8.0), TypeError),
    "ef_search None": (lambda i: setattr(i, "ef_search", None), TypeError),
    "ef_search bool": (lambda i: setattr(i, "ef_search", True), TypeError),
    "train wrong dim": (lambda i: i.train(np.ones((5, 3))), ValueError),
    "train NaN": (lambda i: i.train(np.full((5, DIM), np.nan)), ValueError),
    "train strings": (lambda i: i.train([["x"] * DIM]), ValueError),
    "train threads=0": (lambda i: i.train(np.ones((5, DIM)), threads=0), ValueError),
    "train threads=-1": (lambda i: i.train(np.ones((5, DIM)), threads=-1), ValueError),
}


@pytest.mark.parametrize("case", list(OTHER_CASES))
def test_other_methods_refuse(index, case):
    call, error = OTHER_CASES[case]
    refused(index, call, error)


def test_other_edge_cases_handled_as_documented(index):
    assert index.get([]).shape == (0, DIM)
    np.testing.assert_array_equal(index.get([30, 30]), np.stack([BASE[3], BASE[3]]))
    index.delete([])
    index.delete([20, 20])  # listed twice: deleted once
    assert 20 not in index and len(index) == 9
    with pytest.raises(KeyError, match="20"):
        index.delete([20])
    assert 20 not in index.search(BASE[2], k=10)[0].tolist()
    vecindex.Index(DIM, dtype="f32").train(np.ones((5, DIM)))  # f32 needs no training: a no-op
    assert not (2**70 in index) and not ("x" in index) and not (-1 in index) and not (None in index)
    index.check_integrity()


# -- save, load, from_bytes ----------------------------------------------------------------
def test_save_refuses_bad_paths(index, tmp_path):
    refused(index, lambda i: i.save(None), TypeError)
    refused(index, lambda i: i.save(tmp_path), OSError)  # a folder
    refused(index, lambda i: i.save(tmp_path / "missing" / "x.vx"), OSError)
    refused(index, lambda i: i.save(str(tmp_path / "a\0b.vx")), ValueError)
    assert list(tmp_path.iterdir()) == []  # nothing written anywhere, not even at a cut-short path


def test_load_refuses_bad_paths_and_files(tmp_path):
    with pytest.raises(TypeError):
        vecindex.Index.load(None)
    with pytest.raises(OSError):
        vecindex.Index.load(tmp_path / "missing.vx")
    with pytest.raises(OSError):
        vecindex.Index.load(tmp_path)
    with pytest.raises(ValueError):
        vecindex.Index.load(str(tmp_path / "x\0y"))
    (tmp_path / "empty.vx").write_bytes(b"")
    with pytest.raises(vecindex.FormatError):
        vecindex.Index.load(tmp_path / "empty.vx")
    (tmp_path / "text.vx").write_text("hello")
    with pytest.raises(vecindex.FormatError):
        vecindex.Index.load(tmp_path / "text.vx")


def test_from_bytes_inputs(index):
    blob = index.to_bytes()
    for bad, error in ((None, TypeError), ("text", TypeError), (3, TypeError), (b"", vecindex.FormatError),
                       (blob[:-1], vecindex.FormatError), (blob + b"\0", vecindex.FormatError),
                       (memoryview(blob)[::-1], vecindex.FormatError), (memoryview(blob)[::2], vecindex.FormatError)):
        with pytest.raises(error):
            vecindex.Index.from_bytes(bad)
    expected = snapshot(index)
    for good in (blob, bytearray(blob), memoryview(blob), memoryview(bytearray(blob + b"\0"))[:-1]):
        assert snapshot(vecindex.Index.from_bytes(good)) == expected
    if len(blob) % 4 == 0:  # a typed, contiguous view of the same bytes
        assert snapshot(vecindex.Index.from_bytes(memoryview(blob).cast("I"))) == expected


# -- compact, strategy, read-only maps -----------------------------------------------------
def test_compact_and_strategy_inputs(index):
    refused(index, lambda i: i.compact(threads=0), ValueError)
    refused(index, lambda i: i.compact(threads=-1), ValueError)
    refused(index, lambda i: i.search(QUERY, strategy="fastest"), ValueError)
    index.delete([10, 20])
    assert index.compact() >= 0
    assert index.compact() == 0  # nothing left to free
    index.check_integrity()
    assert not {10, 20} & set(index.search(BASE, k=8)[0].ravel().tolist())


def test_mmap_index_refuses_writes(index, tmp_path):
    index.save(tmp_path / "m.vx")
    mapped = vecindex.Index.load(tmp_path / "m.vx", mmap=True)
    for call in (lambda i: i.add(np.ones((1, DIM))), lambda i: i.delete([0]), lambda i: i.compact(),
                 lambda i: i.train(np.ones((5, DIM)))):
        refused(mapped, call, RuntimeError)
    assert snapshot(mapped) == snapshot(index)


def test_undecodable_bytes_path_still_raises_os_error(index):
    """Error messages quote the path; a non-UTF-8 bytes path must not turn OSError into
    UnicodeDecodeError."""
    refused(index, lambda i: i.save(b"/nonexistent-\xff-folder/x.vx"), OSError)
    with pytest.raises(OSError):
        vecindex.Index.load(b"/nonexistent-\xff-folder/x.vx")


# -- every dtype: a refused call leaves the index exactly as it was -------------------------
# (dtype, rerank): every storage type, compressed ones with and without full vectors.
DTYPES = [("f32", False)] + [(d, r) for d in ("f16", "bf16", "sq8", "sq4", "pq", "rabitq") for r in (False, True)]
SCHEMA = {"tag": "keyword", "size": "int"}
TRAINING = np.random.default_rng(7).normal(scale=3.0, size=(300, DIM)).astype(np.float32)
BIG = 3e17  # |x| <= 1e18 keeps a dim-4 row's squared norm under 1e36


@pytest.fixture(scope="module")
def dtype_blobs():
    """One small index per (dtype, rerank) with attributes, a deleted id and a replaced id."""
    blobs = {}
    for dtype, rerank in DTYPES:
        idx = vecindex.Index(dim=DIM, M=4, ef_construction=20, dtype=dtype, rerank=rerank, attributes=SCHEMA)
        idx.train(TRAINING)
        idx.add(BASE, ids=np.arange(10) * 10, attrs={"tag": [f"t{i % 3}" for i in range(10)], "size": list(range(10))})
        idx.delete([90])
        idx.add(BASE[1] + 0.5, ids=[10], replace=True, attrs={"tag": ["replaced"]})
        blobs[dtype, rerank] = idx.to_bytes()
    return blobs


@pytest.fixture(params=DTYPES, ids=[f"{d}{'+rerank' if r else ''}" for d, r in DTYPES])
def typed_index(request, dtype_blobs):
    return vecindex.Index.from_bytes(dtype_blobs[request.param])


def full_snapshot(idx) -> tuple:
    """Everything a caller can observe, including the id the next automatic add would get."""
    ids = sorted(idx.ids().tolist())
    found, distances = idx.search(BASE, k=4)
    filtered = idx.search(BASE[:2], k=3, filter=F.tag == "t1")[0].tolist() if "tag" in idx.attributes else None
    probe = vecindex.Index.from_bytes(idx.to_bytes()).add(BASE[0] * 0.5)
    return (len(idx), ids, idx.get(ids).tolist(), idx.get_attrs(ids), found.tolist(), distances.tolist(),
            filtered, idx.stats(), idx._core.is_trained, probe.tolist())


def refused_unchanged(idx, call, error):
    refused(idx, call, error, observe=full_snapshot)


def row_batch(last_row, ids=(30, 100, 101)):
    """Three rows: one replacing id 30, then new ids; only the last row is bad."""
    return np.vstack([np.full(DIM, 0.25), np.full(DIM, 0.5), last_row]).astype(np.float32), list(ids)


TYPED_ADD_CASES = {
    **ADD_CASES,
    "norm too large in the third row, replace": (
        lambda i: i.add(*row_batch(np.full(DIM, 1e18)), replace=True), ValueError),
    "NaN in the third row, replace": (lambda i: i.add(*row_batch(np.full(DIM, np.nan)), replace=True), ValueError),
    "existing id in the third row": (lambda i: i.add(*row_batch(np.ones(DIM), ids=(100, 101, 20))), ValueError),
    "repeated id in the third row, replace": (
        lambda i: i.add(*row_batch(np.ones(DIM), ids=(30, 100, 30)), replace=True), ValueError),
    "attrs of the wrong kind in the third row, replace": (
        lambda i: i.add(*row_batch(np.ones(DIM)), replace=True, attrs={"size": [1, 2, "x"]}), TypeError),
    "attrs for an unknown column": (lambda i: i.add(np.ones((1, DIM)), attrs={"colour": ["red"]}), ValueError),
    "attrs of the wrong length": (lambda i: i.add(np.ones((2, DIM)), attrs={"size": [1]}), ValueError),
}


@pytest.mark.parametrize("case", list(TYPED_ADD_CASES))
def test_add_refuses_on_every_dtype(typed_index, case):
    call, error = TYPED_ADD_CASES[case]
    refused_unchanged(typed_index, call, error)


@pytest.mark.parametrize("case", list(SEARCH_CASES))
def test_search_refuses_on_every_dtype(typed_index, case):
    call, error = SEARCH_CASES[case]
    refused_unchanged(typed_index, call, error)


@pytest.mark.parametrize("case", list(OTHER_CASES))
def test_other_methods_refuse_on_every_dtype(typed_index, case):
    call, error = OTHER_CASES[case]
    refused_unchanged(typed_index, call, error)


@pytest.mark.parametrize("case", ["replace", "batch"])
def test_values_beyond_the_dtype_range_are_refused_before_any_change(typed_index, case):
    """f16 cannot hold |x| >= 65520: such a row is refused whole, and for the other dtypes
    the same call succeeds."""
    if case == "replace":
        call = lambda i: i.add(np.full((1, DIM), 1e5), ids=[30], replace=True)  # noqa: E731
    else:
        call = lambda i: i.add(*row_batch(np.full(DIM, 1e5)), replace=True)  # noqa: E731
    if typed_index.dtype == "f16":
        refused_unchanged(typed_index, call, ValueError)
    else:
        before = len(typed_index)
        call(typed_index)
        typed_index.check_integrity()
        assert 30 in typed_index and len(typed_index) == before + (2 if case == "batch" else 0)


def test_f16_range_edge():
    idx = vecindex.Index(dim=DIM, dtype="f16")
    idx.add(np.full((1, DIM), 65519.0), ids=[1])
    assert idx.get([1]).max() == 65504.0  # the largest half
    refused_unchanged(idx, lambda i: i.add(np.full((1, DIM), -65520.0), ids=[2]), ValueError)


def test_bf16_store_refuses_values_that_would_round_to_infinity():
    """The index's norm limit keeps such values away from a bf16 index; the store checks anyway."""
    store = _codec_testing._CodecStore("bf16", DIM, "l2")
    store.add(np.full((1, DIM), 3.39e38, dtype=np.float32))
    assert np.isfinite(store.decode()).all()
    with pytest.raises(ValueError, match="bf16 range"):
        store.add(np.full((1, DIM), 3.3962e38, dtype=np.float32))
    assert store.count == 1


def test_extreme_valid_rows_are_accepted_on_every_dtype(typed_index):
    """Rows at the edge of the accepted range (squared norm just under 1e36, or f16's largest
    values) encode to finite codes in every dtype and search with finite distances."""
    big = 65000.0 if typed_index.dtype == "f16" else BIG
    rows = np.array([[big, -big, big, -big], [big, 0, 0, 0], [1e-30, 0, 0, 0]], dtype=np.float32)
    typed_index.add(rows, ids=[500, 501, 502])
    typed_index.check_integrity()
    assert np.isfinite(typed_index.get([500, 501, 502])).all()
    _, distances = typed_index.search(np.vstack([rows, BASE[:2]]), k=5)
    assert np.isfinite(distances).all()


@pytest.mark.parametrize("dtype, rerank", DTYPES)
def test_cosine_zero_and_tiny_vectors_on_every_dtype(dtype, rerank):
    """Cosine normalises rows: an all-zero row is kept as zeros (distance 1 to every query),
    and a tiny row (subnormal values) is normalised like any other, never to inf or NaN."""
    idx = vecindex.Index(dim=DIM, metric="cosine", M=4, dtype=dtype, rerank=rerank)
    idx.train(TRAINING)
    idx.add(BASE + 1.0)
    tiny = np.array([1e-44, 1e-44, 0, 0], dtype=np.float32)
    ids = idx.add(np.vstack([np.zeros(DIM), tiny]))
    idx.check_integrity()
    stored = idx.get(ids)
    assert np.isfinite(stored).all()
    exact = dtype in ("f32", "f16", "bf16") or rerank  # else get() decodes the codec's approximation
    if exact:
        assert (stored[0] == 0).all()
        np.testing.assert_allclose(stored[1], [2**-0.5, 2**-0.5, 0, 0], atol=1e-2)
    found, distances = idx.search(np.vstack([np.ones(DIM), tiny]), k=len(idx), ef=100)
    assert np.isfinite(distances[found >= 0]).all()
    zero_distance = distances[0][found[0] == ids[0]]
    if exact:
        np.testing.assert_allclose(zero_distance, [1.0], atol=1e-6)
