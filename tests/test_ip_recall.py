"""Inner-product recall against the real hnswlib, built in the same run with the same M,
ef_construction and ef, on three data shapes: Gaussian, clustered with norms 0.2-3 (queries from
other clusters) and unit-norm clustered. Recall is measured against exact inner product.

Each shape averages build seeds 1-4, each library built on one thread so that a build is the
same on every run (two-thread builds link in a racy order, and moved recall by ~0.001 between
runs); vecindex must match or beat hnswlib at every ef, with no tolerance. Measured per seed over seeds 1-6 (bench/ip_recall.py --seeds 1 2 3 4 5 6): the
mean lead is positive at every ef on every shape (smallest: +0.0002 on Gaussian at ef=200, where
both are at 1.0), but single seeds vary: on the clustered set vecindex trailed at ef=50 for
seed 2 (-0.0045) and at ef=100 for seed 5 (0.960 vs 0.979), so a different seed pair may need
more seeds averaged rather than a tolerance.
"""
import numpy as np
import pytest

import vecindex
import vecindex.compat.hnswlib as compat
from conftest import brute_force, clustered, recall

hnswlib = pytest.importorskip("hnswlib")

COUNT, DIM, QUERIES, K = 5000, 32, 200, 10
M, EF_CONSTRUCTION = 16, 200
EFS = (10, 50, 100, 200)
SEEDS = (1, 2, 3, 4)


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def make_shape(shape: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    if shape == "gaussian":
        return (rng.normal(size=(COUNT, DIM)).astype(np.float32),
                rng.normal(size=(QUERIES, DIM)).astype(np.float32))
    if shape == "clustered_varied_norms":
        norms = rng.uniform(0.2, 3.0, size=(COUNT, 1))
        return (unit(clustered(COUNT, DIM, seed=seed + 200)) * norms).astype(np.float32), \
            clustered(QUERIES, DIM, seed=seed + 300)
    rows = unit(clustered(COUNT + QUERIES, DIM, seed=seed + 100))
    return rows[:COUNT].copy(), rows[COUNT:].copy()


def hnswlib_recalls(data, queries, truth, seed) -> list[float]:
    index = hnswlib.Index(space="ip", dim=DIM)
    index.init_index(COUNT, M=M, ef_construction=EF_CONSTRUCTION, random_seed=seed)
    index.add_items(data, np.arange(COUNT), num_threads=1)
    found = []
    for ef in EFS:
        index.set_ef(ef)
        found.append(recall(index.knn_query(queries, k=K, num_threads=2)[0], truth))
    return found


def vecindex_recalls(data, queries, truth, seed) -> list[float]:
    index = vecindex.Index(dim=DIM, metric="ip", M=M, ef_construction=EF_CONSTRUCTION, seed=seed)
    index.add(data, threads=1)
    found = []
    for ef in EFS:
        ids, distances = index.search(queries, k=K, ef=ef)
        # Reported distances are the exact negative inner products of the returned ids.
        np.testing.assert_allclose(distances, -np.einsum("qd,qkd->qk", queries, data[ids]), rtol=1e-4, atol=1e-4)
        found.append(recall(ids, truth))
    return found


@pytest.mark.parametrize("shape", ["gaussian", "clustered_varied_norms", "unit_norm"])
def test_ip_recall_matches_or_beats_hnswlib_at_every_ef(shape):
    ours, theirs = [], []
    for seed in SEEDS:
        data, queries = make_shape(shape, seed)
        truth, _ = brute_force(data, queries, K, "ip")
        ours.append(vecindex_recalls(data, queries, truth, seed))
        theirs.append(hnswlib_recalls(data, queries, truth, seed))
    ours, theirs = np.mean(ours, axis=0), np.mean(theirs, axis=0)
    for ef, mine, peer in zip(EFS, ours, theirs):
        assert mine >= peer, f"{shape} ef={ef}: vecindex recall {mine:.4f} < hnswlib {peer:.4f}"
    # Against brute force on its own: the largest ef finds almost every true neighbour.
    assert ours[-1] >= 0.99, f"{shape}: recall@{K} at ef={EFS[-1]} is {ours[-1]:.4f}"


@pytest.mark.parametrize("dtype, rerank", [("f32", False), ("f16", False), ("sq8", False), ("sq8", True)])
def test_ip_base_layer_lists_are_full_for_every_dtype(dtype, rerank):
    data, _ = make_shape("clustered_varied_norms", 1)
    degrees = {}
    for metric in ("ip", "l2"):
        index = vecindex.Index(dim=DIM, metric=metric, M=M, dtype=dtype, rerank=rerank)
        index.add(data[:1000], threads=2)
        degrees[metric] = index.stats()["mean_degree0"]
    assert degrees["ip"] == 2 * M
    # The usual pruning, which l2 keeps, leaves lists short on this data.
    assert degrees["l2"] < 2 * M


def test_compat_ip_index_matches_or_beats_hnswlib():
    data, queries = make_shape("gaussian", 3)
    truth, _ = brute_force(data, queries, K, "ip")
    results = {}
    for name, module in (("compat", compat), ("hnswlib", hnswlib)):
        index = module.Index(space="ip", dim=DIM)
        index.init_index(COUNT, M=M, ef_construction=EF_CONSTRUCTION, random_seed=3)
        index.add_items(data, np.arange(COUNT), num_threads=1)
        results[name] = []
        for ef in EFS:
            index.set_ef(ef)
            results[name].append(recall(index.knn_query(queries, k=K, num_threads=2)[0], truth))
    for ef, mine, peer in zip(EFS, results["compat"], results["hnswlib"]):
        assert mine >= peer, f"compat ef={ef}: recall {mine:.4f} < hnswlib {peer:.4f}"
