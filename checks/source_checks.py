"""Asset-check results for the ingest assets: what the data stewards see in the Dagster UI.

Each function turns a plain result (a read error, the read reports, a staging result, a Pandera
validation) into an `AssetCheckResult` whose metadata answers a steward's questions: which file,
which rule, how many rows, is it blocking. No personal data goes into metadata — counts and rule
names only; the rows themselves are in quarantine.csv.
"""

from dataclasses import dataclass
from typing import Any

import dagster as dg
import duckdb
import pandera.errors
import polars as pl

from aidmatch.checks.completeness import Completeness
from aidmatch.checks.freshness import Freshness
from aidmatch.checks.schemas import staged_schema
from aidmatch.checks.stage_source import StagingResult
from aidmatch.metadata import metadata_table
from aidmatch.sources.readers import FileReport, SourceReadError

WARN = dg.AssetCheckSeverity.WARN
ERROR = dg.AssetCheckSeverity.ERROR


def files_readable_result(
    source: str, reports: list[FileReport] | None = None, error: SourceReadError | None = None
) -> dg.AssetCheckResult:
    """Structural check: the folder exists, every entry is read or ignored with a note (none refused),
    every file reads, every required column is there (blocking ERROR otherwise); WARN when a file read holds
    no data row. Every entry is listed with its status and reason."""
    reports = error.reports if error is not None else (reports or [])
    counts = {
        f"files_{status}": sum(1 for r in reports if r.status == status)
        for status in ("read", "ignored", "refused")
    }
    per_file = metadata_table(
        [
            {
                "file": r.file,
                "status": r.status,
                "reason": r.reason,
                "encoding": r.encoding,
                "rows_read": r.rows_read,
                "skipped_blank": r.rows_skipped_blank,
                "skipped_footer": r.rows_skipped_footer,
                "extra_columns": "、".join(r.unmapped_columns),
            }
            for r in reports
        ]
    )
    unknown = _unknown_headers(reports)
    if error is not None:
        return dg.AssetCheckResult(
            asset_key=f"raw_{source}",
            check_name="files_readable",
            passed=False,
            severity=ERROR,
            description=str(error),
            metadata={
                "source": source,
                "file": error.file or "",
                "blocking": True,
                **counts,
                "per_file": per_file,
                "headers no column map knows": unknown,
            },
        )
    empty = _without_rows(reports)
    return dg.AssetCheckResult(
        asset_key=f"raw_{source}",
        check_name="files_readable",
        passed=not empty,
        severity=WARN,
        description=files_summary(source, reports),
        metadata={
            **counts,
            "files_without_rows": len(empty),
            "rows_read": sum(r.rows_read for r in reports),
            "per_file": per_file,
            "headers no column map knows": unknown,
        },
    )


def _unknown_headers(reports: list[FileReport]) -> dg.TableMetadataValue:
    """Every header the column map does not know, with the files that carry it: what a new export brought
    (an extra column, or a column under a name to add to sources/column_maps.yaml)."""
    files: dict[str, list[str]] = {}
    for report in reports:
        for header in report.unmapped_columns:
            files.setdefault(header, []).append(report.file.split("/", 1)[1])
    return metadata_table(
        [
            {"header": header, "files": len(names), "in": "、".join(names)}
            for header, names in sorted(files.items(), key=lambda item: (-len(item[1]), item[0]))
        ],
        ["header", "files", "in"],
    )


def _without_rows(reports: list[FileReport]) -> list[str]:
    """The files read that hold no data row (a header at most): a district's export that failed, most
    likely — named to the operator, since the source's total may still pass the completeness rule."""
    return [r.file.split("/", 1)[1] for r in reports if r.status == "read" and r.rows_read == 0]


