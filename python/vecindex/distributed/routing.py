"""Which shard owns an id: a stable hash of the int64 id (or str key), the same in every process
and release.

Python's ``hash()`` is not used: it is salted per process for strings and may change between
versions, and a shard file written by one process must be found by another. splitmix64 (the
finaliser of Steele, Lea and Flood's SplitMix generator) mixes every bit of the id, so
consecutive ids spread evenly over shards. A str key (``keys="str"``) is hashed by the first 8
bytes of BLAKE2b over its UTF-8 bytes, read as a little-endian uint64, then taken modulo the
shard count the same way.
"""
from __future__ import annotations

import hashlib

import numpy as np

SCHEME = "splitmix64-mod"
KEY_SCHEME = "blake2b64-mod"
# Ids (and keys) whose shards the manifest records, so a file written under another routing is caught.
PROBE_IDS = np.arange(64, dtype=np.int64) * 7919 + 1
PROBE_KEYS = np.array([f"key-{i}" for i in range(64)], dtype=object)

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def splitmix64(ids: np.ndarray) -> np.ndarray:
    """The 64-bit splitmix64 mix of each id (uint64 arithmetic wraps, as the algorithm wants)."""
    z = np.asarray(ids, dtype=np.int64).view(np.uint64) + _GAMMA
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


def key_hash(keys: np.ndarray) -> np.ndarray:
    """The uint64 BLAKE2b-64 hash of each str key's UTF-8 bytes (one digest per key, read at once)."""
    digests = b"".join(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest() for key in keys)
    return np.frombuffer(digests, dtype="<u8").astype(np.uint64)


def is_keys(ids: np.ndarray) -> bool:
    """True for an array of str keys (object or unicode dtype), False for int ids."""
    return np.asarray(ids).dtype.kind in "OU"


def shard_of(ids: np.ndarray, shards: int) -> np.ndarray:
    """Shard number (int64) of every id, or of every str key."""
    mixed = key_hash(ids) if is_keys(ids) else splitmix64(ids)
    return (mixed % np.uint64(shards)).astype(np.int64)


def split_by_shard(ids: np.ndarray, shards: int) -> list[np.ndarray]:
    """For each shard, the positions in ``ids`` of the ids it owns (in their original order)."""
    owner = shard_of(ids, shards)
    order = np.argsort(owner, kind="stable")
    bounds = np.searchsorted(owner[order], np.arange(shards + 1))
    return [order[bounds[s]:bounds[s + 1]] for s in range(shards)]


def describe(shards: int, string_keys: bool = False) -> dict:
    """What the manifest stores about routing."""
    if string_keys:
        return {"scheme": KEY_SCHEME, "shards": shards, "probe": shard_of(PROBE_KEYS, shards).tolist()}
    return {"scheme": SCHEME, "shards": shards, "probe": shard_of(PROBE_IDS, shards).tolist()}


def check(routing: object, shards: int, string_keys: bool = False) -> str:
    """Why a manifest's routing entry does not match this code's routing, or '' if it does."""
    if not isinstance(routing, dict):
        return "routing entry is not an object"
    scheme = KEY_SCHEME if string_keys else SCHEME
    if routing.get("scheme") != scheme:
        return f"routing scheme {routing.get('scheme')!r} is not {scheme!r}"
    if routing != describe(shards, string_keys):
        return "routing entry does not match the shard count or the hash of this version"
    return ""
