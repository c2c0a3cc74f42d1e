"""hnswlib's BFIndex: exact brute-force k-NN, used to measure an approximate index's recall.

Computed with numpy matrix products (BLAS picks its own threads, so num_threads is
accepted and ignored). Differences from hnswlib 0.8, on purpose: "cosine" normalises the
stored vectors as well as the queries (hnswlib's BFIndex normalises only the queries),
asking for more results than exist raises RuntimeError instead of returning garbage rows,
NaN or infinite values in data or queries raise ValueError (hnswlib stores and compares
them), and queries of the wrong dim raise RuntimeError (hnswlib reads past them).
"""
from __future__ import annotations

import json
import os
import zipfile

import numpy as np

import vecindex
from vecindex.compat import _hnswlib_inputs as inputs

_FORMAT_TAG = "vecindex.compat.hnswlib.BFIndex"
_QUERY_BLOCK_BYTES = 8 << 20  # (queries x elements) score block; small blocks stay in cache


class BFIndex:
    """Exact k-NN with hnswlib's BFIndex interface: ``BFIndex(space, dim)``, ``init_index(n)``."""

    def __init__(self, space, dim):
        self._space = inputs.check_space(space)
        self._dim = inputs.non_negative_int(dim, "dim")
        self._max_elements = None
        self._num_threads = inputs.default_thread_count()
        self._vectors = np.empty((0, self._dim), dtype=np.float32)
        self._labels = np.empty(0, dtype=np.int64)
        self._count = 0
        self._row_of: dict[int, int] = {}
        self._next_auto_label = 0  # as hnswlib: rows added by successful add_items calls

    def __repr__(self) -> str:
        return f"<hnswlib.BFIndex(space='{self._space}', dim={self._dim})>"

    def init_index(self, max_elements) -> None:
        if self._max_elements is not None:
            raise RuntimeError(inputs.MSG_ALREADY_INITIALISED)
        self._max_elements = inputs.non_negative_int(max_elements, "max_elements")

    def add_items(self, data, ids=None) -> None:
        """Store rows under ``ids`` (default: consecutive from the count); update existing ones."""
        self._require_init()
        rows = inputs.as_rows(data, self._dim, finite=True)
        if rows.shape[0] == 0:
            return
        labels = inputs.as_labels(ids, rows.shape[0], self._next_auto_label)
        if self._space == "cosine":
            rows = inputs.normalized(rows)
        for row, label in enumerate(labels.tolist()):
            slot = self._row_of.get(label)
            if slot is None:
                if self._count >= self._max_elements:
                    raise RuntimeError(inputs.MSG_LIMIT)
                slot = self._append_slot(label)
            self._vectors[slot] = rows[row]
        self._next_auto_label += rows.shape[0]

    def delete_vector(self, label) -> None:
        """Remove ``label``; an unknown label is ignored, as in hnswlib."""
        self._require_init()
        slot = self._row_of.pop(inputs.as_single_label(label), None)
        if slot is None:
            return
        last = self._count - 1
        if slot != last:  # move the last element into the hole to keep rows dense
            self._vectors[slot] = self._vectors[last]
            self._labels[slot] = self._labels[last]
            self._row_of[int(self._labels[slot])] = slot
        self._count = last

    def knn_query(self, data, k=1, num_threads=-1, filter=None):
        """Exact k nearest neighbours: ``(labels uint64 (n, k), distances float32 (n, k))``."""
        self._require_init()
        queries = inputs.as_rows(data, self._dim, finite=True)
        k = inputs.check_k(k)
        if self._space == "cosine":
            queries = inputs.normalized(queries)
        labels = np.empty((queries.shape[0], k), dtype=np.uint64)
        distances = np.empty((queries.shape[0], k), dtype=np.float32)
        if k == 0 or queries.shape[0] == 0:
            return labels, distances
        stored = self._vectors[: self._count]
        eligible = np.ones(self._count, dtype=bool)
        if filter is not None:
            eligible = np.fromiter((bool(filter(label)) for label in self._labels[: self._count]
                                    .tolist()), dtype=bool, count=self._count)
        candidates = np.flatnonzero(eligible)
        if candidates.shape[0] < k:
            raise RuntimeError(inputs.MSG_NOT_CONTIGUOUS)
        stored = stored[candidates]
        norms = np.einsum("ij,ij->i", stored, stored) if self._space == "l2" else None
        block = max(1, _QUERY_BLOCK_BYTES // (4 * max(1, stored.shape[0])))
        for start in range(0, queries.shape[0], block):
            stop = min(start + block, queries.shape[0])
            picked, picked_distances = self._exact_top_k(queries[start:stop], stored, norms, k)
            labels[start:stop] = self._labels[candidates[picked]].astype(np.uint64)
            distances[start:stop] = picked_distances
        return labels, distances

    def _exact_top_k(self, queries: np.ndarray, stored: np.ndarray, norms, k: int):
        # Rank with one matrix product, then recompute the chosen distances directly so the
        # reported values do not carry the cancellation error of |x|^2 - 2 q.x + |q|^2.
        scores = queries @ stored.T
        if self._space == "l2":  # rank by |x|^2 - 2 q.x; |q|^2 is the same for the whole row
            scores *= np.float32(-2.0)
            scores += norms[None, :]
        else:
            np.negative(scores, out=scores)
        if k < scores.shape[1]:
            picked = np.argpartition(scores, k - 1, axis=1)[:, :k]
        else:
            picked = np.broadcast_to(np.arange(scores.shape[1]), scores.shape).copy()
        chosen = stored[picked]
        if self._space == "l2":
            difference = chosen - queries[:, None, :]
            exact = np.einsum("qkd,qkd->qk", difference, difference)
        else:
            exact = 1.0 - np.einsum("qkd,qd->qk", chosen, queries)
        order = np.argsort(exact, axis=1, kind="stable")
        return (np.take_along_axis(picked, order, axis=1),
                np.take_along_axis(exact, order, axis=1).astype(np.float32))

    def get_current_count(self) -> int:
        self._require_init()
        return self._count

    def get_max_elements(self) -> int:
        self._require_init()
        return self._max_elements

    def set_num_threads(self, num_threads) -> None:
        self._num_threads = inputs.thread_count(num_threads)

    @property
    def num_threads(self) -> int:
        return self._num_threads

    @num_threads.setter
    def num_threads(self, value) -> None:
        self.set_num_threads(value)

    space = property(lambda self: self._space)
    dim = property(lambda self: self._dim)

    def save_index(self, path_to_index) -> None:
        """Write the vectors and labels to one ``.npz``-format file."""
        self._require_init()
        meta = {"format": _FORMAT_TAG, "version": 1, "space": self._space, "dim": self._dim,
                "max_elements": self._max_elements}
        with open(os.fspath(path_to_index), "wb") as stream:
            np.savez(stream, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
                     vectors=self._vectors[: self._count], labels=self._labels[: self._count])

    def load_index(self, path_to_index, max_elements=0) -> None:
        """Replace the contents with a file from save_index."""
        path = os.fspath(path_to_index)
        max_elements = inputs.non_negative_int(max_elements, "max_elements")
        if not os.path.isfile(path):
            raise RuntimeError("Cannot open file")
        if not zipfile.is_zipfile(path):
            raise vecindex.FormatError(f"{path} is not a vecindex.compat.hnswlib BFIndex file")
        try:
            with np.load(path, allow_pickle=False) as archive:
                meta = json.loads(bytes(archive["meta"]).decode())
                vectors = np.asarray(archive["vectors"], dtype=np.float32)
                labels = np.asarray(archive["labels"], dtype=np.int64)
        except (KeyError, ValueError, zipfile.BadZipFile, UnicodeDecodeError) as error:
            raise vecindex.FormatError(f"{path}: damaged BFIndex file ({error})")
        if (not isinstance(meta, dict) or meta.get("format") != _FORMAT_TAG
                or (meta.get("space"), meta.get("dim")) != (self._space, self._dim)
                or vectors.shape != (labels.shape[0], self._dim)
                or np.unique(labels).shape[0] != labels.shape[0]):
            raise vecindex.FormatError(
                f"{path}: not a space={self._space!r} dim={self._dim} BFIndex file")
        self._vectors, self._labels, self._count = vectors.copy(), labels.copy(), labels.shape[0]
        self._row_of = {label: row for row, label in enumerate(labels.tolist())}
        self._next_auto_label = self._count
        saved_capacity = max(int(meta.get("max_elements", 0)), self._count)
        self._max_elements = max_elements if max_elements >= self._count else saved_capacity

    def _append_slot(self, label: int) -> int:
        if self._count == self._vectors.shape[0]:
            capacity = min(self._max_elements, max(16, 2 * self._count))
            self._vectors = _grown(self._vectors, capacity)
            self._labels = _grown(self._labels, capacity)
        slot = self._count
        self._labels[slot] = label
        self._row_of[label] = slot
        self._count += 1
        return slot

    def _require_init(self) -> None:
        if self._max_elements is None:
            raise RuntimeError(inputs.MSG_NOT_INITIALISED)


def _grown(array: np.ndarray, capacity: int) -> np.ndarray:
    bigger = np.empty((capacity,) + array.shape[1:], dtype=array.dtype)
    bigger[: array.shape[0]] = array
    return bigger
