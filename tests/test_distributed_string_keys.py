"""ShardedIndex(keys="str"): the str-keyed Index semantics over shards, recall against one
str-keyed Index, routing by BLAKE2b of the key, save/load/mmap, tamper detection, bad and
unknown keys, allow-list filters, from_dataset and searcher(). One ray.init(num_cpus=2)."""
from __future__ import annotations

import hashlib
import json
import shutil

import numpy as np
import pytest

import ray
import vecindex
from vecindex import F, FormatError
from vecindex.distributed import ShardedIndex
from vecindex.distributed import manifest as manifest_module
from vecindex.distributed import routing
from vecindex.distributed.merge import merge_topk

from conftest import brute_force, clustered

N, DIM, QUERIES, K, EF = 3000, 32, 150, 10, 24
SMALL = 500
SCHEMA = {"group": "keyword", "n": "int"}


def key_of(i: int) -> str:
    return f"doc-{i}#κ{i % 7}"  # non-ASCII: routing hashes the UTF-8 bytes


pytestmark = pytest.mark.usefixtures("ray_runtime")  # one local Ray runtime per module (conftest)


@pytest.fixture(scope="module")
def data():
    vectors = clustered(N, DIM, seed=31)
    queries = clustered(QUERIES, DIM, seed=32)
    keys = [key_of(i) for i in range(N)]
    attrs = {"group": [f"g{i % 5}" for i in range(N)], "n": list(range(N))}
    return vectors, queries, keys, attrs


@pytest.fixture(scope="module")
def pair(data):
    """The same SMALL vectors in one str-keyed Index and a 2-shard str-keyed ShardedIndex."""
    vectors, _, keys, attrs = data
    sub = {name: values[:SMALL] for name, values in attrs.items()}
    single = vecindex.Index(dim=DIM, attributes=SCHEMA, keys="str")
    single.add(vectors[:SMALL], ids=keys[:SMALL], attrs=sub)
    sharded = ShardedIndex(dim=DIM, attributes=SCHEMA, shards=2, keys="str")
    added = sharded.add(vectors[:SMALL], ids=keys[:SMALL], attrs=sub)
    assert added.dtype == object and added.tolist() == keys[:SMALL]
    yield single, sharded
    sharded.close()


def snapshot(index, queries):
    ids, distances = index.search(queries, K)
    return len(index), index.ids().tolist(), ids.tolist(), distances.tolist()


def test_merge_breaks_ties_by_key_and_pads_with_none_last():
    a = np.array([["b", None]], dtype=object), np.array([[1.0, np.inf]], dtype=np.float32)
    b = np.array([["a", "c"]], dtype=object), np.array([[1.0, 0.5]], dtype=np.float32)
    for order in ((a, b), (b, a)):
        ids, distances = merge_topk([order[0][0], order[1][0]], [order[0][1], order[1][1]], 4)
        assert ids.tolist() == [["c", "a", "b", None]]
        assert distances.tolist() == [[0.5, 1.0, 1.0, np.inf]]


def test_api_round_trip_equals_one_str_keyed_index(pair, data):
    single, sharded = pair
    vectors, queries, keys, _ = data
    assert sharded.key_type == "str" and repr(sharded).endswith("keys='str')")
    assert len(sharded) == SMALL and keys[3] in sharded and keys[SMALL] not in sharded and 3 not in sharded
    assert sharded.ids().tolist() == sorted(single.ids().tolist())
    pick = [keys[7], keys[2], keys[400]]
    np.testing.assert_array_equal(sharded.get(pick), single.get(pick))
    assert sharded.get_attrs(pick) == single.get_attrs(pick)
    # An allow-list makes every shard scan its matches exactly: the same answer as one Index.
    allowed = keys[:40]
    for filter in (allowed, tuple(allowed), np.array(allowed), np.array(allowed, dtype=object)):
        got, expect = sharded.search(queries[:8], K, filter=filter), single.search(queries[:8], K, filter=filter)
        assert got[0].dtype == object and got[0].tolist() == expect[0].tolist()
        np.testing.assert_allclose(got[1], expect[1], rtol=1e-6)
    # Short rows are padded with None and +inf; unknown keys in an allow-list match nothing.
    ids, distances = sharded.search(queries[0], 4, filter=[keys[1], keys[2], "no-such-key"])
    assert sorted(ids[:2].tolist()) == sorted([keys[1], keys[2]]) and ids[2:].tolist() == [None, None]
    assert np.isinf(distances[2:]).all() and np.isfinite(distances[:2]).all()
    # One filter per query: a list of key lists, None, and F expressions.
    per_query = [[keys[5]], None, F.group == "g1"]
    got = sharded.search(queries[:3], 3, filter=per_query)
    expect = single.search(queries[:3], 3, filter=per_query)
    assert got[0][0].tolist() == [keys[5], None, None]
    assert got[0][2].tolist() == expect[0][2].tolist()  # an F filter on 100 rows: exact on both
    assert all(int(key.split("-")[1].split("#")[0]) % 5 == 1 for key in got[0][2])
    with pytest.raises(ValueError, match="boolean mask"):
        sharded.search(queries[:2], K, filter=np.ones(SMALL, dtype=bool))


