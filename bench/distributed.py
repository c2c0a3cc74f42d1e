"""What Ray costs: ShardedIndex on a local Ray runtime vs the same shards in one process.

On the Debian MiniLM dev set (50,000 x 384, cosine, 1000 queries):

1. build time: ``ShardedIndex.from_dataset`` (1, 2, 4 shards, Ray tasks) vs one ``Index``;
2. QPS and recall@10 at several ef for 1, 2 and 4 shards (batches of 256 and 1000 queries);
3. the overhead target: a 2-shard ShardedIndex (one CPU and one search thread per shard) vs
   the *same two shard files* loaded as two ``Index`` objects in this process, searched
   concurrently with one thread each and merged by the same ``merge_topk`` (equal recall:
   the same graphs give the same results);
4. fan-out overhead per batch: mean wall time of one-query batches, Ray vs in-process;
5. bytes per vector (f32 and sq8) and QPS per shard, for the README's sizing estimates.

    python bench/distributed.py [--data PATH.hdf5] [--out bench/results/distributed.json]

Indexes are built on every run (build time is one of the measurements), so the code that
built them is the code being timed; no cache is involved.
"""
from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import argparse  # noqa: E402
import json  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import vecindex  # noqa: E402
from bench.machine import describe, load_average  # noqa: E402

_NAME = "debian-minilm-384-angular.hdf5"
DATA = next((p for p in (Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / _NAME,
                         Path("/work/shared/data") / _NAME) if p.exists()), Path("/work/shared/data") / _NAME)
K = 10
PARAMS = {"metric": "cosine", "M": 16, "ef_construction": 100}
EFS = [16, 32, 64, 128]
BATCHES = [256, 1000]
SHARDS = [1, 2, 4]
REPEATS = 3  # best of: the machine is shared
TARGET_ROUNDS = 7  # Ray and in-process runs alternated for the overhead target


def load(path: Path):
    import h5py
    with h5py.File(path, "r") as f:
        return (np.ascontiguousarray(f["train"][:], dtype=np.float32), np.ascontiguousarray(f["test"][:], dtype=np.float32),
                np.asarray(f["neighbors"][:, :K], dtype=np.int64))


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f.tolist()) & set(t.tolist())) / K for f, t in zip(found, truth)]))


def best_qps(search, queries: np.ndarray, batch: int, repeats: int = REPEATS):
    """(QPS, ids) of searching all queries in batches of ``batch``, best of ``repeats``."""
    best, ids = 0.0, None
    for _ in range(repeats):
        start = time.perf_counter()
        parts = [search(queries[i:i + batch]) for i in range(0, len(queries), batch)]
        seconds = time.perf_counter() - start
        best = max(best, len(queries) / seconds)
        ids = np.concatenate(parts)
    return best, ids


class InProcessShards:
    """The same shard files as plain Index objects, searched concurrently, merged the same way."""

    def __init__(self, paths, threads: int):
        from vecindex.distributed.merge import merge_topk
        self.indexes = [vecindex.Index.load(path) for path in paths]
        self.pool = ThreadPoolExecutor(len(self.indexes))
        self.threads, self.merge = threads, merge_topk

    def search(self, queries, ef):
        results = list(self.pool.map(lambda index: index.search(queries, K, ef=ef, threads=self.threads), self.indexes))
        return self.merge([r[0] for r in results], [r[1] for r in results], K)


def per_batch_ms(search, queries: np.ndarray, calls: int = 200) -> float:
    return per_batch(search, queries, calls)[0]


def per_batch(search, queries: np.ndarray, calls: int = 200) -> tuple[float, float | None]:
    """Mean (wall ms, CPU ms) of one-query batches. CPU is summed over this process and all its
    descendants (Ray's GCS, raylet and workers): on a shared machine it varies far less than wall
    time, and on few cores it is what the fan-out takes from the shards' searches."""
    cpu_start, start = tree_cpu_seconds(), time.perf_counter()
    for i in range(calls):
        search(queries[i % len(queries):i % len(queries) + 1])
    wall = 1000 * (time.perf_counter() - start) / calls
    cpu_end = tree_cpu_seconds()
    return wall, None if cpu_start is None or cpu_end is None else 1000 * (cpu_end - cpu_start) / calls


