"""Recall of the HNSW index against brute force, for every metric."""
import numpy as np
import pytest

import vecindex
from conftest import brute_force, clustered, recall


@pytest.mark.parametrize("metric", ["l2", "ip", "cosine"])
def test_recall_at_10_is_at_least_095(metric):
    data = clustered(5000, 48, seed=11)
    queries = clustered(200, 48, seed=12)
    index = vecindex.Index(dim=48, metric=metric, M=16, ef_construction=200)
    index.add(data, threads=2)
    # Inner product is the hardest (no triangle inequality); ef=256 is a common MIPS setting.
    ids, distances = index.search(queries, k=10, ef=256)
    truth, truth_distances = brute_force(data, queries, 10, metric)
    assert recall(ids, truth) >= 0.95
    assert np.all(np.diff(distances, axis=1) >= 0), "distances must be ascending"
    # Reported distances are the metric's real distances to the returned ids.
    assert np.allclose(distances[:, 0], brute_force(data, queries, 1, metric)[1][:, 0], atol=1e-3) or recall(ids, truth) < 1


@pytest.mark.parametrize("metric", ["l2", "ip", "cosine"])
def test_distances_match_the_metric_definition(metric, small_data):
    data, queries = small_data
    index = vecindex.Index(dim=data.shape[1], metric=metric)
    index.add(data)
    ids, distances = index.search(queries, k=5)
    d64, q64 = data.astype(np.float64), queries.astype(np.float64)
    for row in range(len(queries)):
        vectors = d64[ids[row]]
        if metric == "l2":
            expected = ((vectors - q64[row]) ** 2).sum(1)
        elif metric == "ip":
            expected = -(vectors @ q64[row])
        else:
            expected = 1 - (vectors @ q64[row]) / (np.linalg.norm(vectors, axis=1) * np.linalg.norm(q64[row]))
        np.testing.assert_allclose(distances[row], expected, rtol=1e-4, atol=1e-3)


def test_multithreaded_search_matches_single_threaded(small_data):
    data, queries = small_data
    index = vecindex.Index(dim=data.shape[1])
    index.add(data)
    one = index.search(queries, k=10, threads=1)
    many = index.search(queries, k=10, threads=4)
    np.testing.assert_array_equal(one[0], many[0])
    np.testing.assert_array_equal(one[1], many[1])


def test_single_threaded_build_is_deterministic_for_a_seed(small_data):
    data, queries = small_data
    first = vecindex.Index(dim=data.shape[1], seed=7)
    second = vecindex.Index(dim=data.shape[1], seed=7)
    first.add(data, threads=1)
    second.add(data, threads=1)
    assert first.to_bytes() == second.to_bytes()


def test_parallel_build_reaches_the_same_recall(small_data):
    data, queries = small_data
    index = vecindex.Index(dim=data.shape[1])
    index.add(data, threads=2)
    index.check_integrity()
    truth, _ = brute_force(data, queries, 10, "l2")
    assert recall(index.search(queries, k=10, ef=100)[0], truth) >= 0.95


def test_incremental_adds_are_searchable(small_data):
    data, queries = small_data
    index = vecindex.Index(dim=data.shape[1])
    for chunk in np.array_split(data, 7):
        index.add(chunk)
    assert len(index) == len(data)
    truth, _ = brute_force(data, queries, 10, "l2")
    assert recall(index.search(queries, k=10, ef=100)[0], truth) >= 0.95
    ids, _ = index.search(data[:50], k=1)
    np.testing.assert_array_equal(ids[:, 0], np.arange(50))
