"""Cost as the index grows: QPS at recall@10 0.95 (1 search thread), build time (2 threads) and bytes
per vector for vecindex and hnswlib at 100k, 300k and 1M 384-d vectors.

    python bench/scale.py                              # 100k, 300k, 1M; writes bench/results/scale.json
    python bench/scale.py --sizes 100000 --out /tmp/scale.json

Configurations (every one with the same M=16 and ef_construction=200):
- `vecindex-default`: `vecindex.Index(dim, metric=...)`, the constructor with nothing else set, as a
  user calls it (the metric is the data's; cosine on unit vectors). Whatever dtype and rerank that
  resolves to is recorded (`config.dtype`, `config.rerank`).
- `vecindex-sq4`: the fastest configuration with exact returned distances on the dev set,
  `dtype="sq4", rerank=True`, rerank_factor at its per-dtype default. (Until now this row was
  `dtype="sq8", rerank=True`, which has been the default since issue 15: the same configuration
  built twice.)
- `hnswlib`: bench/peers.py's adapter (`space="cosine"`, f32).
- `vecindex-qg` (only with `--configs`): the quantized graph, `graph_codes="rabitq"` on f32.

Data (bench/scale_data.py): row i is drawn uniformly from the triangle spanned by Debian MiniLM
train vector `i % 50000` and two of its 10 nearest train vectors, plus small seeded noise,
re-normalised; queries are the 1000 real test vectors. Smaller sizes are prefixes of larger ones. The JSON's `copy_structure` shows how far the noise
keeps a vector's perturbed copies from crowding its neighbour list. Ground truth is exact (numpy
brute force, blocks of 64 queries) and cached by content under --cache.

Protocol (bench/runner.py, as `run.py`): every configuration is built, then interleaved rounds time
each (configuration, ef) once and keep the best time. That is repeated for --builds independent
builds (level seeds 100, 101, ...; hnswlib and vecindex alike, one build of each at a time in RAM),
because one graph is one sample: two hnswlib builds of the 300k set, same parameters, reached
recall 0.943 and 0.953 at ef 48, and QPS at 0.95 of 11.4k and 15.1k. A size's row is the median over
builds of each configuration's QPS at each recall target (and of its build time); the ratio is of
those medians, and `qps_at_recall_range` keeps each configuration's lowest and highest build. Built indexes are cached under --cache by a
hash of code version, build parameters and data (bench/cache_keys.py); a cache hit reuses the build
time measured when it was built (`build_cached: true`). Timings on a shared machine are taken under
load: the load average is recorded at the start and end of each size.
"""
from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import groundtruth, machine, scale_data  # noqa: E402
from bench.cache_keys import cached_index_path  # noqa: E402
from bench.datasets import load_hdf5  # noqa: E402
from bench.metrics import speed_ratios  # noqa: E402
from bench.peers import HnswlibAdapter, VecindexAdapter, _serialized_size  # noqa: E402
from bench.runner import BenchParams, build_library, sweep  # noqa: E402

DEV_SET = "/work/shared/data/debian-minilm-384-angular.hdf5"
SIZES = (100_000, 300_000, 1_000_000)
BUILDS = 3
FIRST_SEED = 100  # both libraries' default level seed: the first build is the one users get
EFS = (10, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512)
PEER = "hnswlib"


