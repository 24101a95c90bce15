"""The folder lock: one holder at a time, who holds it said by name, a dead holder's lock taken over."""

import dataclasses
import json
import subprocess
import threading

import pytest

from aidmatch.run_lock import (
    LOCK_NAME,
    MARKERS,
    FolderBusy,
    FolderLock,
    Holder,
    abandoned_runs,
    lock_folder,
    locked_folders,
    run_marker,
    try_lock,
)

RUNNING = Holder(
    "11111111-1111-1111-1111-111111111111", 4242, "vm", "2026-12-01T02:00:00+00:00", "2026-12-01"
)


def _never_called(*_):
    raise AssertionError("no wait expected")


def test_a_second_holder_is_refused_naming_the_first_even_in_the_same_process(tmp_path):
    lock = lock_folder(tmp_path, RUNNING, 0, _never_called)
    with pytest.raises(FolderBusy) as busy:
        lock_folder(tmp_path, Holder.this_process("second", "2026-12-02"), 0, _never_called)
    message = str(busy.value)
    for part in (
        RUNNING.run_id,
        "PID 4242",
        "vm",
        "started 2026-12-01 10:00:00 Asia/Shanghai",  # the lock file's UTC in the terminal's time
        "as-of 2026-12-01",
        "lock_wait_seconds",
    ):
        assert part in message, part
    lock.release()
    assert not (tmp_path / LOCK_NAME).exists(), "an ended run leaves no lock file"


def test_a_waiter_gets_the_lock_when_the_holder_lets_go(tmp_path):
    lock = lock_folder(tmp_path, RUNNING, 0, _never_called)
    seen = []
    waiting = threading.Event()

    def on_wait(current):
        seen.append(current)
        waiting.set()

    def release_once_waiting():
        assert waiting.wait(10)
        lock.release()

    releaser = threading.Thread(target=release_once_waiting)
    releaser.start()
    second = lock_folder(tmp_path, Holder.this_process("second", "2026-12-02"), 10, on_wait)
    releaser.join()
    assert seen == [RUNNING]
    assert json.loads((tmp_path / LOCK_NAME).read_text())["run_id"] == "second"
    second.release()


def test_the_lock_file_of_a_dead_holder_is_taken_over_and_reported(tmp_path):
    (tmp_path / LOCK_NAME).write_text(json.dumps(dataclasses.asdict(RUNNING)))  # nobody holds it
    lock = lock_folder(tmp_path, Holder.this_process("next", "2026-12-02"), 0, _never_called)
    assert lock.previous == RUNNING
    lock.release()


def test_folders_are_locked_once_each_and_all_let_go(tmp_path):
    with locked_folders([tmp_path / ".", tmp_path], RUNNING, 0, _never_called) as locks:
        assert len(locks) == 1
    assert list(tmp_path.iterdir()) == []


def test_only_runs_whose_marker_nobody_holds_are_abandoned(tmp_path):
    dead = subprocess.Popen(["true"])
    dead.wait()
    gone = dataclasses.replace(RUNNING, run_id="gone", pid=dead.pid)
    (tmp_path / MARKERS).mkdir()
    (tmp_path / MARKERS / "gone.lock").write_text(json.dumps(dataclasses.asdict(gone)))
    with run_marker(tmp_path, Holder.this_process("alive", "2026-12-02")):
        other_live = try_lock(
            tmp_path / MARKERS / "waiting.lock", dataclasses.replace(RUNNING, run_id="waiting")
        )
        assert isinstance(other_live, FolderLock)
        assert abandoned_runs(tmp_path) == [gone]
        assert sorted(p.name for p in (tmp_path / MARKERS).iterdir()) == ["alive.lock", "waiting.lock"]
        other_live.release()
    assert list((tmp_path / MARKERS).iterdir()) == []
