"""sq8/sq4 training takes a thread count (cpp/storage/scalar_quant_store.cpp): the trained codec
must not depend on it, and every dimension keeps its own range."""
import numpy as np
import pytest

import vecindex


@pytest.mark.parametrize("dtype", ["sq8", "sq4"])
@pytest.mark.parametrize("dim", [5, 16, 37])  # one partial block, one whole block, a partial third
def test_trained_codec_is_the_same_for_every_thread_count(dtype, dim):
    rows = np.random.default_rng(dim).normal(size=(500, dim)).astype(np.float32)
    rows[:, 0] *= 50  # dimensions with different ranges: each gets its own step
    images = []
    for threads in (1, 2, 3):
        index = vecindex.Index(dim, dtype=dtype)
        index.train(rows, threads=threads)
        index.add(rows[:50], threads=1)
        images.append(index.to_bytes())
    assert images[0] == images[1] == images[2]


def test_encoded_values_stay_within_half_a_step_of_every_dimension():
    dim = 37
    rows = np.random.default_rng(4).normal(size=(800, dim)).astype(np.float32) * np.arange(1, dim + 1)
    index = vecindex.Index(dim, dtype="sq8")
    index.train(rows, threads=2)
    index.add(rows)
    decoded = index.get(np.arange(len(rows)))
    step = (rows.max(axis=0) - rows.min(axis=0)) / 255  # min/max ranges below 100k training rows
    # Steps differ 37-fold between dimensions, so a column read into the wrong dimension fails.
    assert (np.abs(decoded - rows) <= step / 2 * 1.01).all()
