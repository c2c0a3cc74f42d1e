"""vecindex.integrations.llama_index.VecindexVectorStore: end to end through VectorStoreIndex,
and every FilterOperator checked against LlamaIndex's own reading of it."""
from __future__ import annotations

import asyncio
import os

import numpy as np
import pytest
from llama_index.core import Document, StorageContext, VectorStoreIndex
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.schema import TextNode
from llama_index.core.vector_stores.types import (
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
    VectorStoreQuery,
    VectorStoreQueryMode,
)
from llama_index.core.vector_stores.utils import build_metadata_filter_fn

from integration_helpers import distances, embed_text
from vecindex.integrations.llama_index import OPERATORS, VecindexVectorStore

TOPICS = ["alpha", "beta", "gamma", "delta", "omega"]


class TopicEmbedding(BaseEmbedding):
    """integration_helpers.embed_text as a LlamaIndex embedding model."""

    def _get_text_embedding(self, text):
        return embed_text(text)

    def _get_query_embedding(self, query):
        return embed_text(query)

    async def _aget_query_embedding(self, query):
        return embed_text(query)


def _documents(n=300):
    docs = []
    for i in range(n):
        metadata = {"topic": TOPICS[i % 5], "year": 2000 + i % 25, "rank": i, "weight": (i % 10) / 4}
        if i % 6:
            metadata["title"] = f"Report {'Annual' if i % 4 else 'annual'} {i}"
        if i % 3:
            metadata["labels"] = [TOPICS[(i + 2) % 5]] + (["hot"] if i % 9 == 0 else [])
        # Embedded as the bare text, so the exact reference below can embed the same string.
        docs.append(Document(text=f"{TOPICS[i % 5]} story number {i}", metadata=metadata, doc_id=f"doc-{i}",
                             excluded_embed_metadata_keys=list(metadata)))
    return docs


@pytest.fixture(scope="module")
def built():
    docs = _documents()
    store = VecindexVectorStore()
    context = StorageContext.from_defaults(vector_store=store)
    index = VectorStoreIndex.from_documents(docs, storage_context=context, embed_model=TopicEmbedding())
    return store, index, docs


def _exact(docs, query, keep, k):
    chosen = [doc for doc in docs if keep(doc.metadata)]
    found = distances("cosine", embed_text(query), [embed_text(doc.text) for doc in chosen])
    return [chosen[j].doc_id for j in np.argsort(found, kind="stable")[:k]]


def test_end_to_end_filtered_retrieval_delete_persist_reload(built, tmp_path):
    store, index, docs = built
    assert len(store) == 300 and store.stores_text
    filters = MetadataFilters(filters=[MetadataFilter(key="topic", value="beta"),
                                       MetadataFilter(key="year", value=2015, operator=FilterOperator.GTE)])
    retriever = index.as_retriever(similarity_top_k=5, filters=filters)
    hits = retriever.retrieve("alpha story")
    keep = lambda m: m["topic"] == "beta" and m["year"] >= 2015  # noqa: E731
    assert [hit.node.ref_doc_id for hit in hits] == _exact(docs, "alpha story", keep, 5)
    assert all(keep(hit.node.metadata) and 0 <= hit.score <= 1 for hit in hits)
    assert hits[0].node.get_content() == next(d.text for d in docs if d.doc_id == hits[0].node.ref_doc_id)

    gone = hits[0].node.ref_doc_id
    index.delete_ref_doc(gone)
    assert gone not in [hit.node.ref_doc_id for hit in retriever.retrieve("alpha story")]
    assert store.get_nodes(filters=MetadataFilters(filters=[MetadataFilter(key="rank", value=int(gone[4:]))])) == []
    assert len(store) == 299

    store.persist(os.fspath(tmp_path / "vs"))
    reloaded = VecindexVectorStore.from_persist_path(os.fspath(tmp_path / "vs"))
    assert not reloaded.load_report.repaired and len(reloaded) == 299
    again = VectorStoreIndex.from_vector_store(reloaded, embed_model=TopicEmbedding())
    hits_after = again.as_retriever(similarity_top_k=5, filters=filters).retrieve("alpha story")
    assert [(h.node.node_id, round(h.score, 5)) for h in hits_after] == [
        (h.node.node_id, round(h.score, 5)) for h in retriever.retrieve("alpha story")]


def _metadata_by_id(store):
    return {node.node_id: node.metadata for node in store.get_nodes()}


CASES = [
    (FilterOperator.EQ, "topic", "gamma"), (FilterOperator.EQ, "year", 2010), (FilterOperator.NE, "title", "x"),
    (FilterOperator.NE, "topic", "alpha"), (FilterOperator.GT, "rank", 250), (FilterOperator.GTE, "weight", 2.0),
    (FilterOperator.LT, "year", 2003), (FilterOperator.LTE, "weight", 0.25), (FilterOperator.IN, "topic", ["beta", "omega"]),
    (FilterOperator.IN, "rank", [1, 2, 3, 400]), (FilterOperator.NIN, "topic", ["alpha", "beta", "gamma"]),
    (FilterOperator.NIN, "year", list(range(2000, 2020))), (FilterOperator.ANY, "labels", ["hot", "delta"]),
    (FilterOperator.ALL, "labels", ["hot", "gamma"]), (FilterOperator.CONTAINS, "labels", "hot"),
    (FilterOperator.CONTAINS, "title", "nnual 1"), (FilterOperator.TEXT_MATCH, "title", "Annual 2"),
    (FilterOperator.TEXT_MATCH_INSENSITIVE, "title", "ANNUAL 12"), (FilterOperator.IS_EMPTY, "title", None),
    (FilterOperator.IS_EMPTY, "labels", None),
]


