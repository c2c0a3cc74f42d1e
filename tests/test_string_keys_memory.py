"""memory_usage()["keys"] reports the RAM string keys take: the resident-set growth of an
index with keys, beyond the same index with int ids, matches it."""
import subprocess
import sys
import textwrap

import pytest

CHILD = textwrap.dedent(
    """
    import gc, numpy as np, vecindex

    def rss():
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS:"))

    n = 150000
    vectors = np.random.default_rng(0).normal(size=(n, 2)).astype(np.float32)
    keys = [f"{i:08x}-4d2c-4b1e-9a7f-{i * 7919:012x}" for i in range(n)]  # 36 bytes, like UUIDs
    options = dict(dim=2, M=2, ef_construction=2)
    warm = vecindex.Index(**options, keys="str")  # first-use allocations of both paths
    warm.add(vectors[:1000], ids=keys[:1000])
    del warm
    gc.collect()
    before = rss()
    by_int = vecindex.Index(**options)
    by_int.add(vectors, ids=np.arange(n), threads=1)
    middle = rss()
    by_key = vecindex.Index(**options, keys="str")
    by_key.add(vectors, ids=keys, threads=1)
    gc.collect()
    after = rss()
    print((after - middle) - (middle - before), by_key.memory_usage()["keys"])
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_reported_key_memory_matches_resident_growth():
    result = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    measured, reported = (int(value) for value in result.stdout.split())
    assert reported > 150000 * 36  # at least the key bytes themselves
    assert 0.7 * reported <= measured <= 1.4 * reported, (measured, reported)
