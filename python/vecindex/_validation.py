"""Input checks shared by the public classes: turn array-likes into the exact arrays the
core expects, or raise an error that says what was wrong and what was expected."""
from __future__ import annotations

import numbers
from typing import Any, Optional

import numpy as np

_METRICS = ("l2", "ip", "cosine")


def check_metric(metric: Any) -> str:
    if not isinstance(metric, str) or metric.lower() not in _METRICS:
        raise ValueError(f"unknown metric {metric!r}; expected one of {', '.join(repr(m) for m in _METRICS)}")
    return metric.lower()


def check_positive_int(value: Any, name: str, minimum: int = 1, maximum: Optional[int] = None) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    value = int(value)
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def as_int(value: Any, name: str) -> int:
    """An integer option for the core, which checks its range (so only the type is checked
    here): bools, floats, strings and None are a TypeError; ints beyond int64 a ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    value = int(value)
    if not -2**63 <= value < 2**63:
        raise ValueError(f"{name} must fit in a 64-bit integer, got {value}")
    return value


def check_threads(threads: Any) -> int:
    """None means all cores (0 for the core); otherwise a positive integer."""
    if threads is None:
        return 0
    return check_positive_int(threads, "threads", 1, 4096)


def as_matrix(data: Any, dim: int, what: str) -> tuple[np.ndarray, bool]:
    """Returns (C-contiguous float32 2-D array, was_1d)."""
    try:
        array = np.asarray(data)
    except Exception as error:  # ragged lists and the like
        raise ValueError(f"{what} must be an array of numbers: {error}") from None
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise ValueError(f"{what} must be numeric, got dtype {array.dtype}")
    if np.issubdtype(array.dtype, np.complexfloating):
        raise ValueError(f"{what} must be real numbers, got dtype {array.dtype}")
    was_1d = array.ndim == 1
    if was_1d:
        array = array.reshape(1, -1)
    if array.ndim != 2:
        raise ValueError(f"{what} must be 1-D (one vector) or 2-D (n, dim), got shape {array.shape}")
    if array.shape[1] != dim:
        raise ValueError(f"{what} have {array.shape[1]} columns; this index has dim={dim}")
    with np.errstate(over="ignore", invalid="ignore"):
        array = np.ascontiguousarray(array, dtype=np.float32)
    if array.size and not np.isfinite(array).all():
        bad = int(np.flatnonzero(~np.isfinite(array).all(axis=1))[0])
        raise ValueError(f"{what} contain NaN or infinity (row {bad}; values beyond float32 range count too)")
    return array, was_1d


def as_ids(ids: Any, expected: Optional[int] = None, what: str = "ids", *, allow_negative: bool = False) -> np.ndarray:
    """Returns a C-contiguous int64 1-D array of ids (a scalar becomes one id).

    Whole floats (3.0) are taken as ids; fractions, bools, strings and values outside int64
    are a ValueError. ``allow_negative`` keeps negative values (allow-lists: they match nothing).
    """
    array = np.asarray(ids)
    if array.ndim == 0:
        array = array.reshape(1)
    if array.ndim != 1:
        raise ValueError(f"{what} must be 1-D, got shape {array.shape}")
    if array.size == 0:
        array = array.astype(np.int64)
    elif array.dtype == object:
        array = _python_ints_as_int64(array, what)
    elif array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.integer):
        if np.issubdtype(array.dtype, np.floating) and np.all(np.isfinite(array)) and np.all(array == np.round(array)):
            if np.any(np.abs(array) >= 2.0**63):
                raise ValueError(f"{what} must fit in int64")
            array = array.astype(np.int64)
        else:
            raise ValueError(f"{what} must be integers, got dtype {array.dtype}")
    if array.dtype == np.uint64 and array.size and array.max() > np.iinfo(np.int64).max:
        raise ValueError(f"{what} must fit in int64; got {int(array.max())}")
    array = np.ascontiguousarray(array, dtype=np.int64)
    if expected is not None and array.shape[0] != expected:
        raise ValueError(f"got {array.shape[0]} {what} for {expected} vectors")
    if not allow_negative and array.size and array.min() < 0:
        raise ValueError(f"{what} must be non-negative; got {int(array.min())}")
    return array


def _python_ints_as_int64(array: np.ndarray, what: str) -> np.ndarray:
    # numpy keeps Python ints beyond uint64 (and some mixes) as objects.
    values = array.tolist()
    if not all(isinstance(value, numbers.Integral) and not isinstance(value, bool) for value in values):
        raise ValueError(f"{what} must be integers, got dtype {array.dtype}")
    outside = [int(value) for value in values if not -2**63 <= int(value) < 2**63]
    if outside:
        raise ValueError(f"{what} must fit in int64; got {outside[0]}")
    return np.array([int(value) for value in values], dtype=np.int64)
