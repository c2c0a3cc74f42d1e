"""ShardedIndex save/load/mmap round trips (local and pyarrow.fs URIs), tamper detection,
and building from Ray Data plus batch search with map_batches. One ray.init(num_cpus=2)."""
from __future__ import annotations

import json

import numpy as np
import pytest

import ray
from vecindex import F, FormatError
from vecindex.distributed import ShardedIndex

from conftest import brute_force, clustered

DIM, K = 16, 10


pytestmark = pytest.mark.usefixtures("ray_runtime")  # one local Ray runtime per module (conftest)


@pytest.fixture(scope="module")
def vectors():
    return clustered(800, DIM, seed=21)


@pytest.fixture(scope="module")
def saved(vectors, tmp_path_factory):
    """A 2-shard index (sq8 + rerank, with attributes) saved once; its results and path."""
    path = tmp_path_factory.mktemp("sharded") / "index"
    tags = [["a", "b"] if i % 3 else ["c"] for i in range(800)]
    with ShardedIndex(dim=DIM, metric="cosine", dtype="sq8", rerank=True, shards=2,
                      attributes={"tags": "keywords", "n": "int"}) as index:
        index.add(vectors, attrs={"tags": tags, "n": list(range(800))})
        index.delete([5])
        index.ef_search = 77
        index.save(path)
        results = index.search(vectors[:20], K, filter=F.tags.contains("a"))
    return path, results


@pytest.mark.parametrize("mmap", [False, True])
def test_load_round_trip(saved, vectors, mmap):
    path, (ids, distances) = saved
    with ShardedIndex.load(path, mmap=mmap) as index:
        assert (index.dim, index.metric, index.dtype, index.ef_search, index.shards) == (DIM, "cosine", "sq8", 77, 2)
        assert len(index) == 799 and 5 not in index and index.read_only is mmap
        got = index.search(vectors[:20], K, filter=F.tags.contains("a"))
        np.testing.assert_array_equal(got[0], ids)
        np.testing.assert_allclose(got[1], distances, rtol=1e-6)
        assert index.get_attrs([6]) == {"tags": [["c"]], "n": [6]}
        if mmap:
            with pytest.raises(RuntimeError):
                index.add(vectors[:1], ids=[5000])
        else:
            assert index.add(vectors[:1]).tolist() == [800]  # auto ids continue after the saved ones


def test_pyarrow_filesystem_uri_round_trip(vectors, tmp_path):
    uri = f"file://{tmp_path}/remote"
    with ShardedIndex(dim=DIM, shards=2) as index:
        index.add(vectors[:300])
        index.save(uri)
        expect = index.search(vectors[:5], K)
    with ShardedIndex.load(uri, mmap=True) as index:
        np.testing.assert_array_equal(index.search(vectors[:5], K)[0], expect[0])


@ray.remote
def _actor_temp_dir() -> str:
    import tempfile
    return tempfile.gettempdir()


def _shard_scratch(temp_dir: str) -> set:
    """What vecindex's shard actors have left in the workers' temp directory."""
    import os
    return {name for name in os.listdir(temp_dir) if name.startswith("vecindex-shard")}


def _save_to_uri(vectors, tmp_path, temp_dir: str, before: set):
    """A 2-shard index of 300 vectors saved to a file:// URI; the URI and its results."""
    uri = f"file://{tmp_path}/remote"
    with ShardedIndex(dim=DIM, shards=2) as index:
        index.add(vectors[:300])
        index.save(uri)
        expect = index.search(vectors[:5], K)
        assert _shard_scratch(temp_dir) == before
    return uri, expect


def _assert_same_results(index, vectors, expect) -> None:
    got = index.search(vectors[:5], K)
    np.testing.assert_array_equal(got[0], expect[0])
    np.testing.assert_allclose(got[1], expect[1], rtol=1e-6)


@pytest.mark.parametrize("mmap", [False, True])
def test_uri_save_and_load_leave_nothing_in_the_temp_dir(vectors, tmp_path, mmap):
    temp_dir = ray.get(_actor_temp_dir.remote())
    before = _shard_scratch(temp_dir)
    uri, expect = _save_to_uri(vectors, tmp_path, temp_dir, before)
    with ShardedIndex.load(uri, mmap=mmap) as index:
        assert _shard_scratch(temp_dir) == before  # the copies are gone while the index serves
        _assert_same_results(index, vectors, expect)
    assert _shard_scratch(temp_dir) == before


@pytest.mark.parametrize("mmap", [False, True])
def test_restart_after_a_uri_load_leaves_nothing_in_the_temp_dir(vectors, tmp_path, mmap):
    """A restarted actor reopens its shard from the URI in its constructor: that download
    must go too, and so must the one the killed process had made."""
    temp_dir = ray.get(_actor_temp_dir.remote())
    before = _shard_scratch(temp_dir)
    uri, expect = _save_to_uri(vectors, tmp_path, temp_dir, before)
    with ShardedIndex.load(uri, mmap=mmap, max_restarts=1) as index:
        old = index.shard_info()[0]
        ray.kill(index._deployment.actors[0], no_restart=False)
        info = _restarted_shard_info(index, old["pid"])
        assert info["restore_error"] == "" and info["size"] == old["size"]
        _assert_same_results(index, vectors, expect)
        assert _shard_scratch(temp_dir) == before
    assert _shard_scratch(temp_dir) == before


