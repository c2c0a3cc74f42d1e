"""Exact nearest neighbours by brute force (numpy), cached on disk keyed by the data's content.

Distances follow the ann-benchmarks conventions (see datasets.py), so computed ground truth can be
compared with ground truth read from a file.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

# Enough neighbours to evaluate any k up to this without recomputing.
DEFAULT_GT_K = 100
# Queries per brute-force block: bounds the (block, n) score matrix to a few hundred MB at n=1M.
QUERY_BLOCK = 64


def normalized(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0  # a zero vector stays zero rather than becoming NaN
    return np.ascontiguousarray(vectors / norms, dtype=np.float32)


def _scores(train: np.ndarray, train_sq_norms: np.ndarray | None, queries: np.ndarray,
            metric: str) -> np.ndarray:
    """Ranking scores, lower is nearer; monotone in the true distance but cheaper to compute."""
    dots = queries @ train.T
    if metric == "l2":
        return train_sq_norms[None, :] - 2.0 * dots  # |q|^2 is constant per row
    return -dots  # ip, and cosine on normalized inputs


def distances_to(train: np.ndarray, queries: np.ndarray, ids: np.ndarray, metric: str) -> np.ndarray:
    """True distances from each query to the given train ids, shape of ids; +inf where id < 0."""
    safe = np.where(ids < 0, 0, ids)
    gathered = train[safe]                                # (q, k, dim)
    if metric == "l2":
        diff = gathered - queries[:, None, :]
        result = np.sqrt(np.einsum("qkd,qkd->qk", diff, diff))
    elif metric == "ip":
        result = -np.einsum("qkd,qd->qk", gathered, queries)
    else:
        result = 1.0 - np.einsum("qkd,qd->qk", normalized(gathered.reshape(-1, train.shape[1]))
                                 .reshape(gathered.shape), normalized(queries))
    result = result.astype(np.float32)
    result[ids < 0] = np.inf
    return result


def brute_force(train: np.ndarray, queries: np.ndarray, metric: str, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k ids (int64) and distances (float32), nearest first."""
    k = min(k, train.shape[0])
    if metric == "cosine":
        train, queries = normalized(train), normalized(queries)
    sq_norms = np.einsum("nd,nd->n", train, train) if metric == "l2" else None
    ids = np.empty((queries.shape[0], k), dtype=np.int64)
    for start in range(0, queries.shape[0], QUERY_BLOCK):
        block = queries[start:start + QUERY_BLOCK]
        scores = _scores(train, sq_norms, block, metric)
        top = np.argpartition(scores, k - 1, axis=1)[:, :k]
        order = np.argsort(np.take_along_axis(scores, top, axis=1), axis=1, kind="stable")
        ids[start:start + len(block)] = np.take_along_axis(top, order, axis=1)
    # Re-rank with exact distances: the expanded-form l2 score loses precision for close pairs.
    distances = distances_to(train, queries, ids, metric)
    order = np.argsort(distances, axis=1, kind="stable")
    return np.take_along_axis(ids, order, axis=1), np.take_along_axis(distances, order, axis=1)


def _fingerprint(train: np.ndarray, queries: np.ndarray, metric: str, k: int) -> str:
    digest = hashlib.blake2b(digest_size=12)
    for array in (train, queries):
        digest.update(str(array.shape).encode())
        digest.update(np.ascontiguousarray(array).data)
    digest.update(f"{metric}:{k}".encode())
    return digest.hexdigest()


def ensure(dataset, k: int, cache_dir: Path | None) -> None:
    """Fill dataset.gt_ids/gt_distances with at least k columns, computing (and caching) if needed."""
    if dataset.gt_ids is not None and dataset.gt_ids.shape[1] >= k:
        if dataset.gt_distances is None:
            dataset.gt_distances = distances_to(dataset.train, dataset.test, dataset.gt_ids,
                                                dataset.metric)
        return
    gt_k = max(k, DEFAULT_GT_K)
    cache_file = None
    if cache_dir is not None:
        key = _fingerprint(dataset.train, dataset.test, dataset.metric, gt_k)
        cache_file = Path(cache_dir) / f"gt-{dataset.name}-{key}.npz"
        if cache_file.exists():
            cached = np.load(cache_file)
            dataset.gt_ids, dataset.gt_distances = cached["ids"], cached["distances"]
            dataset.notes["ground_truth"] = f"cache {cache_file}"
            return
    dataset.gt_ids, dataset.gt_distances = brute_force(dataset.train, dataset.test, dataset.metric, gt_k)
    dataset.notes["ground_truth"] = "brute force (numpy)"
    if cache_file is not None:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        temp = cache_file.with_suffix(".tmp.npz")
        np.savez(temp, ids=dataset.gt_ids, distances=dataset.gt_distances)
        temp.replace(cache_file)
