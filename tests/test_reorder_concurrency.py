"""optimize() racing searches and adds: searches see the same results throughout, adds land whole."""
import threading

import numpy as np

import vecindex
from conftest import clustered

DIM = 16


def test_searches_during_optimize_return_the_same_results():
    index = vecindex.Index(DIM, M=8, ef_construction=60)
    index.add(clustered(3000, DIM, seed=51))
    index.delete(np.arange(0, 3000, 13))
    queries = clustered(40, DIM, seed=52)
    expected = index.search(queries, k=10, ef=50)
    stop = threading.Event()
    mismatches, searches = [], [0]

    def searcher():
        while not stop.is_set():
            found, distances = index.search(queries, k=10, ef=50)
            searches[0] += 1
            if not (np.array_equal(found, expected[0]) and np.array_equal(distances, expected[1])):
                mismatches.append(searches[0])

    threads = [threading.Thread(target=searcher) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        moved = [index.optimize(method=method) for method in ("rcm", "bfs", "rcm", "bfs")]
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert all(count > 0 for count in moved)
    assert searches[0] > 0 and mismatches == []
    index.check_integrity()


def test_adds_during_optimize_all_land():
    index = vecindex.Index(DIM, M=8, ef_construction=40)
    base = clustered(1000, DIM, seed=53)
    index.add(base)
    extra = clustered(1200, DIM, seed=54)
    batches = np.array_split(np.arange(1000, 2200), 12)
    failures = []

    def adder():
        try:
            for batch in batches:
                index.add(extra[batch - 1000], ids=batch, threads=1)
        except Exception as error:  # reported below; a thread must not swallow it
            failures.append(error)

    thread = threading.Thread(target=adder)
    thread.start()
    optimized = 0
    while thread.is_alive():
        index.optimize(method="rcm" if optimized % 2 else "bfs")
        optimized += 1
    thread.join()
    assert failures == [] and optimized > 0
    index.check_integrity()
    everything = np.vstack([base, extra])
    assert sorted(index.ids().tolist()) == list(range(2200))
    np.testing.assert_array_equal(index.get(np.arange(2200)), everything)
    found, _ = index.search(everything, k=1, ef=64)
    assert (found[:, 0] == np.arange(2200)).mean() >= 0.98
