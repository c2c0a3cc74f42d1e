"""Nanoseconds per FastScan call (32 codes scored) at every SIMD level this CPU and build offer.

    python bench/fastscan_kernel.py                    # 96 groups (384-d 1-bit codes)
    python bench/fastscan_kernel.py --groups 48,96,192 --rows 512 --repeats 15

The quantized graph scores a node's 32 neighbours with one fastscan32 call per hop, so this is
the inner loop of every hop. Each measurement scores `rows` blocks of packed codes (one per
node, contiguous, L2-resident at the default sizes) against one set of tables through the test
module's _fastscan32_rows hook, which loops in C++; the Python call costs well under 1% of a
pass. Levels are interleaved within each repeat and the best pass is kept, so background load
hurts every level alike. Writes bench/results/fastscan_kernel.json (--out) and prints a table.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import machine  # noqa: E402
from vecindex import _codec_testing  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "fastscan_kernel.json"


def best_ns_per_call(levels, rows, tables, repeats):
    """{level: best ns per fastscan32 call}, levels interleaved in every repeat."""
    best = {level: float("inf") for level in levels}
    for level in levels:  # warm-up: first-touch page faults and code paging
        _codec_testing._fastscan32_rows(level, rows, tables)
    for _ in range(repeats):
        for level in levels:
            start = time.thread_time_ns()
            _codec_testing._fastscan32_rows(level, rows, tables)
            best[level] = min(best[level], (time.thread_time_ns() - start) / len(rows))
    return best


def measure(groups_list, row_count, repeats, seed=0):
    rng = np.random.default_rng(seed)
    levels = _codec_testing._codec_levels()
    results = []
    for groups in groups_list:
        rows = rng.integers(0, 256, (row_count, 16 * groups), dtype=np.uint8)
        tables = rng.integers(0, min(255, 65535 // groups) + 1, 16 * groups, dtype=np.uint8)
        reference = _codec_testing._fastscan32_rows("scalar", rows, tables)
        for level in levels:  # a fast wrong kernel is no result
            if not np.array_equal(_codec_testing._fastscan32_rows(level, rows, tables), reference):
                raise SystemExit(f"{level} fastscan32 disagrees with scalar at {groups} groups")
        for level, ns in best_ns_per_call(levels, rows, tables, repeats).items():
            results.append({"level": level, "groups": groups, "ns_per_32_codes": round(ns, 2)})
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--groups", default="96", help="comma-separated group counts (dim / 4 for 1-bit codes)")
    parser.add_argument("--rows", type=int, default=256, help="blocks scored per pass")
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    groups_list = [int(value) for value in args.groups.split(",")]
    results = measure(groups_list, args.rows, args.repeats)
    print(f"{'groups':>6}  {'level':<8} {'ns / 32 codes':>13}")
    for row in results:
        print(f"{row['groups']:>6}  {row['level']:<8} {row['ns_per_32_codes']:>13.1f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": machine.describe(), "rows": args.rows, "repeats": args.repeats,
                                    "results": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
