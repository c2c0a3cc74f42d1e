"""MultiVectorIndex: exact Chamfer scores, recall against brute force, ids, delete, get,
token dtypes, threads and filters. Persistence and errors are in test_multivector_files.py
and test_multivector_errors.py."""
import numpy as np
import pytest

import vecindex
from vecindex import F

DIM = 16


def topical_docs(seed, count, dim=DIM, lengths=(3, 12)):
    """Token sets drawn around a few topic vectors each, normalised per token."""
    rng = np.random.default_rng(seed)
    topics = np.random.default_rng(1234).standard_normal((25, dim))
    docs = []
    for _ in range(count):
        chosen = topics[rng.choice(len(topics), size=int(rng.integers(1, 4)), replace=False)]
        n = int(rng.integers(*lengths))
        tokens = chosen[rng.integers(0, len(chosen), size=n)] + 0.4 * rng.standard_normal((n, dim))
        docs.append((tokens / np.linalg.norm(tokens, axis=1, keepdims=True)).astype(np.float32))
    return docs


def chamfer(query, doc):
    return float((query.astype(np.float64) @ doc.astype(np.float64).T).max(axis=1).sum())


def brute_force(queries, docs, ids, k):
    out = []
    for query in queries:
        scores = np.array([chamfer(query, doc) for doc in docs])
        order = np.lexsort((ids, -scores))[:k]
        out.append(np.asarray(ids)[order])
    return np.array(out)


def small_index(token_dtype="f32", dtype="f32", **kwargs):
    return vecindex.MultiVectorIndex(DIM, dtype, token_dtype, k_sim=3, d_proj=8, r_reps=8, **kwargs)


@pytest.fixture(scope="module")
def corpus():
    return topical_docs(1, 200), topical_docs(2, 12)


def test_scores_are_exact_chamfer_similarities(corpus):
    docs, queries = corpus
    index = small_index()
    index.add(docs)
    ids, scores = index.search(queries, k=5)
    for q, query in enumerate(queries):
        for id_, score in zip(ids[q], scores[q]):
            assert score == pytest.approx(chamfer(query, docs[id_]), rel=1e-5, abs=1e-5)
        assert np.all(np.diff(scores[q]) <= 0)


def test_all_documents_as_candidates_gives_the_exact_top_k(corpus):
    docs, queries = corpus
    index = small_index()
    index.add(docs)
    ids, _ = index.search(queries, k=10, candidates=len(docs), ef=len(docs))
    assert np.array_equal(ids, brute_force(queries, docs, np.arange(len(docs)), 10))


def test_recall_with_a_quarter_of_the_documents_as_candidates(corpus):
    docs, queries = corpus
    index = small_index(dtype="sq8")
    index.add(docs)
    ids, _ = index.search(queries, k=10, candidates=50)
    truth = brute_force(queries, docs, np.arange(len(docs)), 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(ids, truth)])
    assert recall >= 0.9


def test_one_query_gives_one_row_and_a_list_gives_a_matrix(corpus):
    docs, queries = corpus
    index = small_index()
    index.add(docs)
    one_ids, one_scores = index.search(queries[0], k=4)
    many_ids, many_scores = index.search(queries[:3], k=4)
    assert one_ids.shape == one_scores.shape == (4,)
    assert many_ids.shape == many_scores.shape == (3, 4)
    assert one_ids.dtype == np.int64 and one_scores.dtype == np.float32
    assert np.array_equal(one_ids, many_ids[0])


def test_packed_tokens_and_offsets_equal_a_list_of_documents(corpus):
    docs, queries = corpus
    tokens = np.concatenate(docs)
    offsets = np.concatenate([[0], np.cumsum([len(d) for d in docs])])
    listed, packed = small_index(), small_index()
    listed.add(docs)
    packed.add((tokens, offsets))
    assert np.array_equal(listed.encode_documents(docs), packed.encode_documents((tokens, offsets)))
    assert np.array_equal(listed.search(queries, k=5)[0], packed.search(queries, k=5)[0])


def test_short_rows_are_padded_with_minus_one_and_minus_infinity(corpus):
    docs, queries = corpus
    index = small_index()
    index.add(docs[:3])
    ids, scores = index.search(queries[0], k=5)
    assert sorted(ids[:3].tolist()) == [0, 1, 2]
    assert ids[3:].tolist() == [-1, -1] and np.all(scores[3:] == -np.inf)


def test_custom_ids_get_and_delete(corpus):
    docs, queries = corpus
    index = small_index()
    ids = np.arange(len(docs)) * 10 + 5
    assert np.array_equal(index.add(docs, ids=ids), ids)
    np.testing.assert_array_equal(index.get(15), docs[1])
    index.delete([15, 25])
    assert len(index) == len(docs) - 2 and 15 not in index and 35 in index
    found, _ = index.search(queries, k=10, candidates=len(docs), ef=len(docs))
    assert not {15, 25} & set(found.ravel().tolist())
    with pytest.raises(KeyError):
        index.get(15)
    with pytest.raises(KeyError, match="7"):
        index.delete([35, 7])
    assert 35 in index  # nothing deleted by the failed call


def test_adding_an_existing_id_is_an_error_and_changes_nothing(corpus):
    docs, _ = corpus
    index = small_index()
    index.add(docs[:5], ids=[1, 2, 3, 4, 5])
    tokens_before = index.memory_usage()["tokens"]
    with pytest.raises(ValueError, match="id 3 already exists"):
        index.add(docs[5:7], ids=[9, 3])
    with pytest.raises(ValueError, match="appears twice"):
        index.add(docs[5:7], ids=[8, 8])
    assert len(index) == 5 and 9 not in index and 8 not in index
    assert index.memory_usage()["tokens"] == tokens_before
    index.add(docs[5:7], ids=[9, 10])  # the index still works
    assert len(index) == 7


