"""String keys under the same concurrency contract as int ids: adds, deletes and compact
from one Python thread while others search. Every result is a key whose add had begun, at the
exact distance of that key's own vector; deleted-and-compacted keys never dangle."""
import threading

import numpy as np

import vecindex

DIM = 12


def test_searches_racing_adds_deletes_and_compact_return_added_keys_at_their_own_distances():
    rng = np.random.default_rng(31)
    first, total, chunk = 600, 5000, 400
    vectors = rng.normal(size=(total, DIM)).astype(np.float32)
    keys = [f"doc-{i:05d}/ß" for i in range(total)]
    row_of = {key: i for i, key in enumerate(keys)}
    index = vecindex.Index(dim=DIM, M=4, ef_construction=32, keys="str")
    index.add(vectors[:first], ids=keys[:first])
    begun = [first]  # keys below this row have had their add begun
    done = threading.Event()
    errors: list[BaseException] = []
    problems: list[str] = []
    searched = [0]

    def write():
        try:
            for start in range(first, total, chunk):
                end = min(total, start + chunk)
                begun[0] = end
                index.add(vectors[start:end], ids=keys[start:end], threads=2)
                index.delete(keys[start:start + 20])  # never re-added: each key keeps one vector
                index.compact(threads=1)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            done.set()

    def search_until_done(seed, filtered):
        local = np.random.default_rng(seed)
        allowed = keys[::3]
        try:
            while not done.is_set():
                queries = local.normal(size=(6, DIM)).astype(np.float32)
                found, distances = index.search(queries, k=8, ef=32, threads=1,
                                                filter=allowed if filtered else None)
                limit = begun[0]
                searched[0] += len(queries)
                rows = np.vectorize(lambda key: row_of.get(key, -1), otypes=[np.int64])(found)
                if (rows < 0).any() or (rows >= limit).any():
                    problems.append(f"keys never added: {[k for k in found.ravel() if row_of.get(k, total) >= limit][:5]}")
                    continue
                if filtered and not set(found.ravel()) <= set(allowed):
                    problems.append("a filtered search returned a key outside its allow-list")
                exact = ((vectors[rows] - queries[:, None, :]) ** 2).sum(axis=2)
                if not np.allclose(distances, exact, rtol=1e-4, atol=1e-4):
                    problems.append("a key came back with another vector's distance")
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=write)] + [
        threading.Thread(target=search_until_done, args=(seed, seed == 2)) for seed in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, f"a worker raised: {errors[0]!r}"
    assert not problems, "\n".join(problems[:10])
    assert searched[0] > 0
    deleted = {key for start in range(first, total, chunk) for key in keys[start:start + 20]}
    assert set(index.ids()) == set(keys) - deleted
    index.check_integrity()
