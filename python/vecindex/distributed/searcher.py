"""Offline batch search over a Ray Dataset: ``ds.map_batches(index.searcher(k=10, vector_column=...))``."""
from __future__ import annotations

import numpy as np

from vecindex._validation import as_matrix, check_positive_int
from vecindex.distributed import fanout
from vecindex.distributed.actor import search_batch
from vecindex.distributed.errors import ShardUnavailable
from vecindex.distributed.merge import merge_topk
from vecindex.distributed.search_filters import prepare_filter

_SEARCH_KEYS = ("ef", "rerank_factor", "filter", "strategy")


class BatchSearcher:
    """Searches each batch's vector column on every shard; adds ``neighbour_ids`` (int64, (n, k);
    str keys in an object array for ``keys="str"``) and ``neighbour_distances`` (float32) columns. Picklable: it holds only actor handles."""

    def __init__(self, actors: list, dim: int, k: int, vector_column: str, search_params: dict,
                 default_rerank_factor: int, timeout: float, string_keys: bool = False):
        unknown = set(search_params) - set(_SEARCH_KEYS)
        if unknown:
            raise TypeError(f"searcher() got unexpected search parameters {sorted(unknown)}; it takes {_SEARCH_KEYS}")
        if not isinstance(vector_column, str):
            raise TypeError(f"vector_column must be a column name, not {type(vector_column).__name__}")
        self.actors, self.dim, self.vector_column, self.timeout = list(actors), dim, vector_column, timeout
        self.k = check_positive_int(k, "k", 1, 100000)
        self.ef = search_params.get("ef")
        self.rerank_factor = search_params.get("rerank_factor") or default_rerank_factor
        self.filter = search_params.get("filter")
        self.strategy = search_params.get("strategy", "auto")
        self.string_keys = string_keys

    def __call__(self, batch: dict) -> dict:
        if self.vector_column not in batch:
            raise KeyError(f"batch has no column {self.vector_column!r}; columns: {sorted(batch)}")
        queries, _ = as_matrix(stack_vectors(batch[self.vector_column]), self.dim, "queries")
        prepared = prepare_filter(self.filter, queries.shape[0], self._max_id, string_keys=self.string_keys)
        shared = search_batch(queries, prepared, self.k, self.ef, self.rerank_factor, self.strategy, None)
        outcome = fanout.call(self.actors, "search", None, None, (shared,), self.timeout)
        outcome.raise_user_error()
        if outcome.down:
            raise ShardUnavailable(list(outcome.down), outcome.down, {})
        shards = sorted(outcome.values)
        ids, distances = merge_topk([outcome.values[s][0] for s in shards], [outcome.values[s][1] for s in shards],
                                    self.k)
        out = dict(batch)
        out["neighbour_ids"], out["neighbour_distances"] = ids, distances
        return out

    def _max_id(self) -> int:
        outcome = fanout.call(self.actors, "max_id", None, None, (), self.timeout)
        return max(outcome.values.values())


def stack_vectors(column) -> np.ndarray:
    """A vector column as one 2-D array: tensor columns already are; list columns are stacked."""
    array = np.asarray(column) if not isinstance(column, np.ndarray) else column
    if array.dtype == object:
        return np.stack([np.asarray(row, dtype=np.float32) for row in array]) if len(array) else np.empty((0, 0))
    return array


