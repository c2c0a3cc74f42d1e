"""Each compressed codec against numpy: encode/decode error, distance estimates, blobs."""
import struct

import numpy as np
import pytest

import vecindex
from vecindex import _codec_testing

METRICS = ["l2", "ip", "cosine"]
TRAINED = ["sq8", "sq4", "pq", "rabitq"]
DIM = 64


def make_data(count=2000, dim=DIM, seed=0, normalise=False):
    """Clustered data: a few Gaussian blobs, like real embeddings are."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((8, dim)) * 2
    data = centres[rng.integers(0, 8, count)] + rng.standard_normal((count, dim))
    data = data.astype(np.float32)
    if normalise:
        data /= np.linalg.norm(data, axis=1, keepdims=True)
    return data


def exact_distances(data, query, metric):
    data = data.astype(np.float64)
    query = query.astype(np.float64)
    if metric == "l2":
        return ((data - query) ** 2).sum(1)
    dot = data @ query
    return 1 - dot if metric == "cosine" else -dot


def build(dtype, metric="l2", data=None, **options):
    if data is None:
        data = make_data(normalise=metric == "cosine")
    store = _codec_testing._CodecStore(dtype, data.shape[1], metric, **options)
    if dtype in TRAINED:
        store.train(data)
    store.add(data)
    return store, data


def queries_for(metric, count=5, seed=99):
    return make_data(count, seed=seed, normalise=metric == "cosine")


# --- encode / decode -------------------------------------------------------------------------

def test_f16_decode_is_numpy_float16():
    store, data = build("f16")
    assert np.array_equal(store.decode(), data.astype(np.float16).astype(np.float32))
    assert store.bytes_per_vector == 2 * DIM


def test_bf16_decode_keeps_eight_significant_bits():
    store, data = build("bf16")
    decoded = store.decode()
    assert np.all(np.abs(decoded - data) <= np.abs(data) * 2.0**-8)
    assert store.bytes_per_vector == 2 * DIM


def test_f16_rejects_values_outside_its_range():
    store = _codec_testing._CodecStore("f16", 4, "l2")
    with pytest.raises(ValueError, match="f16 range"):
        store.add(np.array([[1e6, 0, 0, 0]], np.float32))


@pytest.mark.parametrize("dtype,levels,row_bytes", [("sq8", 255, DIM), ("sq4", 15, DIM // 2)])
def test_scalar_error_is_at_most_half_a_step_inside_the_trained_range(dtype, levels, row_bytes):
    store, data = build(dtype)
    decoded = store.decode()
    # The store's range rule: the values at rank round(1e-5 * (n - 1)) from either end.
    ordered = np.sort(data, axis=0)
    rank = int(1e-5 * (len(data) - 1) + 0.5)
    low, high = ordered[rank], ordered[len(data) - 1 - rank]
    step = (high - low) / levels
    inside = (data >= low) & (data <= high)
    error = np.abs(decoded - data)
    assert np.all(error[inside] <= (np.broadcast_to(step, data.shape)[inside] * 0.5 + 1e-5))
    assert store.bytes_per_vector == row_bytes + 4


@pytest.mark.parametrize("dim", [1, 31, 32, 33, 70])
def test_sq4_packs_odd_dimensions_in_whole_blocks(dim):
    """Dimensions that do not fill a 32-dimension block decode and score like the others."""
    data = make_data(500, dim=dim, seed=dim)
    store, _ = build("sq4", data=data)
    assert store.bytes_per_vector == (dim + 31) // 32 * 16 + 4
    decoded = store.decode()
    step = (data.max(0) - data.min(0)) / 15
    assert np.all(np.abs(decoded - data) <= step * 0.5 + 1e-5)
    query = data[0]
    expected = exact_distances(decoded, query, "l2")
    assert np.allclose(store.distances(query), expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


@pytest.mark.parametrize("dtype", ["sq8", "sq4"])
def test_scalar_codes_clamp_outliers_to_the_range(dtype):
    store, data = build(dtype)
    outlier = data[:1] * 0 + 1e3
    store.add(outlier)
    decoded = store.decode()[-1]
    assert np.all(decoded <= data.max(axis=0) + 1e-3)


def test_pq_decode_is_the_nearest_centroid_and_beats_the_mean():
    store, data = build("pq", pq_m=16)
    decoded = store.decode()
    distortion = ((decoded - data) ** 2).sum(1).mean()
    spread = ((data - data.mean(0)) ** 2).sum(1).mean()
    # 8 bits for 4 dimensions: k-means should remove most of the variance.
    assert distortion < 0.2 * spread
    assert store.bytes_per_vector == 16


def test_rabitq_decode_points_the_right_way():
    store, data = build("rabitq")
    decoded = store.decode()
    centre = data.mean(0)
    cosine = ((decoded - centre) * (data - centre)).sum(1) / (
        np.linalg.norm(decoded - centre, axis=1) * np.linalg.norm(data - centre, axis=1))
    # A 1-bit code of a rotated residual keeps about sqrt(2/pi) ~ 0.8 of its direction.
    assert cosine.mean() > 0.7
    assert store.bytes_per_vector == DIM // 8 + 16


# --- distances ---------------------------------------------------------------------------------

@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("dtype", ["f16", "bf16", "sq8", "sq4", "pq"])
def test_distance_equals_exact_distance_to_the_decoded_vector(dtype, metric):
    """f16/bf16/sq8/pq distances are exact for the reconstruction the code stands for."""
    store, _ = build(dtype, metric, **({"pq_m": 16} if dtype == "pq" else {}))
    decoded = store.decode()
    for query in queries_for(metric):
        expected = exact_distances(decoded, query, metric)
        got = store.distances(query)
        scale = np.abs(expected).max()
        assert np.allclose(got, expected, rtol=1e-4, atol=1e-4 * scale)


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("dim", [40, 71, 96])
@pytest.mark.parametrize("dtype", ["sq8", "sq4"])
def test_decode_and_pair_distances_agree_with_the_query_kernels(dtype, dim, metric):
    """decode() has its own loop per width (sq4 in 32-dimension blocks plus a tail), apart from
    the query kernels; both must give the same reconstruction, and so must distance_between."""
    store, _ = build(dtype, metric, data=make_data(dim=dim, normalise=metric == "cosine"))
    decoded = store.decode()
    for query in make_data(3, dim=dim, seed=99, normalise=metric == "cosine"):
        expected = exact_distances(decoded, query, metric)
        got = store.distances(query)
        assert np.allclose(got, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())
    for a, b in [(0, 1), (5, 1999), (17, 17), (300, 42)]:
        expected = exact_distances(decoded[b:b + 1], decoded[a], metric)[0]
        assert store.distance_between(a, b) == pytest.approx(expected, rel=1e-4, abs=1e-5)


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("dtype,min_correlation", [("f16", 0.9999), ("bf16", 0.999), ("sq8", 0.999),
                                                    ("sq4", 0.98), ("pq", 0.9)])
def test_distance_estimates_track_exact_distances(dtype, min_correlation, metric):
    store, data = build(dtype, metric, **({"pq_m": 16} if dtype == "pq" else {}))
    for query in queries_for(metric):
        exact = exact_distances(data, query, metric)
        assert np.corrcoef(store.distances(query), exact)[0, 1] > min_correlation


@pytest.mark.parametrize("metric", METRICS)
def test_rabitq_exact_distance_lies_within_the_error_bound(metric):
    store, data = build("rabitq", metric)
    inside = []
    for query in queries_for(metric, count=10):
        estimate, bound = store.distances_with_bound(query)
        assert np.all(bound >= 0)
        assert np.array_equal(estimate, store.distances(query))
        exact = exact_distances(data, query, metric)
        inside.append(np.abs(estimate - exact) <= bound)
    # Three standard deviations: holds for ~99.7% of pairs, not always.
    assert np.concatenate(inside).mean() >= 0.99


def embedding_like(count, dim=128, seed=0, normalise=False):
    """Points near a 16-dimensional subspace, like text embeddings: neighbours are meaningful."""
    rng = np.random.default_rng(seed)
    basis = np.random.default_rng(1234).standard_normal((16, dim))
    data = (rng.standard_normal((count, 16)) @ basis + 0.3 * rng.standard_normal((count, dim))).astype(np.float32)
    if normalise:
        data /= np.linalg.norm(data, axis=1, keepdims=True)
    return data


@pytest.mark.parametrize("metric", METRICS)
def test_rabitq_top_candidates_contain_the_true_neighbours(metric):
    """What reranking relies on: the exact top-10 sits inside the estimated top-100."""
    data = embedding_like(4000, normalise=metric == "cosine")
    store, _ = build("rabitq", metric, data=data)
    found = []
    for query in embedding_like(20, seed=3, normalise=metric == "cosine"):
        true_top = np.argsort(exact_distances(data, query, metric))[:10]
        candidates = np.argsort(store.distances(query))[:100]
        found.append(np.isin(true_top, candidates).mean())
    assert np.mean(found) >= 0.99


def test_rabitq_estimator_is_unbiased():
    store, data = build("rabitq", data=make_data(4000, dim=128))
    query = make_data(1, dim=128, seed=7)[0]
    estimate = store.distances(query)
    exact = exact_distances(data, query, "l2")
    # Mean signed error is small next to the mean absolute error.
    assert abs((estimate - exact).mean()) < 0.2 * np.abs(estimate - exact).mean()


@pytest.mark.parametrize("dtype", ["f16", "bf16", "sq8", "sq4", "pq", "rabitq"])
def test_distance_between_stored_vectors(dtype):
    store, data = build(dtype, **({"pq_m": 16} if dtype == "pq" else {}))
    exact = [float(((data[0] - data[i]) ** 2).sum()) for i in range(1, 200)]
    got = [store.distance_between(0, i) for i in range(1, 200)]
    assert np.corrcoef(got, exact)[0, 1] > (0.99 if dtype in ("f16", "bf16", "sq8") else 0.75)
    assert store.distance_between(3, 3) <= 1e-3 * np.mean(exact) or dtype == "pq"


# --- training ---------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", TRAINED)
def test_adding_before_training_is_a_runtime_error(dtype):
    store = _codec_testing._CodecStore(dtype, DIM, "l2", pq_m=16)
    assert not store.is_trained
    with pytest.raises(RuntimeError, match="train"):
        store.add(make_data(4))


@pytest.mark.parametrize("dtype", TRAINED)
def test_too_few_training_vectors_is_a_value_error(dtype):
    store = _codec_testing._CodecStore(dtype, DIM, "l2", pq_m=16)
    with pytest.raises(ValueError, match=str(store.min_training_size)):
        store.train(make_data(store.min_training_size - 1))


def test_pq_m_must_divide_dim():
    with pytest.raises(ValueError, match="divide"):
        _codec_testing._CodecStore("pq", DIM, "l2", pq_m=7)


def test_training_is_deterministic_for_a_seed():
    first, _ = build("pq", pq_m=16, seed=5)
    second, _ = build("pq", pq_m=16, seed=5)
    assert first.save() == second.save()


# --- save / load -------------------------------------------------------------------------------

@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("dtype", ["f16", "bf16", "sq8", "sq4", "pq", "rabitq"])
def test_save_load_round_trip(dtype, metric):
    store, _ = build(dtype, metric, **({"pq_m": 16} if dtype == "pq" else {}))
    blob = store.save()
    loaded = _codec_testing._CodecStore(dtype, DIM, metric, **({"pq_m": 16} if dtype == "pq" else {}))
    loaded.load(blob, store.count)
    assert loaded.is_trained
    query = queries_for(metric)[0]
    assert np.array_equal(loaded.distances(query), store.distances(query))
    assert np.array_equal(loaded.decode(), store.decode())
    assert loaded.save() == blob


@pytest.mark.parametrize("dtype", ["f16", "bf16", "sq8", "sq4", "pq", "rabitq"])
def test_truncated_blob_is_a_format_error(dtype):
    store, _ = build(dtype, **({"pq_m": 16} if dtype == "pq" else {}))
    blob = store.save()
    for cut in [0, 5, len(blob) // 2, len(blob) - 1]:
        with pytest.raises(vecindex.FormatError):
            _codec_testing._CodecStore(dtype, DIM, "l2", pq_m=16).load(blob[:cut], store.count)


@pytest.mark.parametrize("dtype", ["f16", "bf16", "sq8", "sq4", "pq", "rabitq"])
def test_foreign_or_mismatched_blobs_are_format_errors(dtype):
    store, _ = build(dtype, **({"pq_m": 16} if dtype == "pq" else {}))
    blob = store.save()
    with pytest.raises(vecindex.FormatError):  # trailing garbage
        _codec_testing._CodecStore(dtype, DIM, "l2", pq_m=16).load(blob + b"\0", store.count)
    with pytest.raises(vecindex.FormatError):  # another dim
        _codec_testing._CodecStore(dtype, DIM * 2, "l2", pq_m=16).load(blob, store.count)
    with pytest.raises(vecindex.FormatError):  # another metric
        _codec_testing._CodecStore(dtype, DIM, "ip", pq_m=16).load(blob, store.count)
    other = "sq8" if dtype != "sq8" else "f16"
    with pytest.raises(vecindex.FormatError):  # another codec
        _codec_testing._CodecStore(other, DIM, "l2", pq_m=16).load(blob, store.count)
    with pytest.raises(vecindex.FormatError):  # more slots declared than stored
        _codec_testing._CodecStore(dtype, DIM, "l2", pq_m=16).load(blob, store.count + 1)


def header_length(dtype):
    return 8 + len(dtype) + 4 + 8 + 4


@pytest.mark.parametrize("dtype", ["sq8", "sq4", "pq", "rabitq"])
def test_non_finite_parameters_are_format_errors(dtype):
    store, _ = build(dtype, pq_m=16)
    blob = bytearray(store.save())
    start = header_length(dtype) + (8 if dtype == "pq" else 0)
    blob[start:start + 4] = struct.pack("<f", float("nan"))
    with pytest.raises(vecindex.FormatError, match="non-finite"):
        _codec_testing._CodecStore(dtype, DIM, "l2", pq_m=16).load(bytes(blob), store.count)


def test_sq8_non_positive_step_is_a_format_error():
    store, _ = build("sq8")
    blob = bytearray(store.save())
    start = header_length("sq8") + DIM * 4  # first step
    blob[start:start + 4] = struct.pack("<f", 0.0)
    with pytest.raises(vecindex.FormatError, match="positive"):
        _codec_testing._CodecStore("sq8", DIM, "l2").load(bytes(blob), store.count)


def test_rabitq_non_orthogonal_rotation_is_a_format_error():
    store, _ = build("rabitq")
    blob = bytearray(store.save())
    start = header_length("rabitq") + DIM * 4  # first rotation entry
    blob[start:start + 4] = struct.pack("<f", 3.0)
    with pytest.raises(vecindex.FormatError, match="orthogonal"):
        _codec_testing._CodecStore("rabitq", DIM, "l2").load(bytes(blob), store.count)


def test_half_nan_code_is_a_format_error():
    store, _ = build("f16")
    blob = bytearray(store.save())
    start = header_length("f16")
    blob[start:start + 2] = struct.pack("<H", 0x7E00)
    with pytest.raises(vecindex.FormatError, match="finite"):
        _codec_testing._CodecStore("f16", DIM, "l2").load(bytes(blob), store.count)
