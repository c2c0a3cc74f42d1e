"""The user-facing Index: a thin, checked layer over the native HNSW core."""
from __future__ import annotations

import os
from typing import Any, Optional, Tuple, Union

import numpy as np

from vecindex import _core
from vecindex import _keys
from vecindex import attributes as _attributes
from vecindex.filters import AllowList, Filter
from vecindex.progress import Cancelled, ProgressArg, ProgressReporter
from vecindex._validation import (
    as_ids,
    as_int,
    as_matrix,
    check_metric,
    check_positive_int,
    check_threads,
)

PathLike = Union[str, "os.PathLike[str]"]

# Every default of Index, in one table (the core holds none of its own).
#
# "dtype"/"rerank": what Index(dim) builds when no dtype is given: an sq8 graph walk with the
# candidates reranked on the full f32 vectors, so distances stay exact. On the Debian MiniLM
# dev set (50k x 384, 1 thread, recall@10 0.95) it ran ~2.9x hnswlib's queries per second
# where the f32 walk ran ~1.7x (bench/results/20261130T181013Z.json), in 1.25x the f32
# index's memory (1 code byte beside each 4 float bytes); see the README's "Which to pick". Until the index holds enough rows to train
# the codec (_core.LAZY_TRAINING_ROWS) it walks the f32 vectors, so small adds never fail.
#
# "rerank_factor": search()'s candidates reranked per result when none is given, by dtype (f32
# has nothing to rerank). On the Debian set sq8 and sq4 reached the same top recall at 2x as at
# 4x and ran 1.3-1.7x faster at recall 0.90-0.95; pq and rabitq needed 4x to pass 0.92; half
# floats order neighbours almost exactly, so re-scoring the k results themselves suffices.
DEFAULTS = {
    "metric": "l2",
    "M": 16,
    "ef_construction": 200,
    "ef_search": 64,
    "seed": 100,
    "dtype": "sq8",
    "rerank": True,
    "graph_codes": "none",
    "rerank_factor": {"f32": 1, "f16": 1, "bf16": 1, "sq8": 2, "sq4": 2, "pq": 4, "rabitq": 4},
}

# search()'s rerank_factor by dtype (the same dict as DEFAULTS["rerank_factor"]).
DEFAULT_RERANK_FACTOR = DEFAULTS["rerank_factor"]


def default_rerank_factor(dtype: str) -> int:
    """search()'s rerank_factor for ``dtype`` when none is given (see :data:`DEFAULTS`)."""
    return DEFAULT_RERANK_FACTOR[dtype]


