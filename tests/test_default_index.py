"""Index(dim) with nothing else: an sq8 walk reranked on kept f32 vectors, trained lazily.

Contract (issue 15): small adds work and are searchable at once; returned distances are exact;
get() returns the exact vectors; recall at every ef is at least the f32 graph's; untrained
indexes save, load, map and pickle; RAM stays within 1.3x of the f32 index.
"""
import pickle
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import vecindex
from vecindex import _core
from vecindex.index import DEFAULTS, DEFAULT_RERANK_FACTOR

LAZY = _core.LAZY_TRAINING_ROWS
FAST = dict(M=8, ef_construction=32)  # small graphs: these tests are about storage, not links


def clustered(n, dim, seed, centers=20):
    rng = np.random.default_rng(seed)
    middle = rng.normal(size=(centers, dim)) * 3
    return (middle[rng.integers(0, centers, n)] + rng.normal(size=(n, dim))).astype(np.float32)


def exact_l2(queries, vectors, ids):
    """Squared L2 from each query to the vectors of its result ids."""
    return np.stack([((vectors[row] - query) ** 2).sum(axis=1) for query, row in zip(queries, ids)])


def assert_exact(index, vectors, queries, k=10):
    ids, distances = index.search(queries, k)
    assert (ids >= 0).all()
    np.testing.assert_allclose(distances, exact_l2(queries, vectors, ids), rtol=1e-5, atol=1e-4)
    return ids


def test_default_is_sq8_with_rerank_and_explicit_f32_is_unchanged():
    index = vecindex.Index(8)
    assert index.dtype == DEFAULTS["dtype"] == "sq8"
    assert index._core.rerank is DEFAULTS["rerank"] is True
    f32 = vecindex.Index(8, dtype="f32")
    assert f32.dtype == "f32" and f32._core.rerank is False
    assert vecindex.Index(8, dtype="sq8")._core.rerank is False  # an explicit dtype keeps rerank off
    assert vecindex.Index(8, rerank=False)._core.rerank is False


@pytest.mark.parametrize("batch", [1, 10])
def test_small_adds_work_and_are_searchable_at_once(batch):
    vectors = clustered(40, 12, seed=batch)
    index = vecindex.Index(12)
    for start in range(0, len(vectors), batch):
        index.add(vectors[start:start + batch])
        added = vectors[:start + batch]
        ids, distances = index.search(added[-1], k=1)
        assert ids[0] == start + batch - 1 and distances[0] == 0.0
    assert not index._core.is_trained
    ids = assert_exact(index, vectors, vectors[:5] + 0.1)
    np.testing.assert_array_equal(index.get(np.arange(40)), vectors)
    assert ids.shape == (5, 10)


def test_small_adds_work_for_every_trained_dtype_with_rerank():
    vectors = clustered(5, 32, seed=3)
    for dtype in ("sq8", "sq4", "pq", "rabitq"):
        index = vecindex.Index(32, dtype=dtype, rerank=True, pq_m=8)
        index.add(vectors[:1])
        index.add(vectors[1:])
        assert_exact(index, vectors, vectors + 0.5, k=5)
        with pytest.raises(ValueError, match="trained first"):  # without full vectors: unchanged
            vecindex.Index(32, dtype=dtype).add(vectors)


def test_training_happens_at_the_threshold_and_keeps_everything_exact():
    dim = 16
    vectors = clustered(LAZY + 300, dim, seed=5)
    queries = clustered(20, dim, seed=6)
    index = vecindex.Index(dim, **FAST)
    index.add(vectors[:LAZY - 1], threads=2)
    assert not index._core.is_trained
    before = assert_exact(index, vectors, queries)
    codes_before = index.memory_usage()["codes"]
    index.add(vectors[LAZY - 1:LAZY])
    assert index._core.is_trained
    assert assert_exact(index, vectors, queries).shape == before.shape
    index.add(vectors[LAZY:])  # rows after training are encoded as they link
    assert_exact(index, vectors, queries)
    np.testing.assert_array_equal(index.get(np.arange(len(vectors))), vectors)
    assert index.memory_usage()["codes"] >= codes_before
    index.check_integrity()


def test_one_large_add_trains_once_it_is_linked():
    vectors = clustered(LAZY, 8, seed=7)
    index = vecindex.Index(8, **FAST)
    index.add(vectors, threads=2)
    assert index._core.is_trained
    assert_exact(index, vectors, clustered(10, 8, seed=8))


