"""String keys: bad input is a ValueError or KeyError that leaves the index as it was; keys
survive delete, compact and re-add; a cancelled add reports the keys it kept."""
import numpy as np
import pytest

import vecindex
from conftest import clustered

DIM = 8


def build(n=50):
    data = clustered(n, DIM, seed=2)
    index = vecindex.Index(dim=DIM, M=6, ef_construction=32, keys="str", attributes={"n": "int"})
    index.add(data, ids=[f"k{i}" for i in range(n)], attrs={"n": list(range(n))})
    return index, data


def state(index):
    keys = index.ids()
    return list(keys), index.get(keys).tolist(), index.get_attrs(keys), index.memory_usage()["keys"]


@pytest.mark.parametrize("bad, message", [
    (["ok", ""], "must not be empty"),
    (["ok", 7], "must be str; item 1 is int"),
    (["ok", b"bytes"], "must be str; item 1 is bytes"),
    (["ok", None], "must be str; item 1 is NoneType"),
    (["dup", "x", "dup"], "repeat within one add\\(\\): 'dup'"),
    (["ok", "é" * 513], "at most 1024 bytes of UTF-8"),  # 1026 bytes, 513 characters
    (["ok", "\ud800"], "lone surrogate"),
    (["k3", "new"], "already in the index: 'k3'"),
    (["only-one"], "got 1 keys for 2 vectors"),
    (17, "must be a str or a sequence of str"),
])
def test_bad_keys_are_value_errors_and_change_nothing(bad, message):
    index, data = build()
    before = state(index)
    rows = 2 if bad == ["only-one"] or not isinstance(bad, list) else len(bad)
    with pytest.raises(ValueError, match=message):
        index.add(data[:rows] + 1, ids=bad)
    assert state(index) == before
    index.check_integrity()


def test_the_limit_is_1024_bytes_of_utf8():
    index, data = build(n=3)
    four_byte = "𝄞" * 256  # 256 characters, 1024 bytes
    index.add(data[:2] + 1, ids=["a" * 1024, four_byte])
    assert "a" * 1024 in index and four_byte in index
    with pytest.raises(ValueError, match="at most 1024 bytes"):
        index.add(data[:1] + 2, ids=["a" * 1025])
    with pytest.raises(ValueError, match="at most 1024 bytes"):
        index.add(data[:1] + 2, ids=["a" + four_byte])
    copy = vecindex.Index.from_bytes(index.to_bytes())
    keys, _ = copy.search(data[:2] + 1, k=1)
    assert list(keys[:, 0]) == ["a" * 1024, four_byte]


def test_unknown_keys_are_key_errors_listing_them():
    index, _ = build()
    before = state(index)
    for call in (index.get, index.get_attrs, index.delete):
        with pytest.raises(KeyError, match="keys not in the index: 'nope', 'also ünknown'"):
            call(["k1", "nope", "also ünknown"])
    assert state(index) == before


def test_lookups_refuse_non_str_and_impossible_keys():
    index, _ = build()
    for bad, message in ((["k1", 3], "item 1 is int"), ([""], "must not be empty"), (["x" * 1025], "at most 1024")):
        for call in (index.get, index.get_attrs, index.delete):
            with pytest.raises(ValueError, match=message):
                call(bad)
    assert 3 not in index and "" not in index and len(index) == 50


def test_error_messages_cut_long_keys_and_count_the_rest():
    index, data = build(n=3)
    with pytest.raises(KeyError) as caught:
        index.get(["z" * 1000] + [f"missing{i}" for i in range(11)])
    message = str(caught.value)
    assert "z" * 64 + "..." in message and "z" * 65 not in message and "(12 in all)" in message


def test_delete_compact_and_readd():
    index, data = build(n=200)
    gone = [f"k{i}" for i in range(0, 200, 2)]
    index.delete(gone)
    with_tombstones = index.memory_usage()["keys"]
    assert index.compact() == 100
    # compact() forgets the deleted keys (they keep their ids until then, like int ids).
    assert index.memory_usage()["keys"] < with_tombstones
    keys, _ = index.search(data, k=10)
    assert not set(gone) & set(keys.flat)
    index.add(data[::2] * 2, ids=gone)
    assert len(index) == 200 and all(key in index for key in gone)
    np.testing.assert_array_equal(index.get(gone), data[::2] * 2)
    keys, distances = index.search(data[4] * 2, k=1)
    assert keys[0] == "k4" and distances[0] == 0
    index.check_integrity()
    copy = vecindex.Index.from_bytes(index.to_bytes())
    assert sorted(copy.ids()) == sorted(index.ids())


def test_delete_then_readd_without_compact_reuses_the_key():
    index, data = build(n=20)
    index.delete(["k5"])
    index.add(data[5] + 3, ids=["k5"])
    np.testing.assert_array_equal(index.get(["k5"]), [data[5] + 3])
    assert index.get_attrs(["k5"]) == {"n": [None]}
    index.check_integrity()


def test_a_cancelled_add_reports_the_keys_it_kept():
    data = clustered(20000, DIM, seed=10)
    index = vecindex.Index(DIM, M=6, ef_construction=40, keys="str")
    polls = []
    keys = [f"row-{i}" for i in range(len(data))]
    with pytest.raises(vecindex.Cancelled) as caught:
        index.add(data, ids=keys, threads=1, progress=lambda done, total: polls.append(done) or len(polls) < 3)
    kept = caught.value.added_ids
    assert kept.dtype == object and 0 < len(kept) < len(data)
    assert "their keys are in .added_ids" in str(caught.value)
    assert list(kept) == keys[:len(kept)]  # one thread links rows in order
    assert sorted(index.ids()) == sorted(kept)
    # The rows not added are not in the index: adding them now works.
    rest = len(kept)
    index.add(data[rest:rest + 5], ids=keys[rest:rest + 5])
    assert len(index) == rest + 5
    index.compact()
    index.check_integrity()


def test_cancelled_at_the_start_reports_no_keys():
    index = vecindex.Index(DIM, keys="str")
    with pytest.raises(vecindex.Cancelled) as caught:
        index.add(clustered(5, DIM, seed=3), ids=list("abcde"), progress=lambda done, total: False)
    assert caught.value.added_ids.tolist() == [] and caught.value.added_ids.dtype == object
    assert len(index) == 0
