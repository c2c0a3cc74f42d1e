"""Multi-vector (late-interaction) retrieval on the Debian multi-vector set, single thread,
recall@10 against exact Chamfer, in one run:

1. exact brute force: numpy as a user would write it, and vecindex's SIMD kernel;
2. per-token retrieval (pre-MUVERA): an Index over every document token, the top k' per query
   token, the union of their documents reranked by exact Chamfer;
3. MUVERA: MultiVectorIndex (encodings in an HNSW Index + exact rerank) swept over candidates
   and ef at several encoding sizes;
plus filtered multi-vector search at about 1%, 10% and 50% selectivity.

    python bench/multivector.py [--queries 500] [--recall-only] [--out bench/results/multivector.json]

--recall-only skips every timing (recall does not depend on machine load), for picking defaults.
"""
from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import vecindex  # noqa: E402
from bench.cache_keys import cached_index_path  # noqa: E402
from bench.machine import describe, load_average  # noqa: E402

_NAME = "debian-multivector-128.hdf5"
# Beside the repository (../shared/data), as the other benchmarks expect, else /work/shared/data.
DATA = next((p for p in (Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / _NAME,
                         Path("/work/shared/data") / _NAME) if p.exists()),
            Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / _NAME)
K = 10
TARGET = 0.95
# Encoding sizes: r_reps * 2^k_sim * d_proj dimensions (or final_dim).
# Picked from the encodings' own recall (exact top-c by encoding inner product, 200 queries):
# at 2560 dimensions, 4 buckets x 64 projected dims x 10 repetitions needs half the candidates
# of 16 buckets x 16 dims (documents have only ~19 tokens, so most of 16 buckets are empty),
# and matches 5120-dimensional 16 x 16 x 20.
FDE_CONFIGS = [
    {"k_sim": 3, "d_proj": 16, "r_reps": 10, "final_dim": 0},   # 1280
    {"k_sim": 2, "d_proj": 64, "r_reps": 10, "final_dim": 0},   # 2560 (the default)
]
EF_CONSTRUCTION = 100  # halves build time; candidates (>= 40) set the search beam anyway
FILTERED_QUERIES = 200
CANDIDATES = [20, 40, 80, 120, 160, 240, 320, 480]
TOKEN_KS = [2, 4, 8, 16, 32]
SELECTIVITIES = [0.01, 0.10, 0.50]


def load(path: Path):
    import h5py
    with h5py.File(path, "r") as f:
        data = {name: np.asarray(f[name]) for name in ("doc_tokens", "doc_offsets", "query_tokens", "query_offsets",
                                                        "neighbors", "scores")}
        data["section"] = [v.decode() if isinstance(v, bytes) else str(v) for v in f["doc_attrs/section"]]
    data["doc_tokens"] = data["doc_tokens"].astype(np.float32)
    data["query_tokens"] = data["query_tokens"].astype(np.float32)
    return data


def split(tokens, offsets):
    return [tokens[offsets[i]:offsets[i + 1]] for i in range(len(offsets) - 1)]


def recall_by_score(found_scores, truth_scores):
    """A returned document counts when its exact Chamfer score reaches the 10th true score
    (minus float tolerance), so equal-scoring documents are not misses."""
    kth = truth_scores[:, K - 1][:, None] - 1e-4 * np.maximum(1.0, np.abs(truth_scores[:, K - 1][:, None]))
    hits = np.minimum((found_scores[:, :K] >= kth).sum(axis=1), K)
    return float(hits.sum() / (len(truth_scores) * K))


def timed(function, repeats=1):
    best = float("inf")
    result = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return result, best


def numpy_chamfer_topk(doc_tokens, doc_offsets, query):
    """Exact Chamfer as a user would write it in numpy."""
    similarities = doc_tokens @ query.T                                       # (tokens, m)
    best = np.maximum.reduceat(similarities, doc_offsets[:-1], axis=0)        # (docs, m)
    scores = best.sum(axis=1)
    top = np.argpartition(-scores, K)[:K]
    return top[np.argsort(-scores[top])], scores


def run_exact(data, queries, timing):
    sample = queries[:50]
    out = {"queries_timed": len(sample)}
    if timing:
        _, seconds = timed(lambda: [numpy_chamfer_topk(data["doc_tokens"], data["doc_offsets"], q) for q in sample])
        out["numpy_qps"] = len(sample) / seconds
    return out


CACHE = None  # --cache: a folder of built indexes, so builds need not share the timed run


