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
source re-materialized from the UI) reads only what was selected. When a blocking check stops the night,
the step writes the departments' feedback sheets to `OUTPUT/<as-of>.feedback/` before it ends
(`publish/blocked_feedback.py`) and says where (an observation of the stopped source, which the failure's
explanation reads).
The logic lives in `sources/` and `checks/`; this module only wires it.
"""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb

from aidmatch.assets.files import FILES_PREFIX
from aidmatch.assets.partitions import as_of_check, as_of_key
from aidmatch.checks.completeness import (
    MONTHLY_SOURCE,
    Completeness,
    PublishedRun,
    assess,
    first_lookback_month,
    last_published_run,
    newest_well_filled_month,
    record_completeness,
)
from aidmatch.checks.freshness import assess_freshness
from aidmatch.checks.source_checks import (
    SchemaFindings,
    complete_result,
    files_readable_result,
    files_summary,
    fresh_result,
    row_rules_result,
    schema_result,
    validate_staged,
)
from aidmatch.checks.stage_source import RuleFailures, StagingResult, stage_source
from aidmatch.code_versions import digest
from aidmatch.console import tell
from aidmatch.matching.link import link_input_digest
from aidmatch.metadata import OWNERS, column_schema, table_tags
from aidmatch.publish.blocked_feedback import FEEDBACK_FOLDER, write_blocked_feedback
from aidmatch.resources import AidmatchResource
from aidmatch.reuse import (
    CHANGED_SINCE,
    FULL_NIGHT,
    LINK_INPUT,
    Decision,
    decide,
    forget,
    ledger,
    raw_code_version,
    record,
    staged_code_version,
)
from aidmatch.settings import Settings
from aidmatch.sources.changed_records import (
    changed_table,
    drop_row_hashes,
    keep_row_hashes,
    note_changed_records,
)
from aidmatch.sources.column_maps import SourceColumnMap
from aidmatch.sources.digests import keep_digests
from aidmatch.sources.file_log import record_file_reports
from aidmatch.sources.fingerprint import fingerprint
from aidmatch.sources.readers import FileReport, SourceReadError, load_column_maps, read_source
from aidmatch.sources.tables import SOURCES, staged_columns
from aidmatch.tables.catalog import raw_table
from aidmatch.tables.ddl import has_table
from aidmatch.work_database import cursor

RAW_GROUP = "raw"
STAGED_GROUP = "staged"
FILES_READABLE_CHECK = (
    "Blocking ERROR: the source folder is missing, an entry is refused (a link out of the input root, a "
    "format we do not read, bytes that are not what the name says, a workbook past the intake limits), a "
    "file cannot be read or decoded, or a required column is missing. Every entry is listed with its status."
)
# The thresholds in the descriptions are the configuration's (`build_defs(settings)`), as the UI states them.
COMPLETE_CHECK = (
    "Blocking ERROR: no data rows, or data rows fallen by more than completeness.max_row_drop "
    "({max_row_drop:.0%}) against the last published run; WARN, not blocking, once "
    "accepted with --accept-drop or completeness.accept_drop."
)
FRESH_CHECK = (
    "The newest file read, by modification time, at the as-of date's end: WARN past freshness.warn_days "
    "({warn_days}), ERROR past freshness.error_days ({error_days}); "
    "never blocking (a late extract may still be whole: `complete` guards the absences)."
)
ROW_RULES_CHECK = (
    "Every row against the row rules (quarantine.csv): blocking ERROR when the rows rejected or kept with a "
    "defect exceed validation.max_quarantine_rate "
    "({max_quarantine_rate:.0%}) of the rows read — notices (a 15-digit ID converted, "
    "an unknown region code, an exact duplicate row, control characters removed, formula-like text) never "
    "count; WARN, not blocking, when any row is flagged. The table: rule × file with the first rows."
)
SCHEMA_CHECK = (
    "Blocking ERROR: the staged table does not match its declaration in sources/tables.py (columns, order, "
    "types, nullability, code lists) — a bug in staging, not in the data. Tables past 200,000 rows are "
    "validated on a repeatable sample."
)


def _specs(settings: Settings) -> list[dg.AssetSpec]:
    configured = settings.paths.column_maps
    headers = load_column_maps(Path(configured) if configured else None)
    staged_version = staged_code_version(settings)
    specs = []
    for source in SOURCES:
        raw = raw_table(source, headers[source].columns)
        specs.append(
            dg.AssetSpec(
                raw.name,
                group_name=RAW_GROUP,
                description=f"Every row of every file in the `{source}/` folder, as text, with its `source_record`.",
                # the folder's files, observed (assets/files.py) on one node; a province's are each city's
                deps=[] if settings.province.enabled else [f"{FILES_PREFIX}{source}"],
                code_version=raw_code_version(settings, headers[source]),
                kinds={"duckdb"},
                skippable=True,
                metadata={"dagster/column_schema": column_schema(raw.columns)},
                owners=OWNERS["raw"],
                tags=table_tags("raw", True, source),
            )
        )
        specs.append(
            dg.AssetSpec(
                f"staged_{source}",
                group_name=STAGED_GROUP,
                deps=[raw.name],
                description=f"`{source}` normalized to the columns of `sources/tables.py`; failures in "
                f"`quarantine_{source}` (quarantine.csv).",
                code_version=staged_version,
                kinds={"duckdb"},
                skippable=True,
                metadata={"dagster/column_schema": column_schema(staged_columns(source))},
                owners=OWNERS["staged"],
                tags=table_tags("staged", True, source),
            )
        )
    return specs


# The checks that stop the night when they fail (at ERROR): `fresh` never does (a late extract may be whole).
BLOCKING_CHECKS = frozenset({"files_readable", "complete", "row_rules", "schema"})


def _check_specs(settings: Settings, nights: dg.PartitionsDefinition) -> list[dg.AssetCheckSpec]:
    complete = COMPLETE_CHECK.format(max_row_drop=settings.completeness.max_row_drop)
    fresh = FRESH_CHECK.format(
        warn_days=settings.freshness.warn_days, error_days=settings.freshness.error_days
    )
    row_rules = ROW_RULES_CHECK.format(max_quarantine_rate=settings.validation.max_quarantine_rate)
    checks = []
    for source in SOURCES:
        raw, staged = f"raw_{source}", f"staged_{source}"
        for name, asset, description in (
            ("files_readable", raw, FILES_READABLE_CHECK),
            ("complete", raw, complete),
            ("fresh", raw, fresh),
            ("row_rules", staged, row_rules),
            ("schema", staged, SCHEMA_CHECK),
        ):
            checks.append(as_of_check(name, asset, description, nights, blocking=name in BLOCKING_CHECKS))
    return checks


@dataclass
class _SourceWork:
    """What one source's ingestion produced, handed back to the step's thread for Dagster."""

    source: str
    raw: Decision | None = None  # reuse or read `raw_<source>` (None: not read in this step)
    staged: Decision | None = None  # reuse or stage `staged_<source>` (None: not staged in this step)
    reports: list[FileReport] | None = None  # None: the source was not read in this step
    newest_month: str | None = None  # MONTHLY_SOURCE: its newest well-filled month (completeness)
    error: SourceReadError | None = None
    completeness: Completeness | None = None
    staging: StagingResult | None = None  # staged in this step (or reused): its quarantine rows are tonight's
    schema: SchemaFindings | None = None  # the staged table validated against its schema (or reused)
    link_input: str | None = None  # what the linker reads of the staged table, digested (`link_input_digest`)
    # staged again over an earlier night's table whose rows' hashes were kept: that table's data version,
    # from which `changed_<source>` names the records that differ (None when it cannot)
    changed_since: str | None = None
    results: list[dg.MaterializeResult] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)  # for the terminal too
    # for the event log only: the failed blocking check's description says the same, and the
    # terminal prints that once, in the run's failure explanation
    explained: list[str] = field(default_factory=list)


def _reuse_metadata(decision: Decision) -> dict[str, object]:
    """What the UI shows of a table's night: reused (from which night) or built, and why."""
    return {"reuse": decision.said()}


