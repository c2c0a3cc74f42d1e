"""Build each library's index, then sweep ef and measure recall and QPS.

Searches are interleaved: each round times every (library, ef) once, and the best of all rounds is
kept. On a shared machine a burst of background load then hurts every library alike, instead of
whichever library happened to be running at the time.
"""
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
    clock: str = "wall"  # which clock gives "qps": wall, or cpu (process CPU time)
    warmup_queries: int = WARMUP_QUERIES  # untimed call opening each library's turn in a round


def _record_failure(name: str, result: dict, error: Exception, log) -> None:
    log(f"[{name}] FAILED: {error!r}")
    result["error"] = "".join(traceback.format_exception_only(type(error), error)).strip()
    result["traceback"] = traceback.format_exc()


def build_library(adapter_class, dataset, params: BenchParams, log=print):
    """(adapter, result): adapter is None when the library is skipped or its build failed; the
    failure is recorded in result rather than raised, so other libraries still get measured."""
    reason = adapter_class.unavailable_reason()
    if reason is not None:
        log(f"[{adapter_class.name}] skipped: {reason}")
        return None, {"skipped": reason}
    result: dict = {"version": adapter_class.version()}
    adapter = adapter_class(dataset.metric, dataset.dim)
    gc.collect()
    try:
        start, start_cpu = time.perf_counter(), time.process_time()
        adapter.build(dataset.train, params.M, params.ef_construction, params.build_threads)
        result["build_seconds"] = time.perf_counter() - start
        result["build_cpu_seconds"] = time.process_time() - start_cpu  # summed over threads
        result["index_bytes"] = adapter.index_bytes()
        result["config"] = adapter.config
        adapter.search(dataset.test[:WARMUP_QUERIES], params.k, params.efs[0], params.threads)
    except Exception as error:  # noqa: BLE001 - a library failure is data, not a crash
        _record_failure(adapter_class.name, result, error, log)
        return None, result
    log(f"[{adapter_class.name} {result['version']}] built in {result['build_seconds']:.2f}s "
        f"({params.build_threads} threads), index {result['index_bytes'] / 2**20:.1f} MiB")
    return adapter, result


def measure_point(dataset, ids: np.ndarray, wall_seconds: float, cpu_seconds: float, ef: int,
                  k: int, clock: str = "wall") -> dict:
    """One sweep point. Both clocks are kept: wall time is what users see; process CPU time
    barely moves when other jobs share the cores (for 1-thread search), so it is the steadier
    number on a busy machine. `qps` is the one chosen by `clock`."""
    if ids.shape != (dataset.test.shape[0], k):
        raise ValueError(f"search returned shape {ids.shape}; expected {(dataset.test.shape[0], k)}")
    true_distances = groundtruth.distances_to(dataset.train, dataset.test, ids, dataset.metric)
    return {"ef": ef,
            "recall": metrics.recall_by_distance(true_distances, dataset.gt_distances, k),
            "recall_ids": metrics.recall_by_ids(ids, dataset.gt_ids, k),
            "qps": dataset.test.shape[0] / (cpu_seconds if clock == "cpu" else wall_seconds),
            "qps_wall": dataset.test.shape[0] / wall_seconds,
            "qps_cpu": dataset.test.shape[0] / max(cpu_seconds, 1e-9),
            "wall_seconds": wall_seconds, "cpu_seconds": cpu_seconds}


def sweep(adapters: dict, results: dict, dataset, params: BenchParams, log=print) -> None:
    """Time every (library, ef) once per round at params.threads; fill results[name]."""
    sweep_thread_counts(adapters, {params.threads: results}, dataset, params, log)


def sweep_thread_counts(adapters: dict, results_by_threads: dict, dataset, params: BenchParams,
                        log=print) -> None:
    """Time every (library, ef, thread count) once per round; keep each one's best time; fill
    results_by_threads[threads][name].

    The thread counts alternate inside each round, point by point, so a multi-thread QPS and the
    1-thread QPS it is divided by are measured seconds apart, under the same load. Timing
    whole sweeps one after the other let a quiet spell favour whichever count ran in it."""
    counts = list(results_by_threads)
    # Results of a given ef do not change between rounds, so recall comes from the first round.
    wall = {(t, name, ef): float("inf") for t in counts for name in adapters for ef in params.efs}
    cpu = dict(wall)
    found_ids: dict = {}
    failed = set()
    for round_index in range(params.repeats):
        for name, adapter in adapters.items():
            if name in failed:
                continue
            try:
                # Untimed, each time a library's turn comes: the library before it has just
                # filled the caches with its own index, which cost the first timed point (the
                # lowest ef, a call of a few ms for the fastest libraries) up to 7% of its QPS.
                if params.warmup_queries:
                    adapter.search(dataset.test[:params.warmup_queries], params.k, params.efs[0], counts[0])
                for ef in params.efs:
                    for threads in counts:
                        key = (threads, name, ef)
                        start, start_cpu = time.perf_counter(), time.process_time()
                        ids = adapter.search(dataset.test, params.k, ef, threads)
                        cpu[key] = min(cpu[key], time.process_time() - start_cpu)
                        wall[key] = min(wall[key], time.perf_counter() - start)
                        found_ids.setdefault(key, ids)
            except Exception as error:  # noqa: BLE001
                for results in results_by_threads.values():
                    _record_failure(name, results[name], error, log)
                failed.add(name)
        log(f"round {round_index + 1}/{params.repeats} done")

    for threads, results in results_by_threads.items():
        for name in adapters:
            if name in failed:
                continue
            try:
                points = [measure_point(dataset, found_ids[threads, name, ef], wall[threads, name, ef],
                                        cpu[threads, name, ef], ef, params.k, params.clock)
                          for ef in params.efs]
            except Exception as error:  # noqa: BLE001
                _record_failure(name, results[name], error, log)
                continue
            results[name]["points"] = points
            results[name]["qps_at_recall"] = metrics.qps_at_targets(points)
            for clock in ("wall", "cpu"):
                results[name][f"qps_at_recall_{clock}"] = metrics.qps_at_targets(points, key=f"qps_{clock}")


def run_libraries(adapter_classes: list, dataset, params: BenchParams, log=print) -> dict:
    """Build all, sweep all (interleaved), free all. Returns {name: result}."""
    adapters, results = {}, {}
    for adapter_class in adapter_classes:
        adapter, results[adapter_class.name] = build_library(adapter_class, dataset, params, log)
        if adapter is not None:
            adapters[adapter_class.name] = adapter
    sweep(adapters, results, dataset, params, log)
    adapters.clear()
    gc.collect()
    return results
