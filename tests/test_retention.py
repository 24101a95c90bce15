"""Work databases and a province's person indexes are kept for the newest as-of dates only; what a killed run
leaves is removed.

Only folders that are ours are removed, and of what a killed run left only what nobody can still use.
"""

import os
import subprocess
import tempfile
from pathlib import Path

from aidmatch.publish.retention import (
    remove_expired_person_indexes,
    remove_expired_work_databases,
    remove_spill_folders,
)
from aidmatch.sources.csv_reader import remove_abandoned_parts


def _work_folder(root, name, database=True):
    folder = root / name
    folder.mkdir()
    if database:
        (folder / "aidmatch.duckdb").write_bytes(b"db")
    return folder


def test_the_newest_dates_and_the_current_one_are_kept(tmp_path):
    for day in ("2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04"):
        _work_folder(tmp_path, day)
    # a rerun of an old date: the newest two stay, and the date being run
    assert remove_expired_work_databases(tmp_path, "2026-11-01", 2) == ["2026-11-02"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2026-11-01", "2026-11-03", "2026-11-04"]


def test_folders_that_are_not_ours_are_left_alone(tmp_path):
    _work_folder(tmp_path, "2026-11-01", database=False)  # no database in it
    _work_folder(tmp_path, "2026-13-01")  # not a date
    _work_folder(tmp_path, "notes")
    _work_folder(tmp_path, "2026-11-05")
    assert remove_expired_work_databases(tmp_path, "2026-11-05", 1) == []
    assert len(list(tmp_path.iterdir())) == 4


def test_a_city_removes_its_own_person_index_of_the_expired_nights(tmp_path):
    """The exchange folder holds each city's linked records (names, IDs) per night: a city's run removes its
    own beyond the nights kept, never another city's, and a night's folder once it is empty."""
    for day, cities in {
        "2026-11-01": ("石家庄市", "唐山市"),
        "2026-11-02": ("石家庄市",),
        "2026-11-03": ("石家庄市", "唐山市"),
    }.items():
        for city in cities:
            (tmp_path / day / city).mkdir(parents=True)
            (tmp_path / day / city / "dibao.parquet").write_bytes(b"PAR1")
    (tmp_path / "notes").mkdir()
    assert remove_expired_person_indexes(tmp_path, "石家庄市", "2026-11-03", 1) == [
        "2026-11-01",
        "2026-11-02",
    ]
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.glob("*/*")) == [
        "2026-11-01/唐山市",
        "2026-11-03/唐山市",
        "2026-11-03/石家庄市",
    ]
    assert (tmp_path / "notes").is_dir()
    assert remove_expired_person_indexes(tmp_path, "唐山市", "2026-11-03", 1) == ["2026-11-01"]
    assert not (tmp_path / "2026-11-01").exists(), "a night no city's index is left in goes"


def test_spill_folders_are_removed_and_the_write_ahead_log_kept(tmp_path):
    folder = _work_folder(tmp_path, "2026-11-05")
    (folder / "aidmatch.duckdb.tmp").mkdir()
    (folder / "aidmatch.duckdb.tmp" / "spill.block").write_bytes(b"x")
    (folder / "aidmatch.duckdb.wal").write_bytes(b"log")
    assert remove_spill_folders(tmp_path) == ["2026-11-05/aidmatch.duckdb.tmp"]
    assert sorted(p.name for p in folder.iterdir()) == ["aidmatch.duckdb", "aidmatch.duckdb.wal"]


def test_csv_parts_of_dead_processes_are_removed_and_live_ones_kept(monkeypatch, tmp_path):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = subprocess.Popen(["true"])
    dead.wait()
    abandoned = tmp_path / f"aidmatch_csv_pid{dead.pid}_k1ll3d"
    live = tmp_path / f"aidmatch_csv_pid{os.getpid()}_r3ad1ng"
    for folder in (abandoned, live):
        folder.mkdir()
        (folder / "part-0001.csv").write_text("姓名\n")
    assert abandoned.name in remove_abandoned_parts(None)
    assert not abandoned.exists() and live.exists()
    older = tmp_path / "aidmatch_csv_1234_5678"  # named before the PID was in the name: left alone
    older.mkdir()
    remove_abandoned_parts(None)
    assert older.exists()


def test_a_part_folder_gone_while_the_parts_are_looked_for_is_passed_over(monkeypatch, tmp_path):
    """Two nights starting at once: one lists a reader's folder that is removed before it looks at it (the
    reader done, or the other night's start removing it) — the night starts all the same."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    gone = tmp_path / "aidmatch_csv_pid1_g0ne"
    monkeypatch.setattr(Path, "glob", lambda self, pattern: iter([gone]))
    assert remove_abandoned_parts(None) == []
