"""Deterministic embeddings for the framework-store tests, with their exact distances."""
from __future__ import annotations

import hashlib

import numpy as np

DIM = 8


def embed_text(text: str, dim: int = DIM) -> list[float]:
    """A fixed pseudo-random unit vector per text, plus a shared direction per first word,
    so texts that start alike are near each other."""
    def unit(seed_text: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(seed_text.encode()).digest()[:8], "little")
        vector = np.random.default_rng(seed).standard_normal(dim)
        return vector / np.linalg.norm(vector)

    first = text.split()[0] if text.split() else ""
    vector = 0.8 * unit("topic:" + first) + 0.6 * unit(text)
    return (vector / np.linalg.norm(vector)).tolist()


def distances(metric: str, query, rows) -> np.ndarray:
    """The index's distance for each row: squared L2, negative inner product, 1 - cosine."""
    query = np.asarray(query, dtype=np.float64)
    rows = np.asarray(rows, dtype=np.float64)
    if metric == "l2":
        return ((rows - query) ** 2).sum(axis=1)
    if metric == "ip":
        return -(rows @ query)
    unit = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    return 1.0 - unit @ (query / np.linalg.norm(query))
