"""No public method waits on a core lock while holding the GIL.

A long `add` or batched `search` holds the index's structure lock (shared) for its whole run
and takes the GIL every 50 ms to check for Ctrl-C or report progress. A method that held the
GIL while waiting for that lock would hang both threads for good. Here every public method is
called on the main thread while such a call runs on another thread.

Each background workload runs in a child process (this file run as a script) with a
faulthandler watchdog per call, so a deadlock prints every thread's stack and fails the test
instead of hanging the run. Sizes are calibrated on the running build, so the background call
lasts about the same wall time on a normal and on a sanitizer build."""
from __future__ import annotations

import faulthandler
import os
import pickle
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
import pytest

DIM = 16
BACKGROUND_SECONDS = 0.25  # target wall time of one background add/search
CALL_TIMEOUT = 60  # seconds one call may take before the child dumps stacks and exits
# "<workload>_str_keys": the same on an index with keys="str", calling its key methods.
WORKLOADS = ["add", "add_progress", "search", "add_str_keys", "search_str_keys"]


@pytest.mark.parametrize("workload", WORKLOADS)
def test_every_public_method_stays_live_during(workload):
    result = subprocess.run([sys.executable, os.path.abspath(__file__), workload], capture_output=True, text=True,
                            timeout=CALL_TIMEOUT * 6)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"child exited with {result.returncode}:\n{output[-6000:]}"
    assert "all methods overlapped" in result.stdout, output[-3000:]


class Background:
    """Keeps one long core call running on a worker thread, restarting it when it ends.
    `generation` counts calls started; `running` is the generation in flight (0: none)."""

    def __init__(self, run_once, has_begun):
        self.run_once = run_once  # runs the long call once
        self.has_begun = has_begun  # () -> bool: the call holds the structure lock now
        self.generation = 0
        self.running = 0
        self.thread: threading.Thread | None = None
        self.errors: list[BaseException] = []

    def _body(self, generation):
        try:
            self.run_once()
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            self.errors.append(error)
        finally:
            self.running = 0

    def ensure_running(self):
        if self.errors:
            raise self.errors[0]
        if self.running:
            return
        if self.thread is not None:
            self.thread.join()
        self.generation += 1
        self.running = self.generation
        self.thread = threading.Thread(target=self._body, args=(self.generation,))
        self.thread.start()
        deadline = time.monotonic() + CALL_TIMEOUT
        while not self.has_begun() and self.running and time.monotonic() < deadline:
            time.sleep(0.002)

    def finish(self):
        if self.thread is not None:
            self.thread.join()
        if self.errors:
            raise self.errors[0]


def names(numbers, keyed):
    """Ids, or for a str-keyed index the keys "k<id>"."""
    return [f"k{n}" for n in numbers] if keyed else np.asarray(list(numbers), dtype=np.int64)


def build_index(rng, keyed=False):
    import vecindex

    index = vecindex.Index(dim=DIM, M=8, ef_construction=48, dtype="sq8", rerank=True,
                           attributes={"tag": "keyword"}, keys="str" if keyed else "int")
    base = rng.normal(size=(3000, DIM)).astype(np.float32)
    index.train(base)  # trained before the first add, so searches walk the codes and a later train() is refused
    index.add(base, ids=names(range(len(base)), keyed), attrs={"tag": [f"t{i % 3}" for i in range(len(base))]})
    return index, base


