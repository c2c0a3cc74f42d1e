"""Every codec kernel, at every SIMD level this CPU and build support, against numpy."""
import numpy as np
import pytest

import vecindex
from vecindex import _codec_testing

LEVELS = _codec_testing._codec_levels()
ALL_LEVELS = ["scalar", "avx2", "avx512", "neon"]
# Lengths around every vector width and tail case (8, 16, 32 lanes; 64-bit words).
DIMS = [1, 3, 7, 8, 15, 16, 17, 31, 32, 33, 64, 100, 384, 385]


def rel_close(actual, expected, tol=1e-5):
    return abs(actual - expected) <= tol * max(1.0, abs(expected))


@pytest.fixture(params=ALL_LEVELS)
def level(request):
    if request.param not in LEVELS:
        pytest.skip(f"{request.param} codec kernels not available on this CPU/build")
    return request.param


def test_scalar_level_is_always_available():
    assert "scalar" in LEVELS
    assert _codec_testing._codec_active_level() in LEVELS


def test_active_codec_level_is_the_one_simd_info_reports():
    # Which level each family picks, and its overrides, are tested in test_simd_families.py.
    assert _codec_testing._codec_active_level() == vecindex.simd_info()["families"]["codec"]


def test_f16_encoding_matches_numpy():
    rng = np.random.default_rng(1)
    values = np.concatenate([
        rng.standard_normal(5000).astype(np.float32) * 10,
        rng.standard_normal(2000).astype(np.float32) * 1e-5,  # subnormal halves
        np.array([0.0, -0.0, 65504.0, -65504.0, 6.1e-5, 5.96e-8, 2.98e-8, 1e-9], np.float32),
    ])
    ours = _codec_testing._f32_to_f16_bits(values)
    assert np.array_equal(ours, values.astype(np.float16).view(np.uint16))


def test_f16_decoding_matches_numpy_for_every_bit_pattern():
    bits = np.arange(1 << 16, dtype=np.uint16)
    ours = _codec_testing._f16_bits_to_f32(bits)
    expected = bits.view(np.float16).astype(np.float32)
    nan = np.isnan(expected)
    assert np.array_equal(np.isnan(ours), nan)
    # Bit-exact, so the sign of zero and every subnormal and infinity are checked too.
    assert np.array_equal(ours[~nan].view(np.uint32), expected[~nan].view(np.uint32))


def numpy_bf16_bits(values):
    bits = values.view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    return rounded.astype(np.uint16)


def bf16_to_f32(bits):
    return (bits.astype(np.uint32) << 16).view(np.float32)


def test_bf16_encoding_rounds_to_nearest_even():
    rng = np.random.default_rng(2)
    values = rng.standard_normal(5000).astype(np.float32) * 100
    ours = _codec_testing._f32_to_bf16_bits(values)
    assert np.array_equal(ours, numpy_bf16_bits(values))
    assert np.all(np.abs(bf16_to_f32(ours) - values) <= np.abs(values) * 2.0**-8)


@pytest.mark.parametrize("dim", DIMS)
@pytest.mark.parametrize("kind", ["f16", "bf16"])
def test_half_kernels(level, dim, kind):
    rng = np.random.default_rng(dim)
    query = rng.standard_normal(dim).astype(np.float32)
    vector = rng.standard_normal(dim).astype(np.float32)
    if kind == "f16":
        codes = vector.astype(np.float16).view(np.uint16)
        widened = vector.astype(np.float16).astype(np.float64)
    else:
        codes = numpy_bf16_bits(vector)
        widened = bf16_to_f32(codes).astype(np.float64)
    q = query.astype(np.float64)
    dot = _codec_testing._codec_half_kernel(level, f"{kind}_dot", query, codes)
    l2 = _codec_testing._codec_half_kernel(level, f"{kind}_l2sq", query, codes)
    assert rel_close(dot, float(q @ widened), 1e-5 * dim)
    assert rel_close(l2, float(((q - widened) ** 2).sum()), 1e-5)