def test_train_after_small_adds_encodes_them():
    vectors = clustered(100, 16, seed=9)
    index = vecindex.Index(16)
    index.add(vectors[:10])
    index.train(vectors)
    assert index._core.is_trained
    index.add(vectors[10:])
    assert_exact(index, vectors, vectors[:7] + 0.2)
    with pytest.raises(RuntimeError, match="before the first add"):  # trained: as before
        index.train(vectors)
    f32_then_sq8 = vecindex.Index(16, dtype="sq8")
    f32_then_sq8.add(vectors)
    with pytest.raises(RuntimeError, match="before the first add"):  # no full vectors: as before
        f32_then_sq8.train(vectors)


def test_untrained_index_round_trips_through_bytes_files_mmap_and_pickle(tmp_path):
    vectors = clustered(60, 16, seed=10)
    queries = clustered(8, 16, seed=11)
    index = vecindex.Index(16, **FAST)
    index.add(vectors)
    ids, distances = index.search(queries, 10)
    path = tmp_path / "untrained.vx"
    index.save(path)
    assert int.from_bytes(path.read_bytes()[8:12], "little") == 2  # format version: no new field
    copies = [vecindex.Index.from_bytes(index.to_bytes()), vecindex.Index.load(path),
              vecindex.Index.load(path, mmap=True), pickle.loads(pickle.dumps(index))]
    for copy in copies:
        assert copy.dtype == "sq8" and not copy._core.is_trained and copy._core.rerank
        found, found_distances = copy.search(queries, 10)
        np.testing.assert_array_equal(found, ids)
        np.testing.assert_array_equal(found_distances, distances)
        np.testing.assert_array_equal(copy.get(np.arange(60)), vectors)
    # A loaded untrained index keeps adding and trains at the threshold like the original.
    more = clustered(LAZY, 16, seed=12)
    loaded = copies[1]
    loaded.add(more, threads=2)
    assert loaded._core.is_trained
    assert_exact(loaded, np.concatenate([vectors, more]), queries)


def test_concurrent_searches_stay_exact_while_the_index_trains():
    dim = 8
    vectors = clustered(LAZY + 2000, dim, seed=13)
    queries = clustered(16, dim, seed=14)
    index = vecindex.Index(dim, **FAST)
    index.add(vectors[:LAZY - 500], threads=2)
    errors, rounds = [], [0]
    stop = threading.Event()

    def search_loop():
        while not stop.is_set():
            try:
                ids, distances = index.search(queries, 5)
                np.testing.assert_allclose(distances, exact_l2(queries, vectors, ids), rtol=1e-5, atol=1e-4)
                rounds[0] += 1
            except BaseException as error:  # noqa: B902 - reported to the main thread
                errors.append(error)
                return

    searcher = threading.Thread(target=search_loop)
    searcher.start()
    for start in range(LAZY - 500, len(vectors), 250):
        index.add(vectors[start:start + 250])
    stop.set()
    searcher.join(timeout=120)
    assert not searcher.is_alive()
    assert not errors, errors[0]
    assert rounds[0] > 0 and index._core.is_trained


def recall(found, truth):
    return np.mean([len(set(row) & set(true)) / len(true) for row, true in zip(found, truth)])


def test_recall_at_every_ef_is_at_least_the_f32_graphs():
    dim, n, k = 32, LAZY + 2000, 10
    vectors = clustered(n, dim, seed=15, centers=50)
    queries = clustered(200, dim, seed=16, centers=50)
    truth = np.argsort(((queries[:, None, :] - vectors[None, :, :]) ** 2).sum(axis=2), axis=1)[:, :k]
    default = vecindex.Index(dim, ef_construction=100)
    f32 = vecindex.Index(dim, ef_construction=100, dtype="f32")
    for index in (default, f32):
        index.add(vectors, threads=1)  # links chosen on the f32 vectors; the default's inserts walk its codes
    assert default._core.is_trained
    for ef in (10, 16, 24, 32, 48, 64, 100, 150, 200, 300, 400):
        default_recall = recall(default.search(queries, k, ef=ef)[0], truth)
        f32_recall = recall(f32.search(queries, k, ef=ef)[0], truth)
        assert default_recall >= f32_recall, (ef, default_recall, f32_recall)


def graph_of_one_add(vectors, **options):
    """Mean level-0 degree after one single-threaded add: equal only for identically linked graphs."""
    index = vecindex.Index(vectors.shape[1], M=8, ef_construction=40, **options)
    index.add(vectors, threads=1)
    return index.stats()["mean_degree0"]


