"""ShardedIndex on a local Ray runtime (ray.init(num_cpus=2), one per module): the Index
semantics, recall against one Index, filters, and restarts from the last save."""
from __future__ import annotations

import numpy as np
import pytest

import ray
import vecindex
from vecindex import F
from vecindex.distributed import SearchResult, ShardedIndex, WritesLost
from vecindex.distributed.routing import shard_of

from conftest import brute_force, clustered

N, DIM, QUERIES, K, EF = 4000, 32, 200, 10, 24
GROUPS = [f"g{i}" for i in range(10)]


pytestmark = pytest.mark.usefixtures("ray_runtime")  # one local Ray runtime per module (conftest)


@pytest.fixture(scope="module")
def data():
    vectors = clustered(N, DIM, seed=11)
    queries = clustered(QUERIES, DIM, seed=12)
    rng = np.random.default_rng(13)
    groups = [GROUPS[i] for i in rng.integers(0, len(GROUPS), N)]
    years = rng.integers(2000, 2025, N)
    return vectors, queries, {"group": groups, "year": years.tolist()}


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f[f >= 0]) & set(t[t >= 0])) / max(1, (t >= 0).sum()) for f, t in zip(found, truth)]))


def exact_filtered(vectors, queries, mask, k):
    allowed = np.flatnonzero(mask)
    order, _ = brute_force(vectors[allowed], queries, k, "l2")
    return allowed[order]


@pytest.mark.parametrize("shards", [1, 2, 4])
def test_recall_at_least_that_of_one_index_filtered_and_unfiltered(data, shards):
    vectors, queries, attrs = data
    schema = {"group": "keyword", "year": "int"}
    single = vecindex.Index(dim=DIM, attributes=schema)
    single.add(vectors, attrs=attrs, threads=1)  # one thread: the same graph on every run, as a shard's
    exact, _ = brute_force(vectors, queries, K, "l2")
    # About 70% of rows match: the planners walk the graphs rather than scan the matches.
    expression = (F.group != "g3") & (F.year >= 2005)
    mask = np.array([g != "g3" and y >= 2005 for g, y in zip(attrs["group"], attrs["year"])])
    exact_f = exact_filtered(vectors, queries, mask, K)
    with ShardedIndex(dim=DIM, attributes=schema, shards=shards) as sharded:
        sharded.add(vectors, attrs=attrs)
        for filter, truth in ((None, exact), (expression, exact_f)):
            base = recall(single.search(queries, K, ef=EF, filter=filter)[0], truth)
            got = recall(sharded.search(queries, K, ef=EF, filter=filter)[0], truth)
            print(f"shards={shards} filtered={filter is not None} single={base:.4f} sharded={got:.4f}")
            assert got >= base - 0.005


@pytest.fixture(scope="module")
def pair(data):
    """The same 600 vectors in one Index and in a 3-shard ShardedIndex."""
    vectors, _, attrs = data
    schema = {"group": "keyword", "year": "int"}
    sub = {name: values[:600] for name, values in attrs.items()}
    single = vecindex.Index(dim=DIM, attributes=schema)
    single.add(vectors[:600], attrs=sub)
    sharded = ShardedIndex(dim=DIM, attributes=schema, shards=3)
    sharded.add(vectors[:600], attrs=sub)
    yield single, sharded
    sharded.close()


def test_exact_searches_and_reads_equal_one_index(pair, data):
    single, sharded = pair
    _, queries, _ = data
    assert len(sharded) == len(single) == 600
    np.testing.assert_array_equal(sharded.ids(), np.sort(single.ids()))
    for filter in (F.group.isin(["g1", "g2"]), list(range(0, 600, 7)), np.arange(600) % 3 == 0,
                   lambda i: i % 5 == 1, [F.group == "g1", None, [3, 4, 5]] + [F.year < 2004] * 7):
        expect = single.search(queries[:10], K, filter=filter, strategy="exact")
        got = sharded.search(queries[:10], K, filter=filter, strategy="exact")
        np.testing.assert_array_equal(got[0], expect[0])
        np.testing.assert_allclose(got[1], expect[1], rtol=1e-6)
    ids = [599, 0, 17, 17]
    np.testing.assert_array_equal(sharded.get(ids), single.get(ids))
    assert sharded.get_attrs(ids) == single.get_attrs(ids)
    for key in (17, 600, -1, "17", "x", None, 2**70):
        assert (key in sharded) == (key in single), key


