"""The safety of every run of the job, however it was launched (SPEC section 5 "Safety of what is written").

`aidmatch run`, the 02:00 schedule (through the daemon) and a launch from the UI all execute the job
with `AidmatchResource`; its run-scoped setup (`yield_for_execution`, entered once per run by the
in-process executor, before the first step and left after the last) enters `guarded_run`. So the
lock is taken in one place, by the process that executes the steps, whoever launched it; the CLI takes
no lock of its own, so a CLI and its in-process run never wait on each other.

For the whole run: umask 077; this run's marker (proof of life) in the work folder; the locks of the
output and work folders, waiting up to `run.lock_wait_seconds` (then `FolderBusy`: the run fails
without having touched anything). Holding them, before any step: runs whose process is gone are
marked failed in the Dagster history, what killed runs left is cleaned up, the modes of what
earlier runs wrote are set, and finished runs past `run.keep_run_history_days` leave the history. The Dagster run history (DAGSTER_HOME) holds counts, file names and
masked heads, not the extracts: the umask keeps what a run adds to it owner-only, nothing more.
"""

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from logging import WARNING
from pathlib import Path

import dagster as dg

from aidmatch.console import tell
from aidmatch.publish.atomic import recover_interrupted
from aidmatch.publish.permissions import OWNER_ONLY, RUN_UMASK, Modes
from aidmatch.publish.retention import remove_spill_folders, work_folders
from aidmatch.run_lock import FolderLock, Holder, abandoned_runs, locked_folders, run_marker
from aidmatch.run_record import remove_runs_before
from aidmatch.settings import RunSettings
from aidmatch.sources.csv_reader import remove_abandoned_parts

_UNFINISHED = (dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING)


def _create(folder: Path, modes: Modes) -> None:
    """Create a root folder with our modes; one that exists is the operator's and keeps its own."""
    if not folder.is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        modes.apply(folder)


def _fail_abandoned_runs(context: dg.InitResourceContext, gone_runs: list[Holder]) -> None:
    """Runs left "started" by a process that is gone are marked failed in the Dagster history."""
    for gone in {holder.run_id: holder for holder in gone_runs}.values():
        run = context.instance.get_run_by_id(gone.run_id)
        if run is not None and run.status in _UNFINISHED:
            context.instance.report_run_failed(
                run,
                message=f"The process of this run (PID {gone.pid} on {gone.host}) ended before the run "
                f"did: it was killed or crashed. Found by run {context.run.run_id}.",
            )
            tell(
                context.log,
                f"marked run {gone.run_id} failed: its process is gone (killed or crashed)",
                WARNING,
            )


def _clean_up(
    context: dg.InitResourceContext,
    locks: list[FolderLock],
    output_root: Path,
    work_root: Path,
    modes: Modes,
    settings: RunSettings,
    memory_dir: str | None,
) -> None:
    """What killed runs left, and modes earlier versions left too open; only while holding the locks.

    A run is known to be gone when its marker is free, or when it is the holder left in a lock file
    whose lock this run could take (a run on another work folder has its marker there).
    """
    for lock in locks:
        if lock.previous:
            tell(
                context.log,
                f"took over {lock.path} from {lock.previous.describe()}: its process is gone",
                WARNING,
            )
    _fail_abandoned_runs(
        context, abandoned_runs(work_root) + [lock.previous for lock in locks if lock.previous]
    )
    done = recover_interrupted(output_root)
    done += [f"removed {path}" for path in remove_spill_folders(work_root)]
    done += [f"removed CSV parts {name}" for name in remove_abandoned_parts(memory_dir)]
    for line in done:
        tell(context.log, f"left by a killed run: {line}", WARNING)
    cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(days=settings.keep_run_history_days)
    if removed := remove_runs_before(context.instance, cutoff):
        tell(
            context.log,
            f"removed {len(removed)} runs older than {settings.keep_run_history_days} days from the history",
        )
    for folder in output_root.glob("????-??-??"):
        if (folder / "manifest.json").is_file():
            modes.apply_tree(folder)
    for folder in work_folders(work_root).values():
        OWNER_ONLY.apply_tree(folder)


@contextmanager
def guarded_run(
    context: dg.InitResourceContext,
    output_root: Path,
    work_root: Path,
    settings: RunSettings,
    memory_dir: str | None,
) -> Iterator[None]:
    """Hold the run's folders for the whole run (see the module docstring); FolderBusy if they stay taken."""
    run = context.run
    holder = Holder.this_process(run.run_id, run.tags.get("dagster/partition", "(none)"))
    modes = Modes.for_group(settings.output_group)

    def on_wait(folder: Path, current: Holder | None) -> None:
        who = current.describe() if current else "another run"
        tell(
            context.log,
            f"{folder} is in use by {who}; waiting up to {settings.lock_wait_seconds:g} s for it to finish",
            WARNING,
        )

    previous_umask = os.umask(RUN_UMASK)
    try:
        _create(output_root, modes)
        _create(work_root, OWNER_ONLY)
        with (
            run_marker(work_root, holder),
            locked_folders([output_root, work_root], holder, settings.lock_wait_seconds, on_wait) as locks,
        ):
            _clean_up(context, locks, output_root, work_root, modes, settings, memory_dir)
            yield
    finally:
        os.umask(previous_umask)
