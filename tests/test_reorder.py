"""Index.optimize() renumbers internal slots for locality and changes nothing a caller can see."""
import numpy as np
import pytest

import vecindex
from conftest import clustered
from vecindex import F

DIM = 16


def snapshot(index, queries, ids):
    """Everything observable that optimize() must keep: results, vectors, counts, integrity."""
    out = {"len": len(index), "ids": sorted(np.asarray(index.ids()).tolist()), "integrity": index._core.integrity_error()}
    for k, ef in ((1, 16), (10, 40), (25, 100)):
        found, distances = index.search(queries, k=k, ef=ef)
        out[f"search{k}"] = (np.asarray(found).tolist(), distances.tolist())
    out["get"] = index.get(ids).tolist()
    stats = index.stats()
    out["stats"] = {name: stats[name] for name in ("levels", "mean_degree0", "slots", "deleted", "slots_allocated", "size")}
    return out


def build(dtype="f32", metric="l2", n=1500, threads=None, **options):
    data = clustered(n, DIM, seed=31)
    index = vecindex.Index(DIM, metric, M=8, ef_construction=60, dtype=dtype, **options)
    index.add(data, threads=threads)
    # Tombstones and freed slots too: some deleted and compacted, some only deleted.
    index.delete(np.arange(0, n, 7))
    index.compact()
    second = np.arange(3, n, 11)
    index.delete(second[second % 7 != 0])
    return index, data


def live_ids(index):
    return np.sort(np.asarray(index.ids()))


@pytest.mark.parametrize("dtype,metric,options", [
    ("f32", "l2", {}),
    ("f32", "cosine", {}),
    ("f32", "ip", {}),
    ("f16", "l2", {}),
    ("bf16", "cosine", {}),
    ("sq8", "l2", {"rerank": True}),
    ("sq8", "cosine", {}),
    ("sq4", "l2", {}),
    ("pq", "l2", {"pq_m": 4, "rerank": True}),
    ("rabitq", "cosine", {"rerank": True}),
])
@pytest.mark.parametrize("method", ["bfs", "rcm"])
def test_optimize_keeps_every_result_vector_and_count(dtype, metric, options, method):
    index, _ = build(dtype, metric, **options)
    queries = clustered(60, DIM, seed=32)
    ids = live_ids(index)
    order_before = np.asarray(index.ids()).tolist()
    before = snapshot(index, queries, ids)
    moved = index.optimize(method=method)
    assert moved > 0
    # ids() lists slots in order: a different order shows the layout really changed.
    assert np.asarray(index.ids()).tolist() != order_before
    assert snapshot(index, queries, ids) == before
    assert before["integrity"] == ""


@pytest.mark.parametrize("method", ["bfs", "rcm"])
def test_optimize_puts_near_vectors_in_near_slots(method):
    rng = np.random.default_rng(41)
    centers = rng.normal(size=(40, DIM))
    labels = rng.integers(0, 40, size=2000)  # rows arrive in random cluster order
    data = (centers[labels] + 0.35 * rng.normal(size=(2000, DIM))).astype(np.float32)
    index = vecindex.Index(DIM, M=8, ef_construction=60)
    index.add(data)

    def same_cluster_in_next_slot():
        in_slot_order = labels[index.ids()]  # ids() lists slots in order
        return float((in_slot_order[1:] == in_slot_order[:-1]).mean())

    before = same_cluster_in_next_slot()
    assert before < 0.05  # about 1 in 40 by chance
    index.optimize(method=method)
    assert same_cluster_in_next_slot() > 10 * before


def test_adds_after_optimize_reuse_the_freed_slots():
    index, _ = build()
    slots = index.stats()["slots_allocated"]
    freed = slots - index.stats()["slots"]
    assert freed > 200
    index.optimize()
    index.check_integrity()
    # The freed slots were renumbered with everything else: adds still reuse them all.
    fresh = clustered(200, DIM, seed=33)
    new_ids = index.add(fresh)
    assert index.stats()["slots_allocated"] == slots
    assert index.stats()["slots"] == slots - freed + 200
    index.check_integrity()
    found, _ = index.search(fresh, k=1)
    assert (found[:, 0] == new_ids).mean() >= 0.98
    index.delete(new_ids[:50])
    index.compact()
    index.optimize(method="rcm")
    index.check_integrity()
    found, _ = index.search(fresh[50:], k=1)
    assert (found[:, 0] == new_ids[50:]).mean() >= 0.98


def test_optimize_is_deterministic_and_bfs_is_a_fixed_point():
    # One build thread: a parallel build links in a varying order, so graphs differ.
    first, _ = build(threads=1)
    second, _ = build(threads=1)
    assert first.to_bytes() == second.to_bytes()
    assert first.optimize(method="bfs") == second.optimize(method="bfs")
    assert first.to_bytes() == second.to_bytes()
    image = first.to_bytes()
    # The breadth-first order of a renumbered graph is the identity: nothing moves.
    assert first.optimize(method="bfs") == 0
    assert first.to_bytes() == image


def assert_same_scan_results(after, before):
    """Results of a search that may end in an exact scan of the matches (exact and post-filter
    plans). The scan scores slots in slot order, four at a time with the tail one by one, and the
    two f32 kernels add a distance's DIM non-negative terms in different orders, so a renumbered
    slot's distance may round differently: within DIM * eps relative, the bound for any order."""
    np.testing.assert_array_equal(after[0], before[0])
    np.testing.assert_allclose(after[1], before[1], rtol=DIM * np.finfo(np.float32).eps, atol=0)


