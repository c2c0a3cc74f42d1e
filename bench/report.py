"""Assemble the run's report: JSON on disk, and readable tables on stdout.

As a script, render a report as Markdown, or regenerate the README's benchmark section from it:

    python bench/report.py [results/<dataset>/<timestamp>.json]   # default: newest JSON under results/
    python bench/report.py --update-readme                       # rewrite README.md between the markers
"""
from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from bench.metrics import speed_ratios  # noqa: E402

REFERENCE = "vecindex"
CLOCKS = ("wall", "cpu")  # the library whose speed the ratios are expressed for


def ratios_for(libraries: dict) -> dict:
    """{peer: {target: vecindex QPS / peer QPS at that recall}}."""
    ours = libraries.get(REFERENCE, {}).get("qps_at_recall")
    if not ours:
        return {}
    return {name: speed_ratios(ours, result["qps_at_recall"]) for name, result in libraries.items()
            if name != REFERENCE and result.get("qps_at_recall")}


def add_ratios(report: dict) -> None:
    """report['ratios'][peer][target] = vecindex QPS / peer QPS at that recall."""
    report["ratios"] = ratios_for(report["libraries"])


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


README_START, README_END = "<!-- bench:start -->", "<!-- bench:end -->"
REPO = Path(__file__).resolve().parent.parent
PLOTS_DIR = REPO / "bench" / "plots"  # README images are copied here: results/ is not committed
RESULTS_DIR = REPO / "bench" / "results"  # and the JSON behind the README tables, committed with it


def newest_report(root: Path) -> Path:
    """The most recently written run JSON under root (not the ground-truth cache)."""
    candidates = [p for p in root.glob("*/*.json") if p.parent.name != "cache" and not p.name.endswith(".tmp")]
    if not candidates:
        raise FileNotFoundError(f"no results/<dataset>/<timestamp>.json under {root}")
    return max(candidates, key=lambda p: (p.stat().st_mtime, p.name))


def replace_between_markers(text: str, body: str) -> str:
    """text with everything between the bench markers replaced by body; markers must exist once."""
    if text.count(README_START) != 1 or text.count(README_END) != 1:
        raise ValueError(f"README must contain {README_START} and {README_END} exactly once")
    head, rest = text.split(README_START)
    if README_END not in rest:
        raise ValueError(f"{README_END} must come after {README_START}")
    _, tail = rest.split(README_END)
    return f"{head}{README_START}\n{body.strip()}\n{README_END}{tail}"


def readme_plots(json_path: Path, copy_to: Path) -> dict:
    """Copy the run's PNGs next to the bench code and return {caption: README-relative path}."""
    stamp = json_path.stem
    captions = {"": "recall vs QPS, 1 thread"}
    for png in sorted(json_path.parent.glob(f"{stamp}-threads*.png")):
        captions[png.stem[len(stamp):]] = f"recall vs QPS, {png.stem.rsplit('threads', 1)[1]} threads"
    captions.update({"-filtered": "filtered search by selectivity", "-compressed": "compressed dtypes",
                     "-scale": "QPS at recall 0.95, build time and bytes per vector as N grows"})
    plots = {}
    for suffix, caption in captions.items():
        source = json_path.parent / f"{stamp}{suffix}.png"
        if source.exists():
            copy_to.mkdir(parents=True, exist_ok=True)
            target = copy_to / f"bench{suffix or '-unfiltered'}.png"
            shutil.copyfile(source, target)
            plots[caption] = target.relative_to(REPO).as_posix()
    return plots


def commit_json(json_path: Path, results_dir: Path) -> Path:
    """Copy the run's JSON beside the bench code, where it is committed with the README it made."""
    results_dir.mkdir(parents=True, exist_ok=True)
    target = results_dir / json_path.name
    if json_path.resolve() != target.resolve():
        shutil.copyfile(json_path, target)
    return target


def shown_command(report: dict) -> str:
    """The command line the run recorded, with its data path shown as PATH.hdf5 and --out
    (a scratch directory) left out."""
    words = list(report.get("command") or ["bench/run.py"])
    shown, i = ["python", words[0]], 1
    while i < len(words):
        if words[i] == "--out":
            i += 2
            continue
        shown.append(words[i])
        if words[i] == "--dataset" and i + 1 < len(words):
            shown.append("PATH" + Path(words[i + 1]).suffix)
            i += 1
        i += 1
    return " ".join(shown)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("json", nargs="?", help="a run's JSON (default: newest under --results)")
    parser.add_argument("--results", default="results", help="results root searched for the newest JSON")
    parser.add_argument("--update-readme", action="store_true",
                        help=f"replace the text between {README_START} and {README_END} in README.md")
    parser.add_argument("--readme", default=str(REPO / "README.md"))
    args = parser.parse_args(argv)
    from bench.markdown import to_markdown

    json_path = Path(args.json) if args.json else newest_report(Path(args.results))
    report = json.loads(json_path.read_text())
    if not args.update_readme:
        print(to_markdown(report, json_path))
        return 0
    readme = Path(args.readme)
    body = to_markdown(report, plots=readme_plots(json_path, PLOTS_DIR))
    committed = commit_json(json_path, RESULTS_DIR)
    body += (f"\n\nGenerated by `python bench/report.py --update-readme` from "
             f"[`{committed.relative_to(REPO).as_posix()}`]({committed.relative_to(REPO).as_posix()}) "
             f"(`{shown_command(report)}`).")
    readme.write_text(replace_between_markers(readme.read_text(), body))
    print(f"updated {readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
