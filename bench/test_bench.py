"""Checks of the benchmark's own arithmetic (run: python -m pytest -q bench/test_bench.py).

Kept beside the bench rather than in tests/: they guard the measuring tool, not the library.
"""
import argparse
import json
import math
from pathlib import Path

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


def _tiny_report():
    points = [{"ef": 10, "recall": 0.90, "qps": 2000.0}, {"ef": 40, "recall": 0.99, "qps": 500.0}]
    library = {"version": "1", "build_seconds": 1.5, "index_bytes": 2**20, "points": points,
               "qps_at_recall": metrics.qps_at_targets(points)}
    peer = {**library, "points": [{**p, "qps": p["qps"] / 2} for p in points]}
    peer["qps_at_recall"] = metrics.qps_at_targets(peer["points"])
    report = {"timestamp": "T", "machine": {"cpu_model": "TestCPU 9000", "usable_cores": 2, "platform": "x",
                                            "python": "3", "load_average_at_start": [1.0, 1.0, 1.0]},
              "dataset": {"name": "tiny", "n_train": 10, "dim": 4, "metric": "l2", "n_test": 2},
              "params": {"k": 10, "M": 16, "ef_construction": 200, "build_threads": 2, "efs": [10, 40],
                         "repeats": 1, "clock": "wall"},
              "libraries": {"vecindex": library, "hnswlib": peer, "usearch": {"skipped": "not installed"}},
              "filtered": {"k": 10, "queries": 2, "target_recall": 0.95, "rows": [
                  {"filter": "size-range 1.0%", "selectivity": 0.01, "plan": "exact",
                   "results": {"vecindex": {"best": {"ef": 10, "recall": 1.0, "qps": 123.0}}}}]}}
    from bench import report as reporting
    reporting.add_ratios(report)
    return report


def test_machine_record_has_the_cpuid_family_on_x86_linux():
    from bench import machine

    with open("/proc/cpuinfo") as cpuinfo:
        text = cpuinfo.read()
    if "cpu family" not in text:
        pytest.skip("no cpuid family in /proc/cpuinfo (not x86 Linux)")
    family = int(text.split("cpu family", 1)[1].split(":", 1)[1].split()[0])
    assert machine.describe()["cpu_id"]["family"] == family


def test_speed_probe_times_the_loop_it_is_given():
    from bench import machine

    short = machine.speed_probe(repeats=3, loop=20_000)
    long = machine.speed_probe(repeats=3, loop=400_000)
    assert 0 < short["min_ms"] <= short["max_ms"] and short["repeats"] == 3
    # 20x the work: even a host whose speed swings 2x between calls keeps the order.
    assert long["min_ms"] > 2 * short["max_ms"], (short, long)
    probe = machine.describe()["speed_probe_at_start"]
    assert probe["loop"] == machine.PROBE_LOOP and probe["repeats"] == 7  # bench/README: "7 times"


def test_run_records_the_speed_probe_at_start_and_end(tmp_path):
    from bench import run

    assert run.main(["--quick", "--libs", "vecindex", "--ef", "10,40", "--repeats", "1", "--no-plot",
                     "--out", str(tmp_path)]) == 0  # --no-plot: the [test] extra has no matplotlib
    (written,) = tmp_path.glob("*/*.json")
    recorded = json.loads(written.read_text())["machine"]
    for key in ("speed_probe_at_start", "speed_probe_at_end"):
        assert 0 < recorded[key]["min_ms"] <= recorded[key]["max_ms"], key


def test_machine_line_shows_the_speed_probe_only_when_recorded():
    from bench.markdown import machine_line

    report = _tiny_report()
    assert "Python loop" not in machine_line(report)
    report["machine"]["speed_probe_at_start"] = {"min_ms": 68.4, "max_ms": 116.2}
    assert "took 68.4-116.2 ms at the start (" in machine_line(report)
    report["machine"]["speed_probe_at_end"] = {"min_ms": 70.0, "max_ms": 75.1}
    assert "took 68.4-116.2 ms at the start and 70.0-75.1 ms at the end" in machine_line(report)