@pytest.mark.parametrize("dim", DIMS)
def test_weighted_bytes(level, dim):
    rng = np.random.default_rng(dim + 100)
    weights = rng.standard_normal(dim).astype(np.float32)
    codes = rng.integers(0, 256, dim, dtype=np.uint8)
    expected = float(weights.astype(np.float64) @ codes.astype(np.float64))
    got = _codec_testing._codec_weighted_bytes(level, weights, codes)
    scale = float(np.abs(weights).astype(np.float64) @ codes)
    assert abs(got - expected) <= 1e-5 * max(1.0, scale)


@pytest.mark.parametrize("dim", DIMS + [2560])
def test_sq8_pair_kernels(level, dim):
    rng = np.random.default_rng(dim + 700)
    low = rng.standard_normal(dim).astype(np.float32)
    step = (rng.random(dim) * 0.02).astype(np.float32)
    a = rng.integers(0, 256, dim, dtype=np.uint8)
    b = rng.integers(0, 256, dim, dtype=np.uint8)
    a[0], b[0] = 255, 0  # the widest difference a dimension can hold
    x = low.astype(np.float64) + step.astype(np.float64) * a
    y = low.astype(np.float64) + step.astype(np.float64) * b
    dot = _codec_testing._codec_sq8_pair(level, "dot", low, step, a, b)
    l2 = _codec_testing._codec_sq8_pair(level, "l2sq", low, step, a, b)
    assert abs(dot - float(x @ y)) <= 1e-5 * max(1.0, float(np.abs(x) @ np.abs(y)))
    assert rel_close(l2, float(((x - y) ** 2).sum()), 1e-5)
    assert _codec_testing._codec_sq8_pair(level, "l2sq", low, step, a, a) == 0.0


@pytest.mark.parametrize("subspaces", [1, 4, 7, 8, 15, 16, 17, 48, 96])
def test_table_lookup(level, subspaces):
    rng = np.random.default_rng(subspaces)
    table = rng.random((subspaces, 256), dtype=np.float32)
    codes = rng.integers(0, 256, subspaces, dtype=np.uint8)
    # The highest code must reach the last column (gather offsets are per row).
    codes[-1] = 255
    expected = float(table[np.arange(subspaces), codes].astype(np.float64).sum())
    assert rel_close(_codec_testing._codec_table_lookup(level, table.ravel(), codes), expected, 1e-5)


def numpy_popcount(words):
    return int(np.unpackbits(words.view(np.uint8)).sum())


@pytest.mark.parametrize("words", [1, 2, 5, 6, 7, 8, 9, 16, 17])
def test_popcount_kernels(level, words):
    rng = np.random.default_rng(words)
    a = rng.integers(0, 2**63, words, dtype=np.uint64) | np.uint64(1 << 63)
    b = rng.integers(0, 2**63, words, dtype=np.uint64)
    assert _codec_testing._codec_popcount(level, "popcount", a, a) == numpy_popcount(a)
    assert _codec_testing._codec_popcount(level, "and", a, b) == numpy_popcount(a & b)
    assert _codec_testing._codec_popcount(level, "xor", a, b) == numpy_popcount(a ^ b)


@pytest.mark.parametrize("words", [1, 6, 8, 9])
@pytest.mark.parametrize("plane_count", [1, 4, 8])
def test_bitplane_dot(level, words, plane_count):
    rng = np.random.default_rng(words * 10 + plane_count)
    bits = rng.integers(0, 2, words * 64).astype(np.uint8)
    levels = rng.integers(0, 2**plane_count, words * 64)
    code = np.packbits(bits, bitorder="little").view(np.uint64)
    planes = np.concatenate([
        np.packbits(((levels >> p) & 1).astype(np.uint8), bitorder="little").view(np.uint64)
        for p in range(plane_count)
    ])
    expected = int((bits.astype(np.int64) * levels).sum())
    assert _codec_testing._codec_bitplane_dot(level, code, planes, plane_count) == expected


def test_unavailable_level_is_a_value_error():
    missing = [name for name in ALL_LEVELS if name not in LEVELS]
    if not missing:
        pytest.skip("every level is available here")
    with pytest.raises(ValueError):
        _codec_testing._codec_weighted_bytes(missing[0], np.zeros(4, np.float32), np.zeros(4, np.uint8))


