"""Completeness (SPEC section 2): is tonight's extract of a source whole enough to decide on absences?

BASIS_ENDED, 零就业家庭, OUTREACH and RETIREMENT_AGE rest on a record *not* being there, so an empty
or half-delivered extract does not fail quietly: it produces confident, wrong lists. A source with no
data rows, or whose rows fall by more than `completeness.max_row_drop` against the last published run,
is blocked — unless the operator confirms that night's drop (`--accept-drop SOURCE` or
`completeness.accept_drop`), and then the manifest says so.

The count compared is rows read: data rows of every file of the source, after blank and footer rows
(合计, 制表人) are skipped, before any row rule. Rejected rows still arrived; their quality is the row
rules' business (`row_rules`), not completeness'. It is the `rows_read` every manifest already holds
under `inputs.<source>`, so the last published run's count costs one small JSON read and tonight's is
the readers' own tally: no table is scanned.

Rows are not all: a contribution extract of full size can still be old. Whether somebody is employed
rests on contributions in the look-back months (`rules.lookback_months` before the as-of's month), so the
newest well-filled 费款所属期 of `si_contributions` — the newest month holding at least half the median
month's rows, so that a few late postings do not pass for a month — must reach the first of those months:
an extract that stops before them (`stale`) would call every insured worker unemployed. It is blocked, and
confirmed the same way.

The last published run is the one `publish.changes.previous_run` finds: the newest published folder
dated *before* the as-of. A re-run of the same as-of is compared with the night before, not with its
own earlier output; a re-run of an old as-of with the run before it, not with a later one.

This module holds the plain logic and the verdicts' table in the run's DuckDB database (written by the
ingest step, read by the publish step for the manifest: one source of truth). Dagster wiring lives in
`assets/ingest.py` and `checks/source_checks.py`.
"""

import json
from dataclasses import asdict, dataclass, replace
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import duckdb
import polars as pl

from aidmatch.publish.changes import previous_run
from aidmatch.rules.retirement import add_months
from aidmatch.sources.dates import parse_months
from aidmatch.sources.tables import SOURCE_LABELS

Verdict = Literal["ok", "empty", "dropped", "stale"]

TABLE = "completeness"
_COLUMNS = (
    "source VARCHAR PRIMARY KEY, rows BIGINT, previous_rows BIGINT, previous_as_of VARCHAR, "
    "max_row_drop DOUBLE, accepted_by VARCHAR, newest_month VARCHAR, first_lookback_month VARCHAR"
)
# The source whose months are checked, and its raw 费款所属期 column.
MONTHLY_SOURCE, MONTH_COLUMN = "si_contributions", "period"
# A month is well filled with at least this share of the median month's rows.
WELL_FILLED_SHARE = 0.5


def newest_well_filled_month(con: duckdb.DuckDBPyConnection, raw_table: str) -> str | None:
    """The newest 费款所属期 (YYYY-MM) of the raw table holding at least `WELL_FILLED_SHARE` of the median
    month's rows; None when no cell parses as a month. Distinct cells are parsed, not rows."""
    cells = con.sql(f'SELECT "{MONTH_COLUMN}" AS raw, count(*) AS rows FROM {raw_table} GROUP BY ALL').pl()
    months = (
        cells.with_columns(month=parse_months(cells["raw"]))
        .drop_nulls("month")
        .group_by("month")
        .agg(pl.col("rows").sum())
    )
    if months.is_empty():
        return None
    filled = months.filter(pl.col("rows") >= WELL_FILLED_SHARE * pl.col("rows").median())
    return filled["month"].max().strftime("%Y-%m")


def first_lookback_month(as_of: date, lookback_months: int) -> str:
    """YYYY-MM of the first of the `lookback_months` calendar months before the as-of's month."""
    return add_months(as_of.replace(day=1), -lookback_months).strftime("%Y-%m")


@dataclass(frozen=True)
class PublishedRun:
    """The last published run before this as-of, and the rows it read per source (from its manifest)."""

    as_of: str
    rows_read: dict[str, int]


