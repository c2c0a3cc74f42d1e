"""Metadata filters of the RAG frameworks, compiled to vecindex ``F`` expressions.

Both stores share these rules, so a filter means the same thing in LangChain and LlamaIndex:

- A condition on a key with no indexed attribute (never seen with a filterable value)
  matches nothing. ``IS_EMPTY`` is the exception: a key nobody has is empty everywhere.
- ``$ne`` / ``$nin`` (``NE`` / ``NIN``) are negations, so, as in MongoDB and LlamaIndex's own
  store, they also match documents where the key is missing.
- On a list-of-strings (``keywords``) attribute, equality with one string means "holds it",
  ``$in`` means "holds any of them".
- Substring matches (LlamaIndex ``TEXT_MATCH``, and ``CONTAINS`` on a string attribute) have
  no ``F`` operator: the document database finds the matching ids and they go to the core as
  an allow-list, so they still run in the planner, never as a post-filter.

The compiler returns an ``F`` expression, :data:`EVERYTHING` (no restriction) or
:data:`NOTHING` (a search that can return nothing; the stores skip it).
"""
from __future__ import annotations

import functools
import operator
from collections.abc import Mapping
from typing import Callable, Optional, Sequence, Union

from vecindex.filters import AllowList, F, Filter


class _Constant:
    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self):
        return self.name


EVERYTHING = _Constant("EVERYTHING")
NOTHING = _Constant("NOTHING")
Compiled = Union[Filter, _Constant]

# key, needle, case_insensitive -> ids of the documents whose string value holds the needle
TextMatcher = Callable[[str, str, bool], Sequence[str]]


def _combine(parts: Sequence[Compiled], identity: _Constant, absorbing: _Constant, join) -> Compiled:
    """Joins parts with `join`, dropping `identity` parts; any `absorbing` part decides alone."""
    kept = [part for part in parts if part is not identity]
    if any(part is absorbing for part in kept):
        return absorbing
    return functools.reduce(join, kept) if kept else identity


def all_of(parts: Sequence[Compiled]) -> Compiled:
    return _combine(parts, EVERYTHING, NOTHING, operator.and_)


def any_of(parts: Sequence[Compiled]) -> Compiled:
    return _combine(parts, NOTHING, EVERYTHING, operator.or_)


def negate(part: Compiled) -> Compiled:
    if part is EVERYTHING:
        return NOTHING
    if part is NOTHING:
        return EVERYTHING
    return ~part


def _values(op: str, value) -> list:
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple, set, frozenset)):
        raise TypeError(f"{op} takes a list of values, not {type(value).__name__}")
    return list(value)


class Conditions:
    """Builds one condition on one metadata key, knowing the attribute kinds of the index."""

    def __init__(self, kinds: Mapping[str, str], text_matcher: Optional[TextMatcher] = None,
                 allow_list: Callable[[Sequence[str]], Filter] = AllowList):
        self.kinds = kinds
        self.text_matcher = text_matcher
        self.allow_list = allow_list

    def build(self, key: str, op: str, value) -> Compiled:
        """``op`` is one of eq ne gt gte lt lte in nin contains any all is_empty text_match
        text_match_insensitive."""
        if not isinstance(key, str) or not key:
            raise TypeError(f"a metadata filter key must be a non-empty str, not {key!r}")
        kind = self.kinds.get(key)
        if op == "is_empty":
            if kind is None:
                return EVERYTHING
            # Empty strings and empty lists are stored as missing attributes (see _schema).
            return F[key].is_missing()
        if op in ("ne", "nin"):
            return negate(self.build(key, "eq" if op == "ne" else "in", value))
        if op in ("text_match", "text_match_insensitive"):
            return self._text_match(key, value, op == "text_match_insensitive", kind)
        if kind is None:
            return NOTHING
        field = F[key]
        if op == "eq":
            if isinstance(value, (list, tuple)):
                raise TypeError(f"$eq on {key!r} takes one value; use $in for several")
            return field.contains(value) if kind == "keywords" else field == value
        if op in ("gt", "gte", "lt", "lte"):
            return {"gt": field.__gt__, "gte": field.__ge__, "lt": field.__lt__, "lte": field.__le__}[op](value)
        if op in ("in", "any"):
            values = _values(op, value)
            if not values:
                return NOTHING
            return field.contains_any(values) if kind == "keywords" else field.isin(values)
        if op == "all":
            values = _values(op, value)
            if kind == "keywords":
                return field.contains_all(values)
            return all_of([field == item for item in values])
        if op == "contains":
            if kind == "keywords":
                return field.contains(value)
            if kind == "keyword":
                return self._text_match(key, value, False, kind)
            raise ValueError(f"contains needs a list or string attribute; {key!r} is {kind}")
        raise ValueError(f"unknown filter operator {op!r}")

    def _text_match(self, key: str, needle, insensitive: bool, kind: Optional[str]) -> Compiled:
        if not isinstance(needle, str):
            raise TypeError(f"a text match on {key!r} takes a str, not {type(needle).__name__}")
        if self.text_matcher is None:
            raise ValueError("text matches need the document store; this compiler has none")
        ids = list(self.text_matcher(key, needle, insensitive))
        return self.allow_list(ids) if ids else NOTHING


_MONGO_OPS = {"$eq": "eq", "$ne": "ne", "$gt": "gt", "$gte": "gte", "$lt": "lt", "$lte": "lte",
              "$in": "in", "$nin": "nin"}


def compile_mongo(filter: Optional[Mapping], conditions: Conditions) -> Compiled:
    """``{"source": "a.pdf", "year": {"$gte": 2020}, "$or": [...]}`` -> an ``F`` expression.

    Keys of one dict are and-ed. ``$and`` / ``$or`` take a list of such dicts, ``$not`` one.
    A plain value means ``$eq``; a list means ``$in``.
    """
    if filter is None:
        return EVERYTHING
    if not isinstance(filter, Mapping):
        raise TypeError(f"a metadata filter is a dict such as {{'year': {{'$gte': 2020}}}}, "
                        f"not {type(filter).__name__}")
    parts = []
    for key, value in filter.items():
        if key in ("$and", "$or"):
            if not isinstance(value, (list, tuple)):
                raise TypeError(f"{key} takes a list of filter dicts, not {type(value).__name__}")
            children = [compile_mongo(child, conditions) for child in value]
            parts.append(all_of(children) if key == "$and" else any_of(children))
        elif key == "$not":
            parts.append(negate(compile_mongo(value, conditions)))
        elif isinstance(key, str) and key.startswith("$"):
            raise ValueError(f"unknown filter operator {key!r} at the top level; use $and, $or or $not, "
                             f"or a metadata key")
        else:
            parts.append(_compile_field(key, value, conditions))
    return all_of(parts)


def _compile_field(key: str, value, conditions: Conditions) -> Compiled:
    if isinstance(value, Mapping) and any(isinstance(op, str) and op.startswith("$") for op in value):
        parts = []
        for op, operand in value.items():
            if op == "$not":
                parts.append(negate(_compile_field(key, operand, conditions)))
            elif op in _MONGO_OPS:
                parts.append(conditions.build(key, _MONGO_OPS[op], operand))
            else:
                known = ", ".join([*_MONGO_OPS, "$not"])
                raise ValueError(f"unknown filter operator {op!r} on {key!r}; known: {known}")
        return all_of(parts)
    if isinstance(value, (list, tuple, set)):
        return conditions.build(key, "in", list(value))
    return conditions.build(key, "eq", value)
