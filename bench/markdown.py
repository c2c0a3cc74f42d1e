"""Render a run's JSON report as Markdown: machine, unfiltered, build, filtered and compressed tables.

Used by `report.py` (stdout and the README's benchmark section) and by `run.py --suite`. Parts
missing from the report are left out, so any `--suite` choice renders.
"""
from __future__ import annotations

import math
from pathlib import Path

TARGETS = ("0.9", "0.95", "0.99")
REFERENCE = "vecindex"


def _num(value, spec: str = ",.0f") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return format(value, spec)


def _ratio(value) -> str:
    return "-" if value is None else f"{value:.2f}x"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _target_keys(qps_at_recall: dict) -> list[str]:
    return list(qps_at_recall)  # JSON keys as written by metrics.qps_at_targets


def speed_probe_text(machine: dict) -> str:
    """The speed probe's range at the start and end of a run ('' for runs made before it existed)."""
    start, end = machine.get("speed_probe_at_start"), machine.get("speed_probe_at_end")
    if not start:
        return ""
    text = f"a fixed Python loop took {start['min_ms']:.1f}-{start['max_ms']:.1f} ms at the start"
    if end:
        text += f" and {end['min_ms']:.1f}-{end['max_ms']:.1f} ms at the end"
    return text + " (a wide range, or a change, means the host's speed varied during the run)"


def machine_line(report: dict) -> str:
    machine, dataset = report["machine"], report["dataset"]
    cores = machine.get("usable_cores") or machine.get("logical_cores")
    load = machine.get("load_average_at_start")
    simd = machine.get("simd_info")
    simd_text = simd.get("level", simd) if isinstance(simd, dict) else simd
    parts = [f"**Machine:** {machine.get('cpu_model', '?')}, {cores} cores, {machine.get('platform', '?')}, "
             f"Python {machine.get('python', '?')}, vecindex SIMD {simd_text}"]
    if load and load[0] >= 1.0:
        parts.append(f"load average at start {load[0]:.1f} (other work shared the machine; numbers are noisy)")
    elif load:
        parts.append(f"load average at start {load[0]:.1f} (a shared virtual machine: expect 10-25% run-to-run "
                     f"noise in QPS)")
    probe = speed_probe_text(machine)
    if probe:
        parts.append(probe)
    parts.append(f"**Data:** {dataset['name']} ({dataset['n_train']:,} x {dataset['dim']}, {dataset['metric']}, "
                 f"{dataset.get('n_test', '?')} queries)")
    wall = report.get("wall_seconds")
    parts.append(f"**Run:** {report['timestamp']}" + (f", {wall / 60:.1f} min in total" if wall else ""))
    return ". ".join(parts) + "."


def unfiltered_section(report: dict) -> str:
    params = report["params"]
    single = report["libraries"]
    many = report.get("unfiltered_all_threads")
    build = report.get("build", single)
    measured = [name for name, r in single.items() if r.get("points")]
    if not measured:
        return ""
    targets = _target_keys(single[measured[0]]["qps_at_recall"])
    header = ["library", "version", "build s", "index MiB"] + [f"QPS@{t} 1 thread" for t in targets]
    if many:
        header += [f"QPS@{t} {many['threads']} threads" for t in targets]
    header.append("max recall")
    rows = []
    for name in measured:
        result, facts = single[name], build.get(name, single[name])
        row = [name, result.get("version", "?"), _num(facts.get("build_seconds"), ".1f"),
               _num(facts.get("index_bytes", 0) / 2**20, ".1f")]
        row += [_num(result["qps_at_recall"].get(t)) for t in targets]
        if many:
            other = many["libraries"].get(name, {}).get("qps_at_recall", {})
            row += [_num(other.get(t)) for t in targets]
        row.append(_num(max(p["recall"] for p in result["points"]), ".4f"))
        rows.append(row)
    skipped = [f"{name}: {r.get('skipped') or r.get('error')}" for name, r in single.items() if not r.get("points")]
    text = (f"### Unfiltered: recall@{params['k']} vs QPS\n\nM={params['M']}, ef_construction="
            f"{params['ef_construction']}, built with {params['build_threads']} threads; one batch search call per "
            f"ef ({', '.join(map(str, params['efs']))}), best of {params['repeats']} interleaved rounds, "
            + (f"each library's turn in a round opening with an untimed {params['warmup_queries']}-query call, "
               if params.get("warmup_queries") else "")
            + f"{params.get('clock', 'wall')} clock. QPS at a recall is interpolated on each library's "
            f"recall/QPS frontier (`-`: not reached)."
            + (f" The {many['threads']}-thread and 1-thread timings alternate point by point inside each "
               f"round, so both see the same load." if many else "") + "\n\n" + table(header, rows))
    if skipped:
        text += "\n\nNot measured: " + "; ".join(skipped)
    ratio_rows = []
    for peer, ratios in report.get("ratios", {}).items():
        row = [peer] + [_ratio(ratios.get(t)) for t in targets]
        if many:
            row += [_ratio(many.get("ratios", {}).get(peer, {}).get(t)) for t in targets]
        ratio_rows.append(row)
    if ratio_rows:
        ratio_header = ["peer"] + [f"@{t} 1 thread" for t in targets]
        if many:
            ratio_header += [f"@{t} {many['threads']} threads" for t in targets]
        text += f"\n\n{REFERENCE} QPS / peer QPS at equal recall:\n\n" + table(ratio_header, ratio_rows)
    return text


