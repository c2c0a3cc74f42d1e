"""The filter language: ``F.section == "python"``, ``F.size.between(10, 100)``, ``&``, ``|``, ``~``.

Expressions are small immutable Python objects. They are checked against an index's
attribute schema, and compiled to a C++ match bitmap, only when used in a search, so the
same expression can be reused across indexes and pickled.

Semantics of missing values: a missing value matches no comparison (not even ``!=``) and no
``isin``/``contains*`` test. Only ``F.x.is_missing()`` and negations (``~``) select rows
where ``x`` is missing.

A bool attribute stands as a filter by itself: ``F.ok`` means ``F.ok == True``, and ``~F.ok``
is its negation like any other ``~``: rows where ``ok`` is False *or missing*. Write
``F.ok == False`` for the rows where it is present and False.
"""
from __future__ import annotations

import numbers
from typing import Iterable

import numpy as np

from vecindex import _core
from vecindex import _keys
from vecindex._validation import as_ids

__all__ = ["F", "Field", "Filter", "AllowList"]

_SYMBOLS = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}

_NO_TRUTH_VALUE = (
    "a filter expression has no truth value. Combine filters with & (and), | (or) and ~ (not), "
    "with parentheses: (F.a == 1) & (F.b < 2). Python's `and`, `or`, `not`, `in` and chained "
    "comparisons (1 < F.x < 5) cannot be overloaded; write F.x.between(1, 5) instead."
)


def _literal(value, where: str):
    """Normalises one user value to str, int, float or bool, or raises TypeError."""
    if value is None:
        raise TypeError(f"{where}: None is not a filter value; use F.<field>.is_missing() to select missing values")
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, str):
        return str(value)
    hint = " (for several values use .isin([...]))" if isinstance(value, (list, tuple, set, np.ndarray)) else ""
    raise TypeError(f"{where}: filter values must be str, int, float or bool, not {type(value).__name__}{hint}")


def _literal_list(values, where: str) -> tuple:
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(f"{where} takes a list of values, not {type(values).__name__}; wrap a single value in a list")
    return tuple(_literal(value, where) for value in values)


def _field_repr(name: str) -> str:
    return f"F.{name}" if name.isidentifier() else f"F[{name!r}]"


class Filter:
    """Base of every filter expression. Combine with ``&``, ``|`` and ``~``."""

    __slots__ = ()
    __array_ufunc__ = None  # keeps numpy from trying to broadcast over an expression

    def __and__(self, other) -> Filter:
        return _Logic.combine("and", self, _as_filter(other, "&"))

    def __rand__(self, other) -> Filter:
        return _Logic.combine("and", _as_filter(other, "&"), self)

    def __or__(self, other) -> Filter:
        return _Logic.combine("or", self, _as_filter(other, "|"))

    def __ror__(self, other) -> Filter:
        return _Logic.combine("or", _as_filter(other, "|"), self)

    def __invert__(self) -> Filter:
        return _Not(self)

    def __bool__(self):
        raise TypeError(_NO_TRUTH_VALUE)

    def _misplaced_comparison(self, other):
        # (F.ok & F.size) < 5 is what `F.ok & F.size < 5` means: & binds tighter than <.
        raise TypeError(f"a filter cannot be compared with {other!r}; & and | bind tighter than comparisons, "
                        "so put each comparison in parentheses: (F.a == 1) & (F.b < 2)")

    __lt__ = __le__ = __gt__ = __ge__ = _misplaced_comparison

    def to_core(self) -> _core.FilterExpr:
        """Builds the C++ expression tree (checked against a schema only when evaluated)."""
        raise NotImplementedError

    def fields(self) -> set[str]:
        """Attribute names this expression reads."""
        return set()


def _as_filter(value, operator: str) -> Filter:
    if isinstance(value, Filter):
        return value
    raise TypeError(f"{operator} combines filters (F.x == 1), not {type(value).__name__}")


class _Compare(Filter):
    __slots__ = ("field", "op", "value")

    def __init__(self, field: str, op: str, value):
        self.field, self.op, self.value = field, op, value

    def to_core(self):
        return _core.FilterExpr.compare(self.op, self.field, self.value)

    def fields(self):
        return {self.field}

    def __repr__(self):
        return f"{_field_repr(self.field)} {_SYMBOLS[self.op]} {self.value!r}"


