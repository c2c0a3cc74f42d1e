"""Saving a store into one folder, and loading it back with crash detection and repair.

A saved store is a folder holding ``docs.sqlite`` (texts, metadata, and a ``meta`` table)
and one index file ``index-<generation>.vx``. A save runs in this order:

1. the index goes to a new file ``index-<G+1>.vx`` (written atomically: temp file, fsync,
   rename), and its SHA-256 is computed;
2. the database is copied into ``docs.sqlite`` in one SQLite transaction, together with the
   generation ``G+1``, the index file's name and its checksum. **This commit is the commit
   point**: before it the folder still describes generation G, after it G+1;
3. index files of other generations are removed.

On load the database says which index file belongs to it. A crash after step 1 leaves an
index file the database does not name: it is removed and generation G loads whole. A crash
after step 2 leaves the old file: removed too. If the named file is missing or fails its
checksum, the newest other index file that loads is taken instead (or none), and the index
is reconciled with the database: ids the database lacks are deleted from the index, and
documents the index lacks are embedded again from their stored texts (so load needs the
embedding model) and added. A repaired store is saved again at once, and
:class:`LoadReport` says what was done.
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

import numpy as np

import vecindex
from vecindex.integrations._docstore import DocStore
from vecindex.integrations._engine import DocIndex

DB_NAME = "docs.sqlite"
FORMAT = 1
_INDEX_FILE = re.compile(r"index-(\d+)\.vx")
_TEMP_FILE = re.compile(r"index-\d+\.vx\.tmp-.*")  # left by an index save killed mid-write

# texts -> embeddings, used to re-create vectors the saved index lost
Embedder = Callable[[Sequence[str]], Sequence[Sequence[float]]]


@dataclass
class LoadReport:
    """What :func:`load` found and repaired."""

    generation: int = 0
    repaired: bool = False
    problems: list = field(default_factory=list)       # what was wrong, in words
    removed_files: list = field(default_factory=list)  # uncommitted or superseded index files
    reembedded: int = 0                                # documents embedded again from their text
    dropped: int = 0                                   # index entries with no document, deleted


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _index_files(folder: str) -> dict:
    """generation -> file name, for every index file in the folder."""
    found = {}
    for name in os.listdir(folder):
        match = _INDEX_FILE.fullmatch(name)
        if match:
            found[int(match.group(1))] = name
    return found


def save(engine: DocIndex, folder, kind: str) -> None:
    """Writes the store into ``folder`` (created if needed); see the module docstring."""
    folder = os.fspath(folder)
    os.makedirs(folder, exist_ok=True)
    with engine.lock:
        known = [int(engine.docs.get_meta().get("generation", 0)), *_index_files(folder)]
        generation = max(known) + 1
        name, checksum = None, None
        if engine.index is not None:
            name = f"index-{generation}.vx"
            engine.index.save(os.path.join(folder, name))
            checksum = _sha256(os.path.join(folder, name))
        engine.docs.set_meta({"format": FORMAT, "kind": kind, "generation": generation, "index_file": name,
                              "index_sha256": checksum, "metric": engine.metric, "schema": engine.schema,
                              "index_options": engine.index_options})
        engine.docs.save(os.path.join(folder, DB_NAME))
        for old in _index_files(folder).values():
            if old != name:
                os.remove(os.path.join(folder, old))


def load(folder, kind: str, embed: Optional[Embedder]) -> tuple[DocIndex, LoadReport]:
    folder = os.fspath(folder)
    db_path = os.path.join(folder, DB_NAME)
    if not os.path.isfile(db_path):
        raise FileNotFoundError(f"no saved store in {folder!r}: {DB_NAME} is missing")
    docs = DocStore.load(db_path)
    meta = docs.get_meta()
    if meta.get("format") != FORMAT or meta.get("kind") != kind:
        raise ValueError(f"{folder!r} holds format {meta.get('format')!r} of a {meta.get('kind')!r} store; "
                         f"expected format {FORMAT} of a {kind!r} store")
    engine = DocIndex(meta["metric"], meta["schema"], meta["index_options"])
    engine.docs = docs
    report = LoadReport(generation=int(meta["generation"]))
    committed = meta["index_file"]
    engine.index = _committed_index(folder, committed, meta["index_sha256"], report)
    files = _index_files(folder)
    if engine.index is None and committed is not None:
        engine.index = _newest_loadable(folder, files, report)
    if engine.index is not None:
        engine.schema = engine.index.attributes
    _reconcile(engine, embed, report)
    for generation, name in sorted(files.items()):
        if name != committed:
            when = "an interrupted save" if generation > report.generation else "an earlier generation"
            report.problems.append(f"{name} was left by {when}")
            report.removed_files.append(name)
            os.remove(os.path.join(folder, name))
    for name in sorted(os.listdir(folder)):
        if _TEMP_FILE.fullmatch(name):
            report.problems.append(f"{name} was left by an index save killed mid-write")
            report.removed_files.append(name)
            os.remove(os.path.join(folder, name))
    if report.problems:
        report.repaired = True
        save(engine, folder, kind)
    return engine, report


def _committed_index(folder: str, name: Optional[str], checksum: Optional[str], report: LoadReport):
    if name is None:
        return None
    path = os.path.join(folder, name)
    if not os.path.isfile(path):
        report.problems.append(f"the index file {name} named by the database is missing")
        return None
    if _sha256(path) != checksum:
        report.problems.append(f"the index file {name} does not match the checksum in the database")
        return None
    return vecindex.Index.load(path)


def _newest_loadable(folder: str, files: dict, report: LoadReport):
    for generation in sorted(files, reverse=True):
        try:
            index = vecindex.Index.load(os.path.join(folder, files[generation]))
        except (OSError, ValueError):
            continue
        report.problems.append(f"started from {files[generation]} instead")
        return index
    return None


def _reconcile(engine: DocIndex, embed: Optional[Embedder], report: LoadReport) -> None:
    """Makes the index hold exactly the database's documents."""
    stored = engine.docs.ids()
    indexed = set() if engine.index is None else {str(id) for id in engine.index.ids()}
    extra = sorted(indexed.difference(stored))
    if extra:
        engine.index.delete(extra)
        report.dropped = len(extra)
        report.problems.append(f"{len(extra)} index entries had no document")
    missing = [id for id in stored if id not in indexed]
    if not missing:
        return
    report.problems.append(f"{len(missing)} documents had no vector")
    if embed is None:
        raise ValueError(f"the saved index lacks {len(missing)} documents of the database; "
                         f"load with an embedding model to embed them again")
    documents = engine.docs.get(missing)
    vectors = np.asarray(embed([doc.text for doc in documents]), dtype=np.float32)
    engine.upsert(documents, vectors)
    report.reembedded = len(documents)
