"""Saving and loading a sharded index: shard files written by their actors, then the manifest."""
from __future__ import annotations

import ray

from vecindex import FormatError, Index
from vecindex.distributed import fanout, manifest, storage

_INDEX_KEYS = ("dim", "metric", "M", "ef_construction", "ef_search", "dtype", "seed", "pq_m", "rerank", "attributes")


def save(index, path: str) -> None:
    storage.make_dir(path)
    outcome = index._call("save", args=(path,))
    outcome.raise_user_error()
    files = [outcome.values[shard] for shard in range(index.shards)]
    text = manifest.build(index._schema, index.shards, files, index._next_id)
    storage.write_text_atomically(storage.join(path, manifest.NAME), text)
    _record(index, path, files, getattr(index, "_mmap", False))
    index._unsaved = [[] for _ in range(index.shards)]


def _record(index, path: str, files: list, mmap: bool) -> None:
    """Tells the registry where each shard now lives, for actors that restart later."""
    registry = index._deployment.registry
    saves = [dict(entry, directory=path, mmap=mmap, schema=index._schema) for entry in files]
    ray.get([registry.record.remote(shard, saves[shard]) for shard in range(index.shards)])


def load(cls, path: str, *, mmap: bool, cpus_per_shard, placement_strategy, max_restarts, timeout):
    where = storage.join(path, manifest.NAME)
    parsed = manifest.parse(storage.read_text(where), where)
    schema, shards = parsed["schema"], parsed["shards"]
    config = {key: schema[key] for key in _INDEX_KEYS}
    config["keys"] = schema.get(manifest.KEYS_FIELD, "int")
    try:
        Index(**config)
    except (TypeError, ValueError) as error:
        raise FormatError(f"{where}: bad schema ({error})") from None
    index = cls.__new__(cls)
    index._setup(config, shards, cpus_per_shard, placement_strategy, max_restarts, timeout,
                 next_id=parsed["next_id"], trained=True)
    index._mmap = mmap
    saves = {shard: (dict(entry, directory=path, mmap=mmap, schema=schema),) for shard, entry in enumerate(parsed["files"])}
    outcome = fanout.call(index._deployment.actors, "open", None, saves, (), index.timeout)
    if outcome.errors or outcome.down:
        index.close()
        outcome.raise_user_error()
        raise RuntimeError(f"could not open shards {sorted(outcome.down)}: {outcome.down}")
    _record(index, path, parsed["files"], mmap)
    return index