def test_markdown_has_machine_ratios_and_filtered_rows():
    from bench.markdown import to_markdown
    text = to_markdown(_tiny_report())
    assert "TestCPU 9000" in text and "2 cores" in text
    # vecindex is exactly twice as fast as the peer at every recall, so every ratio reads 2.00x.
    ratio_line = next(line for line in text.splitlines() if line.startswith("| hnswlib | 2"))
    assert ratio_line.count("2.00x") == 3
    assert "| size-range 1.0% | 1.00% | exact | 123 (1.000) |" in text
    assert "usearch: not installed" in text
    header_cells = [line.count("|") for line in text.splitlines() if line.startswith("|")]
    assert header_cells  # every table row of one table has the same number of cells
    for block in text.split("\n\n"):
        rows = [line for line in block.splitlines() if line.startswith("|")]
        assert len({row.count("|") for row in rows}) <= 1, block


def test_readme_markers_replace_only_the_section_between_them():
    from bench.report import replace_between_markers
    text = "top\n<!-- bench:start -->\nold\n<!-- bench:end -->\nbottom\n"
    assert replace_between_markers(text, "new") == "top\n<!-- bench:start -->\nnew\n<!-- bench:end -->\nbottom\n"
    with pytest.raises(ValueError):
        replace_between_markers("no markers", "new")
    with pytest.raises(ValueError):
        replace_between_markers("<!-- bench:end --> <!-- bench:start -->", "new")


def test_filtered_table_uses_interpolated_qps_and_names_who_misses_the_target():
    from bench.markdown import filtered_section
    section = {"k": 10, "queries": 5, "target_recall": 0.95, "rows": [
        {"filter": "broad", "selectivity": 0.5, "plan": "post_filter", "results": {
            "vecindex": {"best": {"ef": 8, "recall": 0.96, "qps": 900.0, "qps_at_target": 1000.0}},
            "faiss": {"best": {"ef": 64, "recall": 0.97, "qps": 400.0, "qps_at_target": 500.0}}}},
        {"filter": "narrow", "selectivity": 0.001, "plan": "exact", "results": {
            "vecindex": {"best": {"ef": 4, "recall": 1.0, "qps": 7000.0, "qps_at_target": 7000.0}},
            "faiss": {"best": {"ef": 512, "recall": 0.4, "qps": 30.0, "qps_at_target": None}}}}]}
    text = filtered_section(section)
    broad = next(line for line in text.splitlines() if line.startswith("| broad"))
    assert "1,000 @0.95" in broad and broad.rstrip().endswith("| 2.00x |")
    narrow = next(line for line in text.splitlines() if line.startswith("| narrow"))
    assert "30 (0.400)" in narrow and "faiss never reaches it" in narrow


def test_filtered_sweep_times_each_point_once_per_round_and_keeps_the_best(monkeypatch):
    from bench import filtered

    truth = np.array([[0, 1]])
    calls = []
    speeds = iter([100, 300, 200, 50, 150, 250, 400, 10, 20, 30, 40, 60])

    def fake_timed(fn, nq, repeats=1, min_seconds=0.0):
        assert repeats == 1
        return fn(), next(speeds)

    def search(label):
        def run(ef):
            calls.append((label, ef))
            # "b" finds both true neighbours from ef=2 on, so its sweep stops there.
            return np.array([[0, 1]]) if label == "b" and ef >= 2 else np.array([[0, 9]])
        return run

    monkeypatch.setattr(filtered, "timed", fake_timed)
    points = filtered.sweep_interleaved({"a": search("a"), "b": search("b")}, truth, [1, 2, 3], repeats=2)
    # Warm-ups, then round 1 over every ef (b stops after reaching recall 1), then round 2.
    assert calls == [("a", 1), ("b", 1),
                     ("a", 1), ("b", 1), ("a", 2), ("b", 2), ("a", 3),
                     ("a", 1), ("b", 1), ("a", 2), ("b", 2), ("a", 3)]
    assert [p["ef"] for p in points["a"]] == [1, 2, 3] and [p["ef"] for p in points["b"]] == [1, 2]
    assert [p["recall"] for p in points["b"]] == [0.5, 1.0]
    # Round 1 gave a: 100, 200, 150 and b: 300, 50; round 2 gave a: 250, 10, 30 and b: 400, 20.
    assert [p["qps"] for p in points["a"]] == [250, 200, 150]
    assert [p["qps"] for p in points["b"]] == [400, 50]