def public_calls(index, base, rng, scratch, keyed=False):
    """(name, call) for every public method and property of vecindex.Index. Ids 0..999 are
    never deleted; each delete takes the next id from 1000 on."""
    import vecindex
    from vecindex import F

    path = os.path.join(scratch, "snapshot.vx")
    index.save(path)
    blob = index.to_bytes()
    query = rng.normal(size=(3, DIM)).astype(np.float32)
    next_delete = iter(range(1000, 3000))
    next_id = iter(range(10**9, 10**9 + 10**6))

    def set_ef_search():
        index.ef_search = 70

    one_two_three = names([1, 2, 3], keyed)
    return [
        ("len", lambda: len(index)),
        ("contains", lambda: names([5], keyed)[0] in index),
        ("repr", lambda: repr(index)),
        ("properties", lambda: (index.dim, index.metric, index.dtype, index.M, index.ef_construction,
                                index.attributes, index.read_only)),
        ("ef_search get", lambda: index.ef_search),
        ("ef_search set", set_ef_search),
        ("ids", index.ids),
        ("get", lambda: index.get(one_two_three)),
        ("get_attrs", lambda: index.get_attrs(one_two_three)),
        ("explain", lambda: index.explain(F.tag == "t1", k=5)),
        ("search", lambda: index.search(query, k=5)),
        ("search with a filter", lambda: index.search(query, k=5, filter=F.tag == "t2")),
        ("search with an allow-list", lambda: index.search(query, k=5, filter=names([1, 2, 3, 4], keyed))),
        ("search with a callable filter", lambda: index.search(query[:1], k=5, filter=lambda i: hash(i) % 2 == 0)),
        ("stats", index.stats),
        ("memory_usage", index.memory_usage),
        ("check_integrity", index.check_integrity),
        ("delete", lambda: index.delete(names([next(next_delete)], keyed))),
        ("compact", lambda: index.compact(threads=1)),
        ("optimize", index.optimize),
        ("add", lambda: index.add(query[:1], ids=names([next(next_id)], keyed), attrs={"tag": ["t0"]}, threads=1)),
        ("train", lambda: expect_error(RuntimeError, index.train, base[:100])),
        ("to_bytes", index.to_bytes),
        ("pickle", lambda: pickle.dumps(index)),
        ("save", lambda: index.save(path)),
        ("load", lambda: vecindex.Index.load(path)),
        ("from_bytes", lambda: vecindex.Index.from_bytes(blob)),
    ]


def expect_error(kind, call, *args):
    try:
        call(*args)
    except kind:
        return
    raise AssertionError(f"{call.__name__} did not raise {kind.__name__}")


def background_for(workload, index, rng, keyed=False):
    """The long call of this workload, sized from a timed sample to last about
    BACKGROUND_SECONDS on this build."""
    if workload == "search":
        sample = rng.normal(size=(256, DIM)).astype(np.float32)
        began = time.perf_counter()
        index.search(sample, k=10)
        rate = len(sample) / (time.perf_counter() - began)
        queries = rng.normal(size=(max(256, int(rate * BACKGROUND_SECONDS)), DIM)).astype(np.float32)
        started = []

        def run_once():
            started.append(time.monotonic())
            index.search(queries, k=10)

        # The search takes the lock right after checking its queries: give it a moment.
        return run_once, lambda: bool(started) and time.monotonic() - started[-1] > 0.05

    sample = rng.normal(size=(2000, DIM)).astype(np.float32)
    began = time.perf_counter()
    index.add(sample, ids=names(range(2 * 10**9, 2 * 10**9 + len(sample)), keyed))
    rows = max(2000, int(len(sample) / (time.perf_counter() - began) * BACKGROUND_SECONDS))
    fresh = iter(range(3 * 10**9, 4 * 10**9, rows))
    reports = []
    progress = (lambda done, total: reports.append(done)) if workload == "add_progress" else False
    live_before = []

    def run_once():
        data = rng.normal(size=(rows, DIM)).astype(np.float32)
        live_before.append(len(index))
        start = next(fresh)
        index.add(data, ids=names(range(start, start + rows), keyed), progress=progress)

    # Linking has begun (the add holds the lock) once the live count grows.
    return run_once, lambda: bool(live_before) and len(index) > live_before[-1]


def child(workload: str) -> None:
    rng = np.random.default_rng(12)
    keyed = workload.endswith("_str_keys")
    workload = workload.removesuffix("_str_keys")
    index, base = build_index(rng, keyed)
    run_once, has_begun = background_for(workload, index, rng, keyed)
    background = Background(run_once, has_begun)
    with tempfile.TemporaryDirectory() as scratch:
        calls = public_calls(index, base, rng, scratch, keyed)
        missed = []
        for name, call in calls:
            overlapped = False
            for _attempt in range(5):
                background.ensure_running()
                generation = background.running
                faulthandler.dump_traceback_later(CALL_TIMEOUT, exit=True)
                call()
                faulthandler.cancel_dump_traceback_later()
                if generation:  # the call began while the background call held the lock
                    overlapped = True
                    break
            if not overlapped:
                missed.append(name)
            print(f"{name}: ok", flush=True)
        faulthandler.dump_traceback_later(CALL_TIMEOUT, exit=True)
        background.finish()
        faulthandler.cancel_dump_traceback_later()
    index.check_integrity()
    assert not missed, f"never ran while the background {workload} was in flight: {missed}"
    print(f"{workload}: {len(calls)} methods, {background.generation} background calls; all methods overlapped")


if __name__ == "__main__":
    child(sys.argv[1])
