"""``VecindexStore``: a LangChain vector store on a string-keyed vecindex index.

Document ids are the index's string keys; texts and metadata live in SQLite beside it.
Metadata filters (``{"source": "a.pdf", "year": {"$gte": 2020}}``) are compiled to ``F``
expressions and run in the index's filter planner, never as a post-filter. See the README
section "Use with LangChain / LlamaIndex".
"""
from __future__ import annotations

import uuid
from typing import Any, Callable, Iterable, Optional, Sequence

try:
    from langchain_core.documents import Document
    from langchain_core.embeddings import Embeddings
    from langchain_core.runnables.config import run_in_executor
    from langchain_core.vectorstores import VectorStore
except ImportError as error:  # pragma: no cover - exercised by a subprocess test
    from vecindex.integrations._require import missing_framework
    raise missing_framework("langchain", "langchain", error) from error

from vecindex.filters import Filter
from vecindex.integrations import _persist
from vecindex.integrations._docstore import Doc
from vecindex.integrations._engine import DocIndex
from vecindex.integrations._filters import EVERYTHING, Compiled
from vecindex.integrations._scoring import mmr, relevance_fn

__all__ = ["VecindexStore"]

_KIND = "langchain"


class VecindexStore(VectorStore):
    """A LangChain ``VectorStore`` backed by vecindex.

    ``metric`` is ``"cosine"`` (default), ``"ip"`` or ``"l2"``. ``attributes`` may declare the
    filter type of metadata keys (``{"year": "int"}``); other keys get one inferred from
    their first value. Remaining keyword arguments go to :class:`vecindex.Index` (``M``,
    ``ef_construction``, ``ef_search``, ``dtype``, ...).

    Search methods take ``filter=`` (a LangChain-style dict, or a vecindex ``F`` expression)
    and ``ef=`` (the beam width for that search).
    """

    def __init__(self, embedding: Embeddings, *, metric: str = "cosine",
                 attributes: Optional[dict] = None, **index_options: Any) -> None:
        self._embedding = embedding
        self._engine = DocIndex(metric, attributes, index_options)
        self.load_report: Optional[_persist.LoadReport] = None

    @property
    def embeddings(self) -> Embeddings:
        return self._embedding

    def __len__(self) -> int:
        """Number of documents (nodes) held."""
        return len(self._engine)

    def __bool__(self) -> bool:
        # An empty store is still a store: frameworks write `vector_store or default()`.
        return True

    # -- adding -----------------------------------------------------------------------
    def add_texts(self, texts: Iterable[str], metadatas: Optional[list[dict]] = None, *,
                  ids: Optional[list[Optional[str]]] = None, **kwargs: Any) -> list[str]:
        """Embeds and adds texts; an id that exists is replaced. Returns the ids (uuid4 where none)."""
        _no_extra(kwargs, "add_texts")
        docs = _documents(list(texts), metadatas, ids)
        vectors = self._embedding.embed_documents([doc.text for doc in docs]) if docs else []
        self._engine.upsert(docs, vectors)
        return [doc.id for doc in docs]

    async def aadd_texts(self, texts: Iterable[str], metadatas: Optional[list[dict]] = None, *,
                         ids: Optional[list[Optional[str]]] = None, **kwargs: Any) -> list[str]:
        _no_extra(kwargs, "aadd_texts")
        docs = _documents(list(texts), metadatas, ids)
        vectors = await self._embedding.aembed_documents([doc.text for doc in docs]) if docs else []
        await run_in_executor(None, self._engine.upsert, docs, vectors)
        return [doc.id for doc in docs]

    # -- deleting and reading ---------------------------------------------------------
    def delete(self, ids: Optional[list[str]] = None, **kwargs: Any) -> bool:
        """Deletes these ids (unknown ones are ignored); ``ids=None`` deletes everything."""
        _no_extra(kwargs, "delete")
        if ids is None:
            self._engine.clear()
        else:
            self._engine.delete(list(ids))
        return True

    def get_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        """The documents among ``ids`` that exist, in the order asked."""
        return [_to_document(doc) for doc in self._engine.get(list(ids))]

    # -- searching --------------------------------------------------------------------
    def similarity_search(self, query: str, k: int = 4, **kwargs: Any) -> list[Document]:
        return [doc for doc, _ in self.similarity_search_with_score(query, k, **kwargs)]

    def similarity_search_with_score(self, query: str, k: int = 4, **kwargs: Any) -> list[tuple[Document, float]]:
        """Documents with their distance (smaller is closer; see the metric)."""
        return self.similarity_search_with_score_by_vector(self._embedding.embed_query(query), k, **kwargs)

    def similarity_search_by_vector(self, embedding: list[float], k: int = 4, **kwargs: Any) -> list[Document]:
        return [doc for doc, _ in self.similarity_search_with_score_by_vector(embedding, k, **kwargs)]

    def similarity_search_with_score_by_vector(self, embedding: list[float], k: int = 4, *,
                                               filter: Any = None, ef: Optional[int] = None,
                                               **kwargs: Any) -> list[tuple[Document, float]]:
        _no_extra(kwargs, "similarity search")
        hits = self._engine.search(embedding, k, self._compile(filter), ef)
        docs = {doc.id: doc for doc in self._engine.get([id for id, _ in hits])}
        return [(_to_document(docs[id]), distance) for id, distance in hits if id in docs]

    async def asimilarity_search_with_score(self, query: str, k: int = 4, **kwargs: Any) -> list[tuple[Document, float]]:
        vector = await self._embedding.aembed_query(query)
        return await run_in_executor(None, lambda: self.similarity_search_with_score_by_vector(vector, k, **kwargs))

    async def asimilarity_search(self, query: str, k: int = 4, **kwargs: Any) -> list[Document]:
        return [doc for doc, _ in await self.asimilarity_search_with_score(query, k, **kwargs)]

    def _select_relevance_score_fn(self) -> Callable[[float], float]:
        """Distance -> relevance in [0, 1] for this store's metric (see ``_scoring``)."""
        return relevance_fn(self._engine.metric)

    def max_marginal_relevance_search(self, query: str, k: int = 4, fetch_k: int = 20, lambda_mult: float = 0.5,
                                      **kwargs: Any) -> list[Document]:
        return self.max_marginal_relevance_search_by_vector(self._embedding.embed_query(query), k, fetch_k,
                                                            lambda_mult, **kwargs)

    def max_marginal_relevance_search_by_vector(self, embedding: list[float], k: int = 4, fetch_k: int = 20,
                                                lambda_mult: float = 0.5, *, filter: Any = None,
                                                ef: Optional[int] = None, **kwargs: Any) -> list[Document]:
        """Fetches the ``fetch_k`` nearest matches, then picks ``k`` of them by MMR."""
        _no_extra(kwargs, "max_marginal_relevance_search")
        hits = self._engine.search(embedding, max(fetch_k, k), self._compile(filter), ef)
        if not hits:
            return []
        ids = [id for id, _ in hits]
        picked = mmr(embedding, self._engine.vectors(ids), k, lambda_mult)
        return self.get_by_ids([ids[position] for position in picked])

    async def amax_marginal_relevance_search(self, query: str, k: int = 4, fetch_k: int = 20,
                                             lambda_mult: float = 0.5, **kwargs: Any) -> list[Document]:
        vector = await self._embedding.aembed_query(query)
        return await run_in_executor(None, lambda: self.max_marginal_relevance_search_by_vector(
            vector, k, fetch_k, lambda_mult, **kwargs))

    def _compile(self, filter: Any) -> Compiled:
        if filter is None:
            return EVERYTHING
        if isinstance(filter, Filter):
            return filter
        return self._engine.compile(filter)

    # -- construction and persistence -------------------------------------------------
    @classmethod
    def from_texts(cls, texts: list[str], embedding: Embeddings, metadatas: Optional[list[dict]] = None, *,
                   ids: Optional[list[str]] = None, **kwargs: Any) -> "VecindexStore":
        """A new store holding these texts; ``kwargs`` go to the constructor."""
        store = cls(embedding, **kwargs)
        store.add_texts(texts, metadatas, ids=ids)
        return store

    @classmethod
    async def afrom_texts(cls, texts: list[str], embedding: Embeddings, metadatas: Optional[list[dict]] = None, *,
                          ids: Optional[list[str]] = None, **kwargs: Any) -> "VecindexStore":
        store = cls(embedding, **kwargs)
        await store.aadd_texts(texts, metadatas, ids=ids)
        return store

    def save_local(self, folder) -> None:
        """Saves into ``folder``: ``docs.sqlite`` and one index file (see the README on crashes)."""
        _persist.save(self._engine, folder, _KIND)

    @classmethod
    def load_local(cls, folder, embeddings: Embeddings, *, allow_dangerous_deserialization: bool = False,
                   ) -> "VecindexStore":
        """Loads a folder written by :meth:`save_local`, repairing an interrupted save.

        ``load_report`` on the result says what was repaired; a document whose vector was
        lost is embedded again from its text with ``embeddings``. Nothing is unpickled, so
        ``allow_dangerous_deserialization`` (accepted as FAISS's ``load_local`` takes it) has
        no effect.
        """
        engine, report = _persist.load(folder, _KIND, embeddings.embed_documents)
        store = cls(embeddings, metric=engine.metric)
        store._engine, store.load_report = engine, report
        return store


def _no_extra(kwargs: dict, where: str) -> None:
    if kwargs:
        raise TypeError(f"{where} got unexpected keyword arguments: {', '.join(sorted(kwargs))}")


def _documents(texts: list, metadatas: Optional[list], ids: Optional[list]) -> list[Doc]:
    if metadatas is not None and len(metadatas) != len(texts):
        raise ValueError(f"got {len(metadatas)} metadatas for {len(texts)} texts")
    if ids is not None and len(ids) != len(texts):
        raise ValueError(f"got {len(ids)} ids for {len(texts)} texts")
    docs = []
    for row, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"texts must be str; text {row} is {type(text).__name__}")
        id = ids[row] if ids is not None else None
        metadata = dict(metadatas[row] or {}) if metadatas is not None else {}
        docs.append(Doc(str(uuid.uuid4()) if id is None else id, text, metadata, None, None))
    return docs


def _to_document(doc: Doc) -> Document:
    return Document(page_content=doc.text, metadata=doc.metadata, id=doc.id)
