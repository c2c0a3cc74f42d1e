"""vecindex.compat.hnswlib: save/load, pickling, copies, and unchanged hnswlib user code."""
import pickle
import textwrap

import numpy as np
import pytest

import vecindex
from vecindex.compat import hnswlib as compat

DIM = 12


@pytest.fixture
def reference():
    return pytest.importorskip("hnswlib")


@pytest.fixture
def data():
    return np.random.default_rng(11).standard_normal((300, DIM)).astype(np.float32)


def index_with_deletions(module, data, space="l2"):
    index = module.Index(space, DIM)
    index.init_index(400, M=8, ef_construction=100)
    index.set_num_threads(1)  # single-threaded builds are deterministic
    index.add_items(data)
    for label in (5, 17, 250):
        index.mark_deleted(label)
    index.set_ef(40)
    return index


def same_answers(first, second, queries):
    for left, right in zip(first.knn_query(queries, k=5), second.knn_query(queries, k=5)):
        np.testing.assert_array_equal(left, right)


@pytest.mark.parametrize("space", ["l2", "ip", "cosine"])
def test_save_and_load_keep_answers_counts_and_deletions(tmp_path, data, space):
    saved = index_with_deletions(compat, data, space)
    saved.save_index(str(tmp_path / "index.bin"))
    loaded = compat.Index(space, DIM)
    loaded.load_index(str(tmp_path / "index.bin"))
    loaded.set_ef(40)
    same_answers(saved, loaded, data[:30])
    assert sorted(loaded.get_ids_list()) == sorted(saved.get_ids_list())
    assert (loaded.get_current_count(), loaded.get_max_elements(), loaded.M) == (300, 400, 8)
    loaded.unmark_deleted(17)
    expected = data[17] / np.linalg.norm(data[17]) if space == "cosine" else data[17]
    np.testing.assert_allclose(loaded.get_items([17])[0], expected, rtol=1e-6)
    if space != "ip":  # under ip a vector need not be its own nearest neighbour
        assert loaded.knn_query(data[17], k=1)[0][0, 0] == 17


def test_load_resets_ef_and_applies_max_elements_like_hnswlib(tmp_path, reference, data):
    for requested in (0, 100, 300, 350, 1000):
        capacities, efs = [], []
        for module in (compat, reference):
            path = str(tmp_path / f"{module.__name__}.bin")
            index_with_deletions(module, data).save_index(path)
            loaded = module.Index("l2", DIM)
            loaded.load_index(path, max_elements=requested)
            capacities.append(loaded.get_max_elements())
            efs.append(loaded.ef)
        assert capacities[0] == capacities[1]
        assert efs[0] == efs[1]


def test_allow_replace_deleted_comes_from_load_index_like_hnswlib(tmp_path, reference, data):
    outcomes = []
    for module in (compat, reference):
        path = str(tmp_path / f"{module.__name__}.bin")
        index_with_deletions(module, data).save_index(path)
        refused = module.Index("l2", DIM)
        refused.load_index(path)
        with pytest.raises(RuntimeError):
            refused.add_items(data[:1], ids=[999], replace_deleted=True)
        allowed = module.Index("l2", DIM)
        allowed.load_index(path, allow_replace_deleted=True)
        allowed.add_items(data[:1], ids=[999], replace_deleted=True)
        outcomes.append((allowed.get_current_count(), 999 in allowed.get_ids_list()))
    assert outcomes[0] == outcomes[1]


def test_pickle_keeps_answers_ef_threads_and_deletions(data):
    original = index_with_deletions(compat, data)
    copy = pickle.loads(pickle.dumps(original))
    same_answers(original, copy, data[:30])
    assert (copy.ef, copy.num_threads, copy.space, copy.dim) == (40, 1, "l2", DIM)
    with pytest.raises(RuntimeError, match="Label not found"):
        copy.get_items([5])


def test_copy_constructor_is_independent(data):
    original = index_with_deletions(compat, data)
    copy = compat.Index(original)
    copy.add_items(data[:1], ids=[399])
    copy.unmark_deleted(5)
    assert 399 not in original.get_ids_list()
    with pytest.raises(RuntimeError):
        original.get_items([5])
    from_state = compat.Index(original.__getstate__())
    same_answers(from_state, original, data[:10])
    from_state.add_items(data[:1], ids=[398])
    assert 398 not in original.get_ids_list()
    assert 398 not in original.knn_query(data[0], k=3)[0]  # the core is not shared either


def test_load_refuses_a_damaged_file(tmp_path, data):
    path = tmp_path / "index.bin"
    index_with_deletions(compat, data).save_index(str(path))
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises((vecindex.FormatError, RuntimeError)):
        compat.Index("l2", DIM).load_index(str(path))


@pytest.mark.parametrize("space", ["l2", "ip", "cosine"])
def test_load_migrates_a_file_written_by_real_hnswlib(tmp_path, reference, data, space):
    path = str(tmp_path / "hnswlib.bin")
    theirs = index_with_deletions(reference, data, space)
    theirs.save_index(path)
    ours = compat.Index(space, DIM)
    ours.load_index(path)
    assert sorted(ours.get_ids_list()) == sorted(theirs.get_ids_list())
    assert (ours.get_current_count(), ours.get_max_elements(), ours.M, ours.ef_construction) == (
        theirs.get_current_count(), theirs.get_max_elements(), theirs.M, theirs.ef_construction)
    live = [label for label in range(300) if label not in (5, 17, 250)]
    np.testing.assert_array_equal(ours.get_items(live), theirs.get_items(live))
    with pytest.raises(RuntimeError, match="Label not found"):
        ours.get_items([17])
    ours.unmark_deleted(17)  # deleted vectors survive the migration
    theirs.unmark_deleted(17)
    np.testing.assert_array_equal(ours.get_items([17]), theirs.get_items([17]))


