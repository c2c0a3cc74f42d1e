"""Ids and str keys as the driver handles them: checked, listed in messages, and empty arrays.

The rules for str keys (empty, not a str, over 1024 bytes of UTF-8, repeated in one add) live
in the core; the driver applies them by calling the same methods on a small empty str-keyed
``Index`` before any shard changes, so a refused call changes no shard.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from vecindex import Index
from vecindex import _keys
from vecindex._validation import as_ids


def _checker() -> Index:
    return Index(dim=1, M=2, ef_construction=1, keys="str")


def add_keys(ids: Any, count: int) -> np.ndarray:
    """add()'s keys, checked by the core as one add() of ``count`` vectors (ValueError), as an object array."""
    keys = _keys.require_keys(ids)
    # The core checks the count, then each key, before it links the scratch index's
    # one-dimensional points (cheap with M=2, ef_construction=1).
    _checker().add(np.zeros((count, 1), dtype=np.float32), keys)
    return _keys.as_key_array(keys)


def lookup_keys(ids: Any) -> np.ndarray:
    """Keys for delete/get/get_attrs, checked by the core (ValueError) as an object array."""
    keys = ids if ids is None else _keys.require_keys(ids)  # a generator is read once, here
    try:
        _checker().get_attrs(keys)
    except KeyError:
        pass  # the scratch index holds no key: every valid key is unknown to it
    return _keys.as_key_array(keys)


def add_ids(ids: Any, count: int, next_id: int, string_keys: bool) -> np.ndarray:
    if string_keys:
        return add_keys(ids, count)
    return np.arange(next_id, next_id + count, dtype=np.int64) if ids is None else as_ids(ids, count)


def lookup_ids(ids: Any, string_keys: bool) -> np.ndarray:
    return lookup_keys(ids) if string_keys else as_ids(ids)


def one_id(id: Any, string_keys: bool) -> Optional[np.ndarray]:
    """``id in index``: a one-item array of the id or key, or None for what cannot be one."""
    if string_keys:
        return _keys.as_key_array([id]) if isinstance(id, str) else None
    try:
        value = int(id)
    except (TypeError, ValueError):
        return None
    return np.array([value], dtype=np.int64) if 0 <= value < 2**63 else None


def empty(string_keys: bool) -> np.ndarray:
    return np.empty(0, dtype=object if string_keys else np.int64)


def list_ids(ids: np.ndarray) -> str:
    """The first ten ids (or keys, quoted) for an error message."""
    shown = ", ".join(repr(i) for i in ids[:10].tolist())
    return shown + (f", ... ({ids.size} in all)" if ids.size > 10 else "")
