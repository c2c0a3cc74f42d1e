"""Does the order of a bulk add change the graph? Recall@10 at fixed ef, and build time, by order.

    python bench/insertion_order.py                      # writes bench/results/insertion_order.json
    python bench/insertion_order.py --n 10000 --seeds 0,1 --out /tmp/order.json

Orders, each a permutation of the rows passed to one `Index.add(rows[order], ids=order)` (ids are
the original row numbers, so ground truth is unchanged):
- `random`: a seeded permutation (the baseline);
- `lid-desc` / `lid-asc`: by local intrinsic dimensionality, highest / lowest first. LID is the
  maximum-likelihood estimate over each row's k=20 exact nearest neighbours (Levina-Bickel, as used
  by Elliott & Clark 2024): LID = -1 / mean_i log(d_i / d_k); ties broken by the seed;
- `clusters`: k-means (sqrt(n) centroids, seeded Lloyd iterations), clusters in a seeded random
  order, rows within a cluster in a seeded random order.

Data: the first --n rows of the Debian MiniLM dev set (cosine) with its 1000 test queries, and a
seeded synthetic set (datasets.make_clustered: overlapping Gaussian blobs, 64-d, l2). Every build
uses 1 thread, so the graph is a function of (order, seed) alone; each seed also seeds the
index's level draws, so the seed-to-seed spread of `random` is the noise floor an order must beat.
Recall does not depend on timing, so it is reliable on a busy machine; build seconds are not.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import groundtruth, machine, metrics  # noqa: E402
from bench.datasets import Dataset, load_hdf5, make_clustered  # noqa: E402

DEV_SET = "/work/shared/data/debian-minilm-384-angular.hdf5"
ORDERS = ("random", "lid-desc", "lid-asc", "clusters")
EFS = (10, 16, 32, 64)
LID_K = 20


def knn_distances(data: np.ndarray, metric: str, k: int) -> np.ndarray:
    """(n, k) distances to each row's k nearest other rows; Euclidean on unit vectors for cosine,
    because the MLE assumes distances that scale like a metric's."""
    rows = groundtruth.normalized(data) if metric == "cosine" else data
    ids, _ = groundtruth.brute_force(rows, rows, "l2", k + 1)
    neighbours = rows[ids[:, 1:]]
    return np.sqrt(np.einsum("nkd,nkd->nk", neighbours - rows[:, None, :], neighbours - rows[:, None, :]))


def lid_mle(distances: np.ndarray) -> np.ndarray:
    """Levina-Bickel MLE per row from its sorted k-NN distances; inf where all k are at distance 0."""
    distances = np.maximum(distances.astype(np.float64), 1e-12)
    logs = np.log(distances[:, :-1] / distances[:, -1:])
    mean = logs.mean(axis=1)
    with np.errstate(divide="ignore"):
        return np.where(mean < 0, -1.0 / mean, np.inf)


def kmeans_labels(data: np.ndarray, clusters: int, seed: int, iterations: int = 10) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centroids = data[rng.choice(len(data), clusters, replace=False)].copy()
    for _ in range(iterations):
        labels, _ = groundtruth.brute_force(centroids, data, "l2", 1)
        labels = labels[:, 0]
        for c in range(clusters):
            members = data[labels == c]
            if len(members):
                centroids[c] = members.mean(axis=0)
    return groundtruth.brute_force(centroids, data, "l2", 1)[0][:, 0]


def make_order(name: str, n: int, seed: int, lid: np.ndarray, labels: np.ndarray) -> np.ndarray:
    rng = np.random.default_rng(seed)
    tiebreak = rng.permutation(n)
    if name == "random":
        return tiebreak
    if name == "lid-desc":
        return tiebreak[np.lexsort((np.arange(n), -lid[tiebreak]))]
    if name == "lid-asc":
        return tiebreak[np.lexsort((np.arange(n), lid[tiebreak]))]
    if name == "clusters":
        cluster_rank = rng.permutation(labels.max() + 1)
        return tiebreak[np.lexsort((np.arange(n), cluster_rank[labels[tiebreak]]))]
    raise ValueError(f"unknown order {name!r}; expected one of {ORDERS}")


def build_and_measure(dataset: Dataset, order: np.ndarray, seed: int, args) -> dict:
    import vecindex
    index = vecindex.Index(dataset.dim, metric=dataset.metric, dtype="f32", M=args.M,
                           ef_construction=args.ef_construction, seed=seed)
    rows = np.ascontiguousarray(dataset.train[order])
    start, start_cpu = time.perf_counter(), time.process_time()
    index.add(rows, ids=order.astype(np.int64), threads=1)
    build_seconds, build_cpu = time.perf_counter() - start, time.process_time() - start_cpu
    recalls = {}
    for ef in EFS:
        ids, _ = index.search(dataset.test, k=args.k, ef=ef, threads=1)
        true = groundtruth.distances_to(dataset.train, dataset.test, np.asarray(ids, np.int64), dataset.metric)
        recalls[str(ef)] = metrics.recall_by_distance(true, dataset.gt_distances, args.k)
    return {"seed": seed, "build_seconds": build_seconds, "build_cpu_seconds": build_cpu, "recall": recalls}