def test_cached_index_names_change_with_code_params_and_data(tmp_path, monkeypatch):
    from bench import cache_keys

    data = np.random.default_rng(0).normal(size=(100, 8)).astype(np.float32)
    params = {"M": 16, "ef_construction": 200}
    first = cache_keys.cached_index_path(tmp_path, "vecindex", params, data, ".vx")
    assert first == cache_keys.cached_index_path(tmp_path, "vecindex", dict(params), data.copy(), ".vx")
    assert first != cache_keys.cached_index_path(tmp_path, "vecindex", {**params, "M": 32}, data, ".vx")
    assert first != cache_keys.cached_index_path(tmp_path, "vecindex", params, data[:99], ".vx")
    monkeypatch.setattr(cache_keys, "library_fingerprint", lambda library: "other-build")
    assert first != cache_keys.cached_index_path(tmp_path, "vecindex", params, data, ".vx")


def test_package_fingerprint_changes_when_the_compiled_core_does(tmp_path):
    from bench import cache_keys

    (tmp_path / "sub").mkdir()
    (tmp_path / "index.py").write_text("x = 1")
    core = tmp_path / "sub" / "_core.cpython-311-x86_64-linux-gnu.so"
    core.write_bytes(b"\x7fELF one build")
    before = cache_keys.package_fingerprint(tmp_path)
    core.write_bytes(b"\x7fELF another build")
    assert cache_keys.package_fingerprint(tmp_path) != before


def test_filtered_ratios_pair_compressed_variants_with_faiss_sq8():
    from bench.markdown import _ratio_pairs

    pairs = _ratio_pairs(["vecindex", "vecindex-sq8", "faiss", "faiss-sq8", "hnswlib"])
    assert pairs == [("vecindex", "faiss"), ("vecindex-sq8", "faiss"), ("vecindex-sq8", "faiss-sq8")]


def test_update_readme_commits_the_json_it_was_made_from(tmp_path):
    from bench.report import commit_json

    source = tmp_path / "run" / "20260101T000000Z.json"
    source.parent.mkdir()
    source.write_text('{"x": 1}')
    copied = commit_json(source, tmp_path / "committed")
    assert copied.read_text() == '{"x": 1}' and copied.name == source.name


def test_readme_names_the_command_the_run_recorded():
    from bench.report import shown_command

    command = ["bench/run.py", "--dataset", "/data/x.hdf5", "--suite", "all", "--repeats", "5", "--out", "/tmp/s"]
    assert shown_command({"command": command}) == "python bench/run.py --dataset PATH.hdf5 --suite all --repeats 5"


def test_multivector_builds_are_cached_by_code_params_and_data(tmp_path, monkeypatch):
    from bench import cache_keys, multivector

    builds = []

    def build():
        builds.append(1)
        index = multivector.vecindex.Index(dim=4)
        index.add(np.eye(4))
        return index, 1.5

    tokens = np.random.default_rng(1).normal(size=(50, 4)).astype(np.float16)
    monkeypatch.setattr(multivector, "CACHE", tmp_path)
    load = multivector.vecindex.Index.load
    first, seconds, _ = multivector.cached("tokens", {"M": 16}, tokens, build, load)
    again, seconds_again, _ = multivector.cached("tokens", {"M": 16}, tokens, build, load)
    assert len(builds) == 1 and seconds_again == seconds == 1.5 and len(again) == len(first)
    multivector.cached("tokens", {"M": 32}, tokens, build, load)
    assert len(builds) == 2
    monkeypatch.setattr(cache_keys, "library_fingerprint", lambda library: "other-build")
    multivector.cached("tokens", {"M": 16}, tokens, build, load)
    assert len(builds) == 3