def _read(
    con: duckdb.DuckDBPyConnection,
    aidmatch: AidmatchResource,
    column_map: SourceColumnMap,
    work: _SourceWork,
    published: PublishedRun | None,
    as_of: date,
) -> bool:
    """Read (or reuse) `raw_<source>` and assess it; whether the source may be staged."""
    source = work.source
    reused = work.raw.reused
    if reused:
        work.reports = [FileReport(**report) for report in reused.summary["reports"]]
        work.newest_month = reused.summary.get("newest_month")
    else:
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
            work.reports = error.reports  # ingest_files names every entry, refused ones too
            if error.reports:
                work.messages.append(files_summary(source, error.reports))
            work.results.append(
                dg.MaterializeResult(
                    asset_key=f"raw_{source}", check_results=[files_readable_result(source, error=error)]
                )
            )
            return False  # not staged: nothing downstream runs on partial input
        if source == MONTHLY_SOURCE and any(r.rows_read for r in work.reports):
            work.newest_month = newest_well_filled_month(con, f"raw_{source}")
    readable = files_readable_result(source, reports=work.reports)
    rows = sum(r.rows_read for r in work.reports)
    settings = aidmatch.settings.completeness
    months = None
    if source == MONTHLY_SOURCE and rows:
        months = (work.newest_month, first_lookback_month(as_of, aidmatch.settings.rules.lookback_months))
    complete = assess(source, rows, published, settings.max_row_drop, aidmatch.accepted_drops, months)
    work.completeness = complete
    read_files = [r.file for r in work.reports if r.status == "read"]
    limits = aidmatch.settings.freshness
    fresh = assess_freshness(
        source, aidmatch.input_path, read_files, as_of, limits.warn_days, limits.error_days
    )
    raw_version = work.raw.data_version_at(as_of.isoformat())
    work.results.append(
        dg.MaterializeResult(
            asset_key=f"raw_{source}",
            metadata={
                **readable.metadata,
                "dagster/row_count": rows,
                **_reuse_metadata(work.raw),
            },
            check_results=[readable, complete_result(complete), fresh_result(fresh)],
            data_version=dg.DataVersion(raw_version),
        )
    )
    if not reused:
        work.messages.append(files_summary(source, work.reports))
    if complete.verdict != "ok":
        (work.explained if complete.blocking else work.messages).append(complete.message)
    if fresh.verdict != "fresh":
        work.messages.append(fresh.message)
    return not complete.blocking  # not staged: nothing downstream decides on a partial extract


