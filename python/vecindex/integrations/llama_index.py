"""``VecindexVectorStore``: a LlamaIndex vector store on a string-keyed vecindex index.

Node ids are the index's string keys; node texts, metadata and the rest of each node live
in SQLite beside it (``stores_text=True``). ``VectorStoreQuery.filters`` are compiled to
``F`` expressions, for every ``FilterOperator`` and the ``AND`` / ``OR`` / ``NOT``
conditions, and run in the index's filter planner. See the README section
"Use with LangChain / LlamaIndex".
"""
from __future__ import annotations

import asyncio
from typing import Any, List, Optional, Sequence

try:
    from llama_index.core.bridge.pydantic import PrivateAttr
    from llama_index.core.schema import BaseNode, MetadataMode
    from llama_index.core.vector_stores.types import (
        BasePydanticVectorStore,
        FilterCondition,
        FilterOperator,
        MetadataFilters,
        VectorStoreQuery,
        VectorStoreQueryMode,
        VectorStoreQueryResult,
    )
    from llama_index.core.vector_stores.utils import metadata_dict_to_node, node_to_metadata_dict
except ImportError as error:  # pragma: no cover - exercised by a subprocess test
    from vecindex.integrations._require import missing_framework
    raise missing_framework("llama_index", "llama-index", error) from error

from vecindex.filters import AllowList
from vecindex.integrations import _persist
from vecindex.integrations._docstore import Doc
from vecindex.integrations._engine import DocIndex
from vecindex.integrations._filters import EVERYTHING, NOTHING, Compiled, Conditions, all_of, any_of, negate
from vecindex.integrations._scoring import mmr, relevance_fn

__all__ = ["VecindexVectorStore", "compile_filters"]

_KIND = "llama_index"

OPERATORS = {
    FilterOperator.EQ: "eq", FilterOperator.NE: "ne", FilterOperator.GT: "gt", FilterOperator.GTE: "gte",
    FilterOperator.LT: "lt", FilterOperator.LTE: "lte", FilterOperator.IN: "in", FilterOperator.NIN: "nin",
    FilterOperator.ANY: "any", FilterOperator.ALL: "all", FilterOperator.CONTAINS: "contains",
    FilterOperator.TEXT_MATCH: "text_match", FilterOperator.TEXT_MATCH_INSENSITIVE: "text_match_insensitive",
    FilterOperator.IS_EMPTY: "is_empty",
}

# How many candidates an MMR query fetches per result it returns.
MMR_PREFETCH_FACTOR = 4


def compile_filters(filters: Optional[MetadataFilters], conditions: Conditions) -> Compiled:
    """``MetadataFilters`` (nested too) -> an ``F`` expression, EVERYTHING or NOTHING."""
    if filters is None or not filters.filters:
        return EVERYTHING
    parts = []
    for item in filters.filters:
        if isinstance(item, MetadataFilters):
            parts.append(compile_filters(item, conditions))
        elif item.operator in OPERATORS:
            parts.append(conditions.build(item.key, OPERATORS[item.operator], item.value))
        else:
            raise ValueError(f"unsupported filter operator {item.operator!r}")
    condition = filters.condition or FilterCondition.AND
    if condition == FilterCondition.AND:
        return all_of(parts)
    if condition == FilterCondition.OR:
        return any_of(parts)
    if condition == FilterCondition.NOT:
        return negate(any_of(parts))  # as LlamaIndex's own store: none of them holds
    raise ValueError(f"unsupported filter condition {condition!r}")


