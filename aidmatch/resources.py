"""The one resource every asset uses: where the run reads, works and publishes, and its settings.

Tests and the CLI build it with their own paths (`build_defs(resource_overrides=...)`), so nothing is
monkeypatched. The DuckDB database is one file per as-of date under the work directory; the run's
steps execute in one process, one after another, so there is only ever one writer. Every run, however
launched, holds its output and work folders for its whole length through this resource's run-scoped
setup (`pipelines/run_guard.py`).
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

import dagster as dg
import duckdb

from aidmatch.publish.permissions import Modes
from aidmatch.run_guard import guarded_run
from aidmatch.settings import Settings, load_settings


class WorkDatabaseBusy(Exception):
    """Another program (not a run: runs take the work folder's lock first) has the work database open."""


class AidmatchResource(dg.ConfigurableResource):
    """Paths of one deployment. Empty strings fall back to the configuration file (and its env overrides)."""

    config_file: str = ""
    input_root: str = ""
    output_root: str = ""
    work_dir: str = ""
    decisions_dir: str = ""
    # Sources whose drop in rows the operator confirmed for this run (`aidmatch run --accept-drop`), on top
    # of the configuration's completeness.accept_drop.
    accept_drop: list[str] = []

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator["AidmatchResource"]:
        """Entered once per run, before the first step: the run holds its folders until the last ends."""
        settings = self.settings
        with guarded_run(
            context, self.output_path, self.work_path, settings.run, settings.machine.memory_dir
        ):
            yield self

    @cached_property
    def settings(self) -> Settings:
        return load_settings(Path(self.config_file) if self.config_file else None)

    @property
    def input_path(self) -> Path:
        return Path(self.input_root or self.settings.paths.input_root)

    @property
    def output_path(self) -> Path:
        return Path(self.output_root or self.settings.paths.output_root)

    @property
    def column_maps_path(self) -> Path | None:
        configured = self.settings.paths.column_maps
        return Path(configured) if configured else None

    @property
    def decisions_path(self) -> Path:
        """Where people's filled decision forms are read from: configured, else `decisions` beside the input root."""
        configured = self.decisions_dir or self.settings.paths.decisions_dir
        return Path(configured) if configured else self.input_path.parent / "decisions"

    @property
    def work_path(self) -> Path:
        return Path(self.work_dir or self.settings.paths.work_dir)

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

    @contextmanager
    def connect(self, as_of: str) -> Iterator[duckdb.DuckDBPyConnection]:
        path = self.database_path(as_of)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            con = duckdb.connect(str(path), config={"memory_limit": self.settings.database.memory_limit})
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
