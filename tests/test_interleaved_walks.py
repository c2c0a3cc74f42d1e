"""A batch search walks several queries at once on each thread, interleaving their steps so one
walk's rows arrive from memory while another's are scored (HnswGraph::search over several
queries). Each walk keeps its own state, so every result must be exactly what the same query
gets when searched alone, whatever the batch size, thread count or dtype."""
import numpy as np
import pytest

import vecindex
from conftest import clustered

DIM = 24


@pytest.fixture(scope="module")
def data():
    return clustered(3000, DIM, seed=31), clustered(103, DIM, seed=32)


def searched_alone(index, queries, k, ef):
    rows = [index.search(query, k=k, ef=ef) for query in queries]
    return np.stack([ids for ids, _ in rows]), np.stack([distances for _, distances in rows])


@pytest.mark.parametrize("options", [{}, {"dtype": "f32"}, {"dtype": "sq4", "rerank": True}, {"dtype": "f16"}],
                         ids=["default", "f32", "sq4-rerank", "f16"])
@pytest.mark.parametrize("ef", [10, 64])
def test_batch_results_equal_each_query_searched_alone(data, options, ef):
    base, queries = data
    index = vecindex.Index(dim=DIM, metric="cosine", **options)
    index.add(base)
    alone_ids, alone_distances = searched_alone(index, queries, 10, ef)
    # Batch sizes below, at and past the group size, and ones that leave a short last group.
    for count in (2, 3, 4, 7, 103):
        for threads in (1, 2):
            ids, distances = index.search(queries[:count], k=10, ef=ef, threads=threads)
            np.testing.assert_array_equal(ids, alone_ids[:count], err_msg=f"{count} queries, {threads} threads")
            np.testing.assert_array_equal(distances, alone_distances[:count])


def test_batches_with_deleted_rows_equal_each_query_searched_alone(data):
    base, queries = data
    index = vecindex.Index(dim=DIM, metric="l2")
    index.add(base)
    index.delete(np.arange(0, 3000, 7))
    alone_ids, alone_distances = searched_alone(index, queries, 5, 32)
    ids, distances = index.search(queries, k=5, ef=32, threads=1)
    np.testing.assert_array_equal(ids, alone_ids)
    np.testing.assert_array_equal(distances, alone_distances)
    assert not np.isin(ids, np.arange(0, 3000, 7)).any()
    assert index.stats()["interleaved_walks"] == 1  # the walk that skips deleted rows goes alone


def test_a_batch_over_fewer_rows_than_k_pads_every_query(data):
    base, queries = data
    index = vecindex.Index(dim=DIM)
    index.add(base[:4])
    ids, distances = index.search(queries[:5], k=6, threads=1)
    assert (ids[:, 4:] == -1).all() and np.isinf(distances[:, 4:]).all()
    assert (np.sort(ids[:, :4], axis=1) == np.arange(4)).all()


@pytest.mark.parametrize("options, dim, interleaved", [
    ({"dtype": "f32"}, 384, False),       # 1,536-byte rows: paced by bandwidth, one walk at a time
    ({"dtype": "f32"}, 64, True),         # 256-byte rows
    ({"dtype": "f32"}, 256, True),        # 1,024 bytes: "f32 up to dim 256"
    ({"dtype": "f32"}, 257, False),
    ({"dtype": "f16"}, 384, True),        # 768 bytes
    ({"dtype": "sq4", "rerank": True}, 384, True),
    ({}, 384, True),                      # the default, once its codes are trained
])
def test_the_readme_says_which_walks_interleave(options, dim, interleaved):
    index = vecindex.Index(dim=dim, **options)
    index.add(clustered(vecindex._core.LAZY_TRAINING_ROWS, dim, seed=33))
    walks = index.stats()["interleaved_walks"]
    assert (walks > 1) == interleaved, walks
    assert vecindex._core.INTERLEAVED_ROW_BYTES == 1024  # the README's "rows of at most 1 KB"


def test_the_default_walks_one_query_at_a_time_until_its_codes_are_trained():
    index = vecindex.Index(dim=384)
    index.add(clustered(100, 384, seed=34))  # below LAZY_TRAINING_ROWS: the walk reads f32 rows
    assert index.stats()["interleaved_walks"] == 1