class VecindexDefault(VecindexAdapter):
    """`Index(dim, metric=...)`: every other setting is the library's default."""
    name = "vecindex-default"
    options: dict = {}
    seed: int | None = None  # None: the constructor's own default

    def build(self, data, M, ef_construction, threads):
        import vecindex
        seeded = {} if self.seed is None else {"seed": self.seed}
        self.index = vecindex.Index(self.dim, metric=self.metric, **seeded, **self.options)
        if (self.index.M, self.index.ef_construction) != (M, ef_construction):
            raise ValueError(f"the default M/ef_construction ({self.index.M}/{self.index.ef_construction}) "
                             f"differ from the benchmark's ({M}/{ef_construction}); pass --M/--ef-construction to match")
        self.index.add(data, threads=threads)
        self._describe()

    def _describe(self):
        import vecindex
        usage = self.index.memory_usage()
        self.config = {"simd": vecindex.simd_info().get("level"), "constructor_options": self.options,
                       "dtype": self.index.dtype, "rerank": usage.get("full_vectors", 0) > 0,
                       "graph_codes": self.index.graph_codes,
                       "M": self.index.M, "ef_construction": self.index.ef_construction,
                       "memory_usage": usage}

    def save(self, path):
        self.index.save(path)

    def load(self, path):
        import vecindex
        self.index = vecindex.Index.load(path)
        self._describe()


class VecindexFastest(VecindexDefault):
    """The fastest configuration whose returned distances are exact."""
    name = "vecindex-sq4"
    options = {"dtype": "sq4", "rerank": True}


class Hnswlib(HnswlibAdapter):
    def save(self, path):
        self.index.save_index(str(path))

    def load(self, path):
        import hnswlib
        self.index = hnswlib.Index(space=self.SPACES[self.metric], dim=self.dim)
        self.index.load_index(str(path))


class VecindexQuantizedGraph(VecindexDefault):
    """Neighbours' 1-bit codes stored beside the links (one block read per hop)."""
    name = "vecindex-qg"
    options = {"graph_codes": "rabitq"}


ADAPTERS = (VecindexDefault, VecindexFastest, Hnswlib)  # the default set
KNOWN_ADAPTERS = {adapter.name: adapter for adapter in (*ADAPTERS, VecindexQuantizedGraph)}


CAPTIONS = {"vecindex-default": "vecindex-default uses Index(dim, metric) defaults",
            "vecindex-sq4": "vecindex-sq4 is dtype='sq4', rerank=True",
            "vecindex-qg": "vecindex-qg is graph_codes='rabitq' (f32)",
            "hnswlib": "hnswlib f32"}


def parse_configs(text: str) -> tuple:
    """'vecindex-default,hnswlib' -> adapter classes; hnswlib is required (the ratios' reference)."""
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in KNOWN_ADAPTERS]
    if unknown or PEER not in names:
        raise argparse.ArgumentTypeError(f"configs must name {PEER} and come from {sorted(KNOWN_ADAPTERS)}, "
                                         f"got {text!r}")
    return tuple(KNOWN_ADAPTERS[name] for name in names)


def ram_bytes(name: str, adapter) -> int | None:
    """In-RAM bytes: vecindex's own accounting; hnswlib keeps its serialized layout in RAM."""
    if name.startswith("vecindex"):
        usage = adapter.index.memory_usage()
        return int(sum(value for key, value in usage.items() if key != "mapped"))
    return None


def build_cached(adapter_class, dataset, params: BenchParams, cache: Path | None, log):
    """build_library, or load an index this code built earlier from the same data and parameters."""
    build = {"M": params.M, "ef_construction": params.ef_construction, "metric": dataset.metric,
             "options": getattr(adapter_class, "options", {}), "build_threads": params.build_threads,
             "seed": adapter_class.seed}
    # cache_keys fingerprints "vecindex" by its installed files and a peer by its version.
    library = "vecindex" if adapter_class.name.startswith("vecindex") else adapter_class.name
    build["config"] = adapter_class.name
    path = cached_index_path(cache, library, build, dataset.train, f"-{adapter_class.name}.idx") if cache else None
    facts = path.with_suffix(".json") if path else None
    if path is not None and path.exists() and facts.exists():
        adapter = adapter_class(dataset.metric, dataset.dim)
        adapter.load(path)
        result = {**json.loads(facts.read_text()), "build_cached": True}
        log(f"[{adapter_class.name}] loaded {path.name} (built in {result['build_seconds']:.1f}s)")
        return adapter, result
    adapter, result = build_library(adapter_class, dataset, params, log)
    if adapter is not None and path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        adapter.save(path)
        result["load_average_after_build"] = machine.load_average()
        facts.write_text(json.dumps(result, default=str))
        result["build_cached"] = False
    return adapter, result


