"""Every compiled SIMD kernel against a float64 numpy reference, and the VECINDEX_SIMD override.

The kernels are reached through test hooks in the extension (`_kernel_distance`,
`_kernel_distance_x4`) that take an explicit level, so each ISA this CPU supports is checked
on the same machine, whichever level import-time dispatch picked.
"""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import vecindex
from vecindex import _core

AVAILABLE_LEVELS = vecindex.simd_info()["available"]
ALL_LEVELS = ["scalar", "neon", "avx2", "avx512"]
KERNELS = ["l2sq", "dot"]
# Every tail length of the 4-, 8- and 16-wide kernels, plus common and odd large dims.
DIMS = list(range(1, 71)) + [128, 384, 1000, 1001, 1023]
UNIT_ROUNDOFF = 2.0**-24
# Lets a row start at any float offset inside a buffer, so loads are mostly unaligned.
MAX_OFFSET = 7

over_levels = pytest.mark.parametrize("level", AVAILABLE_LEVELS)


def reference_terms(kernel, a, b):
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    return (a64 - b64) ** 2 if kernel == "l2sq" else a64 * b64


def error_bound(terms):
    """Worst-case float32 error of any summation order: (n + small) * u * sum|term|.

    Each term costs at most ~3 roundings (subtract, multiply, add) and each of the n - 1
    additions at most one more; the tiny absolute part covers products that underflow.
    """
    dim = terms.size
    return (dim + 4) * UNIT_ROUNDOFF * 1.01 * float(np.abs(terms).sum()) + dim * 1e-37


def place(values, offset):
    """Copy values into a fresh buffer at a float offset; the slice is contiguous but
    (for offset % 8 != 0) not 32-byte aligned. Elements past the end are NaN, so a kernel
    that reads beyond dim returns NaN."""
    buffer = np.full(values.size + offset + 16, np.nan, dtype=np.float32)
    buffer[offset : offset + values.size] = values
    return buffer[offset : offset + values.size]


def assert_close(level, kernel, got, terms):
    expected = float(terms.sum())
    assert abs(float(got) - expected) <= error_bound(terms), (
        f"{level}/{kernel} dim={terms.size}: got {got!r}, float64 reference {expected!r}"
    )


@over_levels
@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("dim", DIMS)
def test_pair_kernel_matches_float64_reference(level, kernel, dim):
    rng = np.random.default_rng(dim)
    a = place(rng.standard_normal(dim).astype(np.float32), offset=dim % (MAX_OFFSET + 1))
    b = place(rng.standard_normal(dim).astype(np.float32), offset=(dim + 3) % (MAX_OFFSET + 1))
    got = _core._kernel_distance(level, kernel, a, b)
    assert_close(level, kernel, got, reference_terms(kernel, a, b))


@over_levels
@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("dim", DIMS)
def test_x4_kernel_matches_float64_reference(level, kernel, dim):
    rng = np.random.default_rng(10_000 + dim)
    query = place(rng.standard_normal(dim).astype(np.float32), offset=1)
    vectors = [place(rng.standard_normal(dim).astype(np.float32), offset=j + 2) for j in range(4)]
    got = _core._kernel_distance_x4(level, kernel, query, vectors)
    assert got.shape == (4,) and got.dtype == np.float32
    for j, vector in enumerate(vectors):
        assert_close(level, kernel, got[j], reference_terms(kernel, query, vector))


# Element-wise generation is slow for long vectors, so past ELEMENTWISE_MAX_DIM hypothesis
# draws a seed and a value distribution and numpy fills the vector.
ELEMENTWISE_MAX_DIM = 40
finite_float32 = st.floats(-1e3, 1e3, width=32, allow_subnormal=False)
small_integer_float32 = st.integers(-16, 16).map(float)


def seeded_values(kind, seed, dim):
    rng = np.random.default_rng(seed)
    if kind == "integers":
        return rng.integers(-16, 17, dim).astype(np.float32)
    scale = 10.0 ** rng.uniform(-3, 3)
    values = (rng.standard_normal(dim) * scale).astype(np.float32)
    values[rng.random(dim) < 0.2] = 0.0  # runs of zeros and sign changes, as real data has
    return values


@st.composite
def vector_sets(draw, kind, count):
    """`count` float32 vectors of one dim from DIMS, each at its own buffer offset.
    kind is "floats" (finite, any magnitude up to 1e3) or "integers" (small integer values)."""
    dim = draw(st.sampled_from(DIMS))
    elements = finite_float32 if kind == "floats" else small_integer_float32
    vectors = []
    for _ in range(count):
        if dim <= ELEMENTWISE_MAX_DIM:
            values = draw(hnp.arrays(np.float32, dim, elements=elements))
        else:
            values = seeded_values(kind, draw(st.integers(0, 2**32 - 1)), dim)
        vectors.append(place(values, draw(st.integers(0, MAX_OFFSET))))
    return vectors


