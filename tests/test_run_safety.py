"""SPEC section 5 "Safety of what is written", with real processes on real folders.

One run at a time per output and work folder (a second run fails naming the first, or waits for it);
a run killed with SIGKILL leaves the last published output byte for byte, and the next run cleans up
after it and marks it failed in the Dagster history; what is written is owner-only (or group-readable
lists); old work databases are removed. Runs that must overlap are made to: the run holding the lock
is stopped (SIGSTOP) while the others meet it, then continued — no sleeping on a guess.
"""

import dataclasses
import datetime as dt
import grp
import json
import os
import re
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import pytest
import yaml
from conftest import TINY_AS_OF, read_manifest, run_aidmatch, tree_digest, write_tiny_world
from dagster import DagsterInstance, DagsterRunStatus

from aidmatch.data_samples.generate import generate
from aidmatch.pipelines.cli import busy_message
from aidmatch.pipelines.code_location import build_defs
from aidmatch.run_lock import LOCK_NAME, Holder, try_lock
from aidmatch.settings import DEFAULT_CONFIG, load_settings

AS_OF = TINY_AS_OF.isoformat()
NEXT_DAY = (TINY_AS_OF + dt.timedelta(days=1)).isoformat()
TIMEOUT = 180  # seconds any one process may take on a loaded machine


def write_config(path: Path, **run: object) -> Path:
    """The shipped configuration with some `run:` settings changed."""
    document = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    document["run"].update(run)
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def wait_for(condition: Callable[[], object], what: str, timeout: float = TIMEOUT) -> object:
    """Poll `condition` until it is true (returned) or `timeout` passes (the test fails naming `what`)."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)
    return result


class Process:
    """`aidmatch run` in its own process, its output in files so it can be read while it runs."""

    def __init__(self, folder: Path, input_dir: Path, output: Path, work: Path, as_of: str, *extra: str):
        folder.mkdir(parents=True, exist_ok=True)
        self.stdout, self.stderr = folder / "stdout", folder / "stderr"
        command = [sys.executable, "-m", "aidmatch.pipelines.cli", "run", "--input", str(input_dir)]
        command += ["--output", str(output), "--work-dir", str(work), "--as-of", as_of, *extra]
        with open(self.stdout, "wb") as out, open(self.stderr, "wb") as err:
            self.popen = subprocess.Popen(command, cwd=folder, stdout=out, stderr=err)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def out(self) -> str:
        return self.stdout.read_text(encoding="utf-8", errors="replace")

    def err(self) -> str:
        return self.stderr.read_text(encoding="utf-8", errors="replace")

    def wait(self) -> int:
        return self.popen.wait(timeout=TIMEOUT)

    def run_id(self) -> str:
        match = re.search(r"run ([0-9a-f-]{36}) is in the Dagster UI", self.out())
        assert match, self.out() + self.err()
        return match[1]


@pytest.fixture
def processes() -> Iterator[list[Process]]:
    """Processes a test starts; whatever state they are in at the end, they are continued and ended."""
    started: list[Process] = []
    yield started
    for process in started:
        if process.popen.poll() is None:
            process.popen.send_signal(signal.SIGCONT)
            process.popen.kill()
            process.popen.wait()


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """DAGSTER_HOME shared by the test's processes and its in-process runs."""
    path = tmp_path / "dagster_home"
    monkeypatch.setenv("DAGSTER_HOME", str(path))
    return path


def lock_holder(folder: Path) -> Holder | None:
    try:
        return Holder(**json.loads((folder / LOCK_NAME).read_text(encoding="utf-8")))
    except (FileNotFoundError, ValueError, TypeError):
        return None


def _writing(database: Path) -> bool:
    """Whether a process is inside a write transaction of this SQLite database (of the run history)."""
    con = sqlite3.connect(database, timeout=0)
    try:
        con.execute("BEGIN EXCLUSIVE")
        con.rollback()
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        con.close()


def pause(pid: int, home: Path) -> None:
    """SIGSTOP the process at a moment it is not writing to the run history the other runs share."""
    databases = [p for p in home.rglob("*.db") if p.stem in ("runs", "index", "schedules")]
    while True:
        os.kill(pid, signal.SIGSTOP)
        if not any(_writing(database) for database in databases):
            return
        os.kill(pid, signal.SIGCONT)
        time.sleep(0.01)


