"""Reuse what did not change: a night takes the tables of the last successful night whose inputs, code and
configuration are tonight's, instead of building them again.

Departments send extracts monthly and the schedule runs nightly: on most nights every file is
byte-identical to the night before and only the as-of date moves. The steps that cost the most —
reading and staging each source, linking — are reused then, and the facts a person's records say whatever
the date; the facts of the date are brought forward from the night before's, and the lists and the
publication, which depend on the as-of date, are made every night.

How a table is known again. Each work database holds a ledger, `reusable_tables`: per unit (`raw_<source>`,
`staged_<source>`, `linked`: a table and the tables made with it) its `version` — a hash of the code
version of its builder (`code_versions.py`, with the configuration it reads) and of what it is made from
(a source folder's fingerprint, `sources/fingerprint.py`, for a raw table; the raw table's data version for
a staged one; for the linked tables, what the linker reads of every staged table — each record's place and
identity, digested when it was staged (`LINK_INPUT`) — and the decisions it applies; for a unit of facts,
the data versions of the units whose tables its SQL reads) — the night that built it, the first as-of it no
longer holds for (`valid_until`: staging judges an ID's birth date against the as-of), and what its step
reported (rows, checks, the match report), which a night that reuses it reports again. Its data version
(what Dagster shows) is the hash of its version and the night that built it. A step looks tonight's
version up: the same version, built on or before tonight and valid past it, is reused; anything else is
built, its ledger row removed first and written once the table is whole, so the ledger never names a
table that is not what it says.

How the tables come across. Tonight's database starts as a file copy of the last successful night's
(`seed_work_database`: the newest published night before tonight whose work database is still kept),
encrypted as it was, with every table but the ledger's (and the stamps of the files that night published,
`PUBLISHED_STAMPS`: `publish/carried.py`; the digests of the files it read, `FILE_DIGESTS`:
`sources/digests.py`) dropped: a table is reused where it lies, with no row copied. A
file copy costs what the disk copies (0.06 s for a 200,000-person city's 140 MB, about half a second at a
million persons); copying the tables through an attached database costs what writing them
does (10 s of CPU for the same 140 MB: DuckDB decompresses, re-compresses and re-encrypts every row).
A night of the same as-of that runs again finds its own database and reuses what it holds; `aidmatch run
--full` reuses nothing.
"""

import json
import shutil
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from aidmatch.code_versions import code_version, digest
from aidmatch.publish.changes import published_nights
from aidmatch.publish.retention import DATABASE
from aidmatch.rules.sql_files import table_sql
from aidmatch.settings import Settings
from aidmatch.sources.column_maps import SourceColumnMap
from aidmatch.sources.digests import FILE_DIGESTS
from aidmatch.tables.catalog import Table
from aidmatch.work_database import STORAGE_VERSION, WorkDatabaseOutdated, storage_version

LEDGER = "reusable_tables"
# In a staged unit's summary: a digest of what the linker reads of the table (`matching.link_input_digest`).
LINK_INPUT = "link_input"
# In a staged unit's summary: the data version of the staged table it replaced, from which the records of
# its table `changed_<source>` differ (`sources/changed_records.py`).
CHANGED_SINCE = "changed_since"
PUBLISHED_STAMPS = "published_stamps"  # the published files' stamps (`publish/carried.py`)
_LEDGER_COLUMNS = (
    "unit VARCHAR PRIMARY KEY, version VARCHAR NOT NULL, data_version VARCHAR NOT NULL, "
    "built_as_of VARCHAR NOT NULL, valid_until DATE, tables VARCHAR[] NOT NULL, summary JSON, "
    "copied_from VARCHAR"
)


def raw_code_version(settings: Settings, column_map: SourceColumnMap) -> str:
    """The readers' code, the source's column map and the intake limits: what makes `raw_<source>`."""
    return code_version(["aidmatch.sources.readers"], (column_map, settings.intake))


def staged_code_version(settings: Settings) -> str:
    """The normalizers' and row rules' code and the cell limit: what makes `staged_<source>` — and its schema,
    whose findings a night that reuses the table reports again."""
    return code_version(
        ["aidmatch.checks.stage_source", "aidmatch.checks.schemas"], settings.intake.max_cell_chars
    )


def linked_code_version(settings: Settings) -> str:
    """The linker's code and its thresholds: what makes the `core_*` tables."""
    return code_version(["aidmatch.matching.link"], settings.linking)


