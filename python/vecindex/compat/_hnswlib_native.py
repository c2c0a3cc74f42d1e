"""Read index files written by the real hnswlib (``hnswlib.Index.save_index``), for migration.

Only the vectors, labels, deletion marks and build parameters are taken; the graph is
rebuilt by vecindex (hnswlib's link lists are not reused), so loading costs a build.
The file is untrusted input: every size is checked against the file before use.

Layout (little-endian, as written by hnswlib 0.6-0.8 on x86-64 / arm64):
  header  offset_level0 u64, max_elements u64, element_count u64, bytes_per_element u64,
          label_offset u64, vector_offset u64, max_level i32, entry_point u32, max_M u64,
          max_M0 u64, M u64, level_multiplier f64, ef_construction u64      (96 bytes)
  level0  element_count records of bytes_per_element bytes: neighbour-count word (whose
          third byte carries the deletion mark in bit 0), neighbour ids, the float32
          vector at vector_offset, the u64 label at label_offset
  upper levels follow; not needed here.
"""
from __future__ import annotations

import os

import zipfile

import numpy as np

import vecindex
from vecindex.compat import _hnswlib_inputs as inputs

_HEADER = np.dtype([
    ("offset_level0", "<u8"), ("max_elements", "<u8"), ("element_count", "<u8"),
    ("bytes_per_element", "<u8"), ("label_offset", "<u8"), ("vector_offset", "<u8"),
    ("max_level", "<i4"), ("entry_point", "<u4"), ("max_M", "<u8"), ("max_M0", "<u8"),
    ("M", "<u8"), ("level_multiplier", "<f8"), ("ef_construction", "<u8"),
])
_DELETED_BIT = 0x01
_LARGEST_LABEL = np.iinfo(np.int64).max


def looks_like_hnswlib_file(path: str, dim: int) -> bool:
    """True when the header's record layout fits float32 vectors of ``dim`` values."""
    if not os.path.isfile(path) or zipfile.is_zipfile(path):
        return False
    try:
        header = _read_header(path)
    except vecindex.FormatError:
        return False
    return int(header["label_offset"]) - int(header["vector_offset"]) == 4 * dim


def read(path: str, dim: int) -> dict:
    """Vectors, labels and parameters of an hnswlib file; raises FormatError if inconsistent."""
    header = _read_header(path)
    count = int(header["element_count"])
    record = int(header["bytes_per_element"])
    vector_offset, label_offset = int(header["vector_offset"]), int(header["label_offset"])
    file_size = os.path.getsize(path)
    valid = (
        header["offset_level0"] == 0
        and count <= int(header["max_elements"])
        and vector_offset >= 4
        and label_offset == vector_offset + 4 * dim
        and record >= label_offset + 8
        and record <= 1 << 24
        and _HEADER.itemsize + count * record <= file_size
        and 0 < int(header["M"]) <= 1 << 16
        and 0 < int(header["ef_construction"]) <= 1 << 24
    )
    if not valid:
        raise vecindex.FormatError(f"{path}: hnswlib header does not fit a dim={dim} index")
    records = np.fromfile(path, dtype=np.uint8, count=count * record, offset=_HEADER.itemsize)
    records = records.reshape(count, record)
    vectors = records[:, vector_offset:label_offset].copy().view("<f4").astype(np.float32)
    labels = records[:, label_offset:label_offset + 8].copy().view("<u8").reshape(count)
    deleted = (records[:, 2] & _DELETED_BIT).astype(bool)
    if count and (int(labels.max()) > _LARGEST_LABEL or np.unique(labels).shape[0] != count):
        raise vecindex.FormatError(f"{path}: labels are duplicated or not below 2**63")
    if not np.isfinite(vectors).all():
        raise vecindex.FormatError(f"{path}: vectors contain NaN or infinity")
    return {
        "vectors": vectors, "labels": labels.astype(np.int64), "deleted": deleted,
        "max_elements": int(header["max_elements"]), "M": int(header["M"]),
        "ef_construction": int(header["ef_construction"]),
    }


def build(path: str, space: str, dim: int, threads, seed: int):
    """Compat ``(state, core index)`` from an hnswlib file; deleted elements stay deleted."""
    content = read(path, dim)
    vectors, labels, deleted = content["vectors"], content["labels"], content["deleted"]
    core = vecindex.Index(dim, metric=inputs.core_metric(space), M=max(content["M"], 2),
                          ef_construction=content["ef_construction"], seed=seed)
    live = ~deleted
    if live.any():
        core.add(vectors[live], ids=labels[live], threads=threads)
    state = {
        "space": space, "dim": dim, "max_elements": content["max_elements"],
        "M": content["M"], "ef_construction": content["ef_construction"],
        "random_seed": seed, "allow_replace_deleted": False,
        "labels": labels, "deleted": labels[deleted], "deleted_vectors": vectors[deleted],
    }
    return state, core


def _read_header(path: str):
    if os.path.getsize(path) < _HEADER.itemsize:
        raise vecindex.FormatError(f"{path}: too short for an hnswlib index")
    return np.fromfile(path, dtype=_HEADER, count=1)[0]
