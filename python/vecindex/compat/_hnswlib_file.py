"""The file written by compat ``Index.save_index``: the core index plus hnswlib bookkeeping.

One file, so users can move it around like an hnswlib index file. It is an uncompressed
numpy ``.npz`` archive (read with allow_pickle=False, so loading never runs code) holding:
  meta    - JSON: format tag and version, space, dim, capacity, build parameters;
  labels, deleted, orphans - int64 label sets (see compat Index);
  core    - the bytes of ``vecindex.Index.save``, checked by the core's own loader.
"""
from __future__ import annotations

import json
import os
import pickle
import tempfile
import zipfile

import numpy as np

import vecindex

FORMAT_TAG = "vecindex.compat.hnswlib"
FORMAT_VERSION = 1
_META_KEYS = ("space", "dim", "max_elements", "M", "ef_construction", "random_seed",
              "allow_replace_deleted")
_LABEL_SETS = ("labels", "deleted", "orphans")


def save(path: str, state: dict, core) -> None:
    """Write state and core to ``path`` atomically (temp file in the same folder, rename)."""
    meta = {key: state[key] for key in _META_KEYS}
    meta.update(format=FORMAT_TAG, version=FORMAT_VERSION)
    folder = os.path.dirname(os.path.abspath(path))
    with tempfile.TemporaryDirectory(prefix="vecindex-compat-") as scratch:
        core_path = os.path.join(scratch, "core.vecindex")
        core.save(core_path)
        core_bytes = np.fromfile(core_path, dtype=np.uint8)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".vecindex-compat-")
    try:
        with os.fdopen(handle, "wb") as stream:
            np.savez(stream, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
                     core=core_bytes, **{name: state[name] for name in _LABEL_SETS})
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
            f"{path} is not a vecindex.compat.hnswlib index file (files written by the "
            "real hnswlib cannot be loaded: rebuild the index from its vectors)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            meta = json.loads(bytes(archive["meta"]).decode())
            state = {name: np.asarray(archive[name], dtype=np.int64) for name in _LABEL_SETS}
            core_bytes = archive["core"]
    except (KeyError, ValueError, zipfile.BadZipFile, UnicodeDecodeError) as error:
        raise vecindex.FormatError(f"{path}: damaged vecindex.compat.hnswlib file ({error})")
    _check_meta(path, meta)
    state.update({key: meta[key] for key in _META_KEYS})
    with tempfile.TemporaryDirectory(prefix="vecindex-compat-") as scratch:
        core_path = os.path.join(scratch, "core.vecindex")
        core_bytes.tofile(core_path)
        core = vecindex.Index.load(core_path)
    _check_label_sets(path, state, len(core))
    return state, core


def copy_core(core):
    """An independent copy of a core index (via its pickle support)."""
    return pickle.loads(pickle.dumps(core, protocol=pickle.HIGHEST_PROTOCOL))


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


def _check_label_sets(path: str, state: dict, core_size: int) -> None:
    labels, deleted, orphans = (state[name] for name in _LABEL_SETS)
    consistent = (
        labels.ndim == deleted.ndim == orphans.ndim == 1
        and labels.shape[0] + orphans.shape[0] == core_size
        and labels.shape[0] <= max(int(state["max_elements"]), 0)
        and np.isin(deleted, labels).all()
        and not np.isin(orphans, labels).any()
    )
    if not consistent:
        raise vecindex.FormatError(f"{path}: label bookkeeping does not match the stored index")
