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