def test_every_filter_operator_is_covered():
    assert set(OPERATORS) == set(FilterOperator)
    assert {op for op, _, _ in CASES} == set(FilterOperator)


@pytest.mark.parametrize("condition", [FilterCondition.AND, FilterCondition.OR, FilterCondition.NOT])
@pytest.mark.parametrize("case", range(len(CASES)))
def test_operators_match_llama_index_semantics(built, case, condition):
    store = built[0]
    metadata = _metadata_by_id(store)
    op, key, value = CASES[case]
    other = MetadataFilter(key="year", value=2012, operator=FilterOperator.GT)
    filters = MetadataFilters(filters=[MetadataFilter(key=key, value=value, operator=op), other], condition=condition)
    reference = build_metadata_filter_fn(lambda node_id: metadata[node_id], filters)
    expected = {node_id for node_id in metadata if reference(node_id)}
    assert {node.node_id for node in store.get_nodes(filters=filters)} == expected
    found = store.query(VectorStoreQuery(query_embedding=embed_text("delta"), similarity_top_k=400, filters=filters))
    assert set(found.ids) == expected


def test_nested_filters_unknown_keys_doc_ids_and_mmr(built):
    store = built[0]
    metadata = _metadata_by_id(store)
    nested = MetadataFilters(filters=[
        MetadataFilter(key="topic", value="alpha"),
        MetadataFilters(filters=[MetadataFilter(key="rank", value=10, operator=FilterOperator.LT),
                                 MetadataFilter(key="rank", value=290, operator=FilterOperator.GT)],
                        condition=FilterCondition.OR)])
    assert {n.metadata["rank"] for n in store.get_nodes(filters=nested)} == {
        m["rank"] for m in metadata.values() if m["topic"] == "alpha" and (m["rank"] < 10 or m["rank"] > 290)}
    unknown = MetadataFilters(filters=[MetadataFilter(key="author", value="me")])
    assert store.query(VectorStoreQuery(query_embedding=embed_text("x"), similarity_top_k=3, filters=unknown)).ids == []
    nobody_has_it = MetadataFilters(filters=[MetadataFilter(key="author", value=None, operator=FilterOperator.IS_EMPTY)])
    assert len(store.get_nodes(filters=nobody_has_it)) == len(metadata)
    by_doc = store.query(VectorStoreQuery(query_embedding=embed_text("x"), similarity_top_k=5, doc_ids=["doc-7", "doc-8"]))
    assert sorted(n.ref_doc_id for n in by_doc.nodes) == ["doc-7", "doc-8"]
    mmr = store.query(VectorStoreQuery(query_embedding=embed_text("beta"), similarity_top_k=4,
                                       mode=VectorStoreQueryMode.MMR, mmr_threshold=0.2))
    assert len(mmr.ids) == 4 == len(set(mmr.ids))
    with pytest.raises(ValueError, match="query modes"):
        store.query(VectorStoreQuery(query_embedding=embed_text("x"), mode=VectorStoreQueryMode.SPARSE))


def _node(i, **metadata):
    return TextNode(text=f"alpha node {i}", id_=f"n{i}", metadata=metadata, embedding=embed_text(f"alpha node {i}"))


def test_delete_nodes_clear_and_async_variants():
    store = VecindexVectorStore(metric="l2")

    async def run():
        await store.async_add([_node(i, part=i % 2) for i in range(10)])
        found = await store.aquery(VectorStoreQuery(query_embedding=embed_text("alpha node 3"), similarity_top_k=1))
        await store.adelete_nodes(node_ids=["n0", "n1", "n2"],
                                  filters=MetadataFilters(filters=[MetadataFilter(key="part", value=0)]))
        remaining = sorted(n.node_id for n in await store.aget_nodes())
        await store.aclear()
        return found, remaining

    found, remaining = asyncio.run(run())
    assert found.ids == ["n3"] and found.similarities == [pytest.approx(1.0, abs=1e-5)]
    assert remaining == ["n1", "n3", "n4", "n5", "n6", "n7", "n8", "n9"]
    assert len(store) == 0 and store.get_nodes() == []


def test_a_lost_index_is_rebuilt_with_the_embed_model(tmp_path):
    store = VecindexVectorStore()
    store.add([_node(i, part=i % 3) for i in range(12)])
    store.persist(os.fspath(tmp_path / "vs"))
    os.remove(tmp_path / "vs" / "index-1.vx")
    with pytest.raises(ValueError, match="lacks 12 documents"):
        VecindexVectorStore.from_persist_path(os.fspath(tmp_path / "vs"))
    reloaded = VecindexVectorStore.from_persist_path(os.fspath(tmp_path / "vs"), embed_model=TopicEmbedding())
    assert reloaded.load_report.reembedded == 12
    hit = reloaded.query(VectorStoreQuery(query_embedding=embed_text("alpha node 5"), similarity_top_k=1,
                                          filters=MetadataFilters(filters=[MetadataFilter(key="part", value=2)])))
    assert hit.ids == ["n5"]


def test_filtered_get_nodes_finds_every_match_past_the_search_k_cap(built, monkeypatch):
    from vecindex.integrations import _engine
    store = built[0]
    metadata = _metadata_by_id(store)
    monkeypatch.setattr(_engine, "MAX_K", 7)  # as if the store held far more than search's k cap
    filters = MetadataFilters(filters=[MetadataFilter(key="year", value=2012, operator=FilterOperator.GT)])
    expected = {node_id for node_id, m in metadata.items() if m["year"] > 2012}
    assert len(expected) > 100 and {node.node_id for node in store.get_nodes(filters=filters)} == expected
