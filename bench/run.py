"""Benchmark vecindex against its peers on one dataset; write JSON + PNG and print tables.

    python bench/run.py --quick
    python bench/run.py --dataset /work/shared/data/debian-minilm-384-angular.hdf5
    python bench/run.py --dataset base.fvecs --queries query.fvecs --groundtruth gt.ivecs --metric l2
    python bench/run.py --dataset /work/shared/data/debian-minilm-384-angular.hdf5 --suite all
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    # Run as a script: make `bench` importable from the repository root. vecindex itself lives in
    # python/, so this cannot shadow the installed package.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import datasets, machine, report as reporting, suite  # noqa: E402
from bench.peers import ADAPTERS  # noqa: E402
from bench.runner import BenchParams, run_libraries  # noqa: E402


def _int_list(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not values or min(values) <= 0:
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_argument_group("data")
    source.add_argument("--dataset", help="ann-benchmarks .hdf5, or base vectors as .npy/.fvecs")
    source.add_argument("--quick", action="store_true",
                        help="synthetic clustered data (5000 x 64), finishes in under a minute")
    source.add_argument("--queries", help="query vectors (.npy/.fvecs) when --dataset is .npy/.fvecs")
    source.add_argument("--groundtruth", help="true neighbour ids (.ivecs/.npy); computed if absent")
    source.add_argument("--metric", choices=datasets.METRICS,
                        help="required for .npy/.fvecs; overrides the HDF5 'distance' attribute")
    source.add_argument("--limit-train", type=int, help="use only the first N base vectors")
    source.add_argument("--limit-queries", type=int, help="use only the first N queries")
    index = parser.add_argument_group("index and search")
    index.add_argument("--M", type=int, default=16)
    index.add_argument("--ef-construction", type=int, default=200)
    index.add_argument("--k", type=int, default=10)
    index.add_argument("--ef", type=_int_list, default=BenchParams.efs, help="comma-separated ef sweep")
    index.add_argument("--threads", type=int, default=1, help="search threads (default 1)")
    index.add_argument("--build-threads", type=int, default=2)
    index.add_argument("--repeats", type=int, default=3, help="interleaved timing rounds over all libraries; best time per ef is kept")
    index.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                       help="clock for QPS: wall (default), or process CPU time, steadier when other "
                            "jobs share the machine (meaningful for --threads 1); both are recorded")
    index.add_argument("--libs", default=",".join(ADAPTERS),
                       help=f"comma-separated subset of {','.join(ADAPTERS)}")
    index.add_argument("--suite", choices=("unfiltered", "filtered", "compressed", "multivector", "scale", "all"), default="unfiltered",
                       help="which parts to run; 'all' = unfiltered at 1 and all threads + build, filtered "
                            "selectivities, compressed dtypes, multivector, scale (default: unfiltered at --threads)")
    index.add_argument("--scale-sizes", type=_int_list, default=(100_000, 300_000, 1_000_000),
                       help="N for the scale part (default 100000,300000,1000000; e.g. 100000 for a quick run)")
    index.add_argument("--scale-builds", type=int, default=None,
                       help="independent builds per size in the scale part, median reported (default: bench/scale.py's)")
    output = parser.add_argument_group("output")
    output.add_argument("--out", default="results", help="results root; writes OUT/<dataset>/<time>.json")
    output.add_argument("--cache-dir", help="ground-truth cache (default OUT/cache)")
    output.add_argument("--no-plot", action="store_true")
    args = parser.parse_args(argv)

    if not args.quick and not args.dataset:
        parser.error("pass --dataset PATH or --quick")
    if args.scale_builds is not None and args.scale_builds < 1:
        parser.error(f"--scale-builds must be at least 1, got {args.scale_builds}")
    unknown = [name for name in args.libs.split(",") if name and name not in ADAPTERS]
    if unknown:
        parser.error(f"unknown libraries {unknown}; expected a subset of {list(ADAPTERS)}")
    for name in ("M", "ef_construction", "k", "threads", "build_threads", "repeats"):
        if getattr(args, name) <= 0:
            parser.error(f"--{name.replace('_', '-')} must be positive, got {getattr(args, name)}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    out_root = Path(args.out)
    started = time.time()
    machine_info = machine.describe()  # before the run, so the load average shows other work
    dataset = datasets.load(args.dataset, quick=args.quick, metric=args.metric, queries=args.queries,
                            groundtruth_file=args.groundtruth, limit_train=args.limit_train,
                            limit_queries=args.limit_queries, k=args.k,
                            cache_dir=Path(args.cache_dir) if args.cache_dir else out_root / "cache")
    print(f"dataset {dataset.name}: {dataset.train.shape[0]:,} x {dataset.dim} train, "
          f"{dataset.test.shape[0]:,} queries, metric={dataset.metric}", flush=True)

    params = BenchParams(M=args.M, ef_construction=args.ef_construction, k=args.k, efs=args.ef,
                         threads=args.threads, build_threads=args.build_threads, repeats=args.repeats,
                         clock=args.clock)
    log = lambda line: print(line, flush=True)  # noqa: E731
    adapter_classes = [ADAPTERS[name] for name in args.libs.split(",") if name]
    parts = suite.PARTS if args.suite == "all" else (args.suite,)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(started))
    timings: dict = {}
    report = {"timestamp": stamp, "command": sys.argv, "suite": list(parts), "dataset": dataset.describe(),
              "params": {**vars(params), "efs": list(params.efs)}, "machine": machine_info,
              "part_seconds": timings}
    run_dir = out_root / dataset.name

    if "unfiltered" in parts:
        # --suite all measures 1 thread and all threads from one build; otherwise just --threads.
        counts = sorted({1, suite.all_threads()}) if args.suite == "all" else [args.threads]
        unfiltered = suite.timed_part("unfiltered", timings, suite.run_unfiltered, adapter_classes, dataset,
                                      params, counts, log)
        report["build"] = unfiltered["build"]
        report["libraries"] = unfiltered["by_threads"][counts[0]]
        report["params"]["threads"] = counts[0]
        reporting.add_ratios(report)
        if len(counts) > 1:
            report["unfiltered_all_threads"] = suite.unfiltered_section(unfiltered["by_threads"][counts[-1]],
                                                                        params, counts[-1])
    if "filtered" in parts:
        log("-- filtered")
        report["filtered"] = suite.timed_part("filtered", timings, suite.run_filtered, args.dataset,
                                              out_root / "cache" / dataset.name, log)
    if "compressed" in parts:
        log("-- compressed")
        report["compressed"] = suite.timed_part("compressed", timings, suite.run_compressed, dataset, params, log)

    if "multivector" in parts:
        report["multivector"] = suite.timed_part("multivector", timings, suite.run_multivector,
                                                 out_root / "cache" / "multivector",
                                                 run_dir / f"{stamp}-multivector-partial.json", log)

    if "scale" in parts:
        report["scale"] = suite.timed_part("scale", timings, suite.run_scale, args.dataset, args.scale_sizes, params,
                                           out_root / "cache" / "scale", log, args.scale_builds)

    report["wall_seconds"] = time.time() - started
    machine_info["load_average_at_end"] = machine.load_average()
    machine_info["speed_probe_at_end"] = machine.speed_probe()
    json_path = reporting.write_json(report, run_dir / f"{stamp}.json")
    print()
    if "libraries" in report:
        print(reporting.format_tables(report))
    if args.suite != "unfiltered":
        from bench.markdown import to_markdown
        print(to_markdown(report, json_path))
    print(f"\nwrote {json_path}")
    if not args.no_plot:
        from bench import plot  # matplotlib only when plotting
        for written in plot.plot_report(report, run_dir, stamp):
            print(f"wrote {written}")

    libraries = report.get("libraries", {})
    measured = [r for r in libraries.values() if r.get("points")]
    failed = [name for name, r in libraries.items() if "error" in r]
    return 1 if failed or ("unfiltered" in parts and not measured) else 0


if __name__ == "__main__":
    sys.exit(main())
