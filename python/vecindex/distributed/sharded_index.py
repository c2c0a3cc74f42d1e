"""ShardedIndex: the vecindex.Index API over shards held by Ray actors."""
from __future__ import annotations

import weakref
from typing import Any, Optional

import numpy as np
import ray

from vecindex import attributes as _attributes
from vecindex._validation import as_matrix, check_positive_int
from vecindex.distributed import cluster, fanout, keys as _ids, persistence, routing
from vecindex.distributed.actor import search_batch
from vecindex.distributed.errors import ShardUnavailable, WritesLost
from vecindex.distributed.merge import merge_topk
from vecindex.distributed.search_filters import prepare_filter
from vecindex.index import DEFAULT_RERANK_FACTOR, DEFAULTS

_TRAINED_DTYPES = ("sq8", "sq4", "pq", "rabitq")
DEFAULT_TIMEOUT = 60.0  # seconds a call waits for a shard before calling it unavailable


class SearchResult(tuple):
    """``(ids, distances)`` from ``search(..., allow_partial=True)``; ``missing_shards`` lists the
    shards that did not answer (their vectors are absent from the results)."""

    def __new__(cls, ids, distances, missing_shards):
        result = super().__new__(cls, (ids, distances))
        result.missing_shards = sorted(missing_shards)
        return result


