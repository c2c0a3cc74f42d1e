"""The index's large arrays sit on transparent huge pages where the kernel offers them.

Random hops over hundreds of MB miss the TLB on nearly every distance with 4 KiB pages. The
core aligns its large blocks to 2 MiB and advises them toward huge pages (cpp/util/large_alloc.h).
An earlier version advised a block that was only 64-byte aligned, which the kernel refuses, and
no test noticed: this one reads AnonHugePages in a fresh process.
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from skip_policy import huge_pages_offered

import vecindex

pytestmark = pytest.mark.skipif(not huge_pages_offered(),
                                reason="transparent huge pages are not offered by this kernel")

# Builds or loads an index in a fresh process and reports how much of its growth in anonymous
# memory is on huge pages. numpy advises its own large arrays, so the input is made first.
PROBE = textwrap.dedent(
    """
    import json, sys, numpy as np, vecindex
    def anon_kib():
        fields = {}
        with open("/proc/self/smaps_rollup") as f:
            for line in f:
                name, _, rest = line.partition(":")
                if name in ("Anonymous", "AnonHugePages"):
                    fields[name] = int(rest.split()[0])
        return fields
    mode, dtype, arg = sys.argv[1], sys.argv[2], sys.argv[3]
    if mode == "build":
        data = np.random.default_rng(5).random((int(arg), 384), dtype=np.float32)
        before = anon_kib()
        index = vecindex.Index(dim=384, dtype=dtype, ef_construction=1)
        index.add(data, threads=2)
    else:
        before = anon_kib()
        index = vecindex.Index.load(arg)
    after = anon_kib()
    print(json.dumps({"huge": (after["AnonHugePages"] - before["AnonHugePages"]) * 1024,
                      "anon": (after["Anonymous"] - before["Anonymous"]) * 1024,
                      "usage": index.memory_usage()}))
    """
)

ROWS = 40_000  # 61 MB of float32 vectors, 15 MB of sq8 codes


def probe(*args: str) -> dict:
    result = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


def big_arrays(usage: dict) -> int:
    return usage["full_vectors"] + usage["codes"] + usage["graph"]


@pytest.mark.parametrize("dtype", ["f32", "sq8"])
def test_a_built_index_keeps_most_of_its_arrays_on_huge_pages(dtype):
    report = probe("build", dtype, str(ROWS))
    wanted = big_arrays(report["usage"])
    assert wanted > 15_000_000
    # Block tails and the small arrays (upper levels, keys) stay on 4 KiB pages.
    assert report["huge"] >= 0.7 * wanted, report


def test_a_loaded_index_keeps_most_of_its_arrays_on_huge_pages(tmp_path):
    data = np.random.default_rng(6).random((ROWS, 384), dtype=np.float32)
    index = vecindex.Index(dim=384, ef_construction=1)  # the default: sq8 codes and full vectors
    index.add(data, threads=2)
    path = tmp_path / "big.vx"
    index.save(path)
    del index, data
    report = probe("load", "", str(path))
    wanted = big_arrays(report["usage"])
    assert report["huge"] >= 0.7 * wanted, report
