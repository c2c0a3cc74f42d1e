"""The shard actor (one vecindex.Index per actor) and the registry of each shard's last save.

Every shard call returns the actor's incarnation token with its result: a restarted actor
has a new token, which is how the driver notices a restart and reports the writes it lost.
Most calls go through :meth:`Shard.invoke`; the per-batch hot path, :meth:`Shard.search`, is
called directly with one argument (see :data:`DIRECT_METHODS`).
"""
from __future__ import annotations

import os
import uuid
from typing import Any, Optional

import numpy as np
import ray

from vecindex import FormatError, Index
from vecindex.distributed import routing, storage
from vecindex.distributed.manifest import shard_file_name

# Called as ``actor.<name>.remote(arg)`` rather than through ``invoke``: Ray binds, serializes
# and deserializes every argument of every call separately, so the search batch travels as
# one object-store entry holding the queries, the filter and every parameter.
DIRECT_METHODS = frozenset({"search"})


class Registry:
    """Where each shard was last saved, so a restarted shard actor can reopen it."""

    def __init__(self):
        self.saves: dict = {}

    def record(self, shard: int, saved: dict) -> None:
        self.saves[shard] = saved

    def last_save(self, shard: int) -> Optional[dict]:
        return self.saves.get(shard)


class Shard:
    """Holds shard ``shard`` of ``shards``; reopens the registry's last save after a restart."""

    def __init__(self, shard: int, shards: int, config: dict, threads: int, registry: Any = None,
                 initial: Optional[Index] = None):
        self.shard, self.shards, self.threads = shard, shards, threads
        self.token = uuid.uuid4().hex
        self.restore_error = ""
        self.index = Index(**config) if initial is None else initial
        saved = ray.get(registry.last_save.remote(shard)) if registry is not None else None
        if saved is not None:
            try:
                self.open(saved)
            except Exception as error:  # noqa: BLE001 - reported by describe(), never fatal to the actor
                self.restore_error = f"{type(error).__name__}: {error}"

    def invoke(self, method: str, *args: Any, **kwargs: Any):
        return self.token, getattr(self, method)(*args, **kwargs)

    # -- data ---------------------------------------------------------------------------
    def add(self, vectors, ids, attrs, replace: bool) -> int:
        return int(self.index.add(vectors, ids, attrs=attrs, replace=replace, threads=self.threads).size)

    # Ray records an event per task for its state API and dashboard, in the worker and the
    # driver, and ships them to the GCS: on small batches that cost as much CPU as the search.
    # Search tasks therefore are not listed there; errors and actor deaths still reach the
    # caller through the task's result.
    @ray.method(enable_task_events=False)
    def search(self, batch: tuple):
        """``batch`` (made by :func:`search_batch`) is one object-store entry shared by every
        shard; Ray hands it over with the queries read in place (zero-copy). Returns
        ``(token, (ids, distances))`` as ``invoke`` does."""
        queries, filter, k, ef, rerank_factor, strategy, threads = batch
        return self.token, self.index.search(queries, k, ef=ef, rerank_factor=rerank_factor, filter=filter,
                                             strategy=strategy, threads=threads or self.threads)

    def max_id(self) -> int:
        ids = self.index.ids()
        return int(ids.max()) if ids.size and not routing.is_keys(ids) else -1

    def present(self, ids: np.ndarray) -> np.ndarray:
        """Mask of the ids this shard holds."""
        return np.fromiter((i in self.index for i in ids.tolist()), dtype=bool, count=len(ids))

    def get(self, ids):
        return self.index.get(ids)

    def get_attrs(self, ids):
        return self.index.get_attrs(ids)

    def delete(self, ids) -> None:
        self.index.delete(ids)

    def compact(self) -> int:
        return self.index.compact(threads=self.threads)

    def train(self, vectors) -> None:
        self.index.train(vectors, threads=self.threads)

    def size(self) -> int:
        return len(self.index)

    def ids(self) -> np.ndarray:
        return self.index.ids()

    def set_ef_search(self, value: int) -> None:
        self.index.ef_search = value

    def explain(self, filter, k, ef, strategy) -> dict:
        return self.index.explain(filter, k, ef=ef, strategy=strategy)

    def memory_usage(self) -> dict:
        return self.index.memory_usage()

    def stats(self) -> dict:
        return self.index.stats()

    def check_integrity(self) -> None:
        self.index.check_integrity()

    def describe(self) -> dict:
        return {"shard": self.shard, "node_id": ray.get_runtime_context().get_node_id(), "pid": os.getpid(),
                "size": len(self.index), "read_only": self.index.read_only, "restore_error": self.restore_error}

    # -- persistence --------------------------------------------------------------------
    def save(self, directory: str) -> dict:
        """Writes this shard's file (atomically, by Index.save) and returns its manifest entry."""
        name = shard_file_name(self.shard, self.shards)
        location = storage.join(directory, name)
        if storage.is_uri(directory):
            with storage.scratch_dir(f"vecindex-shard{self.shard}-") as scratch:
                local = os.path.join(scratch, name)
                self.index.save(local)
                digest, size = storage.sha256_of_file(local)
                storage.upload(local, location)
        else:
            self.index.save(location)
            digest, size = storage.sha256_of_file(location)
        return {"shard": self.shard, "file": name, "sha256": digest, "bytes": size, "count": len(self.index)}

    def open(self, saved: dict) -> int:
        """Opens a saved shard file after checking its checksum, schema and routing."""
        location = storage.join(saved["directory"], saved["file"])
        if not storage.is_uri(location):
            return self._open_checked(location, location, saved, *storage.sha256_of_file(location))
        # The downloaded copy goes once loaded: a plain load has read it, and an mmap load keeps
        # its mapping after the unlink (POSIX). Kept until the actor exited, every reopen and
        # every restart would leave a whole shard behind in the temp directory.
        with storage.scratch_dir(f"vecindex-shard{self.shard}-") as scratch:
            local, digest, size = storage.local_copy(location, scratch)
            return self._open_checked(local, location, saved, digest, size)

    def _open_checked(self, local: str, location: str, saved: dict, digest: str, size: int) -> int:
        if digest != saved["sha256"] or size != saved["bytes"]:
            raise FormatError(f"{location}: shard {self.shard} file checksum mismatch (the file was modified or "
                              f"damaged since the manifest was written)")
        index = Index.load(local, mmap=saved["mmap"])
        _check_matches(index, saved, self.shard, self.shards, location)
        self.index = index
        return len(index)


def search_batch(queries: np.ndarray, filter: Any, k: int, ef: Optional[int], rerank_factor: int, strategy: str,
                 threads: Optional[int]):
    """What the driver puts in the object store once per search batch, for :meth:`Shard.search`."""
    return ray.put((queries, filter, k, ef, rerank_factor, strategy, threads))


def _check_matches(index: Index, saved: dict, shard: int, shards: int, location: str) -> None:
    schema = saved["schema"]
    found = {"dim": index.dim, "metric": index.metric, "dtype": index.dtype, "M": index.M,
             "ef_construction": index.ef_construction, "attributes": index.attributes, "keys": index.key_type}
    for key, value in found.items():
        if schema.get(key, "int") != value:
            raise FormatError(f"{location}: shard {shard} has {key}={value!r} but the manifest says {schema[key]!r}")
    if len(index) != saved["count"]:
        raise FormatError(f"{location}: shard {shard} holds {len(index)} vectors but the manifest says {saved['count']}")
    ids = index.ids()
    wrong = ids[routing.shard_of(ids, shards) != shard]
    if wrong.size:
        raise FormatError(f"{location}: shard {shard} holds ids that route to other shards (e.g. {wrong.tolist()[0]!r})")
    index.ef_search = schema["ef_search"]