def _stage(
    con: duckdb.DuckDBPyConnection, aidmatch: AidmatchResource, work: _SourceWork, as_of: date
) -> None:
    """Stage (or reuse) `staged_<source>` and check it."""
    source = work.source
    reused = work.staged.reused
    if reused:
        summary = dict(reused.summary)
        failures = [RuleFailures(**failure) for failure in summary.pop("failures")]
        until = summary.pop("valid_until")
        schema = SchemaFindings(**summary.pop("schema"))
        work.link_input = summary.pop(LINK_INPUT, None)  # None: staged by a version that did not digest it
        summary.pop(CHANGED_SINCE, None)
        result = StagingResult(**summary, failures=failures, valid_until=until and date.fromisoformat(until))
    else:
        result = stage_source(
            con, source, as_of=as_of, max_cell_chars=aidmatch.settings.intake.max_cell_chars
        )
        schema = validate_staged(con, source)
        work.link_input = link_input_digest(con, source)
        if work.changed_since and note_changed_records(con, source) is None:
            work.changed_since = None
    work.staging, work.schema = result, schema
    threshold = aidmatch.settings.validation.max_quarantine_rate
    work.results.append(
        dg.MaterializeResult(
            asset_key=f"staged_{source}",
            metadata={
                "dagster/row_count": result.rows_staged,
                "rows_read": result.rows_read,
                "rows_rejected": result.rows_rejected,
                "rows_flagged": result.rows_flagged,
                "blocking_rate": round(result.blocking_rate, 4),
                "quarantine_rate": round(result.quarantine_rate, 4),
                **_reuse_metadata(work.staged),
            },
            check_results=[row_rules_result(result, threshold), schema_result(source, schema)],
            data_version=dg.DataVersion(work.staged.data_version_at(as_of.isoformat())),
        )
    )
    if not reused:
        work.messages.append(
            f"{source}: staged {result.rows_staged} of {result.rows_read} rows, "
            f"{result.rows_rejected} rejected, {result.rows_flagged} flagged"
        )


