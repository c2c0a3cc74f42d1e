"""vecindex.integrations.langchain.VecindexStore: LangChain's standard suite, then our promises."""
from __future__ import annotations

import asyncio
import os
import shutil

import numpy as np
import pytest
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_tests.integration_tests import VectorStoreIntegrationTests

from integration_helpers import distances, embed_text
from vecindex.integrations import _docstore
from vecindex.integrations.langchain import VecindexStore


class TestStandardSuiteCosine(VectorStoreIntegrationTests):
    """LangChain's own vector-store tests (sync, async and get_by_ids all on: no skips)."""

    @pytest.fixture()
    def vectorstore(self):
        yield VecindexStore(self.get_embeddings())


class TestStandardSuiteL2(VectorStoreIntegrationTests):
    @pytest.fixture()
    def vectorstore(self):
        yield VecindexStore(self.get_embeddings(), metric="l2", M=8)


class TopicEmbeddings(Embeddings):
    """integration_helpers.embed_text; counts the sync calls so tests can see which path ran."""

    def __init__(self):
        self.sync_calls = 0

    def embed_documents(self, texts):
        self.sync_calls += 1
        return [embed_text(text) for text in texts]

    def embed_query(self, text):
        self.sync_calls += 1
        return embed_text(text)

    async def aembed_documents(self, texts):
        return [embed_text(text) for text in texts]

    async def aembed_query(self, text):
        return embed_text(text)


TOPICS = ["alpha", "beta", "gamma", "delta", "omega"]


def _corpus(n=300):
    rng = np.random.default_rng(3)
    texts, metadatas = [], []
    for i in range(n):
        texts.append(f"{TOPICS[i % 5]} passage {i}")
        metadatas.append({"source": f"file{i % 7}.pdf", "year": 2010 + i % 15, "page": i,
                          "score": float(rng.random()), "draft": bool(i % 3 == 0),
                          "tags": [TOPICS[(i + 1) % 5]] + (["x"] if i % 4 == 0 else [])})
    return texts, metadatas, [f"doc-{i}" for i in range(n)]


@pytest.fixture(scope="module")
def corpus_store():
    texts, metadatas, ids = _corpus()
    return VecindexStore.from_texts(texts, TopicEmbeddings(), metadatas, ids=ids), texts, metadatas, ids


def _exact(texts, metadatas, query, keep, k, metric="cosine"):
    """Ids of the k nearest texts among those whose metadata passes ``keep``."""
    chosen = [i for i, metadata in enumerate(metadatas) if keep(metadata)]
    if not chosen:
        return []
    found = distances(metric, embed_text(query), [embed_text(texts[i]) for i in chosen])
    return [f"doc-{chosen[j]}" for j in np.argsort(found, kind="stable")[:k]]


FILTERS = [
    ({"source": "file3.pdf"}, lambda m: m["source"] == "file3.pdf"),
    ({"source": "file3.pdf", "year": {"$gte": 2020}}, lambda m: m["source"] == "file3.pdf" and m["year"] >= 2020),
    ({"page": {"$in": [5, 17, 250]}}, lambda m: m["page"] in (5, 17, 250)),
    ({"page": {"$nin": list(range(290))}}, lambda m: m["page"] >= 290),
    ({"$or": [{"page": {"$lt": 3}}, {"page": {"$gt": 296}}]}, lambda m: m["page"] < 3 or m["page"] > 296),
    ({"$not": {"draft": True}, "score": {"$lte": 0.2}}, lambda m: not m["draft"] and m["score"] <= 0.2),
    ({"tags": "x", "year": {"$ne": 2014}}, lambda m: "x" in m["tags"] and m["year"] != 2014),
    ({"$and": [{"tags": {"$in": ["beta"]}}, {"page": {"$gt": 100, "$lte": 130}}]},
     lambda m: "beta" in m["tags"] and 100 < m["page"] <= 130),
]