def test_delete_re_add_and_routing_by_blake2b_of_utf8(data):
    vectors, queries, keys, _ = data
    with ShardedIndex(dim=DIM, shards=3, keys="str") as sharded:
        sharded.add(vectors[:300], ids=keys[:300])
        per_shard = sharded._call("ids").values
        for shard, held in per_shard.items():
            for key in held.tolist():
                digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
                assert int.from_bytes(digest, "little") % 3 == shard
        assert sum(len(held) for held in per_shard.values()) == 300 and min(map(len, per_shard.values())) > 50
        sharded.delete([keys[0], keys[1]])
        assert len(sharded) == 298 and keys[0] not in sharded and keys[2] in sharded
        assert keys[0] not in sharded.search(vectors[0], K)[0].tolist()
        sharded.add(vectors[:1], ids=[keys[0]])
        assert sharded.search(vectors[0], 1)[0].tolist() == [keys[0]]
        sharded.add(vectors[1:2], ids=[keys[0]], replace=True)
        np.testing.assert_allclose(sharded.get([keys[0]]), vectors[1:2])
        assert sharded.compact() >= 1 and len(sharded) == 299


def test_recall_at_least_that_of_one_str_keyed_index(data):
    vectors, queries, keys, _ = data
    single = vecindex.Index(dim=DIM, keys="str")
    single.add(vectors, ids=keys, threads=1)  # one thread: the same graph on every run, as a shard's
    order, _ = brute_force(vectors, queries, K, "l2")
    truth = np.array(keys, dtype=object)[order]

    def recall(found):
        return float(np.mean([len(set(f) & set(t)) / K for f, t in zip(found.tolist(), truth.tolist())]))

    with ShardedIndex(dim=DIM, shards=2, keys="str") as sharded:
        sharded.add(vectors, ids=keys)
        base, got = recall(single.search(queries, K, ef=EF)[0]), recall(sharded.search(queries, K, ef=EF)[0])
        print(f"single={base:.4f} sharded={got:.4f}")
        assert got >= base - 0.005


def test_bad_keys_raise_value_error_as_index_does_and_change_nothing(pair, data):
    single, sharded = pair
    vectors, queries, keys, _ = data
    before = snapshot(sharded, queries[:5])
    fresh = ["new-a", "new-b"]
    bad_adds = ((2, [fresh[0], ""]), (2, [fresh[0], 7]), (2, [fresh[0], "x" * 1025]), (2, [fresh[0], "é" * 513]),
                (3, [fresh[0], fresh[1], fresh[0]]), (2, [fresh[0], keys[3]]), (2, [fresh[0]]), (2, None),
                (2, [fresh[0], b"bytes"]))
    for count, bad in bad_adds:
        rows = vectors[:count]
        for index in (single, sharded):
            with pytest.raises(ValueError):
                index.add(rows, ids=bad)
    # With replace=True a shard's vectors cannot be restored: the keys are checked before any shard changes.
    owners = routing.shard_of(np.array(keys[:SMALL], dtype=object), 2)
    other = next(i for i in range(SMALL) if owners[i] != owners[3])
    for bad in ([keys[3], keys[other], ""], [keys[3], keys[other], keys[3]]):
        for index in (single, sharded):
            with pytest.raises(ValueError):
                index.add(vectors[SMALL:SMALL + 3], ids=bad, replace=True)
    for bad in ([""], [keys[1], 5], "x" * 1025, 5, [b"k"]):
        for index in (single, sharded):
            for call in (index.delete, index.get, index.get_attrs):
                with pytest.raises(ValueError):
                    call(bad)
    assert fresh[0] not in sharded and fresh[1] not in sharded
    assert snapshot(sharded, queries[:5]) == before
    np.testing.assert_array_equal(sharded.get([keys[3], keys[other]]), vectors[[3, other]])


def test_unknown_keys_raise_key_error_listing_them_and_change_nothing(pair, data):
    single, sharded = pair
    _, queries, keys, _ = data
    before = snapshot(sharded, queries[:5])
    for call in (sharded.delete, sharded.get, sharded.get_attrs):
        with pytest.raises(KeyError, match="no-such-key"):
            call([keys[1], "no-such-key"])
        with pytest.raises(KeyError):
            getattr(single, call.__name__)([keys[1], "no-such-key"])
    assert keys[1] in sharded
    assert snapshot(sharded, queries[:5]) == before


@pytest.fixture(scope="module")
def saved(data, tmp_path_factory):
    vectors, queries, keys, attrs = data
    path = tmp_path_factory.mktemp("sharded-str") / "index"
    sub = {name: values[:SMALL] for name, values in attrs.items()}
    with ShardedIndex(dim=DIM, attributes=SCHEMA, shards=2, keys="str") as index:
        index.add(vectors[:SMALL], ids=keys[:SMALL], attrs=sub)
        index.delete([keys[4]])
        index.save(path)
        before = snapshot(index, queries[:20]), index.search(queries[:5], K, filter=keys[:30])[0].tolist()
    return path, before


