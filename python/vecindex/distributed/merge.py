"""Merging the shards' top-k lists into one, vectorised over the whole batch."""
from __future__ import annotations

from typing import Sequence

import numpy as np

_PAD_LAST = np.iinfo(np.int64).max


def merge_topk(ids: Sequence[np.ndarray], distances: Sequence[np.ndarray], k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k nearest of each row over several (q, k) result pairs, nearest first.

    Equal distances are ordered by id (str keys: by key), so the result does not depend on shard order; padding
    (id -1 or key None, distance +inf) sorts last. A full sort of the few (shards * k) columns costs less
    than argpartition's boundary handling would save, and keeps ties deterministic.
    """
    all_ids = np.concatenate(ids, axis=1)
    all_distances = np.concatenate(distances, axis=1)
    tie_break = _key_ranks(all_ids) if all_ids.dtype == object else np.where(all_ids < 0, _PAD_LAST, all_ids)
    order = np.lexsort((tie_break, all_distances), axis=1)[:, :k]
    return np.take_along_axis(all_ids, order, axis=1), np.take_along_axis(all_distances, order, axis=1)


def _key_ranks(keys: np.ndarray) -> np.ndarray:
    """For str keys (padding None): each key's rank in sorted order, so ties break by key; None last."""
    flat = keys.ravel()
    present = np.fromiter((key is not None for key in flat), dtype=bool, count=flat.size)
    ranks = np.full(flat.size, _PAD_LAST, dtype=np.int64)
    if present.any():
        _, ranks[present] = np.unique(flat[present].astype(str), return_inverse=True)
    return ranks.reshape(keys.shape)
