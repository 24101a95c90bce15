"""The run history's event log (pipelines/event_log.py): Dagster's SQLite event log with each database kept
open while a process uses it. The same files as Dagster's default storage — a history moves to it and back
with nothing lost, a copy of it keeps to itself — and a process that reads many runs, as the webserver
does, keeps only a few open."""

import os
import shutil
from pathlib import Path

import dagster as dg

from aidmatch.pipelines.deployment import prepare_dagster_home
from aidmatch.pipelines.event_log import KEPT_DATABASES, KeptOpenEventLogStorage
from aidmatch.settings import Settings

# Dagster's default storage: the shipped dagster.yaml without its instance_class block.
DEFAULT_STORAGE = "telemetry:\n  enabled: false\n"


@dg.asset
def counted() -> int:
    return 1


def _instance(home: Path) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_config(str(home))


def _materializations(home: Path) -> int:
    with _instance(home) as instance:
        return len(instance.fetch_materializations(counted.key, limit=100).records)


def _materialize(home: Path) -> str:
    with _instance(home) as instance:
        return dg.materialize([counted], instance=instance).run_id


def _open_databases() -> set[str]:
    """The SQLite databases this process holds open (a WAL database holds three files: counted once)."""
    opened = set()
    for fd in Path("/proc/self/fd").iterdir():
        target = os.readlink(fd) if fd.is_symlink() else ""
        if ".db" in target:
            opened.add(target.removesuffix("-wal").removesuffix("-shm"))
    return opened


def test_the_shipped_instance_keeps_its_event_log_where_dagsters_default_does(tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    home.mkdir()
    (home / "dagster.yaml").write_text(DEFAULT_STORAGE, encoding="utf-8")
    _materialize(home)  # a history written by Dagster's default storage
    (home / "dagster.yaml").unlink()
    prepare_dagster_home(Settings())  # the shipped dagster.yaml
    with _instance(home) as instance:
        assert isinstance(instance.event_log_storage, KeptOpenEventLogStorage)
    _materialize(home)
    assert _materializations(home) == 2, "the default storage's run and ours, in one history"
    copy = shutil.copytree(home, tmp_path / "copied_home")
    _materialize(copy)
    assert (_materializations(copy), _materializations(home)) == (3, 2), "a copy keeps its events to itself"
    (home / "dagster.yaml").write_text(DEFAULT_STORAGE, encoding="utf-8")
    assert _materializations(home) == 2, "and back: Dagster's default storage reads both"


def test_a_process_reading_many_runs_keeps_a_few_databases_open(tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    prepare_dagster_home(Settings())
    runs = [_materialize(home) for _ in range(KEPT_DATABASES + 2)]
    before = _open_databases()
    with _instance(home) as instance:
        for run_id in runs:  # the webserver showing each run's events
            events = instance.all_logs(run_id)
            assert any(event.dagster_event_type == dg.DagsterEventType.RUN_SUCCESS for event in events)
            held = _open_databases() - before
            assert 0 < len(held) <= KEPT_DATABASES, f"{len(held)} databases held open"
        assert any(run_id in path for path in held for run_id in runs[-1:]), "the run read last is kept"
    assert _open_databases() - before == set(), "closing the instance closes them all"


def test_a_wiped_history_holds_no_run_it_had(tmp_path, monkeypatch):
    """`dagster instance wipe` deletes the run databases: none may stay open, answering from a file that
    is gone or taking events into it."""
    home = tmp_path / "dagster_home"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    prepare_dagster_home(Settings())
    with _instance(home) as instance:
        run_id = dg.materialize([counted], instance=instance).run_id
        assert instance.all_logs(run_id)
        instance.wipe()
        assert instance.all_logs(run_id) == [], "the wiped run's events, read from its deleted database"
        dg.materialize([counted], instance=instance)
    assert _materializations(home) == 1, "the run after the wipe, read by another instance"


def test_the_event_log_is_synced_to_disk_at_checkpoints_not_at_each_event(tmp_path, monkeypatch):
    """SQLite's `synchronous` is NORMAL on the event log's connections (FULL, its default, synced the disk
    at every event stored); the events are there when another instance reads them."""
    home = tmp_path / "dagster_home"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    prepare_dagster_home(Settings())
    with _instance(home) as instance:
        run_id = dg.materialize([counted], instance=instance).run_id
        storage = instance.event_log_storage
        assert isinstance(storage, KeptOpenEventLogStorage)
        with storage._connect(run_id) as connection:
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    assert _materializations(home) == 1
