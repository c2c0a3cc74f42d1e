"""Building a sharded index from a Ray Dataset: shards built in parallel as Ray tasks.

Each block of the dataset is split by routing in one task (one output per shard); then one
task per shard builds that shard's Index from its pieces of every block. The built indexes
go to the shard actors through the object store.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import ray

from vecindex import Index
from vecindex.index import DEFAULTS
from vecindex.distributed import cluster, keys, routing
from vecindex.distributed.searcher import stack_vectors

_PLACEMENT_KEYS = ("cpus_per_shard", "placement_strategy", "max_restarts", "timeout")


def build(cls, ds, vector_column: str, id_column: Optional[str], attr_columns: list, shards: int,
          attributes: Optional[dict], params: dict):
    placement = {key: params.pop(key) for key in _PLACEMENT_KEYS if key in params}
    names = list(ds.schema().names)
    for column in [vector_column] + ([id_column] if id_column else []) + attr_columns:
        if column not in names:
            raise ValueError(f"the dataset has no column {column!r}; columns: {names}")
    if attributes is None:
        attributes = infer_attributes(ds.schema(), attr_columns)
    config = {"dim": _first_dim(ds, vector_column), "attributes": attributes or None, **params}
    index_kwargs = dict(config)
    string_keys = Index(**index_kwargs).key_type == "str"  # bad parameters fail here, before any task runs
    if string_keys and id_column is None:
        raise ValueError("an index with keys='str' needs id_column: a column of str keys")
    blocks = ds.to_numpy_refs()
    offsets = [0] * len(blocks)
    if id_column is None:  # row numbers as ids: each block needs its first row's number
        counts = ray.get([_count_rows.remote(block) for block in blocks])
        offsets = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(int).tolist()
    given = placement.get("cpus_per_shard")
    cpus = 1.0 if given is None else cluster.resolve_cpus(given)  # a build task works its CPUs hard
    partition = _partition.options(num_returns=shards)
    pieces = []
    for block, offset in zip(blocks, offsets):
        refs = partition.remote(block, vector_column, id_column, attr_columns, shards, offset, string_keys)
        pieces.append([refs] if shards == 1 else refs)
    builder = _build_shard.options(num_cpus=cpus)
    built = [builder.remote(index_kwargs, max(1, int(cpus)), *[piece[shard] for piece in pieces])
             for shard in range(shards)]
    largest = max(ray.get([_largest_id.remote(ref) for ref in built]))  # also raises any build error
    index = cls.__new__(cls)
    index._setup({**_defaults(), **config}, shards, placement.get("cpus_per_shard"),
                 placement.get("placement_strategy", "SPREAD"), placement.get("max_restarts", 3),
                 placement.get("timeout", 60.0), initial=built, next_id=largest + 1, trained=True)
    return index


def _defaults() -> dict:
    """Index's own defaults (dtype and rerank left for Index to resolve), so a ShardedIndex built
    from a dataset is configured as one built by its constructor."""
    shared = {name: DEFAULTS[name] for name in ("metric", "M", "ef_construction", "ef_search", "seed")}
    return {**shared, "dtype": None, "rerank": None, "pq_m": 0, "keys": "int"}


def _first_dim(ds, vector_column: str) -> int:
    first = ds.take_batch(1, batch_format="numpy")[vector_column]
    return int(stack_vectors(first).shape[1])


def infer_attributes(schema, columns: list) -> dict:
    """Attribute kinds from the dataset's Arrow types: string -> keyword, list of strings ->
    keywords, integer -> int, floating -> float, bool -> bool."""
    import pyarrow as pa

    types = dict(zip(schema.names, schema.types))
    kinds = {}
    for name in columns:
        kind = types[name]
        if pa.types.is_boolean(kind):
            kinds[name] = "bool"
        elif pa.types.is_integer(kind):
            kinds[name] = "int"
        elif pa.types.is_floating(kind):
            kinds[name] = "float"
        elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
            kinds[name] = "keyword"
        elif (pa.types.is_list(kind) or pa.types.is_large_list(kind)) and (
                pa.types.is_string(kind.value_type) or pa.types.is_large_string(kind.value_type)):
            kinds[name] = "keywords"
        else:
            raise TypeError(f"cannot infer an attribute kind for column {name!r} of type {kind}; "
                            f"pass attributes={{{name!r}: 'keyword' | 'keywords' | 'int' | 'float' | 'bool'}}")
    return kinds


def _python_column(values) -> list:
    return [value.tolist() if isinstance(value, np.ndarray) else value for value in np.asarray(values).tolist()]


@ray.remote
def _count_rows(block: dict) -> int:
    return len(next(iter(block.values()))) if block else 0


@ray.remote
def _partition(block: dict, vector_column, id_column, attr_columns, shards: int, offset: int, string_keys: bool):
    vectors = np.ascontiguousarray(stack_vectors(block[vector_column]), dtype=np.float32)
    if string_keys:  # checked by the core before routing hashes them (repeats: by the shard's add)
        ids = keys.lookup_keys(np.asarray(block[id_column], dtype=object))
    elif id_column:
        ids = np.asarray(block[id_column]).astype(np.int64)
    else:
        ids = np.arange(offset, offset + len(vectors), dtype=np.int64)
    columns = {name: _python_column(block[name]) for name in attr_columns}
    pieces = []
    for rows in routing.split_by_shard(ids, shards):
        picked = rows.tolist()
        pieces.append({"vectors": vectors[rows], "ids": ids[rows],
                       "attrs": {name: [values[i] for i in picked] for name, values in columns.items()}})
    return pieces[0] if shards == 1 else tuple(pieces)


@ray.remote
def _build_shard(index_kwargs: dict, threads: int, *pieces) -> Index:
    index = Index(**index_kwargs)
    pieces = [piece for piece in pieces if len(piece["ids"])]
    if not pieces:
        return index
    vectors = np.concatenate([piece["vectors"] for piece in pieces])
    ids = np.concatenate([piece["ids"] for piece in pieces])
    attrs = {name: sum((piece["attrs"][name] for piece in pieces), []) for name in pieces[0]["attrs"]} or None
    index.add(vectors, ids, attrs=attrs, threads=threads)
    return index


@ray.remote
def _largest_id(index: Index) -> int:
    ids = index.ids()
    return int(ids.max()) if ids.size and index.key_type == "int" else -1
