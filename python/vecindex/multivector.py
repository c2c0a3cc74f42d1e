"""MultiVectorIndex: late-interaction (ColBERT-style) retrieval, thin over the native core.

A document is a set of token vectors; its relevance to a query (also a set) is the Chamfer
similarity: for each query token the best dot product with any document token, summed over
the query tokens. The core keeps one MUVERA fixed-dimensional encoding per document in an
ordinary :class:`vecindex.Index` (inner product) to find ``candidates``, then reranks them
exactly by Chamfer similarity on the stored tokens.
"""
from __future__ import annotations

import os
from typing import Any, Optional, Sequence, Tuple, Union

import numpy as np

from vecindex import _core
from vecindex import attributes as _attributes
from vecindex._validation import as_ids, check_positive_int, check_threads
from vecindex.index import Index, _checked_path

PathLike = Union[str, "os.PathLike[str]"]

# Encoding and search defaults, chosen on the Debian multi-vector set (bench/multivector.py;
# see the README's "Multi-vector (late interaction)" section). 4 buckets x 64 projected dims x
# 10 repetitions (2560 dimensions): its encodings alone put 94.8% of the true top 10 in their
# top 160 and 96.7% in their top 240, as well as 16 x 16 x 20 (5120 dimensions) and far better
# than 16 x 16 x 10 (2560): with ~19 tokens a document leaves most of 16 buckets empty.
# candidates=240 is the smallest setting with recall@10 >= 0.95 (0.955). sq8 encodings keep
# 1 byte per dimension; f16 tokens keep the rerank exact on f16 inputs.
DEFAULTS = {
    "dtype": "sq8",
    "token_dtype": "f16",
    "k_sim": 2,
    "d_proj": 64,
    "r_reps": 10,
    "final_dim": 0,
    "fde_seed": 42,
    "candidates": 240,
}


