"""Merging the shards' top-k lists into one, vectorised over the whole batch."""
from __future__ import annotations

from typing import Sequence

import numpy as np

_PAD_LAST = np.iinfo(np.int64).max


def merge_topk(ids: Sequence[np.ndarray], distances: Sequence[np.ndarray], k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k nearest of each row over several (q, k) result pairs, nearest first.

    Equal distances are ordered by id, so the result does not depend on shard order; padding
    (id -1, distance +inf) sorts last. A full sort of the few (shards * k) columns costs less
    than argpartition's boundary handling would save, and keeps ties deterministic.
    """
    all_ids = np.concatenate(ids, axis=1)
    all_distances = np.concatenate(distances, axis=1)
    tie_break = np.where(all_ids < 0, _PAD_LAST, all_ids)
    order = np.lexsort((tie_break, all_distances), axis=1)[:, :k]
    return np.take_along_axis(all_ids, order, axis=1), np.take_along_axis(all_distances, order, axis=1)
