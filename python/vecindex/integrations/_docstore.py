"""Texts and metadata of the documents, in SQLite (standard library).

The working copy lives in an in-memory database; :meth:`DocStore.save` copies it into a file
with SQLite's backup API, which writes the whole copy in one transaction, so the file holds
either the old state or the new one. That commit is the commit point of a saved store (see
:mod:`vecindex.integrations._persist`).
"""
from __future__ import annotations

import json
import sqlite3
import threading
import weakref
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, NamedTuple, Optional, Sequence

SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS docs (
    id TEXT PRIMARY KEY NOT NULL,
    text TEXT NOT NULL,
    metadata TEXT NOT NULL,      -- JSON object
    ref TEXT,                    -- the source document (LlamaIndex ref_doc_id)
    extra TEXT                   -- JSON the framework needs to rebuild its object
);
CREATE INDEX IF NOT EXISTS docs_ref ON docs(ref);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
"""


class Doc(NamedTuple):
    id: str
    text: str
    metadata: dict
    ref: Optional[str]
    extra: Optional[dict]


def _json(value, what: str) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=True)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{what} must be JSON-serialisable to be stored: {error}") from None


def _casefold(value):
    return value.casefold() if isinstance(value, str) else None


def _json_path(key: str) -> str:
    return '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


class DocStore:
    """Thread-safe access to the documents table of one in-memory database."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        self._conn.create_function("vx_casefold", 1, _casefold, deterministic=True)
        self._conn.executescript(SCHEMA_SQL)
        # Closed when the store goes away (Python 3.13 warns about connections left open).
        weakref.finalize(self, self._conn.close)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside happen or none do (also when the body raises after writing)."""
        with self._lock:
            self._conn.execute("BEGIN")
            try:
                yield
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def upsert(self, docs: Sequence[Doc]) -> None:
        rows = [(doc.id, doc.text, _json(doc.metadata, f"metadata of {doc.id!r}"), doc.ref,
                 None if doc.extra is None else _json(doc.extra, f"node data of {doc.id!r}")) for doc in docs]
        with self._lock:
            self._conn.executemany("INSERT OR REPLACE INTO docs VALUES (?, ?, ?, ?, ?)", rows)

    def delete(self, ids: Sequence[str]) -> None:
        with self._lock:
            self._conn.executemany("DELETE FROM docs WHERE id = ?", [(id,) for id in ids])

    def clear(self) -> None:
        with self._lock:
            self._conn.execute("DELETE FROM docs")

    def get(self, ids: Sequence[str]) -> list[Doc]:
        """The documents among ``ids`` that exist, in the order asked."""
        found = {}
        with self._lock:
            for start in range(0, len(ids), 500):  # SQLite caps the number of parameters
                chunk = list(ids[start:start + 500])
                marks = ",".join("?" * len(chunk))
                for row in self._conn.execute(f"SELECT * FROM docs WHERE id IN ({marks})", chunk):
                    found[row[0]] = row
        return [_doc(found[id]) for id in ids if id in found]

    def ids(self) -> list[str]:
        with self._lock:
            return [row[0] for row in self._conn.execute("SELECT id FROM docs ORDER BY rowid")]

    def ids_of_refs(self, refs: Sequence[str]) -> list[str]:
        with self._lock:
            return [row[0] for ref in refs for row in self._conn.execute("SELECT id FROM docs WHERE ref = ?", (ref,))]

    def all_docs(self) -> list[Doc]:
        with self._lock:
            return [_doc(row) for row in self._conn.execute("SELECT * FROM docs ORDER BY rowid")]

    def count(self) -> int:
        with self._lock:
            return self._conn.execute("SELECT count(*) FROM docs").fetchone()[0]

    def text_match(self, key: str, needle: str, insensitive: bool) -> list[str]:
        """Ids of documents whose metadata ``key`` is a string holding ``needle``."""
        value = "json_extract(metadata, ?)"
        test = f"instr(vx_casefold({value}), vx_casefold(?)) > 0" if insensitive else f"instr({value}, ?) > 0"
        sql = f"SELECT id FROM docs WHERE json_type(metadata, ?) = 'text' AND {test}"
        with self._lock:
            return [row[0] for row in self._conn.execute(sql, (_json_path(key), _json_path(key), needle))]

    # -- meta and files ---------------------------------------------------------------
    def get_meta(self) -> dict:
        with self._lock:
            return {key: json.loads(value) for key, value in self._conn.execute("SELECT key, value FROM meta")}

    def set_meta(self, values: dict) -> None:
        with self._lock:
            self._conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                                   [(key, json.dumps(value)) for key, value in values.items()])

    def save(self, path: str) -> None:
        """Copies the database into ``path`` in one transaction (the old file stays whole until it commits)."""
        target = sqlite3.connect(path)
        try:
            with self._lock:
                self._conn.backup(target)
        finally:
            target.close()

    @classmethod
    def load(cls, path: str) -> "DocStore":
        store = cls()
        source = sqlite3.connect(Path(path).absolute().as_uri() + "?mode=ro", uri=True)
        try:
            tables = {row[0] for row in source.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not {"docs", "meta"} <= tables:
                raise ValueError(f"{path} is not a vecindex document database (tables: {sorted(tables)})")
            source.backup(store._conn)
        finally:
            source.close()
        return store


def _doc(row) -> Doc:
    return Doc(row[0], row[1], json.loads(row[2]), row[3], None if row[4] is None else json.loads(row[4]))
