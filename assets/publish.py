"""The publish asset: write `OUTPUT/<as-of>/` atomically — CSVs, changes.csv, the workbooks for people
(the lists, 民政's, 残联's and the early warning's, each street office's work list, the employers' view, the
departments' feedback sheets, the monthly progress table, the decision forms), the run report, the contract
and manifest.json — and remove the feedback folder a stopped night of the same as-of left
(`publish/blocked_feedback.py`)."""

import datetime as dt
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl

from aidmatch.assets.linking import LINKED_UNIT
from aidmatch.assets.lists import LIST_SPECS
from aidmatch.assets.partitions import as_of_key
from aidmatch.checks.completeness import manifest_section, recorded_completeness
from aidmatch.checks.stage_source import source_counts
from aidmatch.console import tell
from aidmatch.decisions.audit import DECISIONS_APPLIED_SQL, create_audit_tables
from aidmatch.decisions.audit import manifest_section as decisions_section
from aidmatch.metadata import OWNERS, metadata_table, table_tags
from aidmatch.publish.atomic import publish_atomically
from aidmatch.publish.blocked_feedback import feedback_folder, remove_blocked_feedback
from aidmatch.publish.carried import (
    LINKED_VERSION_KEY,
    carried_from,
    carry_verified,
    record_stamp,
    recorded_stamp,
    still_stamped,
)
from aidmatch.publish.changes import TRACKED_LISTS, changes_sql, previous_run
from aidmatch.publish.csv_files import write_csv
from aidmatch.publish.decision_sheets import decision_form_workbooks
from aidmatch.publish.employer_view import employer_rows, employer_workbooks
from aidmatch.publish.feedback import (
    detail_frame,
    feedback_sheets,
    summary_frame,
    visit_frame,
    write_feedback_csv,
)
from aidmatch.publish.manifest import (
    config_echo,
    input_section,
    output_section,
    paths_in_force,
    steps_section,
    timestamp,
    write_manifest,
)
from aidmatch.publish.outputs import LISTS, OUTPUT_FILES, PERSON_LINKS, csv_select
from aidmatch.publish.partner_lists import partner_workbooks
from aidmatch.publish.printed_lists import PRINTED_LISTS, list_frames, list_sheets
from aidmatch.publish.progress import (
    Period,
    progress_frame,
    progress_sheet,
    reporting_period,
    visit_progress_frame,
    visit_progress_sheet,
)
from aidmatch.publish.report import REPORT_FILE, write_report
from aidmatch.publish.report_figures import gather_figures
from aidmatch.publish.retention import remove_expired_person_indexes, remove_expired_work_databases
from aidmatch.publish.street_work import street_work_workbooks, streets_of, work_frames
from aidmatch.publish.written import FileEntry, file_entry
from aidmatch.publish.xlsx_files import TableSheet, save_workbooks
from aidmatch.resources import AidmatchResource
from aidmatch.reuse import ledger, reused_tonight
from aidmatch.run_record import check_results, run_start_time, step_times
from aidmatch.sources.tables import DEPARTMENTS, SOURCES
from aidmatch.tables.catalog import DECISIONS_APPLIED
from aidmatch.tables.contract import PACKAGE_FILE, SCHEMA_VERSION, fingerprint, write_package
from aidmatch.version import code_version

PERSON_LINKS_CSV = f"{PERSON_LINKS.name}.csv"


@dataclass(frozen=True)
class Workbook:
    path: str  # relative to the published folder
    sheets: list[TableSheet]