def files_summary(source: str, reports: list[FileReport]) -> str:
    """One line for the terminal: what was read (a folder is no file), what was ignored and why.

    `unemployment: read 1,204 rows from 4 files (1 in a subfolder), ignored 1 (~$海淀区.xlsx: Office lock file …)`
    """
    read = [r for r in reports if r.status == "read"]
    nested = sum(1 for r in read if r.file.count("/") > 1)
    rows = sum(r.rows_read for r in read)
    line = f"{source}: read {rows:,} rows from {len(read)} file{'' if len(read) == 1 else 's'}"
    line += f" ({nested} in a subfolder)" if nested else ""
    for status in ("ignored", "refused"):
        entries = [r for r in reports if r.status == status]
        if entries:
            notes = "; ".join(f"{r.file.split('/', 1)[1]}: {r.reason}" for r in entries)
            line += f", {status} {len(entries)} ({notes})"
    noted = [f"{r.file.split('/', 1)[1]}: {r.reason}" for r in read if r.reason]
    line += f"; note: {'; '.join(noted)}" if noted else ""
    empty = _without_rows(reports)
    return line + (f"; no data rows in {', '.join(empty)} (an export that failed?)" if empty else "")


def row_rules_result(result: StagingResult, max_rate: float) -> dg.AssetCheckResult:
    """Row-level failures: WARN while the blocking rate is tolerable, blocking ERROR past `max_rate`.

    The steward's table is one row per rule and file, with the rule's Chinese name, whether it counts
    toward the blocking rate, and the first rows to open (`source_record`s: file, sheet, row)."""
    too_many = result.blocking_rate > max_rate
    if too_many:
        verdict = (
            f"{result.source}: {result.blocking_rate:.1%} of rows rejected or kept with a defect, over the "
            f"limit of {max_rate:.0%} — blocking: fix the extract (see quarantine.csv) or raise "
            "validation.max_quarantine_rate."
        )
    else:
        verdict = (
            f"{result.source}: {result.rows_rejected} rows rejected, {result.rows_flagged} kept with a flag; "
            f"{result.blocking_rate:.1%} count toward the blocking limit of {max_rate:.0%} — not blocking."
        )
    failures = [
        {
            "规则": f.label,
            "rule": f.rule,
            "file": f.file,
            "rows": f.rows,
            # the row (and sheet) of each, after the file's name: `:6, :18` or `#Sheet1:10, #Sheet1:12`
            "first rows": ", ".join(record.removeprefix(f.file) for record in f.first_records),
            "counts toward block": "no (notice)" if f.notice else "yes",
            "action": f.action,
        }
        for f in result.failures
    ]
    columns = ["规则", "rule", "file", "rows", "first rows", "counts toward block", "action"]
    return dg.AssetCheckResult(
        asset_key=f"staged_{result.source}",
        check_name="row_rules",
        passed=result.rows_rejected + result.rows_flagged == 0,
        severity=ERROR if too_many else WARN,
        description=verdict,
        metadata={
            "rows_read": result.rows_read,
            "rows_rejected": result.rows_rejected,
            "rows_flagged": result.rows_flagged,
            "rows_counted_toward_block": result.rows_blocking,
            "blocking_rate": round(result.blocking_rate, 4),
            "quarantine_rate": round(result.quarantine_rate, 4),
            "max_quarantine_rate": max_rate,
            # sorts after the counts in the UI, which lists metadata by name
            "stewards' table: rule × file": metadata_table(failures, columns),
        },
    )


# Tables larger than this are validated on a repeatable sample of about this many rows: the schema
# (columns, order, types) is the same for every row, and a staging bug that breaks values shows in any
# sample of this size, while 10M contribution rows in memory would not be cheap. The sample takes
# whole vectors of rows (DuckDB `system` sampling): a reservoir sample reads every row (5 s on 10M).
SCHEMA_SAMPLE_ROWS = 200_000


@dataclass(frozen=True)
class SchemaFindings:
    """What validating a staged table against its Pandera schema found: the rows validated and, per column
    and check, how many failed (none: it passed). Kept with the staged table's ledger row (`assets/ingest.py`):
    a night that reuses the table reports them again rather than validating the same rows again."""

    rows_validated: int
    failures: list[dict[str, Any]]  # {"column", "check", "rows"}, most rows first


