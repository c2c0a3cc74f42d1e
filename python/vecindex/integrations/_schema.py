"""Attribute kinds inferred from document metadata, and metadata turned into attribute rows.

A metadata key gets an attribute kind the first time it is seen with a filterable value:
``bool`` -> ``"bool"``, ``int`` -> ``"int"``, ``float`` -> ``"float"``, ``str`` ->
``"keyword"``, a non-empty list of ``str`` -> ``"keywords"``. Other values (dicts, lists of
numbers, ``None``) stay in the document but are not filterable. An ``int`` attribute that
later meets a float becomes ``"float"``; any other clash of kinds is a ``ValueError``.
Empty strings and empty lists are stored as missing, so ``IS_EMPTY`` finds them.
"""
from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Optional, Sequence

import numpy as np


def infer_kind(value) -> Optional[str]:
    """The attribute kind a metadata value would get, or None when it is not filterable."""
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, numbers.Integral):
        return "int"
    if isinstance(value, numbers.Real):
        return "float"
    if isinstance(value, str):
        return "keyword"
    if isinstance(value, (list, tuple)) and value and all(isinstance(item, str) for item in value):
        return "keywords"
    return None


def _fits(kind: str, value) -> bool:
    found = infer_kind(value)
    if found is None:
        return value is None or (isinstance(value, (list, tuple)) and not value and kind == "keywords")
    return found == kind or (kind == "float" and found == "int")


def extend_schema(schema: Mapping[str, str], metadatas: Sequence[Mapping]) -> dict:
    """The schema after these metadatas: new keys added, int widened to float.

    Raises ValueError naming the key, the row and both kinds when a value clashes.
    """
    result = dict(schema)
    for row, metadata in enumerate(metadatas):
        for key, value in (metadata or {}).items():
            if not isinstance(key, str) or not key:
                raise TypeError(f"metadata keys must be non-empty str; row {row} has {key!r}")
            kind = result.get(key)
            found = infer_kind(value)
            if kind is None:
                if found is not None:
                    result[key] = found
            elif not _fits(kind, value):
                if kind == "int" and found == "float":
                    result[key] = "float"
                else:
                    raise ValueError(f"metadata {key!r} is filtered as {kind}, but row {row} holds "
                                     f"{type(value).__name__} {value!r:.60}; give it the same type "
                                     f"in every document")
    return result


def attribute_rows(schema: Mapping[str, str], metadatas: Sequence[Mapping]) -> list[dict]:
    """One dict per document holding only the schema's keys, in the attribute's type."""
    rows = []
    for metadata in metadatas:
        row = {}
        for key, kind in schema.items():
            value = (metadata or {}).get(key)
            if value is None or value == "" or (isinstance(value, (list, tuple)) and not value):
                continue
            if kind == "float":
                value = float(value)
            elif kind == "keywords":
                value = list(value)
            row[key] = value
        rows.append(row)
    return rows