def _restarted_shard_info(index, old_pid: int, seconds: float = 60.0) -> dict:
    """Shard 0's description once its actor has come back in a new process."""
    import time
    from vecindex.distributed import ShardUnavailable
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            info = index.shard_info()[0]
        except ShardUnavailable:
            info = None
        if info is not None and info["pid"] != old_pid:
            return info
        time.sleep(0.2)
    raise AssertionError(f"shard 0 did not restart within {seconds} s")


def test_local_load_makes_no_scratch_dirs(saved):
    temp_dir = ray.get(_actor_temp_dir.remote())
    before = _shard_scratch(temp_dir)
    with ShardedIndex.load(saved[0], mmap=True) as index:
        assert len(index) == 799
    assert _shard_scratch(temp_dir) == before


def _copy(saved_path, tmp_path):
    import shutil
    target = tmp_path / "copy"
    shutil.copytree(saved_path, target)
    return target


def test_tampered_manifest_raises_format_error(saved, tmp_path):
    path = _copy(saved[0], tmp_path)
    manifest = path / "manifest.json"
    original = manifest.read_text()
    data = json.loads(original)
    for edit in (lambda m: m.update(next_id=5), lambda m: m["schema"].update(dim=8),
                 lambda m: m["files"][1].update(sha256="0" * 64), lambda m: m.update(shards=3)):
        changed = json.loads(original)
        edit(changed)
        manifest.write_text(json.dumps(changed))
        with pytest.raises(FormatError, match="manifest"):
            ShardedIndex.load(path)
    manifest.write_text(original[:-20])
    with pytest.raises(FormatError, match="not valid JSON"):
        ShardedIndex.load(path)
    # A manifest re-signed after an edit is caught by what it describes: here the routing.
    from vecindex.distributed import manifest as manifest_module
    data["routing"]["probe"][0] ^= 1
    body = {key: value for key, value in data.items() if key != "checksum"}
    manifest.write_text(json.dumps(dict(body, checksum=manifest_module._digest(body))))
    with pytest.raises(FormatError, match="routing"):
        ShardedIndex.load(path)
    # Shard files swapped, with a manifest re-signed to match: their ids route elsewhere.
    files = sorted(path.glob("shard-*.vx"))
    first, second = files[0].read_bytes(), files[1].read_bytes()
    files[0].write_bytes(second)
    files[1].write_bytes(first)
    swapped = json.loads(original)
    for key in ("sha256", "bytes", "count"):
        swapped["files"][0][key], swapped["files"][1][key] = swapped["files"][1][key], swapped["files"][0][key]
    body = {key: value for key, value in swapped.items() if key != "checksum"}
    manifest.write_text(json.dumps(dict(body, checksum=manifest_module._digest(body))))
    with pytest.raises(FormatError, match="route to other shards"):
        ShardedIndex.load(path)
    manifest.unlink()
    with pytest.raises(OSError):
        ShardedIndex.load(path)


def test_tampered_shard_file_raises_format_error(saved, tmp_path):
    path = _copy(saved[0], tmp_path)
    shard_file = sorted(path.glob("shard-*.vx"))[1]
    data = bytearray(shard_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    shard_file.write_bytes(bytes(data))
    with pytest.raises(FormatError, match="shard 1 file checksum mismatch"):
        ShardedIndex.load(path)


def test_from_dataset_builds_shards_and_searcher_maps_batches(vectors):
    ids = np.arange(800, dtype=np.int64) * 3 + 1
    langs = ["en" if i % 4 else "de" for i in range(800)]
    items = [{"id": int(i), "embedding": v, "lang": lang, "year": 2000 + int(i) % 30}
             for i, v, lang in zip(ids, vectors, langs)]
    ds = ray.data.from_items(items)
    with ShardedIndex.from_dataset(ds, vector_column="embedding", id_column="id", attr_columns=["lang", "year"],
                                   shards=3) as index:
        assert len(index) == 800 and index.attributes == {"lang": "keyword", "year": "int"}
        assert index.get_attrs([4]) == {"lang": ["en"], "year": [2004]}  # row 1
        np.testing.assert_array_equal(index.get([ids[10]])[0], vectors[10])
        truth, _ = brute_force(vectors, vectors[:50], K, "l2")
        found, _ = index.search(vectors[:50], K, ef=64)
        assert np.mean([len(set(f) & set(ids[t])) / K for f, t in zip(found, truth)]) > 0.95
        filtered, _ = index.search(vectors[:5], K, filter=F.lang == "de", strategy="exact")
        assert all(langs[(int(i) - 1) // 3] == "de" for i in filtered.ravel())
        assert index.add(vectors[:1]).tolist() == [int(ids.max()) + 1]
        rows = ds.limit(40).map_batches(index.searcher(k=K, vector_column="embedding", ef=64)).take_all()
        rows = sorted(rows, key=lambda row: row["id"])
        expect = index.search(np.stack([row["embedding"] for row in rows]), K, ef=64)
        np.testing.assert_array_equal([row["neighbour_ids"] for row in rows], expect[0])
        np.testing.assert_allclose([row["neighbour_distances"] for row in rows], expect[1], rtol=1e-6)


def test_from_dataset_without_id_column_numbers_rows(vectors):
    ds = ray.data.from_items([{"embedding": v} for v in vectors[:300]]).repartition(3)
    with ShardedIndex.from_dataset(ds, vector_column="embedding", shards=2) as index:
        np.testing.assert_array_equal(index.ids(), np.arange(300))
        first = index.get([0, 299])
        assert any(np.allclose(first[0], v) for v in vectors[:300])
    with pytest.raises(ValueError, match="no column 'nope'"):
        ShardedIndex.from_dataset(ds, vector_column="nope", shards=2)