def validate_staged(con: duckdb.DuckDBPyConnection, source: str) -> SchemaFindings:
    """`staged_<source>` (a sample of it past SCHEMA_SAMPLE_ROWS) against its Pandera schema."""
    table = f"staged_{source}"
    rows = con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    sample = (
        f" USING SAMPLE {100 * SCHEMA_SAMPLE_ROWS / rows:.6f}% (system, 7)"
        if rows > SCHEMA_SAMPLE_ROWS
        else ""
    )
    frame = con.sql(f"SELECT * FROM {table}{sample}").pl()
    try:
        staged_schema(source).validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as errors:
        cases = (
            pl.from_pandas(errors.failure_cases)
            if not isinstance(errors.failure_cases, pl.DataFrame)
            else (errors.failure_cases)
        )
        summary = cases.group_by("column", "check").len().sort("len", descending=True)
        failures = [{"column": str(c), "check": str(k), "rows": n} for c, k, n in summary.iter_rows()]
        return SchemaFindings(frame.height, failures)
    return SchemaFindings(frame.height, [])


def schema_result(source: str, findings: SchemaFindings) -> dg.AssetCheckResult:
    """The staged table against its schema; failure cases summarised per column and check."""
    table = f"staged_{source}"
    if findings.failures:
        return dg.AssetCheckResult(
            asset_key=table,
            check_name="schema",
            passed=False,
            severity=ERROR,
            description=f"staged_{source} does not match its declared schema: a bug in staging, not in the data.",
            metadata={"failures": metadata_table(findings.failures)},
        )
    return dg.AssetCheckResult(
        asset_key=table,
        check_name="schema",
        passed=True,
        metadata={"rows_validated": findings.rows_validated},
    )


def complete_result(result: Completeness) -> dg.AssetCheckResult:
    """Completeness against the last published run: blocking ERROR for an empty, fallen or out-of-date
    extract, WARN
    once the operator accepted it (still shown, never silent). Counts only: plotted night over night."""
    metadata: dict[str, object] = {
        "rows": result.rows,
        "max_row_drop": result.max_row_drop,
        "verdict": result.verdict,
        "accepted": result.accepted,
        "blocking": result.blocking,
    }
    if result.previous_rows is not None:
        metadata |= {"previous_rows": result.previous_rows, "previous_as_of": result.previous_as_of}
    if result.change_share is not None:
        metadata["change_share"] = round(result.change_share, 4)
    if result.newest_month is not None:
        metadata |= {"newest_month": result.newest_month, "first_lookback_month": result.first_lookback_month}
    return dg.AssetCheckResult(
        asset_key=f"raw_{result.source}",
        check_name="complete",
        passed=result.verdict == "ok",
        severity=WARN if result.accepted else ERROR,
        description=result.message,
        metadata=metadata,
    )


def fresh_result(result: Freshness) -> dg.AssetCheckResult:
    """The newest file's age at the as-of date's end: WARN past freshness.warn_days, ERROR (not blocking:
    a stale extract may still be whole) past freshness.error_days. File name and date only."""
    metadata: dict[str, object] = {
        "warn_days": result.warn_days,
        "error_days": result.error_days,
        "verdict": result.verdict,
    }
    if result.age_days is not None and result.newest_modified is not None:
        metadata |= {
            "age_days": round(result.age_days, 1),
            "newest_file": result.newest_file,
            "newest_modified": result.newest_modified.isoformat(timespec="seconds"),
        }
    return dg.AssetCheckResult(
        asset_key=f"raw_{result.source}",
        check_name="fresh",
        passed=result.verdict in ("fresh", "no_files"),
        severity=ERROR if result.verdict == "very_stale" else WARN,
        description=result.message,
        metadata=metadata,
    )
