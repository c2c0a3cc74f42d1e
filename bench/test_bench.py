"""Checks of the benchmark's own arithmetic (run: python -m pytest -q bench/test_bench.py).

Kept beside the bench rather than in tests/: they guard the measuring tool, not the library.
"""
import math

import numpy as np
import pytest

from bench import datasets, groundtruth, metrics


def _points(pairs):
    return [{"recall": recall, "qps": qps} for recall, qps in pairs]


def test_frontier_drops_points_beaten_on_both_axes():
    points = _points([(0.80, 1000), (0.85, 900), (0.84, 500), (0.95, 400), (0.95, 300)])
    frontier = metrics.pareto_frontier(points)
    assert [(p["recall"], p["qps"]) for p in frontier] == [(0.80, 1000), (0.85, 900), (0.95, 400)]


def test_qps_is_log_interpolated_between_bracketing_points():
    points = _points([(0.80, 1000), (1.00, 10)])
    assert metrics.qps_at_recall(points, 0.90) == pytest.approx(math.sqrt(1000 * 10))


def test_qps_is_none_above_the_best_recall_and_never_extrapolated():
    points = _points([(0.80, 1000), (0.93, 100)])
    assert metrics.qps_at_recall(points, 0.95) is None


def test_qps_below_all_points_is_the_fastest_point_reaching_the_target():
    points = _points([(0.96, 700), (0.99, 100)])
    assert metrics.qps_at_recall(points, 0.90) == 700


def test_speed_ratio_is_none_when_one_side_misses_the_target():
    ratios = metrics.speed_ratios({"0.90": 200.0, "0.99": 50.0}, {"0.90": 100.0, "0.99": None})
    assert ratios == {"0.90": 2.0, "0.99": None}


def test_recall_by_distance_counts_equally_near_duplicates():
    # True top-2 are ids 0 and 1 at distance 1.0; id 2 is a duplicate of id 1 (also 1.0).
    gt_distances = np.array([[0.5, 1.0]], dtype=np.float32)
    found_distances = np.array([[0.5, 1.0]], dtype=np.float32)  # returned ids 0 and 2
    assert metrics.recall_by_distance(found_distances, gt_distances, 2) == 1.0
    assert metrics.recall_by_ids(np.array([[0, 2]]), np.array([[0, 1]]), 2) == 0.5


def test_recall_by_ids_ignores_padding():
    assert metrics.recall_by_ids(np.array([[-1, -1]]), np.array([[0, 1]]), 2) == 0.0


@pytest.mark.parametrize("metric", datasets.METRICS)
def test_brute_force_matches_a_naive_sort(metric):
    rng = np.random.default_rng(7)
    train = rng.normal(size=(300, 8)).astype(np.float32)
    queries = rng.normal(size=(20, 8)).astype(np.float32)
    ids, distances = groundtruth.brute_force(train, queries, metric, 5)
    all_ids = np.tile(np.arange(300), (20, 1))
    naive = groundtruth.distances_to(train, queries, all_ids, metric)
    np.testing.assert_allclose(distances, np.sort(naive, axis=1)[:, :5], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.take_along_axis(naive, ids, axis=1), distances, rtol=1e-5, atol=1e-5)


def test_fvecs_round_trip(tmp_path):
    vectors = np.arange(12, dtype=np.float32).reshape(3, 4)
    rows = np.hstack([np.full((3, 1), 4, dtype=np.int32), vectors.view(np.int32)])
    path = tmp_path / "x.fvecs"
    rows.tofile(path)
    np.testing.assert_array_equal(datasets.read_fvecs(path), vectors)


def test_fvecs_with_truncated_file_is_rejected(tmp_path):
    path = tmp_path / "bad.fvecs"
    np.array([4, 0, 0], dtype=np.int32).tofile(path)
    with pytest.raises(ValueError, match="does not match"):
        datasets.read_fvecs(path)


def test_synthetic_ground_truth_is_computed_for_k():
    dataset = datasets.load(None, quick=True, k=10)
    assert dataset.gt_ids.shape[0] == dataset.test.shape[0]
    assert dataset.gt_ids.shape[1] >= 10
