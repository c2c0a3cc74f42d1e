"""Ids and str keys as the driver handles them: checked, listed in messages, and empty arrays.

The rules for str keys (empty, not a str, over 1024 bytes of UTF-8, repeated in one add) live
in the core; the driver applies them through ``_core.check_keys`` before any shard changes, so
a refused call changes no shard.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from vecindex import _core
from vecindex import _keys
from vecindex._validation import as_ids


def add_keys(ids: Any, count: int) -> np.ndarray:
    """add()'s keys, checked by the core's rules for one add (ValueError), as an object array."""
    keys = _keys.require_keys(ids)
    if len(keys) != count:
        raise ValueError(f"got {len(keys)} keys for {count} vectors")
    _core.check_keys(keys, unique=True)
    return _keys.as_key_array(keys)


def lookup_keys(ids: Any) -> np.ndarray:
    """Keys for delete/get/get_attrs, checked by the core's rules (ValueError), as an object array."""
    keys = ids if ids is None else _keys.require_keys(ids)  # a generator is read once, here
    _core.check_keys(keys, unique=False)
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
