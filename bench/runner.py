"""Benchmark one library on one dataset: build once, then sweep ef and measure recall and QPS."""
from __future__ import annotations

import gc
import time
import traceback
from dataclasses import dataclass

import numpy as np

from bench import groundtruth, metrics

# Queries in the untimed warm-up search: enough to fault in the index pages and lazy state.
WARMUP_QUERIES = 100


@dataclass
class BenchParams:
    M: int = 16
    ef_construction: int = 200
    k: int = 10
    efs: tuple[int, ...] = (10, 16, 24, 32, 48, 64, 96, 128, 192, 256)
    threads: int = 1
    build_threads: int = 2
    repeats: int = 3


def _timed_search(adapter, queries, params: BenchParams, ef: int) -> tuple[np.ndarray, float]:
    """Best wall time over `repeats` batch searches: the minimum is the least noisy estimate of
    what the code costs, the rest is interference from the machine."""
    best, ids = float("inf"), None
    for _ in range(params.repeats):
        start = time.perf_counter()
        ids = adapter.search(queries, params.k, ef, params.threads)
        best = min(best, time.perf_counter() - start)
    return ids, best


def measure_point(dataset, ids: np.ndarray, seconds: float, ef: int, k: int) -> dict:
    if ids.shape != (dataset.test.shape[0], k):
        raise ValueError(f"search returned shape {ids.shape}; expected {(dataset.test.shape[0], k)}")
    true_distances = groundtruth.distances_to(dataset.train, dataset.test, ids, dataset.metric)
    return {"ef": ef,
            "recall": metrics.recall_by_distance(true_distances, dataset.gt_distances, k),
            "recall_ids": metrics.recall_by_ids(ids, dataset.gt_ids, k),
            "qps": dataset.test.shape[0] / seconds,
            "seconds": seconds}


def run_library(adapter_class, dataset, params: BenchParams, log=print) -> dict:
    """Result dict for one library; a failure is recorded (with its message) instead of raised,
    so one broken library does not lose the other libraries' numbers."""
    reason = adapter_class.unavailable_reason()
    if reason is not None:
        log(f"[{adapter_class.name}] skipped: {reason}")
        return {"skipped": reason}
    result: dict = {"version": adapter_class.version()}
    adapter = adapter_class(dataset.metric, dataset.dim)
    gc.collect()
    try:
        start = time.perf_counter()
        adapter.build(dataset.train, params.M, params.ef_construction, params.build_threads)
        result["build_seconds"] = time.perf_counter() - start
        result["index_bytes"] = adapter.index_bytes()
        result["config"] = adapter.config
        log(f"[{adapter_class.name} {result['version']}] built in {result['build_seconds']:.2f}s "
            f"({params.build_threads} threads), index {result['index_bytes'] / 2**20:.1f} MiB")

        adapter.search(dataset.test[:WARMUP_QUERIES], params.k, params.efs[0], params.threads)
        points = []
        for ef in params.efs:
            ids, seconds = _timed_search(adapter, dataset.test, params, ef)
            point = measure_point(dataset, ids, seconds, ef, params.k)
            points.append(point)
            log(f"[{adapter_class.name}] ef={ef:<4} recall={point['recall']:.4f} "
                f"qps={point['qps']:,.0f}")
        result["points"] = points
        result["qps_at_recall"] = metrics.qps_at_targets(points)
    except Exception as error:  # noqa: BLE001 - any library failure is data, not a crash
        log(f"[{adapter_class.name}] FAILED: {error!r}")
        result["error"] = "".join(traceback.format_exception_only(type(error), error)).strip()
        result["traceback"] = traceback.format_exc()
    finally:
        del adapter
        gc.collect()
    return result
