"""The sharded index's manifest: shard count, routing, schema and each shard file's checksum.

The manifest carries a sha256 of its own canonical JSON, so an edit to any field is caught
even where it would still parse; every check failure is a :class:`vecindex.FormatError`.
"""
from __future__ import annotations

import hashlib
import json

from vecindex import FormatError
from vecindex.distributed import routing, storage

NAME = "manifest.json"
FORMAT = "vecindex-sharded"
VERSION = 1
SCHEMA_KEYS = ("dim", "metric", "dtype", "M", "ef_construction", "ef_search", "seed", "pq_m", "rerank", "attributes")
# Written only for keys="str": int-keyed manifests stay as before, and a release that does not
# know string keys refuses a str-keyed manifest (its schema has a field it does not expect).
KEYS_FIELD = "keys"


def shard_file_name(shard: int, shards: int) -> str:
    return f"shard-{shard:05d}-of-{shards:05d}.vx"


def _digest(body: dict) -> str:
    return hashlib.sha256(storage.dumps(body).encode()).hexdigest()


def build(schema: dict, shards: int, files: list, next_id: int) -> str:
    string_keys = schema.get(KEYS_FIELD) == "str"
    fields = SCHEMA_KEYS + ((KEYS_FIELD,) if string_keys else ())
    body = {"format": FORMAT, "version": VERSION, "shards": shards, "routing": routing.describe(shards, string_keys),
            "schema": {key: schema[key] for key in fields}, "files": files, "next_id": next_id}
    return json.dumps(dict(body, checksum=_digest(body)), indent=1, sort_keys=True)


def parse(text: str, where: str) -> dict:
    """The checked manifest; raises FormatError naming what is wrong."""
    try:
        manifest = json.loads(text)
    except ValueError as error:
        raise FormatError(f"{where}: manifest is not valid JSON ({error})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise FormatError(f"{where}: not a vecindex sharded-index manifest")
    if manifest.get("version") != VERSION:
        raise FormatError(f"{where}: manifest version {manifest.get('version')!r} is not supported (expected {VERSION})")
    body = {key: value for key, value in manifest.items() if key != "checksum"}
    if manifest.get("checksum") != _digest(body):
        raise FormatError(f"{where}: manifest checksum mismatch (the manifest was modified or damaged)")
    shards = manifest.get("shards")
    if not isinstance(shards, int) or isinstance(shards, bool) or shards < 1:
        raise FormatError(f"{where}: bad shard count {shards!r}")
    schema = manifest.get("schema")
    if not isinstance(schema, dict) or set(schema) - {KEYS_FIELD} != set(SCHEMA_KEYS):
        raise FormatError(f"{where}: schema entry is missing or incomplete")
    if schema.get(KEYS_FIELD, "str") != "str":
        raise FormatError(f"{where}: bad key type {schema.get(KEYS_FIELD)!r} in the schema")
    problem = routing.check(manifest.get("routing"), shards, KEYS_FIELD in schema)
    if problem:
        raise FormatError(f"{where}: {problem}")
    files = manifest.get("files")
    if not isinstance(files, list) or len(files) != shards:
        raise FormatError(f"{where}: expected {shards} shard files, found {len(files) if isinstance(files, list) else 0}")
    for shard, entry in enumerate(files):
        if (not isinstance(entry, dict) or entry.get("shard") != shard
                or entry.get("file") != shard_file_name(shard, shards)
                or not isinstance(entry.get("sha256"), str) or not isinstance(entry.get("bytes"), int)
                or not isinstance(entry.get("count"), int)):
            raise FormatError(f"{where}: bad entry for shard {shard} in the file list")
    if not isinstance(manifest.get("next_id"), int):
        raise FormatError(f"{where}: bad next_id")
    return manifest