def cached(name, params, data, build, load):
    """(index, build seconds, load average while building), built once per --cache folder under a
    name keyed by the code version, the build parameters and the data (bench/cache_keys.py)."""
    if CACHE is None:
        before = load_average()
        index, seconds = build()
        return index, seconds, before
    base = cached_index_path(CACHE, "vecindex", {"kind": name, **params}, data, "")
    path, note = base.with_name(f"{base.name}-{name}.vx"), base.with_name(f"{base.name}-{name}.json")
    if path.exists() and note.exists():
        info = json.loads(note.read_text())
        return load(path), info["build_seconds"], info["load_average"]
    before = load_average()
    index, seconds = build()
    index.save(path)
    note.write_text(json.dumps({"build_seconds": seconds, "load_average": before}))
    return index, seconds, before


def build_muvera(data, config, dtype):
    def build():
        index = vecindex.MultiVectorIndex(128, dtype, "f16", **config, ef_construction=EF_CONSTRUCTION,
                                          attributes={"section": "keyword"})
        start = time.perf_counter()
        index.add((data["doc_tokens"], data["doc_offsets"]), attrs={"section": data["section"]}, threads=2)
        return index, time.perf_counter() - start
    params = {**config, "dtype": dtype, "tokens": "f16", "ef_construction": EF_CONSTRUCTION}
    return cached("muvera", params, data["doc_tokens"], build, vecindex.MultiVectorIndex.load)


def sweep_muvera(index, queries, truth_scores, timing, efs=(None,)):
    points = []
    for candidates in CANDIDATES:
        for ef_scale in efs:
            ef = None if ef_scale is None else int(candidates * ef_scale)
            start = time.perf_counter()
            _, scores = index.search(queries, k=K, candidates=candidates, ef=ef, threads=1)
            seconds = time.perf_counter() - start
            point = {"candidates": candidates, "ef": ef or candidates, "recall": recall_by_score(scores, truth_scores)}
            if timing:
                point["qps"] = len(queries) / seconds
            points.append(point)
    return points


def encoding_recall(index, docs_packed, queries, truth_ids):
    """How many candidates the encodings alone need: exact top-c by encoding inner product."""
    doc_codes = index.encode_documents(docs_packed, threads=2)
    query_codes = index.encode_queries(queries, threads=2)
    order = np.argsort(-(query_codes @ doc_codes.T), axis=1)
    out = {}
    for candidates in CANDIDATES:
        top = order[:, :candidates]
        out[candidates] = float(np.mean([len(set(top[i]) & set(truth_ids[i, :K])) / K for i in range(len(queries))]))
    return out


def per_token(data, muvera_index, queries, truth_scores, timing):
    token_doc = np.repeat(np.arange(len(data["doc_offsets"]) - 1), np.diff(data["doc_offsets"]))
    def build_tokens():
        index = vecindex.Index(dim=128, metric="ip", dtype="f16", M=16, ef_construction=EF_CONSTRUCTION)
        start = time.perf_counter()
        index.add(data["doc_tokens"], threads=2)
        return index, time.perf_counter() - start
    params = {"metric": "ip", "dtype": "f16", "M": 16, "ef_construction": EF_CONSTRUCTION}
    tokens, build, build_load = cached("tokens", params, data["doc_tokens"], build_tokens, vecindex.Index.load)
    points = []
    for token_k in TOKEN_KS:
        ef = max(token_k, 32)
        start = time.perf_counter()
        found = np.empty((len(queries), K), np.float32)
        union_sizes = []
        for q, query in enumerate(queries):
            ids, _ = tokens.search(query, k=token_k, ef=ef, threads=1)
            candidates = np.unique(token_doc[ids[ids >= 0]])
            union_sizes.append(candidates.size)
            _, found[q] = muvera_index.rerank(query, candidates, k=K, threads=1)
        seconds = time.perf_counter() - start
        point = {"token_k": token_k, "ef": ef, "recall": recall_by_score(found, truth_scores),
                 "mean_candidates": float(np.mean(union_sizes))}
        if timing:
            point["qps"] = len(queries) / seconds
        points.append(point)
    memory = tokens.memory_usage()
    return {"build_seconds": build, "build_load_average": build_load, "points": points,
            "memory_per_document": (memory["graph"] + memory["codes"]) / (len(data["doc_offsets"]) - 1)}