def _workbooks(
    con: duckdb.DuckDBPyConnection,
    aidmatch: AidmatchResource,
    period: Period,
    visit_progress: pl.DataFrame,
    folder: Path,
    written: dict[str, int],
) -> list[Workbook]:
    """Every workbook for people, its rows already read from the run database (the writing needs no
    connection, so it runs beside DuckDB's CSV writing); the feedback CSVs are written on the way, their
    rows counted in `written`."""
    settings = aidmatch.settings.publish
    as_of = period.as_of.isoformat()
    frames = list_frames(con)
    books = [
        Workbook(f"{p.name}.xlsx", list_sheets(p, frames[p.name], as_of, settings.area_name))
        for p in PRINTED_LISTS
    ]
    books += [Workbook(path, sheets) for path, sheets in partner_workbooks(con, as_of, settings.area_name)]
    work = work_frames(con, period)
    books += [
        Workbook(path, sheets)
        for path, sheets in street_work_workbooks(
            work, streets_of(con, work), period, aidmatch.settings.visits
        )
    ]
    max_rate = aidmatch.settings.validation.max_quarantine_rate
    for department in DEPARTMENTS:
        details, visits = detail_frame(con, department), visit_frame(con, department)
        written[f"feedback_{department.name}.csv"] = write_feedback_csv(
            details, visits, department, folder / f"feedback_{department.name}.csv"
        )
        summary = summary_frame(con, department, max_rate)
        sheets = feedback_sheets(department, summary, details, visits, as_of, settings.feedback_max_rows)
        books.append(Workbook(f"feedback_{department.name}.xlsx", sheets))
    current = {output.name: output.select_sql for output in LISTS}
    progress = progress_frame(con, period, current)
    unit = settings.area_name or "全部区县"
    books.append(
        Workbook(
            "progress.xlsx",
            [progress_sheet(progress, period, unit), visit_progress_sheet(visit_progress, period, unit)],
        )
    )
    books += [Workbook(path, [sheet]) for path, sheet in decision_form_workbooks(con, as_of)]
    books += [
        Workbook(path, sheets)
        for path, sheets in employer_workbooks(employer_rows(con), as_of, settings.workbook_per_employer)
    ]
    return books


def _write_workbooks(books: list[Workbook], folder: Path, workers: int) -> dict[str, FileEntry]:
    """Write each workbook; return its manifest entry (data rows over all sheets, sha256, bytes), by path."""
    for subfolder in sorted({Path(book.path).parent for book in books} - {Path(".")}):
        (folder / subfolder).mkdir()  # by_street/, by_employer/
    entries = save_workbooks([(folder / book.path, book.sheets) for book in books], workers)
    return dict(zip((book.path for book in books), entries, strict=True))


def _changes_metadata(counts: dict[tuple[str, str], int], previous: Path | None) -> dict[str, object]:
    """Entered / left / changed per list as numbers (the UI plots them night over night), and in words."""
    numbers = {
        f"{tracked.name} {change}": counts.get((tracked.name, change), 0)
        for tracked in TRACKED_LISTS
        for change in ("entered", "left", "changed")
    }
    if previous is None:
        words = "first run: every entry of every list entered"
    elif not any(numbers.values()):
        words = f"a quiet night: nobody entered, left or changed on any list since {previous.name}"
    else:
        words = (
            "; ".join(
                f"{tracked.name}: "
                + ", ".join(f"{numbers[f'{tracked.name} {c}']} {c}" for c in ("entered", "left", "changed"))
                for tracked in TRACKED_LISTS
            )
            + f" (since {previous.name})"
        )
    return {**numbers, "changes since previous run": words}


def _visit_metadata(progress: pl.DataFrame, period: Period) -> dict[str, object]:
    """The street offices' visits of the period as numbers (the UI plots them night over night: listed,
    visited, each outcome, still to visit) and per street as a table."""
    total = progress.filter(pl.col("district") == "合计").row(0, named=True)
    numbers = {
        f"visits {key}": int(total[key]) for key in progress.columns if key not in ("district", "street")
    }
    streets = progress.filter(pl.col("district") != "合计").to_dicts()
    return {
        **numbers,
        "visits period": f"{period.start} to {period.as_of}",
        "visits by street": metadata_table(streets, list(progress.columns)),
    }


