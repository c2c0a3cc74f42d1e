"""Filtered search through Index: correctness of every result, recall against exact filtered
top-k at every selectivity (correlated and anti-correlated), padding, lifecycle and errors."""
from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from filter_reference import build, canonical, filter_specs, matches
from vecindex import F, Index

N, DIM, CLUSTERS, K = 8000, 16, 20, 10
SCHEMA = {"section": "keyword", "tags": "keywords", "size": "int", "score": "float", "flag": "bool"}


def make_rows(rng, cluster):
    sections = [f"c{c}" for c in cluster]
    tags = [[f"t{t}" for t in rng.choice(8, size=rng.integers(0, 3), replace=False)] for _ in cluster]
    size = rng.integers(0, 1000, cluster.size)
    score = rng.normal(size=cluster.size)
    flag = rng.random(cluster.size) < 0.3
    rows = {"section": sections, "tags": tags, "size": size, "score": score, "flag": flag}
    # Some missing values in every column.
    missing = rng.random(cluster.size) < 0.05
    rows = {name: [None if m else (v.item() if hasattr(v, "item") else v) for v, m in zip(column, missing)]
            for name, column in rows.items()}
    return rows


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(1234)
    centers = rng.normal(size=(CLUSTERS, DIM)).astype(np.float32) * 4
    cluster = rng.integers(0, CLUSTERS, N)
    vectors = (centers[cluster] + rng.normal(size=(N, DIM))).astype(np.float32)
    query_cluster = rng.integers(0, CLUSTERS, 40)
    queries = (centers[query_cluster] + rng.normal(size=(40, DIM))).astype(np.float32)
    rows = make_rows(rng, cluster)
    index = Index(DIM, "l2", M=12, ef_construction=100, attributes=SCHEMA)
    index.add(vectors, attrs=rows, threads=2)
    return {"index": index, "vectors": vectors, "queries": queries, "rows": rows, "row_dicts": row_dicts(rows),
            "cluster": cluster, "query_cluster": query_cluster, "centers": centers}


def row_dicts(rows):
    return [canonical({name: rows[name][i] for name in rows}) for i in range(len(rows["section"]))]


def exact_filtered(vectors, query, mask, k):
    allowed = np.flatnonzero(mask)
    distances = ((vectors[allowed] - query) ** 2).sum(axis=1)
    order = np.argsort(distances, kind="stable")[:k]
    return allowed[order]


def recall_at_k(found, truth):
    hits = total = 0
    for row_found, row_truth in zip(found, truth):
        total += len(row_truth)
        hits += len(set(row_truth.tolist()) & set(row_found.tolist()))
    return hits / max(total, 1)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(spec=filter_specs)
def test_no_result_ever_violates_the_filter(data, spec):
    rows = data["row_dicts"]
    ids, distances = data["index"].search(data["queries"][:10], K, filter=build(spec))
    mask = np.array([matches(spec, row) for row in rows])
    for row_ids, row_distances in zip(ids, distances):
        found = row_ids[row_ids >= 0]
        assert all(mask[found]), repr(build(spec))
        assert found.size == min(K, int(mask.sum()))  # as many results as possible, then padding
        assert np.all(np.isinf(row_distances[found.size:]))


SELECTIVITIES = [0.0001, 0.001, 0.01, 0.05, 0.1, 0.3, 0.5, 0.9, 1.0]


@pytest.mark.parametrize("strategy", ["auto", "exact", "filtered_graph", "post_filter"])
@pytest.mark.parametrize("selectivity", SELECTIVITIES)
def test_recall_against_exact_filtered_top_k_at_every_selectivity(data, selectivity, strategy):
    rng = np.random.default_rng(int(selectivity * 1e6))
    allowed = rng.choice(N, size=max(1, int(round(selectivity * N))), replace=False)
    mask = np.zeros(N, bool)
    mask[allowed] = True
    ids, _ = data["index"].search(data["queries"], K, filter=allowed, strategy=strategy)
    truth = [exact_filtered(data["vectors"], q, mask, K) for q in data["queries"]]
    assert recall_at_k(ids, truth) >= 0.95


