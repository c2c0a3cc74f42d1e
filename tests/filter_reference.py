"""A pure-Python reference for filters, and hypothesis strategies for rows and filter trees.

A filter is generated as a small spec tuple; `build` turns it into an `F` expression and
`matches` evaluates it on one row dict, so the reference never looks inside the DSL.
"""
from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from vecindex import F, _core
from vecindex import attributes as A

SCHEMA = [("section", "keyword"), ("tags", "keywords"), ("size", "int"), ("score", "float"), ("flag", "bool")]
SECTIONS = ["a", "b", "c", "dé"]
TAGS = ["x", "y", "z", "w"]
BIG_INTS = [2**62, -(2**63), 2**63 - 1]
ODD_FLOATS = [2.5, -0.5, 1e30, -1e30, math.inf, -math.inf, math.nan, -0.0]

# ---- rows ---------------------------------------------------------------------------

section_values = st.one_of(st.none(), st.sampled_from(SECTIONS))
tag_values = st.one_of(st.none(), st.lists(st.sampled_from(TAGS), max_size=4))
size_values = st.one_of(st.none(), st.integers(-5, 20), st.sampled_from(BIG_INTS))
score_values = st.one_of(st.none(), st.sampled_from([0.0, -0.0, 0.5, 1.0, 2.5, math.inf, -math.inf, math.nan]),
                         st.floats(-10, 10, allow_nan=False))
flag_values = st.one_of(st.none(), st.booleans())

rows_strategy = st.lists(
    st.fixed_dictionaries({"section": section_values, "tags": tag_values, "size": size_values,
                           "score": score_values, "flag": flag_values}),
    max_size=40)


def canonical(row: dict) -> dict:
    """The row as the store keeps it: NaN is missing, keyword sets have no duplicates."""
    out = dict(row)
    if isinstance(out["score"], float) and math.isnan(out["score"]):
        out["score"] = None
    if out["tags"] is not None:
        out["tags"] = set(out["tags"])
    return out


def make_store(rows: list[dict]) -> _core.AttributeStore:
    store = _core.AttributeStore(SCHEMA)
    if rows:
        columns = {name: [row[name] for row in rows] for name, _ in SCHEMA}
        A.write(store, np.arange(len(rows), dtype=np.uint32), A.prepare(SCHEMA, columns, len(rows)))
    return store


# ---- filters ------------------------------------------------------------------------

int_literals = st.one_of(st.integers(-6, 21), st.sampled_from(BIG_INTS + [2.5, -0.5, 1e30, -1e30, math.inf, math.nan]))
float_literals = st.one_of(st.integers(-6, 6), st.floats(-10, 10, allow_nan=False), st.sampled_from(ODD_FLOATS))


def _number_leaves(field: str, literals):
    return st.one_of(
        st.tuples(st.sampled_from(["eq", "ne", "lt", "le", "gt", "ge"]), st.just(field), literals),
        st.tuples(st.just("between"), st.just(field), literals, literals),
        st.tuples(st.just("isin"), st.just(field), st.lists(literals, max_size=4)),
        st.tuples(st.just("missing"), st.just(field)),
    )


leaves = st.one_of(
    st.tuples(st.sampled_from(["eq", "ne"]), st.just("section"), st.sampled_from(SECTIONS + ["nope"])),
    st.tuples(st.just("isin"), st.just("section"), st.lists(st.sampled_from(SECTIONS + ["nope"]), max_size=3)),
    st.tuples(st.just("missing"), st.sampled_from(["section", "tags", "flag"])),
    st.tuples(st.sampled_from(["contains_any", "contains_all"]), st.just("tags"),
              st.lists(st.sampled_from(TAGS + ["nope"]), max_size=3)),
    st.tuples(st.sampled_from(["contains"]), st.just("tags"), st.sampled_from(TAGS + ["nope"])),
    st.tuples(st.sampled_from(["eq", "ne"]), st.just("flag"), st.booleans()),
    st.tuples(st.just("truth"), st.just("flag")),
    st.tuples(st.just("isin"), st.just("flag"), st.lists(st.booleans(), max_size=2)),
    _number_leaves("size", int_literals),
    _number_leaves("score", float_literals),
)

filter_specs = st.recursive(
    leaves,
    lambda children: st.one_of(
        st.tuples(st.sampled_from(["and", "or"]), st.lists(children, min_size=1, max_size=3)),
        st.tuples(st.just("not"), children),
    ),
    max_leaves=8,
)


def build(spec):
    op = spec[0]
    if op in ("and", "or"):
        expr = build(spec[1][0])
        for child in spec[1][1:]:
            expr = (expr & build(child)) if op == "and" else (expr | build(child))
        return expr
    if op == "not":
        return ~build(spec[1])
    field = getattr(F, spec[1])
    if op == "missing":
        return field.is_missing()
    if op == "truth":
        return field  # a bool field stands as a filter by itself
    if op == "contains":
        return field.contains(spec[2])
    if op == "between":
        return field.between(spec[2], spec[3])
    if op in ("isin", "contains_any", "contains_all"):
        return getattr(field, op)(spec[2])
    return {"eq": field.__eq__, "ne": field.__ne__, "lt": field.__lt__, "le": field.__le__,
            "gt": field.__gt__, "ge": field.__ge__}[op](spec[2])


def matches(spec, row: dict) -> bool:
    """Reference semantics: a missing value fails every test except is_missing (and negations)."""
    op = spec[0]
    if op == "and":
        return all(matches(child, row) for child in spec[1])
    if op == "or":
        return any(matches(child, row) for child in spec[1])
    if op == "not":
        return not matches(spec[1], row)
    value = row[spec[1]]
    if op == "missing":
        return value is None
    if value is None:
        return False
    if op == "truth":
        return value is True
    if op == "contains":
        return spec[2] in value
    if op == "contains_any":
        return any(tag in value for tag in spec[2])
    if op == "contains_all":
        return all(tag in value for tag in spec[2])
    if op == "isin":
        return any(value == literal for literal in spec[2])
    if op == "between":
        return spec[2] <= value <= spec[3]
    literal = spec[2]
    return {"eq": value == literal, "ne": value != literal, "lt": value < literal, "le": value <= literal,
            "gt": value > literal, "ge": value >= literal}[op]


def reference_mask(spec, rows: list[dict], live: list[bool] | None = None) -> np.ndarray:
    live = live if live is not None else [True] * len(rows)
    return np.array([bool(alive) and matches(spec, canonical(row)) for row, alive in zip(rows, live)], dtype=bool)


def match_rows(store: _core.AttributeStore, expr, rows: int) -> list[bool]:
    """The match mask over the first `rows` slots; slots past them hold no row and must not match."""
    mask = store.match_mask(expr.to_core())
    assert not mask[rows:].any()
    return mask[:rows].tolist()
