"""What the numbers were measured on: CPU, cores, SIMD level, library versions, host speed."""
from __future__ import annotations

import os
import platform
import sys
import time
from importlib import metadata

# The speed probe: a fixed pure-Python loop, timed PROBE_REPEATS times.
PROBE_LOOP = 200_000
PROBE_REPEATS = 7

# Distributions whose versions change the numbers.
VERSIONED = ("vecindex", "hnswlib", "faiss-cpu", "usearch", "numpy", "h5py", "matplotlib")


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_id() -> dict[str, int]:
    """cpuid family, model and stepping: 'AMD EPYC' alone does not tell Zen 4 from Zen 5."""
    wanted = {"cpu family": "family", "model": "model", "stepping": "stepping"}
    found: dict[str, int] = {}
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                key, _, value = line.partition(":")
                name = wanted.get(key.strip())
                if name and name not in found and value.strip().isdigit():
                    found[name] = int(value)
                if not line.strip() and found:  # the first processor's block is enough
                    break
    except OSError:
        pass
    return found


def cpu_flags() -> list[str]:
    """The SIMD flags that matter for distance kernels, as the kernel reports them."""
    wanted = {"sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl",
              "avx512dq", "avx512_vnni", "avx512_vpopcntdq", "asimd", "sve"}
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith(("flags", "Features")):
                    return sorted(wanted & set(line.split(":", 1)[1].split()))
    except OSError:
        pass
    return []


def simd_info() -> dict | str:
    try:
        import vecindex
        return vecindex.simd_info()
    except Exception as error:  # noqa: BLE001 - machine info must never stop a run
        return f"unavailable ({error})"


def library_versions() -> dict[str, str | None]:
    versions = {}
    for name in VERSIONED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def load_average() -> tuple[float, float, float] | None:
    """1/5/15-minute load: a busy machine explains noisy QPS."""
    return os.getloadavg() if hasattr(os, "getloadavg") else None


def speed_probe(repeats: int = PROBE_REPEATS, loop: int = PROBE_LOOP) -> dict:
    """Fastest and slowest of `repeats` timings of one fixed loop, in ms.

    The load average cannot see a virtual machine's neighbours on the host; this loop can. A
    wide range, or a slower probe at the end of a run than at its start, marks numbers from a
    host whose speed changed under them (bench/README.md, "Output", gives a measured case)."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        total = 0
        for value in range(loop):
            total += value * value
        times.append(1000 * (time.perf_counter() - started))
    return {"min_ms": round(min(times), 3), "max_ms": round(max(times), 3), "repeats": repeats, "loop": loop}


def describe() -> dict:
    return {"cpu_model": cpu_model(), "cpu_id": cpu_id(), "cpu_flags": cpu_flags(), "logical_cores": os.cpu_count(),
            "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
            "platform": platform.platform(), "python": sys.version.split()[0],
            "load_average_at_start": load_average(), "speed_probe_at_start": speed_probe(),
            "simd_info": simd_info(), "libraries": library_versions(),
            "env": {key: os.environ[key] for key in ("VECINDEX_SIMD", "OMP_NUM_THREADS")
                    if key in os.environ}}
