"""The exact Chamfer kernel, at every SIMD level this CPU and build support, against numpy."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from vecindex import _core

LEVELS = _core._chamfer_levels()
ALL_LEVELS = ["scalar", "neon", "avx2", "avx512"]
# Every tail of the 4-, 8- and 16-wide loops, and common token dims.
DIMS = [1, 3, 4, 7, 8, 9, 15, 16, 17, 31, 32, 33, 48, 64, 100, 128, 385]
# Query rows around the 2-row tile, document rows around the 4-row tile.
SHAPES = [(1, 1), (1, 4), (2, 3), (3, 5), (2, 8), (5, 9), (7, 13), (16, 33)]
UNIT_ROUNDOFF = 2.0**-24


@pytest.fixture(params=ALL_LEVELS)
def level(request):
    if request.param not in LEVELS:
        pytest.skip(f"{request.param} Chamfer kernel not available on this CPU/build")
    return request.param


def numpy_chamfer(query, doc):
    """Chamfer similarity as a user writes it, in float64."""
    return float((query.astype(np.float64) @ doc.astype(np.float64).T).max(axis=1).sum())


def error_bound(query, doc):
    """Worst case float32 error: each dot product's summation error (as in test_kernels.py)
    for the best document row, plus the error of summing the query rows' maxima."""
    magnitudes = np.abs(query.astype(np.float64)) @ np.abs(doc.astype(np.float64)).T
    dim = query.shape[1]
    per_row = (dim + 4) * UNIT_ROUNDOFF * 1.01 * magnitudes.max(axis=1)
    best = (query.astype(np.float64) @ doc.astype(np.float64).T).max(axis=1)
    return float(per_row.sum() + (query.shape[0] + 1) * UNIT_ROUNDOFF * np.abs(best).sum()) + 1e-30


def test_scalar_level_is_always_available():
    assert "scalar" in LEVELS
    assert _core._chamfer_active_level() in LEVELS


@pytest.mark.parametrize("dim", DIMS)
@pytest.mark.parametrize("shape", SHAPES)
def test_kernel_matches_numpy(level, dim, shape):
    query_rows, doc_rows = shape
    rng = np.random.default_rng(dim * 1000 + query_rows * 50 + doc_rows)
    query = rng.standard_normal((query_rows, dim)).astype(np.float32)
    doc = rng.standard_normal((doc_rows, dim)).astype(np.float32)
    got = _core._chamfer(level, query, doc)
    expected = numpy_chamfer(query, doc)
    assert abs(got - expected) <= error_bound(query, doc), f"{level} dim={dim} shape={shape}: {got} vs {expected}"


def test_best_row_is_found_wherever_it_sits(level):
    # One document row is far better than the rest; it must win from every position, including
    # the rows handled outside the 4-row tiles.
    rng = np.random.default_rng(5)
    query = rng.standard_normal((3, 40)).astype(np.float32)
    for position in range(11):
        doc = rng.standard_normal((11, 40)).astype(np.float32) * 0.01
        doc[position] = query.sum(axis=0)
        assert abs(_core._chamfer(level, query, doc) - numpy_chamfer(query, doc)) <= error_bound(query, doc)


def test_negative_similarities_are_not_clamped_to_zero(level):
    rng = np.random.default_rng(6)
    query = np.abs(rng.standard_normal((3, 24))).astype(np.float32)
    doc = -np.abs(rng.standard_normal((6, 24))).astype(np.float32)
    got = _core._chamfer(level, query, doc)
    assert got < 0
    assert abs(got - numpy_chamfer(query, doc)) <= error_bound(query, doc)


def test_levels_agree_with_scalar_on_normalised_tokens(level):
    # Normalised 128-d tokens, as in the multi-vector benchmark set.
    rng = np.random.default_rng(7)
    query = rng.standard_normal((32, 128)).astype(np.float32)
    query /= np.linalg.norm(query, axis=1, keepdims=True)
    doc = rng.standard_normal((70, 128)).astype(np.float32)
    doc /= np.linalg.norm(doc, axis=1, keepdims=True)
    scalar = _core._chamfer("scalar", query, doc)
    assert abs(_core._chamfer(level, query, doc) - scalar) <= 2 * error_bound(query, doc)


def test_hook_refuses_an_empty_document():
    with pytest.raises(ValueError, match="at least one row"):
        _core._chamfer("scalar", np.ones((1, 4), np.float32), np.ones((0, 4), np.float32))


PROBE = ("import json, numpy as np, vecindex; from vecindex import _core; "
         "q = np.arange(12, dtype=np.float32).reshape(3, 4); d = q[::-1].copy(); "
         "print(json.dumps([_core._chamfer_active_level(), vecindex.simd_info()['level'], "
         "float(_core._chamfer(_core._chamfer_active_level(), q, d))]))")


@pytest.mark.parametrize("forced_level", LEVELS)
def test_forced_level_picks_that_kernel(forced_level):
    env = dict(os.environ, VECINDEX_SIMD=forced_level)
    result = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    chamfer_level, f32_level, value = json.loads(result.stdout)
    assert chamfer_level == forced_level == f32_level
    query = np.arange(12, dtype=np.float32).reshape(3, 4)
    assert value == pytest.approx(numpy_chamfer(query, query[::-1]), rel=1e-6)


@pytest.mark.parametrize("offset", [0, 1, 3])
def test_f16_decode_is_exact_for_every_bit_pattern(level, offset):
    # f16 tokens are widened by this kernel before every rerank; offsets exercise the tails.
    bits = np.arange(1 << 16, dtype=np.uint16)[offset:]
    got = _core._chamfer_decode_f16(level, bits)
    expected = bits.view(np.float16).astype(np.float32)
    nan = np.isnan(expected)
    assert np.array_equal(np.isnan(got), nan)
    assert np.array_equal(got[~nan].view(np.uint32), expected[~nan].view(np.uint32))
