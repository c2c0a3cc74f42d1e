"""vecindex.compat.hnswlib behaves like hnswlib: checked side by side with the real library.

Tests that need the real hnswlib skip when it is not installed; the rest check the compat
module against numpy references.
"""
import pickle

import numpy as np
import pytest

import vecindex
from vecindex.compat import hnswlib as compat

SPACES = ["l2", "ip", "cosine"]
DIM = 16
COUNT = 600
K = 10
RECALL_FLOOR = 0.9  # vs exact neighbours, at ef=64 on 600 points
OVERLAP_FLOOR = 0.85  # share of result ids that compat and hnswlib agree on


@pytest.fixture
def reference():
    return pytest.importorskip("hnswlib")


@pytest.fixture
def data():
    rng = np.random.default_rng(7)
    return rng.standard_normal((COUNT, DIM)).astype(np.float32)


@pytest.fixture
def queries():
    rng = np.random.default_rng(8)
    return rng.standard_normal((40, DIM)).astype(np.float32)


def built(module, space, data, max_elements=COUNT, ef=64, **init):
    index = module.Index(space=space, dim=DIM)
    index.init_index(max_elements=max_elements, M=16, ef_construction=200, **init)
    index.set_num_threads(1)  # single-threaded builds are deterministic: no flaky recall
    index.add_items(data, np.arange(data.shape[0]))
    index.set_ef(ef)
    return index


def exact_distances(space, data, queries):
    """hnswlib's conventions: squared l2, 1 - dot, 1 - cos."""
    if space == "l2":
        return ((queries[:, None, :] - data[None, :, :]) ** 2).sum(-1)
    if space == "cosine":
        data = data / np.linalg.norm(data, axis=1, keepdims=True)
        queries = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    return 1.0 - queries @ data.T


def recall(found, truth):
    return np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found.tolist(), truth.tolist())])


# ---- search results ---------------------------------------------------------------------

@pytest.mark.parametrize("space", SPACES)
def test_knn_query_matches_hnswlib_shapes_dtypes_and_neighbours(reference, space, data, queries):
    ours = built(compat, space, data).knn_query(queries, k=K)
    theirs = built(reference, space, data).knn_query(queries, k=K)
    assert [a.shape for a in ours] == [a.shape for a in theirs] == [(40, K), (40, K)]
    assert [a.dtype for a in ours] == [a.dtype for a in theirs]
    assert recall(ours[0], theirs[0]) >= OVERLAP_FLOOR


@pytest.mark.parametrize("space", SPACES)
def test_knn_query_recall_and_distance_convention(space, data, queries):
    labels, distances = built(compat, space, data).knn_query(queries, k=K)
    reference_distances = exact_distances(space, data, queries)
    truth = np.argsort(reference_distances, axis=1)[:, :K]
    assert recall(labels, truth) >= RECALL_FLOOR
    expected = np.take_along_axis(reference_distances, labels.astype(np.int64), axis=1)
    np.testing.assert_allclose(distances, expected, rtol=1e-4, atol=1e-4)
    assert np.all(np.diff(distances, axis=1) >= -1e-6)


@pytest.mark.parametrize("space", SPACES)
def test_distances_of_shared_neighbours_equal_hnswlib(reference, space, data, queries):
    ours = dict_of_results(built(compat, space, data).knn_query(queries, k=K))
    theirs = dict_of_results(built(reference, space, data).knn_query(queries, k=K))
    shared = ours.keys() & theirs.keys()
    assert len(shared) >= OVERLAP_FLOOR * len(theirs)
    np.testing.assert_allclose([ours[key] for key in sorted(shared)],
                               [theirs[key] for key in sorted(shared)], rtol=1e-4, atol=1e-5)


def dict_of_results(result):
    labels, distances = result
    return {(row, int(label)): float(distance)
            for row, (label_row, distance_row) in enumerate(zip(labels, distances))
            for label, distance in zip(label_row, distance_row)}


def test_one_dimensional_and_list_queries_give_one_row(reference, data):
    for module in (compat, reference):
        index = built(module, "l2", data[:50])
        assert index.knn_query(data[0], k=3)[0].shape == (1, 3)
        assert index.knn_query(data[0].tolist(), k=3)[1].shape == (1, 3)
        assert [a.shape for a in index.knn_query(data[:2], k=0)] == [(2, 0), (2, 0)]


@pytest.mark.parametrize("space", ["l2", "ip"])
def test_bfindex_matches_hnswlib_exactly(reference, space, data, queries):
    results = []
    for module in (compat, reference):
        index = module.BFIndex(space=space, dim=DIM)
        index.init_index(COUNT)
        index.add_items(data)
        results.append(index.knn_query(queries, k=K))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    assert results[0][0].dtype == results[1][0].dtype == np.uint64
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-4, atol=1e-4)


