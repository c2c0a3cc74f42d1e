"""The metadata-filter compiler: LangChain-style dicts and LlamaIndex operators -> F.

Every compiled filter is run by a real index (its exact scan returns every match) and
compared with a plain-Python reading of the documented semantics over the same metadata.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import vecindex
from vecindex.integrations._filters import EVERYTHING, NOTHING, Conditions, compile_mongo
from vecindex.integrations._schema import attribute_rows, extend_schema, infer_kind

SOURCES = ["a.pdf", "b.pdf", "c.md"]
TAGS = ["db", "ml", "web"]


def _metadata(rng: np.random.Generator, n: int) -> list[dict]:
    rows = []
    for _ in range(n):
        row = {}
        if rng.random() < 0.85:
            row["source"] = str(rng.choice(SOURCES))
        if rng.random() < 0.85:
            row["year"] = int(rng.integers(2015, 2025))
        if rng.random() < 0.8:
            row["score"] = float(rng.integers(0, 10)) / 2
        if rng.random() < 0.8:
            row["ok"] = bool(rng.random() < 0.5)
        if rng.random() < 0.8:
            row["tags"] = [str(t) for t in rng.choice(TAGS, size=int(rng.integers(0, 3)), replace=False)]
        rows.append(row)
    return rows


METADATA = _metadata(np.random.default_rng(7), 120)
SCHEMA = extend_schema({}, METADATA)


def _index() -> vecindex.Index:
    index = vecindex.Index(dim=4, attributes=SCHEMA)
    vectors = np.random.default_rng(1).standard_normal((len(METADATA), 4))
    index.add(vectors, attrs=attribute_rows(SCHEMA, METADATA))
    return index


INDEX = _index()


def _run(compiled) -> set:
    if compiled is NOTHING:
        return set()
    if compiled is EVERYTHING:
        return set(range(len(METADATA)))
    ids, distances = INDEX.search(np.zeros(4), k=len(METADATA), filter=compiled, strategy="exact")
    return {int(i) for i, d in zip(ids, distances) if np.isfinite(d)}


def _holds(value, op, operand) -> bool:
    """The documented semantics, on one metadata value (None: the key is absent)."""
    if op in ("$ne", "$nin"):
        return not _holds(value, "$eq" if op == "$ne" else "$in", operand)
    if value is None or value == []:
        return False
    if isinstance(value, list):
        if op == "$eq":
            return operand in value
        if op == "$in":
            return any(item in value for item in operand)
        raise AssertionError(op)
    return {"$eq": lambda: value == operand, "$gt": lambda: value > operand, "$gte": lambda: value >= operand,
            "$lt": lambda: value < operand, "$lte": lambda: value <= operand,
            "$in": lambda: value in operand}[op]()


def _reference(filter: dict, row: dict) -> bool:
    results = []
    for key, value in filter.items():
        if key == "$and":
            results.append(all(_reference(child, row) for child in value))
        elif key == "$or":
            results.append(any(_reference(child, row) for child in value))
        elif key == "$not":
            results.append(not _reference(value, row))
        elif key not in SCHEMA:
            results.append(False)  # documented: a condition on an unknown key matches nothing
        elif isinstance(value, dict):
            results.append(all(_holds(row.get(key), op, operand) for op, operand in value.items()))
        elif isinstance(value, list):
            results.append(_holds(row.get(key), "$in", value))
        else:
            results.append(_holds(row.get(key), "$eq", value))
    return all(results)


def _expected(filter: dict) -> set:
    return {i for i, row in enumerate(METADATA) if _reference(filter, row)}


CONDITIONS = Conditions(SCHEMA)

_leaf = st.one_of(
    st.builds(lambda v: {"source": v}, st.sampled_from(SOURCES + ["zz"])),
    st.builds(lambda op, v: {"source": {op: v}}, st.sampled_from(["$eq", "$ne"]), st.sampled_from(SOURCES)),
    st.builds(lambda op, v: {"year": {op: v}}, st.sampled_from(["$eq", "$ne", "$gt", "$gte", "$lt", "$lte"]),
              st.integers(2014, 2025)),
    st.builds(lambda op, v: {"score": {op: v}}, st.sampled_from(["$gt", "$gte", "$lt", "$lte"]),
              st.sampled_from([0.0, 1.5, 2.5, 4.5])),
    st.builds(lambda op, v: {"year": {op: v}}, st.sampled_from(["$in", "$nin"]),
              st.lists(st.integers(2015, 2024), max_size=3)),
    st.builds(lambda op, v: {"source": {op: v}}, st.sampled_from(["$in", "$nin"]),
              st.lists(st.sampled_from(SOURCES), max_size=2)),
    st.builds(lambda v: {"ok": v}, st.booleans()),
    st.builds(lambda v: {"tags": v}, st.sampled_from(TAGS)),
    st.builds(lambda op, v: {"tags": {op: v}}, st.sampled_from(["$in", "$nin"]),
              st.lists(st.sampled_from(TAGS), min_size=1, max_size=2)),
    st.builds(lambda v: {"missing_key": v}, st.sampled_from(["x", 3])),
    st.builds(lambda low, high: {"year": {"$gte": low, "$lte": high}}, st.integers(2015, 2020), st.integers(2018, 2025)),
)
_filters = st.recursive(
    _leaf,
    lambda children: st.one_of(
        st.builds(lambda parts: {"$and": parts}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda parts: {"$or": parts}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda part: {"$not": part}, children),
        st.builds(lambda a, b: {**a, **b}, children, children),
    ),
    max_leaves=6,
)


@settings(max_examples=150, deadline=None)
@given(_filters)
def test_compiled_filters_match_the_documented_semantics(filter):
    assert _run(compile_mongo(filter, CONDITIONS)) == _expected(filter)


def test_examples_from_the_readme_section():
    assert _run(compile_mongo({"source": "a.pdf", "year": {"$gte": 2020}}, CONDITIONS)) == {
        i for i, row in enumerate(METADATA) if row.get("source") == "a.pdf" and row.get("year", 0) >= 2020}
    assert _run(compile_mongo({"year": {"$ne": 2020}}, CONDITIONS)) == {
        i for i, row in enumerate(METADATA) if row.get("year") != 2020}  # includes rows without a year


def test_unknown_key_matches_nothing_and_its_negation_everything():
    assert compile_mongo({"nobody": "x"}, CONDITIONS) is NOTHING
    assert compile_mongo({"$not": {"nobody": "x"}}, CONDITIONS) is EVERYTHING
    assert compile_mongo(None, CONDITIONS) is EVERYTHING and compile_mongo({}, CONDITIONS) is EVERYTHING


@pytest.mark.parametrize("bad, error", [
    ({"year": {"$regex": "x"}}, ValueError),
    ({"$xor": []}, ValueError),
    ({"$and": {"year": 1}}, TypeError),
    ({"year": {"$in": 2020}}, TypeError),
    ({"year": {"$eq": [1, 2]}}, TypeError),
    ("year = 2020", TypeError),
])
def test_bad_filters_raise(bad, error):
    with pytest.raises(error):
        compile_mongo(bad, CONDITIONS)


def test_inferred_kinds_and_widening():
    assert [infer_kind(v) for v in (True, 3, 2.5, "x", ["a"], [], None, {"a": 1}, [1, 2])] == [
        "bool", "int", "float", "keyword", "keywords", None, None, None, None]
    assert extend_schema({}, [{"n": 1}, {"n": 2.5}]) == {"n": "float"}
    assert extend_schema({"n": "float"}, [{"n": 1}]) == {"n": "float"}
    assert extend_schema({}, [{"d": {"nested": 1}}, {"e": None}]) == {}
    with pytest.raises(ValueError, match="'n' is filtered as int.*row 1"):
        extend_schema({}, [{"n": 1}, {"n": "one"}])
    with pytest.raises(ValueError, match="'ok' is filtered as bool"):
        extend_schema({"ok": "bool"}, [{"ok": 1}])


def test_empty_values_are_stored_missing():
    assert attribute_rows({"s": "keyword", "t": "keywords", "n": "float"}, [{"s": "", "t": [], "n": 2}]) == [{"n": 2.0}]