def test_optimize_keeps_attributes_and_filtered_results():
    rng = np.random.default_rng(5)
    n = 1200
    data = clustered(n, DIM, seed=34)
    attrs = {"section": [f"s{i % 5}" for i in range(n)], "size": rng.integers(0, 100, n).tolist(),
             "score": rng.normal(size=n).tolist(), "tags": [[f"t{i % 3}", f"u{i % 4}"] for i in range(n)],
             "flag": (rng.random(n) < 0.4).tolist()}
    schema = {"section": "keyword", "size": "int", "score": "float", "tags": "keywords", "flag": "bool"}
    index = vecindex.Index(DIM, M=8, ef_construction=60, attributes=schema)
    index.add(data, attrs=attrs)
    index.delete(np.arange(0, n, 9))
    queries = clustered(30, DIM, seed=35)
    filters = [F.section == "s2", (F.size < 30) & F.flag, F.score.between(-0.5, 0.5), F.tags.contains_any(["u1"]),
               ~F.tags.contains_all(["t0", "u0"]), list(range(0, n, 3))]
    ids = live_ids(index)

    def observe():
        out = {"attrs": index.get_attrs(ids)}
        for number, expression in enumerate(filters):
            # The filtered graph walk seeds extra entries spread over slots, so only the plans
            # that do not (exact scan, post-filter) promise identical results.
            for strategy in ("exact", "post_filter"):
                out[number, strategy] = index.search(queries, k=8, ef=64, filter=expression, strategy=strategy)
        return out

    before = observe()
    order_before = np.asarray(index.ids()).tolist()
    assert index.optimize() > 0
    assert np.asarray(index.ids()).tolist() != order_before
    after = observe()
    assert after.keys() == before.keys()
    for name in before:
        if name == "attrs":
            assert {key: list(values) for key, values in after[name].items()} == \
                {key: list(values) for key, values in before[name].items()}
        else:
            assert_same_scan_results(after[name], before[name])
    index.check_integrity()


def test_optimize_keeps_string_keys():
    data = clustered(800, DIM, seed=36)
    keys = [f"doc-{i}" for i in range(800)]
    index = vecindex.Index(DIM, M=8, ef_construction=60, keys="str")
    index.add(data, ids=keys)
    index.delete(keys[::5])
    index.compact()
    queries = clustered(20, DIM, seed=37)
    live = sorted(index.ids().tolist())
    allow = keys[1::4]

    def observe():
        found, distances = index.search(queries, k=10)
        return (sorted(index.ids().tolist()), found.tolist(), distances.tolist(), index.get(live).tolist(),
                [key in index for key in keys])

    before = observe()
    allowed_before = index.search(queries, k=5, filter=allow, strategy="exact")
    assert index.optimize(method="rcm") > 0
    assert observe() == before
    assert_same_scan_results(index.search(queries, k=5, filter=allow, strategy="exact"), allowed_before)
    index.check_integrity()


def test_optimized_index_saves_and_loads_the_same(tmp_path):
    index, data = build("sq8", rerank=True)
    queries = clustered(40, DIM, seed=38)
    ids = live_ids(index)
    before = snapshot(index, queries, ids)
    index.optimize()
    path = tmp_path / "optimized.vdx"
    index.save(path)
    loaded = vecindex.Index.load(path)
    assert snapshot(loaded, queries, ids) == before
    # The file keeps the renumbered layout (ids() lists slots in order).
    assert loaded.ids().tolist() == index.ids().tolist()
    assert snapshot(vecindex.Index.from_bytes(index.to_bytes()), queries, ids) == before
    f32, _ = build()
    f32_before = snapshot(f32, queries, live_ids(f32))
    f32.optimize()
    f32.save(tmp_path / "f32.vdx")
    mapped = vecindex.Index.load(tmp_path / "f32.vdx", mmap=True)
    assert snapshot(mapped, queries, live_ids(f32)) == f32_before


def test_a_refused_optimize_changes_nothing(tmp_path):
    index, _ = build()
    queries = clustered(20, DIM, seed=39)
    ids = live_ids(index)
    image = index.to_bytes()
    before = snapshot(index, queries, ids)
    with pytest.raises(ValueError, match="'bfs' or 'rcm'"):
        index.optimize(method="gorder")
    with pytest.raises(TypeError):
        index.optimize(method=1)
    assert index.to_bytes() == image and snapshot(index, queries, ids) == before
    index.save(tmp_path / "index.vdx")
    mapped = vecindex.Index.load(tmp_path / "index.vdx", mmap=True)
    with pytest.raises(RuntimeError, match="read-only"):
        mapped.optimize()
    assert snapshot(mapped, queries, ids) == before


def test_optimize_on_empty_and_tiny_indexes():
    empty = vecindex.Index(DIM)
    assert empty.optimize() == 0
    empty.check_integrity()
    one = vecindex.Index(DIM)
    one.add(np.ones((1, DIM), np.float32))
    assert one.optimize() == 0
    assert one.search(np.ones(DIM, np.float32), k=1)[0].tolist() == [0]
    gone = vecindex.Index(DIM)
    gone.add(clustered(50, DIM, seed=40))
    gone.delete(np.arange(50))
    gone.compact()
    assert gone.optimize() == 0 and len(gone) == 0
    gone.check_integrity()
