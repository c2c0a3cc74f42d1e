"""progress= on add and train: bars, callbacks, cancellation that leaves the index valid."""
import sys

import numpy as np
import pytest

import vecindex
from vecindex import progress as progress_module

from conftest import clustered

DIM = 16


def stop_after_two_polls():
    """A progress callback that lets two polls pass and cancels on the third."""
    polls = []

    def callback(done, total):
        polls.append(done)
        return len(polls) < 3

    return callback


def test_callback_sees_monotonic_progress_and_the_final_total():
    data = clustered(6000, DIM, seed=1)
    index = vecindex.Index(DIM, M=8, ef_construction=64)
    calls = []
    index.add(data, threads=2, progress=lambda done, total: calls.append((done, total)))
    assert calls[0] == (0, 6000)
    assert calls[-1] == (6000, 6000)
    done = [d for d, _ in calls]
    assert done == sorted(done)
    assert all(total == 6000 for _, total in calls)
    assert len(index) == 6000


@pytest.mark.parametrize("threads", [1, 2])
def test_returning_false_cancels_and_keeps_the_linked_vectors(threads):
    data = clustered(40000, DIM, seed=2)
    index = vecindex.Index(DIM, M=8, ef_construction=100)
    index.add(data[:100])
    with pytest.raises(vecindex.Cancelled):
        index.add(data[100:], threads=threads, progress=stop_after_two_polls())
    index.check_integrity()
    assert 100 <= len(index) < 40000
    live = index.ids()
    # Ids that stayed are exactly findable; the forgotten ones are gone.
    found, _ = index.search(data[live[:20]], k=1)
    assert (found[:, 0] == live[:20]).all()
    assert all(int(i) in index for i in live)
    index.add(data[:3] + 100.0)  # still usable
    index.check_integrity()


def test_returning_false_at_the_start_adds_nothing():
    index = vecindex.Index(DIM)
    with pytest.raises(vecindex.Cancelled):
        index.add(clustered(50, DIM, seed=3), progress=lambda done, total: False)
    assert len(index) == 0


def test_returning_none_or_true_continues():
    data = clustered(500, DIM, seed=4)
    index = vecindex.Index(DIM)
    index.add(data[:250], progress=lambda done, total: None)
    index.add(data[250:], progress=lambda done, total: True)
    assert len(index) == 500


def test_an_exception_in_the_callback_stops_the_add_and_propagates():
    data = clustered(40000, DIM, seed=5)
    index = vecindex.Index(DIM, M=8, ef_construction=100)
    polls = []

    def fail_on_second_poll(done, total):
        polls.append(done)
        if len(polls) == 2:
            raise LookupError("stop here")

    with pytest.raises(LookupError, match="stop here"):
        index.add(data, threads=2, progress=fail_on_second_poll)
    index.check_integrity()
    assert len(index) < 40000


def test_cancelled_is_an_ordinary_exception():
    assert issubclass(vecindex.Cancelled, Exception)
    assert vecindex.Cancelled.__doc__


def test_progress_must_be_a_bool_or_a_callable():
    index = vecindex.Index(DIM)
    with pytest.raises(TypeError, match="progress"):
        index.add(np.zeros((2, DIM), np.float32), progress="yes")
    assert len(index) == 0


def test_progress_true_without_tqdm_prints_plain_lines(monkeypatch, capsys):
    monkeypatch.setattr(progress_module, "_make_tqdm", lambda total, description: None)
    index = vecindex.Index(DIM)
    index.add(clustered(300, DIM, seed=6), progress=True)
    err = capsys.readouterr().err
    assert "vecindex add: 0/300 (0%)" in err
    assert "vecindex add: 300/300 (100%)" in err


def test_progress_true_with_tqdm_draws_a_bar(capsys):
    pytest.importorskip("tqdm")
    index = vecindex.Index(DIM)
    index.add(clustered(300, DIM, seed=7), progress=True)
    assert "300/300" in capsys.readouterr().err


def test_train_reports_start_and_end():
    data = clustered(2000, DIM, seed=8)
    index = vecindex.Index(DIM, dtype="sq8")
    calls = []
    index.train(data, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(0, 2000), (2000, 2000)]
    assert index._core.is_trained


def test_train_cancelled_at_the_start_leaves_the_codec_untrained():
    data = clustered(2000, DIM, seed=9)
    index = vecindex.Index(DIM, dtype="sq8")
    with pytest.raises(vecindex.Cancelled):
        index.train(data, progress=lambda done, total: False)
    assert not index._core.is_trained
    index.train(data)
    assert index._core.is_trained


@pytest.mark.parametrize("threads", [1, 2])
def test_cancelled_add_reports_the_kept_ids_and_does_not_use_up_the_rest(threads):
    data = clustered(40000, DIM, seed=10)
    index = vecindex.Index(DIM, M=8, ef_construction=100)
    index.add(data[:100])
    with pytest.raises(vecindex.Cancelled) as caught:
        index.add(data[100:], threads=threads, progress=stop_after_two_polls())
    kept = caught.value.added_ids
    assert isinstance(kept, np.ndarray) and kept.dtype == np.int64
    assert 0 < len(kept) < 39900
    assert f"{len(kept)} of 39900 vectors" in str(caught.value)
    np.testing.assert_array_equal(np.sort(index.ids()), np.concatenate([np.arange(100), np.sort(kept)]))
    if threads == 1:  # one thread links rows in order: the kept ones are the first rows
        np.testing.assert_array_equal(kept, np.arange(100, 100 + len(kept)))
    # The next automatic id follows the last kept one, not the end of the cancelled batch.
    assert index.add(data[:1])[0] == kept.max() + 1
    index.check_integrity()


def test_cancelled_at_the_start_reports_no_kept_ids():
    index = vecindex.Index(DIM)
    with pytest.raises(vecindex.Cancelled) as caught:
        index.add(clustered(50, DIM, seed=3), progress=lambda done, total: False)
    assert caught.value.added_ids.tolist() == [] and caught.value.added_ids.dtype == np.int64
    assert index.add(clustered(1, DIM, seed=3))[0] == 0


def test_cancelled_replace_keeps_old_vectors_of_rows_not_linked():
    data = clustered(20000, DIM, seed=11)
    index = vecindex.Index(DIM, M=8, ef_construction=100)
    index.add(data)
    with pytest.raises(vecindex.Cancelled) as caught:
        index.add(data + 50.0, ids=np.arange(20000), replace=True, threads=2, progress=stop_after_two_polls())
    kept = caught.value.added_ids
    assert 0 < len(kept) < 20000 and len(index) == 20000
    replaced = np.zeros(20000, bool)
    replaced[kept] = True
    np.testing.assert_array_equal(index.get(np.flatnonzero(replaced)), data[replaced] + 50.0)
    np.testing.assert_array_equal(index.get(np.flatnonzero(~replaced)), data[~replaced])
    index.check_integrity()