def selectivity_filters(sections):
    counts = {}
    for s in sections:
        counts[s] = counts.get(s, 0) + 1
    total = len(sections)
    chosen = {}
    for target in SELECTIVITIES:
        if target <= 0.2:
            name = min(counts, key=lambda s: abs(counts[s] / total - target))
            chosen[target] = ([name], counts[name] / total)
        else:  # greedy: largest sections until about half the documents
            names, covered = [], 0
            for name in sorted(counts, key=lambda s: -counts[s]):
                if covered / total >= target:
                    break
                names.append(name)
                covered += counts[name]
            chosen[target] = (names, covered / total)
    return chosen


def filtered(data, index, queries, exact_ids, exact_scores, timing):
    sections = np.array(data["section"])
    out = []
    for target, (names, selectivity) in selectivity_filters(data["section"]).items():
        mask = np.isin(sections, names)
        truth = np.full((len(queries), K), -np.inf, np.float32)
        for q in range(len(queries)):
            keep = mask[exact_ids[q]]
            best = exact_scores[q][keep][:K]
            truth[q, :best.size] = best
        expression = vecindex.F.section.isin(names)
        for candidates in (40, 80, 160, 320):
            start = time.perf_counter()
            ids, scores = index.search(queries, k=K, candidates=candidates, filter=expression, threads=1)
            seconds = time.perf_counter() - start
            assert mask[ids[ids >= 0]].all()
            point = {"target": target, "selectivity": selectivity, "sections": len(names), "candidates": candidates,
                     "recall": recall_by_score(scores, truth)}
            if timing:
                point["qps"] = len(queries) / seconds
            out.append(point)
    return out


def fastest_at(points, target=TARGET):
    ok = [p for p in points if p["recall"] >= target and "qps" in p]
    return max(ok, key=lambda p: p["qps"]) if ok else None


