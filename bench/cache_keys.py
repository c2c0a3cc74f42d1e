"""Names for cached benchmark indexes that change whenever the code that built them could.

A graph built by older code must never be timed as if the current code had built it, so a
cached index is named by a hash of (library, the library's code fingerprint, build parameters,
the data). For vecindex the fingerprint is a hash of the installed package's files (the
compiled core included), so any rebuild of the extension gives new names; for the peers it is
their installed version.
"""
from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import numpy as np


@lru_cache(maxsize=None)
def vecindex_fingerprint() -> str:
    """Hash of every file of the installed vecindex package (Python sources and the extension)."""
    import vecindex

    return package_fingerprint(Path(vecindex.__file__).resolve().parent)


def package_fingerprint(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def library_fingerprint(library: str) -> str:
    if library == "vecindex":
        return vecindex_fingerprint()
    distribution = {"faiss": "faiss-cpu"}.get(library, library)
    return metadata.version(distribution)


def data_fingerprint(data: np.ndarray) -> str:
    """Shape plus a hash of a strided sample of rows: cheap, and different for any other data set."""
    sample = np.ascontiguousarray(data[:: max(1, len(data) // 512)])
    digest = hashlib.sha256(repr(data.shape).encode() + sample.tobytes())
    return digest.hexdigest()[:16]


def cached_index_path(cache: Path, library: str, params: dict, data: np.ndarray, suffix: str) -> Path:
    """cache/<library>-<key><suffix>, the key covering code version, build parameters and data."""
    identity = {"library": library, "code": library_fingerprint(library), "params": params,
                "data": data_fingerprint(data)}
    key = hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return Path(cache) / f"{library}-{key}{suffix}"
