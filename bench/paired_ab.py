"""Is build B faster than build A? Two Pythons search one saved index in alternating bursts.

    python bench/paired_ab.py --a /tmp/vA/bin/python --b /tmp/vB/bin/python \\
        --index /tmp/sq4-1m.vx --queries queries.npy --ef 32,64,128 --rounds 20 \\
        --out bench/results/ab-visited-bits.json

Each Python (a venv with one build of vecindex installed) runs a worker that loads the index
once; then, for every ef, the two workers take turns timing one burst (`--bursts` searches of
all queries, 1 thread, process CPU time), and the order within each pair flips every round.
The two halves of a pair run within a second of each other, so a host that speeds up or
slows down over minutes moves both: the median of the per-pair ratios A/B resolves
differences of a few percent where back-to-back benchmark runs on the same 2-vCPU VM
scattered by 1.5x (bench/results/host_drift.json). `--queries` is .npy, or an HDF5 file's
"test" set. Both builds must read the index file's format.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import machine  # noqa: E402

WORKER = """
import sys, time, numpy as np, vecindex
index_path, queries_path = sys.argv[1], sys.argv[2]
if queries_path.endswith(".npy"):
    queries = np.load(queries_path)
else:
    import h5py
    with h5py.File(queries_path, "r") as f:
        queries = np.asarray(f["test"], dtype=np.float32)
index = vecindex.Index.load(index_path)
index.search(queries, k=10, ef=64, threads=1)
print("ready", vecindex.__version__, flush=True)
for line in sys.stdin:
    k, ef, bursts = map(int, line.split())
    started = time.process_time()
    for _ in range(bursts):
        index.search(queries, k=k, ef=ef, threads=1)
    print(time.process_time() - started, flush=True)
"""


class Worker:
    def __init__(self, python: str, index: str, queries: str):
        self.process = subprocess.Popen([python, "-c", WORKER, index, queries], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)
        ready = self.process.stdout.readline().split()
        if not ready or ready[0] != "ready":
            self.close()
            raise RuntimeError(f"{python}: the worker did not load {index} (see its error above)")

    def time(self, k: int, ef: int, bursts: int) -> float:
        self.process.stdin.write(f"{k} {ef} {bursts}\n")
        self.process.stdin.flush()
        return float(self.process.stdout.readline())

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait()
        self.process.stdout.close()


def compare(workers: dict, efs, rounds: int, bursts: int, k: int) -> list[dict]:
    """Per ef: the median of A's time over B's per pair (> 1: B is faster), B's wins, totals."""
    out = []
    for ef in efs:
        ratios, totals = [], {"A": 0.0, "B": 0.0}
        for r in range(rounds):
            seconds = {name: workers[name].time(k, ef, bursts) for name in ("AB" if r % 2 == 0 else "BA")}
            ratios.append(seconds["A"] / seconds["B"])
            for name in totals:
                totals[name] += seconds[name]
        out.append({"ef": ef, "median_a_over_b": statistics.median(ratios), "b_faster_rounds": sum(x > 1 for x in ratios),
                    "rounds": rounds, "total_a_over_b": totals["A"] / totals["B"], "ratios": ratios})
    return out


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--a", required=True, help="Python of the baseline build")
    parser.add_argument("--b", required=True, help="Python of the candidate build")
    parser.add_argument("--index", required=True, help="a saved index both builds can load")
    parser.add_argument("--queries", required=True, help=".npy queries, or an HDF5 file with a 'test' set")
    parser.add_argument("--ef", default="16,64", help="comma-separated ef values")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=20, help="pairs per ef (default 20)")
    parser.add_argument("--bursts", type=int, default=1, help="searches of all queries per timed burst")
    parser.add_argument("--out", help="write the JSON here")
    args = parser.parse_args(argv)
    args.ef = [int(value) for value in args.ef.split(",")]
    if args.rounds < 1 or args.bursts < 1 or args.k < 1 or min(args.ef) < 1:
        parser.error("--rounds, --bursts, --k and every --ef must be positive")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    workers = {}
    try:
        for name, python in (("A", args.a), ("B", args.b)):
            workers[name] = Worker(python, args.index, args.queries)
        results = compare(workers, args.ef, args.rounds, args.bursts, args.k)
    finally:
        for worker in workers.values():
            worker.close()
    for entry in results:
        print(f"ef {entry['ef']:>4}: B is {entry['median_a_over_b']:.3f}x A (median of {entry['rounds']} pairs; "
              f"B faster in {entry['b_faster_rounds']}), totals {entry['total_a_over_b']:.3f}x")
    if args.out:
        report = {"what": "median over pairs of A's CPU seconds / B's, alternating bursts (bench/paired_ab.py)",
                  "timestamp": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()), "machine": machine.describe(),
                  "a": args.a, "b": args.b, "index": args.index, "queries": args.queries, "k": args.k,
                  "bursts": args.bursts, "results": results}
        Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