def _ratio_to_peer(results: dict, lib: str, peer: str, target: float) -> str:
    """QPS ratio at the target recall; when only one side reaches it, says which."""
    ours, theirs = results.get(lib, {}).get("best"), results.get(peer, {}).get("best")
    if not ours or not theirs:
        return "-"
    if ours["recall"] < target:
        return "below target"
    if theirs["recall"] < target:
        return f"{peer} never reaches it"
    return f"{_qps_at_target(ours) / _qps_at_target(theirs):.2f}x"


def _qps_at_target(best: dict) -> float:
    """Interpolated QPS at the target recall when the run recorded it, else the measured point's."""
    return best.get("qps_at_target") or best["qps"]


def _qps_cell(best: dict | None, target: float) -> str:
    if not best:
        return "-"
    if best.get("qps_at_target"):
        return f"{_num(best['qps_at_target'])} @{target}"
    return f"{_num(best['qps'])} ({best['recall']:.3f})"


def _ratio_pairs(libraries: list[str]) -> list[tuple[str, str]]:
    """(ours, peer) columns: every vecindex variant against faiss's flat graph, and the compressed
    variants also against faiss's compressed graph with the same refine sweep (like for like)."""
    ours = [lib for lib in libraries if lib.startswith("vecindex") and "[" not in lib]
    pairs = [(lib, "faiss") for lib in ours if "faiss" in libraries]
    pairs += [(lib, "faiss-sq8") for lib in ours if lib != "vecindex" and "faiss-sq8" in libraries]
    return pairs


def _per_call_note(filtered: dict, target: float) -> str:
    """One sentence per row with per-query filters: vecindex timed one query per call, as the peers."""
    notes = []
    for row in filtered["rows"]:
        per_call = row.get("per_call")
        if not per_call:
            continue
        cells = []
        for label, result in per_call.items():
            lib = label.removesuffix("[per-call]")
            peer = "faiss-sq8" if lib != "vecindex" and "faiss-sq8" in row["results"] else "faiss"
            ratio = _ratio_to_peer({lib: result, peer: row["results"].get(peer, {})}, lib, peer, target)
            versus = f"{ratio} {peer}" if ratio.endswith("x") else ratio
            cells.append(f"{lib} {_qps_cell(result['best'], target)} ({versus})")
        notes.append(f"In the {row['filter']} row every query has its own filter; faiss and hnswlib take one "
                     f"filter per call, so they run one call per query, while vecindex's cells are its batched "
                     f"call with a list of filters. Timed one call per query too, vecindex gave: "
                     + "; ".join(cells) + ".")
    return " ".join(notes)


def filtered_section(filtered: dict) -> str:
    if "rows" not in filtered:
        return f"### Filtered search\n\nNot measured: {filtered.get('skipped') or filtered.get('error')}."
    libraries = []
    for row in filtered["rows"]:
        libraries += [lib for lib in row["results"] if lib not in libraries]
    target = filtered["target_recall"]
    pairs = _ratio_pairs(libraries)
    header = (["filter", "selectivity", "vecindex plan"] + [f"{lib} QPS" for lib in libraries]
              + [f"{lib} / {peer}" for lib, peer in pairs])
    rows = []
    for row in filtered["rows"]:
        cells = [row["filter"], f"{row['selectivity']:.2%}", row.get("plan", "-")]
        cells += [_qps_cell(row["results"].get(lib, {}).get("best"), target) for lib in libraries]
        cells += [_ratio_to_peer(row["results"], lib, peer, target) for lib, peer in pairs]
        rows.append(cells)
    return (f"### Filtered search\n\n{filtered['queries']} queries, 1 thread, k={filtered['k']}. Each cell is the "
            f"QPS at recall {target}, interpolated along the library's recall/QPS frontier over an ef sweep, or, "
            f"when it never gets there, the best recall it reached (in brackets) and that point's QPS. Every "
            f"library gets the same protocol: one untimed warm-up, then best of 3 timings per point, one per "
            f"round of the whole sweep, each timing at least 0.1 s. Cached indexes are keyed by the code "
            f"version and build parameters. faiss uses `IDSelectorBitmap`, hnswlib a Python `filter=` "
            f"callable (one batch call when the whole batch shares a filter), numpy is exact pre-filtering. "
            f"`vecindex-sq8` is `dtype='sq8', rerank=True`: its graph is linked on the kept f32 vectors, walks "
            f"and scans run on 8-bit codes, then exact distances come from the f32 vectors (388 more bytes "
            f"per vector than f32); `vecindex-sq4` is the same with 4-bit codes (196 more bytes). "
            f"`faiss-sq8` is its like: `IndexHNSWSQ` (8-bit, graph linked on the codes) in `IndexRefineFlat`, "
            f"with the refine factor swept over the same values as vecindex-sq8's `rerank_factor` (1, 2) and "
            f"the best kept for both. "
            + _per_call_note(filtered, target) + "\n\n" + table(header, rows))


