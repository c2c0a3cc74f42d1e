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
    with pytest.raises(TypeError, match=r"&|contains_any"):
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
    (lambda: (F.a == 1) & F.b, "field, not a filter"),
    (lambda: ~F.a, "negates a filter"),
    (lambda: F[""], "non-empty"),
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


def test_allow_list_rejects_non_integer_ids():
    with pytest.raises(TypeError, match="integer ids"):
        AllowList([0.5, 1.5])
    with pytest.raises(ValueError, match="1-d"):
        AllowList([[1, 2]])


def test_core_expression_factories_check_their_operands():
    with pytest.raises(ValueError):
        _core.FilterExpr.logic("and", [])
    with pytest.raises(ValueError):
        _core.FilterExpr.compare("isin", "x", 1)
    with pytest.raises(TypeError):
        _core.FilterExpr.compare("eq", "x", [1])