def markdown(report: dict) -> str:
    """The README tables: approaches at recall 0.95, MUVERA sweep, filtered, memory."""
    lines = ["| approach | setting | recall@10 | QPS (1 thread) |", "| --- | --- | --- | --- |"]
    exact = report["exact"]
    lines.append(f"| exact, numpy | brute force | 1.000 | {exact.get('numpy_qps', float('nan')):.1f} |")
    lines.append(f"| exact, vecindex kernel | `search(exact=True)` | 1.000 | {exact.get('kernel_qps', float('nan')):.1f} |")
    for point in report.get("per_token", {}).get("points", []):
        lines.append(f"| per-token + rerank | k'={point['token_k']} ({point['mean_candidates']:.0f} docs) | "
                     f"{point['recall']:.3f} | {point.get('qps', float('nan')):.0f} |")
    for entry in report["muvera"]:
        c = entry["config"]
        name = f"MUVERA {entry['encoding_dim']}-d ({c['k_sim']},{c['d_proj']},{c['r_reps']}) {entry['dtype']}"
        for point in entry["points"]:
            lines.append(f"| {name} | candidates={point['candidates']} ef={point['ef']} | {point['recall']:.3f} | "
                         f"{point.get('qps', float('nan')):.0f} |")
    lines += ["", "| filter | selectivity | candidates | recall@10 | QPS |", "| --- | --- | --- | --- | --- |"]
    for point in report.get("filtered", []):
        lines.append(f"| {point['sections']} section(s) | {point['selectivity']:.3f} | {point['candidates']} | "
                     f"{point['recall']:.3f} | {point.get('qps', float('nan')):.0f} |")
    lines += ["", "| encoding | build s | bytes/doc: graph | encodings | tokens | documents | candidates for 0.95 |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for entry in report["muvera"]:
        m = entry["memory_per_document"]
        lines.append(f"| {entry['encoding_dim']}-d {entry['dtype']} | {entry['build_seconds']:.0f} | {m['graph']:.0f} | "
                     f"{m['encodings']:.0f} | {m['tokens']:.0f} | {m['documents']:.0f} | {entry['candidates_for_095']} |")
    if "per_token" in report:
        lines.append(f"| per-token index | {report['per_token']['build_seconds']:.0f} | "
                     f"{report['per_token']['memory_per_document']:.0f} (graph + f16 tokens) | | | | |")
    return "\n".join(lines)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--recall-only", action="store_true", help="skip timings")
    parser.add_argument("--skip-per-token", action="store_true")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--cache", type=Path, help="keep built indexes here and reuse them (build once, time later)")
    parser.add_argument("--prepare", action="store_true", help="only build (and cache) the indexes")
    parser.add_argument("--markdown", type=Path, help="print the tables of an earlier run's JSON and exit")
    parser.add_argument("--documents", type=int, default=0,
                        help="keep only the first N documents (a smoke run; truth recomputed with numpy)")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results" / "multivector.json")
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.markdown:
        print(markdown(json.loads(args.markdown.read_text())))
        return
    run(args)
    print(f"wrote {args.out}")


def run(args: argparse.Namespace) -> dict:
    """The whole comparison; returns the report (also written to args.out as it grows)."""
    timing = not args.recall_only
    global CACHE
    if args.cache:
        args.cache.mkdir(parents=True, exist_ok=True)
        CACHE = args.cache
    data = load(args.data)
    queries = split(data["query_tokens"], data["query_offsets"])[:args.queries]
    truth_scores = data["scores"][:args.queries]
    truth_ids = data["neighbors"][:args.queries]
    if args.documents:
        data["doc_offsets"] = data["doc_offsets"][:args.documents + 1]
        data["doc_tokens"] = data["doc_tokens"][:data["doc_offsets"][-1]]
        data["section"] = data["section"][:args.documents]
        ranked = [numpy_chamfer_topk(data["doc_tokens"], data["doc_offsets"], q) for q in queries]
        truth_ids = np.array([top for top, _ in ranked])
        truth_scores = np.array([scores[top] for top, scores in ranked], np.float32)
    docs_packed = (data["doc_tokens"], data["doc_offsets"])
    report = {"machine": describe(), "dataset": str(args.data.name), "k": K, "queries": len(queries),
              "documents": len(data["doc_offsets"]) - 1, "tokens": int(data["doc_offsets"][-1]), "timed": timing}
    print(f"{report['documents']} documents, {report['tokens']} tokens, {len(queries)} queries", flush=True)

    def checkpoint():  # partial results survive an interrupted run
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1))

    if args.prepare:
        for config in FDE_CONFIGS:
            build_muvera(data, config, "sq8")
            print(f"[{time.strftime('%H:%M:%S')}] built {config}", flush=True)
        if not args.skip_per_token:
            per_token(data, build_muvera(data, FDE_CONFIGS[1], "sq8")[0], queries[:1], truth_scores[:1], False)
        return report
    report["exact"] = run_exact(data, queries, timing)
    print(f"[{time.strftime('%H:%M:%S')}] exact: {report['exact']}", flush=True)
    results = []
    reference_index = None
    for config in FDE_CONFIGS:
        for dtype in ("sq8",):
            index, build, build_load = build_muvera(data, config, dtype)
            memory = index.memory_usage()
            entry = {"config": config, "dtype": dtype, "encoding_dim": index.encoding["dim"], "build_seconds": build,
                     "build_load_average": build_load,
                     "memory_per_document": {part: value / len(index) for part, value in memory.items()},
                     "encoding_recall": encoding_recall(index, docs_packed, queries, truth_ids),
                     "points": sweep_muvera(index, queries, truth_scores, timing,
                                            efs=(None, 2.0) if config is FDE_CONFIGS[1] else (None,))}
            best = fastest_at(entry["points"])
            reached = [p["candidates"] for p in entry["points"] if p["recall"] >= TARGET and p["ef"] == p["candidates"]]
            entry["candidates_for_095"] = min(reached) if reached else None
            entry["fastest_at_095"] = best
            print(f"[{time.strftime('%H:%M:%S')}]", json.dumps({k: entry[k] for k in ("config", "dtype", "encoding_dim", "build_seconds",
                                                    "candidates_for_095", "fastest_at_095")}), flush=True)
            results.append(entry)
            report["muvera"] = results
            checkpoint()
            if config is FDE_CONFIGS[1]:
                reference_index = index
    report["muvera"] = results

    if timing:
        _, seconds = timed(lambda: reference_index.search(queries[:50], k=K, exact=True, threads=1))
        report["exact"]["kernel_qps"] = 50 / seconds
    if not args.skip_per_token:
        report["per_token"] = per_token(data, reference_index, queries, truth_scores, timing)
        print(f"[{time.strftime('%H:%M:%S')}]", json.dumps(report["per_token"]["points"]), flush=True)
        checkpoint()

    subset = queries[:FILTERED_QUERIES]
    exact_ids, exact_scores = reference_index.search(subset, k=len(reference_index), exact=True, threads=2)
    report["filtered"] = filtered(data, reference_index, subset, exact_ids, exact_scores, timing)
    print(json.dumps(report["filtered"]), flush=True)
    report["load_average_at_end"] = load_average()
    checkpoint()
    return report


if __name__ == "__main__":
    main()