@pytest.mark.parametrize("filter, keep", FILTERS)
def test_filters_return_the_exact_top_k_of_the_matches(corpus_store, filter, keep):
    """Selective filters keep full recall: they run in the core planner, not after the search."""
    store, texts, metadatas, _ = corpus_store
    found = store.similarity_search("alpha passage", k=4, filter=filter)
    assert [doc.id for doc in found] == _exact(texts, metadatas, "alpha passage", keep, 4)
    assert all(keep(doc.metadata) for doc in found)


def test_filter_on_an_unknown_key_matches_nothing(corpus_store):
    store = corpus_store[0]
    assert store.similarity_search("alpha", k=3, filter={"author": "me"}) == []
    assert len(store.similarity_search("alpha", k=3, filter={"$not": {"author": "me"}})) == 3


def test_a_key_first_seen_later_becomes_filterable():
    store = VecindexStore(TopicEmbeddings())
    store.add_texts(["alpha one", "beta two"], [{"n": 1}, {"n": 2}], ids=["a", "b"])
    store.add_texts(["gamma three"], [{"n": 3.5, "lang": "en"}], ids=["c"])
    assert store._engine.schema == {"n": "float", "lang": "keyword"}
    assert [d.id for d in store.similarity_search("alpha", k=3, filter={"lang": "en"})] == ["c"]
    assert sorted(d.id for d in store.similarity_search("alpha", k=3, filter={"n": {"$lt": 3}})) == ["a", "b"]


def test_a_metadata_type_clash_raises_and_changes_nothing():
    store = VecindexStore(TopicEmbeddings())
    store.add_texts(["alpha"], [{"year": 2020}], ids=["a"])
    with pytest.raises(ValueError, match="'year' is filtered as int"):
        store.add_texts(["beta", "gamma"], [{"year": 2021}, {"year": "2022"}], ids=["b", "c"])
    assert len(store) == 1 and store.get_by_ids(["b", "c"]) == []


def test_ids_are_the_core_string_keys(corpus_store):
    store, *_ = corpus_store
    index = store._engine.index
    assert "doc-17" in index and len(index) == 300
    assert isinstance(index.search(embed_text("alpha"), k=1)[0][0], str)


@pytest.mark.parametrize("metric", ["cosine", "ip", "l2"])
def test_scores_are_the_metric_distances_and_the_threshold_retriever_uses_relevance(metric):
    texts, metadatas, ids = _corpus(60)
    store = VecindexStore.from_texts(texts, TopicEmbeddings(), metadatas, ids=ids, metric=metric)
    query = "beta passage 3"
    hits = store.similarity_search_with_score(query, k=10)
    expected = distances(metric, embed_text(query), [embed_text(texts[int(d.id[4:])]) for d, _ in hits])
    np.testing.assert_allclose([score for _, score in hits], expected, atol=1e-5)
    assert [d.id for d, _ in hits] == _exact(texts, metadatas, query, lambda m: True, 10, metric)

    relevance = store._select_relevance_score_fn()
    scores = [relevance(float(d)) for d in distances(metric, embed_text(query), [embed_text(t) for t in texts])]
    assert all(0.0 <= s <= 1.0 for s in scores)
    ranked = np.sort(scores)[::-1]
    assert ranked[4] - ranked[5] > 1e-4  # the float32 search cannot blur the cut
    threshold = float(ranked[4] + ranked[5]) / 2  # exactly five texts reach it
    retriever = store.as_retriever(search_type="similarity_score_threshold",
                                   search_kwargs={"score_threshold": threshold, "k": 20})
    assert sorted(d.id for d in retriever.invoke(query)) == sorted(
        ids[i] for i, s in enumerate(scores) if s >= threshold)


def test_max_marginal_relevance_prefers_diverse_results():
    class Table(Embeddings):
        vectors = {"q": [1, 0, 0], "a": [1, 0.1, 0], "a2": [1, 0.11, 0], "b": [0.7, 0, 0.7]}

        def embed_documents(self, texts):
            return [self.vectors[t] for t in texts]

        def embed_query(self, text):
            return self.vectors[text]

    store = VecindexStore.from_texts(["a", "a2", "b"], Table(), ids=["a", "a2", "b"])
    assert [d.id for d in store.similarity_search("q", k=2)] == ["a", "a2"]
    assert [d.id for d in store.max_marginal_relevance_search("q", k=2, fetch_k=3, lambda_mult=0.3)] == ["a", "b"]
    assert [d.id for d in store.max_marginal_relevance_search("q", k=2, fetch_k=3, lambda_mult=1.0)] == ["a", "a2"]
    assert [d.id for d in store.max_marginal_relevance_search("q", k=2, lambda_mult=0.3, filter={"x": 1})] == []


