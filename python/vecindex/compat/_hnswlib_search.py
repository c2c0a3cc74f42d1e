"""k-NN search that skips hidden labels and honours an hnswlib-style filter callable.

hnswlib applies soft deletion and ``filter=`` inside its graph walk. The compat layer keeps
deleted labels itself (hnswlib's deletion can be undone, so the core's delete does not fit),
so it asks the core for more neighbours than needed and drops the ones it must not return.
If a row is still short of k, the request doubles until it covers the whole index.
"""
from __future__ import annotations

from typing import Callable

import numpy as np


def search_visible(core, queries: np.ndarray, k: int, ef: int, threads: int | None,
                   hidden: set[int] | None, accept: Callable[[int], bool] | None):
    """Return core-convention ``(ids int64 (n, k), distances float32 (n, k))``.

    Rows with fewer than k results are padded with -1 and +inf.
    """
    row_count = queries.shape[0]
    labels = np.full((row_count, k), -1, dtype=np.int64)
    distances = np.full((row_count, k), np.inf, dtype=np.float32)
    population = len(core)
    if k == 0 or row_count == 0 or population == 0:
        return labels, distances

    if hidden is None and accept is None:
        fetch = min(k, population)
        found_ids, found_distances = _core_search(core, queries, fetch, ef, threads)
        labels[:, :fetch] = found_ids
        distances[:, :fetch] = found_distances
        return labels, distances

    hidden_sorted = np.fromiter(hidden or (), dtype=np.int64)
    hidden_sorted.sort()
    # Enough when the core's answer is exact and no filter is given; a filter with
    # unknown selectivity starts at twice k and grows.
    wanted = k + hidden_sorted.shape[0]
    if accept is not None:
        wanted = max(wanted, 2 * k)
    fetch = min(population, wanted)
    verdicts: dict[int, bool] = {}  # one filter call per label per knn_query, as in hnswlib

    pending = np.arange(row_count)
    while pending.shape[0]:
        found_ids, found_distances = _core_search(core, queries[pending], fetch, ef, threads)
        usable = found_ids >= 0
        if hidden_sorted.shape[0]:
            usable &= ~np.isin(found_ids, hidden_sorted)
        if accept is not None:
            usable = _apply_filter(found_ids, usable, accept, verdicts)
        exhaustive = fetch >= population
        still_short = []
        for position, row in enumerate(pending.tolist()):
            picked = np.flatnonzero(usable[position])[:k]
            if picked.shape[0] < k and not exhaustive:
                still_short.append(row)
                continue
            labels[row, :picked.shape[0]] = found_ids[position, picked]
            distances[row, :picked.shape[0]] = found_distances[position, picked]
        pending = np.asarray(still_short, dtype=np.int64)
        fetch = min(population, fetch * 2)
    return labels, distances


def _core_search(core, queries, fetch, ef, threads):
    found_ids, found_distances = core.search(queries, fetch, ef=max(ef, fetch), threads=threads)
    return np.asarray(found_ids, dtype=np.int64), np.asarray(found_distances, dtype=np.float32)


def _apply_filter(found_ids, usable, accept, verdicts):
    """AND ``usable`` with the user's filter; exceptions from the filter propagate."""
    result = usable.copy()
    for row, column in zip(*np.nonzero(usable)):
        label = int(found_ids[row, column])
        verdict = verdicts.get(label)
        if verdict is None:
            verdict = verdicts[label] = bool(accept(label))
        result[row, column] = verdict
    return result
