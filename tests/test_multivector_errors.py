"""Bad multi-vector input is a ValueError that names the document, and changes nothing."""
import numpy as np
import pytest

import vecindex

DIM = 8


def make_index():
    index = vecindex.MultiVectorIndex(DIM, "f32", "f16", k_sim=2, d_proj=4, r_reps=2)
    index.add([np.ones((2, DIM), np.float32)])
    return index


def good(n=3, seed=0):
    return np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)


@pytest.mark.parametrize("bad, message", [
    (np.empty((0, DIM), np.float32), "document 1 has no tokens"),
    ([], "document 1 has no tokens"),
    (np.ones((3, DIM + 1), np.float32), "document 1 has 9 columns; this index has dim=8"),
    (np.ones(DIM, np.float32), r"document 1 must be a 2-D array \(tokens, dim\), got shape \(8,\)"),
    (np.full((2, DIM), np.nan, np.float32), "document 1 has a NaN or infinite value"),
    (np.full((2, DIM), np.inf, np.float32), "document 1 has a NaN or infinite value"),
    (np.full((2, DIM), 1e6, np.float32), "document 1 has a value beyond the f16 range"),
    ([[1.0] * DIM, [1.0] * (DIM - 2)], "document 1 cannot be read as a 2-D array"),
    ([["a"] * DIM], "document 1 cannot be read as a 2-D array"),
])
def test_bad_document_names_its_index_and_adds_nothing(bad, message):
    index = make_index()
    with pytest.raises(ValueError, match=message):
        index.add([good(), bad, good(seed=1)])
    assert len(index) == 1 and index.memory_usage()["tokens"] == make_index().memory_usage()["tokens"]


def test_bad_query_names_its_index():
    index = make_index()
    with pytest.raises(ValueError, match="query 2 has no tokens"):
        index.search([good(), good(), np.empty((0, DIM), np.float32)])
    with pytest.raises(ValueError, match="query 0 has a NaN"):
        index.search(np.full((2, DIM), np.nan, np.float32))


def test_packed_offsets_are_checked():
    index = make_index()
    tokens = good(6)
    with pytest.raises(ValueError, match="document 1 has no tokens"):
        index.add((tokens, np.array([0, 3, 3, 6])))
    with pytest.raises(ValueError, match="last offset"):
        index.add((tokens, np.array([0, 3, 5])))
    with pytest.raises(ValueError, match="must not decrease"):
        index.add((tokens, np.array([0, 4, 3, 6])))
    assert len(index) == 1


def test_a_single_2d_array_is_not_taken_for_a_list_of_documents():
    with pytest.raises(ValueError, match="wrap a single"):
        make_index().add(good())


def test_bad_configuration_is_a_value_error():
    with pytest.raises(ValueError, match="token_dtype"):
        vecindex.MultiVectorIndex(DIM, "f32", "f8")
    with pytest.raises(ValueError, match="d_proj"):
        vecindex.MultiVectorIndex(DIM, "f32", "f32", d_proj=DIM + 1)
    with pytest.raises(ValueError, match="at most 65536"):
        vecindex.MultiVectorIndex(128, "f32", "f32", k_sim=8, d_proj=64, r_reps=10)
    with pytest.raises(ValueError, match="dtype"):
        vecindex.MultiVectorIndex(DIM, "f99", "f32")


def test_first_sq8_add_needs_enough_documents_to_train():
    index = vecindex.MultiVectorIndex(DIM, "sq8", "f32", k_sim=2, d_proj=4, r_reps=2)
    with pytest.raises(ValueError, match="first add"):
        index.add([good(seed=i) for i in range(3)])
    assert len(index) == 0 and index.memory_usage()["tokens"] == 0
    index.add([good(seed=i) for i in range(40)])
    assert len(index) == 40