def compressed_section(compressed: dict) -> str:
    if "summary" not in compressed:
        return f"### Compressed, by dtype\n\nNot measured: {compressed.get('error')}."
    header = ["config", "RAM B/vector (graph+codes)", "RAM vs f32", "train s", "build s", "QPS@0.90",
              "QPS@0.95", "max recall"]
    rows = [[r["label"], _num(r["graph_plus_codes_bytes_per_vector"]), _num(r["ram_vs_f32_index"], ".2f"),
             _num(r["train_seconds"], ".1f"), _num(r["build_seconds"], ".1f"), _num(r["qps_at_0.90"]),
             _num(r["qps_at_0.95"]), _num(r["max_recall"], ".3f")] for r in compressed["summary"]]
    return (f"### Compressed, by dtype\n\n{compressed['queries']} queries, 1 thread, ef_construction="
            f"{compressed['ef_construction']}; `rerank xN` re-scores N·k candidates with full vectors (kept "
            f"outside the RAM column); every factor is its own row, for both libraries. vecindex's sq8, sq4, "
            f"pq and rabitq indexes keep f32 copies (`rerank=True`), so their graphs are linked on f32 vectors "
            f"and walked on the codes (f16 links and walks on half floats); faiss HNSWSQ8 and HNSWPQ{compressed['pq_m']} (in IndexRefineFlat) link and walk on the "
            f"codes.\n\n"
            + table(header, rows))


def multivector_section(multivector: dict) -> str:
    from bench.multivector import markdown as tables

    return (f"### Multi-vector (late interaction)\n\n{multivector['documents']:,} documents "
            f"({multivector['tokens']:,} tokens), {multivector['queries']} queries, 1 search thread, recall@10 "
            f"against exact Chamfer (`bench/multivector.py`).\n\n" + tables(multivector))


def _build_cpu(result: dict) -> str:
    cell = _num(result.get("build_cpu_seconds"), ".1f")
    return cell + " (cached)" if result.get("build_cached") else cell


def scale_section(scale: dict) -> str:
    # Build cost is shown as CPU seconds: a cached peer build keeps the time of the run that made
    # it, and wall time under another run's load says little; CPU time stays comparable.
    rows = []
    for entry in scale["sizes"]:
        for name, result in entry["libraries"].items():
            ratio = entry["ratios_to_hnswlib"].get(name, {})
            span = (ratio.get("qps_range") or {}).get("0.95")
            rows.append([f"{entry['n']:,}", name, _num((result.get("qps_at_recall") or {}).get("0.95")),
                         _ratio((ratio.get("qps") or {}).get("0.95")),
                         f"{span[0]:.2f}-{span[1]:.2f}x" if span else "-", _build_cpu(result),
                         _ratio(ratio.get("build_cpu_time")),
                         _num(result.get("file_bytes_per_vector")), _num(result.get("ram_bytes_per_vector"))])
    header = ["N", "library", "QPS @0.95", "x hnswlib", "x hnswlib, build range", "build CPU s (2 threads)",
              "build CPU x hnswlib",
              "file B/vec", "RAM B/vec"]
    return (f"### Cost as the index grows\n\n{scale['caption']} Data: {scale['what'].split('data: ')[-1]}; "
            f"`bench/scale.py`. Build cost is process CPU time; `(cached)` marks an index loaded from "
            f"the build cache, with the CPU time of the run that built it.\n\n" + table(header, rows))


def to_markdown(report: dict, json_path: Path | None = None, plots: dict | None = None) -> str:
    """plots: {caption: relative path} of images to link."""
    sections = [machine_line(report)]
    if json_path is not None:
        sections.append(f"Raw results: `{json_path}`.")
    if report.get("libraries"):
        sections.append(unfiltered_section(report))
    if report.get("filtered"):
        sections.append(filtered_section(report["filtered"]))
    if report.get("compressed"):
        sections.append(compressed_section(report["compressed"]))
    if report.get("scale", {}).get("sizes"):
        sections.append(scale_section(report["scale"]))
    if report.get("multivector", {}).get("muvera"):
        sections.append(multivector_section(report["multivector"]))
    for caption, path in (plots or {}).items():
        sections.append(f"![{caption}]({path})")
    return "\n\n".join(section for section in sections if section)
