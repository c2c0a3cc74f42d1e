"""Stress tests of the concurrency contract: any number of threads may search while others add
and delete, and a snapshot taken while adding is consistent.

The core releases the GIL, so these Python threads really run the native calls at once."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest

import vecindex

DIM = 16
ADDERS, DELETERS, SEARCHERS = 2, 1, 2


class Ledger:
    """What the test knows for sure: ids handed to add(), adds and deletes that returned, and
    a sequence number per finished delete so a search knows which deletes preceded it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.vectors: dict[int, np.ndarray] = {}  # every id ever passed to add()
        self.added: list[int] = []  # ids whose add() returned
        self.deleted_seq: dict[int, int] = {}  # id -> sequence number once delete() returned
        self.sequence = 0
        self.next_id = 0
        self.violations: list[str] = []
        self.counts = {"adds": 0, "deletes": 0, "searches": 0, "compactions": 0}

    def reserve(self, rows: np.ndarray) -> list[int]:
        with self.lock:
            ids = list(range(self.next_id, self.next_id + len(rows)))
            self.next_id += len(rows)
            self.vectors.update(zip(ids, rows))
            return ids


def adder(index, ledger, stop, seed):
    rng = np.random.default_rng(seed)
    while not stop.is_set():
        rows = rng.normal(size=(int(rng.integers(1, 40)), DIM)).astype(np.float32)
        ids = ledger.reserve(rows)
        attrs = {"tag": [f"t{i % 3}" for i in ids]} if index.attributes else None
        index.add(rows, ids=ids, attrs=attrs, threads=1)
        with ledger.lock:
            ledger.added += ids
            ledger.counts["adds"] += len(ids)


