"""The F filter language: building expressions, readable reprs and clear errors for misuse."""
from __future__ import annotations

import pickle

import numpy as np
import pytest

from filter_reference import make_store
from vecindex import AllowList, F, _core


def test_expressions_print_as_the_code_that_built_them():
    expr = ((F.section == "python") & (F.size < 500)) | ~F.tags.contains_any(["a", "b"])
    assert repr(expr) == "((F.section == 'python') & (F.size < 500)) | (~(F.tags.contains_any(['a', 'b'])))"
    assert repr(F["odd name"].between(1, 2.5)) == "F['odd name'].between(1, 2.5)"
    assert expr.to_core().describe().startswith("((F.section == 'python') & (F.size < 500))")


def test_chains_of_and_stay_flat():
    expr = (F.a == 1) & (F.b == 2) & (F.c == 3) & (F.d == 4)
    assert repr(expr).count("&") == 3
    assert expr.fields() == {"a", "b", "c", "d"}


def test_numpy_scalars_work_on_either_side():
    assert repr(F.size < np.int64(5)) == "F.size < 5"
    assert repr(np.float32(0.5) <= F.score) == "F.score >= 0.5"
    assert repr(F.flag == np.bool_(True)) == "F.flag == True"


@pytest.mark.parametrize("misuse", [
    lambda: (F.a == 1) and (F.b == 2),
    lambda: (F.a == 1) or (F.b == 2),
    lambda: not (F.a == 1),
    lambda: 1 < F.size < 5,
    lambda: bool(F.size),
    lambda: "x" in F.tags,
])
def test_python_boolean_operators_raise_a_helpful_type_error(misuse):
    with pytest.raises(TypeError, match=r"&|contains"):
        misuse()


@pytest.mark.parametrize("build, message", [
    (lambda: F.section == None, "is_missing"),  # noqa: E711
    (lambda: F.section != None, "is_missing"),  # noqa: E711
    (lambda: F.section == ["a", "b"], "isin"),
    (lambda: F.section.isin("ab"), "list of values"),
    (lambda: F.tags.contains_any("a"), "list of values"),
    (lambda: F.size < object(), "str, int, float or bool"),
    (lambda: F.size == F.other, "constant"),
    (lambda: (F.a == 1) & 3, "combines filters"),
    (lambda: F[""], "non-empty"),
    (lambda: F.tags.contains(["a", "b"]), "contains_any"),
    (lambda: F.tags.contains(None), "is_missing"),
    (lambda: F.ok & F.size < 5, "parentheses"),  # & binds tighter than <
    (lambda: F.ok | F.size >= 5, "parentheses"),
])
def test_bad_expressions_raise_type_error_naming_the_fix(build, message):
    with pytest.raises(TypeError, match=message):
        build()


@pytest.mark.parametrize("expr, message", [
    (F.nope == 1, "unknown attribute field 'nope'.*section, tags, size, score, flag"),
    (F.section < "b", "keyword.*need an int or float"),
    (F.section == 3, "keyword; it compares with strings, not an int"),
    (F.size == "3", "int; it compares with numbers, not a string"),
    (F.size.between(1, "x"), "numbers, not a string"),
    (F.flag == 1, "bool; it compares with True or False"),
    (F.tags == "x", "contains_any"),
    (F.section.contains_any(["x"]), "need a keywords attribute"),
    (F.section.contains("x"), "need a keywords attribute.*no substring matching"),
    (F.size, "'size' is int; it compares with numbers, not a bool"),  # a bare field means == True
    (~F.section, "'section' is keyword; it compares with strings, not a bool"),
    (F.tags.contains_all([1]), "strings, not an int"),
    ((F.size == 1) & ~(F.missing_field == 1), "missing_field"),
])
def test_filters_that_do_not_fit_the_schema_raise_value_error(expr, message):
    store = make_store([])
    with pytest.raises(ValueError, match=message):
        store.count(expr.to_core())


def test_integers_beyond_int64_are_rejected():
    with pytest.raises(ValueError, match="int64"):
        (F.size == 2**64).to_core()


def test_expressions_pickle_and_keep_their_meaning():
    rows = [{"section": s, "tags": ["x"] if i % 2 else None, "size": i, "score": 0.5 * i, "flag": i % 3 == 0}
            for i, s in enumerate(["a", "b", "c", "a", "b"])]
    store = make_store(rows)
    expr = ((F.section == "a") | F.tags.is_missing()) & ~F.size.between(3, 3) & AllowList([0, 1, 2, 3])
    clone = pickle.loads(pickle.dumps(expr))
    assert repr(clone) == repr(expr)
    assert store.match_mask(clone.to_core()).tolist() == store.match_mask(expr.to_core()).tolist()


@pytest.mark.parametrize("ids, message", [
    ([0.5, 1.5], "must be integers"),
    (["1", 2], "must be integers"),  # all-str lists are string keys (tests/test_string_keys.py)
    ([True, False], "must be integers"),
    ([2**63], "int64"),
    ([2**64], "int64"),
    ([-2**63 - 1], "int64"),
    ([[1, 2]], "1-d"),
    (3, "1-d"),
])
def test_allow_list_rejects_what_add_would_reject_as_ids(ids, message):
    with pytest.raises(ValueError, match=message):
        AllowList(ids)


def test_allow_list_takes_whole_floats_and_negative_ids_like_add_takes_ids():
    assert AllowList([1.0, 2.0]).ids.tolist() == [1, 2]  # as Index.add(ids=[1.0, 2.0])
    assert AllowList([-1, 3]).ids.tolist() == [-1, 3]  # negative ids exist nowhere: they match nothing
    assert AllowList(np.array([2**63 - 1], np.uint64)).ids.tolist() == [2**63 - 1]


def test_a_bool_field_stands_as_a_filter():
    assert repr(F.ok) == "F.ok" and F.ok.fields() == {"ok"}
    assert F.ok.to_core().describe() == (F.ok == True).to_core().describe()  # noqa: E712
    assert repr(~F.ok) == "~(F.ok)"
    assert repr(F.ok & (F.size < 3)) == "(F.ok) & (F.size < 3)"
    assert repr((F.size < 3) | F["odd flag"]) == "(F.size < 3) | (F['odd flag'])"
    with pytest.raises(TypeError, match="no truth value"):
        bool(F.ok)


def test_contains_tests_one_keyword():
    expr = F.tags.contains("db")
    assert repr(expr) == "F.tags.contains('db')"
    assert expr.to_core().describe() == F.tags.contains_any(["db"]).to_core().describe()
    assert repr(pickle.loads(pickle.dumps(expr))) == repr(expr)


def test_core_expression_factories_check_their_operands():
    with pytest.raises(ValueError):
        _core.FilterExpr.logic("and", [])
    with pytest.raises(ValueError):
        _core.FilterExpr.compare("isin", "x", 1)
    with pytest.raises(TypeError):
        _core.FilterExpr.compare("eq", "x", [1])