def test_load_refuses_a_truncated_hnswlib_file(tmp_path, reference, data):
    path = tmp_path / "hnswlib.bin"
    index_with_deletions(reference, data).save_index(str(path))
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(vecindex.FormatError):
        compat.Index("l2", DIM).load_index(str(path))


def test_load_refuses_an_hnswlib_file_of_another_dim(tmp_path, reference, data):
    path = str(tmp_path / "hnswlib.bin")
    index_with_deletions(reference, data).save_index(path)
    with pytest.raises(vecindex.FormatError, match="dim"):
        compat.Index("l2", DIM + 1).load_index(path)


def test_load_refuses_a_file_of_another_space(tmp_path, data):
    path = str(tmp_path / "index.bin")
    index_with_deletions(compat, data, "ip").save_index(path)
    with pytest.raises(RuntimeError, match="space='ip'"):
        compat.Index("l2", DIM).load_index(path)


def test_index_file_size_is_the_saved_size(tmp_path, data):
    index = index_with_deletions(compat, data)
    index.save_index(str(tmp_path / "index.bin"))
    assert index.index_file_size() == (tmp_path / "index.bin").stat().st_size


def test_bfindex_save_and_load_round_trip(tmp_path, data):
    index = compat.BFIndex("ip", DIM)
    index.init_index(500)
    index.add_items(data)
    index.delete_vector(7)
    index.save_index(str(tmp_path / "bf.bin"))
    loaded = compat.BFIndex("ip", DIM)
    loaded.load_index(str(tmp_path / "bf.bin"))
    same_answers(index, loaded, data[:20])
    assert (loaded.get_current_count(), loaded.get_max_elements()) == (299, 500)


# ---- unchanged user code ------------------------------------------------------------------

# A typical hnswlib program (written for this test, in the style of hnswlib's documented
# usage): build, grow, query, delete, persist, pickle and check recall against BFIndex.
USER_PROGRAM = textwrap.dedent("""
    import hnswlib
    import numpy as np
    import pickle

    dim, num_elements = 24, 1500
    rng = np.random.default_rng(3)
    data = np.float32(rng.random((num_elements, dim)))
    ids = np.arange(num_elements)

    p = hnswlib.Index(space='l2', dim=dim)
    p.init_index(max_elements=num_elements // 2, ef_construction=100, M=16)
    p.set_ef(10)
    p.set_num_threads(2)
    p.add_items(data[:num_elements // 2], ids[:num_elements // 2])
    try:
        p.add_items(data[num_elements // 2:], ids[num_elements // 2:])
    except RuntimeError:
        p.resize_index(num_elements)
        p.add_items(data[num_elements // 2:], ids[num_elements // 2:])

    p.set_ef(50)
    labels, distances = p.knn_query(data, k=1)
    self_recall = np.mean(labels.reshape(-1) == np.arange(len(data)))

    bf = hnswlib.BFIndex(space='l2', dim=dim)
    bf.init_index(max_elements=num_elements)
    bf.add_items(data, ids)
    queries = np.float32(rng.random((50, dim)))
    approx, _ = p.knn_query(queries, k=10)
    exact, _ = bf.knn_query(queries, k=10)
    recall = np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approx, exact)])

    for label in range(0, 100):
        p.mark_deleted(label)
    labels, _ = p.knn_query(data[:100], k=5)
    deleted_returned = int(np.isin(labels, np.arange(100)).sum())

    p.save_index("index.bin")
    del p
    p = hnswlib.Index(space='l2', dim=dim)
    p.load_index("index.bin", max_elements=num_elements + 100)
    p.add_items(np.float32(rng.random((100, dim))))
    q = pickle.loads(pickle.dumps(p))
    state = (q.element_count, q.max_elements, q.ef, q.M, q.ef_construction, q.space, q.dim)
""")


def run_user_program(source, folder):
    import os
    previous = os.getcwd()
    os.chdir(folder)
    try:
        namespace = {}
        exec(compile(source, "user_program.py", "exec"), namespace)
        return namespace
    finally:
        os.chdir(previous)


def test_unchanged_hnswlib_program_runs_with_the_import_swapped(tmp_path, reference):
    swapped = USER_PROGRAM.replace("import hnswlib", "from vecindex.compat import hnswlib", 1)
    assert swapped.count("\n") == USER_PROGRAM.count("\n")
    (tmp_path / "ours").mkdir()
    (tmp_path / "theirs").mkdir()
    ours = run_user_program(swapped, tmp_path / "ours")
    theirs = run_user_program(USER_PROGRAM, tmp_path / "theirs")
    assert ours["hnswlib"] is compat
    assert ours["state"] == theirs["state"]
    assert ours["deleted_returned"] == theirs["deleted_returned"] == 0
    assert ours["self_recall"] >= 0.99
    assert ours["recall"] >= 0.9
