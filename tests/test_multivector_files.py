"""MultiVectorIndex files: save/load, mmap, pickle and bytes round trips in the Index container."""
import pickle

import numpy as np
import pytest

import vecindex
import vx_file
from vecindex import F

DIM = 12


def docs(seed, count):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((int(rng.integers(1, 9)), DIM)).astype(np.float32) for _ in range(count)]


@pytest.fixture(params=["f32", "f16", "sq8"])
def built(request):
    index = vecindex.MultiVectorIndex(DIM, "sq8", request.param, k_sim=2, d_proj=6, r_reps=3,
                                      attributes={"section": "keyword"})
    corpus = docs(1, 60)
    index.add(corpus, attrs={"section": ["a" if i % 3 else "b" for i in range(60)]})
    index.delete([4, 5])
    return index, docs(2, 5)


def same_answers(a, b, queries):
    for kwargs in ({}, {"filter": F.section == "b"}):
        ids_a, scores_a = a.search(queries, k=6, **kwargs)
        ids_b, scores_b = b.search(queries, k=6, **kwargs)
        assert np.array_equal(ids_a, ids_b) and np.array_equal(scores_a, scores_b)


def test_save_and_load_give_the_same_index(built, tmp_path):
    index, queries = built
    path = tmp_path / "mv.vx"
    index.save(path)
    loaded = vecindex.MultiVectorIndex.load(path)
    assert len(loaded) == len(index) == 58 and 4 not in loaded
    assert loaded.token_dtype == index.token_dtype and loaded.encoding == index.encoding
    assert loaded.attributes == {"section": "keyword"}
    same_answers(index, loaded, queries)
    np.testing.assert_array_equal(loaded.get(7), index.get(7))
    loaded.add(docs(3, 2))  # a loaded index stays writable
    assert len(loaded) == 60


def test_mmap_load_is_read_only_and_answers_the_same(built, tmp_path):
    index, queries = built
    path = tmp_path / "mv.vx"
    index.save(path)
    mapped = vecindex.MultiVectorIndex.load(path, mmap=True)
    assert mapped.read_only and mapped.memory_usage()["tokens"] == 0
    assert mapped.memory_usage()["mapped"] == path.stat().st_size
    same_answers(index, mapped, queries)
    np.testing.assert_array_equal(mapped.get(9), index.get(9))
    with pytest.raises(RuntimeError, match="read-only"):
        mapped.add(docs(3, 1))
    with pytest.raises(RuntimeError, match="read-only"):
        mapped.delete([9])


def test_pickle_and_bytes_round_trip(built):
    index, queries = built
    same_answers(index, pickle.loads(pickle.dumps(index)), queries)
    same_answers(index, vecindex.MultiVectorIndex.from_bytes(index.to_bytes()), queries)


def test_saving_drops_deleted_documents_tokens(built):
    index, _ = built
    restored = vecindex.MultiVectorIndex.from_bytes(index.to_bytes())
    assert restored._core.token_count() == sum(len(index.get(i)) for i in index.ids())
    assert restored._core.token_count() < index._core.token_count()


def test_file_uses_the_index_container_with_its_own_sections(built):
    index, _ = built
    blob = index.to_bytes()
    assert [tag for tag, _ in vx_file.sections(blob)] == ["MVCF", "MVGR", "MVDC", "MVTK"]
    # The candidate index is an ordinary Index image.
    graph = vecindex.Index.from_bytes(dict(vx_file.sections(blob))["MVGR"])
    assert len(graph) == len(index) and graph.metric == "ip"


def test_an_index_file_is_not_a_multivector_file(tmp_path):
    plain = vecindex.Index(dim=4)
    plain.add(np.eye(4))
    with pytest.raises(vecindex.FormatError, match="MVCF"):
        vecindex.MultiVectorIndex.from_bytes(plain.to_bytes())


def test_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(OSError):
        vecindex.MultiVectorIndex.load(tmp_path / "absent.vx")
