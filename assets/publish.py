"""The publish asset: write `OUTPUT/<as-of>/` atomically — CSVs, xlsx lists, changes.csv, manifest.json."""

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl

from aidmatch.assets.lists import LIST_SPECS
from aidmatch.assets.partitions import as_of_partitions
from aidmatch.checks.completeness import manifest_section, recorded_completeness
from aidmatch.checks.stage_source import source_counts
from aidmatch.console import tell
from aidmatch.decisions.audit import DECISIONS_APPLIED_SQL, create_audit_tables
from aidmatch.decisions.audit import manifest_section as decisions_section
from aidmatch.metadata import OWNERS, metadata_table, table_tags
from aidmatch.publish.atomic import publish_atomically
from aidmatch.publish.changes import changes_sql, previous_run
from aidmatch.publish.csv_files import write_csv
from aidmatch.publish.decision_sheets import decision_form_frames, write_decision_forms
from aidmatch.publish.employer_view import employer_frames, write_employer_view
from aidmatch.publish.manifest import (
    config_echo,
    input_section,
    output_section,
    paths_in_force,
    steps_section,
    timestamp,
    write_manifest,
)
from aidmatch.publish.outputs import HEADERS, LISTS, OUTPUT_FILES, csv_select, labelled_for_people
from aidmatch.publish.report import REPORT_FILE, write_report
from aidmatch.publish.report_figures import gather_figures
from aidmatch.publish.retention import remove_expired_work_databases
from aidmatch.publish.xlsx_files import write_workbook
from aidmatch.resources import AidmatchResource
from aidmatch.rules.codes import LABELS
from aidmatch.run_record import check_results, run_start_time, step_times
from aidmatch.sources.tables import SOURCES
from aidmatch.tables.catalog import DECISIONS_APPLIED
from aidmatch.tables.contract import PACKAGE_FILE, SCHEMA_VERSION, fingerprint, write_package
from aidmatch.version import code_version


def _list_sheets(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, pl.DataFrame]]:
    """Each list's workbook as sheets: one per category, labelled for people."""
    workbooks = {}
    for output in LISTS:
        frame = con.sql(output.select_sql).pl()
        workbooks[output.name] = {
            LABELS.get(value, value): labelled_for_people(part)
            for (value,), part in frame.partition_by(
                output.sheet_by, as_dict=True, maintain_order=True
            ).items()
        } or {"（无）": frame}
    return workbooks


def _write_workbooks(workbooks: dict[str, dict[str, pl.DataFrame]], folder: Path) -> dict[str, int]:
    """Write each workbook; return its data rows over all sheets (headers not counted), by file name."""
    for name, sheets in workbooks.items():
        write_workbook(folder / f"{name}.xlsx", sheets, HEADERS)
    return {
        f"{name}.xlsx": sum(frame.height for frame in sheets.values()) for name, sheets in workbooks.items()
    }


@dg.asset(
    name="published_outputs",
    group_name="publish",
    deps=[
        *LIST_SPECS,
        "core_person_links",
        "core_review_queue",
        "decisions",
        *(f"staged_{s}" for s in SOURCES),
    ],
    partitions_def=as_of_partitions,
    description="`OUTPUT/<as-of>/`: the lists (CSV and xlsx), the employers' view of the 单位吸纳 subsidy, "
    "changes, person links, review queue, quarantine, the decision forms and what the decisions did, the run report (`report.html`), the contract "
    "(`datapackage.json`) and `manifest.json`.",
    kinds={"csv", "excel", "html", "json"},
    owners=OWNERS["publish"],
    tags=table_tags("publish", True),
)
def published_outputs(context: dg.AssetExecutionContext, aidmatch: AidmatchResource) -> dg.MaterializeResult:
    as_of = context.partition_key
    previous = previous_run(aidmatch.output_path, as_of)
    with aidmatch.connect(as_of) as con:
        completeness = recorded_completeness(con)
        blocked = [result.message for result in completeness if result.blocking]
        if blocked:  # a blocked source re-staged from the UI alone must not publish either
            raise dg.Failure(description=" ".join(blocked))
        staging = {source: source_counts(con, source) for source in SOURCES}
        written: dict[str, int] = {}
        removed: list[str] = []  # as-of dates whose work database was removed

        def write(folder: Path) -> None:
            # openpyxl (Python, one core) writes the workbooks while DuckDB writes the CSVs (the
            # ten-million-row person_links.csv among them) without holding the interpreter lock.
            with ThreadPoolExecutor(max_workers=1) as pool:
                workbooks = pool.submit(_write_workbooks, _list_sheets(con), folder)
                forms = pool.submit(write_decision_forms, decision_form_frames(con), folder)
                employers = pool.submit(
                    write_employer_view,
                    employer_frames(con),
                    folder,
                    aidmatch.settings.publish.workbook_per_employer,
                )
                for output in OUTPUT_FILES:
                    written[f"{output.name}.csv"] = write_csv(
                        con, output.select_sql, folder / f"{output.name}.csv"
                    )
                current = {output.name: output.select_sql for output in LISTS}
                written["changes.csv"] = write_csv(
                    con, changes_sql(current, previous), folder / "changes.csv"
                )
                create_audit_tables(con)
                written["decisions_applied.csv"] = write_csv(
                    con,
                    csv_select(DECISIONS_APPLIED, f"({DECISIONS_APPLIED_SQL})"),
                    folder / "decisions_applied.csv",
                )
                workbook_rows = workbooks.result() | forms.result() | employers.result()
            run_id = context.run.run_id
            figures = gather_figures(
                con,
                as_of,
                aidmatch.settings.linking,
                folder / "changes.csv",
                aidmatch.output_path,
                previous.name if previous else None,
            )
            write_report(folder / REPORT_FILE, figures, run_id, code_version())
            write_package(folder)
            # Everything else is written: the work databases past retention go now, so the manifest
            # says exactly what was removed.
            removed.extend(
                remove_expired_work_databases(
                    aidmatch.work_path, as_of, aidmatch.settings.run.keep_work_databases
                )
            )
            outputs = output_section(
                folder, written | workbook_rows | {REPORT_FILE: None, PACKAGE_FILE: None}
            )
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
                report={"file": REPORT_FILE, "figures": figures.for_manifest()},
                output_schema={"version": SCHEMA_VERSION, "file": PACKAGE_FILE, "fingerprint": fingerprint()},
                decisions=decisions_section(con, str(aidmatch.decisions_path.resolve())),
            )

        target = publish_atomically(aidmatch.output_path, as_of, write, aidmatch.output_modes)
        changes_csv = str(target / "changes.csv").replace("'", "''")
        changes = (
            con.sql(
                f"SELECT list, change, count(*) AS entries FROM read_csv('{changes_csv}', all_varchar = true) "
                "GROUP BY ALL ORDER BY ALL"
            )
            .pl()
            .to_dicts()
        )
    tell(context.log, f"published {len(written)} csv files, the xlsx lists and manifest.json to {target}")
    return dg.MaterializeResult(
        metadata={
            "folder": dg.MetadataValue.path(str(target.resolve())),
            "report": dg.MetadataValue.url((target / REPORT_FILE).resolve().as_uri()),
            "output schema": f"{PACKAGE_FILE} version {SCHEMA_VERSION} (docs/outputs.md)",
            "previous_as_of": previous.name if previous else "(none: first run)",
            "work databases removed": ", ".join(removed) or "(none)",
            **{f"rows {name}": n for name, n in written.items()},
            "changes since previous run": metadata_table(changes, ["list", "change", "entries"]),
        }
    )