def test_suite_markdown_has_the_multivector_tables():
    from bench.markdown import to_markdown

    point = {"candidates": 40, "ef": 40, "recall": 0.96, "qps": 812.0}
    memory = {"graph": 1.0, "encodings": 2.0, "tokens": 3.0, "documents": 4.0}
    report = {"machine": {"cpu_model": "test"}, "timestamp": "T",
              "dataset": {"name": "test", "n_train": 10, "dim": 4, "metric": "l2"}, "multivector": {
        "documents": 300, "tokens": 5000, "queries": 5, "exact": {"numpy_qps": 2.0, "kernel_qps": 5.0},
        "muvera": [{"config": {"k_sim": 2, "d_proj": 8, "r_reps": 2, "final_dim": 0}, "dtype": "sq8",
                    "encoding_dim": 64, "build_seconds": 1.0, "memory_per_document": memory,
                    "candidates_for_095": 40, "points": [point]}],
        "filtered": []}}
    text = to_markdown(report)
    assert "### Multi-vector (late interaction)" in text and "300 documents" in text
    assert "| candidates=40 ef=40 | 0.960 | 812 |" in text


# ---- bench/simd_levels.py ----


def test_simd_level_configurations_parse_into_environment_and_expected_families():
    from bench import simd_levels

    config = simd_levels.parse_config("avx512+f32=avx2+codec=scalar")
    assert config["env"] == {"VECINDEX_SIMD": "avx512", "VECINDEX_SIMD_F32": "avx2", "VECINDEX_SIMD_CODEC": "scalar"}
    assert config["wanted"] == {"f32": "avx2", "codec": "scalar", "chamfer": "avx512"}
    with pytest.raises(Exception, match="FAMILY=LEVEL"):
        simd_levels.parse_config("avx2+graph=scalar")
    assert simd_levels.default_configs(["scalar", "avx2", "avx512"], "f32") == [
        "scalar", "avx2", "avx512", "avx2+f32=avx512", "avx512+f32=avx2"]
    assert "avx512+codec=avx2" in simd_levels.default_configs(["scalar", "avx2", "avx512"], "sq8")


def test_simd_levels_runs_every_configuration_in_its_own_process(tmp_path):
    import vecindex
    from bench import simd_levels

    available = vecindex.simd_info()["available"]
    best = available[-1]
    configs = ["scalar", f"scalar+f32={best}", "scalar+f32=avx3x"]
    out = tmp_path / "levels.json"
    status = simd_levels.main(["--quick", "--repeats", "2", "--ef", "10,40", "--limit-queries", "50",
                               "--configs", ",".join(configs), "--out", str(out), "--cache-dir", str(tmp_path)])
    assert status == 0
    report = json.loads(out.read_text())
    assert {"speed_probe_at_start", "speed_probe_at_end"} <= set(report["machine"])
    measured = report["configurations"]
    assert measured["scalar"]["families"] == {"f32": "scalar", "codec": "scalar", "chamfer": "scalar"}
    assert measured[f"scalar+f32={best}"]["families"]["f32"] == best
    # A level the child could not run is reported, not timed under the wrong name.
    assert "unavailable" in measured["scalar+f32=avx3x"] and "points" not in measured["scalar+f32=avx3x"]
    for name in configs[:2]:
        assert [point["ef"] for point in measured[name]["points"]] == [10, 40]
        assert all(0 < point["recall"] <= 1 and point["qps"] > 0 for point in measured[name]["points"])


# -- bench/scale_data.py, bench/scale.py, bench/insertion_order.py ---------------------------------

def _small_real(n=600, dim=16, metric="cosine"):
    real = datasets.make_clustered(n_train=n, n_test=40, dim=dim, n_clusters=8, metric=metric, seed=5)
    real.train, real.test = groundtruth.normalized(real.train), groundtruth.normalized(real.test)
    return real