def hidden_entries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def run_status(run_id: str) -> DagsterRunStatus:
    with DagsterInstance.get() as instance:
        run = instance.get_run_by_id(run_id)
        assert run is not None, f"run {run_id} is not in the instance"
        return run.status


# --- one run at a time ---------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [0.0, 2.0])
def test_concurrent_runs_on_one_output_take_turns(tmp_path, home, processes, offset):
    """Three runs on one output, started `offset` s apart: one holds it; one that may not wait fails
    naming it and never disturbs it; one that may wait does, then runs after it."""
    world = write_tiny_world(tmp_path / "input")
    output, work = tmp_path / "output", tmp_path / "work"
    no_wait = write_config(tmp_path / "no_wait.yaml", lock_wait_seconds=0)
    may_wait = write_config(tmp_path / "may_wait.yaml", lock_wait_seconds=TIMEOUT)
    plan = [(0.0, no_wait, AS_OF), (offset, no_wait, NEXT_DAY), (offset, may_wait, AS_OF)]
    waits = {}
    start = time.monotonic()
    holder = None
    while len(processes) < len(plan) or holder is None:
        for delay, config, as_of in plan[len(processes) :]:
            if time.monotonic() - start >= delay:
                process = Process(
                    tmp_path / f"p{len(processes)}", world, output, work, as_of, "--config", str(config)
                )
                waits[process.pid] = config == may_wait
                processes.append(process)
        if holder is None and (holder := lock_holder(output)):
            pause(holder.pid, home)  # it holds the output: keep it there while the others come
        assert time.monotonic() - start < TIMEOUT, "no run took the lock"
        time.sleep(0.005)
    first = next(p for p in processes if p.pid == holder.pid)
    others = [p for p in processes if p is not first]

    for process in others:
        if waits[process.pid]:
            wait_for(lambda p=process: "waiting up to" in p.out(), "the waiting run to say it waits")
            assert holder.run_id in process.out() and f"PID {holder.pid}" in process.out()
        else:
            assert process.wait() == 1, process.out() + process.err()
            message = process.err().strip().splitlines()
            assert len(message) == 1, "one clear line"
            assert holder.run_id in message[0] and f"PID {holder.pid}" in message[0], message
            assert holder.as_of in message[0] and holder.describe() in message[0], message
            assert "Traceback" not in process.err() and "IOException" not in process.err()
    os.kill(holder.pid, signal.SIGCONT)
    assert first.wait() == 0, first.out() + first.err()
    assert run_status(first.run_id()) == DagsterRunStatus.SUCCESS, "the first run was never disturbed"
    for process in others:
        if waits[process.pid]:
            assert process.wait() == 0, process.out() + process.err()
            assert read_manifest(output / AS_OF)["run_id"] == process.run_id(), "the waiting run ran after"
    assert hidden_entries(output) == [], "no lock file or staging folder is left in the output folder"


# --- killed runs ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def published_world(tmp_path_factory) -> Path:
    """A generated world published once (output, work, DAGSTER_HOME): each kill test starts from a copy."""
    base = tmp_path_factory.mktemp("published_world")
    generate(persons=2000, seed=11, as_of=TINY_AS_OF, out=base / "world")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAGSTER_HOME", str(base / "dagster_home"))
        assert run_aidmatch(base / "world" / "input", base / "output", base / "work", AS_OF) == 0
    return base


def _incoming(output: Path) -> bool:
    return any(".incoming-" in name for name in os.listdir(output))


KILL_MOMENTS = {
    "ingest": lambda process, output: "▶ ingest" in process.out(),
    "publishing": lambda process, output: _incoming(output),
}