def test_async_methods_embed_with_the_async_model():
    embeddings = TopicEmbeddings()

    async def run():
        store = VecindexStore(embeddings)
        ids = await store.aadd_texts(["alpha one", "beta two", "alpha three"], [{"k": 1}, {"k": 2}, {"k": 3}])
        found = await store.asimilarity_search("alpha", k=2, filter={"k": {"$gte": 2}})
        mmr = await store.amax_marginal_relevance_search("alpha", k=1, fetch_k=3)
        return ids, found, mmr

    ids, found, mmr = asyncio.run(run())
    assert embeddings.sync_calls == 0
    assert [d.page_content for d in found] == ["alpha three", "beta two"] and all(isinstance(i, str) for i in ids)
    assert len(mmr) == 1


def test_delete_none_clears_and_generated_ids_are_uuids():
    store = VecindexStore(TopicEmbeddings())
    ids = store.add_texts(["alpha", "beta"])
    assert all(len(i) == 36 and i.count("-") == 4 for i in ids) and len(set(ids)) == 2
    store.delete()
    assert len(store) == 0 and store.similarity_search("alpha", k=1) == []


def test_from_documents_keeps_ids_and_metadata():
    docs = [Document(page_content="alpha", metadata={"a": 1}, id="x"), Document(page_content="beta")]
    store = VecindexStore.from_documents(docs, TopicEmbeddings(), metric="ip")
    got = store.get_by_ids(["x"])
    assert got == [Document(page_content="alpha", metadata={"a": 1}, id="x")] and len(store) == 2


def _search_state(store):
    return [(d.id, round(s, 5)) for d, s in store.similarity_search_with_score("gamma passage", k=6,
                                                                              filter={"year": {"$gte": 2015}})]


def test_save_and_load_round_trip(tmp_path, corpus_store):
    store = corpus_store[0]
    store.save_local(tmp_path / "kb")
    assert sorted(os.listdir(tmp_path / "kb")) == ["docs.sqlite", "index-1.vx"]
    loaded = VecindexStore.load_local(tmp_path / "kb", TopicEmbeddings())
    assert not loaded.load_report.repaired
    assert _search_state(loaded) == _search_state(store)
    assert loaded.get_by_ids(["doc-5"]) == store.get_by_ids(["doc-5"])
    loaded.add_texts(["delta new"], [{"year": 2030}], ids=["new"])  # a loaded store keeps working
    assert loaded.similarity_search("delta new", k=1, filter={"year": 2030})[0].id == "new"


def _small_store(n=40):
    texts, metadatas, ids = _corpus(n)
    return VecindexStore.from_texts(texts, TopicEmbeddings(), metadatas, ids=ids)


