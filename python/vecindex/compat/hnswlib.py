"""A drop-in replacement for hnswlib's Python API, built on vecindex.Index.

Change one import line and existing hnswlib code keeps working::

    from vecindex.compat import hnswlib     # was: import hnswlib

    index = hnswlib.Index(space="l2", dim=128)
    index.init_index(max_elements=10_000, ef_construction=200, M=16)
    index.add_items(data, ids)
    labels, distances = index.knn_query(queries, k=10)

What matches hnswlib 0.8: method names, parameters and defaults; return types (labels
uint64 (n, k), distances float32 (n, k)); distances in hnswlib's conventions (squared l2,
1 - dot for "ip", 1 - cos for "cosine"); capacity limits, soft deletion, replacement of
deleted elements and the RuntimeError messages for misuse, including "Cannot return the
results in a contiguous 2D array" when fewer than k results are found (set
``index.pad_missing_results = True`` to get padded rows instead).

Where it differs, on purpose:
  * calling a method before init_index()/load_index() raises RuntimeError (hnswlib crashes);
  * queries with the wrong number of columns raise RuntimeError (hnswlib reads past them);
  * labels must be below 2**63 (vecindex ids are non-negative int64);
  * NaN or infinite values raise ValueError (hnswlib stores them and returns nonsense);
  * labels hnswlib misreads without a word are refused: fractions (1.5 would be label 1),
    bools, strings, and get_items arrays that are 2-D other than an (n, 1) column (hnswlib
    reads the first n values of the flattened array); an (n, 1) column, as knn_query(k=1)
    returns, is n labels in both;
  * an empty batch given to add_items adds nothing (hnswlib raises IndexError), and an
    empty list of queries raises RuntimeError (hnswlib: IndexError);
  * a negative dim raises TypeError (hnswlib builds an index of dim -1);
  * save_index() writes vecindex's own container, not hnswlib's binary layout;
    load_index() reads both (an hnswlib file is migrated by rebuilding its graph);
  * ``filter=`` is applied to an over-fetched candidate list that grows until k labels
    pass, so filtered queries come back short of k less often than with hnswlib;
  * BFIndex "cosine" normalises stored vectors too (hnswlib 0.8 normalises only queries).
"""
from __future__ import annotations

import os
import tempfile

import numpy as np

import vecindex
from vecindex.compat import _hnswlib_inputs as inputs
from vecindex.compat._hnswlib_bf import BFIndex
from vecindex.compat._hnswlib_search import search_visible
from vecindex.compat import _hnswlib_file as index_file
from vecindex.compat import _hnswlib_native as native_file

__all__ = ["Index", "BFIndex", "MISSING_LABEL"]

_DEFAULT_EF = 10
_LARGEST_THREAD_COUNT = 4096  # vecindex.Index refuses more
MISSING_LABEL = np.iinfo(np.uint64).max  # pads short rows when pad_missing_results is set