class _Between(Filter):
    __slots__ = ("field", "low", "high")

    def __init__(self, field: str, low, high):
        self.field, self.low, self.high = field, low, high

    def to_core(self):
        return _core.FilterExpr.between(self.field, self.low, self.high)

    def fields(self):
        return {self.field}

    def __repr__(self):
        return f"{_field_repr(self.field)}.between({self.low!r}, {self.high!r})"


class _SetTest(Filter):
    __slots__ = ("field", "op", "values")

    def __init__(self, field: str, op: str, values: tuple):
        self.field, self.op, self.values = field, op, values

    def to_core(self):
        return _core.FilterExpr.set(self.op, self.field, list(self.values))

    def fields(self):
        return {self.field}

    def __repr__(self):
        return f"{_field_repr(self.field)}.{self.op}({list(self.values)!r})"


class _Contains(_SetTest):
    """``F.tags.contains("x")``: ``contains_any(["x"])`` under its own name."""

    __slots__ = ()

    def __init__(self, field: str, value):
        super().__init__(field, "contains_any", (value,))

    def __repr__(self):
        return f"{_field_repr(self.field)}.contains({self.values[0]!r})"


class _IsMissing(Filter):
    __slots__ = ("field",)

    def __init__(self, field: str):
        self.field = field

    def to_core(self):
        return _core.FilterExpr.is_missing(self.field)

    def fields(self):
        return {self.field}

    def __repr__(self):
        return f"{_field_repr(self.field)}.is_missing()"


class _Logic(Filter):
    __slots__ = ("op", "children")

    def __init__(self, op: str, children: tuple):
        self.op, self.children = op, children

    @staticmethod
    def combine(op: str, left: Filter, right: Filter) -> Filter:
        # Flattening keeps long chains (a & b & c & ...) one level deep.
        parts: list[Filter] = []
        for side in (left, right):
            parts.extend(side.children if isinstance(side, _Logic) and side.op == op else (side,))
        return _Logic(op, tuple(parts))

    def to_core(self):
        return _core.FilterExpr.logic(self.op, [child.to_core() for child in self.children])

    def fields(self):
        return set().union(*(child.fields() for child in self.children))

    def __repr__(self):
        joiner = " & " if self.op == "and" else " | "
        return joiner.join(f"({child!r})" for child in self.children)


class _Not(Filter):
    __slots__ = ("child",)

    def __init__(self, child: Filter):
        self.child = child

    def to_core(self):
        return _core.FilterExpr.negate(self.child.to_core())

    def fields(self):
        return self.child.fields()

    def __repr__(self):
        return f"~({self.child!r})"


class AllowList(Filter):
    """Matches exactly the given external ids (unknown ids, negative ones too, match nothing).

    Ids are checked as :meth:`Index.add` checks them: fractions, bools, strings and values
    outside int64 raise ``ValueError``. For an index made with ``keys="str"`` give str keys
    instead (unknown keys match nothing; an item that is not a str raises ``ValueError``).
    """

    __slots__ = ("ids",)

    def __init__(self, ids):
        if np.ndim(ids) != 1:
            raise ValueError(f"an id allow-list must be 1-d; got shape {np.shape(ids)}")
        if _keys.is_key_list(ids):
            self.ids = list(ids)
        else:
            self.ids = as_ids(ids, what="allow-list ids", allow_negative=True)

    def to_core(self):
        if isinstance(self.ids, list):
            return _core.FilterExpr.allow_keys(self.ids)
        return _core.FilterExpr.allow_ids(self.ids)

    def __repr__(self):
        if isinstance(self.ids, list):
            return f"AllowList(<{len(self.ids)} keys>)"
        return f"AllowList(<{self.ids.size} ids>)"