class ShardedIndex:
    """A vecindex.Index split over ``shards`` Ray actors, routed by a stable hash of the id.

    Takes every ``vecindex.Index`` parameter, plus: ``shards`` (number of shards),
    ``cpus_per_shard`` (CPUs reserved for each shard actor, and the threads its searches
    use; None reserves a token share, like Ray's own actors, and searches with one thread),
    ``placement_strategy`` (Ray placement group strategy, ``"SPREAD"`` by default),
    ``max_restarts`` (how often Ray restarts a dead shard actor; a restarted shard reopens
    its last save) and ``timeout`` (seconds a call waits for a shard).

    ``keys="str"`` makes every shard a str-keyed ``Index``: calls take and return str keys
    with that index's semantics and errors, and a key is routed by a hash of its UTF-8 bytes.
    """

    def __init__(self, dim: int, metric: str = DEFAULTS["metric"], M: int = DEFAULTS["M"],
                 ef_construction: int = DEFAULTS["ef_construction"], ef_search: int = DEFAULTS["ef_search"],
                 dtype: Optional[str] = None, seed: int = DEFAULTS["seed"], *, pq_m: int = 0,
                 rerank: Optional[bool] = None,
                 attributes: Optional[dict] = None, shards: int = 2, cpus_per_shard: Optional[float] = None,
                 placement_strategy: str = "SPREAD", max_restarts: int = 3, timeout: float = DEFAULT_TIMEOUT,
                 keys: str = "int"):
        config = {"dim": dim, "metric": metric, "M": M, "ef_construction": ef_construction, "ef_search": ef_search,
                  "dtype": dtype, "seed": seed, "pq_m": pq_m, "rerank": rerank, "attributes": attributes,
                  "keys": keys}
        self._setup(config, check_positive_int(shards, "shards", 1, 4096), cpus_per_shard, placement_strategy,
                     max_restarts, timeout)

    def _setup(self, config: dict, shards: int, cpus_per_shard, placement_strategy, max_restarts, timeout,
               initial: Optional[list] = None, next_id: int = 0, trained: bool = False) -> None:
        from vecindex import Index
        probe = Index(**config)  # checks every parameter the way Index does, before any actor starts
        self._schema = {"dim": probe.dim, "metric": probe.metric, "dtype": probe.dtype, "M": probe.M,
                        "ef_construction": probe.ef_construction, "ef_search": probe.ef_search, "seed": config["seed"],
                        "pq_m": config["pq_m"], "rerank": probe._core.rerank, "attributes": probe.attributes,
                        "keys": probe.key_type}
        self._string_keys = probe.key_type == "str"
        self._attribute_schema = _attributes.normalize_schema(config["attributes"])
        self.timeout = _check_timeout(timeout)
        self._shards = shards
        self._deployment = cluster.start(shards, config, cpus_per_shard=cpus_per_shard,
                                         placement_strategy=placement_strategy, max_restarts=max_restarts,
                                         initial=initial)
        # Dropping the index frees its actors and placement group (close() does it at once).
        weakref.finalize(self, self._deployment.close).atexit = False
        self._unsaved: list = [[] for _ in range(shards)]
        self._next_id = next_id
        # With full vectors kept (rerank), distances are exact whatever each shard's codec, so
        # every shard trains lazily on its own rows as an Index does; a shared codec trained on
        # a first batch of a few rows would only steer the walks worse.
        self._trained = trained or probe.dtype not in _TRAINED_DTYPES or probe._core.rerank
        # Restarted shard actors read their creation arguments again: keep them referenced.
        self._initial = initial
        described = fanout.call(self._deployment.actors, "describe", None, None, (), self.timeout)
        if described.down or described.errors:
            self.close()
            described.raise_user_error()
            raise RuntimeError(f"shard actors failed to start: {described.down}")
        self._tokens = [described.tokens[shard] for shard in range(shards)]
        self._saved_to: Optional[str] = None

    # -- plumbing -----------------------------------------------------------------------
    def _call(self, method: str, *, shards=None, args=(), args_by_shard=None, allow_partial=False,
              timeout=None) -> fanout.Outcome:
        """Runs one call on the shards; raises shard errors, unavailability and lost writes."""
        outcome = fanout.call(self._deployment.actors, method, shards, args_by_shard, args,
                              self.timeout if timeout is None else timeout)
        self._check_restarts(outcome)
        if outcome.down and (not allow_partial or not outcome.values):
            raise ShardUnavailable(list(outcome.down), outcome.down,
                                   {shard: self._unsaved_ids(shard) for shard in outcome.down})
        return outcome

    def _check_restarts(self, outcome: fanout.Outcome) -> None:
        lost = {}
        for shard, token in outcome.tokens.items():
            if token == self._tokens[shard]:
                continue
            self._tokens[shard] = token
            self._deployment.actors[shard].invoke.remote("set_ef_search", self._schema["ef_search"])
            unsaved = self._unsaved_ids(shard)
            self._unsaved[shard] = []
            if unsaved.size:
                lost[shard] = unsaved
        if lost:
            raise WritesLost(lost)

    def _unsaved_ids(self, shard: int) -> np.ndarray:
        parts = self._unsaved[shard]
        return np.unique(np.concatenate(parts)) if parts else _ids.empty(self._string_keys)

    # -- properties ---------------------------------------------------------------------
    dim = property(lambda self: self._schema["dim"], doc="Number of dimensions.")
    metric = property(lambda self: self._schema["metric"], doc="'l2', 'ip' or 'cosine'.")
    dtype = property(lambda self: self._schema["dtype"], doc="Storage type of the vectors.")
    M = property(lambda self: self._schema["M"], doc="Links per node on the upper levels.")
    ef_construction = property(lambda self: self._schema["ef_construction"], doc="Beam width used while building.")
    attributes = property(lambda self: dict(self._schema["attributes"]), doc="The attribute schema.")
    shards = property(lambda self: self._shards, doc="Number of shards.")
    key_type = property(lambda self: self._schema["keys"], doc="'int' (int64 ids) or 'str' (str keys).")
    cpus_per_shard = property(lambda self: self._deployment.cpus_per_shard, doc="CPUs reserved per shard actor.")

    @property
    def ef_search(self) -> int:
        """Default beam width of every shard's searches."""
        return self._schema["ef_search"]

    @ef_search.setter
    def ef_search(self, value: int) -> None:
        value = check_positive_int(value, "ef_search", 1, 100000)
        self._call("set_ef_search", args=(value,))
        self._schema["ef_search"] = value

    @property
    def read_only(self) -> bool:
        """True when loaded with ``mmap=True``."""
        return bool(self._call("describe", shards=[0]).values[0]["read_only"])

    def __len__(self) -> int:
        return int(sum(self._call("size").values.values()))

    def __contains__(self, id: Any) -> bool:
        ids = _ids.one_id(id, self._string_keys)
        if ids is None:
            return False
        shard = int(routing.shard_of(ids, self._shards)[0])
        return bool(self._call("present", shards=[shard], args=(ids,)).values[shard][0])

    def __repr__(self) -> str:
        return (f"vecindex.distributed.ShardedIndex(dim={self.dim}, metric={self.metric!r}, dtype={self.dtype!r}, "
                f"size={len(self)}, shards={self._shards}, M={self.M}, ef_construction={self.ef_construction}, "
                f"ef_search={self.ef_search}" + (", keys='str')" if self._string_keys else ")"))

    def shard_info(self) -> list:
        """Per shard: its node id, process id, size, and any error reopening its last save."""
        outcome = self._call("describe")
        return [outcome.values[shard] for shard in range(self._shards)]

    # -- data ---------------------------------------------------------------------------
    def add(self, vectors: Any, ids: Any = None, *, attrs: Any = None, replace: bool = False) -> np.ndarray:
        """As ``Index.add``: rows go to the shard that owns their id. Returns the int64 ids
        (for ``keys="str"``: the keys, as a numpy object array; every key is checked first).

        Ids already in the index (without ``replace``) are refused before any shard changes.
        If a shard then rejects its rows, rows already added to other shards are deleted again
        (with ``replace=True`` replaced vectors cannot be restored).
        """
        matrix, _ = as_matrix(vectors, self.dim, "vectors")
        count = matrix.shape[0]
        id_array = _ids.add_ids(ids, count, self._next_id, self._string_keys)
        columns = None
        if attrs is not None:
            _attributes.prepare(self._attribute_schema, attrs, count)  # checks every column before sending
            columns = _attributes.to_columns(attrs, count)
        if count == 0:
            return _ids.empty(self._string_keys)
        if not replace:
            existing = self._present(id_array)
            if existing.any():
                raise ValueError(f"ids already in the index: {_ids.list_ids(id_array[existing])} "
                                 f"(pass replace=True to overwrite)")
        if not self._trained:
            self._train_all(matrix)
        parts = routing.split_by_shard(id_array, self._shards)
        args = {shard: (matrix[rows], id_array[rows], _take_columns(columns, rows), bool(replace))
                for shard, rows in enumerate(parts) if rows.size}
        outcome = self._call("add", shards=list(args), args_by_shard=args, allow_partial=True)
        if outcome.errors or outcome.down:
            if not replace and outcome.values:  # undo the shards that took their rows
                undo = {shard: (args[shard][1],) for shard in outcome.values}
                fanout.call(self._deployment.actors, "delete", list(undo), undo, (), self.timeout)
            outcome.raise_user_error()
            raise ShardUnavailable(list(outcome.down), outcome.down,
                                   {shard: self._unsaved_ids(shard) for shard in outcome.down})
        for shard in args:
            self._unsaved[shard].append(args[shard][1])
        if not self._string_keys:
            self._next_id = max(self._next_id, int(id_array.max()) + 1)
        return id_array

    def _train_all(self, matrix: np.ndarray) -> None:
        """Every shard learns the same codec from the first batch, so their distances compare."""
        shared = ray.put(matrix)
        outcome = fanout.call(self._deployment.actors, "train", None, None, (shared,), self.timeout)
        if not outcome.errors and not outcome.down:
            self._trained = True

    def _present(self, id_array: np.ndarray) -> np.ndarray:
        parts = routing.split_by_shard(id_array, self._shards)
        args = {shard: (id_array[rows],) for shard, rows in enumerate(parts) if rows.size}
        outcome = self._call("present", shards=list(args), args_by_shard=args)
        outcome.raise_user_error()
        present = np.zeros(id_array.size, dtype=bool)
        for shard, mask in outcome.values.items():
            present[parts[shard]] = mask
        return present

    def _check_known(self, id_array: np.ndarray) -> None:
        present = self._present(id_array)
        if not present.all():
            raise KeyError(f"ids not in the index: {_ids.list_ids(id_array[~present])}")

    def delete(self, ids: Any) -> None:
        """As ``Index.delete``: unknown ids raise KeyError and nothing is deleted."""
        id_array = _ids.lookup_ids(ids, self._string_keys)
        self._check_known(id_array)
        parts = routing.split_by_shard(id_array, self._shards)
        args = {shard: (id_array[rows],) for shard, rows in enumerate(parts) if rows.size}
        self._call("delete", shards=list(args), args_by_shard=args).raise_user_error()
        for shard, (shard_ids,) in args.items():
            self._unsaved[shard].append(shard_ids)

    def compact(self) -> int:
        """Compacts every shard; returns the slots freed in all."""
        outcome = self._call("compact")
        outcome.raise_user_error()
        return int(sum(outcome.values.values()))

    def train(self, vectors: Any) -> None:
        """Trains every shard's codec on the same vectors (as ``Index.train``)."""
        matrix, _ = as_matrix(vectors, self.dim, "training vectors")
        self._call("train", args=(ray.put(matrix),)).raise_user_error()
        self._trained = True

    def get(self, ids: Any) -> np.ndarray:
        """Stored vectors of ``ids`` (float32, (m, dim)); unknown ids raise KeyError."""
        id_array = _ids.lookup_ids(ids, self._string_keys)
        self._check_known(id_array)
        parts = routing.split_by_shard(id_array, self._shards)
        args = {shard: (id_array[rows],) for shard, rows in enumerate(parts) if rows.size}
        outcome = self._call("get", shards=list(args), args_by_shard=args)
        outcome.raise_user_error()
        out = np.empty((id_array.size, self.dim), dtype=np.float32)
        for shard, vectors in outcome.values.items():
            out[parts[shard]] = vectors
        return out

    def get_attrs(self, ids: Any) -> dict:
        """Attributes of ``ids`` as a dict of columns; unknown ids raise KeyError."""
        id_array = _ids.lookup_ids(ids, self._string_keys)
        self._check_known(id_array)
        parts = routing.split_by_shard(id_array, self._shards)
        args = {shard: (id_array[rows],) for shard, rows in enumerate(parts) if rows.size}
        outcome = self._call("get_attrs", shards=list(args), args_by_shard=args)
        outcome.raise_user_error()
        columns = {name: [None] * id_array.size for name, _ in self._attribute_schema}
        for shard, values in outcome.values.items():
            for name, column in values.items():
                for position, value in zip(parts[shard].tolist(), column):
                    columns[name][position] = value
        return columns

    def ids(self) -> np.ndarray:
        """All live ids, sorted, as int64 (for ``keys="str"``: the keys, as a numpy object array)."""
        values = list(self._call("ids").values.values())
        return np.sort(np.concatenate(values)) if values else _ids.empty(self._string_keys)

    # -- search -------------------------------------------------------------------------
    def search(self, queries: Any, k: int = 10, *, ef: Optional[int] = None, threads: Optional[int] = None,
               rerank_factor: Optional[int] = None, filter: Any = None, strategy: str = "auto",
               allow_partial: bool = False, timeout: Optional[float] = None):
        """As ``Index.search``, over every shard, merged in the driver.

        The queries (and filter) go to the object store once per call; each shard returns
        its top k and the driver keeps the k nearest (ties by id). ``threads`` overrides the
        threads each shard uses (default: its CPUs). A shard that does not answer raises
        :class:`ShardUnavailable`, unless ``allow_partial=True``: then the result is a
        :class:`SearchResult` ``(ids, distances)`` whose ``missing_shards`` names them.
        For ``keys="str"``, ids are str keys in an object array (padding None, ties by key).
        """
        matrix, was_1d = as_matrix(queries, self.dim, "queries")
        k = check_positive_int(k, "k", 1, 100000)
        ef = None if ef is None else check_positive_int(ef, "ef", 1, 1000000)
        threads = None if threads is None else check_positive_int(threads, "threads", 1, 4096)
        if rerank_factor is None:
            rerank_factor = DEFAULT_RERANK_FACTOR.get(self.dtype, 4)
        prepared = prepare_filter(filter, matrix.shape[0], self._max_id, string_keys=self._string_keys)
        batch = search_batch(matrix, prepared, k, ef, rerank_factor, strategy, threads)
        outcome = self._call("search", args=(batch,), allow_partial=allow_partial, timeout=timeout)
        outcome.raise_user_error()
        ids, distances = merge_shard_results(outcome.values, k)
        if was_1d:
            ids, distances = ids[0], distances[0]
        return SearchResult(ids, distances, list(outcome.down)) if allow_partial else (ids, distances)

    def _max_id(self) -> int:
        return max(self._call("max_id").values.values())

    def explain(self, filter: Any, k: int = 10, *, ef: Optional[int] = None, strategy: str = "auto") -> dict:
        """Each shard's plan (``shards``: one ``Index.explain`` dict per shard) and the totals."""
        prepared = prepare_filter(filter, 1, self._max_id, allow_per_query=False, string_keys=self._string_keys)
        outcome = self._call("explain", args=(prepared, k, ef, strategy))
        outcome.raise_user_error()
        plans = [outcome.values[shard] for shard in range(self._shards)]
        matches, live = sum(p["matches"] for p in plans), sum(p["live"] for p in plans)
        return {"matches": matches, "live": live, "selectivity": matches / live if live else 0.0,
                "strategies": sorted({p["strategy"] for p in plans}), "shards": plans}

    # -- introspection ------------------------------------------------------------------
    def memory_usage(self) -> dict:
        """Bytes by part summed over the shards, plus ``shards``: each shard's own breakdown."""
        outcome = self._call("memory_usage")
        per_shard = [outcome.values[shard] for shard in range(self._shards)]
        total = {key: sum(part[key] for part in per_shard) for key in per_shard[0]}
        total["shards"] = per_shard
        return total

    def stats(self) -> dict:
        """``size`` and ``shards``: each shard's ``Index.stats()``."""
        outcome = self._call("stats")
        per_shard = [outcome.values[shard] for shard in range(self._shards)]
        return {"size": sum(s["size"] for s in per_shard), "shards": per_shard}

    def check_integrity(self) -> None:
        self._call("check_integrity").raise_user_error()

    # -- persistence and lifetime -------------------------------------------------------
    def save(self, path: str) -> None:
        """Each shard writes its file through its actor, then the checksummed manifest is written."""
        persistence.save(self, str(path))

    @classmethod
    def load(cls, path: str, *, mmap: bool = False, cpus_per_shard: Optional[float] = None,
             placement_strategy: str = "SPREAD", max_restarts: int = 3, timeout: float = DEFAULT_TIMEOUT):
        """Reopens a saved sharded index; every check failure raises vecindex.FormatError."""
        return persistence.load(cls, str(path), mmap=bool(mmap), cpus_per_shard=cpus_per_shard,
                                placement_strategy=placement_strategy, max_restarts=max_restarts, timeout=timeout)

    @classmethod
    def from_dataset(cls, ds, vector_column: str, id_column: Optional[str] = None, attr_columns=(), *,
                     shards: int = 2, attributes: Optional[dict] = None, **params) -> "ShardedIndex":
        """Builds the shards in parallel as Ray tasks from a Ray Dataset, then serves them."""
        from vecindex.distributed import dataset
        return dataset.build(cls, ds, vector_column, id_column, list(attr_columns), shards, attributes, params)

    def searcher(self, k: int = 10, vector_column: str = "embedding", **search_params):
        """A callable for ``ds.map_batches``: adds ``neighbour_ids`` and ``neighbour_distances``."""
        from vecindex.distributed.searcher import BatchSearcher
        return BatchSearcher(self._deployment.actors, self.dim, k, vector_column, search_params,
                             DEFAULT_RERANK_FACTOR.get(self.dtype, 4), self.timeout, self._string_keys)

    def close(self) -> None:
        """Stops the shard actors and frees their placement group."""
        if self._deployment.actors:
            self._deployment.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def merge_shard_results(values: dict, k: int):
    shards = sorted(values)
    return merge_topk([values[s][0] for s in shards], [values[s][1] for s in shards], k)


def _check_timeout(timeout: Any) -> float:
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    return float(timeout)


def _take_columns(columns: Optional[dict], rows: np.ndarray) -> Optional[dict]:
    if columns is None:
        return None
    picked = {}
    for name, values in columns.items():
        picked[name] = values[rows] if isinstance(values, np.ndarray) else [values[i] for i in rows.tolist()]
    return picked