def test_scaled_rows_do_not_depend_on_n_and_repeat_for_a_seed():
    from bench import scale_data
    real = _small_real()
    small = scale_data.make_scaled(real, 1000, seed=3)
    large = scale_data.make_scaled(real, 2500, seed=3)
    np.testing.assert_array_equal(small.train, large.train[:1000])
    np.testing.assert_array_equal(small.train, scale_data.make_scaled(real, 1000, seed=3).train)
    assert not np.array_equal(small.train, scale_data.make_scaled(real, 1000, seed=4).train)
    np.testing.assert_allclose(np.linalg.norm(large.train, axis=1), 1.0, rtol=1e-5)


def test_scaled_rows_stay_nearer_their_source_than_typical_pairs():
    from bench import scale_data
    real = _small_real()
    scaled = scale_data.make_scaled(real, 1800, seed=1)
    sources = np.arange(1800) % len(real.train)
    to_source = 1 - np.einsum("nd,nd->n", scaled.train, real.train[sources])
    to_random = 1 - np.einsum("nd,nd->n", scaled.train, real.train[np.random.default_rng(0).permutation(sources)])
    assert np.median(to_source) < 0.5 * np.median(to_random)


def test_real_neighbours_exclude_the_row_itself_and_are_nearest_first():
    from bench import scale_data
    real = _small_real(n=300)
    neighbours = scale_data.real_neighbours(real.train, "cosine", k=5)
    assert neighbours.shape == (300, 5)
    assert not (neighbours == np.arange(300)[:, None]).any()
    similarity = np.einsum("nd,nkd->nk", real.train, real.train[neighbours])
    assert (np.diff(similarity, axis=1) <= 1e-6).all()


def test_copy_structure_sees_exact_copies():
    from bench import scale_data
    real = _small_real(n=200)
    copies = datasets.Dataset(name="copies", train=np.tile(real.train, (5, 1)), test=real.test, metric="cosine")
    groundtruth.ensure(copies, 10, None)
    structure = scale_data.copy_structure(copies, len(real.train), k=4, probes=50)
    assert structure["copies_per_real_vector"] == 5
    assert structure["base_topk_same_source_fraction"] == 1.0
    assert structure["query_topk_distinct_sources"] == 1.0


def test_scale_configs_pick_the_quantized_graph_and_require_the_reference():
    from bench import scale
    from bench.runner import BenchParams
    configs = scale.parse_configs("vecindex-qg,hnswlib")
    assert [adapter.name for adapter in configs] == ["vecindex-qg", "hnswlib"]
    for bad in ("vecindex-qg", "vecindex-qg,hnswlib,faiss"):
        with pytest.raises(argparse.ArgumentTypeError):
            scale.parse_configs(bad)
    # 1,200 rows: past the 1,024 the quantized graph needs before its codes train.
    params = BenchParams(efs=(10, 32, 128), repeats=1, build_threads=1)
    entry = scale.measure_size(_small_real(n=400), 1200, params, None, 0.1, lambda line: None, builds=1,
                               configs=configs)
    assert set(entry["libraries"]) == {"vecindex-qg", "hnswlib"}
    qg = entry["libraries"]["vecindex-qg"]
    assert (qg["config"]["graph_codes"], qg["config"]["dtype"]) == ("rabitq", "f32")
    assert entry["builds"][0]["libraries"]["vecindex-qg"]["points"][-1]["recall"] > 0.9
    assert set(entry["ratios_to_hnswlib"]) == {"vecindex-qg"}


