"""The one resource every asset uses: where the run reads, works and publishes, and its settings.

Tests and the CLI build it with their own paths (`build_defs(resource_overrides=...)`), so nothing is
monkeypatched. The DuckDB database is one file per as-of date under the work directory; the run's
steps execute one after another, so there is only ever one writer. In a province (`province.cities`)
each run is one city's: its input, output and work folders are that city's under the roots. Every run, however
launched, holds its output and work folders for its whole length through this resource's run-scoped
setup (`aidmatch/run_guard.py`).
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from logging import WARNING
from pathlib import Path

import dagster as dg
import duckdb
from pydantic import PrivateAttr

from aidmatch.console import tell
from aidmatch.province.settings import night_of
from aidmatch.publish.permissions import Modes
from aidmatch.publish.retention import SPILL
from aidmatch.reuse import previous_database, seed_work_database
from aidmatch.run_guard import guarded_run
from aidmatch.settings import Settings, load_settings
from aidmatch.sources.digests import recall_digests
from aidmatch.work_database import (
    STORAGE_VERSION,
    VACUUM_OFF,
    WorkDatabaseKeyError,
    WorkDatabaseOutdated,
    open_work_database,
)


def database_config(settings: Settings, path: Path) -> dict[str, str | int]:
    """DuckDB's bounds for a run's database: `database.memory_limit`, past which it spills to the folder
    beside the database (the work disk, never the system's small /tmp), and one thread per core the
    `machine` section lends (DuckDB would otherwise take every CPU of the host, and memory with each).

    A new database is written in DuckDB 1.4's storage format (`v1.4.0`), not the 1.0 format DuckDB writes
    by default for older readers (only this pinned DuckDB reads a work database): its text dictionary
    (DICT_FSST) made a city's nine million staged contributions 265 MB where 596, and scans of them twice
    as fast. Plain FSST stays off: DuckDB 1.4 tries it on every column of every row group it writes, which
    cost a quarter of the raw tables' insert in the 1.0 format (10.1 → 7.7 billion instructions per 300,000
    contribution rows) for a file a third larger. An encrypted database is written in the newer format
    whatever this says.

    DuckDB's vacuum is off (`VACUUM_OFF`): at a checkpoint it rewrites every row group of a table whose
    deleted rows let the others fit in one row group fewer, and the rows a re-sent source's facts are made
    again for (`rules/facts.py`: 5.7% of a city's persons for the unemployment registrations) lie in every
    row group — the checkpoint after their delete rewrote the whole of facts_persons, 1.2 s of its 1.4.
    Deleted rows stay in the file until their table is built again, or written anew past a quarter of its
    rows (`rules.facts._rows_again`)."""
    return {
        "memory_limit": settings.database.memory_limit,
        "temp_directory": str(path.with_name(SPILL)),
        "threads": settings.machine.workers,
        "disabled_compression_methods": "fsst",
        "storage_compatibility_version": STORAGE_VERSION,
        "max_vacuum_tasks": VACUUM_OFF,
    }


class WorkDatabaseBusy(Exception):
    """Another program (not a run: runs take the work folder's lock first) has the work database open."""


class AidmatchResource(dg.ConfigurableResource):
    """Paths of one deployment. Empty strings fall back to the configuration file (and its env overrides)."""

    config_file: str = ""
    input_root: str = ""
    output_root: str = ""
    work_dir: str = ""
    exchange_dir: str = ""
    decisions_dir: str = ""
    # Sources whose drop in rows the operator confirmed for this run (`aidmatch run --accept-drop`), on top
    # of the configuration's completeness.accept_drop.
    accept_drop: list[str] = []
    # A full night (`aidmatch run --full`): every table built again, none taken from an earlier night.
    full: bool = False
    _city: str | None = PrivateAttr(default=None)  # in a province, the city of the run (its partition)

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator["AidmatchResource"]:
        """Entered once per run, before the first step (once per step under the multiprocess executor): the
        run holds its folders until the last ends. In a province, the folders are the run's city's."""
        settings = self.settings
        if settings.province.enabled:
            self._city = night_of(context.run.tags.get("dagster/partition", ""))[1]
            if self._city not in settings.province.cities:
                raise dg.Failure(
                    f"the configuration names the cities of a province ({', '.join(settings.province.cities)}): "
                    "a run is for one of them and one as-of date (a partition such as "
                    f"2026-11-22|{settings.province.cities[0]}), not {context.run.tags.get('dagster/partition')!r}."
                )
        with guarded_run(
            context, self.output_path, self.work_path, settings.run, settings.machine.memory_dir
        ):
            if not self.full:
                as_of = night_of(context.run.tags.get("dagster/partition", ""))[0]
                self._seed(context, as_of)
                if as_of and self.database_path(as_of).exists():
                    with self.connect(as_of) as con:
                        recall_digests(con)  # the files not written to since are not read again
            yield self

    def _seed(self, context: dg.InitResourceContext, as_of: str) -> None:
        """A night without its work database yet starts from a copy of the last successful night's, which
        keeps the tables that may be reused (`aidmatch/reuse.py`); the steps decide which are."""
        path = self.database_path(as_of)
        previous = previous_database(self.output_path, self.work_path, as_of) if as_of else None
        if previous is None or path.exists():
            return
        try:
            units, seconds, size = seed_work_database(previous, path, self._open)
        except (WorkDatabaseKeyError, WorkDatabaseOutdated) as error:
            tell(context.log, f"the work database of {previous[0]} is not reused: {error}", WARNING)
            return
        tell(
            context.log,
            f"the work database starts as a copy of {previous[0]}'s ({size / 1e6:,.0f} MB in {seconds:.1f} s): "
            f"its {len(units)} raw, staged and linked tables are reused where unchanged",
        )

    @cached_property
    def settings(self) -> Settings:
        return load_settings(Path(self.config_file) if self.config_file else None)

    @property
    def city(self) -> str | None:
        """The city the run is for, in a province (`province.cities`); None on one node."""
        return self._city

    def _of_city(self, root: str) -> Path:
        """A root folder, or in a province the run's city's folder in it."""
        return Path(root) / self._city if self._city else Path(root)

    @property
    def input_path(self) -> Path:
        return self._of_city(self.input_root or self.settings.paths.input_root)

    @property
    def output_path(self) -> Path:
        return self._of_city(self.output_root or self.settings.paths.output_root)

    @property
    def exchange_root(self) -> Path:
        """Where the cities of a province exchange their person index, a folder per night."""
        return Path(self.exchange_dir or self.settings.paths.exchange_dir)

    def exchange_path(self, as_of: str) -> Path:
        """Where the cities of a province exchange their person index for one night."""
        return self.exchange_root / as_of

    @property
    def column_maps_path(self) -> Path | None:
        configured = self.settings.paths.column_maps
        return Path(configured) if configured else None

    @property
    def decisions_path(self) -> Path:
        """Where people's filled decision forms are read from: configured, else `decisions` beside the input
        root; in a province, the run's city's folder in it (a city's people decide on its own lists)."""
        configured = self.decisions_dir or self.settings.paths.decisions_dir
        root = configured or str(Path(self.input_root or self.settings.paths.input_root).parent / "decisions")
        return self._of_city(root)

    @property
    def work_path(self) -> Path:
        return self._of_city(self.work_dir or self.settings.paths.work_dir)

    @property
    def accepted_drops(self) -> dict[str, str]:
        """Sources whose fall in rows is confirmed for this run, and by whom (the manifest records it): the
        command line's, which confirm this night, over the configuration's standing entries."""
        configured = dict.fromkeys(self.settings.completeness.accept_drop, "configuration")
        return configured | dict.fromkeys(self.accept_drop, "command line")

    @property
    def output_modes(self) -> Modes:
        """The modes (and group) of the published files."""
        return Modes.for_group(self.settings.run.output_group)

    def database_path(self, as_of: str) -> Path:
        return self.work_path / as_of / "aidmatch.duckdb"

    def _open(self, path: Path) -> duckdb.DuckDBPyConnection:
        """The work database at `path`, with the configuration's key and DuckDB bounds."""
        return open_work_database(
            path, self.settings.database.encryption_key(), database_config(self.settings, path)
        )

    @contextmanager
    def connect(self, as_of: str) -> Iterator[duckdb.DuckDBPyConnection]:
        """The night's work database, encrypted with the configuration's key if it names one
        (`aidmatch/work_database.py`); WorkDatabaseBusy when another program has it open."""
        path = self.database_path(as_of)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            con = self._open(path)
        except duckdb.IOException as error:
            if "lock" not in str(error):
                raise
            held = re.search(r"held in (.+?) \(PID (\d+)\)", str(error))
            program = f"{held[1]} (PID {held[2]})" if held else "another program"
            raise WorkDatabaseBusy(
                f"the work database {path} is open in {program}: close it there, then run again."
            ) from None
        try:
            yield con
        finally:
            con.close()