def published_outputs(context: dg.AssetExecutionContext, aidmatch: AidmatchResource) -> dg.MaterializeResult:
    as_of = as_of_key(context)
    previous = previous_run(aidmatch.output_path, as_of)
    period = reporting_period(
        aidmatch.output_path,
        dt.date.fromisoformat(as_of),
        aidmatch.settings.publish.progress_period_start_day,
    )
    with aidmatch.connect(as_of) as con:
        completeness = recorded_completeness(con)
        blocked = [result.message for result in completeness if result.blocking]
        if blocked:  # a blocked source re-staged from the UI alone must not publish either
            raise dg.Failure(description=" ".join(blocked))
        staging = {source: source_counts(con, source) for source in SOURCES}
        written: dict[str, int] = {}  # each CSV's rows
        changes: dict[tuple[str, str], int] = {}  # entries of changes.csv by list and change
        removed: list[str] = []  # as-of dates whose work database was removed
        indexes_removed: list[str] = []  # in a province: as-of dates whose person index of this city went
        visit_progress = visit_progress_frame(con, period)
        linked = ledger(con).get(LINKED_UNIT)
        carried = carried_from(linked, aidmatch.output_path, code_version(), fingerprint())
        stamped = bool(
            carried
            and linked
            and still_stamped(carried[0], recorded_stamp(con, linked.copied_from, PERSON_LINKS_CSV))
        )
        carried_over: list[str] = []  # the files taken from the night the linked tables came from

        def write(folder: Path) -> None:
            # The workbooks are written (Polars and zlib, `machine.workers` at once) while
            # DuckDB writes the CSVs (the ten-million-row person_links.csv among them) and gathers the
            # report's figures without holding the interpreter lock; each CSV is hashed as soon as it is
            # written, beside the next one's writing, the workbooks as their bytes are written.
            hashed: dict[str, Future[FileEntry]] = {}
            carrying: dict[str, Future[FileEntry | None]] = {}  # person_links.csv taken from a night before
            with ThreadPoolExecutor(max_workers=1) as pool, ThreadPoolExecutor(max_workers=1) as hasher:

                def hash_csv(name: str) -> None:
                    hashed[name] = hasher.submit(file_entry, folder / name, written[name])

                def csv(name: str, select_sql: str) -> None:
                    if name == PERSON_LINKS_CSV and carried:
                        # the last night's file, verified by its hash beside the other writing; written
                        # again below when it is not what that night recorded
                        source, recorded = carried
                        written[name] = recorded.rows or 0
                        carrying[name] = hasher.submit(
                            carry_verified, source, folder / name, recorded, stamped
                        )
                        return
                    written[name] = write_csv(con, select_sql, folder / name)
                    hash_csv(name)

                workbooks = pool.submit(
                    _write_workbooks,
                    _workbooks(con, aidmatch, period, visit_progress, folder, written),
                    folder,
                    aidmatch.settings.machine.workers,
                )
                for name in list(written):  # the feedback CSVs, written with their workbooks' rows
                    hash_csv(name)
                for output in OUTPUT_FILES:
                    csv(f"{output.name}.csv", output.select_sql)
                current = {output.name: output.select_sql for output in LISTS}
                csv("changes.csv", changes_sql(current, previous))
                create_audit_tables(con)
                csv("decisions_applied.csv", csv_select(DECISIONS_APPLIED, f"({DECISIONS_APPLIED_SQL})"))
                # The report's figures are DuckDB queries too: gathered while the workbooks are written.
                run_id = context.run.run_id
                figures = gather_figures(
                    con,
                    as_of,
                    aidmatch.settings.linking,
                    folder / "changes.csv",
                    aidmatch.output_path,
                    previous.name if previous else None,
                    visit_progress.to_dicts(),
                )
                changes.update(((c["list"], c["change"]), c["entries"]) for c in figures.changes)
                carried_entries = {name: carry.result() for name, carry in carrying.items()}
                for name, entry in carried_entries.items():
                    if entry is None:
                        written[name] = write_csv(con, PERSON_LINKS.select_sql, folder / name)
                        hash_csv(name)
                    else:
                        carried_over.append(name)
                write_report(folder / REPORT_FILE, figures, run_id, code_version())
                write_package(folder)
                entries = {name: future.result() for name, future in hashed.items()}
                entries |= {name: entry for name, entry in carried_entries.items() if entry is not None}
                entries |= workbooks.result()
            entries |= {name: file_entry(folder / name, None) for name in (REPORT_FILE, PACKAGE_FILE)}
            # Everything else is written: the work databases past retention go now, so the manifest
            # says exactly what was removed.
            keep = aidmatch.settings.run.keep_work_databases
            removed.extend(remove_expired_work_databases(aidmatch.work_path, as_of, keep))
            if aidmatch.city:
                indexes_removed.extend(
                    remove_expired_person_indexes(aidmatch.exchange_root, aidmatch.city, as_of, keep)
                )
            outputs = output_section(folder, entries)
            instance = context.instance
            published_at = time.time()
            paths = paths_in_force(aidmatch.input_path, aidmatch.output_path, aidmatch.work_path)
            write_manifest(
                folder / "manifest.json",
                as_of=as_of,
                run_id=run_id,
                code_version=code_version(),
                started_at=timestamp(run_start_time(instance, run_id)),
                published_at=timestamp(published_at),
                paths=paths,
                previous_as_of=previous.name if previous else None,
                steps=steps_section(step_times(instance, run_id), published_at),
                inputs=input_section(con, staging),
                completeness=manifest_section(completeness),
                checks=check_results(instance, run_id),
                outputs=outputs,
                config=config_echo(aidmatch.settings.as_dict(), paths),
                work_databases_removed=removed,
                person_indexes_removed=indexes_removed,
                report={"file": REPORT_FILE, "figures": figures.for_manifest()},
                output_schema={"version": SCHEMA_VERSION, "file": PACKAGE_FILE, "fingerprint": fingerprint()},
                decisions=decisions_section(con, str(aidmatch.decisions_path.resolve())),
                reused=reused_tonight(con, as_of),
                **{LINKED_VERSION_KEY: linked.data_version if linked else None},
            )

        target = publish_atomically(aidmatch.output_path, as_of, write, aidmatch.output_modes)
        record_stamp(con, as_of, target / PERSON_LINKS_CSV)  # the next night takes it by this stamp
        if remove_blocked_feedback(aidmatch.output_path, as_of):  # its feedback is published now
            tell(
                context.log, f"removed {feedback_folder(aidmatch.output_path, as_of)}: superseded by {target}"
            )
    changes_said = _changes_metadata(changes, previous)
    visits = _visit_metadata(visit_progress, period)
    tell(context.log, f"published {len(written)} csv files, the workbooks and manifest.json to {target}")
    tell(context.log, f"changes: {changes_said['changes since previous run']}")
    if carried_over and linked:
        unread = " (its file unchanged since, by its stamp: not read again)" if stamped else ""
        tell(
            context.log,
            f"{', '.join(carried_over)} taken from {linked.copied_from}: the same linked tables{unread}",
        )
    return dg.MaterializeResult(
        metadata={
            "folder": dg.MetadataValue.path(str(target.resolve())),
            "report": dg.MetadataValue.url((target / REPORT_FILE).resolve().as_uri()),
            "output schema": f"{PACKAGE_FILE} version {SCHEMA_VERSION} (docs/outputs.md)",
            "previous_as_of": previous.name if previous else "(none: first run)",
            "work databases removed": ", ".join(removed) or "(none)",
            **{f"rows {name}": n for name, n in written.items()},
            **changes_said,
            **visits,
            "changes by list": metadata_table(
                [{"list": n, "change": c, "entries": e} for (n, c), e in sorted(changes.items())],
                ["list", "change", "entries"],
            ),
        }
    )


def published_outputs_asset(nights: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    return dg.asset(
        name="published_outputs",
        group_name="publish",
        deps=[
            *LIST_SPECS,
            "core_person_links",
            "core_review_queue",
            "decisions",
            *(f"staged_{s}" for s in SOURCES),
        ],
        partitions_def=nights,
        description="`OUTPUT/<as-of>/`: the lists (CSV and printable xlsx), the employers' view of the 单位吸纳 "
        "subsidy, 民政's and 残联's workbooks, changes, person links, review queue, "
        "quarantine, the departments' feedback sheets, the monthly progress table, the decision forms and what the "
        "decisions did, the run report (`report.html`), the contract (`datapackage.json`) and `manifest.json`.",
        kinds={"csv", "excel", "html", "json"},
        owners=OWNERS["publish"],
        tags=table_tags("publish", True),
    )(published_outputs)