def test_scale_measures_the_default_constructor_and_hnswlib_side_by_side():
    from bench import scale
    from bench.runner import BenchParams
    import vecindex
    real = _small_real(n=400)
    params = BenchParams(efs=(10, 32, 128), repeats=1, build_threads=1)
    entry = scale.measure_size(real, 1200, params, None, 0.1, lambda line: None, builds=3)
    default = entry["libraries"]["vecindex-default"]
    assert default["config"]["dtype"] == vecindex.Index(16).dtype
    assert entry["libraries"]["vecindex-sq4"]["config"]["dtype"] == "sq4"
    assert entry["libraries"]["vecindex-sq4"]["config"]["rerank"] is True
    assert [build["seed"] for build in entry["builds"]] == [100, 101, 102]
    for build in entry["builds"]:
        for name in ("vecindex-default", "vecindex-sq4", "hnswlib"):
            result = build["libraries"][name]
            assert result["config"]["seed"] == build["seed"]
            assert result["points"][-1]["recall"] > 0.9
            assert result["file_bytes_per_vector"] > 16 * 4 * 0.9
    for name in ("vecindex-default", "hnswlib"):
        per_build = [build["libraries"][name]["qps_at_recall"]["0.90"] for build in entry["builds"]]
        assert entry["libraries"][name]["qps_at_recall"]["0.90"] == pytest.approx(sorted(per_build)[1])
        assert entry["libraries"][name]["qps_at_recall_range"]["0.90"] == [min(per_build), max(per_build)]
        assert entry["libraries"][name]["builds"] == 3
    qps = entry["libraries"]["vecindex-default"]["qps_at_recall"]["0.90"]
    peer = entry["libraries"]["hnswlib"]["qps_at_recall"]["0.90"]
    assert entry["ratios_to_hnswlib"]["vecindex-default"]["qps"]["0.90"] == pytest.approx(qps / peer)
    low, high = entry["ratios_to_hnswlib"]["vecindex-default"]["qps_range"]["0.90"]
    assert low <= qps / peer <= high
    from bench.markdown import scale_section
    text = scale_section({"sizes": [entry], "caption": "caption.", "what": "what; data: generated"})
    rows = [line for line in text.splitlines() if line.startswith("| 1,200 |")]
    assert [row.split(" | ")[1] for row in rows] == ["vecindex-default", "vecindex-sq4", "hnswlib"]
    # Build cost is CPU time (median over builds), and its ratio is to hnswlib's CPU time.
    cells = rows[0].split(" | ")
    span = entry["ratios_to_hnswlib"]["vecindex-default"]["qps_range"]["0.95"]
    assert cells[4] == f"{span[0]:.2f}-{span[1]:.2f}x"
    peer_cpu = entry["libraries"]["hnswlib"]["build_cpu_seconds"]
    assert cells[5] == f"{default['build_cpu_seconds']:.1f}"
    assert cells[6] == f"{default['build_cpu_seconds'] / peer_cpu:.2f}x"
    assert entry["ratios_to_hnswlib"]["vecindex-default"]["build_cpu_time"] == pytest.approx(
        default["build_cpu_seconds"] / peer_cpu)
    entry["libraries"]["hnswlib"]["build_cached"] = True
    text = scale_section({"sizes": [entry], "caption": "caption.", "what": "what; data: generated"})
    peer_row = [line for line in text.splitlines() if line.startswith("| 1,200 | hnswlib |")][0]
    assert peer_row.split(" | ")[5] == f"{peer_cpu:.1f} (cached)"


def test_scale_median_skips_a_build_that_failed_and_none_where_any_build_missed_the_target():
    from bench import scale
    ok = lambda qps: {"qps_at_recall": {"0.95": qps, "0.99": None}, "build_seconds": qps / 10,  # noqa: E731
                      "build_cpu_seconds": qps / 5, "qps_at_recall_wall": {"0.95": qps, "0.99": None},
                      "qps_at_recall_cpu": {"0.95": qps, "0.99": None}, "points": [], "version": "v"}
    builds = [{"seed": 100, "libraries": {"a": ok(10.0)}}, {"seed": 101, "libraries": {"a": {"error": "boom"}}},
              {"seed": 102, "libraries": {"a": ok(30.0)}}]
    combined = scale.combine_builds(builds)["a"]
    assert combined["builds"] == 2
    assert combined["qps_at_recall"] == {"0.95": 20.0, "0.99": None}
    assert combined["qps_at_recall_range"] == {"0.95": [10.0, 30.0], "0.99": None}
    assert combined["build_seconds"] == 2.0 and "points" not in combined
    failed = scale.combine_builds([{"seed": 100, "libraries": {"a": {"skipped": "not installed"}}}])
    assert failed["a"] == {"skipped": "not installed"}


