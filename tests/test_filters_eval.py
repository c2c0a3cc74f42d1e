"""Filter evaluation in C++ agrees with a pure-Python reference on random rows and trees."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from filter_reference import (SCHEMA, build, canonical, filter_specs, make_store, match_rows, reference_mask,
                              rows_strategy)
from vecindex import F, _core
from vecindex import attributes as A

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(rows=rows_strategy, spec=filter_specs)
def test_random_filter_matches_reference(rows, spec):
    store = make_store(rows)
    expected = reference_mask(spec, rows)
    assert match_rows(store, build(spec), len(rows)) == expected.tolist(), repr(build(spec))
    assert store.count(build(spec).to_core()) == int(expected.sum())


@SETTINGS
@given(rows=rows_strategy, spec=filter_specs, data=st.data())
def test_deleted_and_rewritten_rows_follow_their_new_values(rows, spec, data):
    store = make_store(rows)
    live = [True] * len(rows)
    current = list(rows)
    for _ in range(data.draw(st.integers(0, 8))):
        if not rows:
            break
        slot = data.draw(st.integers(0, len(rows) - 1))
        if data.draw(st.booleans()):
            store.clear_rows(np.array([slot], np.uint32))
            live[slot] = False
        else:
            row = data.draw(rows_strategy.filter(lambda r: len(r) == 1))[0]
            columns = {name: [row[name]] for name, _ in SCHEMA}
            A.write(store, np.array([slot], np.uint32), A.prepare(SCHEMA, columns, 1))
            current[slot] = row
            live[slot] = True
    assert match_rows(store, build(spec), len(rows)) == reference_mask(spec, current, live).tolist()


@SETTINGS
@given(rows=rows_strategy)
def test_stored_values_read_back(rows):
    store = make_store(rows)
    slots = np.arange(len(rows), dtype=np.uint32)
    got = A.read(store, SCHEMA, slots)
    for index, row in enumerate(rows):
        expected = canonical(row)
        for name, _ in SCHEMA:
            value = got[name][index]
            if name == "tags" and value is not None:
                value = set(value)
            assert value == expected[name] or (value != value and expected[name] != expected[name])


def test_negation_never_selects_deleted_or_unset_slots():
    store = make_store([{"section": "a", "tags": None, "size": 1, "score": None, "flag": None}] * 4)
    store.resize(10)  # slots 4..9 hold no row
    store.clear_rows(np.array([1], np.uint32))
    assert match_rows(store, ~(F.section == "zzz"), 4) == [True, False, True, True]


@pytest.mark.parametrize("rows", [300, 20_000])
def test_int_ranges_match_numpy_through_updates_and_deletes(rows):
    # Large enough to take both the sorted-run path (narrow) and the scan path (broad),
    # with pending (unsorted) updates and stale entries in between.
    rng = np.random.default_rng(7)
    values = rng.integers(-1000, 1000, rows)
    store = _core.AttributeStore([("v", "int")])
    slots = np.arange(rows, dtype=np.uint32)
    A.write(store, slots, A.prepare([("v", "int")], {"v": values}, rows))
    live = np.ones(rows, bool)
    for step in range(6):
        changed = rng.choice(rows, size=rows // 50 + 1, replace=False).astype(np.uint32)
        new_values = rng.integers(-1000, 1000, changed.size)
        for slot, value in zip(changed, new_values):
            if not live[slot]:  # a deleted slot is re-added before it takes values
                store.add_rows(np.array([slot], np.uint32))
                live[slot] = True
            store.set_int("v", np.array([slot], np.uint32), np.array([value]), np.array([1], np.uint8))
        values[changed] = new_values
        removed = rng.choice(rows, size=3, replace=False).astype(np.uint32)
        store.clear_rows(removed)
        live[removed] = False
        for low, high in [(-5, 5), (-1000, 1000), (0, 999), (17, 17), (-2000, -1001)]:
            mask = np.array(match_rows(store, F.v.between(low, high), rows))
            expected = live & (values >= low) & (values <= high)
            assert np.array_equal(mask, expected), (step, low, high)


def test_float_ranges_match_numpy_with_nan_as_missing():
    rng = np.random.default_rng(3)
    values = rng.normal(size=5000)
    values[::17] = np.nan
    store = _core.AttributeStore([("v", "float")])
    A.write(store, np.arange(5000, dtype=np.uint32), A.prepare([("v", "float")], {"v": values}, 5000))
    for expr, expected in [
        (F.v < 0.1, values < 0.1),
        (F.v >= -0.5, values >= -0.5),
        (F.v.between(-0.01, 0.02), (values >= -0.01) & (values <= 0.02)),
        (F.v != 0.0, ~np.isnan(values) & (values != 0.0)),
        (F.v.is_missing(), np.isnan(values)),
    ]:
        assert match_rows(store, expr, 5000) == expected.tolist(), repr(expr)


def test_keywords_postings_survive_many_rewrites():
    rng = np.random.default_rng(11)
    tags = ["t%d" % i for i in range(30)]
    rows = 2000
    current = [list(rng.choice(tags, size=rng.integers(0, 5), replace=False)) for _ in range(rows)]
    store = _core.AttributeStore([("tags", "keywords")])
    A.write(store, np.arange(rows, dtype=np.uint32), A.prepare([("tags", "keywords")], {"tags": current}, rows))
    for slot in rng.choice(rows, size=500, replace=True):
        current[slot] = list(rng.choice(tags, size=rng.integers(0, 5), replace=False))
        store.set_keywords("tags", np.array([slot], np.uint32), [current[slot]])
    for wanted in (["t1"], ["t2", "t3"], ["t29", "t0", "t5"]):
        any_mask = match_rows(store, F.tags.contains_any(wanted), rows)
        all_mask = match_rows(store, F.tags.contains_all(wanted), rows)
        assert any_mask == [any(t in row for t in wanted) for row in current]
        assert all_mask == [all(t in row for t in wanted) for row in current]


def test_allow_list_selects_live_slots_and_ignores_unknown_ids():
    from vecindex import AllowList
    store = make_store([{"section": "a", "tags": None, "size": 1, "score": None, "flag": None}] * 5)
    store.clear_rows(np.array([3], np.uint32))
    assert match_rows(store, AllowList([0, 3, 4, 99, -1]), 5) == [True, False, False, False, True]
    assert match_rows(store, (F.size == 1) & AllowList([1, 2]), 5) == [False, True, True, False, False]


def test_bool_field_alone_is_true_and_its_negation_includes_missing_values():
    rows = [{"section": None, "tags": None, "size": None, "score": None, "flag": flag} for flag in (True, False, None)]
    store = make_store(rows)
    assert match_rows(store, F.flag, 3) == [True, False, False]
    # ~ is the complement, as everywhere: a missing flag is "not True".
    assert match_rows(store, ~F.flag, 3) == [False, True, True]
    # Missing values match no comparison: only present False values are == False.
    assert match_rows(store, F.flag == False, 3) == [False, True, False]  # noqa: E712
    assert match_rows(store, F.flag | ~F.flag, 3) == [True, True, True]


def test_contains_matches_rows_whose_keyword_set_holds_the_value():
    tags = [["db"], [], ["db", "ml"], None, ["ml"]]
    store = make_store([{"section": None, "tags": t, "size": None, "score": None, "flag": None} for t in tags])
    assert match_rows(store, F.tags.contains("db"), 5) == [True, False, True, False, False]
    assert match_rows(store, ~F.tags.contains("db"), 5) == [False, True, False, True, True]