def test_one_large_add_trains_first_and_its_inserts_walk_the_codes():
    # Links are chosen on the f32 vectors either way; only the walk that finds the candidates
    # differs. sq8, f16 and bf16 walk their codes, from the first insert of an add that
    # reaches the training threshold, so their graphs differ from f32's; sq4, pq and rabitq
    # (coarser codes) walk the f32 vectors and link exactly the f32 graph.
    vectors = clustered(LAZY + 1000, 16, seed=18, centers=50)
    f32 = graph_of_one_add(vectors, dtype="f32")
    for dtype in ("sq4", "pq", "rabitq"):
        assert graph_of_one_add(vectors, dtype=dtype, rerank=True) == f32, dtype
    assert graph_of_one_add(vectors) != f32
    for dtype in ("f16", "bf16"):
        assert graph_of_one_add(vectors, dtype=dtype, rerank=True) != f32, dtype


def test_rerank_factor_default_is_the_python_table_and_the_core_has_none():
    vectors = clustered(300, 16, seed=17)
    index = vecindex.Index(16, dtype="sq8", rerank=True)
    index.add(vectors)
    queries = vectors[:20] + 0.3
    implicit = index.search(queries, 5, ef=10)
    explicit = index.search(queries, 5, ef=10, rerank_factor=DEFAULT_RERANK_FACTOR["sq8"])
    np.testing.assert_array_equal(implicit[0], explicit[0])
    assert DEFAULT_RERANK_FACTOR is DEFAULTS["rerank_factor"]
    unset = _core.SearchParams(k=5, ef=10)  # no rerank_factor: the core has no default to fall back on
    with pytest.raises(ValueError, match="rerank_factor must be >= 1, got 0"):
        index._core.search(queries, unset)
    with pytest.raises(ValueError, match="rerank_factor must be >= 1, got 0"):
        index._core.search_filtered(queries, unset, [_core.FilterExpr.all()], "auto")
    with pytest.raises(ValueError, match="rerank_factor must be >= 1, got 0"):
        _core.SearchParams(k=5, rerank_factor=0)


# Builds one index in a fresh process and prints its resident-set growth. malloc_trim hands the
# allocator's cached free pages (the add's transient copies: normalised rows, the training
# sample) back first, so the growth is what the index itself holds; both kinds are measured
# the same way, each in its own process.
MEMORY_CHILD = textwrap.dedent(
    """
    import ctypes, gc, sys, numpy as np, vecindex

    def rss():
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS:"))

    trim = ctypes.CDLL("libc.so.6").malloc_trim
    n, dim = 30000, 128
    vectors = np.random.default_rng(0).normal(size=(n, dim)).astype(np.float32)
    options = dict(dim=dim, M=16, ef_construction=16, **({"dtype": "f32"} if sys.argv[1] == "f32" else {}))
    warm = vecindex.Index(**options)  # first-use allocations (threads, visited sets)
    warm.add(vectors[:10])
    warm.search(vectors[:2], 5)
    gc.collect(); trim(0)
    before = rss()
    index = vecindex.Index(**options)
    index.add(vectors, threads=2)
    gc.collect(); trim(0)
    assert index.dtype == ("f32" if sys.argv[1] == "f32" else "sq8") and index._core.is_trained
    print(rss() - before)
    """
)


def resident_growth(kind):
    result = subprocess.run([sys.executable, "-c", MEMORY_CHILD, kind], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return int(result.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status, calls glibc's malloc_trim")
def test_default_index_ram_is_at_most_1_3x_the_f32_index():
    f32_growth, default_growth = resident_growth("f32"), resident_growth("default")
    assert f32_growth > 30000 * 128 * 4  # at least the f32 vectors themselves
    assert f32_growth < default_growth <= 1.3 * f32_growth, (default_growth, f32_growth)


def test_a_first_add_trains_on_its_rows_in_place_as_it_would_on_a_copy():
    # The add that trains on nothing but its own rows trains on them where they lie (no copy,
    # index.cpp train_from_full_vectors); after a one-row add the same rows are copied into a
    # sample. Same sample, same order, one build thread: the two indexes must be identical.
    vectors = clustered(LAZY + 37, 12, seed=21)
    in_place = vecindex.Index(12, **FAST)
    in_place.add(vectors, threads=1)
    copied = vecindex.Index(12, **FAST)
    copied.add(vectors[:1], threads=1)
    assert not copied._core.is_trained
    copied.add(vectors[1:], threads=1)
    assert in_place._core.is_trained and copied._core.is_trained
    assert in_place.to_bytes() == copied.to_bytes()