def with_seed(adapter_class, seed: int):
    """adapter_class, building with level seed `seed` (same name, so results and caches line up)."""
    return type(adapter_class.__name__, (adapter_class,), {"seed": seed})


def measure_build(dataset, params: BenchParams, cache: Path | None, seed: int, log,
                  configs: tuple = ADAPTERS) -> dict:
    """Build every configuration with `seed`, sweep them interleaved, free them: {name: result}."""
    adapters, results = {}, {}
    for adapter_class in configs:
        adapter, results[adapter_class.name] = build_cached(with_seed(adapter_class, seed), dataset, params,
                                                            cache, log)
        if adapter is not None:
            adapters[adapter_class.name] = adapter
            results[adapter_class.name]["config"] = {**adapter.config, "seed": seed}
            results[adapter_class.name]["file_bytes"] = _serialized_size(adapter.save)
            results[adapter_class.name]["ram_bytes"] = ram_bytes(adapter_class.name, adapter)
    sweep(adapters, results, dataset, params, log)
    adapters.clear()
    gc.collect()
    n = len(dataset.train)
    for result in results.values():
        for key in ("file_bytes", "ram_bytes"):
            if result.get(key) is not None:
                result[key.replace("bytes", "bytes_per_vector")] = result[key] / n
    return results


def measure_size(real, n: int, params: BenchParams, cache: Path | None, tau: float, log,
                 builds: int = BUILDS, configs: tuple = ADAPTERS) -> dict:
    dataset = scale_data.make_scaled(real, n, tau=tau, cache=cache)
    start = time.perf_counter()
    groundtruth.ensure(dataset, params.k, cache)
    log(f"== {n:,} x {dataset.dim}: ground truth in {time.perf_counter() - start:.0f}s")
    entry = {"n": n, "load_average_at_start": machine.load_average(),
             "copy_structure": scale_data.copy_structure(dataset, len(real.train), params.k), "builds": []}
    for seed in range(FIRST_SEED, FIRST_SEED + builds):
        log(f"-- {n:,}: build {seed - FIRST_SEED + 1}/{builds} (seed {seed})")
        entry["builds"].append({"seed": seed, "libraries": measure_build(dataset, params, cache, seed, log,
                                                                                  configs)})
    entry["libraries"] = combine_builds(entry["builds"])
    entry["ratios_to_hnswlib"] = ratios(entry["libraries"])
    entry["load_average_at_end"] = machine.load_average()
    return entry


def _median_or_none(values: list) -> float | None:
    """The median, or None when any build lacks the value (it did not reach that recall)."""
    return None if not values or any(value is None for value in values) else statistics.median(values)


def combine_builds(builds: list[dict]) -> dict:
    """Per configuration: the first successful build's facts (version, config, bytes), with QPS at
    each recall target and build seconds replaced by their median over the builds that ran."""
    combined = {}
    for name in builds[0]["libraries"]:
        runs = [build["libraries"][name] for build in builds if build["libraries"][name].get("qps_at_recall")]
        if not runs:  # skipped or failed every time: show the first build's reason
            combined[name] = builds[0]["libraries"][name]
            continue
        result = {key: value for key, value in runs[0].items() if key != "points"}
        result["builds"] = len(runs)
        result["build_cached"] = any(run.get("build_cached") for run in runs)
        for key in ("build_seconds", "build_cpu_seconds"):
            result[key] = _median_or_none([run.get(key) for run in runs])
        for field in ("qps_at_recall", "qps_at_recall_wall", "qps_at_recall_cpu"):
            result[field] = {target: _median_or_none([run[field][target] for run in runs])
                             for target in runs[0][field]}
        result["qps_at_recall_range"] = {
            target: None if result["qps_at_recall"][target] is None else
            [min(run["qps_at_recall"][target] for run in runs), max(run["qps_at_recall"][target] for run in runs)]
            for target in result["qps_at_recall"]}
        combined[name] = result
    return combined


