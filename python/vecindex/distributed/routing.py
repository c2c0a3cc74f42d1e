"""Which shard owns an id: a stable hash of the int64 id, the same in every process and release.

Python's ``hash()`` is not used: it is salted per process for strings and may change between
versions, and a shard file written by one process must be found by another. splitmix64 (the
finaliser of Steele, Lea and Flood's SplitMix generator) mixes every bit of the id, so
consecutive ids spread evenly over shards.
"""
from __future__ import annotations

import numpy as np

SCHEME = "splitmix64-mod"
# Ids whose shards the manifest records, so a file written under another routing is caught.
PROBE_IDS = np.arange(64, dtype=np.int64) * 7919 + 1

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def splitmix64(ids: np.ndarray) -> np.ndarray:
    """The 64-bit splitmix64 mix of each id (uint64 arithmetic wraps, as the algorithm wants)."""
    z = np.asarray(ids, dtype=np.int64).view(np.uint64) + _GAMMA
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


def shard_of(ids: np.ndarray, shards: int) -> np.ndarray:
    """Shard number (int64) of every id."""
    return (splitmix64(ids) % np.uint64(shards)).astype(np.int64)


def split_by_shard(ids: np.ndarray, shards: int) -> list[np.ndarray]:
    """For each shard, the positions in ``ids`` of the ids it owns (in their original order)."""
    owner = shard_of(ids, shards)
    order = np.argsort(owner, kind="stable")
    bounds = np.searchsorted(owner[order], np.arange(shards + 1))
    return [order[bounds[s]:bounds[s + 1]] for s in range(shards)]


def describe(shards: int) -> dict:
    """What the manifest stores about routing."""
    return {"scheme": SCHEME, "shards": shards, "probe": shard_of(PROBE_IDS, shards).tolist()}


def check(routing: object, shards: int) -> str:
    """Why a manifest's routing entry does not match this code's routing, or '' if it does."""
    if not isinstance(routing, dict):
        return "routing entry is not an object"
    if routing.get("scheme") != SCHEME:
        return f"routing scheme {routing.get('scheme')!r} is not {SCHEME!r}"
    if routing != describe(shards):
        return "routing entry does not match the shard count or the hash of this version"
    return ""
