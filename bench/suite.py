"""The parts of `run.py --suite`: unfiltered (1 and all threads alternating in one sweep of one build),
build time and index bytes, filtered (bench/filtered.py), compressed (bench/compressed.py),
multivector (bench/multivector.py, on the Debian multi-vector set when it is present), scale
(bench/scale.py: vecindex vs hnswlib as N grows, on data generated from the --dataset HDF5 file).

Each part returns a JSON-ready dict; run.py puts them in one report. The filtered and compressed
parts are sized down from their stand-alone scripts (fewer queries, fewer ef points, fewer dtypes)
so that `--suite all` on the 50k Debian set stays well under 30 minutes on 2 cores.
"""
from __future__ import annotations

import gc
import os
import time
import traceback
from argparse import Namespace
from dataclasses import replace
from pathlib import Path

from bench import report as reporting
from bench.runner import BenchParams, build_library, sweep_thread_counts

PARTS = ("unfiltered", "filtered", "compressed", "multivector", "scale")
BUILD_KEYS = ("version", "config", "build_seconds", "build_cpu_seconds", "index_bytes", "skipped", "error")

# Suite sizes (the stand-alone scripts keep their larger defaults).
FILTERED_QUERIES = 200
FILTERED_EFS = (4, 6, 8, 10, 12, 16, 20, 24, 32, 48, 64, 96, 128, 256, 512)
COMPRESSED_QUERIES = 300
COMPRESSED_DTYPES = "f32,f16,sq8,sq4,pq,rabitq"
COMPRESSED_EFS = "10,16,32,64,128,256"
COMPRESSED_RERANK = "1,2,4"


def all_threads() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def run_unfiltered(adapter_classes, dataset, params: BenchParams, thread_counts, log) -> dict:
    """Build every library once, then one sweep that alternates the thread counts point by point.
    Returns {"build": {name: build facts}, "by_threads": {threads: {name: result}}}."""
    adapters, builds = {}, {}
    for adapter_class in adapter_classes:
        adapter, builds[adapter_class.name] = build_library(adapter_class, dataset, params, log)
        if adapter is not None:
            adapters[adapter_class.name] = adapter
    counts = list(thread_counts)
    log(f"-- unfiltered sweep, search threads {counts}" + (" alternating in each round" if len(counts) > 1 else ""))
    by_threads = {threads: {name: {key: value for key, value in build.items() if key in BUILD_KEYS}
                            for name, build in builds.items()}
                  for threads in thread_counts}
    sweep_thread_counts(adapters, by_threads, dataset, params, log)
    adapters.clear()
    gc.collect()
    build = {name: {key: value for key, value in result.items() if key in BUILD_KEYS}
             for name, result in builds.items()}
    return {"build": build, "by_threads": by_threads}


def unfiltered_section(libraries: dict, params: BenchParams, threads: int) -> dict:
    section = {"threads": threads, "libraries": libraries}
    section["ratios"] = reporting.ratios_for(libraries)
    return section


def run_filtered(dataset_path: str | None, cache: Path, log) -> dict:
    """Filtered search at several selectivities; needs an HDF5 file with `train_attrs`."""
    import h5py

    if not dataset_path or not str(dataset_path).endswith((".hdf5", ".h5")):
        return {"skipped": "needs an HDF5 dataset with train_attrs"}
    with h5py.File(dataset_path, "r") as file:
        if "train_attrs" not in file:
            return {"skipped": "dataset has no train_attrs"}
    from bench import filtered  # lazy: it pins BLAS threads to 1 for its numpy baseline

    libs = ["vecindex", "vecindex-sq8", "vecindex-sq4", "faiss", "faiss-sq8", "hnswlib", "numpy"]
    return filtered.run_filters(Path(dataset_path), FILTERED_QUERIES, libs, efs=FILTERED_EFS, cache=cache, log=log)


def pq_subquantizers(dim: int) -> int:
    """The largest divisor of dim up to dim / 8 (48 for 384): 8 dimensions per byte-sized code."""
    return max(m for m in range(1, max(dim // 8, 1) + 1) if dim % m == 0)


def run_compressed(dataset, params: BenchParams, log) -> dict:
    """vecindex dtypes vs faiss HNSWSQ8 / HNSWPQ (+RefineFlat), 1 search thread, fewer queries."""
    from bench import compressed

    args = compressed.parse_args([])
    args = Namespace(**{**vars(args), "dtypes": COMPRESSED_DTYPES, "ef": COMPRESSED_EFS,
                        "rerank_factors": COMPRESSED_RERANK, "M": params.M, "k": params.k,
                        "build_threads": params.build_threads, "threads": 1, "repeats": 2,
                        "pq_m": pq_subquantizers(dataset.dim)})
    small = replace(dataset, test=dataset.test[:COMPRESSED_QUERIES], gt_ids=dataset.gt_ids[:COMPRESSED_QUERIES],
                    gt_distances=None)
    configs = compressed.build_all(args, small, log)
    series = compressed.sweep(configs, args, small, log)
    rows = compressed.summarise(configs, series)
    configs.clear()
    gc.collect()
    return {"queries": COMPRESSED_QUERIES, "threads": 1, "ef_construction": args.ef_construction,
            "pq_m": args.pq_m, "summary": rows, "series": series}


def run_multivector(cache: Path, partial_out: Path, log) -> dict:
    """bench/multivector.py with its own defaults (500 queries); its builds are cached in `cache`
    under code-keyed names. The data set is fixed (the Debian multi-vector file), not --dataset."""
    from bench import multivector

    args = multivector.parse_args(["--cache", str(cache), "--out", str(partial_out)])
    if not args.data.exists():
        return {"skipped": f"{args.data} not found"}
    log(f"-- multivector ({args.data.name})")
    return multivector.run(args)


def run_scale(dataset_path: str | None, sizes, params: BenchParams, cache: Path, log, builds: int | None = None) -> dict:
    """bench/scale.py at `sizes` (1 search thread, the suite's M, ef_construction, build threads and
    repeats, scale.py's wider ef sweep, `builds` builds per size); needs the HDF5 file whose vectors the generator perturbs."""
    if not dataset_path or not str(dataset_path).endswith((".hdf5", ".h5")):
        return {"skipped": "needs an ann-benchmarks HDF5 dataset to generate from"}
    from bench import scale

    scale_params = replace(params, efs=scale.EFS, threads=1)
    log(f"-- scale ({', '.join(f'{n:,}' for n in sizes)})")
    return scale.run(dataset_path, sizes, scale_params, cache, log=log, builds=builds or scale.BUILDS)


def timed_part(name: str, timings: dict, fn, *args, **kwargs):
    """fn's result; a failing part is recorded as {"error": ...} so the other parts still run."""
    start = time.perf_counter()
    try:
        return fn(*args, **kwargs)
    except Exception as error:  # noqa: BLE001 - a failed part is data, not a crash
        traceback.print_exc()
        return {"error": "".join(traceback.format_exception_only(type(error), error)).strip()}
    finally:
        timings[name] = round(time.perf_counter() - start, 1)