@pytest.mark.parametrize("mmap", [False, True])
def test_save_load_round_trip(saved, data, mmap):
    path, before = saved
    vectors, queries, keys, _ = data
    written = json.loads((path / "manifest.json").read_text())
    assert written["routing"]["scheme"] == "blake2b64-mod" and written["schema"]["keys"] == "str"
    with ShardedIndex.load(path, mmap=mmap) as index:
        assert index.key_type == "str" and index.read_only is mmap
        after = snapshot(index, queries[:20]), index.search(queries[:5], K, filter=keys[:30])[0].tolist()
        assert after == before and keys[4] not in index and keys[5] in index
        assert index.get_attrs([keys[6]]) == {"group": ["g1"], "n": [6]}
        if mmap:
            with pytest.raises(RuntimeError):
                index.add(vectors[:1], ids=["late"])
        else:
            assert index.add(vectors[:1], ids=["late"]).tolist() == ["late"] and "late" in index


def _resign(manifest_path, edit):
    data = json.loads(manifest_path.read_text())
    edit(data)
    body = {key: value for key, value in data.items() if key != "checksum"}
    manifest_path.write_text(json.dumps(dict(body, checksum=manifest_module._digest(body))))


def test_tampered_routing_raises_format_error(saved, tmp_path):
    path = tmp_path / "copy"
    shutil.copytree(saved[0], path)
    manifest = path / "manifest.json"
    original = manifest.read_text()
    edits = (lambda m: m["routing"]["probe"].__setitem__(0, 1 - m["routing"]["probe"][0]),
             lambda m: m["routing"].update(scheme="splitmix64-mod"),
             lambda m: m["schema"].pop("keys"),
             lambda m: m["schema"].update(keys="int"))
    for edit in edits:
        _resign(manifest, edit)
        with pytest.raises(FormatError, match="routing|key type"):
            ShardedIndex.load(path)
        manifest.write_text(original)
    # Shard files swapped under a re-signed manifest: their keys route to the other shard.
    files = sorted(path.glob("shard-*.vx"))
    first, second = files[0].read_bytes(), files[1].read_bytes()
    files[0].write_bytes(second)
    files[1].write_bytes(first)

    def swap(m):
        for key in ("sha256", "bytes", "count"):
            m["files"][0][key], m["files"][1][key] = m["files"][1][key], m["files"][0][key]

    _resign(manifest, swap)
    with pytest.raises(FormatError, match="route to other shards"):
        ShardedIndex.load(path)


def test_int_keyed_shard_files_under_a_str_manifest_raise_format_error(data, tmp_path):
    vectors = data[0]
    with ShardedIndex(dim=DIM, shards=2) as index:
        index.add(vectors[:100])
        index.save(tmp_path / "ints")

    def as_str(m):
        m["schema"]["keys"] = "str"
        m["routing"] = routing.describe(2, string_keys=True)

    _resign(tmp_path / "ints" / "manifest.json", as_str)
    with pytest.raises(FormatError, match="keys"):
        ShardedIndex.load(tmp_path / "ints")


def test_from_dataset_with_str_id_column_and_searcher(data):
    vectors, queries, keys, _ = data
    rows = [{"id": keys[i], "embedding": vectors[i], "group": f"g{i % 5}"} for i in range(400)]
    ds = ray.data.from_items(rows)
    with pytest.raises(ValueError, match="id_column"):
        ShardedIndex.from_dataset(ds, vector_column="embedding", shards=2, keys="str")
    for bad, message in (([""], "empty"), ([keys[0], keys[0]], "repeat")):
        bad_rows = [{"id": key, "embedding": vectors[i]} for i, key in enumerate(bad)]
        with pytest.raises(ValueError, match=message):
            ShardedIndex.from_dataset(ray.data.from_items(bad_rows), vector_column="embedding", id_column="id",
                                      shards=2, keys="str")
    with ShardedIndex.from_dataset(ds, vector_column="embedding", id_column="id", attr_columns=["group"],
                                   shards=2, keys="str") as index:
        assert index.key_type == "str" and sorted(index.ids().tolist()) == sorted(keys[:400])
        single = vecindex.Index(dim=DIM, keys="str")
        single.add(vectors[:400], ids=keys[:400])
        allowed = keys[:50]
        got = index.search(queries[:5], K, filter=allowed)[0]
        assert got.tolist() == single.search(queries[:5], K, filter=allowed)[0].tolist()
        out = ray.data.from_items([{"embedding": q} for q in queries[:6]]).map_batches(
            index.searcher(k=K, vector_column="embedding", filter=allowed)).take_all()
        found = [list(row["neighbour_ids"]) for row in out]
        assert found == single.search(queries[:6], K, filter=allowed)[0].tolist()
