"""k-NN search that honours an hnswlib-style ``filter=`` callable.

hnswlib calls the filter inside its graph walk. The core index has no Python-callable
filter, so the compat layer asks the core for more neighbours than needed and drops the
ones the filter rejects. If a row is still short of k, the request doubles until it covers
the whole index (or the core's largest k). Results can only be better than hnswlib's,
which may come back short of k when few labels pass.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

LARGEST_CORE_K = 100_000  # vecindex.Index.search refuses larger k


def search_visible(core, queries: np.ndarray, k: int, ef: int, threads: int | None,
                   accept: Callable[[int], bool] | None):
    """Return core-convention ``(ids int64 (n, k), distances float32 (n, k))``.

    Rows with fewer than k results are padded with -1 and +inf.
    """
    row_count = queries.shape[0]
    labels = np.full((row_count, k), -1, dtype=np.int64)
    distances = np.full((row_count, k), np.inf, dtype=np.float32)
    population = len(core)
    if k == 0 or row_count == 0 or population == 0:
        return labels, distances
    largest_fetch = min(population, LARGEST_CORE_K)

    if accept is None:
        fetch = min(k, largest_fetch)
        found_ids, found_distances = _core_search(core, queries, fetch, ef, threads)
        labels[:, :fetch] = found_ids
        distances[:, :fetch] = found_distances
        return labels, distances

    fetch = min(largest_fetch, 2 * k)  # the filter's selectivity is unknown: start at 2k
    verdicts: dict[int, bool] = {}  # one filter call per label per knn_query
    pending = np.arange(row_count)
    while pending.shape[0]:
        found_ids, found_distances = _core_search(core, queries[pending], fetch, ef, threads)
        usable = _apply_filter(found_ids, found_ids >= 0, accept, verdicts)
        last_round = fetch >= largest_fetch
        still_short = []
        for position, row in enumerate(pending.tolist()):
            picked = np.flatnonzero(usable[position])[:k]
            if picked.shape[0] < k and not last_round:
                still_short.append(row)
                continue
            labels[row, :picked.shape[0]] = found_ids[position, picked]
            distances[row, :picked.shape[0]] = found_distances[position, picked]
        pending = np.asarray(still_short, dtype=np.int64)
        fetch = min(largest_fetch, fetch * 2)
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
