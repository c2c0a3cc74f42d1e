"""SIMD levels side by side on real data: QPS at fixed recall per level and per family override.

    python bench/simd_levels.py                      # the Debian dev set, every available level
    python bench/simd_levels.py --configs avx512,avx2,avx512+f32=avx2 --repeats 5
    python bench/simd_levels.py --dtype sq8 --rerank # the codec kernels walk, f32 reranks

One index is built (or loaded from the cache, keyed by bench/cache_keys.py) with the default
levels; the graph does not depend on the level. Each configuration then searches it in a fresh
interpreter whose VECINDEX_SIMD / VECINDEX_SIMD_<FAMILY> variables select the kernels, because
levels are chosen once per process. Rounds are interleaved: every round runs every
configuration once (in a rotated order), sweeping ef with 1 search thread, and the best time per
(configuration, ef) is kept, so background load hurts all configurations alike. Recall and QPS at
recall 0.95 / 0.99 come from bench/runner.py and bench/metrics.py, as in bench/run.py.

A configuration is LEVEL, or LEVEL+FAMILY=LEVEL[+...] with FAMILY one of f32, codec, chamfer:
"avx512+f32=avx2" runs VECINDEX_SIMD=avx512 VECINDEX_SIMD_F32=avx2. A configuration whose levels
the CPU lacks is reported as unavailable (the child's simd_info() shows what really ran).
Writes bench/results/simd_levels.json (--out) and prints a table.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import datasets, machine, metrics, report as reporting, runner  # noqa: E402
from bench.cache_keys import cached_index_path  # noqa: E402

DEFAULT_DATASET = "/work/shared/data/debian-minilm-384-angular.hdf5"
FAMILY_VARIABLES = {"f32": "VECINDEX_SIMD_F32", "codec": "VECINDEX_SIMD_CODEC", "chamfer": "VECINDEX_SIMD_CHAMFER"}
DEFAULT_EFS = (10, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512)
TARGETS = (0.95, 0.99)
HERE = Path(__file__).resolve().parent

# Runs in the child: load the index, warm up, time one batch search per ef, save ids and times.
CHILD = """
import json, sys, time, numpy as np, vecindex
index_path, queries_path, out_path, k, efs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), json.loads(sys.argv[5])
index = vecindex.Index.load(index_path)
queries = np.load(queries_path)
index.search(queries[:100], k=k, ef=efs[0], threads=1)
wall, cpu, ids = [], [], []
for ef in efs:
    start, start_cpu = time.perf_counter(), time.process_time()
    found, _ = index.search(queries, k=k, ef=ef, threads=1)
    cpu.append(time.process_time() - start_cpu)
    wall.append(time.perf_counter() - start)
    ids.append(np.asarray(found, dtype=np.int64))
np.savez(out_path, ids=np.stack(ids), wall=np.array(wall), cpu=np.array(cpu),
         info=np.array(json.dumps(vecindex.simd_info())))