class Index:
    """An HNSW approximate nearest-neighbour index.

    Parameters
    ----------
    dim:
        Number of dimensions of every vector.
    metric:
        ``"l2"`` (squared Euclidean distance), ``"ip"`` (distance = negative inner product) or
        ``"cosine"`` (distance = 1 - cosine similarity; vectors are normalised on the way in).
    M:
        Links per node on the upper levels (2*M on the bottom level). Larger M: better recall,
        more memory, slower build.
    ef_construction:
        Beam width while building. Larger: better graph, slower build.
    ef_search:
        Default beam width for searches (at least k is always used).
    dtype:
        How vectors are stored and compared while searching:

        - not given: ``"sq8"`` with ``rerank=True`` (the fast default: an sq8 walk, exact
          distances from the kept f32 vectors; see :data:`DEFAULTS`);
        - ``"f32"``: full precision, 4 bytes per dimension, nothing to train;
        - ``"f16"``, ``"bf16"``: half precision, 2 bytes per dimension, no training;
        - ``"sq8"``: one byte per dimension (per-dimension ranges, trained);
        - ``"sq4"``: half a byte per dimension (the same ranges in 15 steps), coarse enough
          that it is meant for ``rerank=True``;
        - ``"pq"``: product quantisation, ``pq_m`` bytes per vector (k-means codebooks, trained);
        - ``"rabitq"``: bit codes after a random rotation, 32 bytes for dim=128 (trained).

        Trained dtypes learn their parameters from :meth:`train`, or from the first large
        enough :meth:`add`; with ``rerank=True`` adds of any size work: the index walks the
        full vectors until it holds ``_core.LAZY_TRAINING_ROWS`` rows (10,000); the add that
        gets there trains on the stored rows and its own before it links them. Compressed
        distances are approximate unless ``rerank=True``.
    seed:
        Seed for level assignment; with one thread a build is deterministic for a fixed seed.
    pq_m:
        For ``dtype="pq"``: sub-quantisers (bytes per vector); must divide ``dim``. 0 picks a
        default.
    rerank:
        Keep the full-precision vectors beside the codes (more memory) and rerank the best
        ``k * rerank_factor`` candidates (or more, see :meth:`search`) with them, so returned
        distances are exact. The
        graph's links are then chosen on the full vectors and searches walk the codes; for
        sq8, f16 and bf16 inserts also find their candidates on the codes. ``search`` picks
        ``rerank_factor`` by dtype unless given (see :data:`DEFAULT_RERANK_FACTOR`). Not given:
        True when ``dtype`` is not given either, else False.
    attributes:
        Typed attributes to filter on, e.g. ``{"section": "keyword", "tags": "keywords",
        "size": "int", "score": "float", "ok": "bool"}``. Values are given per vector to
        :meth:`add` (``attrs=``) and may be missing (None).
    keys:
        ``"int"`` (default): vectors are named by non-negative int64 ids. ``"str"``: by string
        keys, stored in the index and its file. Every call that takes or returns ids then
        takes or returns str keys instead; see :meth:`add` and :meth:`search`.
    graph_codes:
        ``"none"`` (default) or ``"rabitq"``: the quantized graph, the fastest configuration
        with exact distances. Each node keeps its bottom-level neighbours' 1-bit RaBitQ codes
        beside their ids; a search estimates all of a node's neighbours at once from them and
        computes exact float32 distances only for those that can still enter the results, so
        returned distances are exact with no rerank. Needs ``dtype="f32"`` (the default when
        ``graph_codes`` is given) and more memory (see the README). The codes train once the
        index holds ``_core.GRAPH_CODES_TRAINING_ROWS`` rows (1,024); smaller indexes and
        filtered searches walk the float32 vectors as usual.

    Threads: ``add`` and ``search`` run on the core's own threads with the GIL released;
    ``threads=None`` means all cores. Concurrent ``search`` calls from several Python threads
    are safe, and so is ``add`` alongside ``search``. ``add(..., progress=True)`` shows a
    progress bar; a progress callable can cancel (see :mod:`vecindex.progress`).

    >>> index = Index(dim=3, metric="cosine")
    >>> index
    vecindex.Index(dim=3, metric='cosine', dtype='sq8', size=0, M=16, ef_construction=200, ef_search=64)
    """

    def __init__(
        self,
        dim: int,
        metric: str = DEFAULTS["metric"],
        M: int = DEFAULTS["M"],
        ef_construction: int = DEFAULTS["ef_construction"],
        ef_search: int = DEFAULTS["ef_search"],
        dtype: Optional[str] = None,
        seed: int = DEFAULTS["seed"],
        *,
        pq_m: int = 0,
        rerank: Optional[bool] = None,
        attributes: Optional[dict] = None,
        keys: str = "int",
        graph_codes: str = DEFAULTS["graph_codes"],
    ) -> None:
        dim = check_positive_int(dim, "dim", 1, 65536)
        metric = check_metric(metric)
        M = check_positive_int(M, "M", 2, 1024)
        ef_construction = check_positive_int(ef_construction, "ef_construction", 1, 100000)
        ef_search = check_positive_int(ef_search, "ef_search", 1, 100000)
        seed = check_positive_int(seed, "seed", 0, 2**64 - 1)
        if not isinstance(graph_codes, str):
            raise TypeError(f"graph_codes must be a string such as 'rabitq', got {type(graph_codes).__name__}")
        quantized_graph = graph_codes != DEFAULTS["graph_codes"]
        if rerank is None:
            rerank = DEFAULTS["rerank"] if dtype is None and not quantized_graph else False
        if dtype is None:
            dtype = "f32" if quantized_graph else DEFAULTS["dtype"]
        if not isinstance(dtype, str):
            raise TypeError(f"dtype must be a string such as 'f32', got {type(dtype).__name__}")
        pq_m = check_positive_int(pq_m, "pq_m", 0, dim)
        schema = _attributes.normalize_schema(attributes)
        string_keys = _keys.check_key_type(keys)
        self._core = _core.Index(dim, metric, dtype, M, ef_construction, ef_search, seed, pq_m, bool(rerank), schema,
                                 string_keys, graph_codes)

    # -- construction -----------------------------------------------------------------
    @classmethod
    def _wrap(cls, core: "_core.Index") -> "Index":
        index = cls.__new__(cls)
        index._core = core
        return index

    # -- properties -------------------------------------------------------------------
    @property
    def dim(self) -> int:
        """Number of dimensions."""
        return self._core.dim

    @property
    def metric(self) -> str:
        """``"l2"``, ``"ip"`` or ``"cosine"``."""
        return self._core.metric

    @property
    def dtype(self) -> str:
        """Storage type of the vectors."""
        return self._core.dtype

    @property
    def M(self) -> int:
        """Links per node on the upper levels."""
        return self._core.M

    @property
    def ef_construction(self) -> int:
        """Beam width used while building."""
        return self._core.ef_construction

    @property
    def graph_codes(self) -> str:
        """``"none"`` or ``"rabitq"`` (the quantized graph), as given to the constructor."""
        return self._core.graph_codes

    @property
    def key_type(self) -> str:
        """``"int"`` (int64 ids) or ``"str"`` (string keys), as given to the constructor as ``keys``."""
        return "str" if self._core.string_keys else "int"

    @property
    def attributes(self) -> dict:
        """The attribute schema: name -> kind."""
        return dict(self._core.attribute_schema)

    @property
    def ef_search(self) -> int:
        """Default beam width for searches; set it to trade speed for recall."""
        return self._core.ef_search

    @ef_search.setter
    def ef_search(self, value: int) -> None:
        self._core.ef_search = check_positive_int(value, "ef_search", 1, 100000)

    def __len__(self) -> int:
        """Number of live (not deleted) vectors."""
        return len(self._core)

    def __contains__(self, id: Any) -> bool:
        """``id in index``: True for a live id (or str key); False for anything that is not one."""
        if self._core.string_keys:
            return _keys.contains(self._core, id)
        try:
            value = int(id)
        except (TypeError, ValueError):
            return False
        return 0 <= value < 2**63 and self._core.contains(value)

    def __repr__(self) -> str:
        """Shows dim, metric, dtype, size, M, ef_construction and ef_search."""
        return (
            f"vecindex.Index(dim={self.dim}, metric={self.metric!r}, dtype={self.dtype!r}, size={len(self)}, "
            f"M={self.M}, ef_construction={self.ef_construction}, ef_search={self.ef_search}"
            + (f", graph_codes={self.graph_codes!r}" if self.graph_codes != DEFAULTS["graph_codes"] else "")
            + (", keys='str')" if self._core.string_keys else ")")
        )

    # -- data -------------------------------------------------------------------------
    def add(
        self,
        vectors: Any,
        ids: Any = None,
        *,
        attrs: Any = None,
        replace: bool = False,
        threads: Optional[int] = None,
        progress: ProgressArg = False,
    ) -> np.ndarray:
        """Add vectors and return their int64 ids.

        ``vectors`` is an array-like of shape (n, dim) (or (dim,) for one vector); float64 and
        integer input is converted to float32. ``ids`` are non-negative integers; by default ids
        continue after the largest id seen so far (0..n-1 for a new index). Adding an id that
        already exists raises ``ValueError`` unless ``replace=True``, which replaces its vector.
        A replaced id keeps its attributes unless ``attrs`` is given, which replaces them (a
        column left out of ``attrs`` is then missing). While the replacing add runs, searches
        find the id with its old vector until the new one is linked, never without one.

        Every row is checked before anything changes: NaN or infinite values, rows whose
        squared norm exceeds 1e36 (``"l2"``/``"ip"``: their float32 distances would overflow),
        values outside the dtype's range (``"f16"``: ``|x| >= 65520``), bad or existing ids and
        bad ``attrs`` raise ``ValueError``, and an add that raises ``ValueError`` leaves the
        index exactly as it was. With ``metric="cosine"`` an all-zero vector is kept as zeros
        (cosine distance 1 to every query).

        ``attrs`` gives the declared attributes of the new vectors: a dict of columns (one
        value per vector, None where missing), a list of per-vector dicts, or a pandas
        DataFrame. Attributes left out are missing.

        ``progress=True`` shows a progress bar (tqdm if installed, else plain lines on stderr);
        ``progress=callable(done, total)`` is called about every 50 ms and returning False
        cancels: :class:`vecindex.Cancelled` is raised, the vectors linked so far stay and
        the rest are forgotten; the exception's ``added_ids`` (int64 array) lists the ids
        that stayed, and automatic ids of forgotten rows are not used up (the next add
        continues after the largest id kept). Ctrl-C works the same way and raises
        ``KeyboardInterrupt`` with the same ``added_ids`` (see :mod:`vecindex.progress`).

        For an index made with ``keys="str"``, ``ids`` is required: one str key per vector
        (a list, tuple or numpy array of str). The method then returns the keys as a numpy
        object array, and ``added_ids`` of a cancelled add holds keys. An empty key, an item
        that is not a str, a key repeated within the call or a key over 1024 bytes of UTF-8
        raises ``ValueError``, as does an existing key without ``replace=True``.
        """
        matrix, _ = as_matrix(vectors, self.dim, "vectors")
        keyed = self._core.string_keys
        if keyed:
            id_array = _keys.require_keys(ids)
        else:
            id_array = None if ids is None else as_ids(ids, matrix.shape[0])
        batch = None
        if attrs is not None:
            schema = list(self._core.attribute_schema)
            prepared = _attributes.prepare(schema, attrs, matrix.shape[0])
            batch = _attributes.build_batch(schema, prepared, matrix.shape[0])
        count = matrix.shape[0]
        if count == 0 and not keyed:
            return np.empty(0, dtype=np.int64)
        with ProgressReporter(progress, "add") as reporter:
            if reporter.callback is not None:
                try:
                    reporter.start(count)
                except Cancelled as stopped:
                    stopped.added_ids = np.empty(0, dtype=object if keyed else np.int64)
                    raise
            if keyed:
                # The core converts and checks the keys (a mismatched count raises ValueError).
                self._core.add_keys(matrix, id_array, bool(replace), check_threads(threads), batch, reporter.callback)
                ids_added = _keys.as_key_array(id_array)
            else:
                ids_added = self._core.add(matrix, id_array, bool(replace), check_threads(threads), batch,
                                           reporter.callback)
            reporter.finish(count)
        return ids_added

    def search(
        self,
        queries: Any,
        k: int = 10,
        *,
        ef: Optional[int] = None,
        threads: Optional[int] = None,
        rerank_factor: Optional[int] = None,
        filter: Any = None,
        strategy: str = "auto",
    ) -> Tuple[np.ndarray, np.ndarray]:
        """Find the k nearest neighbours of each query.

        Returns ``(ids, distances)``: int64 and float32 arrays of shape (q, k), nearest first.
        A 1-D query gives 1-D results of shape (k,). When fewer than k vectors can be found
        (a small index), rows are padded with id -1 and distance +inf. ``ef`` overrides
        ``ef_search`` for this call (at least k is used).

        For a compressed ``dtype`` built with ``rerank=True``, the best ``k * rerank_factor``
        candidates are re-scored on the full-precision vectors, so distances are exact;
        otherwise distances are the codec's approximations (exact for ``"f32"``). For sq8 and
        sq4 with ``"cosine"`` or ``"ip"``, the rerank then reads on through the beam, in windows
        of half that count, while the last window improved the top k and the codes' estimate
        is within three standard deviations of their error of the k-th exact distance (a dense
        neighbourhood the codes cannot order). The beam
        is then ``ef + k * (rerank_factor - 1)`` wide: the walk on codes steers by approximate
        distances, and the margin keeps its recall at every ``ef`` at least the f32 walk's. ``None`` takes the dtype's default from
        :data:`DEFAULT_RERANK_FACTOR` (1 for f16/bf16, 2 for sq8/sq4, 4 for pq/rabitq; chosen
        on the Debian MiniLM benchmark, see the README). Until a ``rerank=True`` index has
        trained its codec it walks the full vectors and ``rerank_factor`` has no effect.

        ``filter`` restricts results to matching vectors:

        - an expression such as ``(F.section == "python") & (F.size < 500)``;
        - an array or list of ids (an allow-list; unknown or negative ids match nothing);
        - a boolean mask over ids: a 1-D bool array whose entry i allows id i, with an
          entry for every id up to the largest one in the index;
        - a Python callable ``f(id) -> bool``: the slow path, called once per live id on
          every search call to build an allow-list;
        - a list with one of the above (or None) per query.

        Filtered results are exact-or-near-exact at every selectivity: from the exact match
        count, a planner picks the cheaper of an exact scan of the matches and an ordinary walk
        that keeps only matching nodes as results (its beam then holds ``ef`` matches; past a
        visit budget it finishes with the scan); see :meth:`explain`. ``strategy`` forces one
        of ``"exact"``, ``"filtered_graph"`` (a walk over matching nodes with two-hop
        expansion, never picked automatically), ``"post_filter"`` (for benchmarking).
        Rows with fewer than k matches are padded with id -1 and distance +inf.

        For an index made with ``keys="str"``, ``ids`` is a numpy object array of str keys,
        padded with None (distance +inf) where a row has fewer than k results; an allow-list
        filter then holds str keys (unknown keys match nothing), a callable gets each live key,
        and boolean masks are refused with ``ValueError``.
        """
        matrix, was_1d = as_matrix(queries, self.dim, "queries")
        if rerank_factor is None:
            rerank_factor = default_rerank_factor(self.dtype)
        params = _core.SearchParams(k=as_int(k, "k"), ef=None if ef is None else as_int(ef, "ef"),
                                    rerank_factor=as_int(rerank_factor, "rerank_factor"), threads=check_threads(threads))
        if filter is None and strategy == "auto":
            ids, distances = self._core.search(matrix, params)
        else:
            filters = self._core_filters(filter, matrix.shape[0])
            ids, distances = self._core.search_filtered(matrix, params, filters, _check_strategy(strategy))
        if was_1d:
            return ids[0], distances[0]
        return ids, distances

    def explain(self, filter: Any, k: int = 10, *, ef: Optional[int] = None, strategy: str = "auto") -> dict:
        """How a search with this filter would run: strategy, exact match count, selectivity, why."""
        params = _core.SearchParams(k=as_int(k, "k"), ef=None if ef is None else as_int(ef, "ef"))
        (core_filter,) = self._core_filters(filter, 1, allow_per_query=False)
        return dict(self._core.explain(core_filter, params, _check_strategy(strategy)))

    def get_attrs(self, ids: Any) -> dict:
        """Attributes of ``ids`` as a dict of columns (lists, None where missing).

        Unknown ids raise ``KeyError``.
        """
        if self._core.string_keys:
            return dict(self._core.get_attributes_keys(ids))
        return dict(self._core.get_attributes(as_ids(ids)))

    def _core_filters(self, filter: Any, queries: int, allow_per_query: bool = True) -> list:
        if allow_per_query and isinstance(filter, list) and any(
                item is None or isinstance(item, (Filter, list, tuple, np.ndarray)) or callable(item) for item in filter):
            if len(filter) != queries:
                raise ValueError(f"got {len(filter)} filters for {queries} queries; pass one filter, or one per query")
            return [self._one_filter(item) for item in filter]
        return [self._one_filter(filter)]

    def _one_filter(self, filter: Any) -> "_core.FilterExpr":
        if filter is None:
            return _core.FilterExpr.all()
        if isinstance(filter, Filter):
            return filter.to_core()
        # getattr: MultiVectorIndex borrows this method and has int ids only.
        keyed = getattr(self._core, "string_keys", False)
        if callable(filter) and keyed:
            return _core.FilterExpr.allow_keys(_keys.callable_allow_list(self._core, filter))
        if callable(filter):
            live = self._core.ids()
            keep = np.fromiter((bool(filter(int(i))) for i in live), dtype=bool, count=live.size)
            return AllowList(live[keep]).to_core()
        if isinstance(filter, (list, tuple, np.ndarray, range)) and keyed:
            if isinstance(filter, np.ndarray) and filter.dtype == np.bool_:
                raise ValueError("an index with keys='str' takes an allow-list of str keys, not a boolean mask")
            return _core.FilterExpr.allow_keys(list(filter))
        if isinstance(filter, (list, tuple, np.ndarray, range)):
            return self._allow_list(filter).to_core()
        raise TypeError(f"filter must be an F expression, an array of ids, a boolean mask, a callable or a list "
                        f"of those, not {type(filter).__name__}")

    def _allow_list(self, filter: Any) -> AllowList:
        """Ids, or a boolean mask over ids (entry i says whether id i may be returned)."""
        array = np.asarray(filter)
        if array.ndim == 1 and _keys.is_key_list(array):
            raise ValueError(f"allow-list ids must be integers, got dtype {array.dtype} (an allow-list of str keys "
                             f"needs an index made with keys='str')")
        if array.dtype != np.bool_ or array.ndim != 1:
            return AllowList(array)
        live = self._core.ids()
        needed = int(live.max()) + 1 if live.size else 0
        if array.shape[0] < needed:
            raise ValueError(f"a boolean mask filter needs an entry for every id from 0 to the largest id "
                             f"({needed - 1}), i.e. at least {needed} entries; got {array.shape[0]}")
        return AllowList(np.flatnonzero(array))

    def get(self, ids: Any) -> np.ndarray:
        """Return the stored vectors of ``ids`` as float32 (m, dim).

        For ``metric="cosine"`` these are the normalised vectors, since vectors are normalised
        when added. Unknown ids raise ``KeyError``.
        """
        if self._core.string_keys:
            return self._core.get_keys(ids)
        return self._core.get(as_ids(ids))

    def delete(self, ids: Any) -> None:
        """Remove ids; they never come back from search. Unknown ids raise ``KeyError``
        (listing them) and nothing is deleted. A deleted id may be added again. Deleted
        vectors stay in the graph as routing points until :meth:`compact` frees their slots.
        """
        if self._core.string_keys:
            self._core.remove_keys(ids)
        else:
            self._core.remove(as_ids(ids))

    def compact(self, *, threads: Optional[int] = None) -> int:
        """Unlink deleted vectors from the graph and free their slots for later adds.

        Neighbours of deleted nodes are re-linked through the deleted nodes' own links, so
        search quality holds. Other calls on this index wait while it runs. Returns the
        number of slots freed.
        """
        return self._core.compact(check_threads(threads))

    def optimize(self, *, method: str = "rcm") -> int:
        """Renumber the index's internal slots so that graph neighbours sit near each other in memory.

        Ids, keys, stored vectors, attributes and search results (ids and distances) stay the
        same; only the memory layout changes (and the order :meth:`ids` lists them in), which
        can make searches faster on large indexes.
        ``method`` is ``"rcm"`` (reverse Cuthill-McKee, the default: the faster layout at 400k
        vectors in ``bench/reorder.py``) or ``"bfs"`` (breadth-first from the graph's entry point). The order depends only on the graph, so the same index always
        gets the same layout; it is kept by :meth:`save`. Other calls on this index wait while
        it runs, and it waits for adds in progress. A read-only (``mmap=True``) index raises
        ``RuntimeError``; an unknown method raises ``ValueError``; either way nothing changes.
        Returns the number of vectors that moved.
        """
        if not isinstance(method, str):
            raise TypeError(f"method must be a str, got {type(method).__name__}")
        return self._core.optimize(method)

    def ids(self) -> np.ndarray:
        """All live ids, as int64 (for ``keys="str"``: the live keys, as a numpy object array of str)."""
        return self._core.keys() if self._core.string_keys else self._core.ids()

    def train(self, vectors: Any, *, threads: Optional[int] = None, progress: ProgressArg = False) -> None:
        """Learn the codec parameters of a compressed dtype from sample vectors.

        ``"sq8"`` and ``"sq4"`` need at least 32 vectors, ``"pq"`` at least 256 (k-means codebooks),
        ``"rabitq"`` at least 16; fewer raise ``ValueError``. For these dtypes call it before
        the first :meth:`add`; afterwards it raises ``RuntimeError``, except with ``rerank=True``
        while the codec is untrained: it then trains and encodes the vectors added so far.
        ``"f32"``, ``"f16"`` and ``"bf16"`` need no training and ignore the call. If never
        called, the first ``add`` trains on its own vectors (when there are enough of them);
        with ``rerank=True`` the add that brings the index to ``_core.LAZY_TRAINING_ROWS`` rows
        trains on the stored ones and its own, before it links its own.

        ``progress`` is as for :meth:`add`, but training reports only its start ``(0, n)`` and
        its end ``(n, n)``; returning False at the start cancels before any training.
        """
        matrix, _ = as_matrix(vectors, self.dim, "training vectors")
        with ProgressReporter(progress, "train") as reporter:
            if reporter.callback is not None:
                reporter.start(matrix.shape[0])
            self._core.train(matrix, check_threads(threads))
            reporter.finish(matrix.shape[0])

    # -- persistence ------------------------------------------------------------------
    def save(self, path: PathLike) -> None:
        """Write the index to ``path`` atomically (temp file, fsync, rename)."""
        self._core.save(_checked_path(path))

    @classmethod
    def load(cls, path: PathLike, *, mmap: bool = False) -> "Index":
        """Read an index written by :meth:`save`.

        With ``mmap=True`` the file is memory-mapped read-only and full-precision vectors are
        searched in place without being copied into RAM (the graph and ids are still read and
        validated). Such an index is read-only: ``add``, ``delete``, ``compact`` and ``train``
        raise ``RuntimeError``. Do not modify or truncate the file while it is mapped.

        A corrupt, truncated or foreign file raises :class:`vecindex.FormatError`; a missing
        or unreadable file raises ``OSError``.
        """
        return cls._wrap(_core.Index.load(_checked_path(path), bool(mmap)))

    @property
    def read_only(self) -> bool:
        """True for an index loaded with ``mmap=True``."""
        return self._core.read_only

    def to_bytes(self) -> bytes:
        """The index as bytes, in the same format as :meth:`save`."""
        return self._core.to_bytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> "Index":
        """Rebuild an index from :meth:`to_bytes` output; raises FormatError if corrupt."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"from_bytes() takes bytes, got {type(data).__name__}")
        view = memoryview(data)
        # The core reads one contiguous run of bytes: copy strided views, flatten typed ones.
        flat = view.cast("B") if view.c_contiguous else view.tobytes()
        return cls._wrap(_core.Index.from_bytes(flat))

    def __reduce__(self):
        return (_from_bytes, (self.to_bytes(),))

    # -- introspection ----------------------------------------------------------------
    def memory_usage(self) -> dict:
        """Bytes held in RAM, by part.

        ``graph`` (HNSW links; with ``graph_codes="rabitq"`` also the neighbour code blocks
        and the codes they are built from), ``codes`` (the stored vectors in the index's dtype),
        ``full_vectors`` (the float32 copies kept for ``rerank=True``, else 0), ``attributes``
        (filter attributes), ``keys`` (the string keys of an index made with ``keys="str"``,
        0 otherwise; a mapped load copies them into RAM) and ``mapped`` (the size of the
        memory-mapped file for an index loaded with ``mmap=True``; its vectors are not in the
        other parts).
        """
        return dict(self._core.memory_usage())

    def stats(self) -> dict:
        """Graph statistics and memory.

        Keys: ``levels`` (HNSW levels in use), ``mean_degree0`` (mean number of links per
        node on the bottom level), ``slots`` (node slots in use: live vectors, deleted ones
        not yet compacted and adds in flight; :meth:`compact` lowers it),
        ``slots_allocated`` (slots handed out so far: those in use plus those compact() freed,
        which later adds fill before allocating new ones), ``deleted`` (deleted vectors not
        yet compacted), ``size`` (live vectors), ``interleaved_walks`` (queries a batch
        :meth:`search` walks at once on each thread: several when the walk reads rows of at
        most ``_core.INTERLEAVED_ROW_BYTES`` bytes and no deleted row's slot is held or freed,
        else 1) and ``memory`` (bytes by part, as
        :meth:`memory_usage`).
        """
        return dict(self._core.stats())

    def check_integrity(self) -> None:
        """Raise RuntimeError if the graph or id map is inconsistent (for tests and debugging)."""
        error = self._core.integrity_error()
        if error:
            raise RuntimeError(f"index integrity check failed: {error}")


def _checked_path(path: PathLike) -> Union[str, bytes]:
    path = os.fspath(path)
    # The core takes C strings: an embedded NUL would silently cut the path short.
    if ("\0" if isinstance(path, str) else b"\0") in path:
        raise ValueError("embedded null byte in path")
    return path


def _check_strategy(strategy: str) -> str:
    if strategy not in ("auto", "exact", "filtered_graph", "post_filter"):
        raise ValueError(f"strategy must be 'auto', 'exact', 'filtered_graph' or 'post_filter', not {strategy!r}")
    return strategy


def _from_bytes(data: bytes) -> Index:
    return Index.from_bytes(data)
