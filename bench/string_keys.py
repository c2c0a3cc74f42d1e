"""String keys vs int ids on the Debian MiniLM dev set: add and search time and memory per
key, both indexes built and searched in one run under the same protocol.

Protocol: the same vectors, seed, M, ef_construction and one thread for both indexes; the
adds alternate chunk by chunk (int, str, int, str, ...) and the searches alternate round by
round, so a change in machine load hits both alike. Times are CPU seconds of this process
(time.process_time): on a shared machine wall time mostly measures the other processes (a
first wall-clock run on this 2-core machine under load 6 swung by +-40% between identical
calls); wall seconds are recorded beside them. Keys are UUID-formatted strings (36 bytes, the
form LangChain generates), so every key lives outside std::string's inline buffer: the
costlier case. Search is timed both as one batched call and as one call per query (what a
RAG application does); each figure is the best of its rounds.

    python bench/string_keys.py [--n 50000] [--rounds 5] [--out bench/results/string_keys.json]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import vecindex  # noqa: E402
from bench.machine import describe, load_average  # noqa: E402

DATA = Path("/work/shared/data/debian-minilm-384-angular.hdf5")
K = 10
EF_SEARCH = 64
M = 16
EF_CONSTRUCTION = 100
CHUNK = 5000


def load(path: Path, n: int):
    import h5py
    with h5py.File(path, "r") as f:
        return np.asarray(f["train"][:n], dtype=np.float32), np.asarray(f["test"][:], dtype=np.float32)


def uuid_keys(n: int, seed: int = 7) -> list[str]:
    rng = np.random.default_rng(seed)
    return [str(uuid.UUID(bytes=rng.bytes(16), version=4)) for _ in range(n)]


WALL = {"int": 0.0, "str": 0.0}


def timed(call, name: str) -> float:
    """CPU seconds of call(); its wall seconds are added to WALL[name]."""
    wall, cpu = time.perf_counter(), time.process_time()
    call()
    WALL[name] += time.perf_counter() - wall
    return time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "string_keys.json"))
    args = parser.parse_args()
    train, test = load(DATA, args.n)
    keys = uuid_keys(len(train))
    options = dict(dim=train.shape[1], metric="cosine", M=M, ef_construction=EF_CONSTRUCTION, ef_search=EF_SEARCH)
    by_int = vecindex.Index(**options)
    by_key = vecindex.Index(**options, keys="str")

    add_seconds = {"int": 0.0, "str": 0.0}
    for start in range(0, len(train), CHUNK):
        rows = slice(start, start + CHUNK)
        ids = np.arange(rows.start, min(rows.stop, len(train)))
        add_seconds["int"] += timed(lambda: by_int.add(train[rows], ids=ids, threads=1), "int")
        add_seconds["str"] += timed(lambda: by_key.add(train[rows], ids=keys[rows], threads=1), "str")
    add_wall = dict(WALL)

    # One thread, same rows, same order, same seed: the two graphs are the same.
    found_int, _ = by_int.search(test, k=K, threads=1)
    found_key, _ = by_key.search(test, k=K, threads=1)
    key_of = np.array(keys, dtype=object)
    agreement = float(np.mean([len(set(key_of[a]) & set(b)) / K for a, b in zip(found_int, found_key)]))

    batched = {"int": [], "str": []}
    per_query = {"int": [], "str": []}
    for _ in range(args.rounds):
        for name, index in (("int", by_int), ("str", by_key)):
            batched[name].append(timed(lambda: index.search(test, k=K, threads=1), name))
            per_query[name].append(timed(lambda: [index.search(query, k=K, threads=1) for query in test], name))

    def overhead(table):
        return round(100 * (min(table["str"]) / min(table["int"]) - 1), 2)

    memory_int, memory_key = by_int.memory_usage(), by_key.memory_usage()
    result = {
        "dataset": DATA.name, "n": len(train), "queries": len(test), "dim": int(train.shape[1]),
        "k": K, "ef_search": EF_SEARCH, "M": M, "ef_construction": EF_CONSTRUCTION, "threads": 1,
        "times": "CPU seconds (time.process_time)",
        "key_example": keys[0], "rounds": args.rounds,
        "add_seconds": {name: round(value, 3) for name, value in add_seconds.items()},
        "add_overhead_percent": round(100 * (add_seconds["str"] / add_seconds["int"] - 1), 2),
        "add_wall_seconds": {name: round(value, 3) for name, value in add_wall.items()},
        "search_batched_seconds_best": {name: round(min(v), 4) for name, v in batched.items()},
        "search_batched_overhead_percent": overhead(batched),
        "search_per_query_seconds_best": {name: round(min(v), 4) for name, v in per_query.items()},
        "search_per_query_overhead_percent": overhead(per_query),
        "search_per_query_microseconds": {name: round(1e6 * min(v) / len(test), 1) for name, v in per_query.items()},
        "result_agreement_int_vs_str": round(agreement, 4),
        "key_memory_bytes": memory_key["keys"],
        "key_memory_bytes_per_key": round(memory_key["keys"] / len(train), 1),
        "other_memory_equal": {part: memory_int[part] == memory_key[part] for part in ("codes", "attributes")},
        "load_average_at_end": load_average(),
        "machine": describe(),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({key: value for key, value in result.items() if key != "machine"}, indent=2))


if __name__ == "__main__":
    main()