class Index:
    """An HNSW index with hnswlib's interface: ``Index(space, dim)`` then ``init_index(...)``.

    ``space`` is "l2", "ip" or "cosine". Also accepted: ``Index(other_index)`` (a copy) and
    ``Index(state_dict)`` where the dict comes from ``other_index.__getstate__()``.
    """

    def __init__(self, space=None, dim=None, **kwargs):
        space = kwargs.pop("params", kwargs.pop("index", space))
        if kwargs:
            raise TypeError(f"unexpected keyword arguments: {sorted(kwargs)}")
        if isinstance(space, Index):
            space = space.__getstate__()
        if isinstance(space, dict):  # a copy: never share the core index with the source
            state = dict(space)
            if state.get("core") is not None:
                state["core"] = index_file.copy_core(state["core"])
            self.__setstate__(state)
            return
        if space is None or dim is None:
            raise TypeError("Index(space, dim) needs a space ('l2', 'ip', 'cosine') and a dim")
        self._space = inputs.check_space(space)
        self._dim = inputs.non_negative_int(dim, "dim")
        self._core = None
        self._max_elements = 0
        self._M = 0
        self._ef_construction = 0
        self._random_seed = 100
        self._allow_replace_deleted = False
        self._ef = _DEFAULT_EF
        self._num_threads = inputs.default_thread_count()
        # Labels the user sees (deleted ones included, as in hnswlib) and, for the ones
        # marked deleted, their vectors: a deleted label is removed from the core index so
        # searches skip it at no cost, and unmark_deleted() adds the vector back.
        self._labels: set[int] = set()
        self._deleted: dict[int, np.ndarray] = {}
        # hnswlib numbers unlabeled rows from a counter of rows added by successful
        # add_items calls (updates included), reset to the element count on load.
        self._next_auto_label = 0
        self.pad_missing_results = False

    def __repr__(self) -> str:
        return f"<hnswlib.Index(space='{self._space}', dim={self._dim})>"

    # ---- construction -------------------------------------------------------------------

    def init_index(self, max_elements, M=16, ef_construction=200, random_seed=100,
                   allow_replace_deleted=False) -> None:
        """Create an empty index with room for ``max_elements`` (grow it with resize_index)."""
        if self._core is not None:
            raise RuntimeError(inputs.MSG_ALREADY_INITIALISED)
        self._max_elements = inputs.non_negative_int(max_elements, "max_elements")
        self._M = inputs.non_negative_int(M, "M")
        self._ef_construction = inputs.non_negative_int(ef_construction, "ef_construction")
        self._random_seed = inputs.non_negative_int(random_seed, "random_seed")
        self._allow_replace_deleted = bool(allow_replace_deleted)
        self._core = vecindex.Index(self._dim, metric=inputs.core_metric(self._space),
                                    M=max(self._M, 2),
                                    ef_construction=max(self._ef_construction, 1),
                                    seed=self._random_seed)

    def resize_index(self, new_size) -> None:
        """Change the capacity; it may not drop below the current element count."""
        self._require_core()
        new_size = inputs.non_negative_int(new_size, "new_size")
        if new_size < len(self._labels):
            raise RuntimeError(inputs.MSG_RESIZE_TOO_SMALL)
        self._max_elements = new_size

    # ---- adding -------------------------------------------------------------------------

    def add_items(self, data, ids=None, num_threads=-1, replace_deleted=False) -> None:
        """Insert rows of ``data`` under ``ids`` (default: consecutive from the element count).

        An existing label has its vector updated. With ``replace_deleted=True`` (allowed
        only if the index was created with ``allow_replace_deleted=True``) new labels take
        the slots of deleted elements before using free capacity.
        """
        self._require_core()
        rows = inputs.as_rows(data, self._dim)
        if rows.shape[0] == 0:
            return
        labels = inputs.as_labels(ids, rows.shape[0], self._next_auto_label)
        if replace_deleted and not self._allow_replace_deleted:
            raise RuntimeError(inputs.MSG_REPLACE_DISABLED)
        if self._space == "cosine":
            rows = inputs.normalized(rows)
        undo: list = []
        written, error = self._plan_additions(labels.tolist(), bool(replace_deleted), undo)
        if written:
            try:
                self._write_core(rows[written], labels[written], num_threads)
            except BaseException:  # e.g. NaN in the data: leave the bookkeeping untouched
                for restore in reversed(undo):
                    restore()
                raise
        if error is not None:
            raise RuntimeError(error)
        self._next_auto_label += rows.shape[0]

    def _plan_additions(self, labels, replace_deleted, undo):
        """Apply hnswlib's per-row rules to the label sets; return rows to write and an error.

        Rows are handled in order and the first failing row stops the batch, so the rows
        before it are kept, as in hnswlib. ``undo`` collects callables that revert each
        bookkeeping change. Deleted labels are already out of the core index, so reviving
        one or giving its slot to a new label needs no core call beyond the add itself.
        """

        def forget_deleted(label: int) -> None:
            vector = self._deleted.pop(label)
            undo.append(lambda: self._deleted.__setitem__(label, vector))

        def add_label(label: int) -> None:
            self._labels.add(label)
            undo.append(lambda: self._labels.discard(label))

        written: list[int] = []
        for row, label in enumerate(labels):
            if label in self._labels:
                if label in self._deleted:
                    if self._allow_replace_deleted and not replace_deleted:
                        return written, inputs.MSG_UPDATE_DELETED
                    forget_deleted(label)
            elif replace_deleted and self._deleted:
                victim = next(iter(self._deleted))
                forget_deleted(victim)
                self._labels.discard(victim)
                undo.append(lambda victim=victim: self._labels.add(victim))
                add_label(label)
            else:
                if len(self._labels) >= self._max_elements:
                    return written, inputs.MSG_LIMIT
                add_label(label)
            written.append(row)
        return written, None

    def _write_core(self, rows: np.ndarray, labels: np.ndarray, num_threads) -> None:
        # A label repeated in one batch ends with its last vector, as sequential adds would.
        reversed_unique, first_in_reversed = np.unique(labels[::-1], return_index=True)
        if reversed_unique.shape[0] != labels.shape[0]:
            keep = np.sort(labels.shape[0] - 1 - first_in_reversed)
            rows, labels = rows[keep], labels[keep]
        self._core.add(rows, ids=labels, replace=True, threads=self._threads(num_threads))

    # ---- searching ----------------------------------------------------------------------

    def knn_query(self, data, k=1, num_threads=-1, filter=None):
        """The k nearest neighbours of each row: ``(labels uint64 (n, k), distances float32)``.

        ``filter`` is an optional callable ``label -> bool``; only labels it accepts are
        returned. When some row has fewer than k results this raises RuntimeError, as
        hnswlib does; set ``index.pad_missing_results = True`` to get those rows padded
        with label ``MISSING_LABEL`` (2**64 - 1) and distance +inf instead.
        """
        self._require_core()
        queries = inputs.as_rows(data, self._dim)
        k = inputs.check_k(k)
        if self._space == "cosine":
            queries = inputs.normalized(queries)
        labels, distances = search_visible(
            self._core, queries, k, ef=self._ef, threads=self._threads(num_threads),
            accept=filter)
        missing = labels < 0
        if missing.any():
            if not self.pad_missing_results:
                raise RuntimeError(inputs.MSG_NOT_CONTIGUOUS)
            labels[missing] = 0  # replaced by MISSING_LABEL after the uint64 cast
        labels = labels.astype(np.uint64)
        labels[missing] = MISSING_LABEL
        return labels, inputs.hnswlib_distances(distances, self._space)

    def set_ef(self, ef) -> None:
        """Size of the search beam; hnswlib searches with max(ef, k)."""
        self._ef = inputs.non_negative_int(ef, "ef")

    def set_num_threads(self, num_threads) -> None:
        """Default thread count for add_items and knn_query when they get num_threads=-1."""
        self._num_threads = inputs.thread_count(num_threads)

    # ---- deletion -----------------------------------------------------------------------

    def mark_deleted(self, label) -> None:
        """Hide ``label`` from searches and get_items; it still counts towards capacity."""
        self._require_core()
        label = inputs.as_single_label(label)
        if label not in self._labels:
            raise RuntimeError(inputs.MSG_LABEL_NOT_FOUND)
        if label in self._deleted:
            raise RuntimeError(inputs.MSG_ALREADY_DELETED)
        vector = np.asarray(self._core.get([label]), dtype=np.float32)[0].copy()
        self._core.delete([label])
        self._deleted[label] = vector

    def unmark_deleted(self, label) -> None:
        """Make a deleted ``label`` visible again."""
        self._require_core()
        label = inputs.as_single_label(label)
        if label not in self._labels:
            raise RuntimeError(inputs.MSG_LABEL_NOT_FOUND)
        if label not in self._deleted:
            raise RuntimeError(inputs.MSG_NOT_DELETED)
        self._core.add(self._deleted[label][None, :], ids=[label])
        del self._deleted[label]

    # ---- reading ------------------------------------------------------------------------

    def get_items(self, ids=None, return_type="numpy"):
        """Stored vectors for ``ids`` (unit-length for cosine), as numpy or nested lists."""
        self._require_core()
        if return_type not in ("numpy", "list"):
            raise ValueError('return_type should be "numpy" or "list"')
        if ids is None:
            labels = np.empty(0, dtype=np.int64)
        else:
            labels = inputs.as_label_list(ids)
        for label in labels.tolist():
            if label not in self._labels or label in self._deleted:
                raise RuntimeError(inputs.MSG_LABEL_NOT_FOUND)
        if labels.shape[0] == 0:
            vectors = np.empty(0, dtype=np.float32)
        else:
            vectors = np.asarray(self._core.get(labels), dtype=np.float32)
        return vectors.tolist() if return_type == "list" else vectors

    def get_ids_list(self) -> list:
        """Every label in the index, deleted ones included (as hnswlib does)."""
        self._require_core()
        return list(self._labels)

    def get_current_count(self) -> int:
        """Number of elements, deleted ones included."""
        self._require_core()
        return len(self._labels)

    def get_max_elements(self) -> int:
        self._require_core()
        return self._max_elements

    # ---- persistence --------------------------------------------------------------------

    def save_index(self, path_to_index) -> None:
        """Write the index to one file (vecindex's container, readable by load_index)."""
        self._require_core()
        index_file.save(os.fspath(path_to_index), self._persistent_state(), self._core)

    def load_index(self, path_to_index, max_elements=0, allow_replace_deleted=False) -> None:
        """Replace this index with one saved by save_index, or by the real hnswlib.

        ``max_elements`` raises the capacity; values below the element count keep the
        saved capacity. ef goes back to its default, as in hnswlib. A file written by
        hnswlib itself is migrated: its vectors, labels and deletions are kept and the
        graph is rebuilt (this takes as long as building the index).
        """
        max_elements = inputs.non_negative_int(max_elements, "max_elements")
        path = os.fspath(path_to_index)
        if native_file.looks_like_hnswlib_file(path, self._dim):
            state, core = native_file.build(path, self._space, self._dim,
                                            self._threads(-1), self._random_seed)
        else:
            state, core = index_file.load(path)
        if (state["space"], state["dim"]) != (self._space, self._dim):
            raise RuntimeError(
                f"{path_to_index} holds a space={state['space']!r} dim={state['dim']} index; "
                f"this Index was created with space={self._space!r} dim={self._dim}")
        self._restore(state, core)
        if max_elements >= len(self._labels):
            self._max_elements = max_elements
        self._allow_replace_deleted = bool(allow_replace_deleted)
        self._ef = _DEFAULT_EF

    def index_file_size(self) -> int:
        """Bytes that save_index would write now."""
        self._require_core()
        with tempfile.TemporaryDirectory(prefix="vecindex-compat-") as folder:
            path = os.path.join(folder, "index.bin")
            self.save_index(path)
            return os.path.getsize(path)

    def __getstate__(self) -> dict:
        state = self._persistent_state()
        state.update(ef=self._ef, num_threads=self._num_threads, core=self._core,
                     pad_missing_results=self.pad_missing_results)
        return state

    def __setstate__(self, state: dict) -> None:
        self._space = inputs.check_space(state["space"])
        self._dim = int(state["dim"])
        self._num_threads = int(state.get("num_threads", inputs.default_thread_count()))
        self._restore(state, state.get("core"))
        self._ef = int(state.get("ef", _DEFAULT_EF))
        self.pad_missing_results = bool(state.get("pad_missing_results", False))

    def _persistent_state(self) -> dict:
        return {
            "space": self._space, "dim": self._dim, "max_elements": self._max_elements,
            "M": self._M, "ef_construction": self._ef_construction,
            "random_seed": self._random_seed,
            "allow_replace_deleted": self._allow_replace_deleted,
            "labels": np.fromiter(self._labels, dtype=np.int64, count=len(self._labels)),
            "deleted": np.fromiter(self._deleted, dtype=np.int64, count=len(self._deleted)),
            "deleted_vectors": (np.stack(list(self._deleted.values())) if self._deleted
                                else np.empty((0, self._dim), dtype=np.float32)),
        }

    def _restore(self, state: dict, core) -> None:
        self._core = core
        self._max_elements = int(state["max_elements"])
        self._M = int(state["M"])
        self._ef_construction = int(state["ef_construction"])
        self._random_seed = int(state["random_seed"])
        self._allow_replace_deleted = bool(state["allow_replace_deleted"])
        self._labels = set(np.asarray(state["labels"], dtype=np.int64).tolist())
        vectors = np.asarray(state["deleted_vectors"], dtype=np.float32).reshape(-1, self._dim)
        self._deleted = dict(zip(np.asarray(state["deleted"], dtype=np.int64).tolist(), vectors))
        self._next_auto_label = len(self._labels)

    # ---- properties ---------------------------------------------------------------------

    space = property(lambda self: self._space, doc="'l2', 'ip' or 'cosine'.")
    dim = property(lambda self: self._dim, doc="Vector dimension.")
    M = property(lambda self: self._M, doc="Graph degree parameter (0 before init_index).")
    ef_construction = property(lambda self: self._ef_construction,
                               doc="Build beam width (0 before init_index).")
    max_elements = property(lambda self: self._max_elements, doc="Capacity.")
    element_count = property(lambda self: len(self._labels),
                             doc="Number of elements, deleted ones included.")

    @property
    def ef(self) -> int:
        """Search beam width (default 10)."""
        return self._ef

    @ef.setter
    def ef(self, value) -> None:
        self.set_ef(value)

    @property
    def num_threads(self) -> int:
        """Default thread count for add_items and knn_query."""
        return self._num_threads

    @num_threads.setter
    def num_threads(self, value) -> None:
        self.set_num_threads(value)

    # ---- helpers ------------------------------------------------------------------------

    def _require_core(self) -> None:
        if self._core is None:
            raise RuntimeError(inputs.MSG_NOT_INITIALISED)

    def _threads(self, num_threads) -> int | None:
        count = inputs.thread_count(num_threads)
        if count <= 0:
            count = self._num_threads
        return min(count, _LARGEST_THREAD_COUNT) if count > 0 else None
