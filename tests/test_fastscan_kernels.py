"""The FastScan kernel (32 codes scored from 16-entry tables), at every SIMD level, against numpy.

Layout (cpp/simd/codec_kernel_table.h): block g of `packed` is 16 bytes, byte t holding code t's
4-bit sub-code for group g in its low nibble and code t + 16's in its high nibble; table g is
16 bytes; out[j] sums table g at code j's sub-code over all groups, in uint16, with callers
keeping groups * max(entry) <= 65535.
"""
import numpy as np
import pytest

from vecindex import _codec_testing

LEVELS = _codec_testing._codec_levels()
ALL_LEVELS = ["scalar", "avx2", "avx512", "neon"]
# One group, each step width's multiples and tails (2 groups per AVX2 step, 4 per AVX-512 step),
# 384-d 1-bit codes (96 groups) and the largest count whose sums of 255s fit in uint16.
GROUPS = [1, 2, 3, 4, 7, 8, 16, 17, 96, 97, 256]


@pytest.fixture(params=ALL_LEVELS)
def level(request):
    if request.param not in LEVELS:
        pytest.skip(f"{request.param} codec kernels not available on this CPU/build")
    return request.param


def reference(packed, tables):
    """out[j] = sum over g of tables[g, nibble(j, g)], exactly, in int64."""
    blocks = packed.reshape(-1, 16)
    nibbles = np.concatenate([blocks & 0x0F, blocks >> 4], axis=1)  # (groups, 32): code j's sub-code
    entries = tables.reshape(-1, 16).astype(np.int64)
    return entries[np.arange(len(blocks))[:, None], nibbles].sum(axis=0)


def largest_entry(groups):
    """The callers' bound: groups * max(entry) <= 65535."""
    return min(255, 65535 // groups)


def random_inputs(rng, groups):
    packed = rng.integers(0, 256, 16 * groups, dtype=np.uint8)
    tables = rng.integers(0, largest_entry(groups) + 1, 16 * groups, dtype=np.uint8)
    return packed, tables


def test_scalar_level_is_available():
    assert "scalar" in LEVELS


@pytest.mark.parametrize("groups", GROUPS)
def test_fastscan32_matches_numpy(level, groups):
    rng = np.random.default_rng(groups + 900)
    for _ in range(4):
        packed, tables = random_inputs(rng, groups)
        got = _codec_testing._fastscan32(level, packed, tables)
        assert got.dtype == np.uint16 and got.shape == (32,)
        assert np.array_equal(got.astype(np.int64), reference(packed, tables))


@pytest.mark.parametrize("groups", GROUPS)
def test_fastscan32_at_the_largest_entries(level, groups):
    # Every entry at the bound, so every sum is the largest the callers allow (65280 for 256
    # groups of 255): no carry between the 16-bit sums may be lost or leak into a neighbour.
    rng = np.random.default_rng(groups + 1000)
    packed = rng.integers(0, 256, 16 * groups, dtype=np.uint8)
    tables = np.full(16 * groups, largest_entry(groups), np.uint8)
    expected = reference(packed, tables)
    assert np.all(expected == groups * largest_entry(groups))
    assert np.array_equal(_codec_testing._fastscan32(level, packed, tables).astype(np.int64), expected)


@pytest.mark.parametrize("groups", GROUPS)
def test_fastscan32_keeps_each_code_in_its_place(level, groups):
    # One table entry at the bound and the rest zero per group, and code j picks it in the first
    # (j + 1) * groups / 32 groups: with 32 groups or more every output differs, so a swapped or
    # shifted code shows.
    top = largest_entry(groups)
    tables = np.zeros((groups, 16), np.uint8)
    tables[:, 15] = top
    nibbles = np.zeros((groups, 32), np.uint8)
    for j in range(32):
        nibbles[: ((j + 1) * groups) // 32, j] = 15
    packed = (nibbles[:, :16] | (nibbles[:, 16:] << 4)).astype(np.uint8).reshape(-1)
    expected = reference(packed, tables.reshape(-1))
    if groups >= 32:
        assert len(set(expected.tolist())) == 32
    got = _codec_testing._fastscan32(level, packed, tables.reshape(-1))
    assert np.array_equal(got.astype(np.int64), expected)


@pytest.mark.parametrize("groups", [1, 3, 96])
def test_fastscan32_rows_scores_each_row(level, groups):
    rng = np.random.default_rng(groups + 1100)
    tables = rng.integers(0, largest_entry(groups) + 1, 16 * groups, dtype=np.uint8)
    rows = rng.integers(0, 256, (5, 16 * groups), dtype=np.uint8)
    got = _codec_testing._fastscan32_rows(level, rows, tables)
    assert got.shape == (5, 32)
    for row, scores in zip(rows, got):
        assert np.array_equal(scores.astype(np.int64), reference(row, tables))


def test_every_level_agrees_with_scalar():
    rng = np.random.default_rng(1200)
    for groups in GROUPS:
        packed, tables = random_inputs(rng, groups)
        want = _codec_testing._fastscan32("scalar", packed, tables)
        for name in LEVELS:
            assert np.array_equal(_codec_testing._fastscan32(name, packed, tables), want), (name, groups)


@pytest.mark.parametrize("packed_len, tables_len", [(15, 15), (17, 17), (16, 32), (32, 16), (16, 0), (1, 16)])
def test_fastscan32_wrong_lengths_are_value_errors(packed_len, tables_len):
    with pytest.raises(ValueError, match="16 packed code bytes"):
        _codec_testing._fastscan32("scalar", np.zeros(packed_len, np.uint8), np.zeros(tables_len, np.uint8))


@pytest.mark.parametrize("rows_shape, tables_len", [((2, 16), 32), ((2, 15), 15), ((32,), 32), ((2, 2, 16), 32)])
def test_fastscan32_rows_wrong_shapes_are_value_errors(rows_shape, tables_len):
    with pytest.raises(ValueError, match="rows must have shape"):
        _codec_testing._fastscan32_rows("scalar", np.zeros(rows_shape, np.uint8), np.zeros(tables_len, np.uint8))


def test_fastscan32_unknown_level_is_a_value_error():
    with pytest.raises(ValueError):
        _codec_testing._fastscan32("sse9", np.zeros(16, np.uint8), np.zeros(16, np.uint8))


def test_fastscan32_unavailable_level_is_a_value_error():
    missing = [name for name in ALL_LEVELS if name not in LEVELS]
    if not missing:
        pytest.skip("every level is available here")
    with pytest.raises(ValueError, match="not available"):
        _codec_testing._fastscan32(missing[0], np.zeros(16, np.uint8), np.zeros(16, np.uint8))
