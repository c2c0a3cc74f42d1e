"""Is this host steady enough to benchmark? The speed probe and a fixed search, back to back.

    python bench/host_drift.py                   # 60 s, writes bench/results/host_drift.json
    python bench/host_drift.py --seconds 20 --out /tmp/drift.json

Each round times machine.speed_probe() (a fixed Python loop) and one single-thread batch search
of a seeded index (20,000 x 64 float32, M=16, the default dtype) with the same queries. On a
steady host both series stay within a few percent; when a virtual machine shares its cores
with other guests, both move together, which the load average does not show. Run it before a
long benchmark run, or beside a run whose ratios look off.
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

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "host_drift.json"


def seeded_index(rows: int, dim: int):
    import vecindex

    rng = np.random.default_rng(7)
    index = vecindex.Index(dim)
    index.add(rng.standard_normal((rows, dim), dtype=np.float32))
    return index, rng.standard_normal((1000, dim), dtype=np.float32)


def rounds(seconds: float, rows: int, dim: int) -> list[dict]:
    """One entry per round until `seconds` have passed (at least one)."""
    index, queries = seeded_index(rows, dim)
    index.search(queries, k=10, ef=32, threads=1)  # warm-up: first touches
    started = time.perf_counter()
    out = []
    while not out or time.perf_counter() - started < seconds:
        probe = machine.speed_probe()
        search_started = time.perf_counter()
        index.search(queries, k=10, ef=32, threads=1)
        qps = len(queries) / (time.perf_counter() - search_started)
        out.append({"at_s": round(time.perf_counter() - started, 3), "probe_min_ms": probe["min_ms"],
                    "probe_max_ms": probe["max_ms"], "search_qps": round(qps, 1)})
    return out


def summary(entries: list[dict]) -> dict:
    probes = [value for e in entries for value in (e["probe_min_ms"], e["probe_max_ms"])]
    qps = [e["search_qps"] for e in entries]
    return {"rounds": len(entries), "probe_ms": [min(probes), max(probes)], "probe_spread": max(probes) / min(probes),
            "search_qps": [min(qps), max(qps)], "search_spread": max(qps) / min(qps),
            # Near 1 when the search slows down exactly as the probe does: the host, not vecindex.
            "probe_vs_search_time_correlation": _correlation([e["probe_min_ms"] for e in entries],
                                                             [1 / value for value in qps])}


def _correlation(a: list[float], b: list[float]) -> float | None:
    if len(a) < 3 or np.std(a) == 0 or np.std(b) == 0:
        return None
    return float(np.corrcoef(a, b)[0, 1])


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    return parser.parse_args(argv)


def _shown(value: float | None) -> str:
    return "n/a (too few rounds or no variation)" if value is None else f"{value:.2f}"


def main(argv=None) -> int:
    args = parse_args(argv)
    info = machine.describe()
    entries = rounds(args.seconds, args.rows, args.dim)
    report = {"machine": info, "command": sys.argv, "rows": args.rows, "dim": args.dim, "summary": summary(entries),
              "rounds": entries}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    s = report["summary"]
    print(f"{s['rounds']} rounds: probe {s['probe_ms'][0]:.1f}-{s['probe_ms'][1]:.1f} ms ({s['probe_spread']:.2f}x), "
          f"search {s['search_qps'][0]:,.0f}-{s['search_qps'][1]:,.0f} QPS ({s['search_spread']:.2f}x), "
          f"correlation {_shown(s['probe_vs_search_time_correlation'])}; "
          f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
