"""Ingest assets: `raw_<source>` (files → text table) and `staged_<source>` (normalized, validated).

Every source has its own pair of assets and the same checks:
- `raw_<source>` · `files_readable` (blocking ERROR): a missing folder, an unreadable file or a
  missing required column stops the run — nothing downstream runs on partial input.
- `raw_<source>` · `complete` (blocking ERROR, WARN once the operator accepts): no data rows, or a fall
  past `completeness.max_row_drop` against the last published run (`checks/completeness.py`).
- `raw_<source>` · `fresh` (WARN; ERROR, not blocking): the newest file read is older than
  `freshness.warn_days` / `error_days` at the as-of date's end (`checks/freshness.py`).
- `staged_<source>` · `row_rules` (WARN, or blocking ERROR past the configured quarantine rate) and
  `schema` (the Pandera schema generated from `sources/tables.py`, blocking ERROR).

They are materialized by one step that works on two sources at a time, each on its own cursor of the
run's DuckDB database, largest input first: a big CSV is read by DuckDB threads while another source's
normalizers (Python) run beside it. A source whose files cannot be read is not staged; a subset (one
source re-materialized from the UI) reads only what was selected.
The logic lives in `sources/` and `checks/`; this module only wires it.
"""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb

from aidmatch.assets.partitions import as_of_key, as_of_partitions
from aidmatch.checks.completeness import (
    Completeness,
    PublishedRun,
    assess,
    last_published_run,
    record_completeness,
)
from aidmatch.checks.freshness import assess_freshness
from aidmatch.checks.source_checks import (
    complete_result,
    files_readable_result,
    files_summary,
    fresh_result,
    row_rules_result,
    schema_result,
)
from aidmatch.checks.stage_source import stage_source
from aidmatch.console import tell
from aidmatch.resources import AidmatchResource
from aidmatch.sources.column_maps import SourceColumnMap
from aidmatch.sources.file_log import record_file_reports
from aidmatch.sources.readers import FileReport, SourceReadError, load_column_maps, read_source
from aidmatch.sources.tables import SOURCES

RAW_GROUP = "raw"
STAGED_GROUP = "staged"
COMPLETE_CHECK = (
    "Blocking: no data rows, or data rows fallen by more than completeness.max_row_drop (default 20%) "
    "against the last published run, unless accepted with --accept-drop or completeness.accept_drop."
)
FRESH_CHECK = (
    "The newest file read, by modification time, at the as-of date's end: WARN past freshness.warn_days "
    "(default 35), ERROR past freshness.error_days (default 60); not blocking."
)


def _specs() -> list[dg.AssetSpec]:
    specs = []
    for source in SOURCES:
        specs.append(
            dg.AssetSpec(
                f"raw_{source}",
                group_name=RAW_GROUP,
                description=f"Every row of every file in the `{source}/` folder, as text, with its source_record.",
                kinds={"duckdb"},
                skippable=True,
            )
        )
        specs.append(
            dg.AssetSpec(
                f"staged_{source}",
                group_name=STAGED_GROUP,
                deps=[f"raw_{source}"],
                description=f"`{source}` normalized to the columns of sources/tables.py; failures in quarantine_{source}.",
                kinds={"duckdb"},
                skippable=True,
            )
        )
    return specs


def _check_specs() -> list[dg.AssetCheckSpec]:
    checks = []
    for source in SOURCES:
        checks.append(dg.AssetCheckSpec("files_readable", asset=f"raw_{source}", blocking=True))
        checks.append(
            dg.AssetCheckSpec("complete", asset=f"raw_{source}", blocking=True, description=COMPLETE_CHECK)
        )
        checks.append(dg.AssetCheckSpec("fresh", asset=f"raw_{source}", description=FRESH_CHECK))
        checks.append(dg.AssetCheckSpec("row_rules", asset=f"staged_{source}", blocking=True))
        checks.append(dg.AssetCheckSpec("schema", asset=f"staged_{source}", blocking=True))
    return checks


@dataclass
class _SourceWork:
    """What one source's ingestion produced, handed back to the step's thread for Dagster."""

    source: str
    reports: list[FileReport] | None = None  # None: the source was not read in this step
    error: SourceReadError | None = None
    completeness: Completeness | None = None
    results: list[dg.MaterializeResult] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)  # for the terminal too
    # for the event log only: the failed blocking check's description says the same, and the
    # terminal prints that once, in the run's failure explanation
    explained: list[str] = field(default_factory=list)


