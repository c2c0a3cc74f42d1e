"""Assemble the run's report: JSON on disk, and readable tables on stdout."""
from __future__ import annotations

import json
import math
from pathlib import Path

from bench.metrics import speed_ratios

REFERENCE = "vecindex"
CLOCKS = ("wall", "cpu")  # the library whose speed the ratios are expressed for


def add_ratios(report: dict) -> None:
    """report['ratios'][peer][target] = vecindex QPS / peer QPS at that recall."""
    libraries = report["libraries"]
    ours = libraries.get(REFERENCE, {}).get("qps_at_recall")
    report["ratios"] = {}
    if not ours:
        return
    for name, result in libraries.items():
        if name != REFERENCE and result.get("qps_at_recall"):
            report["ratios"][name] = speed_ratios(ours, result["qps_at_recall"])


def write_json(report: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_suffix(".json.tmp")
    temp.write_text(json.dumps(report, indent=2, default=str) + "\n")
    temp.replace(path)
    return path


def _fmt(value, spec: str, missing: str = "-") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return missing
    return format(value, spec)


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    lines = ["  ".join(str(cell).rjust(width) if i else str(cell).ljust(width)
                       for i, (cell, width) in enumerate(zip(line, widths)))
             for line in [header, ["-" * w for w in widths], *rows]]
    return "\n".join(lines)


def format_tables(report: dict) -> str:
    libraries = report["libraries"]
    measured = {name: r for name, r in libraries.items() if r.get("points")}
    targets = list(next(iter(measured.values()))["qps_at_recall"]) if measured else []
    sections = []

    summary_rows, notes = [], []
    for name, result in libraries.items():
        if not result.get("points"):
            why = f"skipped: {result['skipped']}" if "skipped" in result else f"FAILED: {result.get('error')}"
            notes.append(f"  {name}: {why}")
            continue
        summary_rows.append([name, result["version"], _fmt(result["build_seconds"], ".2f"),
                             _fmt(result.get("build_cpu_seconds"), ".2f"),
                             _fmt(result["index_bytes"] / 2**20, ".1f"),
                             _fmt(max(p["recall"] for p in result["points"]), ".4f")]
                            + [_fmt(result[f"qps_at_recall_{clock}"][t], ",.0f")
                               for clock in CLOCKS for t in targets])
    sections.append(_table(["library", "version", "build s", "build cpu s", "index MiB", "max recall"]
                           + [f"{clock} QPS@{t}" for clock in CLOCKS for t in targets], summary_rows)
                    + ("\n" + "\n".join(notes) if notes else ""))

    if measured:
        efs = sorted({p["ef"] for r in measured.values() for p in r["points"]})
        sweep_rows = []
        for ef in efs:
            row = [str(ef)]
            for result in measured.values():
                point = next((p for p in result["points"] if p["ef"] == ef), None)
                row += [_fmt(point and point["recall"], ".4f"), _fmt(point and point["qps"], ",.0f")]
            sweep_rows.append(row)
        header = ["ef"] + [f"{n} {col}" for n in measured
                           for col in ("recall", f"QPS ({report['params']['clock']})")]
        sections.append(_table(header, sweep_rows))

    if report.get("ratios"):
        ratio_rows = [[peer] + [_fmt(ratios[t], ".2f") + ("x" if ratios[t] else "") for t in targets]
                      for peer, ratios in report["ratios"].items()]
        sections.append(f"{REFERENCE} QPS / peer QPS at equal recall ({report['params']['clock']} clock):\n"
                        + _table(["peer"] + [f"@{t}" for t in targets], ratio_rows))
    return "\n\n".join(sections)