def test_bfindex_cosine_is_exact(data, queries):
    index = compat.BFIndex("cosine", DIM)
    index.init_index(COUNT)
    index.add_items(data)
    labels, distances = index.knn_query(queries, k=K)
    reference_distances = exact_distances("cosine", data, queries)
    np.testing.assert_array_equal(labels, np.argsort(reference_distances, axis=1)[:, :K])
    np.testing.assert_allclose(distances, np.sort(reference_distances, axis=1)[:, :K], atol=1e-5)


def test_bfindex_delete_and_update_match_hnswlib(reference, data):
    results = []
    for module in (compat, reference):
        index = module.BFIndex("l2", DIM)
        index.init_index(20)
        index.add_items(data[:10])
        index.delete_vector(3)
        index.delete_vector(999)  # unknown labels are ignored
        index.add_items(data[10:11], ids=[4])
        index.add_items(data[11:13])
        results.append((index.get_current_count(), index.knn_query(data[:13], k=5)[0]))
    assert results[0][0] == results[1][0]
    np.testing.assert_array_equal(results[0][1], results[1][1])


# ---- filters and deletion ---------------------------------------------------------------

def test_filter_returns_only_accepted_labels_like_hnswlib(reference, data, queries):
    def accept(label):
        return label % 3 == 0
    ours = built(compat, "l2", data).knn_query(queries, k=K, filter=accept)
    theirs = built(reference, "l2", data).knn_query(queries, k=K, filter=accept)
    assert np.all(ours[0] % 3 == 0)
    assert ours[0].shape == theirs[0].shape and ours[0].dtype == theirs[0].dtype
    assert recall(ours[0], theirs[0]) >= OVERLAP_FLOOR


def test_filter_exceptions_propagate(data):
    index = built(compat, "l2", data[:50])
    with pytest.raises(ZeroDivisionError):
        index.knn_query(data[:1], k=1, filter=lambda label: 1 / 0)


def test_deleted_labels_are_never_returned_and_come_back_when_unmarked(data, queries):
    index = built(compat, "l2", data)
    deleted = list(range(0, COUNT, 2))
    for label in deleted:
        index.mark_deleted(label)
    labels, _ = index.knn_query(queries, k=K)
    assert not set(labels.ravel().tolist()) & set(deleted)
    assert index.get_current_count() == index.element_count == COUNT
    assert len(index.get_ids_list()) == COUNT
    for label in deleted:
        index.unmark_deleted(label)
    truth = np.argsort(exact_distances("l2", data, queries), axis=1)[:, :K]
    assert recall(index.knn_query(queries, k=K)[0], truth) >= RECALL_FLOOR
    np.testing.assert_array_equal(index.get_items([0, 2]), data[[0, 2]])


def operations_with_deletion_and_replacement(module, data):
    """A fixed sequence of hnswlib calls whose outcome does not depend on graph quality."""
    index = module.Index("l2", DIM)
    index.init_index(5, allow_replace_deleted=True)
    index.add_items(data[:4])
    index.add_items(data[4:5], ids=[1])  # update in place
    index.mark_deleted(2)
    index.add_items(data[5:6], ids=[40], replace_deleted=True)  # takes label 2's slot
    index.add_items(data[6:7])  # auto label: rows added so far
    index.mark_deleted(0)
    index.add_items(data[7:8], ids=[0], replace_deleted=True)  # revives label 0
    return index


def test_bookkeeping_after_updates_deletes_and_replacement_matches_hnswlib(reference, data):
    ours = operations_with_deletion_and_replacement(compat, data)
    theirs = operations_with_deletion_and_replacement(reference, data)
    assert sorted(ours.get_ids_list()) == sorted(theirs.get_ids_list())
    assert ours.get_current_count() == theirs.get_current_count()
    assert ours.element_count == theirs.element_count
    assert ours.get_max_elements() == theirs.get_max_elements()
    labels = sorted(theirs.get_ids_list())
    np.testing.assert_array_equal(ours.get_items(labels), theirs.get_items(labels))
    np.testing.assert_array_equal(ours.knn_query(data[:8], k=5)[0],
                                  theirs.knn_query(data[:8], k=5)[0])


def test_properties_match_hnswlib_before_and_after_init(reference):
    names = ["space", "dim", "M", "ef", "ef_construction", "max_elements", "element_count"]
    for initialise in (False, True):
        values = []
        for module in (compat, reference):
            index = module.Index("cosine", DIM)
            if initialise:
                index.init_index(123, M=12, ef_construction=77)
            values.append([getattr(index, name) for name in names])
        assert values[0] == values[1]


def test_get_items_types_match_hnswlib(reference, data):
    for space in SPACES:
        ours, theirs = built(compat, space, data[:20]), built(reference, space, data[:20])
        np.testing.assert_allclose(ours.get_items([3, 4]), theirs.get_items([3, 4]), rtol=1e-6)
        listed = ours.get_items([3], return_type="list")
        assert type(listed) is type(theirs.get_items([3], return_type="list")) is list
        assert type(listed[0]) is list
        assert ours.get_items([3]).dtype == theirs.get_items([3]).dtype


# ---- misuse raises what hnswlib raises ---------------------------------------------------