def facts_code_version(settings: Settings, tables: tuple[Table, ...]) -> str:
    """The facts' code, the SQL of `tables` and the rules' settings: what makes a unit of facts tables."""
    return code_version(["aidmatch.rules.facts"], (settings.rules, [table_sql(table) for table in tables]))


@dataclass(frozen=True)
class Built:
    """A unit of the ledger: what its tables were built from, when, and what its step reported."""

    unit: str
    version: str
    data_version: str
    built_as_of: str
    valid_until: date | None
    tables: tuple[str, ...]
    summary: dict[str, Any]
    copied_from: str | None = None  # the night whose work database tonight's was copied from

    def said(self) -> str:
        """Where the tables come from, for the terminal and the metadata: 'built 2026-11-21, copied from
        the work database of 2026-11-22'."""
        copied = f", copied from the work database of {self.copied_from}" if self.copied_from else ""
        return f"built {self.built_as_of}{copied}"


@dataclass(frozen=True)
class Decision:
    """What a step does with a unit tonight: `reused` (the ledger's row) or build it, and why."""

    unit: str
    version: str
    reused: Built | None
    why: str  # why it is built: "first night", "its inputs, code or configuration changed", …

    def said(self) -> str:
        """What the UI shows of the unit's tables tonight: reused (from which night), or built and why."""
        return f"reused: {self.reused.said()}" if self.reused else f"built tonight: {self.why}"

    def data_version_at(self, as_of: str) -> str:
        """The unit's data version tonight (`as_of`): that of the night that built its tables."""
        return data_version(self.version, self.reused.built_as_of if self.reused else as_of)


def _create_ledger(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"CREATE TABLE IF NOT EXISTS {LEDGER} ({_LEDGER_COLUMNS})")


