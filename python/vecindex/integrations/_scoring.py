"""Relevance scores in [0, 1] from each metric's distances, and maximal marginal relevance.

LangChain's ``similarity_score_threshold`` retriever and LlamaIndex's ``similarities`` want
"higher is more similar" scores between 0 and 1:

- ``"cosine"``: distance ``d = 1 - cos`` lies in [0, 2]; score ``1 - d / 2 = (1 + cos) / 2``.
- ``"ip"``: distance ``d = -<q, x>``; score ``(1 - d) / 2`` clipped to [0, 1], which is
  ``(1 + cos) / 2`` for unit-length embeddings (the usual case for inner product).
- ``"l2"``: squared distance ``d >= 0``; score ``1 / (1 + d)``, 1 for an exact match and
  falling towards 0, whatever the embeddings' scale.
"""
from __future__ import annotations

from typing import Callable

import numpy as np


def _cosine(distance: float) -> float:
    return min(1.0, max(0.0, 1.0 - distance / 2.0))


def _inner_product(distance: float) -> float:
    return min(1.0, max(0.0, (1.0 - distance) / 2.0))


def _l2(distance: float) -> float:
    return 1.0 / (1.0 + max(0.0, distance))


RELEVANCE = {"cosine": _cosine, "ip": _inner_product, "l2": _l2}


def relevance_fn(metric: str) -> Callable[[float], float]:
    return RELEVANCE[metric]


def mmr(query, candidates, k: int, lambda_mult: float) -> list[int]:
    """Positions in ``candidates`` (rows, nearest first) picked by maximal marginal relevance.

    Each step takes the candidate maximising ``lambda_mult * sim(query, c) - (1 - lambda_mult)
    * max sim(c, already picked)``, with cosine similarity, so ``lambda_mult=1`` is plain
    relevance order and ``0`` is maximal diversity.
    """
    if not 0.0 <= lambda_mult <= 1.0:
        raise ValueError(f"lambda_mult must be between 0 and 1, not {lambda_mult}")
    rows = np.asarray(candidates, dtype=np.float64)
    if rows.shape[0] == 0 or k < 1:
        return []
    query = np.asarray(query, dtype=np.float64)
    unit = rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
    relevance = unit @ (query / max(np.linalg.norm(query), 1e-12))
    picked: list[int] = []
    closest = np.full(rows.shape[0], -np.inf)  # max similarity to anything picked so far
    available = np.ones(rows.shape[0], dtype=bool)
    while len(picked) < min(k, rows.shape[0]):
        redundancy = np.where(np.isfinite(closest), closest, 0.0)
        score = lambda_mult * relevance - (1.0 - lambda_mult) * redundancy
        score[~available] = -np.inf
        best = int(np.argmax(score))
        picked.append(best)
        available[best] = False
        closest = np.maximum(closest, unit @ unit[best])
    return picked
