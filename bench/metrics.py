"""Recall, the recall/QPS Pareto frontier, and QPS interpolated at fixed recall targets."""
from __future__ import annotations

import math

import numpy as np

RECALL_TARGETS = (0.90, 0.95, 0.99)


def recall_by_ids(found_ids: np.ndarray, gt_ids: np.ndarray, k: int) -> float:
    """Mean fraction of the true top-k ids that were returned; ties between equal distances count
    as misses, so this is a lower bound on data with duplicate vectors."""
    found = found_ids[:, :k]
    truth = gt_ids[:, :k]
    hits = (found[:, :, None] == truth[:, None, :]).any(axis=2) & (found >= 0)
    return float(hits.sum() / (truth.shape[0] * k))


def recall_by_distance(found_true_distances: np.ndarray, gt_distances: np.ndarray, k: int) -> float:
    """ann-benchmarks recall: a returned neighbour counts if its true distance is within the
    k-th true distance (plus a small tolerance), so equally near duplicates are not misses.

    found_true_distances must be recomputed exactly (groundtruth.distances_to), not the library's
    own reported distances, whose units differ between libraries (squared l2, 1-ip, ...)."""
    kth = gt_distances[:, k - 1].astype(np.float64)
    tolerance = np.maximum(1e-3, 1e-5 * np.abs(kth))
    within = found_true_distances[:, :k] <= (kth + tolerance)[:, None]
    counts = np.minimum(within.sum(axis=1), k)
    return float(counts.sum() / (gt_distances.shape[0] * k))


def pareto_frontier(points: list[dict], key: str = "qps") -> list[dict]:
    """Points not beaten on both recall and QPS (points[i][key]) by another point, ordered by
    increasing recall."""
    ordered = sorted(points, key=lambda p: (-p["recall"], -p[key]))
    frontier, best_qps = [], -math.inf
    for point in ordered:  # from highest recall down, keep points that raise the best QPS so far
        if point[key] > best_qps:
            frontier.append(point)
            best_qps = point[key]
    return frontier[::-1]


def qps_at_recall(points: list[dict], target: float, key: str = "qps") -> float | None:
    """QPS reachable at `target` recall, interpolated along the frontier (log-QPS linear in recall).

    None when no point reaches the target: we never extrapolate. When every frontier point is at
    or above the target, the fastest of them is the answer (a conservative value)."""
    frontier = pareto_frontier(points, key)
    above = [p for p in frontier if p["recall"] >= target]
    if not above:
        return None
    high = above[0]  # the lowest-recall, hence fastest, point that reaches the target
    below = [p for p in frontier if p["recall"] < target]
    if not below:
        return float(high[key])
    low = below[-1]
    fraction = (target - low["recall"]) / (high["recall"] - low["recall"])
    log_qps = math.log(low[key]) + fraction * (math.log(high[key]) - math.log(low[key]))
    return float(math.exp(log_qps))


def qps_at_targets(points: list[dict], targets=RECALL_TARGETS, key: str = "qps") -> dict[str, float | None]:
    return {f"{target:.2f}": qps_at_recall(points, target, key) for target in targets}


def speed_ratios(ours: dict[str, float | None], peer: dict[str, float | None]) -> dict[str, float | None]:
    """ours / peer QPS at each recall target; None where either side did not reach it."""
    return {target: (ours[target] / peer[target] if ours.get(target) and peer.get(target) else None)
            for target in ours}