def _present(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The tables and views of the work database (not the temporary ones)."""
    return {
        name
        for (name,) in con.sql(
            "SELECT table_name FROM duckdb_tables() WHERE NOT temporary AND database_name = current_database() "
            "UNION ALL SELECT view_name FROM duckdb_views() WHERE NOT temporary AND NOT internal "
            "AND database_name = current_database()"
        ).fetchall()
    }


def _drop(con: duckdb.DuckDBPyConnection, names: set[str]) -> None:
    """Drop the tables and views `names` of the work database that are there, the views first."""
    views = {
        name for (name,) in con.sql("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
    }
    for name in sorted(names & _present(con), key=lambda name: (name not in views, name)):
        con.execute(f'DROP {"VIEW" if name in views else "TABLE"} "{name}"')


def ledger(con: duckdb.DuckDBPyConnection) -> dict[str, Built]:
    """Every unit the work database's ledger names, by unit."""
    _create_ledger(con)
    rows = con.sql(
        f"SELECT unit, version, data_version, built_as_of, valid_until, tables, summary, copied_from "
        f"FROM {LEDGER} ORDER BY unit"
    ).fetchall()
    return {
        unit: Built(unit, version, data, built, until, tuple(tables), json.loads(summary or "{}"), copied)
        for unit, version, data, built, until, tables, summary, copied in rows
    }


def decide(
    con: duckdb.DuckDBPyConnection, unit: str, version: str, as_of: str, build_anyway: str | None = None
) -> Decision:
    """Reuse `unit` tonight (as-of `as_of`) when the ledger holds it at `version`, built on or before tonight
    and still valid tonight, its tables all there — unless `build_anyway` says why not (a full night); else
    say why it is built."""
    if build_anyway:
        return Decision(unit, version, None, build_anyway)
    built = ledger(con).get(unit)
    if built is None:
        return Decision(unit, version, None, "not built on an earlier night kept")
    if built.version != version:
        return Decision(
            unit, version, None, f"its inputs, code or configuration changed since {built.built_as_of}"
        )
    if built.built_as_of > as_of:
        return Decision(unit, version, None, f"built for a later night ({built.built_as_of})")
    if built.valid_until is not None and date.fromisoformat(as_of) >= built.valid_until:
        return Decision(
            unit, version, None, f"an ID's birth date ({built.valid_until}) is no longer after the as-of date"
        )
    missing = sorted(set(built.tables) - _present(con))
    if missing:
        return Decision(unit, version, None, f"{', '.join(missing)} missing from the work database")
    return Decision(unit, version, built, "")


FULL_NIGHT = "a full night (--full)"


def forget(con: duckdb.DuckDBPyConnection, units: list[str], drop: bool = True) -> None:
    """Remove `units` from the ledger: their tables are about to be built again — and, with `drop`, drop
    the tables the ledger names for them (a night's copy of the night before's) now. A table replaced
    where it stands has its new rows written before its old ones free their room, so the file grows by it,
    and every later night copies the file whole (a city's 0.7 GB work database was 1.1 GB after a night
    that built everything again in a copy); dropped first, tonight's tables take their room."""
    built = ledger(con)
    tables = [table for unit in units if unit in built for table in built[unit].tables]
    con.execute(f"DELETE FROM {LEDGER} WHERE list_contains(?, unit)", [units])
    if drop and tables:
        _drop(con, set(tables))
        con.execute("CHECKPOINT")  # their blocks free for tonight's


def data_version(version: str, built_as_of: str) -> str:
    """What a unit's tables are known as: its version and the night that built them."""
    return digest(version, built_as_of)


def record(
    con: duckdb.DuckDBPyConnection,
    unit: str,
    version: str,
    as_of: str,
    tables: list[str],
    summary: dict[str, Any],
    valid_until: date | None = None,
) -> Built:
    """Write `unit`'s ledger row: its `tables` are whole, built tonight from `version`; `summary` is what its
    step reported (JSON)."""
    built = Built(unit, version, data_version(version, as_of), as_of, valid_until, tuple(tables), summary)
    _create_ledger(con)
    con.execute(
        f"INSERT OR REPLACE INTO {LEDGER} VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
        [
            unit,
            version,
            built.data_version,
            as_of,
            valid_until,
            list(tables),
            json.dumps(summary, default=str),
        ],
    )
    return built


def reused_tonight(con: duckdb.DuckDBPyConnection, as_of: str) -> dict[str, dict[str, str | None]]:
    """For the manifest: every unit of the ledger with the night that built it and, when that was not
    tonight, the night whose work database it came from."""
    return {
        unit: {"built_as_of": built.built_as_of, "copied_from": built.copied_from}
        for unit, built in ledger(con).items()
        if built.copied_from is not None or built.built_as_of != as_of
    }


def previous_database(output_root: Path, work_root: Path, as_of: str) -> tuple[str, Path] | None:
    """The newest successful (published) night before `as_of` whose work database is still kept."""
    for folder in reversed(published_nights(output_root, as_of)):
        path = work_root / folder.name / DATABASE
        if path.is_file():
            return folder.name, path
    return None


def seed_work_database(
    previous: tuple[str, Path], path: Path, open_database: Any
) -> tuple[list[str], float, int]:
    """Make the work database `path` (absent) a copy of the `previous` night's, keeping only the tables its
    ledger names (`open_database(path)` opens it, with the key in force). Returns the units kept, the
    seconds and the bytes copied. A copy that cannot be opened with tonight's key, or that is in an older
    storage format than tonight's (`work_database.STORAGE_VERSION`), is removed: the night then starts empty,
    and WorkDatabaseKeyError or WorkDatabaseOutdated is raised for the caller to say why."""
    night, source = previous
    started = time.perf_counter()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.copying")
    shutil.copyfile(source, partial)
    wal = source.with_name(f"{source.name}.wal")  # a night that ended cleanly left none; replayed if there
    if wal.is_file():
        shutil.copyfile(wal, partial.with_name(f"{partial.name}.wal"))
    partial.replace(path)
    if wal.is_file():
        partial.with_name(f"{partial.name}.wal").replace(path.with_name(f"{path.name}.wal"))
    try:
        con = open_database(path)
        version = storage_version(con)
        if not version.startswith(STORAGE_VERSION):
            con.close()
            raise WorkDatabaseOutdated(
                f"it is in an older storage format ({version}): tonight builds every table anew, in "
                f"{STORAGE_VERSION}"
            )
    except BaseException:
        path.unlink(missing_ok=True)
        path.with_name(f"{path.name}.wal").unlink(missing_ok=True)
        raise
    try:
        units = ledger(con)
        kept = (LEDGER, PUBLISHED_STAMPS, FILE_DIGESTS)
        keep = {*kept, *(table for built in units.values() for table in built.tables)}
        _drop(con, _present(con) - keep)
        con.execute(f"UPDATE {LEDGER} SET copied_from = ?", [night])
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return sorted(units), time.perf_counter() - started, source.stat().st_size
