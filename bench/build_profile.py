"""Build time of the default index against hnswlib, same data, same M / ef_construction / threads.

    python bench/build_profile.py                                # 50k dev rows, 2 threads, 3 repeats
    python bench/build_profile.py --n 20000 --repeats 2 --label after --out /tmp/build.json
    python bench/build_profile.py --libs vecindex --repeats 1 --efs ""   # one build, e.g. under perf:
    perf record -F 499 -g -o /tmp/build.perf -- python bench/build_profile.py --libs vecindex --repeats 1 --efs ""

Each repeat builds every library once, in alternating order (ab, ba, ab, ...), so a load change on a
shared machine hits both sides alike. Per build it records wall seconds and the process's CPU
seconds (user + system over all threads, from getrusage: the fair clock on a loaded machine), then
recall@k at each --efs with one search thread (ann-benchmarks recall by distance). The ratio
"vecindex / hnswlib" is taken per repeat, from builds that ran next to each other, and summarised by
its median. The libraries are built as bench/peers.py builds them: "vecindex" is `Index(dim, metric,
M, ef_construction)`, the default a user gets; "vecindex-f32" is the same with dtype="f32" (its
graph is linked exactly as the default's, so it shows what the codec's training and encoding cost).
With 2 build threads the link order varies, so recall is averaged over repeats.
"""
from __future__ import annotations

import argparse
import gc
import json
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import groundtruth, machine, metrics  # noqa: E402
from bench.datasets import Dataset, load_hdf5  # noqa: E402
from bench.peers import ADAPTERS  # noqa: E402

DEV_SET = "/work/shared/data/debian-minilm-384-angular.hdf5"


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def load_dev(path: str, n: int, k: int) -> Dataset:
    real = load_hdf5(Path(path))
    if n >= len(real.train):
        groundtruth.ensure(real, k, None)
        return real
    subset = Dataset(name=f"{real.name}-first{n}", train=np.ascontiguousarray(real.train[:n]), test=real.test,
                     metric=real.metric, source=real.source)
    groundtruth.ensure(subset, k, None)  # the file's neighbours are over all rows
    return subset


def build_once(name: str, dataset: Dataset, args) -> dict:
    adapter = ADAPTERS[name](dataset.metric, dataset.dim)
    gc.collect()
    start, start_cpu = time.perf_counter(), cpu_seconds()
    adapter.build(dataset.train, args.M, args.ef_construction, args.threads)
    result = {"wall_seconds": time.perf_counter() - start, "cpu_seconds": cpu_seconds() - start_cpu, "recall": {}}
    for ef in args.efs:
        ids = adapter.search(dataset.test, args.k, ef, 1)
        true = groundtruth.distances_to(dataset.train, dataset.test, ids, dataset.metric)
        result["recall"][str(ef)] = metrics.recall_by_distance(true, dataset.gt_distances, args.k)
    del adapter
    gc.collect()
    return result


def summarise(runs: dict, libs: list[str], efs: list[int]) -> dict:
    summary = {}
    for name in libs:
        builds = runs[name]
        summary[name] = {
            "wall_seconds_median": statistics.median(b["wall_seconds"] for b in builds),
            "cpu_seconds_median": statistics.median(b["cpu_seconds"] for b in builds),
            "recall_mean": {str(ef): float(np.mean([b["recall"][str(ef)] for b in builds])) for ef in efs},
        }
    if "hnswlib" in libs:
        for name in libs:
            if name == "hnswlib":
                continue
            pairs = list(zip(runs[name], runs["hnswlib"]))
            summary[name]["ratio_to_hnswlib"] = {
                "wall_per_repeat": [a["wall_seconds"] / b["wall_seconds"] for a, b in pairs],
                "cpu_per_repeat": [a["cpu_seconds"] / b["cpu_seconds"] for a, b in pairs],
            }
            for clock in ("wall", "cpu"):
                summary[name]["ratio_to_hnswlib"][f"{clock}_median"] = statistics.median(
                    summary[name]["ratio_to_hnswlib"][f"{clock}_per_repeat"])
    return summary


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default=DEV_SET)
    parser.add_argument("--n", type=int, default=50_000, help="first n rows of the data set")
    parser.add_argument("--libs", default="vecindex,hnswlib", help=f"comma list of {sorted(ADAPTERS)}")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="build threads")
    parser.add_argument("--M", type=int, default=16)
    parser.add_argument("--ef-construction", type=int, default=200)
    parser.add_argument("--efs", default="10,16,32,64,128", help="recall@k at these ef ('' = no recall)")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--label", default="", help="free text stored in the JSON (e.g. a commit)")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "build_profile.json"))
    args = parser.parse_args(argv)
    libs = [name.strip() for name in args.libs.split(",") if name.strip()]
    unknown = [name for name in libs if name not in ADAPTERS]
    if unknown:
        parser.error(f"unknown libraries {unknown}; choose from {sorted(ADAPTERS)}")
    for name in libs:
        reason = ADAPTERS[name].unavailable_reason()
        if reason:
            parser.error(f"{name}: {reason}")
    args.efs = [int(ef) for ef in args.efs.split(",") if ef.strip()]

    dataset = load_dev(args.dataset, args.n, args.k)
    report = {"machine": machine.describe(), "command": sys.argv, "label": args.label,
              "dataset": dataset.describe(),
              "params": {"M": args.M, "ef_construction": args.ef_construction, "build_threads": args.threads,
                         "search_threads": 1, "k": args.k, "efs": args.efs, "repeats": args.repeats},
              "runs": {name: [] for name in libs}}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    for repeat in range(args.repeats):
        order = libs if repeat % 2 == 0 else libs[::-1]
        for name in order:
            result = build_once(name, dataset, args)
            report["runs"][name].append(result)
            print(f"repeat {repeat} {name:<13} wall {result['wall_seconds']:6.2f}s  cpu {result['cpu_seconds']:6.2f}s  "
                  + " ".join(f"ef{ef}={value:.4f}" for ef, value in result["recall"].items()), flush=True)
        report["summary"] = summarise({k: v for k, v in report["runs"].items()}, libs, args.efs)
        report["load_average_at_end"] = machine.load_average()
        out.write_text(json.dumps(report, indent=2) + "\n")  # after every repeat: a stopped run keeps its data
    for name, entry in report["summary"].items():
        ratio = entry.get("ratio_to_hnswlib")
        print(f"{name:<13} median wall {entry['wall_seconds_median']:.2f}s cpu {entry['cpu_seconds_median']:.2f}s"
              + (f"  ratio to hnswlib: wall {ratio['wall_median']:.3f} cpu {ratio['cpu_median']:.3f}" if ratio else ""))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
