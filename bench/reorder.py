"""Node reordering for locality: QPS at fixed recall before and after Index.optimize().

    python bench/reorder.py                       # dev set (50k) f32 and sq8+rerank, then 200k f32
    python bench/reorder.py --sizes 50000 --dtypes f32

Each configuration is built once and saved; the saved file is loaded once per layout
("none": as built, then one per optimize() method), so every layout holds the very same graph.
optimize() keeps every result, so each ef gives the same ids (checked) and recall in every
layout and QPS at a fixed recall is a ratio per ef. Timing: --repeats rounds, each timing every
(ef, layout) once in turn (one batch call, 1 search thread), best time kept, so background load
hits every layout alike. QPS is given by wall time and by process CPU time (see CLOCKS).

Sizes above the dev set's 50k are made from it: each extra copy of the training vectors gets
seeded Gaussian noise of --noise times the per-dimension standard deviation, then is
renormalised (the set is angular). Queries are the dev set's test vectors; ground truth for the
made-up sizes is exact brute force over --queries of them. Writes bench/results/reorder.json,
keeping the runs of other (size, dtype) pairs already in it.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import machine  # noqa: E402
from bench.datasets import load_hdf5  # noqa: E402
from bench.groundtruth import brute_force  # noqa: E402
from bench.metrics import qps_at_recall, recall_by_ids  # noqa: E402

import vecindex  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
# Wall time, and the process's CPU time: with one search thread the latter leaves out the time
# other processes on a busy machine hold the core, which wall time counts.
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="/work/shared/data/debian-minilm-384-angular.hdf5")
    parser.add_argument("--sizes", default="50000,200000")
    parser.add_argument("--dtypes", default="f32,sq8", help="compressed dtypes keep full vectors (rerank)")
    parser.add_argument("--large-dtypes", default="f32", help="dtypes measured at sizes above the dev set")
    parser.add_argument("--methods", default="bfs,rcm")
    parser.add_argument("--ef", default="10,16,24,32,48,64,96,128,192,256")
    parser.add_argument("--targets", default="0.90,0.95,0.99")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--M", type=int, default=16)
    parser.add_argument("--ef-construction", type=int, default=100)
    parser.add_argument("--build-threads", type=int, default=2)
    parser.add_argument("--noise", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", default=str(RESULTS / "reorder.json"))
    return parser.parse_args(argv)


def normalised(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.maximum(norms, 1e-12)).astype(np.float32)


def scaled(train: np.ndarray, size: int, noise: float, seed: int) -> np.ndarray:
    """The dev vectors, then noisy copies of them up to `size` rows (see the module docstring)."""
    if size <= len(train):
        return train[:size]
    rng = np.random.default_rng(seed)
    spread = train.std(axis=0, keepdims=True)
    parts, made = [train], len(train)
    while made < size:
        rows = train[: min(len(train), size - made)]
        parts.append(normalised(rows + rng.normal(size=rows.shape).astype(np.float32) * noise * spread))
        made += len(rows)
    return np.ascontiguousarray(np.vstack(parts))


def build(data: np.ndarray, dtype: str, args, path: Path) -> float:
    index = vecindex.Index(data.shape[1], "cosine", dtype=dtype, M=args.M, ef_construction=args.ef_construction,
                           rerank=dtype != "f32")
    start = time.perf_counter()
    index.add(data, threads=args.build_threads)
    seconds = time.perf_counter() - start
    index.save(path)
    return seconds


def measure(path: Path, queries: np.ndarray, truth: np.ndarray, args) -> dict:
    methods = ["none"] + args.methods.split(",")
    efs = [int(ef) for ef in args.ef.split(",")]
    layouts, optimize_seconds = {}, {}
    for method in methods:
        index = vecindex.Index.load(path)
        if method != "none":
            start = time.perf_counter()
            index.optimize(method=method)
            optimize_seconds[method] = time.perf_counter() - start
        layouts[method] = index
    best = {(clock, method, ef): float("inf") for clock in CLOCKS for method in methods for ef in efs}
    found = {}
    for _ in range(args.repeats):
        for ef in efs:
            for method in methods:
                started = {clock: read() for clock, read in CLOCKS.items()}
                ids, _ = layouts[method].search(queries, k=10, ef=ef, threads=1)
                for clock, read in CLOCKS.items():
                    best[clock, method, ef] = min(best[clock, method, ef], read() - started[clock])
                found[method, ef] = ids
    for ef in efs:
        for method in methods[1:]:
            if not np.array_equal(found[method, ef], found["none", ef]):
                raise AssertionError(f"optimize(method={method!r}) changed the results at ef={ef}")
    targets = [float(t) for t in args.targets.split(",")]
    out = {"optimize_seconds": optimize_seconds, "layouts": {}, "speedup_at_recall": {}}
    for method in methods:
        points = [{"ef": ef, "recall": recall_by_ids(found[method, ef], truth, 10),
                   **{f"qps_{clock}": len(queries) / best[clock, method, ef] for clock in CLOCKS}} for ef in efs]
        out["layouts"][method] = {"points": points, **{
            f"qps_{clock}_at_recall": {f"{t:.2f}": qps_at_recall(points, t, f"qps_{clock}") for t in targets}
            for clock in CLOCKS}}
    for clock in CLOCKS:
        base = out["layouts"]["none"][f"qps_{clock}_at_recall"]
        out["speedup_at_recall"][clock] = {
            method: {t: (out["layouts"][method][f"qps_{clock}_at_recall"][t] / base[t] if base[t] else None) for t in base}
            for method in methods[1:]}
    return out


def main(argv=None) -> None:
    args = parse_args(argv)
    dataset = load_hdf5(Path(args.dataset))
    queries = np.ascontiguousarray(dataset.test[: args.queries])
    report = {"runs": []}
    with tempfile.TemporaryDirectory() as scratch:
        for size in [int(s) for s in args.sizes.split(",")]:
            data = scaled(dataset.train, size, args.noise, args.seed)
            if size == len(dataset.train):
                truth = dataset.gt_ids[: args.queries]
            else:
                truth, _ = brute_force(data, queries, "cosine", 10)
            dtypes = args.dtypes if size <= len(dataset.train) else args.large_dtypes
            for dtype in dtypes.split(","):
                path = Path(scratch) / f"{dtype}-{size}.vdx"
                build_seconds = build(data, dtype, args, path)
                run = {"size": size, "dtype": dtype, "rerank": dtype != "f32", "build_seconds": build_seconds,
                       **measure(path, queries, truth, args), "machine": machine.describe(), "args": vars(args)}
                path.unlink()
                report["runs"].append(run)
                print(json.dumps({key: run[key] for key in ("size", "dtype", "optimize_seconds", "speedup_at_recall")}),
                      flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    # Runs of other (size, dtype) pairs already in the file stay: sizes can be measured apart.
    if out.exists():
        fresh = {(run["size"], run["dtype"]) for run in report["runs"]}
        kept = [run for run in json.loads(out.read_text())["runs"] if (run["size"], run["dtype"]) not in fresh]
        report["runs"] = sorted(kept + report["runs"], key=lambda run: (run["size"], run["dtype"]))
    out.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
