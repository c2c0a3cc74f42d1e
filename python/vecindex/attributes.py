"""Attribute schemas and columns: checks user input and writes it into a ``_core.AttributeStore``.

Every column of a batch is converted and checked before anything is written, so a bad
column leaves the store unchanged.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from typing import Optional

import numpy as np

from vecindex import _core

KINDS = ("keyword", "keywords", "int", "float", "bool")


def normalize_schema(attributes) -> list[tuple[str, str]]:
    """``{"section": "keyword", ...}`` -> ``[("section", "keyword"), ...]`` with checks."""
    if attributes is None:
        return []
    if not isinstance(attributes, Mapping):
        raise TypeError(f"attributes must be a dict of name -> kind, not {type(attributes).__name__}")
    schema = []
    for name, kind in attributes.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"attribute names must be non-empty strings, not {name!r}")
        if kind not in KINDS:
            raise ValueError(f"attribute {name!r} has kind {kind!r}; expected one of {', '.join(KINDS)}")
        schema.append((name, kind))
    return schema


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or (
        isinstance(value, np.floating) and np.isnan(value))


def _type_error(name: str, kind: str, row: int, value, expected: str) -> TypeError:
    return TypeError(f"attribute {name!r} is {kind}: row {row} holds {type(value).__name__} {value!r:.60}; expected {expected}")


def _keyword_column(name: str, values) -> list:
    out: list[Optional[str]] = []
    for row, value in enumerate(values):
        if _is_missing(value):
            out.append(None)
        elif isinstance(value, str):
            out.append(str(value))
        else:
            extra = " (use kind 'keywords' for a set of strings per row)" if isinstance(value, (list, tuple, set, frozenset)) else ""
            raise _type_error(name, "keyword", row, value, "a str or None" + extra)
    return out


def _keywords_column(name: str, values) -> list:
    out: list[Optional[list[str]]] = []
    for row, value in enumerate(values):
        if _is_missing(value):
            out.append(None)
            continue
        if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
            raise _type_error(name, "keywords", row, value, "a list of str (wrap one keyword in a list) or None")
        keywords = []
        for item in value:
            if not isinstance(item, str):
                kind = "unhashable " if getattr(item, "__hash__", None) is None else ""
                raise TypeError(f"attribute {name!r} is keywords: row {row} holds the {kind}value {item!r:.60} "
                                f"({type(item).__name__}); every keyword must be a str")
            keywords.append(str(item))
        out.append(keywords)
    return out


def _number_column(name: str, kind: str, values, rows: int):
    """-> (values array, present uint8 array)."""
    array = np.asarray(values) if not isinstance(values, list) else np.asarray(values, dtype=object)
    dtype = np.int64 if kind == "int" else np.float64
    if array.dtype.kind in "iu":
        if array.dtype.kind == "u" and array.size and kind == "int" and array.max() > np.iinfo(np.int64).max:
            raise ValueError(f"attribute {name!r} is int: a value does not fit in int64")
        return array.astype(dtype), np.ones(rows, np.uint8)
    if array.dtype.kind == "f":
        present = ~np.isnan(array)
        if kind == "int":
            finite = array[present]
            if not np.all(np.isfinite(finite)) or np.any(finite != np.floor(finite)):
                raise TypeError(f"attribute {name!r} is int but holds non-integral floats; round them or declare it float")
        return np.where(present, array, 0).astype(dtype), present.astype(np.uint8)
    if array.dtype.kind != "O":
        raise TypeError(f"attribute {name!r} is {kind}: got an array of {array.dtype}; expected numbers")
    out = np.zeros(rows, dtype)
    present = np.ones(rows, np.uint8)
    for row, value in enumerate(array):
        if _is_missing(value):
            present[row] = 0
        elif isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            raise _type_error(name, kind, row, value, "a number or None")
        elif kind == "int":
            if not isinstance(value, numbers.Integral) and float(value) != math.floor(float(value)):
                raise _type_error(name, kind, row, value, "an integer or None")
            integer = int(value)  # type: ignore[call-overload]  # a numbers.Integral or a whole float
            if not -2**63 <= integer < 2**63:
                raise ValueError(f"attribute {name!r} is int: row {row} value {integer} does not fit in int64")
            out[row] = integer
        else:
            out[row] = float(value)
    return out, present


def _bool_column(name: str, values, rows: int):
    array = np.asarray(values) if not isinstance(values, list) else np.asarray(values, dtype=object)
    if array.dtype.kind == "b":
        return array.astype(np.uint8), np.ones(rows, np.uint8)
    out = np.zeros(rows, np.uint8)
    present = np.ones(rows, np.uint8)
    for row, value in enumerate(array.tolist() if array.dtype.kind != "O" else array):
        if _is_missing(value):
            present[row] = 0
        elif isinstance(value, (bool, np.bool_)):
            out[row] = bool(value)
        else:
            raise _type_error(name, "bool", row, value, "True, False or None")
    return out, present


def to_columns(attrs, rows: int) -> dict:
    """Accepts a dict of columns, a pandas DataFrame or a list of per-row dicts."""
    if attrs is None:
        return {}
    if hasattr(attrs, "columns") and hasattr(attrs, "to_dict") and not isinstance(attrs, Mapping):  # pandas
        return {str(column): attrs[column].tolist() for column in attrs.columns}
    if isinstance(attrs, Mapping):
        return dict(attrs)
    if isinstance(attrs, (list, tuple)) and all(isinstance(row, Mapping) or row is None for row in attrs):
        names = []
        for row in attrs:
            for name in row or ():
                if name not in names:
                    names.append(name)
        return {name: [(row or {}).get(name) for row in attrs] for name in names}
    raise TypeError(f"attrs must be a dict of columns, a pandas DataFrame or a list of dicts, not {type(attrs).__name__}")


def prepare(schema: list[tuple[str, str]], attrs, rows: int) -> list:
    """Checks and converts every column; returns writer calls for :func:`write`."""
    columns = to_columns(attrs, rows)
    kinds = dict(schema)
    for name in columns:
        if name not in kinds:
            declared = ", ".join(kinds) or "none"
            raise ValueError(f"unknown attribute {name!r}; declared attributes: {declared} "
                             f"(declare it with Index(..., attributes={{{name!r}: 'keyword'}}))")
    prepared = []
    for name, values in columns.items():
        if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
            raise TypeError(f"attribute {name!r} must be a column (list or array) with one value per vector")
        if len(values) != rows:
            raise ValueError(f"attribute {name!r} has {len(values)} values; expected {rows} (one per vector)")
        kind = kinds[name]
        if kind == "keyword":
            prepared.append(("set_keyword", name, (_keyword_column(name, values),)))
        elif kind == "keywords":
            prepared.append(("set_keywords", name, (_keywords_column(name, values),)))
        elif kind == "bool":
            prepared.append(("set_bool", name, _bool_column(name, values, rows)))
        else:
            prepared.append((f"set_{kind}", name, _number_column(name, kind, values, rows)))
    return prepared


def build_batch(schema: list[tuple[str, str]], prepared: list, rows: int) -> _core.AttributeBatch:
    """The prepared columns as one native batch, ready to go in with the vectors."""
    batch = _core.AttributeBatch(schema, rows)
    for method, name, args in prepared:
        getattr(batch, method)(name, *args)
    return batch


def write(store: _core.AttributeStore, slots: np.ndarray, prepared: list) -> None:
    """Makes the slots live and writes the prepared columns (columns left out are missing)."""
    slots = np.asarray(slots, dtype=np.uint32)
    store.write_batch(slots, build_batch(store.schema, prepared, slots.size))


def read(store: _core.AttributeStore, schema: list[tuple[str, str]], slots: np.ndarray) -> dict:
    """Dict of columns (lists, None where missing) for the given slots."""
    return {name: store.get_column(name, slots) for name, _ in schema}