def _ingest_source(
    con: duckdb.DuckDBPyConnection,
    aidmatch: AidmatchResource,
    column_map: SourceColumnMap,
    work: _SourceWork,
    published: PublishedRun | None,
    as_of: date,
) -> _SourceWork:
    """Read and/or stage one source on its own cursor (closed here), or take its tables as an earlier night
    left them (`work.raw`, `work.staged`); a SourceReadError is reported as the failed `files_readable`
    check, not raised. Runs on a worker thread: it logs nothing itself."""
    try:
        if work.raw is not None and not _read(con, aidmatch, column_map, work, published, as_of):
            return work
        if work.staged is not None:
            _stage(con, aidmatch, work, as_of)
    finally:
        con.close()
    return work


def _reuse_said(work: _SourceWork) -> str | None:
    """The terminal's line on what the source reuses tonight, if anything."""
    raw = work.raw.reused if work.raw else None
    staged = work.staged.reused if work.staged else None
    if raw and staged:
        return f"{work.source} unchanged since {staged.built_as_of}: raw and staged tables reused"
    if raw:
        staged_again = f"; staged again: {work.staged.why}" if work.staged else ""
        return f"{work.source}: files unchanged since {raw.built_as_of}: raw table reused{staged_again}"
    if staged:
        return f"{work.source}: staged table reused (built {staged.built_as_of})"
    return None


def _plan(
    con: duckdb.DuckDBPyConnection,
    aidmatch: AidmatchResource,
    maps: dict[str, SourceColumnMap],
    selected: dict[str, tuple[bool, bool]],
    as_of: str,
) -> list[_SourceWork]:
    """What each selected source does tonight: its raw and staged units reused, or built (their ledger rows
    removed first). A unit's version is its code version and its input's data version: the folder's
    fingerprint for the raw table, the raw table's data version for the staged one."""
    settings = aidmatch.settings
    built = ledger(con)
    works = []
    for source, (read, stage) in selected.items():
        work = _SourceWork(source)
        raw_unit, staged_unit = f"raw_{source}", f"staged_{source}"
        raw_data: str | None = None
        if read:
            files = fingerprint(aidmatch.input_path, source, settings.machine.workers)
            version = digest(raw_code_version(settings, maps[source]), files.digest if files else "no folder")
            anyway = FULL_NIGHT if aidmatch.full else None if files else "its folder is missing"
            work.raw = decide(con, raw_unit, version, as_of, anyway)
            raw_data = work.raw.data_version_at(as_of)
        elif raw_unit in built:  # the raw table an earlier step of this night (or night) left
            raw_data = built[raw_unit].data_version
        if stage:
            version = digest(staged_code_version(settings), raw_data or "raw table of unknown origin")
            anyway = (
                FULL_NIGHT if aidmatch.full else None if raw_data else "its raw table is of no known night"
            )
            work.staged = decide(con, staged_unit, version, as_of, anyway)
            replaced = built.get(staged_unit)
            if (
                work.staged.reused is None
                and replaced
                and has_table(con, staged_unit)
                and not (aidmatch.full or aidmatch.city)  # the facts are built whole then
            ):
                keep_row_hashes(con, source)  # the facts of the persons of the rows that differ made again
                work.changed_since = replaced.data_version
            else:
                drop_row_hashes(con, source)  # those a stopped night left
        works.append(work)
    forget(
        con,
        [unit for work in works for unit, decision in ((f"raw_{work.source}", work.raw),
         (f"staged_{work.source}", work.staged)) if decision is not None and decision.reused is None],
    )  # fmt: skip
    return works