def last_published_run(output_root: Path, as_of: str) -> PublishedRun | None:
    """The newest published run dated before `as_of`, or None on the first night.

    A manifest that is unreadable or lacks a source's count gives no count for it: that source then
    only has to be non-empty (a missing baseline must not block a night, nor invent one).
    """
    folder = previous_run(output_root, as_of)
    if folder is None:
        return None
    try:
        inputs = json.loads((folder / "manifest.json").read_text(encoding="utf-8")).get("inputs", {})
    except (OSError, ValueError, AttributeError):
        inputs = {}
    counts = {
        source: section["rows_read"]
        for source, section in inputs.items()
        if isinstance(section, dict) and isinstance(section.get("rows_read"), int)
    }
    return PublishedRun(folder.name, counts)


@dataclass(frozen=True)
class Completeness:
    """One source's count tonight against the last published run, and the operator's confirmation."""

    source: str
    rows: int
    previous_rows: int | None  # None: no published run (or no count in it) to compare with
    previous_as_of: str | None
    max_row_drop: float
    accepted_by: str | None = None  # "command line" / "configuration" when the operator confirmed a drop
    newest_month: str | None = None  # MONTHLY_SOURCE: its newest well-filled 费款所属期, YYYY-MM
    first_lookback_month: str | None = None  # MONTHLY_SOURCE: the first month the rules look back to

    @property
    def change_share(self) -> float | None:
        """(rows − previous) / previous: −1.0 for an extract gone empty, 0.1 for 10% more rows."""
        if not self.previous_rows:
            return None
        return (self.rows - self.previous_rows) / self.previous_rows

    @property
    def verdict(self) -> Verdict:
        if self.rows == 0:
            return "empty"
        if self.previous_rows:
            # Exact arithmetic: a fall of exactly the allowed share (480 → 384 at 20%) passes.
            fall = Fraction(self.previous_rows - self.rows, self.previous_rows)
            if fall > Fraction(str(self.max_row_drop)):
                return "dropped"
        if self.newest_month and self.first_lookback_month and self.newest_month < self.first_lookback_month:
            return "stale"
        return "ok"

    @property
    def accepted(self) -> bool:
        """The source fell (or is empty) and the operator confirmed it for this run."""
        return self.verdict != "ok" and self.accepted_by is not None

    @property
    def blocking(self) -> bool:
        return self.verdict != "ok" and self.accepted_by is None

    @property
    def message(self) -> str:
        """One paragraph for the operator: the counts (or months), the limit, and what to do. No rows."""
        source, limit = self.source, _percent(self.max_row_drop)
        label = SOURCE_LABELS.get(source, source)
        if self.verdict == "stale":
            newest, first = self.newest_month, self.first_lookback_month
            found = (
                f"{source}: the newest month with contributions in it (费款所属期) is {newest}, before {first}, "
                f"the first month the rules look back to: every insured worker would be taken for unemployed."
            )
            zh = f"{label}：最新费款所属期为 {newest}，早于比对所需的 {first}。"
            check = "The extract is out of date or misfiled: ask the department for the current one. If it is right,"
            check_zh = "数据可能过期或放错文件，请向报送部门索取最新数据；如确无误，"
        else:
            english, chinese = self._comparison(limit)
            if self.verdict == "ok":
                rule = (
                    "only an empty extract" if self.change_share is None else f"a fall of more than {limit}"
                )
                return f"{source}: {self.rows} data rows tonight {english}; {rule} stops the run."
            if self.verdict == "empty":
                english += f": the {source}/ files hold a header at most"
            found = f"{source}: {self.rows} data rows tonight {english}."
            zh = f"{label}：本次 {self.rows} 行数据，{chinese}。"
            check = (
                f"The extract may be incomplete or misfiled: check the {source}/ files with the department. "
                "If the drop is real,"
            )
            check_zh = "数据可能不完整或放错文件夹，请与报送部门核对；如确属实际减少，"
        if self.accepted_by is not None:
            return (
                f"{found} Accepted by the operator ({self.accepted_by}) and recorded in manifest.json; "
                f"the lists reflect this extract. {zh}已由操作员确认（{_ZH_WHO[self.accepted_by]}）。"
            )
        return (
            f"{found} {check} rerun with --accept-drop {source} (or set completeness.accept_drop in the "
            f"configuration). {zh}{check_zh}请加 --accept-drop {source} 重新运行。"
        )

    def _comparison(self, limit: str) -> tuple[str, str]:
        """The previous count and the change, in English and in Chinese, e.g. "against 480 in the run
        published for 2026-11-21 (a fall of 50%, more than the 20% allowed)": the limit only once passed."""
        if self.previous_as_of is None:
            return "with no earlier published run to compare with", "无可比较的已发布批次"
        if self.previous_rows is None:
            return (
                f"with no count for it in the run published for {self.previous_as_of}",
                f"上次发布（{self.previous_as_of}）无此来源行数",
            )
        english = f"against {self.previous_rows} in the run published for {self.previous_as_of}"
        chinese = f"上次发布（{self.previous_as_of}）为 {self.previous_rows} 行"
        share = self.change_share
        if share is None or share == 0:
            return english + ("" if share is None else " (no change)"), chinese
        change = _percent(abs(share))
        english += f" (a {'fall' if share < 0 else 'rise'} of {change}"
        chinese += f"，{'下降' if share < 0 else '增加'} {change}"
        if self.verdict != "ok":
            english += f", more than the {limit} allowed"
            chinese += f"，超过允许的 {limit}"
        return english + ")", chinese