class Field(Filter):
    """One attribute in a filter; made by ``F.name`` or ``F["name"]``.

    Used bare, as a filter or under ``&``, ``|`` and ``~``, a field means ``field == True``:
    that is only valid for a ``bool`` attribute (other kinds raise ``ValueError`` when searched).
    """

    __slots__ = ("name",)
    __array_ufunc__ = None  # so `np.int64(5) < F.x` defers to F.x.__gt__
    __hash__ = None  # type: ignore[assignment]  # == builds a filter, so fields are unhashable

    def __init__(self, name: str):
        if not isinstance(name, str) or not name:
            raise TypeError(f"a field name must be a non-empty str, not {name!r}")
        self.name = name

    def to_core(self):
        return _core.FilterExpr.compare("eq", self.name, True)

    def fields(self):
        return {self.name}

    def _compare(self, op: str, value) -> Filter:
        if value is None and op in ("eq", "ne"):
            hint = "" if op == "eq" else "~"
            raise TypeError(f"compare with None is not supported; use {hint}{self!r}.is_missing()")
        if isinstance(value, Filter):
            raise TypeError(f"{self!r} can only be compared with a constant, not with {value!r}")
        return _Compare(self.name, op, _literal(value, f"{self!r} {_SYMBOLS[op]} ..."))

    def __eq__(self, value):  # type: ignore[override]
        return self._compare("eq", value)

    def __ne__(self, value):  # type: ignore[override]
        return self._compare("ne", value)

    def __lt__(self, value):
        return self._compare("lt", value)

    def __le__(self, value):
        return self._compare("le", value)

    def __gt__(self, value):
        return self._compare("gt", value)

    def __ge__(self, value):
        return self._compare("ge", value)

    def between(self, low, high) -> Filter:
        """``low <= value <= high`` (both ends inclusive)."""
        where = f"{self!r}.between"
        return _Between(self.name, _literal(low, where), _literal(high, where))

    def isin(self, values) -> Filter:
        """The value equals one of ``values`` (keyword, int, float or bool fields)."""
        return _SetTest(self.name, "isin", _literal_list(values, f"{self!r}.isin"))

    def contains(self, value) -> Filter:
        """A ``keywords`` row holds ``value`` (one string).

        Only for ``keywords`` attributes: on a ``keyword`` attribute it raises ``ValueError``
        when searched (compare it with ``==``; there is no substring matching).
        """
        where = f"{self!r}.contains"
        if isinstance(value, (list, tuple, set, frozenset, np.ndarray)):
            raise TypeError(f"{where} takes one value; for several use {self!r}.contains_any([...]) "
                            f"or {self!r}.contains_all([...])")
        return _Contains(self.name, _literal(value, where))

    def contains_any(self, values) -> Filter:
        """A ``keywords`` row holds at least one of ``values``."""
        return _SetTest(self.name, "contains_any", _literal_list(values, f"{self!r}.contains_any"))

    def contains_all(self, values) -> Filter:
        """A ``keywords`` row holds every one of ``values`` (an empty list matches every present row)."""
        return _SetTest(self.name, "contains_all", _literal_list(values, f"{self!r}.contains_all"))

    def is_missing(self) -> Filter:
        """Rows where this attribute has no value (the only test a missing value passes)."""
        return _IsMissing(self.name)

    def __contains__(self, value):
        raise TypeError(f"`x in {self!r}` cannot build a filter; use {self!r}.contains(x)")

    def __repr__(self):
        return _field_repr(self.name)


class _FieldNamespace:
    """Builds filter expressions: ``F.size`` and ``F["odd name"]`` make a :class:`Field`.

    Compare a field with a constant (``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=``), or use
    ``.between(low, high)``, ``.isin([...])``, ``.contains(x)``, ``.contains_any([...])``,
    ``.contains_all([...])`` (for ``keywords`` fields) and ``.is_missing()``. A ``bool``
    field stands alone: ``F.ok`` is ``F.ok == True``. Combine with ``&``, ``|`` and ``~``,
    with parentheses::

        index.search(q, k=10, filter=(F.section == "python") & F.size.between(10, 500))
    """

    __slots__ = ()

    def __getattr__(self, name: str) -> Field:
        if name.startswith("__"):
            raise AttributeError(name)  # keep copy/pickle/introspection protocols working
        return Field(name)

    def __getitem__(self, name: str) -> Field:
        return Field(name)

    def __repr__(self):
        return "F"


F = _FieldNamespace()