def test_a_crash_between_index_save_and_database_commit_is_repaired(tmp_path, monkeypatch):
    folder = tmp_path / "kb"
    store = _small_store()
    store.save_local(folder)
    committed = _search_state(store)
    store.delete(["doc-0", "doc-1"])
    store.add_texts(["omega late"], [{"year": 2040}], ids=["late"])

    def crash(self, path):
        raise KeyboardInterrupt("power cut before the database commit")

    monkeypatch.setattr(_docstore.DocStore, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        store.save_local(folder)
    monkeypatch.undo()
    assert sorted(os.listdir(folder)) == ["docs.sqlite", "index-1.vx", "index-2.vx"]

    loaded = VecindexStore.load_local(folder, TopicEmbeddings())
    report = loaded.load_report
    assert report.repaired and report.removed_files == ["index-2.vx"] and report.reembedded == 0
    assert _search_state(loaded) == committed  # the last committed state, whole
    assert loaded.get_by_ids(["late"]) == [] and len(loaded) == 40
    assert len(os.listdir(folder)) == 2 and "docs.sqlite" in os.listdir(folder)  # the repair was saved
    assert not VecindexStore.load_local(folder, TopicEmbeddings()).load_report.repaired


def test_a_lost_index_file_is_rebuilt_from_the_stored_texts(tmp_path):
    folder = tmp_path / "kb"
    store = _small_store()
    store.save_local(folder)
    os.remove(folder / "index-1.vx")
    loaded = VecindexStore.load_local(folder, TopicEmbeddings())
    assert loaded.load_report.repaired and loaded.load_report.reembedded == 40
    assert _search_state(loaded) == _search_state(store)


def test_a_corrupt_index_falls_back_and_reconciles_with_the_database(tmp_path):
    folder = tmp_path / "kb"
    store = _small_store()
    store.save_local(folder)
    shutil.copy(folder / "index-1.vx", tmp_path / "old.vx")
    store.delete(["doc-3"])
    store.add_texts(["beta fresh"], [{"year": 2031}], ids=["fresh"])
    store.save_local(folder)
    data = bytearray((folder / "index-2.vx").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / "index-2.vx").write_bytes(bytes(data))
    shutil.copy(tmp_path / "old.vx", folder / "index-1.vx")  # an older generation is still there

    loaded = VecindexStore.load_local(folder, TopicEmbeddings())
    report = loaded.load_report
    assert report.repaired and report.dropped == 1 and report.reembedded == 1
    assert "doc-3" not in loaded._engine.index and "fresh" in loaded._engine.index
    assert _search_state(loaded) == _search_state(store)


def test_load_without_embeddings_for_lost_vectors_raises(tmp_path):
    folder = tmp_path / "kb"
    _small_store().save_local(folder)
    os.remove(folder / "index-1.vx")
    from vecindex.integrations import _persist
    with pytest.raises(ValueError, match="lacks 40 documents"):
        _persist.load(os.fspath(folder), "langchain", None)


def test_an_empty_store_saves_and_loads(tmp_path):
    VecindexStore(TopicEmbeddings()).save_local(tmp_path / "empty")
    loaded = VecindexStore.load_local(tmp_path / "empty", TopicEmbeddings())
    assert len(loaded) == 0 and loaded.similarity_search("x", k=1) == []
    with pytest.raises(FileNotFoundError):
        VecindexStore.load_local(tmp_path / "nothing-here", TopicEmbeddings())


def test_bad_input_raises():
    store = VecindexStore(TopicEmbeddings())
    with pytest.raises(ValueError, match="repeated document ids"):
        store.add_texts(["a", "b"], ids=["x", "x"])
    with pytest.raises(ValueError, match="2 metadatas for 1 texts"):
        store.add_texts(["a"], [{}, {}])
    with pytest.raises(TypeError, match="JSON"):
        store.add_texts(["a"], [{"when": object()}])
    with pytest.raises(TypeError, match="unexpected keyword"):
        store.similarity_search("a", k=1, filters={"a": 1})
    assert len(store) == 0


def test_concurrent_async_adds_and_searches_stay_consistent():
    store = VecindexStore(TopicEmbeddings())

    async def writer(w):
        for i in range(10):
            await store.aadd_texts([f"{TOPICS[i % 5]} w{w} {i}"], [{"w": w, "i": i}], ids=[f"w{w}-{i}"])

    async def reader():
        seen = 0
        for _ in range(20):
            for doc in await store.asimilarity_search("alpha", k=5, filter={"i": {"$gte": 0}}):
                assert doc.id == f"w{doc.metadata['w']}-{doc.metadata['i']}"
                seen += 1
        return seen

    async def run():
        return await asyncio.gather(*(writer(w) for w in range(4)), reader(), reader())

    asyncio.run(run())
    assert len(store) == 40 and len(store.get_by_ids([f"w{w}-{i}" for w in range(4) for i in range(10)])) == 40