def misuse_cases(data):
    def index_of(module, count=10, **init):
        index = module.Index("l2", DIM)
        index.init_index(count, **init)
        index.add_items(data[:count])
        return index

    def deleted_twice(module):
        index = index_of(module)
        index.mark_deleted(1)
        index.mark_deleted(1)

    def update_deleted(module):
        index = index_of(module, allow_replace_deleted=True)
        index.mark_deleted(1)
        index.add_items(data[:1], ids=[1])

    def deleted_item(module):
        index = index_of(module)
        index.mark_deleted(1)
        index.get_items([1])

    return {
        "init twice": lambda m: index_of(m).init_index(10),
        "beyond max_elements": lambda m: index_of(m).add_items(data[10:11]),
        "wrong dim": lambda m: index_of(m).add_items(data[:2, :3]),
        "label count mismatch": lambda m: index_of(m).add_items(data[:2], ids=[1]),
        "negative label": lambda m: index_of(m).add_items(data[:1], ids=[-1]),
        "k above count": lambda m: index_of(m).knn_query(data[:1], k=11),
        "three-dimensional queries": lambda m: index_of(m).knn_query(data[:2].reshape(1, 2, DIM)),
        "negative k": lambda m: index_of(m).knn_query(data[:1], k=-1),
        "filter too strict": lambda m: index_of(m).knn_query(data[:1], k=3, filter=lambda x: x < 2),
        "unknown label": lambda m: index_of(m).get_items([999]),
        "scalar get_items": lambda m: index_of(m).get_items(1),
        "bad return_type": lambda m: index_of(m).get_items([1], return_type="tuple"),
        "delete unknown": lambda m: index_of(m).mark_deleted(999),
        "delete twice": deleted_twice,
        "get deleted": deleted_item,
        "unmark live": lambda m: index_of(m).unmark_deleted(1),
        "resize below count": lambda m: index_of(m).resize_index(5),
        "replace not allowed": lambda m: index_of(m).add_items(data[:1], replace_deleted=True),
        "update deleted with replacement on": update_deleted,
        "unknown space": lambda m: m.Index("hamming", DIM),
        "load missing file": lambda m: m.Index("l2", DIM).load_index("/nonexistent/index.bin"),
        "set M": lambda m: setattr(index_of(m), "M", 4),
        "bf beyond max_elements": lambda m: bf_of(m, data).add_items(data[:3], ids=[7, 8, 9]),
        "bf wrong dim": lambda m: bf_of(m, data).add_items(data[:1, :3]),
        "bf init twice": lambda m: bf_of(m, data).init_index(3),
    }


def bf_of(module, data):
    index = module.BFIndex("l2", DIM)
    index.init_index(3)
    index.add_items(data[:2])
    return index


MISUSE_NAMES = sorted(misuse_cases(np.zeros((20, DIM), np.float32)))


@pytest.mark.parametrize("case", MISUSE_NAMES)
def test_misuse_raises_the_same_exception_as_hnswlib(reference, data, case):
    call = misuse_cases(data)[case]
    with pytest.raises(Exception) as theirs:
        call(reference)
    with pytest.raises(Exception) as ours:
        call(compat)
    assert type(ours.value) is type(theirs.value)
    if type(theirs.value) is RuntimeError and "Cannot open" not in str(theirs.value):
        assert str(ours.value).strip() == str(theirs.value).strip()


def test_partial_batch_is_kept_when_capacity_runs_out_like_hnswlib(reference, data):
    counts = []
    for module in (compat, reference):
        index = module.Index("l2", DIM)
        index.init_index(7)
        index.set_num_threads(1)  # hnswlib adds in parallel otherwise; the prefix varies
        with pytest.raises(RuntimeError):
            index.add_items(data[:10])
        counts.append(index.get_current_count())
    assert counts[0] == counts[1]


def test_methods_before_init_raise_runtime_error_instead_of_crashing(data):
    index = compat.Index("l2", DIM)
    for call in (lambda: index.add_items(data[:1]), lambda: index.knn_query(data[:1]),
                 index.get_ids_list, index.get_current_count, index.get_max_elements):
        with pytest.raises(RuntimeError):
            call()


def test_pad_missing_results_replaces_the_contiguous_array_error(data):
    index = built(compat, "l2", data[:5])
    index.pad_missing_results = True
    labels, distances = index.knn_query(data[:2], k=8)
    assert labels.dtype == np.uint64 and labels.shape == (2, 8)
    assert np.all(labels[:, 5:] == compat.MISSING_LABEL)
    assert np.all(np.isinf(distances[:, 5:]))
    assert sorted(labels[0, :5].tolist()) == [0, 1, 2, 3, 4]


def test_an_uninitialised_index_pickles_like_hnswlib(reference):
    for module in (compat, reference):
        copy = pickle.loads(pickle.dumps(module.Index("ip", DIM)))
        assert (copy.space, copy.dim, copy.max_elements, copy.ef) == ("ip", DIM, 0, 10)
        copy.init_index(5)
        assert copy.get_max_elements() == 5
