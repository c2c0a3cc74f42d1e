"""Filters as the driver sends them to every shard.

Everything a shard's ``Index.search`` understands goes as it is (F expressions, allow-lists,
callables, per-query lists), so each shard's planner decides by its own selectivity. A
boolean mask is turned into ids here: its length is checked against the largest id in the
whole index, which no single shard knows.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from vecindex.filters import Filter


def prepare_filter(filter: Any, queries: int, max_id: Callable[[], int], allow_per_query: bool = True,
                   string_keys: bool = False) -> Any:
    """``string_keys``: the shards are str-keyed; every filter goes as it is, and each shard's
    Index reads (or refuses) it, an allow-list of keys whole to every shard."""
    if string_keys:
        return filter
    if allow_per_query and isinstance(filter, list) and any(
            item is None or isinstance(item, (Filter, list, tuple, np.ndarray)) or callable(item) for item in filter):
        if len(filter) != queries:
            raise ValueError(f"got {len(filter)} filters for {queries} queries; pass one filter, or one per query")
        return [_one(item, max_id) for item in filter]
    return _one(filter, max_id)


def _one(filter: Any, max_id: Callable[[], int]) -> Any:
    if filter is None or isinstance(filter, Filter) or callable(filter):
        return filter
    if isinstance(filter, (list, tuple, np.ndarray, range)):
        array = np.asarray(filter)
        if array.dtype != np.bool_ or array.ndim != 1:
            return array
        needed = max_id() + 1
        if array.shape[0] < needed:
            raise ValueError(f"a boolean mask filter needs an entry for every id from 0 to the largest id "
                             f"({needed - 1}), i.e. at least {needed} entries; got {array.shape[0]}")
        return np.flatnonzero(array).astype(np.int64)
    raise TypeError(f"filter must be an F expression, an array of ids, a boolean mask, a callable or a list "
                    f"of those, not {type(filter).__name__}")
