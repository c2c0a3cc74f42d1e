"""Search throughput on a quiet index versus while other threads add vectors to it.

    python bench/search_during_adds.py [--n 20000] [--dim 64] [--seconds 5] [--adders 1]

Builds an index, then measures single-threaded search QPS (batches of queries, threads=1)
for a fixed time on the quiet index, again while `adders` Python threads keep adding (the
core releases the GIL, so they run at once), and, as a control, while as many threads burn
CPU outside the index. Writes results/concurrent.json and, if
matplotlib is installed, results/concurrent.png.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import threading
import time

import numpy as np

import vecindex


def measure_qps(index, queries: np.ndarray, seconds: float, batch: int = 50) -> tuple[float, int]:
    done, began = 0, time.perf_counter()
    while time.perf_counter() - began < seconds:
        start = (done // batch * batch) % (len(queries) - batch)
        index.search(queries[start:start + batch], k=10, threads=1)
        done += batch
    return done / (time.perf_counter() - began), done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--adders", type=int, default=1)
    parser.add_argument("--out", default="results")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    base = rng.normal(size=(args.n, args.dim)).astype(np.float32)
    queries = rng.normal(size=(2000, args.dim)).astype(np.float32)
    index = vecindex.Index(dim=args.dim, metric="l2", M=16, ef_construction=100, ef_search=64)
    began = time.perf_counter()
    index.add(base)
    build_seconds = time.perf_counter() - began

    quiet_qps, quiet_queries = measure_qps(index, queries, args.seconds)

    stop = threading.Event()
    added = [0] * args.adders

    def keep_adding(slot: int) -> None:
        local = np.random.default_rng(100 + slot)
        while not stop.is_set():
            index.add(local.normal(size=(100, args.dim)).astype(np.float32), threads=1)
            added[slot] += 100

    workers = [threading.Thread(target=keep_adding, args=(i,)) for i in range(args.adders)]
    for worker in workers:
        worker.start()
    time.sleep(0.2)  # let the adders get going
    busy_qps, busy_queries = measure_qps(index, queries, args.seconds)
    stop.set()
    for worker in workers:
        worker.join()

    # Control: the same number of threads burning CPU outside the index (hashlib releases the
    # GIL), to tell plain CPU sharing apart from contention inside the index.
    stop.clear()
    block = os.urandom(1 << 20)

    def burn() -> None:
        while not stop.is_set():
            hashlib.sha256(block).digest()

    burners = [threading.Thread(target=burn) for _ in range(args.adders)]
    for burner in burners:
        burner.start()
    time.sleep(0.2)
    control_qps, _ = measure_qps(index, queries, args.seconds)
    stop.set()
    for burner in burners:
        burner.join()

    result = {
        "n": args.n,
        "dim": args.dim,
        "seconds_per_phase": args.seconds,
        "adder_threads": args.adders,
        "search_threads": 1,
        "build_seconds": round(build_seconds, 2),
        "quiet_qps": round(quiet_qps, 1),
        "qps_during_adds": round(busy_qps, 1),
        "ratio": round(busy_qps / quiet_qps, 3),
        "qps_during_cpu_burn": round(control_qps, 1),
        "vectors_added_during_search": sum(added),
        "adds_per_second": round(sum(added) / (args.seconds + 0.2), 1),
        "queries": {"quiet": quiet_queries, "during_adds": busy_queries},
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "simd": vecindex.simd_info()["level"],
    }
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "concurrent.json"), "w") as handle:
        json.dump(result, handle, indent=2)
    print(json.dumps(result, indent=2))
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    figure, axis = plt.subplots(figsize=(5, 3.5))
    axis.bar(["quiet", f"during adds\n({args.adders} adder thread)", "during CPU burn\n(control)"],
             [quiet_qps, busy_qps, control_qps], color=["#4c72b0", "#dd8452", "#999999"])
    axis.set_ylabel("search QPS (1 search thread, k=10)")
    axis.set_title(f"n={args.n}, dim={args.dim}, {os.cpu_count()} CPUs")
    figure.tight_layout()
    figure.savefig(os.path.join(args.out, "concurrent.png"), dpi=120)


if __name__ == "__main__":
    main()
