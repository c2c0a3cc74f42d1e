"""What both framework stores share: a string-keyed vecindex Index beside a document database.

Document ids are the index's own string keys (``Index(keys="str")``): there is no side
table from ids to integer labels to lose or get out of step. The index is created at the
first add, when the embedding size is known, with an attribute for every filterable metadata
key seen so far (see :mod:`._schema`). A key first seen later needs a new attribute column;
the index is then rebuilt with the wider schema from its own vectors and attributes (declare
keys up front with ``attributes=`` to avoid that).
"""
from __future__ import annotations

import threading
from typing import Any, Mapping, Optional, Sequence

import numpy as np

import vecindex
from vecindex._validation import check_metric
from vecindex.attributes import normalize_schema
from vecindex.integrations import _schema
from vecindex.integrations._docstore import Doc, DocStore
from vecindex.integrations._filters import EVERYTHING, NOTHING, Compiled, Conditions, compile_mongo

# Index(...) keyword arguments the stores pass through (everything but dim, keys, attributes).
INDEX_OPTIONS = ("M", "ef_construction", "ef_search", "dtype", "seed", "pq_m", "rerank")
MAX_K = 100000  # the largest k Index.search takes


class DocIndex:
    """Documents (id, text, metadata) with their vectors, searchable with metadata filters.

    Every public method takes one lock, so the stores can be called from several threads
    (the async methods run them on executor threads).
    """

    def __init__(self, metric: str = "cosine", attributes: Optional[Mapping[str, str]] = None,
                 index_options: Optional[Mapping[str, Any]] = None) -> None:
        unknown = set(index_options or ()) - set(INDEX_OPTIONS)
        if unknown:
            raise TypeError(f"unknown index options {sorted(unknown)}; known: {', '.join(INDEX_OPTIONS)}")
        check_metric(metric)
        self.metric = metric
        self.index_options = dict(index_options or {})
        self.schema: dict = dict(normalize_schema(attributes))
        self.docs = DocStore()
        self.index: Optional[vecindex.Index] = None
        self.lock = threading.RLock()

    # -- writing ----------------------------------------------------------------------
    def upsert(self, docs: Sequence[Doc], vectors) -> None:
        """Adds the documents, replacing those whose ids exist. Nothing changes if it raises."""
        matrix = np.asarray(vectors, dtype=np.float32)
        if matrix.ndim != 2 or matrix.shape[0] != len(docs):
            raise ValueError(f"got {matrix.shape[0] if matrix.ndim else 0} vectors for {len(docs)} documents")
        ids = [doc.id for doc in docs]
        _check_ids(ids)
        if not docs:
            return
        with self.lock:
            metadatas = [doc.metadata for doc in docs]
            schema = _schema.extend_schema(self.schema, metadatas)
            index = self.index
            if index is None:
                index = self._new_index(matrix.shape[1], schema)
            elif schema != self.schema:
                index = self._rebuilt(schema)
            rows = _schema.attribute_rows(schema, metadatas)
            with self.docs.transaction():
                self.docs.upsert(docs)
                index.add(matrix, ids=ids, attrs=rows, replace=True)
            self.index, self.schema = index, schema

    def delete(self, ids: Sequence[str]) -> list[str]:
        """Deletes the documents that exist among ``ids``; returns those it deleted."""
        with self.lock:
            present = [id for id in dict.fromkeys(ids) if self.index is not None and id in self.index]
            if present:
                with self.docs.transaction():
                    self.docs.delete(present)
                    self.index.delete(present)
            return present

    def clear(self) -> None:
        with self.lock:
            with self.docs.transaction():
                self.docs.clear()
                if self.index is not None and len(self.index):
                    self.index.delete(list(self.index.ids()))

    # -- reading ----------------------------------------------------------------------
    def __len__(self) -> int:
        with self.lock:
            return 0 if self.index is None else len(self.index)

    def compile(self, filter: Optional[Mapping]) -> Compiled:
        """A LangChain-style ``{"key": {"$op": value}}`` filter as an ``F`` expression."""
        return compile_mongo(filter, self.conditions())

    def conditions(self) -> Conditions:
        return Conditions(dict(self.schema), self.docs.text_match, vecindex.AllowList)

    def search(self, vector, k: int, filter: Compiled = EVERYTHING, ef: Optional[int] = None) -> list[tuple[str, float]]:
        """(id, distance) of the k nearest documents that match ``filter``, nearest first."""
        query = np.asarray(vector, dtype=np.float32)
        if query.ndim != 1:
            raise ValueError(f"a query embedding must be one vector; got shape {query.shape}")
        with self.lock:
            if self.index is None or filter is NOTHING or not len(self.index):
                return []
            k = min(int(k), len(self.index))
            if k < 1:
                return []
            found = self.index.search(query, k=k, ef=ef, filter=None if filter is EVERYTHING else filter)
        ids, distances = found
        return [(str(id), float(distance)) for id, distance in zip(ids, distances)
                if np.isfinite(distance) and isinstance(id, str) and id]

    def matching_ids(self, filter: Compiled) -> list[str]:
        """Every id the filter matches (no query: an exact scan of the matches)."""
        with self.lock:
            if self.index is None or filter is NOTHING or not len(self.index):
                return []
            live = [str(id) for id in self.index.ids()]
            if filter is EVERYTHING:
                return live
            probe = self.index.get(live[:1])[0]
            matches = []
            # search() caps k, so the live ids go in chunks, each as an allow-list beside the filter.
            for start in range(0, len(live), MAX_K):
                chunk = live[start:start + MAX_K]
                found, distances = self.index.search(probe, k=len(chunk), filter=filter & vecindex.AllowList(chunk),
                                                     strategy="exact")
                matches.extend(str(id) for id, distance in zip(found, distances) if np.isfinite(distance))
            return matches

    def get(self, ids: Sequence[str]) -> list[Doc]:
        with self.lock:
            return self.docs.get(list(ids))

    def vectors(self, ids: Sequence[str]) -> np.ndarray:
        with self.lock:
            return self.index.get(list(ids))

    # -- index construction -----------------------------------------------------------
    def _new_index(self, dim: int, schema: Mapping[str, str]) -> vecindex.Index:
        return vecindex.Index(dim, metric=self.metric, keys="str", attributes=dict(schema), **self.index_options)

    def _rebuilt(self, schema: Mapping[str, str]) -> vecindex.Index:
        """A copy of the index with a wider attribute schema (the core's schema is fixed)."""
        old = self.index
        fresh = self._new_index(old.dim, schema)
        ids = list(old.ids())
        if ids:
            fresh.add(old.get(ids), ids=ids, attrs=old.get_attrs(ids))
        return fresh


def _check_ids(ids: Sequence) -> None:
    for id in ids:
        if not isinstance(id, str) or not id:
            raise ValueError(f"document ids must be non-empty str, not {id!r}")
    if len(set(ids)) != len(ids):
        repeated = sorted({id for id in ids if ids.count(id) > 1})[:5]
        raise ValueError(f"repeated document ids in one call: {repeated}")
