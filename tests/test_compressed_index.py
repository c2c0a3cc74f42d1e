"""Index with compressed dtypes: training, search on codes, reranking, persistence."""
import pickle

import numpy as np
import pytest

import vecindex
from conftest import brute_force, recall

DTYPES = ["f16", "bf16", "sq8", "sq4", "pq", "rabitq"]
TRAINED = ["sq8", "sq4", "pq", "rabitq"]
METRICS = ["l2", "ip", "cosine"]
DIM = 128


def embedding_like(count, seed, dim=DIM):
    """Points near a 16-dimensional subspace, like text embeddings (1-bit and PQ codes are
    meant for such data, not for isotropic noise in few dimensions)."""
    rng = np.random.default_rng(seed)
    basis = np.random.default_rng(1234).standard_normal((16, dim))
    return (rng.standard_normal((count, 16)) @ basis + 0.3 * rng.standard_normal((count, dim))).astype(np.float32)


def make_index(dtype, metric="l2", rerank=False, **options):
    if dtype == "pq":
        options.setdefault("pq_m", 32)
    return vecindex.Index(dim=DIM, metric=metric, dtype=dtype, rerank=rerank, M=16, ef_construction=100,
                          **options)


@pytest.fixture(scope="module")
def data():
    return embedding_like(3000, seed=0), embedding_like(50, seed=5)


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_reranked_search_finds_true_neighbours_with_exact_distances(dtype, metric, data):
    base, queries = data
    index = make_index(dtype, metric, rerank=True)
    index.train(base)  # trained now: with rerank=True 3000 rows would wait for lazy training
    index.add(base)
    ids, distances = index.search(queries, k=10, ef=200, rerank_factor=10)
    truth_ids, truth_distances = brute_force(base, queries, 10, metric)
    assert recall(ids, truth_ids) >= 0.95
    # Reranked distances are exact: compare where the same neighbour was found.
    hits = ids == truth_ids
    assert np.allclose(distances[hits], truth_distances[hits], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("dtype", DTYPES)
def test_search_without_rerank_factor_uses_the_dtype_default(dtype, data):
    base, queries = data
    index = make_index(dtype, rerank=True)
    index.train(base)  # an untrained rerank=True index walks the f32 vectors: no factor to tell apart
    index.add(base)
    default = vecindex.index.DEFAULT_RERANK_FACTOR[dtype]
    other = 4 if default != 4 else 1
    # ef=1: the beam is k * rerank_factor, so the factor decides which candidates exist.
    explicit = index.search(queries, k=10, ef=1, rerank_factor=default)
    different = index.search(queries, k=10, ef=1, rerank_factor=other)
    assert not np.array_equal(explicit[0], different[0]), "data too easy to tell the factors apart"
    implicit = index.search(queries, k=10, ef=1)
    assert np.array_equal(implicit[0], explicit[0])
    assert np.array_equal(implicit[1], explicit[1])


@pytest.mark.parametrize("dtype", ["f16", "bf16", "sq8"])
def test_fine_codecs_search_well_without_rerank(dtype, data):
    base, queries = data
    index = make_index(dtype)
    index.add(base)
    ids, _ = index.search(queries, k=10, ef=200)
    assert recall(ids, brute_force(base, queries, 10, "l2")[0]) >= 0.95


@pytest.mark.parametrize("dtype", TRAINED)
def test_adding_too_few_vectors_untrained_explains_training(dtype):
    index = make_index(dtype)
    with pytest.raises(ValueError, match="train"):
        index.add(embedding_like(10, seed=3))


@pytest.mark.parametrize("dtype", TRAINED)
def test_explicit_training_then_small_adds(dtype, data):
    base, queries = data
    index = make_index(dtype, rerank=True)
    index.train(base)
    for start in range(0, 300, 10):
        index.add(base[start:start + 10])
    assert len(index) == 300
    ids, _ = index.search(base[:5], k=1, rerank_factor=8)
    assert list(ids[:, 0]) == list(range(5))


@pytest.mark.parametrize("dtype", TRAINED)
def test_training_sample_too_small_is_value_error(dtype):
    with pytest.raises(ValueError):
        make_index(dtype).train(embedding_like(3, seed=4))


@pytest.mark.parametrize("dtype", DTYPES)
def test_memory_usage_reports_codes_and_full_vectors(dtype, data):
    base, _ = data
    plain, reranked = make_index(dtype), make_index(dtype, rerank=True)
    plain.add(base)
    reranked.train(base)
    reranked.add(base)
    usage, usage_rerank = plain.memory_usage(), reranked.memory_usage()
    assert usage["full_vectors"] == 0
    assert usage_rerank["full_vectors"] >= len(base) * DIM * 4
    assert usage["codes"] < len(base) * DIM * 4 * 1.2  # well under f32 (capacity slack allowed)


@pytest.mark.parametrize("rerank", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
def test_save_load_and_pickle_keep_results(dtype, rerank, data, tmp_path):
    base, queries = data
    index = make_index(dtype, "cosine", rerank=rerank)
    index.train(base)  # so rerank=True files hold codes (untrained ones: tests/test_default_index.py)
    index.add(base)
    expected = index.search(queries, k=5)
    path = tmp_path / "index.vx"
    index.save(path)
    for loaded in (vecindex.Index.load(path), pickle.loads(pickle.dumps(index)),
                   vecindex.Index.load(path, mmap=True)):
        assert loaded.dtype == dtype
        got = loaded.search(queries, k=5)
        assert np.array_equal(got[0], expected[0])
        assert np.array_equal(got[1], expected[1])


@pytest.mark.parametrize("dtype", DTYPES)
def test_corrupt_codec_section_is_format_error(dtype, data):
    base, _ = data
    index = make_index(dtype)
    index.add(base[:500])
    blob = bytearray(index.to_bytes())
    truncated = bytes(blob[: len(blob) * 2 // 3])
    with pytest.raises(vecindex.FormatError):
        vecindex.Index.from_bytes(truncated)


def test_unknown_dtype_lists_the_codecs():
    with pytest.raises(ValueError, match="sq8"):
        vecindex.Index(dim=DIM, dtype="int4")


def assert_padding(index, dim, k=3):
    """An empty index answers every query with -1 ids and +inf distances, as an empty f32 one."""
    queries = embedding_like(2, seed=9, dim=dim)
    ids, distances = index.search(queries, k=k)
    assert ids.shape == (2, k) and (ids == -1).all()
    assert np.isinf(distances).all() and (distances > 0).all()
    ids, distances = index.search(queries[0], k=k, filter=[1, 2])
    assert (ids == -1).all() and np.isinf(distances).all()


@pytest.mark.parametrize("rerank", [False, True])
@pytest.mark.parametrize("dtype", ["f32"] + DTYPES)
def test_empty_index_of_every_dtype_behaves_like_an_empty_f32_one(dtype, rerank, tmp_path):
    dim = 16
    options = {"pq_m": 4} if dtype == "pq" else {}
    index = vecindex.Index(dim=dim, dtype=dtype, rerank=rerank, M=4, ef_construction=16, **options)
    assert_padding(index, dim)
    path = tmp_path / "empty.vx"
    index.save(path)
    copies = [vecindex.Index.load(path), vecindex.Index.load(path, mmap=True),
              vecindex.Index.from_bytes(index.to_bytes()), pickle.loads(pickle.dumps(index))]
    for copy in copies:
        assert copy.dtype == dtype and len(copy) == 0 and copy.dim == dim
        assert_padding(copy, dim)
        copy.check_integrity()
    # A reloaded empty index is still a fresh one: its first add trains it (codecs that need it).
    writable = copies[0]
    base = embedding_like(300, seed=3, dim=dim)
    writable.add(base)
    found, _ = writable.search(base[:5], k=3)
    assert (found >= 0).all()
    assert len(vecindex.Index.from_bytes(writable.to_bytes())) == 300


@pytest.mark.parametrize("dtype", TRAINED)
def test_trained_empty_index_stays_trained_through_a_round_trip(dtype):
    dim = 16
    options = {"pq_m": 4} if dtype == "pq" else {}
    index = vecindex.Index(dim=dim, dtype=dtype, M=4, ef_construction=16, **options)
    index.train(embedding_like(300, seed=4, dim=dim))
    clone = vecindex.Index.from_bytes(index.to_bytes())
    assert_padding(clone, dim)
    clone.add(embedding_like(2, seed=5, dim=dim))  # fewer than training needs: only a trained index accepts it
    assert len(clone) == 2
