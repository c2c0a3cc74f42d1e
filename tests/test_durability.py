"""Save is atomic: a process killed mid-save, or a write that fails, leaves the previous file
intact and loadable; write errors raise OSError with the system's reason."""
from __future__ import annotations

import errno
import shutil
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import vecindex

# Loads two indexes and saves them alternately to one path, forever, until killed.
SAVER = textwrap.dedent(
    """
    import sys, vecindex
    first, second, target = sys.argv[1:4]
    indexes = [vecindex.Index.load(first), vecindex.Index.load(second)]
    print("saving", flush=True)
    n = 0
    while True:
        indexes[n % 2].save(target)
        n += 1
    """
)

# Saves an index while the process may not grow any file beyond `limit` bytes.
LIMITED_SAVER = textwrap.dedent(
    """
    import resource, signal, sys, vecindex
    source, target, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
    index = vecindex.Index.load(source)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG from write() instead of a signal
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    try:
        index.save(target)
    except OSError as error:
        print("OSError:", error)
    else:
        print("saved")
    """
)


@pytest.fixture(scope="module")
def two_indexes(tmp_path_factory):
    """Two different saved indexes of a few MB each (so a save takes a while)."""
    folder = tmp_path_factory.mktemp("durable")
    rng = np.random.default_rng(1)
    index = vecindex.Index(dim=64, M=4, ef_construction=10)
    index.add(rng.normal(size=(12000, 64)))
    first = folder / "first.vx"
    index.save(first)
    index.add(rng.normal(size=(3000, 64)))
    second = folder / "second.vx"
    index.save(second)
    return first.read_bytes(), second.read_bytes(), first, second


def test_kill_mid_save_leaves_a_whole_file(two_indexes, tmp_path, capsys):
    first_bytes, second_bytes, first, second = two_indexes
    target = tmp_path / "live.vx"
    target.write_bytes(first_bytes)
    rng = np.random.default_rng(2)
    rounds, mid_write = 6, 0
    for round_ in range(rounds):
        child = subprocess.Popen([sys.executable, "-c", SAVER, str(first), str(second), str(target)],
                                 stdout=subprocess.PIPE, text=True)
        try:
            assert child.stdout.readline().strip() == "saving"
            time.sleep(float(rng.uniform(0.0, 0.6)))
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()
            child.stdout.close()
        content = target.read_bytes()
        assert content in (first_bytes, second_bytes), f"round {round_}: the file is neither old nor new version"
        vecindex.Index.load(target).check_integrity()
        # A kill during the write leaves the temp file (<path>.tmp-<pid>-...), never a partial target.
        for leftover in tmp_path.glob("live.vx.tmp-*"):
            mid_write += 1
            leftover.unlink()
    assert list(tmp_path.iterdir()) == [target]
    with capsys.disabled():
        print(f"\n[durability] {rounds} SIGKILLs during repeated saves of {len(second_bytes) >> 20} MB files, "
              f"{mid_write} while a temp file was being written; the target was whole every time")


def test_failed_write_keeps_previous_file_and_reports_the_reason(two_indexes, tmp_path):
    first_bytes, second_bytes, first, second = two_indexes
    target = tmp_path / "kept.vx"
    target.write_bytes(first_bytes)
    limit = len(second_bytes) // 2
    result = subprocess.run([sys.executable, "-c", LIMITED_SAVER, str(second), str(target), str(limit)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("OSError:"), result.stdout
    assert os.strerror(errno.EFBIG) in result.stdout  # the system's reason, e.g. "File too large"
    assert target.read_bytes() == first_bytes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.vx"], "the temp file was not removed"
    vecindex.Index.load(target).check_integrity()


# Saves into a folder in a child process. Root writes into read-only folders regardless of
# their mode bits, so as root the child runs without the capabilities that allow it.
READ_ONLY_SAVER = """
import sys, numpy as np, vecindex
index = vecindex.Index.from_bytes(sys.stdin.buffer.read())
index.add(np.ones((1, 64)))
try:
    index.save(sys.argv[1])
    print("saved")
except OSError as error:
    print("OSError:", error)
"""
DROP_ROOT_POWERS = ["--bounding-set=-dac_override,-dac_read_search,-fowner", "--"]


def _unprivileged_prefix() -> list:
    if not (hasattr(os, "geteuid") and os.geteuid() == 0):
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("root may write into read-only folders")
    return [setpriv, *DROP_ROOT_POWERS]


def _save_in_child(index_bytes: bytes, target) -> str:
    command = _unprivileged_prefix() + [sys.executable, "-c", READ_ONLY_SAVER, str(target)]
    result = subprocess.run(command, input=index_bytes, capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    return result.stdout.decode().strip()


def test_save_into_read_only_folder(two_indexes, tmp_path):
    first_bytes = two_indexes[0]
    folder = tmp_path / "folder"
    folder.mkdir()
    target = folder / "ro.vx"
    target.write_bytes(first_bytes)
    folder.chmod(0o555)
    try:
        outcome = _save_in_child(first_bytes, target)
        assert outcome.startswith("OSError:") and os.strerror(errno.EACCES) in outcome, outcome
        assert target.read_bytes() == first_bytes
        assert sorted(p.name for p in folder.iterdir()) == ["ro.vx"]
        folder.chmod(0o755)  # the control: the same child saves once the folder is writable
        assert _save_in_child(first_bytes, target) == "saved"
        assert target.read_bytes() != first_bytes
    finally:
        folder.chmod(0o755)


def test_threads_saving_to_one_path_each_succeed(two_indexes, tmp_path):
    """Two threads of one process save different indexes to the same path many times at once:
    every save succeeds, the file is always one whole index, and no temp file is left behind."""
    import threading

    first_bytes, second_bytes, first, second = two_indexes
    indexes = [vecindex.Index.load(first), vecindex.Index.load(second)]
    target = tmp_path / "shared.vx"
    errors = []
    start = threading.Barrier(2)

    def saver(index):
        start.wait()
        for _ in range(25):
            try:
                index.save(target)
            except Exception as error:  # noqa: BLE001 - every failure is reported below
                errors.append(repr(error))

    threads = [threading.Thread(target=saver, args=(index,)) for index in indexes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert target.read_bytes() in (first_bytes, second_bytes)
    vecindex.Index.load(target).check_integrity()
    assert list(tmp_path.iterdir()) == [target]