@pytest.mark.parametrize("moment", list(KILL_MOMENTS))
def test_a_run_killed_at_any_moment_leaves_the_last_output_and_is_cleaned_up(
    tmp_path, monkeypatch, processes, published_world, moment
):
    for name in ("output", "work", "dagster_home"):
        shutil.copytree(published_world / name, tmp_path / name, symlinks=True)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    output, work, world = tmp_path / "output", tmp_path / "work", published_world / "world" / "input"
    before = tree_digest(output / AS_OF)

    process = Process(tmp_path / "killed", world, output, work, AS_OF)  # a rerun of the published as-of
    processes.append(process)
    wait_for(lambda: KILL_MOMENTS[moment](process, output) or process.popen.poll() is not None, moment)
    assert process.popen.poll() is None, f"the run ended before it could be killed during {moment}"
    process.popen.kill()
    process.popen.wait()
    killed = lock_holder(output)
    assert killed and killed.pid == process.pid, "the killed run's lock file records it"
    assert tree_digest(output / AS_OF) == before, "the last published output is intact"
    if moment == "publishing":
        assert _incoming(output), "killed while publishing: its staging folder is there to clean up"

    assert run_aidmatch(world, output, work, NEXT_DAY) == 0, "the next run succeeds"
    assert tree_digest(output / AS_OF) == before
    assert sorted(os.listdir(output)) == [AS_OF, NEXT_DAY], "no hidden folder or lock file is left"
    assert os.listdir(work / ".runs") == [], "no run marker is left"
    assert run_status(killed.run_id) == DagsterRunStatus.FAILURE, "the killed run is marked failed"


def test_a_run_killed_between_the_renames_of_a_publication_leaves_what_the_next_run_repairs(tmp_path, home):
    """Where folders cannot be exchanged in one step, a kill between the two renames leaves the last
    publication under a hidden name, no OUTPUT/<as-of>, and the lock file of a dead process: the next
    run takes the lock over without waiting (lock_wait_seconds is 0) and puts the publication back."""
    world = write_tiny_world(tmp_path / "input")
    output, work = tmp_path / "output", tmp_path / "work"
    assert run_aidmatch(world, output, work, AS_OF) == 0
    before = tree_digest(output / AS_OF)
    (output / AS_OF).rename(output / f".{AS_OF}.replaced-0badf00d")
    shutil.copytree(output / f".{AS_OF}.replaced-0badf00d", output / f".{AS_OF}.incoming-0badf00d")
    (output / f".{AS_OF}.incoming-0badf00d" / "proactive.csv").write_text("new, never published")
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = Holder("00000000-0000-0000-0000-000000000000", dead.pid, "vm", "2026-06-30T00:00:00+00:00", AS_OF)
    (output / LOCK_NAME).write_text(json.dumps(dataclasses.asdict(stale)), encoding="utf-8")

    assert run_aidmatch(world, output, work, NEXT_DAY) == 0
    assert tree_digest(output / AS_OF) == before
    assert sorted(os.listdir(output)) == [AS_OF, NEXT_DAY], "no lock file or hidden folder is left"


# --- personal data at rest -----------------------------------------------------------------------


def _modes(root: Path) -> dict[str, tuple[str, int]]:
    """relative path -> (mode in octal, group id) of `root` and everything under it."""
    entries = [root, *root.rglob("*")]
    return {
        str(p.relative_to(root)): (oct(stat.S_IMODE(p.lstat().st_mode)), p.lstat().st_gid) for p in entries
    }


def test_outputs_and_work_files_are_owner_only(tmp_path, home):
    output, work = tmp_path / "output", tmp_path / "work"
    older = (
        output / "2026-06-01"
    )  # published by an earlier version, readable by all (output/ is the operator's)
    older.mkdir(parents=True, mode=0o755)
    (older / "manifest.json").write_text("{}")
    os.chmod(older / "manifest.json", 0o644)
    assert run_aidmatch(write_tiny_world(tmp_path / "input"), output, work, AS_OF) == 0
    modes = {f"output/{path}": mode for path, (mode, _) in _modes(output).items() if path != "."}
    modes |= {f"work/{path}": mode for path, (mode, _) in _modes(work).items()}  # the run created it
    assert "output/2026-06-01/manifest.json" in modes and f"output/{AS_OF}/proactive.xlsx" in modes
    assert f"work/{AS_OF}/aidmatch.duckdb" in modes
    for path, mode in modes.items():
        assert mode == ("0o700" if (tmp_path / path).is_dir() else "0o600"), f"{path} is {mode}"


