"""One run at a time per folder: an exclusive `flock` on `<folder>/.aidmatch.lock`, held for the whole run.

Why `flock` and not a lock file whose mere presence counts: the kernel drops the lock when the holding
process dies, kill -9 included, so a dead run's lock is taken over at once, with no guessing from PIDs or
ages. It is held per open file, so two runs inside one process exclude each other as well.

The lock file holds who has it (`Holder`: run id, PID, host, start time, as-of), for the message a
second run prints. A run that ends removes its lock file; a waiter that was queued on the removed file
notices (its inode is no longer the path's) and tries again on the new one. So a lock file found with
a holder in it when its lock is free was left by a run that was killed.

`run_marker` uses the same lock as proof of life for one run, from before it waits for the folders
until it ends: `abandoned_runs` lists the runs whose marker is free — their process is gone, whatever
the moment it died — so the Dagster history can be told they failed.
"""

import contextlib
import datetime as dt
import fcntl
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from aidmatch.settings import BUREAU_TIMEZONE

LOCK_NAME = ".aidmatch.lock"
MARKERS = ".runs"  # in the work folder: one `<run id>.lock` per run in progress
_POLL_SECONDS = 0.1


@dataclass(frozen=True)
class Holder:
    """The run holding a lock, as its lock file records it."""

    run_id: str
    pid: int
    host: str
    started_at: str  # UTC, ISO 8601, seconds
    as_of: str

    @classmethod
    def this_process(cls, run_id: str, as_of: str) -> "Holder":
        started = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        return cls(run_id, os.getpid(), socket.gethostname(), started, as_of)

    def describe(self) -> str:
        """For the operator: the start in the bureau's time, as every line of the terminal is."""
        started = (
            dt.datetime.fromisoformat(self.started_at)
            .astimezone(BUREAU_TIMEZONE)
            .strftime("%Y-%m-%d %H:%M:%S")
        )
        return f"run {self.run_id} (PID {self.pid} on {self.host}, started {started} Asia/Shanghai, as-of {self.as_of})"


class FolderBusy(Exception):
    """Another run holds the folder's lock and did not let go within the wait allowed."""

    def __init__(self, folder: Path, holder: Holder | None, waited: float) -> None:
        who = holder.describe() if holder else "another run (it is just starting)"
        super().__init__(
            f"{folder} is in use by {who}; waited {waited:g} s. Run again when it has finished, "
            "or set run.lock_wait_seconds to wait for it."
        )
        self.holder = holder


@dataclass
class FolderLock:
    """A lock this process holds; `previous` is the holder a killed run left in the file, if any."""

    path: Path
    fd: int
    previous: Holder | None

    def release(self) -> None:
        """Remove the lock file, then let go: an ended run leaves no lock file behind."""
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        os.close(self.fd)


def _read_holder(fd: int) -> Holder | None:
    text = os.pread(fd, 4096, 0)
    try:
        return Holder(**json.loads(text))
    except (ValueError, TypeError):  # empty (a holder just starting) or not ours
        return None


def try_lock(path: Path, holder: Holder | None) -> FolderLock | Holder | None:
    """Take the lock at `path` now and write `holder` (if any) into it; else return who has it (None: unknown)."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            current = _read_holder(fd)
            os.close(fd)
            return current
        try:
            same_file = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same_file = False
        if not same_file:  # the holder removed the file as it let go: lock the one at the path now
            os.close(fd)
            continue
        previous = _read_holder(fd)
        if holder is not None:
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(asdict(holder)).encode(), 0)
        return FolderLock(path, fd, previous)


def lock_folder(
    folder: Path, holder: Holder, wait_seconds: float, on_wait: Callable[[Holder | None], None]
) -> FolderLock:
    """The folder's lock, waiting up to `wait_seconds` (calling `on_wait` once); FolderBusy after that."""
    path = folder / LOCK_NAME
    start = time.monotonic()
    waiting = False
    while True:
        outcome = try_lock(path, holder)
        if isinstance(outcome, FolderLock):
            return outcome
        waited = time.monotonic() - start
        if waited >= wait_seconds:
            raise FolderBusy(folder, outcome, round(waited, 1))
        if not waiting:
            on_wait(outcome)
            waiting = True
        time.sleep(_POLL_SECONDS)


@contextlib.contextmanager
def locked_folders(
    folders: list[Path], holder: Holder, wait_seconds: float, on_wait: Callable[[Path, Holder | None], None]
) -> Iterator[list[FolderLock]]:
    """Hold the lock of every folder (each once, in path order so two runs never wait on each other)."""
    deadline = time.monotonic() + wait_seconds
    with contextlib.ExitStack() as held:
        locks = []
        for folder in sorted({f.resolve() for f in folders}):
            remaining = max(0.0, deadline - time.monotonic())
            lock = lock_folder(folder, holder, remaining, lambda current, f=folder: on_wait(f, current))
            held.callback(lock.release)
            locks.append(lock)
        yield locks


@contextlib.contextmanager
def run_marker(work_root: Path, holder: Holder) -> Iterator[None]:
    """This run's proof of life in `work_root/.runs/`, held until the run ends."""
    folder = work_root / MARKERS
    folder.mkdir(mode=0o700, exist_ok=True)
    marker = try_lock(folder / f"{holder.run_id}.lock", holder)
    assert isinstance(marker, FolderLock), "a run id is used by one run only"
    try:
        yield
    finally:
        marker.release()


def abandoned_runs(work_root: Path) -> list[Holder]:
    """The runs whose marker nobody holds any more (their process is gone); their markers are removed."""
    gone = []
    for path in sorted((work_root / MARKERS).glob("*.lock")):
        outcome = try_lock(path, None)
        if isinstance(outcome, FolderLock):
            if outcome.previous:
                gone.append(outcome.previous)
            outcome.release()
    return gone
