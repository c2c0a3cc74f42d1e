"""The file written by compat ``Index.save_index``: the core index plus hnswlib bookkeeping.

One file, so users can move it around like an hnswlib index file. It is an uncompressed
numpy ``.npz`` archive (read with allow_pickle=False, so loading never runs code) holding:
  meta            - JSON: format tag and version, space, dim, capacity, build parameters;
  labels          - int64, every label the user sees (deleted ones included);
  deleted         - int64, the labels marked deleted (absent from the core index);
  deleted_vectors - float32 (len(deleted), dim), kept so unmark_deleted can restore them;
  core            - ``vecindex.Index.to_bytes()``, validated by the core's own reader.
"""
from __future__ import annotations

import json
import os
import tempfile
import zipfile

import numpy as np

import vecindex

FORMAT_TAG = "vecindex.compat.hnswlib"
FORMAT_VERSION = 1
_META_KEYS = ("space", "dim", "max_elements", "M", "ef_construction", "random_seed",
              "allow_replace_deleted")


def save(path: str, state: dict, core) -> None:
    """Write state and core to ``path`` atomically (temp file in the same folder, rename)."""
    meta = {key: state[key] for key in _META_KEYS}
    meta.update(format=FORMAT_TAG, version=FORMAT_VERSION)
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".vecindex-compat-")
    try:
        with os.fdopen(handle, "wb") as stream:
            np.savez(stream, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
                     core=np.frombuffer(core.to_bytes(), dtype=np.uint8),
                     labels=state["labels"], deleted=state["deleted"],
                     deleted_vectors=state["deleted_vectors"])
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def load(path: str):
    """Read a file written by save(); return ``(state dict, vecindex.Index)``."""
    if not os.path.isfile(path):
        raise RuntimeError("Cannot open file")
    if not zipfile.is_zipfile(path):
        raise vecindex.FormatError(
            f"{path} is neither a vecindex.compat.hnswlib index file nor an hnswlib index "
            "of this dim")
    try:
        with np.load(path, allow_pickle=False) as archive:
            meta = json.loads(bytes(archive["meta"]).decode())
            state = {name: np.asarray(archive[name], dtype=np.int64)
                     for name in ("labels", "deleted")}
            state["deleted_vectors"] = np.asarray(archive["deleted_vectors"], dtype=np.float32)
            core_bytes = archive["core"].tobytes()
    except (KeyError, ValueError, zipfile.BadZipFile, UnicodeDecodeError) as error:
        raise vecindex.FormatError(f"{path}: damaged vecindex.compat.hnswlib file ({error})")
    _check_meta(path, meta)
    state.update({key: meta[key] for key in _META_KEYS})
    core = vecindex.Index.from_bytes(core_bytes)
    _check_consistency(path, state, core)
    return state, core


def copy_core(core):
    """An independent copy of a core index."""
    return vecindex.Index.from_bytes(core.to_bytes())


def _check_meta(path: str, meta) -> None:
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_TAG:
        raise vecindex.FormatError(f"{path}: not a vecindex.compat.hnswlib index file")
    if meta.get("version") != FORMAT_VERSION:
        raise vecindex.FormatError(
            f"{path}: format version {meta.get('version')}; this vecindex reads version "
            f"{FORMAT_VERSION}")
    missing = [key for key in _META_KEYS if key not in meta]
    if missing:
        raise vecindex.FormatError(f"{path}: missing fields {missing}")
    if meta["space"] not in ("l2", "ip", "cosine") or not isinstance(meta["dim"], int):
        raise vecindex.FormatError(f"{path}: invalid space or dim")


def _check_consistency(path: str, state: dict, core) -> None:
    labels, deleted = state["labels"], state["deleted"]
    live = np.setdiff1d(labels, deleted)
    consistent = (
        core.dim == state["dim"]
        and labels.ndim == deleted.ndim == 1
        and np.unique(labels).shape[0] == labels.shape[0]
        and state["deleted_vectors"].shape == (deleted.shape[0], state["dim"])
        and np.isin(deleted, labels).all()
        and labels.shape[0] <= int(state["max_elements"])
        and np.array_equal(np.sort(core.ids()), live)
    )
    if not consistent:
        raise vecindex.FormatError(f"{path}: label bookkeeping does not match the stored index")
