"""The search path's single pieces: search options checked once in the core, per-thread search
contexts reused across searches of every kind, and the codec test hooks kept out of _core."""
import subprocess
import sys

import numpy as np
import pytest

import vecindex
from vecindex import F, _codec_testing, _core
from conftest import brute_force, clustered

DIM = 16


@pytest.mark.parametrize("options, message", [
    ({"k": 0}, "k must be >= 1, got 0"),
    ({"k": -3}, "k must be >= 1, got -3"),
    ({"k": 100001}, "k must be <= 100000, got 100001"),
    ({"k": 5, "ef": 0}, "ef must be >= 1, got 0"),
    ({"k": 5, "ef": -1}, "ef must be >= 1, got -1"),
    ({"k": 5, "ef": 1000001}, "ef must be <= 1000000, got 1000001"),
    ({"k": 5, "rerank_factor": 0}, "rerank_factor must be >= 1, got 0"),
    ({"k": 5, "rerank_factor": 1001}, "rerank_factor must be <= 1000, got 1001"),
])
def test_the_core_checks_search_options_and_names_the_value_given(options, message):
    with pytest.raises(ValueError, match=message):
        _core.SearchParams(**options)


def test_unset_options_keep_the_cores_defaults():
    params = _core.SearchParams(k=7)
    assert (params.k, params.ef) == (7, None)
    assert _core.SearchParams(k=7, ef=33).ef == 33


@pytest.mark.parametrize("call, message", [
    (lambda i, q: i.search(q, k=-2), "k must be >= 1, got -2"),
    (lambda i, q: i.search(q, k=3, ef=0), "ef must be >= 1, got 0"),
    (lambda i, q: i.search(q, k=3, rerank_factor=5000), "rerank_factor must be <= 1000, got 5000"),
    (lambda i, q: i.search(q, k=3, filter=F.size >= 0, ef=-4), "ef must be >= 1, got -4"),
    (lambda i, q: i.explain(F.size >= 0, k=0), "k must be >= 1, got 0"),
    (lambda i, q: i.explain(F.size >= 0, k=2, ef=10**7), "ef must be <= 1000000"),
    (lambda i, q: i.search(q, k=2**70), "k must fit in a 64-bit integer"),
])
def test_public_calls_report_the_cores_message(call, message):
    index = vecindex.Index(DIM, attributes={"size": "int"})
    index.add(clustered(50, DIM, seed=1), attrs={"size": np.arange(50)})
    with pytest.raises(ValueError, match=message):
        call(index, np.ones(DIM, dtype=np.float32))


def _one_of_each(index, queries):
    """Unfiltered, then each filtered strategy, on the same thread (so the same context)."""
    return [
        index.search(queries, k=10, threads=1),
        index.search(queries, k=10, threads=1, filter=F.size < 300, strategy="filtered_graph"),
        index.search(queries, k=10, threads=1, filter=F.size < 300, strategy="post_filter"),
        index.search(queries, k=10, threads=1, filter=F.size < 300, strategy="exact"),
    ]


def test_reused_contexts_carry_nothing_from_one_search_to_the_next():
    data = clustered(3000, DIM, seed=2)
    queries = clustered(40, DIM, seed=3)
    sizes = np.random.default_rng(4).integers(0, 1000, size=len(data))
    index = vecindex.Index(DIM, attributes={"size": "int"}, seed=5)
    index.add(data, attrs={"size": sizes})
    first = _one_of_each(index, queries)
    again = _one_of_each(index, queries[::-1])
    for (ids, distances), (ids_again, distances_again) in zip(first, again):
        np.testing.assert_array_equal(ids, ids_again[::-1])
        np.testing.assert_array_equal(distances, distances_again[::-1])
    # The exact strategy is brute force: it must match numpy exactly (ids are slots here).
    matching = np.flatnonzero(sizes < 300)
    truth, _ = brute_force(data[matching], queries, 10, "l2")
    exact_ids = first[3][0]
    assert all(set(exact_ids[q]) == set(matching[truth[q]]) for q in range(len(queries)))


