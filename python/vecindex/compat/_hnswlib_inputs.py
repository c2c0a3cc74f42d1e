"""Input conversion and hnswlib-style checks shared by the compat Index and BFIndex.

hnswlib's bindings accept anything numpy can turn into a float32 matrix, treat a 1-D
array as one row, and report misuse with RuntimeError and fixed messages. Code written
against hnswlib sometimes matches on those messages, so they are reproduced verbatim.
"""
from __future__ import annotations

import os
import operator

import numpy as np

SPACES = ("l2", "ip", "cosine")

# Messages hnswlib raises verbatim; callers may match on them.
MSG_NOT_INITIALISED = "Index not initialized: call init_index() or load_index() first"
MSG_ALREADY_INITIALISED = "The index is already initiated."
MSG_LIMIT = "The number of elements exceeds the specified limit"
MSG_WRONG_DIM = "Wrong dimensionality of the vectors"
MSG_NOT_CONTIGUOUS = (
    "Cannot return the results in a contiguous 2D array. Probably ef or M is too small"
)
MSG_LABEL_NOT_FOUND = "Label not found"
MSG_REPLACE_DISABLED = "Replacement of deleted elements is disabled in constructor"
MSG_UPDATE_DELETED = (
    "Can't use addPoint to update deleted elements if replacement of deleted elements is enabled."
)
MSG_ALREADY_DELETED = "The requested to delete element is already deleted"
MSG_NOT_DELETED = "The requested to undelete element is not deleted"
MSG_RESIZE_TOO_SMALL = "Cannot resize, max element is less than the current number of elements"

# vecindex ids are non-negative int64; hnswlib labels are uint64. Labels must fit both.
_LARGEST_LABEL = np.iinfo(np.int64).max


def check_space(space: str) -> str:
    if space not in SPACES:
        raise RuntimeError("Space name must be one of l2, ip, or cosine.")
    return space


def core_metric(space: str) -> str:
    """Cosine data is normalised by the compat layer and kept in an inner-product core
    index, as hnswlib does: zero vectors stay valid and get_items() returns unit vectors."""
    return "l2" if space == "l2" else "ip"


def default_thread_count() -> int:
    """hnswlib defaults to one thread per hardware thread."""
    return os.cpu_count() or 1


def thread_count(value) -> int:
    """hnswlib's int num_threads: any int-like (negative means "the default"), not a float."""
    return operator.index(value)


def non_negative_int(value, what: str) -> int:
    """hnswlib's size_t parameters reject negatives with TypeError (pybind11 cannot convert)."""
    number = operator.index(value)
    if number < 0:
        raise TypeError(f"{what} must be a non-negative integer, got {number}")
    return number


def as_rows(data, dim: int, finite: bool = False) -> np.ndarray:
    """Turn user data into a C-contiguous float32 (n, dim) matrix, as hnswlib does.

    ``finite=True`` refuses NaN and infinity with ValueError (the core index does that
    itself; BFIndex, which has no core, asks for it here).
    """
    rows = np.asarray(data, dtype=np.float32)
    if rows.ndim == 1:
        rows = rows.reshape(1, -1)
    elif rows.ndim != 2:
        raise RuntimeError(
            f"Input vector data wrong shape. Number of dimensions {rows.ndim}. "
            "Data must be a 1D or 2D array."
        )
    if rows.shape[1] != dim:
        raise RuntimeError(MSG_WRONG_DIM)
    if finite and not np.isfinite(rows).all():
        bad = int(np.flatnonzero(~np.isfinite(rows).all(axis=1))[0])
        raise ValueError(f"data contain NaN or infinity (row {bad}; values beyond float32 range count too)")
    return np.ascontiguousarray(rows)


def normalized(rows: np.ndarray) -> np.ndarray:
    """Unit-length copies of rows; zero rows stay zero (hnswlib adds 1e-30 to the norm)."""
    norms = np.sqrt(np.einsum("ij,ij->i", rows, rows, dtype=np.float32))
    return (rows / (norms[:, None] + np.float32(1e-30))).astype(np.float32, copy=False)


def as_labels(ids, row_count: int, first_auto_label: int) -> np.ndarray:
    """Labels for add_items: given ones checked against the rows, or consecutive ones.

    hnswlib numbers unlabeled rows from the current element count upwards.
    """
    if ids is None:
        return np.arange(first_auto_label, first_auto_label + row_count, dtype=np.int64)
    labels = np.asarray(ids)
    if labels.ndim == 0:
        labels = labels.reshape(1)
    if labels.ndim != 1 or labels.shape[0] != row_count:
        raise RuntimeError(
            f"The input label shape {labels.shape[0] if labels.ndim else 1} does not match "
            f"the input data vector shape {row_count}"
        )
    return _checked_label_array(labels)


def as_label_list(ids) -> np.ndarray:
    """Labels for get_items: a sequence is required, a bare number is refused.

    A column of labels, shape (n, 1), is read as n labels: that is the shape knn_query(k=1)
    returns, and hnswlib accepts it. Other 2-D shapes are refused (hnswlib would read the
    first n values of the flattened array).
    """
    labels = np.asarray(ids)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1:
        raise ValueError("get_items accepts a list of indices and returns a list of vectors")
    # Labels from 2**63 on fit hnswlib's uint64 but are in no compat index: "not found".
    return _checked_label_array(labels, too_large=RuntimeError(MSG_LABEL_NOT_FOUND))


def as_single_label(label) -> int:
    """One label, converted as hnswlib's size_t parameter is: an int-like in [0, 2**64).

    Labels from 2**63 on fit hnswlib but can never be in a compat index; they come back as
    the out-of-range value _LARGEST_LABEL + 1, which callers treat as unknown.
    """
    number = operator.index(label)
    if not 0 <= number < 2**64:
        raise TypeError(f"a label must be an integer in [0, 2**64), got {number}")
    return min(number, _LARGEST_LABEL + 1)


def _checked_label_array(labels: np.ndarray, too_large: Exception | None = None) -> np.ndarray:
    if labels.size == 0:
        return labels.astype(np.int64)
    if labels.dtype == object:  # Python ints numpy could not fit: convert as hnswlib does
        labels = np.asarray(labels.tolist(), dtype=np.uint64)
    if labels.dtype.kind not in "iu":
        if labels.dtype.kind == "f" and np.all(labels == np.floor(labels)):
            labels = labels.astype(np.int64)
        else:
            raise TypeError(f"labels must be integers, got dtype {labels.dtype}")
    lowest, highest = int(labels.min()), int(labels.max())
    if too_large is not None and lowest >= 0 and highest > _LARGEST_LABEL:
        raise too_large
    _check_label_range(lowest, highest)
    return labels.astype(np.int64)


def _check_label_range(lowest: int, highest: int) -> None:
    if lowest < 0:
        raise OverflowError(f"Python integer {lowest} out of bounds for uint64")
    if highest > _LARGEST_LABEL:
        raise OverflowError(
            f"label {highest} is too large: vecindex.compat.hnswlib supports labels below 2**63"
        )


def check_k(k) -> int:
    return non_negative_int(k, "k")


def hnswlib_distances(core_distances: np.ndarray, space: str) -> np.ndarray:
    """Convert core distances to hnswlib's conventions.

    The compat layer stores cosine data pre-normalised in an "ip" core index, so both
    ip and cosine come back as -dot; hnswlib reports 1 - dot for both.
    """
    distances = np.asarray(core_distances, dtype=np.float32)
    if space == "l2":
        return distances
    return (np.float32(1.0) + distances).astype(np.float32, copy=False)
