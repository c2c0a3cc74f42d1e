"""Recall of the HNSW index against brute force, for every metric."""
import numpy as np
import pytest

import vecindex
from conftest import brute_force, clustered, recall


# ip on this set: 20 tight clusters whose centres have norms 5-9.6. The MIPS-to-L2 lift that
# ip graphs were once linked on was tuned on it and reached 0.95; raw inner-product linking
# (which beats hnswlib and the lift on Gaussian, varied-norm, unit-norm and Debian data, see
# test_ip_recall.py) reaches about 0.90 here, hnswlib about 0.83. The bar stays; the known
# regression is marked, and strict, so a fix shows up as an unexpected pass.
IP_ON_CLUSTERS = pytest.mark.xfail(strict=True, reason="raw ip linking reaches ~0.90 on tight high-norm clusters "
                                   "(the old lift: 0.95; hnswlib: 0.83)")


@pytest.mark.parametrize("metric", ["l2", pytest.param("ip", marks=IP_ON_CLUSTERS), "cosine"])
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


def test_ip_recall_on_tight_clusters_is_at_least_hnswlibs():
    """The set above under ip, against the real hnswlib with the same M, ef_construction and ef."""
    hnswlib = pytest.importorskip("hnswlib")
    data = clustered(5000, 48, seed=11)
    queries = clustered(200, 48, seed=12)
    truth, _ = brute_force(data, queries, 10, "ip")
    ours = vecindex.Index(dim=48, metric="ip", M=16, ef_construction=200)
    ours.add(data, threads=2)
    theirs = hnswlib.Index(space="ip", dim=48)
    theirs.init_index(max_elements=len(data), M=16, ef_construction=200, random_seed=100)
    theirs.add_items(data, np.arange(len(data)), num_threads=2)
    for ef in (64, 256):
        theirs.set_ef(ef)
        their_recall = recall(theirs.knn_query(queries, k=10)[0].astype(np.int64), truth)
        our_recall = recall(ours.search(queries, k=10, ef=ef)[0], truth)
        assert our_recall >= their_recall, f"ef={ef}: vecindex {our_recall:.3f} < hnswlib {their_recall:.3f}"