"""


def parse_config(text: str) -> dict:
    """'avx512+f32=avx2' -> {'name': ..., 'env': {...}, 'wanted': {family: level}}."""
    parts = [part.strip() for part in text.split("+")]
    level, overrides = parts[0], parts[1:]
    env = {"VECINDEX_SIMD": level}
    wanted = dict.fromkeys(FAMILY_VARIABLES, level)
    for override in overrides:
        family, _, family_level = override.partition("=")
        if family not in FAMILY_VARIABLES or not family_level:
            raise argparse.ArgumentTypeError(f"bad override {override!r} in {text!r}; expected FAMILY=LEVEL with "
                                             f"FAMILY in {list(FAMILY_VARIABLES)}")
        env[FAMILY_VARIABLES[family]] = family_level
        wanted[family] = family_level
    return {"name": text, "env": env, "wanted": wanted}


def default_configs(available: list[str], dtype: str) -> list[str]:
    """Every level, plus each SIMD level with each family the search uses (f32; codec too for a
    compressed dtype) forced to each other SIMD level."""
    simd = [level for level in available if level != "scalar"]
    families = ["f32"] if dtype == "f32" else ["f32", "codec"]
    pairs = [f"{level}+{family}={other}" for family in families for level in simd for other in simd if other != level]
    return available + pairs


def load_or_build(dataset, cache: Path, M: int, ef_construction: int, dtype: str, rerank: bool, log) -> Path:
    import vecindex

    build = {"kind": "simd_levels", "metric": dataset.metric, "M": M, "ef_construction": ef_construction,
             "dtype": dtype, "rerank": rerank}
    path = cached_index_path(cache, "vecindex", build, dataset.train, ".vx")
    if path.exists():
        log(f"using cached index {path}")
        return path
    log(f"building the index ({dataset.train.shape[0]:,} vectors, M={M}, ef_construction={ef_construction})")
    start = time.perf_counter()
    index = vecindex.Index(dim=dataset.dim, metric=dataset.metric, M=M, ef_construction=ef_construction,
                           dtype=dtype, rerank=rerank)
    index.add(dataset.train, threads=2)
    path.parent.mkdir(parents=True, exist_ok=True)
    index.save(path)
    log(f"built in {time.perf_counter() - start:.1f}s -> {path}")
    return path


def run_child(config: dict, index_path: Path, queries_path: Path, work: Path, k: int, efs) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith("VECINDEX_SIMD")}
    env.update(config["env"])
    out = work / "child.npz"
    command = [sys.executable, "-c", CHILD, str(index_path), str(queries_path), str(out), str(k), json.dumps(list(efs))]
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{config['name']}: child exited {result.returncode}:\n{result.stderr}")
    with np.load(out) as data:
        return {"ids": data["ids"], "wall": data["wall"], "cpu": data["cpu"], "info": json.loads(str(data["info"]))}


def measure(configs: list[dict], dataset, index_path: Path, k: int, efs, repeats: int, log) -> dict:
    results = {config["name"]: {"env": config["env"]} for config in configs}
    best_wall = {name: np.full(len(efs), np.inf) for name in results}
    best_cpu = {name: np.full(len(efs), np.inf) for name in results}
    first_ids: dict = {}
    with tempfile.TemporaryDirectory() as work_dir:
        work = Path(work_dir)
        queries_path = work / "queries.npy"
        np.save(queries_path, dataset.test)
        active = list(configs)
        for round_index in range(repeats):
            shift = round_index % max(1, len(active))
            for config in active[shift:] + active[:shift]:  # rotated, so no config always runs first
                name = config["name"]
                child = run_child(config, index_path, queries_path, work, k, efs)
                families = child["info"]["families"]
                if families != config["wanted"]:
                    results[name]["unavailable"] = f"ran as {families}: this CPU/build lacks a requested level"
                    continue
                results[name]["families"] = families
                best_wall[name] = np.minimum(best_wall[name], child["wall"])
                best_cpu[name] = np.minimum(best_cpu[name], child["cpu"])
                first_ids.setdefault(name, child["ids"])
            active = [config for config in active if "unavailable" not in results[config["name"]]]
            log(f"round {round_index + 1}/{repeats} done")
    for name, result in results.items():
        if "unavailable" in result:
            continue
        points = [runner.measure_point(dataset, first_ids[name][i], best_wall[name][i], best_cpu[name][i], ef, k)
                  for i, ef in enumerate(efs)]
        result["points"] = points
        result["qps_at_recall"] = metrics.qps_at_targets(points, TARGETS)
        result["qps_at_recall_cpu"] = metrics.qps_at_targets(points, TARGETS, key="qps_cpu")
    return results


def format_table(results: dict) -> str:
    header = f"{'configuration':<24} {'f32/codec/chamfer':<22} " + " ".join(
        f"{'QPS@' + format(t, '.2f'):>10} {'cpu QPS':>9}" for t in TARGETS)
    lines = [header, "-" * len(header)]
    for name, result in results.items():
        if "unavailable" in result:
            lines.append(f"{name:<24} unavailable: {result['unavailable']}")
            continue
        families = "/".join(result["families"][family] for family in FAMILY_VARIABLES)
        cells = []
        for target in TARGETS:
            key = f"{target:.2f}"
            wall, cpu = result["qps_at_recall"][key], result["qps_at_recall_cpu"][key]
            cells.append(f"{wall:>10,.0f} {cpu:>9,.0f}" if wall and cpu else f"{'-':>10} {'-':>9}")
        lines.append(f"{name:<24} {families:<22} " + " ".join(cells))
    return "\n".join(lines)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default=DEFAULT_DATASET, help="ann-benchmarks .hdf5 (default: the Debian dev set)")
    parser.add_argument("--quick", action="store_true", help="synthetic clustered data (5000 x 64) instead")
    parser.add_argument("--limit-queries", type=int, help="use only the first N queries")
    parser.add_argument("--configs", help="comma-separated configurations (default: every available level, "
                                          "plus each SIMD level with f32 (and codec, for a compressed "
                                          "--dtype) forced to each other one)")
    parser.add_argument("--ef", default=",".join(map(str, DEFAULT_EFS)), help="comma-separated ef sweep")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--M", type=int, default=16)
    parser.add_argument("--ef-construction", type=int, default=200)
    parser.add_argument("--dtype", default="f32", help="index dtype (f32, f16, sq8, sq4, pq, rabitq, ...)")
    parser.add_argument("--rerank", action="store_true", help="keep f32 vectors and rerank (compressed dtypes)")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds; best time per ef is kept")
    parser.add_argument("--out", default=str(HERE / "results" / "simd_levels.json"))
    parser.add_argument("--cache-dir", default="results/cache", help="index and ground-truth cache")
    args = parser.parse_args(argv)
    args.ef = tuple(int(part) for part in args.ef.split(",") if part.strip())
    if args.repeats <= 0 or args.k <= 0 or not args.ef or min(args.ef) <= 0:
        parser.error("--repeats, --k and every --ef must be positive")
    return args


def main(argv=None) -> int:
    import vecindex

    args = parse_args(argv)
    log = lambda line: print(line, flush=True)  # noqa: E731
    started = time.time()
    machine_info = machine.describe()
    available = vecindex.simd_info()["available"]
    configs = [parse_config(text) for text in (args.configs.split(",") if args.configs else default_configs(available, args.dtype))]
    cache = Path(args.cache_dir)
    dataset = datasets.load(args.dataset, quick=args.quick, limit_queries=args.limit_queries, k=args.k, cache_dir=cache)
    log(f"dataset {dataset.name}: {dataset.train.shape[0]:,} x {dataset.dim}, {dataset.test.shape[0]:,} queries; "
        f"configurations: {', '.join(config['name'] for config in configs)}")
    index_path = load_or_build(dataset, cache / dataset.name, args.M, args.ef_construction, args.dtype, args.rerank,
                               log)
    results = measure(configs, dataset, index_path, args.k, args.ef, args.repeats, log)
    machine_info["load_average_at_end"] = machine.load_average()
    machine_info["speed_probe_at_end"] = machine.speed_probe()
    report = {"timestamp": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(started)), "command": sys.argv,
              "dataset": dataset.describe(), "machine": machine_info,
              "params": {"M": args.M, "ef_construction": args.ef_construction, "dtype": args.dtype,
                         "rerank": args.rerank, "k": args.k, "efs": list(args.ef),
                         "repeats": args.repeats, "search_threads": 1},
              "configurations": results, "wall_seconds": time.time() - started}
    path = reporting.write_json(report, Path(args.out))
    print()
    print(format_table(results))
    print(f"\nwrote {path}")
    return 0 if any("points" in result for result in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