def summarise(runs: dict) -> dict:
    """Per order and ef: mean recall over seeds, its seed-to-seed range, and the change from random."""
    out = {}
    for name, per_seed in runs.items():
        out[name] = {"build_seconds_mean": float(np.mean([r["build_seconds"] for r in per_seed]))}
        for ef in map(str, EFS):
            values = [r["recall"][ef] for r in per_seed]
            base = [r["recall"][ef] for r in runs["random"]]
            out[name][f"ef{ef}"] = {"mean": float(np.mean(values)), "min": float(min(values)),
                                    "max": float(max(values)),
                                    "minus_random": float(np.mean(values) - np.mean(base))}
    return out


def lid_of(dataset: Dataset, cache: Path | None) -> np.ndarray:
    """LID per row, cached by a hash of the data (the k-NN pass is the slow part)."""
    key = hashlib.blake2b(np.ascontiguousarray(dataset.train).data, digest_size=10).hexdigest()
    cache_file = Path(cache) / f"lid-{key}-{dataset.metric}-{LID_K}.npy" if cache else None
    if cache_file is not None and cache_file.exists():
        return np.load(cache_file)
    lid = lid_mle(knn_distances(dataset.train, dataset.metric, LID_K))
    if cache_file is not None:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        np.save(cache_file, lid)
    return lid


def prepare(dataset: Dataset, cache: Path | None, log) -> dict:
    start = time.perf_counter()
    lid = lid_of(dataset, cache)
    finite = lid[np.isfinite(lid)]
    log(f"{dataset.name}: LID median {np.median(finite):.1f} (p10 {np.percentile(finite, 10):.1f}, "
        f"p90 {np.percentile(finite, 90):.1f}) in {time.perf_counter() - start:.0f}s")
    return {"name": dataset.name, "n": len(dataset.train), "dim": dataset.dim, "metric": dataset.metric,
            "queries": int(len(dataset.test)),
            "lid": {"k": LID_K, "median": float(np.median(finite)), "p10": float(np.percentile(finite, 10)),
                    "p90": float(np.percentile(finite, 90)), "infinite": int(len(lid) - len(finite))},
            "runs": {name: [] for name in ORDERS}, "_lid": lid}


def run_seed(dataset: Dataset, entry: dict, seed: int, args, log) -> None:
    n = len(dataset.train)
    clustered = groundtruth.normalized(dataset.train) if dataset.metric == "cosine" else dataset.train
    labels = kmeans_labels(clustered, max(2, int(np.sqrt(n))), seed)
    for name in ORDERS:
        result = build_and_measure(dataset, make_order(name, n, seed, entry["_lid"], labels), seed, args)
        entry["runs"][name].append(result)
        log(f"  {dataset.name} seed {seed} {name:<9} build {result['build_seconds']:6.1f}s  recall " +
            " ".join(f"ef{ef}={value:.4f}" for ef, value in result["recall"].items()))
    entry["summary"] = summarise(entry["runs"])


def datasets_for(args) -> list[Dataset]:
    real = load_hdf5(Path(args.dataset))
    dev = Dataset(name=f"{real.name}-first{args.n}", train=np.ascontiguousarray(real.train[:args.n]),
                  test=real.test, metric=real.metric, source=real.source)
    synthetic = make_clustered(n_train=args.n, n_test=1000, dim=64, n_clusters=64, metric="l2", seed=1234)
    for dataset in (dev, synthetic):
        groundtruth.ensure(dataset, args.k, None)
    return [dev, synthetic]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default=DEV_SET)
    parser.add_argument("--n", type=int, default=20_000, help="rows of each data set")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--M", type=int, default=16)
    parser.add_argument("--ef-construction", type=int, default=200)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--cache", default="results/cache/insertion_order", help="LID cache ('' = none)")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "insertion_order.json"))
    args = parser.parse_args(argv)
    args.seeds = [int(s) for s in args.seeds.split(",")]
    log = lambda line: print(line, flush=True)  # noqa: E731
    report = {"machine": machine.describe(), "command": sys.argv,
              "params": {"n": args.n, "seeds": args.seeds, "M": args.M, "ef_construction": args.ef_construction,
                         "k": args.k, "efs": list(EFS), "build_threads": 1, "lid_k": LID_K, "dtype": "f32"},
              "datasets": []}
    cache = Path(args.cache) if args.cache else None
    data = datasets_for(args)
    entries = [prepare(dataset, cache, log) for dataset in data]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    # Seed by seed over both data sets, writing the JSON after each, so a run stopped early
    # still leaves every completed seed on disk.
    for seed in args.seeds:
        for dataset, entry in zip(data, entries):
            run_seed(dataset, entry, seed, args, log)
            report["datasets"] = [{k: v for k, v in e.items() if k != "_lid"} for e in entries]
            report["seeds_completed"] = args.seeds[:args.seeds.index(seed) + (entry is entries[-1])]
            out.write_text(json.dumps(report, indent=2) + "\n")
    log(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