def test_with_an_output_group_the_lists_are_group_readable_and_work_files_are_not(tmp_path, home):
    group = grp.getgrgid(os.getgid())
    config = write_config(tmp_path / "group.yaml", output_group=group.gr_name)
    output, work = tmp_path / "output", tmp_path / "work"
    code = run_aidmatch(write_tiny_world(tmp_path / "input"), output, work, AS_OF, "--config", str(config))
    assert code == 0
    for path, (mode, gid) in _modes(output).items():
        expected = "0o750" if (output / path).is_dir() else "0o640"
        assert (mode, gid) == (expected, group.gr_gid), f"output/{path}"
    for path, (mode, _) in _modes(work).items():
        assert mode == ("0o700" if (work / path).is_dir() else "0o600"), f"work/{path}"


def test_an_unknown_output_group_is_a_configuration_error(tmp_path, home, capsys):
    config = write_config(tmp_path / "group.yaml", output_group="no-such-group-aidmatch")
    code = run_aidmatch(
        write_tiny_world(tmp_path / "input"), tmp_path / "o", tmp_path / "w", AS_OF, "--config", str(config)
    )
    assert code == 2
    assert "no-such-group-aidmatch" in capsys.readouterr().err


# --- work database retention ---------------------------------------------------------------------


def test_only_the_newest_work_databases_are_kept(tmp_path, home):
    config = write_config(tmp_path / "keep2.yaml", keep_work_databases=2)
    world = write_tiny_world(tmp_path / "input")
    output, work = tmp_path / "output", tmp_path / "work"
    days = [(TINY_AS_OF - dt.timedelta(days=n)).isoformat() for n in (2, 1, 0)]
    for day in days:
        assert run_aidmatch(world, output, work, day, "--config", str(config)) == 0
    assert sorted(p.name for p in work.iterdir() if not p.name.startswith(".")) == days[1:]
    assert read_manifest(output / days[2])["work_databases_removed"] == days[:1]
    assert read_manifest(output / days[1])["work_databases_removed"] == []


def test_a_work_database_open_in_another_program_is_named_not_a_traceback(tmp_path, home, processes, capsys):
    world = write_tiny_world(tmp_path / "input")
    output, work = tmp_path / "output", tmp_path / "work"
    (work / AS_OF).mkdir(parents=True)
    holder = subprocess.Popen(  # an analyst's session on the run's database
        [sys.executable, "-c", "import duckdb, sys; con = duckdb.connect(sys.argv[1]); print('open', flush=True); sys.stdin.read()", str(work / AS_OF / "aidmatch.duckdb")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "open"
        capsys.readouterr()
        assert run_aidmatch(world, output, work, AS_OF) == 1
    finally:
        holder.communicate("")
    err = capsys.readouterr().err
    assert f"PID {holder.pid}" in err and "close it" in err, err
    assert "IOException" not in err and "IO Error" not in err and "Traceback" not in err, err


def test_a_run_launched_as_the_schedule_or_the_ui_launches_it_takes_the_same_lock(tmp_path, monkeypatch):
    """The code location's own job and resource (paths from the environment, as the daemon and the UI
    run it, no CLI involved) refuse a folder another run holds, naming it."""
    output = tmp_path / "output"
    output.mkdir()
    for variable, path in [
        ("INPUT_ROOT", write_tiny_world(tmp_path / "input")),
        ("OUTPUT_ROOT", output),
        ("WORK_DIR", tmp_path / "work"),
    ]:
        monkeypatch.setenv(f"AIDMATCH_{variable}", str(path))
    running = Holder.this_process("22222222-2222-2222-2222-222222222222", AS_OF)
    held = try_lock(output / LOCK_NAME, running)
    try:
        with dg.instance_for_test() as instance:
            job = build_defs(load_settings(DEFAULT_CONFIG)).resolve_job_def("aidmatch_nightly")
            result = job.execute_in_process(partition_key=AS_OF, instance=instance, raise_on_error=False)
    finally:
        held.release()
    assert not result.success
    assert running.describe() in (busy_message(result) or ""), "the run names the one holding the folder"
    assert not (tmp_path / "work" / AS_OF).exists(), "it touched nothing"