@pytest.mark.parametrize("strategy", ["auto", "filtered_graph", "post_filter"])
@pytest.mark.parametrize("kind", ["other_clusters", "farthest_cluster", "far_half"])
def test_recall_holds_for_filters_anti_correlated_with_the_query(data, kind, strategy):
    centers, queries, query_cluster = data["centers"], data["queries"], data["query_cluster"]
    filters, masks = [], []
    for q, c in enumerate(query_cluster):
        if kind == "other_clusters":  # everything except the query's own cluster
            filters.append(F.section != f"c{c}")
            masks.append(np.array([s is not None and s != f"c{c}" for s in data["rows"]["section"]]))
        else:
            order = np.argsort(((centers - queries[q]) ** 2).sum(axis=1))
            chosen = order[-1:] if kind == "farthest_cluster" else order[CLUSTERS // 2:]
            names = [f"c{x}" for x in chosen]
            filters.append(F.section.isin(names))
            masks.append(np.isin(np.array(data["rows"]["section"], dtype=object), names))
    ids, _ = data["index"].search(queries, K, filter=filters, strategy=strategy)
    truth = [exact_filtered(data["vectors"], q, m, K) for q, m in zip(queries, masks)]
    assert recall_at_k(ids, truth) >= 0.95
    for row_ids, m in zip(ids, masks):
        assert all(m[row_ids[row_ids >= 0]])


def test_attribute_filters_reach_recall_too(data):
    expr = (F.size < 300) & ~F.tags.contains_any(["t1"]) & (F.section != "c3")
    rows = data["row_dicts"]
    spec_mask = np.array([r["size"] is not None and r["size"] < 300 and not (r["tags"] is not None and "t1" in r["tags"])
                          and r["section"] is not None and r["section"] != "c3" for r in rows])
    ids, _ = data["index"].search(data["queries"], K, filter=expr)
    truth = [exact_filtered(data["vectors"], q, spec_mask, K) for q in data["queries"]]
    assert recall_at_k(ids, truth) >= 0.95


def test_k_larger_than_the_match_count_returns_exactly_the_matches_padded(data):
    allowed = np.array([5, 17, 4000])
    ids, distances = data["index"].search(data["queries"][:3], 10, filter=allowed)
    for row_ids, row_distances in zip(ids, distances):
        assert sorted(row_ids[:3].tolist()) == allowed.tolist()
        assert row_ids[3:].tolist() == [-1] * 7
        assert np.all(np.isinf(row_distances[3:])) and np.all(np.isfinite(row_distances[:3]))
        assert np.all(np.diff(row_distances[:3]) >= 0)


def test_explain_reports_exact_counts_and_the_chosen_strategy(data):
    index = data["index"]
    narrow = index.explain(F.size == 7)
    broad = index.explain(F.size >= 0)
    expected_narrow = sum(1 for s in data["rows"]["size"] if s == 7)
    assert narrow["matches"] == expected_narrow and narrow["strategy"] == "exact"
    assert broad["strategy"] == "post_filter" and broad["live"] == N
    assert broad["selectivity"] == pytest.approx(broad["matches"] / N)
    assert index.explain(F.size >= 0, strategy="filtered_graph")["strategy"] == "filtered_graph"
    assert "reason" in narrow and narrow["filter"] == "F.size == 7"


def test_callable_and_per_query_filters(data):
    index, queries = data["index"], data["queries"][:4]
    ids, _ = index.search(queries, K, filter=lambda i: i % 7 == 0)
    assert np.all(ids % 7 == 0)
    per_query = [F.section == "c1", None, [1, 2, 3], lambda i: i < 100]
    ids, _ = index.search(queries, K, filter=per_query)
    assert all(data["rows"]["section"][i] == "c1" for i in ids[0] if i >= 0)
    assert sorted(ids[2][:3].tolist()) == [1, 2, 3]
    assert np.all(ids[3][ids[3] >= 0] < 100)
    unfiltered, _ = index.search(queries[1], K)
    assert ids[1].tolist() == unfiltered.tolist()


def small_index():
    index = Index(4, "l2", attributes={"section": "keyword", "size": "int", "tags": "keywords"})
    vectors = np.arange(40, dtype=np.float32).reshape(10, 4)
    index.add(vectors, attrs={"section": ["a", "b"] * 5, "size": list(range(10)), "tags": [["x"]] * 10})
    return index, vectors


def test_deleted_vectors_lose_their_attributes_and_never_match():
    index, vectors = small_index()
    index.delete([0, 2])
    ids, _ = index.search(vectors[0], 10, filter=F.section == "a")
    assert sorted(ids[ids >= 0].tolist()) == [4, 6, 8]
    assert index.explain(F.section == "a")["matches"] == 3
    with pytest.raises(KeyError):
        index.get_attrs([0])
    index.add(vectors[:1], ids=[0], attrs={"section": ["b"]})  # re-added with new attributes
    assert index.get_attrs([0]) == {"section": ["b"], "size": [None], "tags": [None]}


def test_replace_swaps_attributes():
    index, vectors = small_index()
    index.add(vectors[:1], ids=[3], attrs={"section": ["z"]}, replace=True)
    assert index.get_attrs([3])["section"] == ["z"]
    assert index.explain(F.section == "b")["matches"] == 4


def test_attributes_survive_save_load_and_pickle(tmp_path):
    index, vectors = small_index()
    index.delete([1])
    path = tmp_path / "attrs.vx"
    index.save(path)
    for clone in (Index.load(path), pickle.loads(pickle.dumps(index)), Index.from_bytes(index.to_bytes())):
        assert clone.attributes == index.attributes
        assert clone.get_attrs([2, 3]) == index.get_attrs([2, 3])
        for expr in (F.section == "b", F.size.between(2, 6), F.tags.contains_any(["x"])):
            assert clone.search(vectors[5], 10, filter=expr)[0].tolist() == index.search(vectors[5], 10, filter=expr)[0].tolist()


def test_get_attrs_returns_columns_in_id_order():
    index, _ = small_index()
    assert index.get_attrs([3, 0]) == {"section": ["b", "a"], "size": [3, 0], "tags": [["x"], ["x"]]}


@pytest.mark.parametrize("call, error, message", [
    (lambda i, v: i.add(v, attrs={"nope": [1] * 10}), ValueError, "unknown attribute 'nope'"),
    (lambda i, v: i.add(v, attrs={"size": [1] * 9}), ValueError, "has 9 values; expected 10"),
    (lambda i, v: i.add(v, attrs={"size": ["1"] * 10}), TypeError, "'size' is int"),
    (lambda i, v: i.add(v, attrs={"tags": [[["x"]]] * 10}), TypeError, "unhashable"),
    (lambda i, v: i.search(v[0], 3, filter=F.nope == 1), ValueError, "unknown attribute field 'nope'"),
    (lambda i, v: i.search(v[0], 3, filter=F.section > 1), ValueError, "need an int or float"),
    (lambda i, v: i.search(v[0], 3, filter=F.size == 1, strategy="fast"), ValueError, "strategy must be"),
    (lambda i, v: i.search(v[:2], 3, filter=[F.size == 1] * 3), ValueError, "3 filters for 2 queries"),
    (lambda i, v: i.search(v[0], 3, filter="section"), TypeError, "filter must be"),
    (lambda i, v: Index(4, attributes={"x": "text"}), ValueError, "expected one of"),
])
def test_clear_errors(call, error, message):
    index, vectors = small_index()
    with pytest.raises(error, match=message):
        call(index, vectors)
    assert len(index) == 10  # nothing half-added


def test_index_without_attributes_still_takes_allow_lists():
    index = Index(4, "l2")
    vectors = np.random.default_rng(0).normal(size=(50, 4)).astype(np.float32)
    index.add(vectors)
    ids, _ = index.search(vectors[0], 5, filter=[3, 7, 9])
    assert sorted(ids[:3].tolist()) == [3, 7, 9] and ids[3:].tolist() == [-1, -1]
    assert index.explain([3, 7, 9])["matches"] == 3


# ---- bool fields, contains, masks and bad ids as filter= ----------------------------------

def test_bool_field_and_contains_filter_searches_like_their_long_forms(data):
    index, query = data["index"], data["queries"][0]
    for short, long in [(F.flag, F.flag == True), (~F.flag, ~(F.flag == True)),  # noqa: E712
                        (F.tags.contains("t1"), F.tags.contains_any(["t1"]))]:
        assert index.search(query, K, filter=short)[0].tolist() == index.search(query, K, filter=long)[0].tolist()
        assert index.explain(short)["matches"] == index.explain(long)["matches"]
    flags = data["rows"]["flag"]
    assert index.explain(F.flag)["matches"] == sum(flag is True for flag in flags)
    assert index.explain(~F.flag)["matches"] == sum(flag is not True for flag in flags)  # missing included
    assert index.explain(F.flag == False)["matches"] == sum(flag is False for flag in flags)  # noqa: E712


def test_boolean_mask_selects_the_ids_where_it_is_true():
    index = Index(4, "l2")
    vectors = np.random.default_rng(0).normal(size=(50, 4)).astype(np.float32)
    index.add(vectors)
    mask = np.zeros(50, dtype=bool)
    mask[[5, 17, 40]] = True
    ids, _ = index.search(vectors[0], 5, filter=mask)
    assert sorted(ids[:3].tolist()) == [5, 17, 40] and ids[3:].tolist() == [-1, -1]
    assert index.explain(mask)["matches"] == 3
    assert index.explain(mask.tolist())["matches"] == 3  # a list of bools is a mask too
    longer = np.concatenate([mask, np.ones(10, dtype=bool)])  # entries past the largest id match nothing
    assert index.explain(longer)["matches"] == 3
    index.delete([40])
    assert index.explain(mask)["matches"] == 2
    ids, _ = index.search(vectors[:2], 5, filter=[mask, None])  # one mask per query
    assert sorted(ids[0, :2].tolist()) == [5, 17]


@pytest.mark.parametrize("bad, message", [
    (np.ones(49, dtype=bool), "at least 50 entries; got 49"),
    (np.ones((50, 1), dtype=bool), "1-d"),
    ([1.5], "must be integers"),
    (np.array([3.5, 4.0]), "must be integers"),
    (["3"], "must be integers"),
    ([2**63], "int64"),
    ([2**64], "int64"),
    ([3, 2**70], "int64"),
])
def test_bad_allow_lists_are_value_errors(bad, message):
    index = Index(4, "l2")
    vectors = np.random.default_rng(0).normal(size=(50, 4)).astype(np.float32)
    index.add(vectors)
    with pytest.raises(ValueError, match=message):
        index.search(vectors[0], 5, filter=bad)
    with pytest.raises(ValueError, match=message):
        index.explain(bad)


def test_allow_list_ids_are_read_as_add_reads_ids():
    index = Index(4, "l2")
    vectors = np.random.default_rng(0).normal(size=(50, 4)).astype(np.float32)
    index.add(vectors)
    assert sorted(index.search(vectors[0], 2, filter=[3.0, 7.0])[0].tolist()) == [3, 7]
    assert sorted(index.search(vectors[0], 3, filter=[-1, 3, 7])[0].tolist()) == [-1, 3, 7]  # -1: padding
    assert index.explain(np.array([3, 7], dtype=np.uint64))["matches"] == 2
