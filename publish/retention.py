"""What the work and exchange folders keep: the nights of the newest as-of dates, nothing a killed run left.

A work database (`WORK/<as-of>/aidmatch.duckdb`) is a full copy of every extract — names, IDs, phones,
addresses. It stays after a run so analysts can query it (and the UI can re-materialize one asset
without re-reading everything), but only for the newest `run.keep_work_databases` as-of dates; the
publish step removes older ones and the manifest names them. Only folders that are ours are touched:
named as a date and holding `aidmatch.duckdb`.

A killed run leaves its database and its write-ahead log (`aidmatch.duckdb.wal`): both are kept —
DuckDB replays the log at the next open, and each step of a run replaces the tables it writes. Its
spill folder (`aidmatch.duckdb.tmp/`, DuckDB's temporary files for a query larger than memory) is only
meaningful to the process that wrote it and is removed, while holding the work folder's lock.

A province's person index (`EXCHANGE/<as-of>/<city>/`, `province/person_index.py`) is personal data
too — the names and IDs of a city's linked records — and is kept as long as the work databases: each
city's publish step removes its own index of the nights past `run.keep_work_databases` (never another
city's: their runs may end at the same moment), and a night's folder once no city's index is left in it.
"""

import contextlib
import datetime as dt
import shutil
from pathlib import Path

DATABASE = "aidmatch.duckdb"
SPILL = f"{DATABASE}.tmp"


def _nights(root: Path, holding: str) -> dict[str, Path]:
    """as-of -> folder, for the folders under `root` named as a date and holding `holding` (ours)."""
    folders = {}
    for folder in root.glob("????-??-??"):
        try:
            dt.date.fromisoformat(folder.name)
        except ValueError:
            continue
        if folder.is_dir() and not folder.is_symlink() and (folder / holding).exists():
            folders[folder.name] = folder
    return folders


def _expired(nights: dict[str, Path], as_of: str, keep: int) -> list[str]:
    """The nights beyond the newest `keep` (`as_of`'s always stays), oldest first."""
    kept = set(sorted(nights, reverse=True)[:keep]) | {as_of}
    return sorted(day for day in nights if day not in kept)


def work_folders(work_root: Path) -> dict[str, Path]:
    """as-of -> folder, for the folders under `work_root` that are ours."""
    return _nights(work_root, DATABASE)


def remove_expired_work_databases(work_root: Path, as_of: str, keep: int) -> list[str]:
    """Remove the work folders beyond the newest `keep` as-of dates (`as_of`'s always stays); their dates."""
    folders = work_folders(work_root)
    removed = _expired(folders, as_of, keep)
    for day in removed:
        shutil.rmtree(folders[day])
    return removed


def remove_expired_person_indexes(exchange_root: Path, city: str, as_of: str, keep: int) -> list[str]:
    """Remove this city's person index of the nights beyond the newest `keep` (`as_of`'s always stays), and
    a night's folder once no city's index is left in it; the nights removed."""
    nights = _nights(exchange_root, city)
    removed = _expired(nights, as_of, keep)
    for day in removed:
        shutil.rmtree(nights[day] / city)
        with contextlib.suppress(OSError):  # another city's index is still there
            nights[day].rmdir()
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