def test_padding_one_dimensional_queries_and_repr(pair, data, monkeypatch):
    _, sharded = pair
    _, queries, _ = data
    puts = []
    real_put = ray.put
    monkeypatch.setattr(ray, "put", lambda value, **kw: puts.append(value) or real_put(value, **kw))
    sharded.search(queries, K, filter=F.group == "g1")
    assert len(puts) == 1 and puts[0][0].shape == queries.shape  # one object per batch, for all 3 shards
    monkeypatch.undo()
    ids, distances = sharded.search(queries[0], k=5, filter=[1, 2])
    assert ids.shape == (5,) and sorted(ids[:2].tolist()) == [1, 2]
    assert (ids[2:] == -1).all() and np.isinf(distances[2:]).all() and distances.dtype == np.float32
    assert repr(sharded) == ("vecindex.distributed.ShardedIndex(dim=32, metric='l2', dtype='sq8', size=600, shards=3, "
                             "M=16, ef_construction=200, ef_search=64)")


def test_defaults_are_index_defaults(pair):
    """Built with no dtype or rerank, a ShardedIndex's shards are what Index(dim) builds."""
    single, sharded = pair
    assert (sharded.dtype, sharded._schema["rerank"]) == (single.dtype, single._core.rerank) == ("sq8", True)
    assert {name: getattr(sharded, name) for name in ("metric", "M", "ef_construction", "ef_search")} == \
        {name: getattr(single, name) for name in ("metric", "M", "ef_construction", "ef_search")}


def test_errors_match_index_and_change_nothing(pair, data):
    single, sharded = pair
    vectors, queries, _ = data
    before = sharded.search(queries[:5], K)
    for call in (lambda x: x.search(queries[:, :5], K), lambda x: x.search(queries, 0),
                 lambda x: x.add(vectors[:2, :5]), lambda x: x.add(np.full((1, DIM), np.nan), ids=[9999])):
        with pytest.raises(ValueError):
            call(single)
        with pytest.raises(ValueError):
            call(sharded)
    for call in (lambda x: x.search(queries, K, filter=F.nope == 1),):
        with pytest.raises(ValueError):
            call(single)
        with pytest.raises(ValueError):
            call(sharded)
    with pytest.raises(TypeError):
        sharded.search(queries, K, filter=3.5)
    with pytest.raises(ValueError, match="ids already in the index: 5"):
        sharded.add(vectors[:2], ids=[5000, 5])  # 5000 is new, 5 exists: neither is added
    assert 5000 not in sharded
    with pytest.raises(KeyError, match="ids not in the index: 7000"):
        sharded.delete([3, 7000])
    assert 3 in sharded
    for read in (sharded.get, sharded.get_attrs):
        with pytest.raises(KeyError):
            read([1, 7001])
    with pytest.raises(ValueError, match="boolean mask"):
        sharded.search(queries, K, filter=np.ones(10, dtype=bool))
    after = sharded.search(queries[:5], K)
    np.testing.assert_array_equal(after[0], before[0])
    assert len(sharded) == 600


def test_writes_route_to_owners_and_introspection_sums_shards(data):
    vectors, queries, _ = data
    single = vecindex.Index(dim=DIM, attributes={"year": "int"})
    with ShardedIndex(dim=DIM, shards=2, attributes={"year": "int"}) as sharded:
        for index in (single, sharded):
            assert index.add(vectors[:50]).tolist() == list(range(50))
            assert index.add(vectors[50:60]).tolist() == list(range(50, 60))  # auto ids continue
            index.add(vectors[:1] * 2, ids=[7], replace=True, attrs={"year": [1999]})
            index.delete([3, 4])
        np.testing.assert_allclose(sharded.get([7])[0], vectors[0] * 2)
        assert sharded.get_attrs([7, 8]) == {"year": [1999, None]}
        assert len(sharded) == 58 and 3 not in sharded
        assert 3 not in sharded.search(vectors[3], k=5)[0]
        assert sharded.compact() == single.compact() > 0
        info = sharded.shard_info()
        sizes = np.bincount(shard_of(sharded.ids(), 2), minlength=2)
        assert [entry["size"] for entry in info] == sizes.tolist()
        memory = sharded.memory_usage()
        assert len(memory["shards"]) == 2
        assert memory["graph"] == sum(part["graph"] for part in memory["shards"]) > 0
        plan = sharded.explain(F.year == 1999)
        assert plan["matches"] == 1 and plan["live"] == 58 and len(plan["shards"]) == 2
        assert sum(p["matches"] for p in plan["shards"]) == 1
        sharded.ef_search = 100
        assert sharded.ef_search == 100 and "ef_search=100" in repr(sharded)
        assert all(s["size"] for s in sharded.stats()["shards"])
        assert sharded.cpus_per_shard < 0.1 and sharded.timeout == 60  # the documented defaults