def tree_cpu_seconds() -> float | None:
    """User + system CPU seconds of this process and its descendants, from /proc (None elsewhere)."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    parents, used = {}, {}
    try:
        pids = [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return None
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        parents.setdefault(int(fields[1]), []).append(pid)
        used[pid] = (int(fields[11]) + int(fields[12])) / tick
    total, todo = 0.0, [os.getpid()]
    while todo:
        pid = todo.pop()
        total += used.get(pid, 0.0)
        todo.extend(parents.get(pid, []))
    return total


class _Idle:
    """An actor that does no work: what a put plus two actor calls cost on this machine."""

    def echo(self, batch):
        return batch[0][:1]


def ray_floor(queries: np.ndarray, calls: int = 200) -> tuple[float, float | None]:
    """Mean (wall ms, CPU ms) of `ray.put` + one call to each of two idle actors, the shape of a
    2-shard search."""
    import ray

    # No CPU reservation: the shards under test hold both cores in their placement group.
    actors = [ray.remote(_Idle).options(num_cpus=0).remote() for _ in range(2)]
    ray.get([actor.echo.remote((queries[:1], None)) for actor in actors])

    def search(batch):
        ref = ray.put((batch, None))
        ray.get([actor.echo.remote(ref) for actor in actors])

    result = per_batch(search, queries, calls)
    for actor in actors:
        ray.kill(actor)
    return result


NODE_RAM_GB, NODE_CORES = 64, 16  # the node the sizing estimates assume


def sizing(report: dict) -> list[dict]:
    """Estimates for 100M and 1B vectors from measured bytes/vector and QPS per shard.

    One shard per node of NODE_RAM_GB holding as many vectors as fit; a query visits every
    shard, so the cluster answers about what one node does. A shard's per-core QPS is the
    measured one (2 shards of 25,000, one core each, ef=64, batches of 1000) scaled by
    ln(25,000)/ln(vectors per shard), HNSW's logarithmic growth: an assumption, not a measurement.
    """
    import math
    point = next(p for p in report["overhead"]["two_shards_vs_in_process"] if p["ef"] == 64 and p["batch"] == 1000)
    measured_shard = report["n_train"] / 2
    rows = []
    for total in (100_000_000, 1_000_000_000):
        for dtype in ("f32", "sq8"):
            per_vector = report["memory"][f"{dtype}_bytes_per_vector"]
            per_shard = int(NODE_RAM_GB * 1e9 * 0.8 / per_vector)  # 20% of the node left for the rest
            shards = math.ceil(total / per_shard)
            size = total / shards
            qps = point["ray_qps"] * math.log(measured_shard) / math.log(size) * NODE_CORES
            rows.append({"vectors": total, "dtype": dtype, "bytes_per_vector": per_vector, "shards": shards,
                         "ram_per_shard_gb": size * per_vector / 1e9, "qps_per_node": qps})
    return rows


def markdown(report: dict) -> str:
    lines = ["| shards | ef | recall@10 | QPS, batches of 1000 | QPS, batches of 256 |", "| --- | --- | --- | --- | --- |"]
    for system, shards in [("one Index", 1)] + [("ShardedIndex", s) for s in SHARDS]:
        for ef in report["efs"]:
            points = {p["batch"]: p for p in report["points"] if p["system"] == system and p["shards"] == shards
                      and p["ef"] == ef}
            label = "one `Index`, 2 threads" if system == "one Index" else f"{shards} (Ray)"
            lines.append(f"| {label} | {ef} | {points[1000]['recall']:.3f} | {points[1000]['qps']:.0f} | "
                         f"{points[256]['qps']:.0f} |")
    lines += ["", "| ef | batch | 2 shards on Ray, QPS | same 2 shards in-process, QPS | ratio | same results | vs one `Index` |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for p in report["overhead"]["two_shards_vs_in_process"]:
        lines.append(f"| {p['ef']} | {p['batch']} | {p['ray_qps']:.0f} | {p['in_process_qps']:.0f} | {p['ratio']:.2f} | "
                     f"{'yes' if p['same_results'] else 'no'} | {p['vs_one_index']:.2f} |")
    lines += ["", "| vectors | dtype | bytes/vector (measured) | shards (64 GB nodes) | RAM per shard | QPS per node, 16 cores (estimate) |",
              "| --- | --- | --- | --- | --- | --- |"]
    for row in sizing(report):
        lines.append(f"| {row['vectors'] / 1e6:,.0f}M | {row['dtype']} | {row['bytes_per_vector']:.0f} | {row['shards']} | "
                     f"{row['ram_per_shard_gb']:.0f} GB | {row['qps_per_node']:,.0f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results" / "distributed.json")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N train vectors (a smoke run; "
                        "recall is then against the file's ground truth and meaningless)")
    parser.add_argument("--markdown", type=Path, help="print the README tables of a results file and exit")
    args = parser.parse_args()
    if args.markdown:
        print(markdown(json.loads(args.markdown.read_text())))
        return

    import ray
    from vecindex.distributed import ShardedIndex

    train, test, truth = load(args.data)
    if args.limit:
        train, test, truth = train[:args.limit], test[:300], truth[:300]
    report = {"machine": describe(), "dataset": args.data.name, "n_train": len(train), "k": K, "params": PARAMS, "efs": EFS,
              "batches": BATCHES, "repeats": REPEATS, "build": {}, "points": [], "overhead": {}, "memory": {}}

    def log(*items):
        print(f"[{time.strftime('%H:%M:%S')}] load {load_average()}", *items, flush=True)

    start = time.perf_counter()
    single = vecindex.Index(dim=train.shape[1], **PARAMS)
    single.add(train, threads=2)
    report["build"]["one_index_seconds"] = time.perf_counter() - start
    # Every index searched here is loaded from its file, so all have the same memory layout.
    workdir = Path(tempfile.mkdtemp(prefix="vecindex-distributed-bench-"))
    single.save(workdir / "one.vx")
    single = vecindex.Index.load(workdir / "one.vx")
    log("one Index built", report["build"])
    for ef in EFS:
        for batch in BATCHES:
            qps, ids = best_qps(lambda q: single.search(q, K, ef=ef, threads=2)[0], test, batch)
            report["points"].append({"system": "one Index", "shards": 1, "ef": ef, "batch": batch, "qps": qps,
                                     "recall": recall(ids, truth)})
    single_ms = per_batch_ms(lambda q: single.search(q, K, ef=64, threads=2), test)

    # The sizing table's dtypes, each measured on its own index (the default keeps sq8 codes
    # and full f32 vectors, which is neither row).
    for dtype in ("f32", "sq8"):
        sized = vecindex.Index(dim=train.shape[1], dtype=dtype, **PARAMS)
        sized.add(train[:20000], threads=2)
        report["memory"][f"{dtype}_bytes_per_vector"] = sum(sized.memory_usage().values()) / len(sized)
        del sized

    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    ds = ray.data.from_numpy(train).repartition(8)
    ds = ds.materialize()
    for shards in SHARDS:
        start = time.perf_counter()
        built = ShardedIndex.from_dataset(ds, vector_column="data", shards=shards, **PARAMS)
        report["build"][f"from_dataset_{shards}_shards_seconds"] = time.perf_counter() - start
        log(f"{shards} shards built", report["build"])
        built.save(workdir / f"s{shards}")
        built.close()
        # The machine's 2 cores shared out: 1 shard searches with 2 threads, 2 with 1 each.
        index = ShardedIndex.load(workdir / f"s{shards}", cpus_per_shard=2 / shards)
        for ef in EFS:
            for batch in BATCHES:
                qps, ids = best_qps(lambda q: index.search(q, K, ef=ef)[0], test, batch)
                report["points"].append({"system": "ShardedIndex", "shards": shards, "ef": ef, "batch": batch,
                                         "qps": qps, "recall": recall(ids, truth)})
        if shards == 2:
            local = InProcessShards(sorted(str(p) for p in (workdir / "s2").glob("shard-*.vx")), threads=1)
            targets = []
            for ef in EFS:
                for batch in BATCHES:
                    ray_qps = local_qps = 0.0
                    for _ in range(TARGET_ROUNDS):  # alternated, so load changes hit both alike
                        qps, ray_ids = best_qps(lambda q: index.search(q, K, ef=ef)[0], test, batch, 1)
                        ray_qps = max(ray_qps, qps)
                        qps, local_ids = best_qps(lambda q: local.search(q, ef)[0], test, batch, 1)
                        local_qps = max(local_qps, qps)
                    one = next(p for p in report["points"] if p["system"] == "one Index" and p["ef"] == ef
                               and p["batch"] == batch)
                    targets.append({"ef": ef, "batch": batch, "ray_qps": ray_qps, "in_process_qps": local_qps,
                                    "ratio": ray_qps / local_qps, "same_results": bool(np.array_equal(ray_ids, local_ids)),
                                    "recall": recall(ray_ids, truth), "vs_one_index": ray_qps / one["qps"],
                                    "one_index_recall": one["recall"]})
                    log(targets[-1])
            report["overhead"]["two_shards_vs_in_process"] = targets
            ray_wall, ray_cpu = per_batch(lambda q: index.search(q, K, ef=64), test)
            local_wall, local_cpu = per_batch(lambda q: local.search(q, 64), test)
            floor_wall, floor_cpu = ray_floor(test)
            report["overhead"]["per_batch_ms_one_query"] = {
                "ray_2_shards": ray_wall, "in_process_2_shards": local_wall, "one_index": single_ms,
                "ray_floor_put_and_two_idle_actor_calls": floor_wall}
            # CPU of every process (driver, GCS, raylet, shard workers): ours is ray_2_shards minus the
            # floor minus the search itself (in_process_2_shards, which also merges).
            report["overhead"]["cpu_ms_per_batch_one_query"] = {
                "ray_2_shards": ray_cpu, "in_process_2_shards": local_cpu,
                "ray_floor_put_and_two_idle_actor_calls": floor_cpu}
            log(report["overhead"]["per_batch_ms_one_query"], report["overhead"]["cpu_ms_per_batch_one_query"])
        index.close()
    report["load_average_at_end"] = load_average()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    print(json.dumps(report["overhead"], indent=1))
    ray.shutdown()


if __name__ == "__main__":
    main()