def test_suite_scale_part_skips_without_an_hdf5_file():
    from bench import suite
    from bench.runner import BenchParams
    assert "scale" in suite.PARTS
    assert "skipped" in suite.run_scale("base.npy", (1000,), BenchParams(), None, lambda line: None)


def test_lid_mle_recovers_the_dimension_of_a_flat_subspace():
    from bench import insertion_order
    rng = np.random.default_rng(0)
    for true_dim in (2, 6):
        data = np.zeros((3000, 24), np.float32)
        data[:, :true_dim] = rng.uniform(0, 1, size=(3000, true_dim))
        lid = insertion_order.lid_mle(insertion_order.knn_distances(data, "l2", 20))
        assert np.median(lid) == pytest.approx(true_dim, rel=0.25)


def test_orders_are_seeded_permutations_sorted_as_named():
    from bench import insertion_order
    rng = np.random.default_rng(1)
    lid = rng.uniform(1, 30, size=500)
    labels = rng.integers(0, 7, size=500)
    for name in insertion_order.ORDERS:
        order = insertion_order.make_order(name, 500, 3, lid, labels)
        assert sorted(order) == list(range(500))
        np.testing.assert_array_equal(order, insertion_order.make_order(name, 500, 3, lid, labels))
    assert (np.diff(lid[insertion_order.make_order("lid-desc", 500, 3, lid, labels)]) <= 0).all()
    assert (np.diff(lid[insertion_order.make_order("lid-asc", 500, 3, lid, labels)]) >= 0).all()
    by_cluster = labels[insertion_order.make_order("clusters", 500, 3, lid, labels)]
    assert (np.diff(by_cluster) != 0).sum() == 6  # each cluster is one contiguous run


def test_unfiltered_sweep_alternates_thread_counts_inside_each_round():
    from bench.runner import BenchParams, sweep_thread_counts
    real = _small_real(n=300)
    groundtruth.ensure(real, 10, None)
    calls = []

    class Recorder:
        def search(self, queries, k, ef, threads):
            calls.append((len(queries), ef, threads))
            return real.gt_ids[:len(queries), :k]

    params = BenchParams(efs=(10, 32), repeats=2, warmup_queries=7)
    by_threads = {1: {"fake": {}}, 2: {"fake": {}}}
    sweep_thread_counts({"fake": Recorder()}, by_threads, real, params, lambda line: None)
    # Each round opens with the untimed warm-up call, then times each ef at 1 and then 2
    # threads before the next ef; the whole pattern repeats per round.
    n = len(real.test)
    assert calls == [(7, 10, 1), (n, 10, 1), (n, 10, 2), (n, 32, 1), (n, 32, 2)] * 2
    for threads in (1, 2):
        points = by_threads[threads]["fake"]["points"]
        assert [p["ef"] for p in points] == [10, 32]
        assert all(p["recall"] == pytest.approx(1.0) for p in points)