@over_levels
@pytest.mark.parametrize("kernel", KERNELS)
@settings(max_examples=100, deadline=None, derandomize=True)
@given(vectors=vector_sets("floats", count=2))
def test_pair_kernel_on_generated_data(level, kernel, vectors):
    a, b = vectors
    assert_close(level, kernel, _core._kernel_distance(level, kernel, a, b), reference_terms(kernel, a, b))


@over_levels
@pytest.mark.parametrize("kernel", KERNELS)
@settings(max_examples=100, deadline=None, derandomize=True)
@given(vectors=vector_sets("floats", count=5))
def test_x4_kernel_on_generated_data(level, kernel, vectors):
    query, rows = vectors[0], vectors[1:]
    got = _core._kernel_distance_x4(level, kernel, query, rows)
    for j, row in enumerate(rows):
        assert_close(level, kernel, got[j], reference_terms(kernel, query, row))


@over_levels
@pytest.mark.parametrize("kernel", KERNELS)
@settings(max_examples=100, deadline=None, derandomize=True)
@given(vectors=vector_sets("integers", count=5))
def test_kernels_are_exact_on_small_integers(level, kernel, vectors):
    # Every partial sum is an integer below 2**24, so any summation order is exact: this
    # catches a dropped or doubled element that a tolerance could hide.
    query, rows = vectors[0], vectors[1:]
    expected = [float(reference_terms(kernel, query, row).sum()) for row in rows]
    assert [_core._kernel_distance(level, kernel, query, row) for row in rows] == expected
    assert _core._kernel_distance_x4(level, kernel, query, rows).tolist() == expected


@over_levels
@pytest.mark.parametrize("dim", range(1, 71))
def test_every_position_counts_including_tails(level, dim):
    zeros = place(np.zeros(dim, dtype=np.float32), offset=3)
    for position in range(dim):
        unit = np.zeros(dim, dtype=np.float32)
        unit[position] = 3.0
        unit = place(unit, offset=position % (MAX_OFFSET + 1))
        assert _core._kernel_distance(level, "l2sq", unit, zeros) == 9.0, position
        assert _core._kernel_distance(level, "dot", unit, unit) == 9.0, position
        rows = [zeros, unit, zeros, unit]
        assert _core._kernel_distance_x4(level, "l2sq", unit, rows).tolist() == [9.0, 0.0, 9.0, 0.0]
        assert _core._kernel_distance_x4(level, "dot", unit, rows).tolist() == [0.0, 9.0, 0.0, 9.0]


@over_levels
@pytest.mark.parametrize("kernel", KERNELS)
def test_zero_dim_is_zero(level, kernel):
    empty = np.zeros(0, dtype=np.float32)
    assert _core._kernel_distance(level, kernel, empty, empty) == 0.0
    assert _core._kernel_distance_x4(level, kernel, empty, [empty] * 4).tolist() == [0.0] * 4


@over_levels
def test_hooks_reject_bad_arguments(level):
    a = np.ones(5, dtype=np.float32)
    with pytest.raises(ValueError, match="unknown kernel"):
        _core._kernel_distance(level, "cosine", a, a)
    with pytest.raises(ValueError, match="elements"):
        _core._kernel_distance(level, "l2sq", a, np.ones(6, dtype=np.float32))
    with pytest.raises(ValueError, match="4 vectors"):
        _core._kernel_distance_x4(level, "l2sq", a, [a, a, a])
    with pytest.raises(ValueError, match="vector 2"):
        _core._kernel_distance_x4(level, "l2sq", a, [a, a, a[:4], a])


# ---- level selection at import ----


def simd_info_in_subprocess(forced_level):
    env = dict(os.environ)
    env.pop("VECINDEX_SIMD", None)
    if forced_level is not None:
        env["VECINDEX_SIMD"] = forced_level
    script = "import json, vecindex; print(json.dumps(vecindex.simd_info()))"
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"VECINDEX_SIMD={forced_level!r} crashed:\n{result.stderr}"
    return json.loads(result.stdout)


def test_unforced_import_picks_the_best_available_level():
    info = simd_info_in_subprocess(None)
    assert info["available"] == AVAILABLE_LEVELS
    assert info["level"] == AVAILABLE_LEVELS[-1]


@pytest.mark.parametrize("forced", AVAILABLE_LEVELS)
def test_forced_level_is_used(forced):
    assert simd_info_in_subprocess(forced)["level"] == forced


@pytest.mark.parametrize("forced", [name for name in ALL_LEVELS if name not in AVAILABLE_LEVELS] + ["sse9", ""])
def test_unavailable_or_unknown_forced_level_falls_back(forced):
    assert simd_info_in_subprocess(forced)["level"] == AVAILABLE_LEVELS[-1]


@pytest.mark.parametrize("unavailable", [name for name in ALL_LEVELS if name not in AVAILABLE_LEVELS] + ["sse9"])
def test_hook_rejects_unavailable_level(unavailable):
    a = np.ones(4, dtype=np.float32)
    with pytest.raises(ValueError, match=unavailable):
        _core._kernel_distance(unavailable, "l2sq", a, a)