def deleter(index, ledger, stop, seed):
    """Deletes small batches of finished adds; every 20th batch also checks integrity and
    compacts, which unlinks the deleted nodes and frees their slots for reuse by the adders."""
    rng = np.random.default_rng(seed)
    batches = 0
    while not stop.is_set():
        with ledger.lock:
            candidates = [i for i in ledger.added[-400:] if i not in ledger.deleted_seq]
        if len(candidates) < 10:
            time.sleep(0.001)
            continue
        batch = rng.choice(candidates, size=min(5, len(candidates) // 4), replace=False).tolist()
        index.delete(batch)
        with ledger.lock:
            for id_ in batch:
                ledger.deleted_seq[id_] = ledger.sequence
            ledger.sequence += 1
            ledger.counts["deletes"] += len(batch)
        batches += 1
        if batches % 20 == 0:
            index.check_integrity()  # must hold mid-run too, with adds in flight
            index.compact(threads=1)
            with ledger.lock:
                ledger.counts["compactions"] += 1
        time.sleep(0.002)  # keep most of what is added, so the index grows


def searcher(index, ledger, stop, seed):
    rng = np.random.default_rng(seed)
    while not stop.is_set():
        queries = rng.normal(size=(int(rng.integers(1, 16)), DIM)).astype(np.float32)
        with ledger.lock:
            started = ledger.sequence
        found, distances = index.search(queries, k=10, ef=64, threads=1)
        with ledger.lock:
            ledger.counts["searches"] += len(queries)
            for id_ in set(found.ravel().tolist()) - {-1}:
                if id_ not in ledger.vectors:
                    ledger.violations.append(f"search returned id {id_}, which was never added")
                elif ledger.deleted_seq.get(id_, started) < started:
                    ledger.violations.append(f"search returned id {id_}, deleted before the search began")
            # The index never holds fewer than ~900 live vectors here, so every row must be full.
            if (found == -1).any():
                ledger.violations.append(f"{int((found == -1).any(axis=1).sum())} of {len(found)} queries got "
                                         "fewer than k results from a large index")
            elif np.any(np.diff(distances, axis=1) < 0):
                ledger.violations.append("search results are not sorted by distance")


def run_stress(seconds: float, capsys) -> None:
    rng = np.random.default_rng(7)
    index = vecindex.Index(dim=DIM, metric="l2", M=8, ef_construction=64)
    ledger = Ledger()
    first = rng.normal(size=(1000, DIM)).astype(np.float32)
    first_ids = ledger.reserve(first)
    index.add(first, ids=first_ids)
    ledger.added += first_ids

    stop = threading.Event()
    errors: list[BaseException] = []

    def guarded(body, *args):
        try:
            body(*args)
        except BaseException as error:  # a raised exception is a failure, not a silent thread death
            errors.append(error)
            stop.set()

    roles = [adder] * ADDERS + [deleter] * DELETERS + [searcher] * SEARCHERS
    threads = [threading.Thread(target=guarded, args=(role, index, ledger, stop, 100 + n)) for n, role in enumerate(roles)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    # A slow (sanitizer) build may need longer before every role, compaction included, has acted.
    deadline = time.monotonic() + 20 * seconds
    while min(ledger.counts.values()) == 0 and not stop.is_set() and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began

    with capsys.disabled():
        print(f"\n[stress] {elapsed:.1f} s with {ADDERS} adder, {DELETERS} deleter and {SEARCHERS} searcher threads: "
              f"{ledger.counts['adds']} adds, {ledger.counts['deletes']} deletes, {ledger.counts['compactions']} "
              f"compactions, {ledger.counts['searches']} queries")
    assert not errors, f"a worker raised: {errors[0]!r}"
    assert not ledger.violations, "\n".join(ledger.violations[:20])
    assert min(ledger.counts.values()) > 0, ledger.counts

    index.check_integrity()
    expected = set(ledger.added) - set(ledger.deleted_seq)
    assert set(index.ids().tolist()) == expected and len(index) == len(expected)

    live = np.array(sorted(expected), dtype=np.int64)
    own = np.stack([ledger.vectors[i] for i in live])
    found, _ = index.search(own, k=10, ef=200)
    found_self = float(np.mean((found == live[:, None]).any(axis=1)))
    assert found_self >= 0.99, f"only {found_self:.4f} of live ids are found by their own vector"
    assert not set(found.ravel().tolist()) & set(ledger.deleted_seq), "a deleted id came back after the stress run"


def test_add_delete_search_stress(capsys):
    run_stress(3.0, capsys)


@pytest.mark.slow
def test_add_delete_search_stress_long(capsys):
    run_stress(30.0, capsys)


@pytest.mark.parametrize("attributes", [None, {"tag": "keyword"}])
def test_snapshots_while_adding_are_consistent(tmp_path, attributes):
    """to_bytes and save during adds give files that load, pass the integrity check, hold every
    add that finished before the snapshot began, and map each id to its own vector."""
    index = vecindex.Index(dim=DIM, metric="l2", M=8, ef_construction=48, attributes=attributes)
    ledger = Ledger()
    stop = threading.Event()
    errors: list[BaseException] = []

    def keep_adding():
        try:
            adder(index, ledger, stop, 5)
        except BaseException as error:
            errors.append(error)

    worker = threading.Thread(target=keep_adding)
    worker.start()
    snapshots = []
    try:
        for round_ in range(12):
            time.sleep(0.05)
            with ledger.lock:
                finished = list(ledger.added)
            if round_ % 2:
                path = tmp_path / f"snap{round_}.vx"
                index.save(path)
                snapshot = vecindex.Index.load(path)
            else:
                snapshot = vecindex.Index.from_bytes(index.to_bytes())
            snapshots.append((finished, snapshot))
    finally:
        stop.set()
        worker.join()
    assert not errors, f"the adder raised: {errors[0]!r}"

    sizes = []
    for finished, snapshot in snapshots:
        snapshot.check_integrity()
        ids = snapshot.ids()
        assert set(finished) <= set(ids.tolist()), "a snapshot lost an add that had finished before it began"
        assert set(ids.tolist()) <= set(ledger.vectors), "a snapshot holds an id that was never added"
        if len(ids):
            np.testing.assert_array_equal(snapshot.get(ids), np.stack([ledger.vectors[i] for i in ids]))
            found, _ = snapshot.search(snapshot.get(ids), k=1, ef=100)
            assert np.mean(found[:, 0] == ids) >= 0.99
            if attributes:
                assert snapshot.get_attrs(ids)["tag"] == [f"t{i % 3}" for i in ids]
        sizes.append(len(snapshot))
    assert sizes == sorted(sizes) and sizes[-1] > 0


def test_delete_racing_its_own_add(capsys):
    """A delete of an id whose add is still in flight either fails with KeyError or wins; if it
    wins the id must stay gone (no live node without an id, no -1 among real results)."""
    rng = np.random.default_rng(9)
    index = vecindex.Index(dim=DIM, metric="l2", M=8, ef_construction=100)
    index.add(rng.normal(size=(1000, DIM)).astype(np.float32))
    rows = rng.normal(size=(3000, DIM)).astype(np.float32)
    stop = threading.Event()
    current = [100000]
    won: list[int] = []

    def delete_current():
        while not stop.is_set():
            target = current[0]
            try:
                index.delete([target])
            except KeyError:
                continue
            won.append(target)

    worker = threading.Thread(target=delete_current)
    worker.start()
    try:
        for i in range(len(rows)):
            current[0] = 100000 + i
            index.add(rows[i:i + 1], ids=[100000 + i], threads=1)
    finally:
        stop.set()
        worker.join()
    with capsys.disabled():
        print(f"\n[race] {len(won)} of {len(rows)} deletes won against (or right after) their own add")
    index.check_integrity()
    expected = (set(range(1000)) | set(range(100000, 100000 + len(rows)))) - set(won)
    assert set(index.ids().tolist()) == expected and len(index) == len(expected)
    found, distances = index.search(rows, k=10)
    assert not ((found == -1) & np.isfinite(distances)).any(), "a live node without an id came back as -1"


def test_searches_racing_heavy_adds_return_existing_ids_with_their_own_distances():
    """Readers copy neighbour lists that adds are trimming and rewriting in place (small M, so
    lists fill up at once). Every result must still be a real node: an id whose add had begun,
    at most once per row, at the exact distance between the query and that id's own vector."""
    rng = np.random.default_rng(21)
    first, total, chunk = 500, 8000, 1500
    vectors = rng.normal(size=(total, DIM)).astype(np.float32)
    index = vecindex.Index(dim=DIM, metric="l2", M=4, ef_construction=32)
    index.add(vectors[:first], ids=np.arange(first))
    begun = [first]  # ids below this have had their add begun
    done = threading.Event()
    errors: list[BaseException] = []
    problems: list[str] = []
    searched = [0]

    def add_all():
        try:
            for start in range(first, total, chunk):
                end = min(total, start + chunk)
                begun[0] = end
                index.add(vectors[start:end], ids=np.arange(start, end), threads=2)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            done.set()

    def search_until_done(seed):
        local = np.random.default_rng(seed)
        try:
            while not done.is_set():
                queries = local.normal(size=(8, DIM)).astype(np.float32)
                found, distances = index.search(queries, k=10, ef=32, threads=1)
                limit = begun[0]
                searched[0] += len(queries)
                if (found < 0).any() or (found >= limit).any():
                    problems.append(f"ids outside [0, {limit}): {sorted(set(found.ravel()) - set(range(limit)))[:5]}")
                    continue
                for row, ids in enumerate(found):
                    if len(set(ids.tolist())) != len(ids):
                        problems.append(f"a row repeats an id: {ids.tolist()}")
                exact = ((vectors[found] - queries[:, None, :]) ** 2).sum(axis=2)
                if not np.allclose(distances, exact, rtol=1e-4, atol=1e-4):
                    problems.append("a result's distance is not its own vector's distance to the query")
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=add_all)] + [threading.Thread(target=search_until_done, args=(s,)) for s in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, f"a worker raised: {errors[0]!r}"
    assert not problems, "\n".join(problems[:10])
    assert searched[0] > 0 and len(index) == total
    index.check_integrity()


def test_stats_and_memory_usage_while_adds_grow_the_arrays():
    """stats() and memory_usage() walk the graph's arrays, which adds reallocate as the index
    grows: they must read under the index lock (the sanitizer runs turn a race into a failure)
    and report a consistent, growing picture."""
    rng = np.random.default_rng(31)
    index = vecindex.Index(dim=DIM, metric="l2", M=4, ef_construction=16, dtype="f32")  # codes: DIM * 4 bytes a row
    done = threading.Event()
    errors: list[BaseException] = []
    seen = []

    def add_in_steps():
        try:
            for _ in range(24):  # ~12,000 vectors: the arrays grow by half about ten times
                index.add(rng.normal(size=(500, DIM)).astype(np.float32), threads=2)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            done.set()

    worker = threading.Thread(target=add_in_steps)
    worker.start()
    while not done.is_set():
        stats = index.stats()
        seen.append((stats["slots"], stats["memory"]["graph"], stats["mean_degree0"], index.memory_usage()["codes"]))
        time.sleep(0.001)  # a reader that never pauses would keep the adds' exclusive step waiting
    worker.join()
    assert not errors, f"the adder raised: {errors[0]!r}"
    assert len(seen) > 1
    slots = [s for s, _, _, _ in seen]
    assert slots == sorted(slots), "slots went backwards"
    assert all(0 <= degree <= 2 * 4 for _, _, degree, _ in seen)
    assert all(graph > 0 and codes >= DIM * 4 * s for s, graph, _, codes in seen if s)