class VecindexVectorStore(BasePydanticVectorStore):
    """A LlamaIndex vector store backed by vecindex (``stores_text=True``).

    ``metric`` is ``"cosine"`` (default), ``"ip"`` or ``"l2"``; ``attributes`` may declare
    the filter type of metadata keys, others get one from their first value; remaining
    keyword arguments go to :class:`vecindex.Index`. Query similarities are relevance scores
    in [0, 1] (see ``vecindex.integrations._scoring``).
    """

    stores_text: bool = True
    is_embedding_query: bool = True
    flat_metadata: bool = False
    metric: str = "cosine"

    _engine: DocIndex = PrivateAttr()
    _load_report: Optional[_persist.LoadReport] = PrivateAttr(default=None)

    def __init__(self, metric: str = "cosine", attributes: Optional[dict] = None,
                 **index_options: Any) -> None:
        super().__init__(metric=metric)
        self._engine = DocIndex(metric, attributes, index_options)

    @property
    def load_report(self) -> Optional[_persist.LoadReport]:
        """What :meth:`from_persist_path` found and repaired (None for a new store)."""
        return self._load_report

    @classmethod
    def class_name(cls) -> str:
        return "VecindexVectorStore"

    @property
    def client(self) -> Any:
        """The underlying :class:`vecindex.Index` (None before the first add)."""
        return self._engine.index

    def __len__(self) -> int:
        """Number of documents (nodes) held."""
        return len(self._engine)

    def __bool__(self) -> bool:
        # An empty store is still a store: frameworks write `vector_store or default()`.
        return True

    # -- writing ----------------------------------------------------------------------
    def add(self, nodes: Sequence[BaseNode], **add_kwargs: Any) -> List[str]:
        """Adds nodes with their embeddings; a node whose id exists is replaced."""
        docs, vectors = [], []
        for node in nodes:
            embedding = node.get_embedding()  # raises ValueError for a node without one
            extra = node_to_metadata_dict(node, remove_text=True, flat_metadata=False)
            docs.append(Doc(node.node_id, node.get_content(metadata_mode=MetadataMode.NONE), dict(node.metadata),
                            node.ref_doc_id, {key: extra[key] for key in ("_node_content", "_node_type")}))
            vectors.append(embedding)
        self._engine.upsert(docs, vectors)
        return [doc.id for doc in docs]

    def delete(self, ref_doc_id: str, **delete_kwargs: Any) -> None:
        """Deletes every node of the source document ``ref_doc_id``."""
        self._engine.delete(self._engine.docs.ids_of_refs([ref_doc_id]))

    def delete_nodes(self, node_ids: Optional[List[str]] = None, filters: Optional[MetadataFilters] = None,
                     **delete_kwargs: Any) -> None:
        """Deletes the nodes among ``node_ids`` (all when None) that match ``filters``."""
        self._engine.delete(self._selected(node_ids, filters))

    def clear(self) -> None:
        self._engine.clear()

    # -- reading ----------------------------------------------------------------------
    def get_nodes(self, node_ids: Optional[List[str]] = None,
                  filters: Optional[MetadataFilters] = None) -> List[BaseNode]:
        """The nodes among ``node_ids`` (all when None) that match ``filters``."""
        return [_to_node(doc) for doc in self._engine.get(self._selected(node_ids, filters))]

    def _selected(self, node_ids: Optional[List[str]], filters: Optional[MetadataFilters]) -> list[str]:
        if filters is None:
            return list(node_ids) if node_ids is not None else self._engine.docs.ids()
        restriction = all_of([self._compile(filters), _allow(node_ids)])
        return self._engine.matching_ids(restriction)

    def _compile(self, filters: Optional[MetadataFilters]) -> Compiled:
        return compile_filters(filters, self._engine.conditions())

    def query(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        """Nearest nodes among those matching ``filters``, ``doc_ids`` and ``node_ids``.

        Modes: ``DEFAULT`` and ``MMR`` (``mmr_threshold`` is the relevance/diversity
        balance, 0.5 when None; ``MMR_PREFETCH_FACTOR * k`` candidates are fetched).
        """
        if query.mode not in (VectorStoreQueryMode.DEFAULT, VectorStoreQueryMode.MMR):
            raise ValueError(f"VecindexVectorStore supports the DEFAULT and MMR query modes, not {query.mode!r}")
        if query.query_embedding is None:
            raise ValueError("VecindexVectorStore needs query.query_embedding")
        # An empty doc_ids / node_ids list means no restriction: VectorIndexRetriever sends [].
        doc_ids = self._engine.docs.ids_of_refs(query.doc_ids) if query.doc_ids else None
        restriction = all_of([self._compile(query.filters), _allow(doc_ids), _allow(query.node_ids or None)])
        k = query.similarity_top_k
        mmr_mode = query.mode == VectorStoreQueryMode.MMR
        hits = self._engine.search(query.query_embedding, k * MMR_PREFETCH_FACTOR if mmr_mode else k, restriction)
        if mmr_mode and hits:
            threshold = kwargs.get("mmr_threshold", query.mmr_threshold)
            picked = mmr(query.query_embedding, self._engine.vectors([id for id, _ in hits]), k,
                         0.5 if threshold is None else threshold)
            hits = [hits[position] for position in picked]
        docs = {doc.id: doc for doc in self._engine.get([id for id, _ in hits])}
        score = relevance_fn(self.metric)
        kept = [(id, distance) for id, distance in hits if id in docs]
        return VectorStoreQueryResult(nodes=[_to_node(docs[id]) for id, _ in kept],
                                      similarities=[score(distance) for _, distance in kept],
                                      ids=[id for id, _ in kept])

    # -- async: the work runs on a thread, so the event loop keeps going -----------------
    async def async_add(self, nodes: Sequence[BaseNode], **kwargs: Any) -> List[str]:
        return await asyncio.to_thread(self.add, nodes, **kwargs)

    async def adelete(self, ref_doc_id: str, **delete_kwargs: Any) -> None:
        await asyncio.to_thread(self.delete, ref_doc_id, **delete_kwargs)

    async def adelete_nodes(self, node_ids: Optional[List[str]] = None, filters: Optional[MetadataFilters] = None,
                            **delete_kwargs: Any) -> None:
        await asyncio.to_thread(self.delete_nodes, node_ids, filters, **delete_kwargs)

    async def aget_nodes(self, node_ids: Optional[List[str]] = None,
                         filters: Optional[MetadataFilters] = None) -> List[BaseNode]:
        return await asyncio.to_thread(self.get_nodes, node_ids, filters)

    async def aclear(self) -> None:
        await asyncio.to_thread(self.clear)

    async def aquery(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        return await asyncio.to_thread(self.query, query, **kwargs)

    # -- persistence ------------------------------------------------------------------
    def persist(self, persist_path: str, fs: Any = None) -> None:
        """Saves into the folder ``persist_path`` (``docs.sqlite`` and one index file)."""
        _local_only(fs)
        _persist.save(self._engine, persist_path, _KIND)

    @classmethod
    def from_persist_path(cls, persist_path: str, fs: Any = None, embed_model: Any = None) -> "VecindexVectorStore":
        """Loads a folder written by :meth:`persist`, repairing an interrupted save.

        Nodes whose vectors were lost are embedded again from their text with
        ``embed_model`` (a LlamaIndex embedding); without one, such a folder raises
        ``ValueError``. ``load_report`` on the result says what was repaired.
        """
        _local_only(fs)
        embed = None if embed_model is None else embed_model.get_text_embedding_batch
        engine, report = _persist.load(persist_path, _KIND, embed)
        store = cls(metric=engine.metric)
        store._engine, store._load_report = engine, report
        return store


def _allow(ids: Optional[Sequence[str]]) -> Compiled:
    if ids is None:
        return EVERYTHING
    return AllowList(list(ids)) if ids else NOTHING


def _local_only(fs: Any) -> None:
    protocol = getattr(fs, "protocol", "file")
    if fs is not None and "file" not in (protocol if isinstance(protocol, (tuple, list)) else (protocol,)):
        raise NotImplementedError(f"VecindexVectorStore persists to local folders only, not to {protocol!r}")


def _to_node(doc: Doc) -> BaseNode:
    return metadata_dict_to_node(doc.extra, text=doc.text)