def ratios(results: dict) -> dict:
    """Per vecindex configuration: QPS ratio at each recall target (of the medians over builds, and
    its range), and build-time ratios (wall and CPU: a cached build keeps the wall time of the run
    that made it, under that run's load)."""
    peer = results.get(PEER, {})
    out = {}
    for name, result in results.items():
        if name == PEER or not result.get("qps_at_recall") or not peer.get("qps_at_recall"):
            continue
        cpu, peer_cpu = result.get("build_cpu_seconds"), peer.get("build_cpu_seconds")
        out[name] = {"qps": speed_ratios(result["qps_at_recall"], peer["qps_at_recall"]),
                     "qps_range": ratio_range(result.get("qps_at_recall_range"), peer.get("qps_at_recall_range")),
                     "build_time": result["build_seconds"] / peer["build_seconds"],
                     "build_cpu_time": cpu / peer_cpu if cpu and peer_cpu else None}
    return out


def ratio_range(ours: dict | None, peer: dict | None) -> dict:
    """Per recall target, [our slowest build / the peer's fastest, our fastest / the peer's slowest]."""
    spans = {}
    for target, span in (ours or {}).items():
        peer_span = (peer or {}).get(target)
        if span and peer_span:
            spans[target] = [span[0] / peer_span[1], span[1] / peer_span[0]]
    return spans


def run(dataset_path: str, sizes, params: BenchParams, cache: Path | None, tau: float = scale_data.DEFAULT_TAU,
        log=print, builds: int = BUILDS, configs: tuple = ADAPTERS) -> dict:
    real = load_hdf5(Path(dataset_path))
    report = {"what": "QPS at recall@k (1 search thread), build seconds (build_threads), bytes per vector, "
                      "as N grows; data: seeded interpolations between real neighbours (bench/scale_data.py)",
              "dataset": real.name, "metric": real.metric, "dim": real.dim, "tau": tau,
              "params": {**vars(params), "efs": list(params.efs)},
              "builds": builds,
              "configs": [adapter.name for adapter in configs],
              "caption": "; ".join(CAPTIONS[adapter.name] for adapter in configs) + ". "
                         f"Same M, ef_construction, queries, ef sweep and "
                         f"interleaved best-of-rounds timing. Each figure is the median of {builds} builds "
                         f"(level seeds {FIRST_SEED}-{FIRST_SEED + builds - 1}, the same for every library); "
                         f"the range column spans the slowest and fastest build. Taken on a shared 2-core "
                         f"machine under load.",
              "sizes": []}
    for n in sizes:
        report["sizes"].append(measure_size(real, n, params, cache, tau, log, builds, configs))
        summarize(report["sizes"][-1], log)
    return report


def summarize(entry: dict, log) -> None:
    for name, result in entry["libraries"].items():
        qps = (result.get("qps_at_recall") or {}).get("0.95")
        ratio = entry["ratios_to_hnswlib"].get(name, {})
        log(f"  {entry['n']:>9,} {name:<17} QPS@0.95 {qps or float('nan'):8.0f}  "
            f"x{(ratio.get('qps') or {}).get('0.95') or float('nan'):.2f} hnswlib  "
            f"build {result.get('build_seconds', float('nan')):7.1f}s  "
            f"{result.get('file_bytes_per_vector', float('nan')):6.0f} B/vec (file)  "
            f"{result.get('ram_bytes_per_vector') or float('nan'):6.0f} B/vec (RAM)")


