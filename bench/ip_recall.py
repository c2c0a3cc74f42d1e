"""Inner-product recall study: vecindex vs hnswlib, same M / ef_construction / ef, per build seed.

    python bench/ip_recall.py                       # the three shapes of tests/test_ip_recall.py
    python bench/ip_recall.py --seeds 1 2 3 4 5 6   # per-seed spread
    python bench/ip_recall.py --debian /work/shared/data/debian-minilm-384-angular.hdf5

The synthetic shapes are the test's own (imported from it, so the study and the test measure the
same data). The Debian set is unit-norm; its rows are rescaled to norms uniform in 0.2-3 so that
inner product differs from cosine. Recall@10 is against exact inner product.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import test_ip_recall as shapes  # noqa: E402
from conftest import brute_force  # noqa: E402


def debian(path: str, seed: int, count: int = 10000, queries: int = 200):
    import h5py
    with h5py.File(path, "r") as f:
        train, test = f["train"][:count], f["test"][:queries]
    norms = np.random.default_rng(seed).uniform(0.2, 3.0, size=(count, 1))
    return (train * norms).astype(np.float32), test.astype(np.float32)


def timed(build, *args):
    start = time.perf_counter()
    recalls = build(*args)
    return recalls, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--debian", help="path of debian-minilm-384-angular.hdf5 (adds that set)")
    args = parser.parse_args()
    sets = ["gaussian", "clustered_varied_norms", "unit_norm"] + (["debian"] if args.debian else [])
    print(f"{'data':24s} {'seed':>4s} {'lib':9s} " + " ".join(f"ef={ef:<4d}" for ef in shapes.EFS) + "  build+search s")
    for name in sets:
        for seed in args.seeds:
            data, queries = debian(args.debian, seed) if name == "debian" else shapes.make_shape(name, seed)
            shapes.DIM, shapes.COUNT = data.shape[1], len(data)
            truth, _ = brute_force(data, queries, shapes.K, "ip")
            for lib, run in (("vecindex", shapes.vecindex_recalls), ("hnswlib", shapes.hnswlib_recalls)):
                recalls, seconds = timed(run, data, queries, truth, seed)
                print(f"{name:24s} {seed:4d} {lib:9s} " + " ".join(f"{r:7.4f}" for r in recalls) + f"  {seconds:6.2f}",
                      flush=True)


if __name__ == "__main__":
    main()
