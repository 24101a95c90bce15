"""What the work folder keeps: the work databases of the newest as-of dates, and nothing a killed run left.

A work database (`WORK/<as-of>/aidmatch.duckdb`) is a full copy of every extract — names, IDs, phones,
addresses. It stays after a run so analysts can query it (and the UI can re-materialize one asset
without re-reading everything), but only for the newest `run.keep_work_databases` as-of dates; the
publish step removes older ones and the manifest names them. Only folders that are ours are touched:
named as a date and holding `aidmatch.duckdb`.

A killed run leaves its database and its write-ahead log (`aidmatch.duckdb.wal`): both are kept —
DuckDB replays the log at the next open, and each step of a run replaces the tables it writes. Its
spill folder (`aidmatch.duckdb.tmp/`, DuckDB's temporary files for a query larger than memory) is only
meaningful to the process that wrote it and is removed, while holding the work folder's lock.
"""

import datetime as dt
import shutil
from pathlib import Path

DATABASE = "aidmatch.duckdb"
SPILL = f"{DATABASE}.tmp"


def work_folders(work_root: Path) -> dict[str, Path]:
    """as-of -> folder, for the folders under `work_root` that are ours."""
    folders = {}
    for folder in work_root.glob("????-??-??"):
        try:
            dt.date.fromisoformat(folder.name)
        except ValueError:
            continue
        if folder.is_dir() and not folder.is_symlink() and (folder / DATABASE).is_file():
            folders[folder.name] = folder
    return folders


def remove_expired_work_databases(work_root: Path, as_of: str, keep: int) -> list[str]:
    """Remove the work folders beyond the newest `keep` as-of dates (`as_of`'s always stays); their dates."""
    folders = work_folders(work_root)
    kept = set(sorted(folders, reverse=True)[:keep]) | {as_of}
    removed = sorted(day for day in folders if day not in kept)
    for day in removed:
        shutil.rmtree(folders[day])
    return removed


def remove_spill_folders(work_root: Path) -> list[str]:
    """Remove the DuckDB spill folders of the work databases (left by a killed run); their paths."""
    removed = []
    for folder in work_folders(work_root).values():
        spill = folder / SPILL
        if spill.is_dir() and not spill.is_symlink():
            shutil.rmtree(spill)
            removed.append(f"{folder.name}/{SPILL}")
    return removed