def _shade_range(axes, sizes, spans, color: int) -> None:
    """Shade between the lowest and highest build where every size has a span."""
    if spans and all(spans):
        axes.fill_between(sizes, [low for low, _ in spans], [high for _, high in spans], color=f"C{color}",
                          alpha=0.15, linewidth=0)


def plot(report: dict, path: Path) -> Path | None:
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [entry["n"] for entry in report["sizes"]]
    names = sorted({name for entry in report["sizes"] for name in entry["libraries"]})
    figure, (qps_axes, ratio_axes, build_axes) = plt.subplots(1, 3, figsize=(15, 4.5), dpi=110)
    for color, name in enumerate(names):
        style = {"marker": "o", "label": name, "color": f"C{color}"}
        rows = [entry["libraries"].get(name, {}) for entry in report["sizes"]]
        qps_axes.plot(sizes, [(r.get("qps_at_recall") or {}).get("0.95") for r in rows], **style)
        _shade_range(qps_axes, sizes, [(r.get("qps_at_recall_range") or {}).get("0.95") for r in rows], color)
        build_axes.plot(sizes, [r.get("build_seconds") for r in rows], **style)
        if name != PEER:
            ratio_rows = [entry["ratios_to_hnswlib"].get(name) or {} for entry in report["sizes"]]
            ratio_axes.plot(sizes, [(r.get("qps") or {}).get("0.95") for r in ratio_rows], **style)
            _shade_range(ratio_axes, sizes, [(r.get("qps_range") or {}).get("0.95") for r in ratio_rows], color)
    for axes, title in ((qps_axes, "QPS at recall@10 = 0.95 (1 thread), median; shaded: build range"),
                        (ratio_axes, "QPS ratio to hnswlib at recall 0.95, of medians"),
                        (build_axes, f"build seconds ({report['params']['build_threads']} threads)")):
        axes.set_xscale("log")
        axes.set_xlabel("vectors (N)")
        axes.set_title(title, fontsize=10)
        axes.grid(True, which="both", linestyle=":", linewidth=0.5)
        axes.legend(fontsize=8)
    figure.suptitle(f"{report['dataset']} scaled (interpolated), {report['dim']}-d; shared machine, "
                    "under load", fontsize=10)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return path


def parse_sizes(text: str) -> tuple[int, ...]:
    sizes = tuple(int(part) for part in text.split(",") if part.strip())
    if not sizes or min(sizes) <= 0:
        raise argparse.ArgumentTypeError(f"expected positive comma-separated sizes, got {text!r}")
    return sizes


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default=DEV_SET)
    parser.add_argument("--sizes", type=parse_sizes, default=SIZES, help="comma-separated N (default 100k,300k,1M)")
    parser.add_argument("--tau", type=float, default=scale_data.DEFAULT_TAU, help="noise norm relative to data norm")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--builds", type=int, default=BUILDS, help="independent builds per size (median reported)")
    parser.add_argument("--build-threads", type=int, default=2)
    parser.add_argument("--configs", type=parse_configs, default=ADAPTERS,
                        help=f"comma-separated, from {', '.join(KNOWN_ADAPTERS)} (default: all but vecindex-qg)")
    parser.add_argument("--cache", default="results/cache/scale", help="index and ground-truth cache ('' = none)")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "scale.json"))
    args = parser.parse_args(argv)
    if args.builds < 1:
        parser.error(f"--builds must be at least 1, got {args.builds}")
    params = BenchParams(efs=EFS, threads=1, build_threads=args.build_threads, repeats=args.repeats)
    log = lambda line: print(line, flush=True)  # noqa: E731
    report = {"machine": machine.describe(), "command": sys.argv, **run(
        args.dataset, args.sizes, params, Path(args.cache) if args.cache else None, args.tau, log, args.builds,
        args.configs)}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=str) + "\n")
    log(f"wrote {out}")
    written = plot(report, out.with_suffix(".png"))
    if written:
        log(f"wrote {written}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