class MultiVectorIndex:
    """A multi-vector (late-interaction) index with exact Chamfer scores.

    Parameters
    ----------
    dim:
        Dimensions of every token vector.
    dtype:
        How the documents' encodings are stored in the candidate index (any :class:`Index`
        dtype: ``"f32"``, ``"f16"``, ``"sq8"``, ...). Trained dtypes train on the first
        :meth:`add`, which then needs at least 32 documents for ``"sq8"``.
    token_dtype:
        How token vectors are kept for the exact rerank: ``"f32"``, ``"f16"`` (IEEE half; values
        beyond 65504 are refused) or ``"sq8"`` (one byte per dimension plus one f32 scale per
        token: the token's largest absolute value / 127; no training).
    k_sim, d_proj, r_reps, final_dim, fde_seed:
        The MUVERA encoding: ``r_reps`` repetitions of SimHash with ``k_sim`` random
        hyperplanes (``2**k_sim`` buckets), tokens projected to ``d_proj`` dimensions (0: no
        projection; None: the default, at most ``dim``), so the encoding has ``r_reps * 2**k_sim * d_proj`` dimensions, or
        ``final_dim`` when that is set (a count-sketch projection). The same ``fde_seed`` gives
        the same encoding everywhere.
    M, ef_construction, ef_search, seed:
        The candidate index's graph, as for :class:`Index`.
    attributes:
        Typed attributes to filter on, as for :class:`Index`.
    """

    def __init__(
        self,
        dim: int,
        dtype: str = DEFAULTS["dtype"],
        token_dtype: str = DEFAULTS["token_dtype"],
        *,
        k_sim: int = DEFAULTS["k_sim"],
        d_proj: Optional[int] = None,
        r_reps: int = DEFAULTS["r_reps"],
        final_dim: int = DEFAULTS["final_dim"],
        fde_seed: int = DEFAULTS["fde_seed"],
        M: int = 16,
        ef_construction: int = 200,
        ef_search: int = 64,
        seed: int = 100,
        attributes: Optional[dict] = None,
    ) -> None:
        dim = check_positive_int(dim, "dim", 1, 65536)
        for name, value in (("dtype", dtype), ("token_dtype", token_dtype)):
            if not isinstance(value, str):
                raise TypeError(f"{name} must be a string, got {type(value).__name__}")
        k_sim = check_positive_int(k_sim, "k_sim", 0, 12)
        d_proj = check_positive_int(min(DEFAULTS["d_proj"], dim) if d_proj is None else d_proj, "d_proj", 0, dim)
        r_reps = check_positive_int(r_reps, "r_reps", 1, 4096)
        final_dim = check_positive_int(final_dim, "final_dim", 0, 65536)
        fde_seed = check_positive_int(fde_seed, "fde_seed", 0, 2**64 - 1)
        M = check_positive_int(M, "M", 2, 1024)
        ef_construction = check_positive_int(ef_construction, "ef_construction", 1, 100000)
        ef_search = check_positive_int(ef_search, "ef_search", 1, 100000)
        seed = check_positive_int(seed, "seed", 0, 2**64 - 1)
        schema = _attributes.normalize_schema(attributes)
        self._core = _core.MultiVectorIndex(dim, dtype, token_dtype, k_sim, d_proj, r_reps, final_dim, fde_seed, M,
                                            ef_construction, ef_search, seed, schema)

    @classmethod
    def _wrap(cls, core: "_core.MultiVectorIndex") -> "MultiVectorIndex":
        index = cls.__new__(cls)
        index._core = core
        return index

    # -- properties -------------------------------------------------------------------
    @property
    def dim(self) -> int:
        """Dimensions of a token vector."""
        return self._core.dim

    @property
    def dtype(self) -> str:
        """Storage type of the encodings in the candidate index."""
        return self._core.dtype

    @property
    def token_dtype(self) -> str:
        """Storage type of the token vectors."""
        return self._core.token_dtype

    @property
    def encoding(self) -> dict:
        """The encoding's parameters and its dimension (``dim``)."""
        core = self._core
        return {"k_sim": core.k_sim, "d_proj": core.d_proj, "r_reps": core.r_reps, "final_dim": core.final_dim,
                "fde_seed": core.fde_seed, "dim": core.encoding_dim}

    @property
    def attributes(self) -> dict:
        """The attribute schema: name -> kind."""
        return dict(self._core.attribute_schema)

    @property
    def read_only(self) -> bool:
        """True for an index loaded with ``mmap=True``."""
        return self._core.read_only

    def __len__(self) -> int:
        """Number of live (not deleted) documents."""
        return len(self._core)

    def __contains__(self, id: Any) -> bool:
        try:
            value = int(id)
        except (TypeError, ValueError):
            return False
        return 0 <= value < 2**63 and self._core.contains(value)

    def __repr__(self) -> str:
        return (f"vecindex.MultiVectorIndex(dim={self.dim}, dtype={self.dtype!r}, token_dtype={self.token_dtype!r}, "
                f"size={len(self)}, encoding_dim={self._core.encoding_dim})")

    def ids(self) -> np.ndarray:
        """All live document ids, as int64."""
        return self._core.ids()

    # -- data -------------------------------------------------------------------------
    def add(self, docs: Any, ids: Any = None, attrs: Any = None, *, threads: Optional[int] = None) -> np.ndarray:
        """Add documents and return their int64 ids.

        ``docs`` is a list of (n_i, dim) arrays (one per document), or ``(tokens, offsets)``:
        all tokens stacked as a (T, dim) array and int offsets of length n + 1 (document i is
        ``tokens[offsets[i]:offsets[i + 1]]``). A document with no tokens, the wrong number of
        columns, NaN or infinite values, or that cannot be read as a 2-D array raises
        ``ValueError`` naming the document's index; nothing is added then. ``ids`` and
        ``attrs`` are as for :meth:`Index.add`; an id already present raises ``ValueError``.
        """
        tokens, offsets = _token_sets(docs, self.dim, "document")
        count = offsets.size - 1
        id_array = None if ids is None else as_ids(ids, count)
        batch = None
        if attrs is not None:
            schema = list(self._core.attribute_schema)
            batch = _attributes.build_batch(schema, _attributes.prepare(schema, attrs, count), count)
        return self._core.add(tokens, offsets, id_array, check_threads(threads), batch)

    def search(
        self,
        queries: Any,
        k: int = 10,
        *,
        candidates: Optional[int] = None,
        ef: Optional[int] = None,
        threads: Optional[int] = None,
        filter: Any = None,
        exact: bool = False,
    ) -> Tuple[np.ndarray, np.ndarray]:
        """Find the k documents with the highest Chamfer similarity to each query.

        ``queries`` is one query, an (m, dim) array, or a list of them (or ``(tokens,
        offsets)``). Returns ``(ids, scores)``: int64 and float32, best first, of shape (k,)
        for one query and (q, k) for a list. Scores are exact Chamfer similarities on the
        stored tokens. The ``candidates`` documents (at least k) whose encodings have the
        largest inner product with the query's are reranked; more candidates, better recall.
        ``ef`` is the candidate index's beam (at least ``candidates``). ``filter`` is as for
        :meth:`Index.search`. Rows with fewer than k results are padded with id -1 and score
        -inf.

        ``exact=True`` scores every live document instead (brute force with the SIMD Chamfer
        kernel, no encodings; for ground truth); it takes no filter.
        """
        single = isinstance(queries, np.ndarray) and queries.ndim == 2
        tokens, offsets = _token_sets([queries] if single else queries, self.dim, "query")
        k = check_positive_int(k, "k", 1, 100000)
        if exact:
            if filter is not None:
                raise ValueError("exact=True searches every document and takes no filter")
            ids, scores = self._core.search_exact(tokens, offsets, k, check_threads(threads))
            return (ids[0], scores[0]) if single else (ids, scores)
        candidates = check_positive_int(DEFAULTS["candidates"] if candidates is None else candidates, "candidates", 1,
                                        100000)
        ef_value = 0 if ef is None else check_positive_int(ef, "ef", 1, 1000000)
        filters = [] if filter is None else self._core_filters(filter, offsets.size - 1)
        ids, scores = self._core.search(tokens, offsets, k, candidates, ef_value, check_threads(threads), filters)
        if single:
            return ids[0], scores[0]
        return ids, scores

    def rerank(self, queries: Any, candidates: Any, k: int = 10, *,
               threads: Optional[int] = None) -> Tuple[np.ndarray, np.ndarray]:
        """Exact Chamfer top k among your own candidate ids (for example from another
        retriever). ``candidates`` is one row of ids per query (a 1-D array for one (m, dim)
        query); ids -1 and ids not in the index are skipped. Returns ``(ids, scores)`` as
        :meth:`search` does."""
        single = isinstance(queries, np.ndarray) and queries.ndim == 2
        tokens, offsets = _token_sets([queries] if single else queries, self.dim, "query")
        k = check_positive_int(k, "k", 1, 100000)
        rows = np.asarray(candidates)
        if single and rows.ndim == 1:
            rows = rows.reshape(1, -1)
        if rows.ndim != 2 or rows.shape[0] != offsets.size - 1:
            raise ValueError(f"candidates must have one row per query ({offsets.size - 1}), got shape {rows.shape}")
        if rows.size and not np.issubdtype(rows.dtype, np.integer):
            raise ValueError(f"candidate ids must be integers, got dtype {rows.dtype}")
        rows = np.ascontiguousarray(rows, dtype=np.int64)
        ids, scores = self._core.rerank(tokens, offsets, rows, k, check_threads(threads))
        return (ids[0], scores[0]) if single else (ids, scores)

    # Filters are turned into core expressions exactly as Index does it.
    _core_filters = Index._core_filters
    _one_filter = Index._one_filter
    _allow_list = Index._allow_list

    def get(self, id: Any) -> np.ndarray:
        """The stored token vectors of one document, float32 (n, dim). Unknown ids raise KeyError."""
        return self._core.get(int(as_ids(id, 1)[0]))

    def delete(self, ids: Any) -> None:
        """Remove documents; unknown ids raise ``KeyError`` and nothing is deleted."""
        self._core.remove(as_ids(ids))

    def encode_documents(self, docs: Any, *, threads: Optional[int] = None) -> np.ndarray:
        """The documents' encodings, float32 (n, encoding dim), as the index stores them."""
        tokens, offsets = _token_sets(docs, self.dim, "document")
        return self._core.encode(tokens, offsets, True, check_threads(threads))

    def encode_queries(self, queries: Any, *, threads: Optional[int] = None) -> np.ndarray:
        """The queries' encodings, float32 (n, encoding dim): their inner product with a
        document's encoding approximates the Chamfer similarity."""
        tokens, offsets = _token_sets(queries, self.dim, "query")
        return self._core.encode(tokens, offsets, False, check_threads(threads))

    # -- persistence ------------------------------------------------------------------
    def save(self, path: PathLike) -> None:
        """Write the index to ``path`` atomically, in the same checked format as Index files."""
        self._core.save(_checked_path(path))

    @classmethod
    def load(cls, path: PathLike, *, mmap: bool = False) -> "MultiVectorIndex":
        """Read an index written by :meth:`save`.

        With ``mmap=True`` the token vectors are read in place from the mapped file and the
        index is read-only (``add`` and ``delete`` raise ``RuntimeError``). A corrupt file
        raises :class:`vecindex.FormatError`, a missing one ``OSError``.
        """
        return cls._wrap(_core.MultiVectorIndex.load(_checked_path(path), bool(mmap)))

    def to_bytes(self) -> bytes:
        """The index as bytes, in the same format as :meth:`save`."""
        return self._core.to_bytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> "MultiVectorIndex":
        """Rebuild an index from :meth:`to_bytes` output; raises FormatError if corrupt."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"from_bytes() takes bytes, got {type(data).__name__}")
        view = memoryview(data)
        flat = view.cast("B") if view.c_contiguous else view.tobytes()
        return cls._wrap(_core.MultiVectorIndex.from_bytes(flat))

    def __reduce__(self):
        return (_from_bytes, (self.to_bytes(),))

    def memory_usage(self) -> dict:
        """Bytes held in RAM, by part: ``graph`` (links), ``encodings`` (stored encodings),
        ``attributes``, ``tokens`` (token arena), ``documents`` (id table) and ``mapped`` (the
        mapped file's size for ``mmap=True``; its tokens are not in ``tokens``)."""
        return dict(self._core.memory_usage())


def _one_set(item: Any, index: int, dim: int, what: str) -> np.ndarray:
    try:
        array = np.asarray(item)
        if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_) or \
                np.issubdtype(array.dtype, np.complexfloating):
            raise ValueError(f"dtype {array.dtype} is not real numbers")
    except (ValueError, TypeError) as error:
        raise ValueError(f"{what} {index} cannot be read as a 2-D array of numbers: {error}") from None
    if array.size == 0:
        raise ValueError(f"{what} {index} has no tokens")
    if array.ndim != 2:
        raise ValueError(f"{what} {index} must be a 2-D array (tokens, dim), got shape {array.shape}")
    if array.shape[1] != dim:
        raise ValueError(f"{what} {index} has {array.shape[1]} columns; this index has dim={dim}")
    with np.errstate(over="ignore", invalid="ignore"):
        return np.asarray(array, dtype=np.float32)