@pytest.mark.parametrize("count", [1, 7, 8, 9, 16, 17, 100, 256])
@pytest.mark.parametrize("dim", [1, 2, 4, 8, 12])
def test_nearest_centroid(level, count, dim):
    rng = np.random.default_rng(count * 100 + dim)
    centroids = rng.standard_normal((count, dim)).astype(np.float32)
    for point in rng.standard_normal((5, dim)).astype(np.float32):
        got = _codec_testing._codec_nearest_centroid(level, point, centroids)
        distances = ((centroids.astype(np.float64) - point) ** 2).sum(1)
        # Ties within rounding may pick either centroid; the distance must be the minimum.
        assert distances[got] <= distances.min() + 1e-5 * max(1.0, distances.min())


@pytest.mark.parametrize("dim", DIMS + [1000])
def test_weighted_bytes_i16_is_exact(level, dim):
    rng = np.random.default_rng(dim + 200)
    limit = min(32767, (2**31 - 1) // (255 * dim))  # the caller's overflow rule
    weights = rng.integers(-limit, limit + 1, dim).astype(np.int16)
    weights[0] = -limit
    codes = rng.integers(0, 256, dim, dtype=np.uint8)
    codes[0] = 255
    expected = int(weights.astype(np.int64) @ codes.astype(np.int64))
    assert _codec_testing._codec_weighted_bytes_i16(level, weights, codes) == expected


NIBBLE_BLOCKS = [1, 2, 3, 12, 13, 40]


def nibble_weights(rng, blocks):
    """Random int16 weights within the caller's overflow rule for `blocks` 32-dimension blocks,
    and that bound."""
    limit = min(32767, (2**31 - 1) // (15 * 32 * blocks))
    return rng.integers(-limit, limit + 1, 32 * blocks).astype(np.int16), limit


def nibble_dot(weights, codes):
    """Exact reference: byte t of block b holds dimension 32b + t in its low nibble and
    32b + 16 + t in its high one."""
    blocks_view = codes.reshape(-1, 16).astype(np.int64)
    values = np.concatenate([blocks_view & 0x0F, blocks_view >> 4], axis=1).reshape(-1)
    return int(weights.astype(np.int64) @ values)


@pytest.mark.parametrize("blocks", NIBBLE_BLOCKS)
def test_weighted_nibbles_i16_is_exact(level, blocks):
    rng = np.random.default_rng(blocks + 400)
    weights, limit = nibble_weights(rng, blocks)
    weights[:16] = limit  # the low-nibble half of block 0 at the overflow rule's bound
    codes = rng.integers(0, 256, 16 * blocks, dtype=np.uint8)
    codes[:8] = 0xFF
    assert _codec_testing._codec_weighted_nibbles_i16(level, weights, codes) == nibble_dot(weights, codes)


@pytest.mark.parametrize("blocks", NIBBLE_BLOCKS)
def test_weighted_nibbles_i16_x4_is_exact_per_row(level, blocks):
    rng = np.random.default_rng(blocks + 500)
    weights, limit = nibble_weights(rng, blocks)
    weights[: 16 * blocks] = limit
    rows = rng.integers(0, 256, (4, 16 * blocks), dtype=np.uint8)
    rows[2] = 0xFF  # every nibble 15: the extreme row
    expected = [nibble_dot(weights, row) for row in rows]
    assert len(set(expected)) == 4  # distinct rows, so a swapped output would show
    assert list(_codec_testing._codec_weighted_nibbles_i16_x4(level, weights, rows.reshape(-1))) == expected


@pytest.mark.parametrize("dim", DIMS + [1000])
def test_weighted_bytes_i16_x4_matches_one_row_sums(level, dim):
    rng = np.random.default_rng(dim + 300)
    limit = min(32767, (2**31 - 1) // (255 * dim))
    weights = rng.integers(-limit, limit + 1, dim).astype(np.int16)
    rows = rng.integers(0, 256, (4, dim), dtype=np.uint8)
    rows[1] = 255  # the extreme row: every product at the overflow rule's bound
    weights[: dim // 2] = -limit
    expected = [int(weights.astype(np.int64) @ row.astype(np.int64)) for row in rows]
    assert list(_codec_testing._codec_weighted_bytes_i16_x4(level, weights, rows.reshape(-1))) == expected
