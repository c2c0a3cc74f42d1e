"""String keys (``Index(..., keys="str")``): the Python side only converts types.

The core stores the keys, checks them (empty, longer than 1024 bytes of UTF-8, repeated in
one add: ``ValueError``; unknown: ``KeyError``) and translates them under its own locks.
"""
from __future__ import annotations

from typing import Any

import numpy as np

KEY_TYPES = ("int", "str")


def check_key_type(keys: Any) -> bool:
    """True for ``keys="str"``; ``"int"`` (the default) keeps int64 ids."""
    if not isinstance(keys, str) or keys not in KEY_TYPES:
        raise ValueError(f"keys must be 'int' or 'str', got {keys!r}")
    return keys == "str"


def as_key_array(keys: Any) -> np.ndarray:
    """Keys as a 1-D numpy object array of str (what add() returns for a str-keyed index)."""
    array = np.empty(len(keys), dtype=object)
    array[:] = list(keys)
    return array


def contains(core: Any, key: Any) -> bool:
    """``key in index`` for string keys: False for anything that is not a str key."""
    return isinstance(key, str) and core.contains_key(key)


def require_keys(ids: Any) -> Any:
    """add()'s keys as a list or array the core can read twice (a generator is consumed once)."""
    if ids is None:
        raise ValueError("an index with keys='str' needs ids=[str, ...] for add(): one key per vector")
    if isinstance(ids, str):
        return [ids]
    if isinstance(ids, (list, np.ndarray)):
        return ids
    try:
        return list(ids)
    except TypeError:
        raise ValueError(f"keys must be a str or a sequence of str, not {type(ids).__name__}") from None


def is_key_list(values: Any) -> bool:
    """A str, or a list/tuple/array whose items are all str: an allow-list of keys."""
    if isinstance(values, str):
        return True
    if isinstance(values, np.ndarray):
        return values.dtype.kind == "U" or (values.dtype == object and values.size > 0
                                            and all(isinstance(v, str) for v in values.flat))
    return isinstance(values, (list, tuple)) and len(values) > 0 and all(isinstance(v, str) for v in values)


def callable_allow_list(core: Any, predicate: Any) -> Any:
    """The keys of a str-keyed index for which predicate(key) is true."""
    live = core.keys()
    return [key for key in live if predicate(key)]