@pytest.mark.parametrize("token_dtype", ["f32", "f16", "sq8"])
def test_stored_tokens_come_back_within_the_dtype_precision(corpus, token_dtype):
    docs, _ = corpus
    index = small_index(token_dtype=token_dtype)
    index.add(docs[:20])
    for i in range(20):
        got = index.get(i)
        assert got.shape == docs[i].shape and got.dtype == np.float32
        if token_dtype == "f32":
            np.testing.assert_array_equal(got, docs[i])
        elif token_dtype == "f16":
            np.testing.assert_array_equal(got, docs[i].astype(np.float16).astype(np.float32))
        else:  # half a step of the token's largest value / 127
            step = np.abs(docs[i]).max(axis=1, keepdims=True) / 127
            assert np.all(np.abs(got - docs[i]) <= step * 0.5 + 1e-6)


@pytest.mark.parametrize("token_dtype", ["f16", "sq8"])
def test_compressed_tokens_score_with_their_stored_values(corpus, token_dtype):
    docs, queries = corpus
    index = small_index(token_dtype=token_dtype)
    index.add(docs)
    ids, scores = index.search(queries[:4], k=5)
    for q in range(4):
        for id_, score in zip(ids[q], scores[q]):
            assert score == pytest.approx(chamfer(queries[q], index.get(id_)), rel=1e-5, abs=1e-5)


def test_token_memory_per_dtype(corpus):
    docs, _ = corpus
    tokens = sum(len(d) for d in docs)
    sizes = {}
    for token_dtype in ("f32", "f16", "sq8"):
        index = small_index(token_dtype=token_dtype)
        index.add(docs)
        sizes[token_dtype] = index.memory_usage()["tokens"]
    assert sizes["f32"] >= tokens * DIM * 4
    assert tokens * DIM * 2 <= sizes["f16"] < sizes["f32"]
    assert tokens * (DIM + 4) <= sizes["sq8"] < sizes["f16"]


def test_two_threads_give_the_same_results_as_one(corpus):
    docs, queries = corpus
    index = small_index()
    index.add(docs, threads=1)
    one = index.search(queries, k=7, threads=1)
    two = index.search(queries, k=7, threads=2)
    assert np.array_equal(one[0], two[0]) and np.array_equal(one[1], two[1])


def test_filtered_search_returns_the_exact_top_k_among_matches(corpus):
    docs, queries = corpus
    sections = ["python" if i % 5 == 0 else "libs" for i in range(len(docs))]
    index = small_index(attributes={"section": "keyword"})
    index.add(docs, attrs={"section": sections})
    ids, scores = index.search(queries, k=5, candidates=len(docs), filter=F.section == "python")
    matching = np.flatnonzero(np.array(sections) == "python")
    truth = brute_force(queries, [docs[i] for i in matching], matching, 5)
    assert np.array_equal(ids, truth)
    allowed, _ = index.search(queries[0], k=3, filter=[4, 9, 11])
    assert set(allowed.tolist()) <= {4, 9, 11}


def test_encodings_have_the_configured_dimension(corpus):
    docs, queries = corpus
    index = vecindex.MultiVectorIndex(DIM, "f32", "f32", k_sim=2, d_proj=4, r_reps=3)
    assert index.encode_documents(docs[:4]).shape == (4, 3 * 4 * 4)
    assert index.encode_queries(queries[:2]).shape == (2, 48)
    assert index.encoding["dim"] == 48
    projected = vecindex.MultiVectorIndex(DIM, "f32", "f32", k_sim=2, d_proj=4, r_reps=3, final_dim=20)
    assert projected.encode_queries(queries[:2]).shape == (2, 20)


def test_exact_search_is_brute_force_chamfer(corpus):
    docs, queries = corpus
    index = small_index(token_dtype="f32")
    index.add(docs)
    index.delete([0, 1])
    ids, scores = index.search(queries, k=8, exact=True)
    live = np.arange(2, len(docs))
    assert np.array_equal(ids, brute_force(queries, docs[2:], live, 8))
    assert scores[0, 0] == pytest.approx(chamfer(queries[0], docs[ids[0, 0]]), rel=1e-5)
    with pytest.raises(ValueError, match="no filter"):
        index.search(queries, exact=True, filter=[3])


def test_rerank_scores_given_candidates_exactly(corpus):
    docs, queries = corpus
    index = small_index()
    index.add(docs)
    candidates = np.array([[5, 17, -1, 3, 999], [8, 9, 10, 11, 12]])
    ids, scores = index.rerank(queries[:2], candidates, k=3)
    for q in range(2):
        known = [c for c in candidates[q] if 0 <= c < len(docs)]
        expected = sorted(known, key=lambda c: -chamfer(queries[q], docs[c]))[:3]
        assert ids[q].tolist() == expected
    one_ids, _ = index.rerank(queries[0], candidates[0], k=3)
    assert np.array_equal(one_ids, ids[0])


def test_adds_and_searches_from_several_threads(corpus):
    import threading
    docs, queries = corpus
    index = small_index()
    index.add(docs[:50])
    errors = []

    def adder(start):
        try:
            for begin in range(start, len(docs), 40):
                index.add(docs[begin:begin + 20], ids=np.arange(begin, min(begin + 20, len(docs))) + 1000)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    def searcher():
        try:
            for _ in range(20):
                ids, scores = index.search(queries[:3], k=5)
                assert len(index) >= 50 and np.isfinite(scores[ids >= 0]).all()
                index.memory_usage()
        except Exception as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=adder, args=(0,)), threading.Thread(target=adder, args=(20,)),
               threading.Thread(target=searcher), threading.Thread(target=searcher)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(index) == 50 + len(docs)