def test_first_add_trains_every_shard_on_the_same_vectors(data):
    vectors, _, _ = data
    small = vecindex.Index(dim=DIM, dtype="sq8")
    with pytest.raises(ValueError, match="must be trained first"):
        small.add(vectors[:12])  # sq8 learns from at least 32 vectors
    with ShardedIndex(dim=DIM, dtype="sq8", shards=4) as sharded:
        sharded.add(vectors[:40])  # about 10 per shard: only training on all 40 at once works
        assert len(sharded) == 40
        assert sharded.search(vectors[5], k=1)[0][0] == 5


def test_restarted_shard_reopens_last_save_and_reports_lost_writes(data, tmp_path):
    vectors, queries, _ = data
    with ShardedIndex(dim=DIM, shards=2) as sharded:
        sharded.add(vectors[:200])
        sharded.save(tmp_path / "saved")
        sharded.add(vectors[200:240], ids=np.arange(1000, 1040))
        victim = int(shard_of(np.array([1000]), 2)[0])
        lost = np.arange(1000, 1040)[shard_of(np.arange(1000, 1040), 2) == victim]
        ray.kill(sharded._deployment.actors[victim], no_restart=False)
        with pytest.raises(WritesLost) as caught:
            for _ in range(100):  # the restart takes a moment; calls meet it once it is back
                try:
                    sharded.search(queries[:3], K)
                except vecindex.distributed.ShardUnavailable as error:
                    if isinstance(error, WritesLost):
                        raise
        assert caught.value.shard == victim
        np.testing.assert_array_equal(caught.value.lost_ids[victim], lost)
        assert f"shard {victim} restarted from its last save" in str(caught.value)
        assert len(sharded) == 200 + 40 - lost.size  # the saved state, plus the other shard's writes
        assert not any(int(i) in sharded for i in lost)
        result = sharded.search(queries[:3], K, allow_partial=True)
        assert isinstance(result, SearchResult) and result.missing_shards == []


def test_every_search_parameter_reaches_the_shard(data):
    """A 1-shard index holds the same graph as one Index built with one thread, so each
    parameter (k, ef, rerank_factor, strategy, threads, filter) must give identical results."""
    vectors, queries, _ = data
    single = vecindex.Index(dim=DIM, dtype="sq8", rerank=True)
    single.train(vectors[:800])
    single.add(vectors[:800], threads=1)
    with ShardedIndex(dim=DIM, dtype="sq8", rerank=True, shards=1) as sharded:
        sharded.train(vectors[:800])  # as the single index: with rerank a shard would otherwise train lazily
        sharded.add(vectors[:800])
        for params in ({"k": 3, "ef": 1}, {"k": 7, "ef": 40}, {"k": 5, "ef": 8, "rerank_factor": 1},
                       {"k": 5, "ef": 8, "rerank_factor": 6}, {"k": 4, "strategy": "exact", "filter": list(range(0, 800, 3))},
                       {"k": 6, "ef": 12, "threads": 2, "filter": [None, [5, 6, 7]] * 10}):
            expect = single.search(queries[:20], **params)
            got = sharded.search(queries[:20], **params)
            np.testing.assert_array_equal(got[0], expect[0], err_msg=str(params))
            np.testing.assert_allclose(got[1], expect[1], rtol=1e-6, err_msg=str(params))