def _token_sets(sets: Any, dim: int, what: str) -> Tuple[np.ndarray, np.ndarray]:
    """(tokens float32 (T, dim), offsets int64 (n + 1)) from a list of sets or a packed pair."""
    if isinstance(sets, tuple) and len(sets) == 2 and np.ndim(sets[1]) == 1 and np.ndim(sets[0]) == 2 and \
            np.issubdtype(np.asarray(sets[1]).dtype, np.integer):
        tokens = _one_set(sets[0], 0, dim, what) if len(sets[0]) else np.empty((0, dim), np.float32)
        offsets = np.ascontiguousarray(sets[1], dtype=np.int64)
        return np.ascontiguousarray(tokens), offsets
    if isinstance(sets, np.ndarray) and sets.ndim == 2:
        raise ValueError(f"expected a list of {what} arrays; wrap a single (tokens, dim) array in a list")
    if not isinstance(sets, (Sequence, np.ndarray)) or isinstance(sets, (str, bytes)):
        raise TypeError(f"expected a list of (tokens, dim) arrays or (tokens, offsets), got {type(sets).__name__}")
    arrays = [_one_set(item, i, dim, what) for i, item in enumerate(sets)]
    offsets = np.zeros(len(arrays) + 1, dtype=np.int64)
    if arrays:
        np.cumsum([a.shape[0] for a in arrays], out=offsets[1:])
    tokens = np.concatenate(arrays) if arrays else np.empty((0, dim), np.float32)
    return np.ascontiguousarray(tokens, dtype=np.float32), offsets


def _from_bytes(data: bytes) -> MultiVectorIndex:
    return MultiVectorIndex.from_bytes(data)