def test_visited_marks_clear_both_after_small_and_after_wide_walks():
    # The visited set clears only the words a walk touched when it touched few of them (a
    # narrow walk on a large index), and all of them otherwise; a mark left behind would hide
    # a node from every later query that needs it.
    data = clustered(40000, 8, seed=8)
    queries = clustered(60, 8, seed=9)
    index = vecindex.Index(8, dtype="f32", M=8, ef_construction=40, seed=10)
    index.add(data, threads=1)
    alone = [index.search(q, k=5, ef=10, threads=1) for q in queries]
    for q, (ids, distances) in zip(queries[::-1], alone[::-1]):
        index.search(q, k=5, ef=2000, threads=1)  # touches most of the marks' words
        after_wide = index.search(q, k=5, ef=10, threads=1)
        index.search(queries[0], k=1, ef=1, threads=1)  # touches a handful
        after_narrow = index.search(q, k=5, ef=10, threads=1)
        for got in (after_wide, after_narrow):
            np.testing.assert_array_equal(got[0], ids)
            np.testing.assert_array_equal(got[1], distances)
    # Each result list is a real one: 5 distinct rows at the distances they are returned with.
    for q, (ids, distances) in zip(queries, alone):
        assert len(set(ids.tolist())) == 5
        np.testing.assert_allclose(distances, ((data[ids] - q) ** 2).sum(axis=1), rtol=1e-4, atol=1e-5)


def test_searches_see_rows_added_after_the_arrays_grew():
    # A context made while the index held 200 rows must grow with the graph's capacity, or
    # the visited marks of later slots fall outside it.
    data = clustered(6000, DIM, seed=6)
    index = vecindex.Index(DIM, seed=7)
    index.add(data[:200], threads=1)
    index.search(data[:5], k=3, threads=1)
    index.add(data[200:], threads=1)
    ids, distances = index.search(data[-300:], k=1, threads=1)
    assert np.mean(ids[:, 0] == np.arange(5700, 6000)) >= 0.99
    assert np.all(distances[ids[:, 0] == np.arange(5700, 6000), 0] < 1e-4)


def test_import_vecindex_leaves_the_codec_test_hooks_unloaded():
    script = ("import sys, vecindex; from vecindex import _core; "
              "hooks = [n for n in dir(_core) if n.startswith(('_codec', '_CodecStore', '_f32_to', '_f16_'))]; "
              "print('vecindex._codec_testing' in sys.modules, hooks)")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip() == "False []"


def test_codec_hooks_take_the_cores_metric_names_and_errors():
    # The core's parse_metric knows the aliases; the hooks' own copy knew only l2/ip/cosine.
    for alias, name in (("euclidean", "l2"), ("dot", "ip"), ("angular", "cosine")):
        data = clustered(300, DIM, seed=8)
        by_alias, by_name = _codec_testing._CodecStore("sq8", DIM, alias), _codec_testing._CodecStore("sq8", DIM, name)
        for store in (by_alias, by_name):
            store.train(data)
            store.add(data)
        np.testing.assert_array_equal(by_alias.distances(data[0]), by_name.distances(data[0]))
    with pytest.raises(ValueError, match="unknown metric 'hamming'"):
        _codec_testing._CodecStore("sq8", DIM, "hamming")
    with pytest.raises(vecindex.FormatError):
        _codec_testing._CodecStore("sq8", DIM, "l2").load(b"\x01\x02", 1)


@pytest.mark.parametrize("dtype", ["f32", "sq8"])
@pytest.mark.parametrize("ef", [10, 37, 200])
def test_the_unfiltered_walk_matches_the_filtered_walk_when_every_row_passes(dtype, ef):
    # An unfiltered walk keeps its candidates in one sorted pool, a filtered one in two heaps
    # (graph/sorted_pool.h). Both expand the two nearest unexpanded candidates each step and keep
    # the best ef, so with a filter every row passes they must return the same neighbours,
    # distances included, at every beam width.
    data = clustered(4000, DIM, seed=11)
    queries = clustered(60, DIM, seed=12)
    index = vecindex.Index(DIM, dtype=dtype, attributes={"size": "int"}, seed=13)
    index.add(data, attrs={"size": np.arange(len(data))})
    everything = F.size >= 0
    assert index.explain(everything)["matches"] == len(data)
    ids, distances = index.search(queries, k=10, ef=ef, threads=1)
    ids_filtered, distances_filtered = index.search(queries, k=10, ef=ef, threads=1, filter=everything,
                                                    strategy="post_filter")
    np.testing.assert_array_equal(ids, ids_filtered)
    np.testing.assert_array_equal(distances, distances_filtered)