_ZH_WHO = {"command line": "命令行", "configuration": "配置文件"}


def _percent(share: float) -> str:
    """0.2 → "20%", 0.204 → "20.4%": a fall just past the limit must not read as the limit itself."""
    return f"{round(share * 100, 1):g}%"


def assess(
    source: str,
    rows: int,
    previous: PublishedRun | None,
    max_row_drop: float,
    accepted_drops: dict[str, str],
    months: tuple[str | None, str] | None = None,
) -> Completeness:
    """The verdict for `source` with `rows` data rows tonight (and, for `MONTHLY_SOURCE`, `months`: its
    newest well-filled month and the first look-back month); `accepted_drops` maps a source to who
    confirmed its drop. A confirmation is kept only where there is a drop to confirm."""
    newest, first = months or (None, None)
    counted = Completeness(
        source=source,
        rows=rows,
        previous_rows=previous.rows_read.get(source) if previous else None,
        previous_as_of=previous.as_of if previous else None,
        max_row_drop=max_row_drop,
        newest_month=newest,
        first_lookback_month=first,
    )
    if counted.verdict == "ok" or source not in accepted_drops:
        return counted
    return replace(counted, accepted_by=accepted_drops[source])


def _table(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Create the run's `completeness` table if need be; its column names."""
    con.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} ({_COLUMNS})")
    return [c.split()[0] for c in _COLUMNS.split(", ")]


def record_completeness(con: duckdb.DuckDBPyConnection, result: Completeness) -> None:
    """Replace the source's row of the run's `completeness` table (the manifest reads it back)."""
    _table(con)
    row = asdict(result)
    con.execute(
        f"INSERT OR REPLACE INTO {TABLE} BY NAME SELECT {', '.join(f'${k} AS {k}' for k in row)}", row
    )


def recorded_completeness(con: duckdb.DuckDBPyConnection) -> list[Completeness]:
    """The verdicts the ingest step recorded for this as-of, one per source read."""
    names = _table(con)
    return [
        Completeness(**dict(zip(names, row, strict=True)))
        for row in con.execute(f"SELECT {', '.join(names)} FROM {TABLE} ORDER BY source").fetchall()
    ]


def manifest_section(results: list[Completeness]) -> dict[str, Any]:
    """manifest.json `completeness`: each source's counts and verdict, and the drops accepted this run."""
    return {
        "accepted_drops": [r.source for r in results if r.accepted],
        "sources": {
            r.source: {
                "rows": r.rows,
                "previous_rows": r.previous_rows,
                "previous_as_of": r.previous_as_of,
                "change_share": None if r.change_share is None else round(r.change_share, 4),
                "max_row_drop": r.max_row_drop,
                "verdict": r.verdict,
                **(
                    {"newest_month": r.newest_month, "first_lookback_month": r.first_lookback_month}
                    if r.source == MONTHLY_SOURCE
                    else {}
                ),
                "accepted": r.accepted,
                "accepted_by": r.accepted_by,
            }
            for r in results
        },
    }