def _ingest_source(
    con: duckdb.DuckDBPyConnection,
    aidmatch: AidmatchResource,
    column_map: SourceColumnMap,
    work: _SourceWork,
    published: PublishedRun | None,
    read: bool,
    stage: bool,
    as_of: date,
) -> _SourceWork:
    """Read and/or stage one source on its own cursor (closed here); a SourceReadError is reported as the
    failed `files_readable` check, not raised. Runs on a worker thread: it logs nothing itself."""
    source = work.source
    try:
        if read:
            try:
                work.reports = read_source(
                    con,
                    aidmatch.input_path,
                    source,
                    column_map,
                    f"raw_{source}",
                    limits=aidmatch.settings.intake,
                    machine=aidmatch.settings.machine,
                )
            except SourceReadError as error:
                work.error = error
                if error.reports:
                    work.messages.append(files_summary(source, error.reports))
                work.results.append(
                    dg.MaterializeResult(
                        asset_key=f"raw_{source}", check_results=[files_readable_result(source, error=error)]
                    )
                )
                return work  # not staged: nothing downstream runs on partial input
            readable = files_readable_result(source, reports=work.reports)
            rows = sum(r.rows_read for r in work.reports)
            settings = aidmatch.settings.completeness
            complete = assess(source, rows, published, settings.max_row_drop, aidmatch.accepted_drops)
            work.completeness = complete
            read_files = [r.file for r in work.reports if r.status == "read"]
            limits = aidmatch.settings.freshness
            fresh = assess_freshness(
                source, aidmatch.input_path, read_files, as_of, limits.warn_days, limits.error_days
            )
            work.results.append(
                dg.MaterializeResult(
                    asset_key=f"raw_{source}",
                    metadata={**readable.metadata, "rows": rows},
                    check_results=[readable, complete_result(complete), fresh_result(fresh)],
                )
            )
            work.messages.append(files_summary(source, work.reports))
            if complete.verdict != "ok":
                (work.explained if complete.blocking else work.messages).append(complete.message)
            if fresh.verdict != "fresh":
                work.messages.append(fresh.message)
            if complete.blocking:
                return work  # not staged: nothing downstream decides on a partial extract
        if stage:
            result = stage_source(
                con, source, as_of=as_of, max_cell_chars=aidmatch.settings.intake.max_cell_chars
            )
            threshold = aidmatch.settings.validation.max_quarantine_rate
            work.results.append(
                dg.MaterializeResult(
                    asset_key=f"staged_{source}",
                    metadata={
                        "rows_read": result.rows_read,
                        "rows_staged": result.rows_staged,
                        "rows_rejected": result.rows_rejected,
                        "rows_flagged": result.rows_flagged,
                        "quarantine_rate": round(result.quarantine_rate, 4),
                    },
                    check_results=[row_rules_result(result, threshold), schema_result(con, source)],
                )
            )
            work.messages.append(
                f"{source}: staged {result.rows_staged} of {result.rows_read} rows, "
                f"{result.rows_rejected} rejected, {result.rows_flagged} flagged"
            )
    finally:
        con.close()
    return work


def _input_bytes(folder: Path) -> int:
    """Size of a source folder's files, subfolders included: the largest sources start first."""
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file()) if folder.is_dir() else 0


@dg.multi_asset(
    name="ingest",
    specs=_specs(),
    check_specs=_check_specs(),
    partitions_def=as_of_partitions,
    can_subset=True,
)
def ingest(context: dg.AssetExecutionContext, aidmatch: AidmatchResource) -> Iterator[dg.MaterializeResult]:
    selected = {key.to_user_string() for key in context.selected_asset_keys}
    plan = {
        source: (f"raw_{source}" in selected, f"staged_{source}" in selected)
        for source in SOURCES
        if f"raw_{source}" in selected or f"staged_{source}" in selected
    }
    maps = load_column_maps(aidmatch.column_maps_path)
    order = sorted(plan, key=lambda source: -_input_bytes(aidmatch.input_path / source))
    published = last_published_run(aidmatch.output_path, as_of_key(context))
    with (
        aidmatch.connect(as_of_key(context)) as con,
        ThreadPoolExecutor(aidmatch.settings.machine.workers) as pool,
    ):
        running = [
            pool.submit(
                _ingest_source,
                con.cursor(),
                aidmatch,
                maps[source],
                _SourceWork(source),
                published,
                *plan[source],
                date.fromisoformat(as_of_key(context)),
            )
            for source in order
        ]
        for future in as_completed(running):
            work = future.result()
            if work.reports is not None:
                record_file_reports(con, work.source, work.reports)
            if work.completeness is not None:
                record_completeness(con, work.completeness)
            if work.error is not None:  # the failed files_readable check's description
                context.log.error(str(work.error))
            for message in work.messages:
                tell(context.log, message)
            for message in work.explained:
                context.log.error(message)
            yield from work.results


ingest_assets = [ingest]
