"""Shared fixtures: small seeded clustered data and brute-force references.

Also registers the skip policy (tests/skip_policy.py): with VECINDEX_STRICT_SKIPS=1, as
.ci/run sets it, a skip whose reason is not on its allow-list fails the session.
"""
from __future__ import annotations

import numpy as np
import pytest

import skip_policy


def pytest_configure(config):
    skip_policy.register_if_strict(config)


def clustered(n: int, dim: int, seed: int, clusters: int = 20, spread: float = 0.35) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(clusters, dim))
    labels = rng.integers(0, clusters, size=n)
    return (centers[labels] + spread * rng.normal(size=(n, dim))).astype(np.float32)


def brute_force(data: np.ndarray, queries: np.ndarray, k: int, metric: str) -> tuple[np.ndarray, np.ndarray]:
    data64 = data.astype(np.float64)
    queries64 = queries.astype(np.float64)
    if metric == "l2":
        dist = (queries64**2).sum(1)[:, None] - 2 * queries64 @ data64.T + (data64**2).sum(1)[None, :]
    elif metric == "ip":
        dist = -queries64 @ data64.T
    elif metric == "cosine":
        dn = data64 / np.maximum(np.linalg.norm(data64, axis=1, keepdims=True), 1e-30)
        qn = queries64 / np.maximum(np.linalg.norm(queries64, axis=1, keepdims=True), 1e-30)
        dist = 1 - qn @ dn.T
    else:
        raise ValueError(metric)
    order = np.argsort(dist, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(dist, order, axis=1)


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    k = truth.shape[1]
    return float(np.mean([len(set(found[i]) & set(truth[i])) / k for i in range(len(truth))]))


@pytest.fixture(scope="module")
def ray_runtime():
    """A local 2-CPU Ray runtime for one test module (Ray imported only by modules that use it).
    address="local" starts a fresh runtime even when another Ray cluster runs on the machine
    (a plain ray.init would join that one and refuse num_cpus)."""
    import ray

    if ray.is_initialized():
        ray.shutdown()
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="session")
def small_data() -> tuple[np.ndarray, np.ndarray]:
    return clustered(3000, 32, seed=1), clustered(100, 32, seed=2)
