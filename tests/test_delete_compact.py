"""Deletion, compaction and slot reuse keep search correct."""
import numpy as np

import vecindex
from conftest import brute_force, clustered, recall


def build(n=2000, dim=16, seed=21):
    data = clustered(n, dim, seed=seed)
    index = vecindex.Index(dim=dim, M=8, ef_construction=64)
    index.add(data)
    return index, data


def test_deleted_ids_never_come_back_and_recall_holds_on_the_rest():
    index, data = build()
    rng = np.random.default_rng(0)
    deleted = rng.choice(len(data), size=600, replace=False)
    index.delete(deleted)
    keep = np.setdiff1d(np.arange(len(data)), deleted)
    queries = clustered(100, 16, seed=22)
    ids, _ = index.search(queries, k=10, ef=100)
    assert not np.isin(ids, deleted).any()
    truth, _ = brute_force(data[keep], queries, 10, "l2")
    assert recall(ids, keep[truth]) >= 0.95


def test_compact_frees_slots_and_keeps_recall():
    index, data = build()
    deleted = np.arange(0, len(data), 3)
    index.delete(deleted)
    slots_before = index.stats()["slots"]
    assert slots_before == len(data)  # deleted vectors keep their slots until compact()
    assert index.compact() == len(deleted)
    index.check_integrity()
    assert index.stats()["deleted"] == 0
    assert index.stats()["slots"] == len(data) - len(deleted)
    assert index.stats()["slots_allocated"] == len(data)
    keep = np.setdiff1d(np.arange(len(data)), deleted)
    queries = clustered(100, 16, seed=23)
    truth, _ = brute_force(data[keep], queries, 10, "l2")
    ids, _ = index.search(queries, k=10, ef=100)
    assert recall(ids, keep[truth]) >= 0.95
    # Later adds reuse the freed slots instead of growing the index.
    fresh = clustered(len(deleted), 16, seed=24)
    new_ids = index.add(fresh)
    assert index.stats()["slots"] == slots_before
    assert index.stats()["slots_allocated"] == slots_before
    index.check_integrity()
    found, _ = index.search(fresh[:50], k=1)
    assert (found[:, 0] == new_ids[:50]).mean() >= 0.98


def test_a_deleted_id_can_be_added_again():
    index, data = build(n=300)
    index.delete([5])
    index.add(data[5:6] + 1.0, ids=[5])
    np.testing.assert_allclose(index.get([5]), data[5:6] + 1.0)
    assert index.search(data[5] + 1.0, k=1)[0][0] == 5


def test_deleting_everything_then_compacting_leaves_an_empty_searchable_index():
    index, data = build(n=100)
    index.delete(np.arange(100))
    index.compact()
    index.check_integrity()
    ids, distances = index.search(data[0], k=3)
    assert (ids == -1).all() and np.isinf(distances).all()
    index.add(data[:10])
    assert index.search(data[3], k=1)[0][0] == 100 + 3


def test_compaction_survives_save_and_load(tmp_path):
    index, data = build(n=500)
    index.delete(np.arange(0, 500, 2))
    index.compact()
    index.save(tmp_path / "c.vx")
    loaded = vecindex.Index.load(tmp_path / "c.vx")
    loaded.check_integrity()
    assert loaded.stats()["slots"] == 250
    loaded.add(data[:5])  # reuses freed slots after loading
    assert loaded.stats()["slots"] == 255 and loaded.stats()["slots_allocated"] == 500


def test_replaces_deletes_and_compaction_running_together_keep_the_index_sound():
    """Replaced ids swap slots only when the new vector is linked, so a compact or an
    integrity check that runs between linking and the swap must see a consistent index."""
    import threading

    dim = 8
    rng = np.random.default_rng(31)
    data = rng.normal(size=(600, dim)).astype(np.float32)
    index = vecindex.Index(dim=dim, M=6, ef_construction=40, attributes={"version": "int"})
    index.add(data, attrs={"version": [0] * 600})
    errors = []

    def guarded(work):
        def run():
            try:
                work()
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)
        return run

    def replacer(seed):
        local = np.random.default_rng(seed)
        for round_ in range(1, 40):
            ids = local.choice(600, size=20, replace=False)
            index.add(data[ids] + round_, ids=ids, replace=True, attrs={"version": [round_] * 20})

    def deleter():
        local = np.random.default_rng(99)
        for _ in range(40):
            ids = [int(i) for i in local.choice(600, size=5, replace=False) if int(i) in index]
            try:
                index.delete(ids)
            except KeyError:
                pass  # raced with another delete of the same id
            index.compact()

    def checker():
        for _ in range(40):
            index.check_integrity()
            found, _ = index.search(data[:20], k=10)
            for row in found:
                live = row[row >= 0].tolist()
                assert len(live) == len(set(live)), row

    threads = [threading.Thread(target=guarded(work)) for work in
               (lambda: replacer(1), lambda: replacer(2), deleter, checker)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    index.check_integrity()
    ids = index.ids()
    assert len(ids) == len(set(ids.tolist())) == len(index)
    # Every surviving id holds one of the vectors written for it, with that write's attributes.
    versions = index.get_attrs(ids)["version"]
    np.testing.assert_allclose(index.get(ids), data[ids] + np.array(versions, np.float32)[:, None], rtol=1e-6)