def _record(con: duckdb.DuckDBPyConnection, work: _SourceWork, as_of: str) -> None:
    """Write the ledger rows of the tables this source built tonight (whole: read, or staged)."""
    source = work.source
    if work.raw and not work.raw.reused and work.error is None and work.reports is not None:
        summary = {"reports": [asdict(report) for report in work.reports], "newest_month": work.newest_month}
        record(con, f"raw_{source}", work.raw.version, as_of, [f"raw_{source}"], summary)
    if work.staged and not work.staged.reused and work.staging is not None and work.schema is not None:
        changed = {CHANGED_SINCE: work.changed_since} if work.changed_since else {}
        record(
            con,
            f"staged_{source}",
            work.staged.version,
            as_of,
            [f"staged_{source}", f"quarantine_{source}", *([changed_table(source)] if changed else [])],
            asdict(work.staging) | {"schema": asdict(work.schema), LINK_INPUT: work.link_input} | changed,
            work.staging.valid_until,
        )


def _stopping(work: _SourceWork) -> list[str]:
    """What the source's failed blocking checks said: a blocking check fails the night at ERROR severity."""
    return [
        check.description or check.check_name
        for result in work.results
        for check in result.check_results or []
        if check.check_name in BLOCKING_CHECKS
        and not check.passed
        and check.severity == dg.AssetCheckSeverity.ERROR
    ]


def _input_bytes(folder: Path) -> int:
    """Size of a source folder's files, subfolders included: the largest sources start first."""
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file()) if folder.is_dir() else 0


def ingest(context: dg.AssetExecutionContext, aidmatch: AidmatchResource) -> Iterator[dg.MaterializeResult]:
    selected = {key.to_user_string() for key in context.selected_asset_keys}
    plan = {
        source: (f"raw_{source}" in selected, f"staged_{source}" in selected)
        for source in SOURCES
        if f"raw_{source}" in selected or f"staged_{source}" in selected
    }
    maps = load_column_maps(aidmatch.column_maps_path)
    order = sorted(plan, key=lambda source: -_input_bytes(aidmatch.input_path / source))
    as_of = as_of_key(context)
    published = last_published_run(aidmatch.output_path, as_of)
    with (
        aidmatch.connect(as_of) as con,
        ThreadPoolExecutor(aidmatch.settings.machine.workers) as pool,
    ):
        works = _plan(con, aidmatch, maps, {source: plan[source] for source in order}, as_of)
        keep_digests(con)  # the folders' files, hashed (or taken) by the plan: for the next night
        running = [
            pool.submit(
                _ingest_source,
                cursor(con),  # on the work database, encrypted or not
                aidmatch,
                maps[work.source],
                work,
                published,
                date.fromisoformat(as_of),
            )
            for work in works
        ]
        stopped: dict[str, list[str]] = {}
        staged: set[str] = set()
        for future in as_completed(running):
            work = future.result()
            _record(con, work, as_of)
            # a refused file is recorded too: the department's feedback names it
            reports = work.reports if work.reports is not None else work.error.reports if work.error else None
            if reports is not None:
                record_file_reports(con, work.source, reports)
            if messages := _stopping(work):
                stopped[work.source] = messages
            if work.staging is not None:
                staged.add(work.source)
            if work.completeness is not None:
                record_completeness(con, work.completeness)
            if work.error is not None:  # the failed files_readable check's description
                context.log.error(str(work.error))
            if said := _reuse_said(work):
                tell(context.log, said)
            for message in work.messages:
                tell(context.log, message)
            for message in work.explained:
                context.log.error(message)
            yield from work.results
        if stopped:  # the night stops here: the departments get their feedback all the same
            folder = write_blocked_feedback(
                con,
                aidmatch.output_path,
                as_of_key(context),
                staged,
                stopped,
                aidmatch.settings.validation.max_quarantine_rate,
                aidmatch.settings.publish.feedback_max_rows,
            )
            tell(context.log, f"the departments' feedback sheets of this stopped night are in {folder}")
            yield dg.AssetObservation(
                asset_key=f"raw_{min(stopped)}",
                metadata={FEEDBACK_FOLDER: dg.MetadataValue.path(str(folder))},
            )


def ingest_assets(settings: Settings, nights: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    """The `raw_<source>` and `staged_<source>` assets and their checks, one step for every source."""
    return [
        dg.multi_asset(
            name="ingest",
            specs=_specs(settings),
            check_specs=_check_specs(settings, nights),
            partitions_def=nights,
            can_subset=True,
        )(ingest)
    ]
