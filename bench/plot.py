"""Recall vs QPS plot, one line per library, log-scale QPS (the ann-benchmarks picture)."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: benchmarks run on servers and in CI
import matplotlib.pyplot as plt  # noqa: E402 - must follow the backend choice

from bench.metrics import RECALL_TARGETS  # noqa: E402


def plot_results(report: dict, path: Path) -> Path:
    figure, axes = plt.subplots(figsize=(8, 5.5), dpi=120)
    for name, result in report["libraries"].items():
        points = sorted(result.get("points", []), key=lambda p: p["ef"])
        if not points:
            continue
        axes.plot([p["recall"] for p in points], [p["qps"] for p in points], marker="o",
                  markersize=4, linewidth=2.4 if name == "vecindex" else 1.4,
                  label=f"{name} {result.get('version', '')}")
    for target in RECALL_TARGETS:
        axes.axvline(target, color="0.85", linewidth=0.8, zorder=0)
    axes.set_yscale("log")
    axes.set_xlabel(f"recall@{report['params']['k']}")
    clock = report["params"].get("clock", "wall")
    per = "CPU-second" if clock == "cpu" else "second"
    axes.set_ylabel(f"queries per {per} ({report['params']['threads']} search thread(s), batch)")
    dataset, params = report["dataset"], report["params"]
    axes.set_title(f"{dataset['name']} ({dataset['n_train']:,} x {dataset['dim']}, {dataset['metric']})"
                   f"  M={params['M']} efC={params['ef_construction']}", fontsize=10)
    axes.grid(True, which="both", linestyle=":", linewidth=0.5)
    axes.legend(loc="lower left", fontsize=9)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


def plot_filtered(filtered: dict, path: Path, title: str) -> Path:
    """Per library: QPS (left) and recall (right) against selectivity. Solid lines are the
    installed_size range filters, dashed the random allow-lists of the same selectivities."""
    figure, (qps_axes, recall_axes) = plt.subplots(1, 2, figsize=(12, 5), dpi=120)
    families = {"size-range": "-", "allow-list": "--"}
    libraries = sorted({lib for row in filtered["rows"] for lib in row["results"]})
    colors = {lib: f"C{i}" for i, lib in enumerate(libraries)}
    for family, style in families.items():
        rows = sorted((r for r in filtered["rows"] if r["filter"].startswith(family)),
                      key=lambda r: r["selectivity"])
        for lib in libraries:
            cells = [(r["selectivity"], r["results"][lib]["best"]) for r in rows if lib in r["results"]]
            if not cells:
                continue
            x = [s for s, _ in cells]
            label = f"{lib} ({family})"
            qps_axes.plot(x, [b["qps"] for _, b in cells], style, color=colors[lib], marker="o", markersize=4,
                          label=label)
            recall_axes.plot(x, [b["recall"] for _, b in cells], style, color=colors[lib], marker="o",
                             markersize=4, label=label)
    for axes in (qps_axes, recall_axes):
        axes.set_xscale("log")
        axes.set_xlabel("selectivity (fraction of vectors the filter allows)")
        axes.grid(True, which="both", linestyle=":", linewidth=0.5)
    qps_axes.set_yscale("log")
    qps_axes.set_ylabel(f"QPS, 1 thread, fastest ef with recall@{filtered['k']} >= {filtered['target_recall']}")
    recall_axes.set_ylabel(f"recall@{filtered['k']} at that ef (best reached if below target)")
    recall_axes.axhline(filtered["target_recall"], color="0.8", linewidth=0.8)
    recall_axes.legend(fontsize=7, loc="lower right")
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


def plot_report(report: dict, run_dir: Path, stamp: str) -> list[Path]:
    """Every plot the report's parts support; the 1-thread recall/QPS plot keeps the name <stamp>.png."""
    written = []
    if report.get("libraries"):
        written.append(plot_results(report, run_dir / f"{stamp}.png"))
    many = report.get("unfiltered_all_threads")
    if many:
        view = {**report, "libraries": many["libraries"], "params": {**report["params"], "threads": many["threads"]}}
        written.append(plot_results(view, run_dir / f"{stamp}-threads{many['threads']}.png"))
    dataset = report["dataset"]
    if report.get("filtered", {}).get("rows"):
        title = (f"filtered search, {dataset['name']}, {report['filtered']['queries']} queries, "
                 f"1 thread (numpy = exact pre-filter)")
        written.append(plot_filtered(report["filtered"], run_dir / f"{stamp}-filtered.png", title))
    if report.get("compressed", {}).get("series"):
        from bench import compressed
        compressed.plot(report["compressed"]["series"], run_dir / f"{stamp}-compressed.png",
                        f"dtypes, {dataset['name']}, {report['compressed']['queries']} queries, "
                        f"efC={report['compressed']['ef_construction']}")
        written.append(run_dir / f"{stamp}-compressed.png")
    if report.get("scale", {}).get("sizes"):
        from bench import scale
        written.append(scale.plot(report["scale"], run_dir / f"{stamp}-scale.png"))
    return written
