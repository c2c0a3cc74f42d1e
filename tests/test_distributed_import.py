"""vecindex never imports Ray; vecindex.distributed without Ray names the extra to install.

Runs in subprocesses: one checks sys.modules after `import vecindex`, the other makes `import
ray` fail with a meta-path hook (Ray simply absent, nothing of vecindex replaced).
"""
from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np

from vecindex.distributed.merge import merge_topk
from vecindex.distributed.routing import shard_of, split_by_shard, splitmix64


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120)


def test_import_vecindex_does_not_import_ray():
    result = _run("""
        import sys, numpy as np, vecindex
        vecindex.Index(dim=2).add(np.eye(2))
        print(sorted(name for name in sys.modules if name == "ray" or name.startswith("ray.")))
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_distributed_without_ray_names_the_extra():
    result = _run("""
        import sys
        class NoRay:
            def find_spec(self, name, path=None, target=None):
                if name == "ray" or name.startswith("ray."):
                    raise ImportError("No module named 'ray'")
                return None
        sys.meta_path.insert(0, NoRay())
        import vecindex
        try:
            import vecindex.distributed
        except ImportError as error:
            print("ImportError:", error)
    """)
    assert result.returncode == 0, result.stderr
    assert 'ImportError: vecindex.distributed needs Ray: pip install "vecindex[distributed]"' in result.stdout


def test_routing_is_splitmix64_and_spreads_ids_evenly():
    # The first output of SplitMix64 seeded with 0 (the reference generator's known value).
    assert int(splitmix64(np.array([0]))[0]) == 0xE220A8397B1DCDAF
    owners = shard_of(np.arange(80_000, dtype=np.int64), 8)
    counts = np.bincount(owners, minlength=8)
    assert counts.min() > 9_500 and counts.max() < 10_500
    ids = np.array([5, 99, 2**62, 7, 0], dtype=np.int64)
    parts = split_by_shard(ids, 3)
    assert sorted(np.concatenate(parts).tolist()) == list(range(5))
    for shard, rows in enumerate(parts):
        assert (shard_of(ids[rows], 3) == shard).all()


def test_merge_keeps_the_k_nearest_with_ties_broken_by_id_and_padding_last():
    rng = np.random.default_rng(3)
    ids = [rng.permutation(1000)[:30].reshape(3, 10) + 1000 * s for s in range(3)]
    distances = [np.round(rng.random((3, 10)), 1).astype(np.float32) for _ in range(3)]
    ids[2][:, 7:] = -1
    distances[2][:, 7:] = np.inf
    merged_ids, merged_distances = merge_topk(ids, distances, 10)
    again_ids, again_distances = merge_topk(ids[::-1], distances[::-1], 10)
    np.testing.assert_array_equal(merged_ids, again_ids)
    np.testing.assert_array_equal(merged_distances, again_distances)
    for row in range(3):
        pairs = sorted((float(d), int(i)) for s in range(3) for i, d in zip(ids[s][row], distances[s][row]) if i >= 0)
        assert [(float(d), int(i)) for d, i in zip(merged_distances[row], merged_ids[row])] == pairs[:10]
    padded_ids, padded_distances = merge_topk([ids[2][:, 5:]], [distances[2][:, 5:]], 5)
    assert (padded_ids[:, 2:] == -1).all() and np.isinf(padded_distances[:, 2:]).all()