def test_host_drift_writes_rounds_and_a_summary_of_them(tmp_path):
    from bench import host_drift

    out = tmp_path / "drift.json"
    assert host_drift.main(["--seconds", "0.5", "--rows", "600", "--dim", "8", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    rounds = report["rounds"]
    assert len(rounds) >= 1 and report["summary"]["rounds"] == len(rounds)
    assert report["summary"]["probe_ms"] == [min(r["probe_min_ms"] for r in rounds), max(r["probe_max_ms"] for r in rounds)]
    assert all(r["search_qps"] > 0 for r in rounds)


def test_host_drift_defaults_are_the_ones_bench_readme_names():
    from bench import host_drift

    args = host_drift.parse_args([])
    assert (args.seconds, args.rows, args.dim) == (60.0, 20_000, 64)  # "60 s by default", "20,000 x 64"


def test_host_drift_correlation_sees_a_search_that_follows_the_probe():
    from bench import host_drift

    # Times that move together read near 1; a constant search has no correlation to report.
    together = [{"probe_min_ms": p, "probe_max_ms": p + 1, "search_qps": 1000 / p} for p in (8, 9, 12, 16, 10)]
    assert host_drift.summary(together)["probe_vs_search_time_correlation"] > 0.99
    flat = [{**entry, "search_qps": 500.0} for entry in together]
    assert host_drift.summary(flat)["probe_vs_search_time_correlation"] is None


def test_bench_readme_host_drift_figures_match_the_committed_run():
    readme = (Path(__file__).resolve().parent / "README.md").read_text()
    report = json.loads((Path(__file__).resolve().parent / "results" / "host_drift.json").read_text())
    s = report["summary"]
    sentence = " ".join(readme.split("`bench/results/host_drift.json`: ", 1)[1].split("\n\n")[0].split())
    assert sentence.startswith(f"{s['rounds']} rounds), the probe ranged {s['probe_ms'][0]:.1f}-{s['probe_ms'][1]:.1f} ms "
                               f"({s['probe_spread']:.2f}x), the search {s['search_qps'][0]:,.0f}-"
                               f"{s['search_qps'][1]:,.0f} QPS ({s['search_spread']:.2f}x), and the two times "
                               f"correlated at {s['probe_vs_search_time_correlation']:.2f}"), sentence


def test_paired_ab_times_both_builds_in_alternating_pairs(tmp_path):
    import sys
    import vecindex
    from bench import paired_ab

    rng = np.random.default_rng(3)
    index = vecindex.Index(8)
    index.add(rng.standard_normal((500, 8), dtype=np.float32))
    index.save(str(tmp_path / "small.vx"))
    np.save(tmp_path / "queries.npy", rng.standard_normal((50, 8), dtype=np.float32))
    out = tmp_path / "ab.json"
    assert paired_ab.main(["--a", sys.executable, "--b", sys.executable, "--index", str(tmp_path / "small.vx"),
                           "--queries", str(tmp_path / "queries.npy"), "--ef", "8,16", "--rounds", "3",
                           "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert [entry["ef"] for entry in report["results"]] == [8, 16]
    for entry in report["results"]:
        assert len(entry["ratios"]) == 3 and all(r > 0 for r in entry["ratios"])
        assert entry["median_a_over_b"] == sorted(entry["ratios"])[1]


def test_paired_ab_alternates_the_order_and_reads_a_faster_b_as_above_1():
    from bench import paired_ab

    calls = []

    class Fake:
        def __init__(self, name, seconds):
            self.name, self.seconds = name, seconds

        def time(self, k, ef, bursts):
            calls.append(self.name)
            return self.seconds

    results = paired_ab.compare({"A": Fake("A", 2.0), "B": Fake("B", 1.0)}, [16], rounds=4, bursts=1, k=10)
    assert calls == list("ABBAABBA")
    assert results[0]["median_a_over_b"] == 2.0 and results[0]["b_faster_rounds"] == 4


def test_paired_ab_reports_a_worker_that_cannot_load_the_index(tmp_path):
    import sys
    from bench import paired_ab

    with pytest.raises(RuntimeError, match="did not load"):
        paired_ab.main(["--a", sys.executable, "--b", sys.executable, "--index", str(tmp_path / "missing.vx"),
                        "--queries", str(tmp_path / "q.npy")])


def test_paired_ab_defaults_are_the_ones_bench_readme_names():
    from bench import paired_ab

    args = paired_ab.parse_args(["--a", "a", "--b", "b", "--index", "i", "--queries", "q"])
    assert args.rounds == 20  # "20 pairs per ef by default"
    readme = (Path(__file__).resolve().parent / "README.md").read_text()
    assert "20 pairs per ef by default" in readme and "`paired_ab.py`" in readme
