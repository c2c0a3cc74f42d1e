"""Compressed dtypes in one run: memory, build/train time, recall@10 vs QPS with and without
reranking, against faiss IndexHNSWSQ (8-bit), IndexHNSWPQ and IndexRefineFlat at the same code size.

    python bench/compressed.py --dataset /work/shared/data/debian-minilm-384-angular.hdf5

Every index is built first; then each of --repeats rounds times every (index, ef, rerank factor)
once and the best time is kept, so background load hurts all configurations alike. Searches are
one batch call per point with --threads threads (default 1). "rerank off" means rerank_factor=1
(the top-k of the graph walk on codes, only re-sorted by exact distance: the same ids as no
rerank). faiss indexes get L2 on normalised vectors for cosine data (same ranking).
Writes <out>.json and <out>.png.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import machine  # noqa: E402
from bench.datasets import load_hdf5  # noqa: E402
from bench.metrics import qps_at_recall, recall_by_ids  # noqa: E402

import vecindex  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="/work/shared/data/debian-minilm-384-angular.hdf5")
    parser.add_argument("--dtypes", default="f32,f16,bf16,sq8,sq4,pq,rabitq")
    parser.add_argument("--pq-m", type=int, default=48)
    parser.add_argument("--M", type=int, default=16)
    parser.add_argument("--ef-construction", type=int, default=100)
    parser.add_argument("--ef", default="10,16,24,32,48,64,96,128,192,256")
    parser.add_argument("--rerank-factors", default="1,2,4")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--build-threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--no-faiss", action="store_true")
    parser.add_argument("--out", default="results/compressed")
    return parser.parse_args(argv)


class VecindexConfig:
    def __init__(self, dtype, args, dataset):
        self.dtype = dtype
        compressed = dtype in ("sq8", "sq4", "pq", "rabitq")
        options = {"pq_m": args.pq_m} if dtype == "pq" else {}
        self.name = f"vecindex {dtype}" + (f"{args.pq_m}" if dtype == "pq" else "")
        self.index = vecindex.Index(dim=dataset.dim, metric=dataset.metric, dtype=dtype, M=args.M,
                                    ef_construction=args.ef_construction, rerank=compressed, **options)
        self.rerank_factors = [int(f) for f in args.rerank_factors.split(",")] if compressed else [1]
        self.train_seconds = 0.0
        if compressed:
            start = time.perf_counter()
            self.index.train(dataset.train, threads=args.build_threads)
            self.train_seconds = time.perf_counter() - start
        start = time.perf_counter()
        self.index.add(dataset.train, threads=args.build_threads)
        self.build_seconds = time.perf_counter() - start
        usage = self.index.memory_usage()
        n = len(dataset.train)
        self.memory = {"graph_bytes_per_vector": usage["graph"] / n, "codes_bytes_per_vector": usage["codes"] / n,
                       "full_bytes_per_vector": usage["full_vectors"] / n}
        self.exact_distances = not compressed and dtype == "f32"

    def search(self, queries, k, ef, rerank_factor, threads):
        ids, _ = self.index.search(queries, k=k, ef=ef, rerank_factor=rerank_factor, threads=threads)
        return ids


class FaissConfig:
    def __init__(self, kind, args, dataset, refine_factors=(1,)):
        import faiss

        self.faiss = faiss
        faiss.omp_set_num_threads(args.build_threads)
        train = normalised(dataset.train) if dataset.metric == "cosine" else dataset.train
        dim = dataset.dim
        if kind == "sq8":
            base = faiss.IndexHNSWSQ(dim, faiss.ScalarQuantizer.QT_8bit, args.M)
            self.name = "faiss HNSWSQ8"
        elif kind == "pq":
            base = faiss.IndexHNSWPQ(dim, args.pq_m, args.M)
            self.name = f"faiss HNSWPQ{args.pq_m}"
        else:
            base = faiss.IndexHNSWFlat(dim, args.M)
            self.name = "faiss HNSWFlat"
        base.hnsw.efConstruction = args.ef_construction
        self.hnsw = base.hnsw
        self.base = base
        self.rerank_factors = list(refine_factors)
        # IndexRefineFlat must wrap the base while it is empty; its add() fills both.
        self.refine = faiss.IndexRefineFlat(base) if max(refine_factors) > 1 else None
        if self.refine is not None:
            self.name += " +RefineFlat"
        top = self.refine if self.refine is not None else base
        start = time.perf_counter()
        if not top.is_trained:
            top.train(train)
        self.train_seconds = time.perf_counter() - start
        start = time.perf_counter()
        top.add(train)
        self.build_seconds = time.perf_counter() - start
        n = len(train)
        graph_bytes = self.hnsw.neighbors.size() * 4 + self.hnsw.offsets.size() * 8 + self.hnsw.levels.size() * 4
        code_size = faiss.downcast_index(base.storage).sa_code_size()
        self.memory = {"graph_bytes_per_vector": graph_bytes / n, "codes_bytes_per_vector": float(code_size),
                       "full_bytes_per_vector": float(dim * 4 if self.refine is not None else 0)}
        self.cosine = dataset.metric == "cosine"

    def search(self, queries, k, ef, rerank_factor, threads):
        self.faiss.omp_set_num_threads(threads)
        self.hnsw.efSearch = max(ef, k * rerank_factor)
        queries = normalised(queries) if self.cosine else queries
        if self.refine is not None and rerank_factor > 1:
            params = self.faiss.IndexRefineSearchParameters(k_factor=float(rerank_factor))
            _, ids = self.refine.search(queries, k, params=params)
        else:
            _, ids = self.base.search(queries, k)
        return ids


def normalised(matrix):
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.ascontiguousarray(matrix / np.maximum(norms, 1e-30), dtype=np.float32)


def build_all(args, dataset, log):
    configs = []
    for dtype in args.dtypes.split(","):
        log(f"building vecindex {dtype} ...")
        config = VecindexConfig(dtype, args, dataset)
        log(f"  train {config.train_seconds:.1f}s build {config.build_seconds:.1f}s memory {config.memory}")
        configs.append(config)
    if not args.no_faiss:
        factors = tuple(int(f) for f in args.rerank_factors.split(","))
        for kind in ("sq8", "pq"):
            log(f"building faiss {kind} ...")
            config = FaissConfig(kind, args, dataset, factors)
            log(f"  train {config.train_seconds:.1f}s build {config.build_seconds:.1f}s memory {config.memory}")
            configs.append(config)
    return configs


def sweep(configs, args, dataset, log):
    efs = [int(e) for e in args.ef.split(",")]
    best = {}
    for round_index in range(args.repeats):
        log(f"round {round_index + 1}/{args.repeats}")
        for ef in efs:
            for config in configs:
                for factor in config.rerank_factors:
                    start = time.perf_counter()
                    ids = config.search(dataset.test, args.k, ef, factor, args.threads)
                    seconds = time.perf_counter() - start
                    key = (config.name, factor, ef)
                    if key not in best or seconds < best[key][0]:
                        best[key] = (seconds, recall_by_ids(np.asarray(ids), dataset.gt_ids, args.k))
    series = {}
    for (name, factor, ef), (seconds, recall) in best.items():
        label = name if factor == 1 else f"{name} rerank x{factor}"
        series.setdefault(label, {"config": name, "rerank_factor": factor, "points": []})
        series[label]["points"].append({"ef": ef, "recall": recall, "qps": len(dataset.test) / seconds})
    return series


def summarise(configs, series, f32_name="vecindex f32"):
    by_name = {config.name: config for config in configs}
    f32 = by_name.get(f32_name)
    f32_ram = (f32.memory["graph_bytes_per_vector"] + f32.memory["codes_bytes_per_vector"]) if f32 else None
    rows = []
    for label, data in series.items():
        config = by_name[data["config"]]
        points = sorted(data["points"], key=lambda p: p["ef"])
        ram = config.memory["graph_bytes_per_vector"] + config.memory["codes_bytes_per_vector"]
        rows.append({
            "label": label, "rerank_factor": data["rerank_factor"],
            "graph_plus_codes_bytes_per_vector": round(ram, 1),
            "full_vectors_bytes_per_vector": round(config.memory["full_bytes_per_vector"], 1),
            "ram_vs_f32_index": round(ram / f32_ram, 3) if f32_ram else None,
            "train_seconds": round(config.train_seconds, 2), "build_seconds": round(config.build_seconds, 2),
            "qps_at_0.90": qps_at_recall(points, 0.90), "qps_at_0.95": qps_at_recall(points, 0.95),
            "max_recall": max(p["recall"] for p in points),
            "recall_by_ef": {p["ef"]: round(p["recall"], 4) for p in points},
            "qps_by_ef": {p["ef"]: round(p["qps"]) for p in points},
        })
    return rows


def print_table(rows, log):
    log("| config | RAM B/vec (graph+codes) | full B/vec | RAM/f32 | train s | build s | QPS@0.90 | QPS@0.95 | max recall |")
    log("|---|---|---|---|---|---|---|---|---|")
    fmt = lambda value: "-" if value is None else f"{value:.0f}"  # noqa: E731
    for row in rows:
        log(f"| {row['label']} | {row['graph_plus_codes_bytes_per_vector']:.0f} | {row['full_vectors_bytes_per_vector']:.0f} "
            f"| {row['ram_vs_f32_index']} | {row['train_seconds']:.1f} | {row['build_seconds']:.1f} "
            f"| {fmt(row['qps_at_0.90'])} | {fmt(row['qps_at_0.95'])} | {row['max_recall']:.3f} |")


def plot(series, path, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(9, 6), dpi=120)
    for label, data in series.items():
        points = sorted(data["points"], key=lambda p: p["ef"])
        style = "--" if label.startswith("faiss") else "-"
        axes.plot([p["recall"] for p in points], [p["qps"] for p in points], style, marker="o", markersize=3,
                  label=label)
    axes.axvline(0.95, color="0.8", linewidth=0.8)
    axes.set_yscale("log")
    axes.set_xlabel("recall@10")
    axes.set_ylabel("queries per second (1 thread, batch)")
    axes.set_title(title, fontsize=10)
    axes.grid(True, which="both", linestyle=":", linewidth=0.5)
    axes.legend(fontsize=7, loc="lower left")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def main(argv=None):
    args = parse_args(argv)
    log = lambda text: print(text, flush=True)  # noqa: E731
    dataset = load_hdf5(Path(args.dataset))
    log(f"dataset {dataset.name}: {dataset.train.shape} {dataset.metric}, simd {vecindex.simd_info()}")
    configs = build_all(args, dataset, log)
    series = sweep(configs, args, dataset, log)
    rows = summarise(configs, series)
    print_table(rows, log)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    report = {"machine": machine.describe(), "dataset": dataset.describe(), "params": vars(args),
              "summary": rows, "series": series}
    out.with_suffix(".json").write_text(json.dumps(report, indent=1, default=str))
    plot(series, out.with_suffix(".png"), f"{dataset.name} {dataset.train.shape}, M={args.M}, efC={args.ef_construction}")
    log(f"wrote {out.with_suffix('.json')} and {out.with_suffix('.png')}")


if __name__ == "__main__":
    main()
