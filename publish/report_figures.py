"""The figures of the run report, read from the run's DuckDB database and the previous manifests.

What belongs here: one query per figure, returning plain numbers and masked identifiers in a
`ReportFigures`; the page (`publish/report.py`) only lays them out. The figures are those of the files
published beside the report — list sizes, changes, links, the review queue, quarantine — so an analyst
can check one against the other. Trends come from the manifests of the previous published runs (their
`outputs` and `report.figures`), so a night's report needs no other history.
"""

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from aidmatch.decisions.audit import label_accuracy, status_counts
from aidmatch.matching.comparisons import COMPARISONS, parse_evidence
from aidmatch.matching.settings import LinkSettings
from aidmatch.publish.changes import published_nights
from aidmatch.publish.csv_files import published_csv
from aidmatch.sources.citizen_id import mask_citizen_id
from aidmatch.sources.tables import SOURCE_ROW_SQL, SOURCES, same_place_sql

SCORE_BIN_BITS = 2
TREND_RUNS = 30  # the last runs drawn in the trend, this one included
REVIEW_PAIRS_PER_KIND = 8  # waterfalls drawn per reason for review; the whole queue is in review_queue.csv
# The lists: table, the column that splits it (category / roll / status), whether rows carry reason codes.
LIST_TABLES = {
    "out_proactive": ("category", True),
    "out_removals": ("roll", True),
    "out_zero_employment_households": ("status", False),
    "out_entitlements": ("entitlement", False),
    "out_dibao_employment": ("finding", False),
    "out_households_at_risk": ("risk", False),
    "out_disability_employment": ("status", False),
}
# The figures kept in the manifest for the next nights' trend (manifest `report.figures`).
TREND_FIGURES = ("records", "link_rate", "persons", "review_rows", "quarantine_rows")


@dataclass(frozen=True)
class ReviewPair:
    source_record: str
    candidate: str  # masked citizen ID
    score: float
    levels: list[tuple[str, str, float]]  # (comparison, level, weight)
    method: str  # the record's link method: why the pair is in the queue


@dataclass(frozen=True)
class ReportFigures:
    as_of: str
    previous_as_of: str | None
    list_rows: dict[str, int]  # out table -> rows
    list_groups: list[dict[str, Any]]  # list, group, district (or ''), reason (or ''), rows
    group_rows: dict[tuple[str, str], int]  # (list, group) -> rows
    changes: list[dict[str, Any]]  # list, change, entries
    records: int
    linked: int
    persons: int
    methods: list[dict[str, Any]]  # source, method, records
    score_bins: list[tuple[float, dict[str, int]]]  # lower bound -> records per outcome
    no_candidate: int  # records with no candidate at all (no score)
    accept_threshold: float
    review_threshold: float
    weights: list[tuple[str, str, float, float, float]]  # comparison, level, m, u, weight
    review_rows: int
    review_pairs: list[ReviewPair]
    second_ids: list[dict[str, Any]]  # record_id, person_id (masked), records, first_record, score
    quarantine: list[dict[str, Any]]  # source, rule, action, rows
    decisions: dict[str, int]  # status of decisions_applied.csv -> decided rows
    visits: list[
        dict[str, Any]
    ]  # per district and street, then 合计: listed, visited, each outcome, to_visit
    label_accuracy: list[dict[str, Any]]  # method, confirmed, rejected, confirmed_share
    card_holders: list[dict[str, Any]]  # district (or ''), grade (0: not said), status, rows: 残联's counts
    on_removal_list: dict[str, int]  # partner list -> its rows whose person is on the removal list for work
    trend: list[dict[str, Any]]  # as_of, rows per list and the TREND_FIGURES, oldest first

    @property
    def link_rate(self) -> float:
        return round(self.linked / self.records, 4) if self.records else 0.0

    @property
    def quarantine_rows(self) -> int:
        return sum(row["rows"] for row in self.quarantine)

    def for_manifest(self) -> dict[str, Any]:
        """The figures a later night's report draws as a trend."""
        return {name: getattr(self, name) for name in TREND_FIGURES}


def _dicts(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    return con.sql(sql).pl().to_dicts()


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    return {name for (name,) in con.execute(f"SELECT column_name FROM (DESCRIBE {table})").fetchall()}


def list_groups(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Rows per list, group, district (when the list has one) and reason: a row with several reasons
    counts under each of them."""
    parts = []
    for table, (group, has_reasons) in LIST_TABLES.items():
        district = "coalesce(district, '')" if "district" in _columns(con, table) else "''"
        reason = "unnest(string_split(reasons, ';'))" if has_reasons else "''"
        parts.append(
            f"SELECT '{table}' AS list, {group} AS \"group\", {district} AS district, {reason} AS reason "
            f"FROM {table}"
        )
    return _dicts(
        con, f"SELECT *, count(*) AS rows FROM ({' UNION ALL '.join(parts)}) GROUP BY ALL ORDER BY ALL"
    )


def card_holders(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """残联's counts: card holders of working age per district, grade and status (their 就业率's figures)."""
    return _dicts(
        con,
        "SELECT coalesce(district, '') AS district, coalesce(disability_grade, 0) AS grade, status, "
        "count(*) AS rows FROM out_disability_employment GROUP BY ALL ORDER BY ALL",
    )


def on_removal_list(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """民政's members and the early warning's working members whose registration is on the removal list
    (unemployment roll) for their work: the rows whose evidence says so."""
    work = (
        "SELECT person_id FROM out_removals WHERE roll = 'unemployment' "
        "AND list_has_any(string_split(reasons, ';'), ['EMPLOYED', 'FLEXIBLY_EMPLOYED'])"
    )
    return {
        "out_dibao_employment": con.sql(
            f"SELECT count(*) FROM out_dibao_employment WHERE person_id IN ({work})"
        ).fetchall()[0][0],
        "out_households_at_risk": con.sql(
            f"SELECT count(*) FROM out_households_at_risk WHERE working_member_id IN ({work})"
        ).fetchall()[0][0],
    }


def _score_bins(con: duckdb.DuckDBPyConnection) -> list[tuple[float, dict[str, int]]]:
    """Records scored against a candidate person, by score bin and outcome — accepted links, the grey
    zone and the rejects alike. A record not linked by its own valid ID counts at its best score:
    `linked`, `review` (in the review queue) or `unlinked`; a record linked by its own ID that is in the
    review queue all the same (a lone ID near another person) counts at its candidate's score, `review`."""
    rows = con.sql(
        f"""
        WITH queue AS (
            SELECT source, source_record, max(score) AS score FROM core_review_queue GROUP BY ALL
        ),
        scored AS (
            SELECT CASE WHEN l.method = 'exact_id' THEN q.score ELSE l.score END AS score,
                   CASE WHEN l.method <> 'exact_id' AND l.person_id IS NOT NULL THEN 'linked'
                        WHEN q.source_record IS NOT NULL THEN 'review' ELSE 'unlinked' END AS outcome
            FROM (
                -- only links that can be counted: `source_record` is computed from the file, sheet and
                -- row, and matching the queue on it over ten million links took 2 CPU-seconds a night
                SELECT * FROM core_person_links
                WHERE method <> 'exact_id' OR source_row IN (SELECT {SOURCE_ROW_SQL} FROM queue)
            ) AS l LEFT JOIN queue AS q USING (source, source_record)
            WHERE l.method <> 'exact_id' OR q.source_record IS NOT NULL
        )
        SELECT floor(score / {SCORE_BIN_BITS}) * {SCORE_BIN_BITS} AS lower, outcome, count(*) AS records
        FROM scored WHERE score IS NOT NULL GROUP BY ALL ORDER BY ALL
        """
    ).fetchall()
    bins: dict[float, dict[str, int]] = {}
    for lower, outcome, records in rows:
        bins.setdefault(float(lower), {})[outcome] = records
    return sorted(bins.items())


def _levels(evidence: str, settings: LinkSettings) -> list[tuple[str, str, float]]:
    """(comparison, level, exact weight) from an evidence string `id=one_substitution(+10.0) …`."""
    return [
        (comparison, level, 0.0 if level == "missing" else settings.weight(comparison, level))
        for comparison, level, _ in parse_evidence(evidence)
    ]


def _second_ids(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Persons found under a second valid ID (the `fuzzy_second_id` method: a record with a valid ID of
    its own linked to another person), one row per (ID, person) with its records, IDs masked."""
    staged = " UNION ALL ".join(
        f"SELECT source, source_file, source_sheet, source_row, id_norm FROM staged_{source}"
        for source in SOURCES
    )
    # the few links first, then their records' own IDs, joined on the stored parts of source_record
    rows = con.sql(
        f"""
        WITH second AS (
            SELECT source, source_file, source_sheet, source_row, source_record, person_id, score
            FROM core_person_links WHERE method = 'fuzzy_second_id'
        )
        SELECT s.id_norm, l.person_id, count(*) AS records, min(l.source_record) AS first_record,
               max(l.score) AS score
        FROM second AS l JOIN ({staged}) AS s
          ON s.source = l.source AND {same_place_sql("s", "l")}
        GROUP BY ALL ORDER BY l.person_id, s.id_norm
        """
    ).fetchall()
    return [
        {
            "record_id": mask_citizen_id(own),
            "person_id": mask_citizen_id(person),
            "records": records,
            "first_record": first,
            "score": score,
        }
        for own, person, records, first, score in rows
    ]


def previous_figures(output_root: Path, as_of: str, limit: int) -> list[dict[str, Any]]:
    """Per published run before `as_of` (oldest first, the last `limit`): rows per output CSV and the
    trend figures its manifest recorded (absent from manifests written before the report existed)."""
    runs = []
    for folder in published_nights(output_root, as_of):
        path = folder / "manifest.json"
        if not path.is_file():
            continue
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a damaged old manifest leaves a gap in the trend, not a failed night
        outputs = manifest.get("outputs", {})
        rows = {
            name.removesuffix(".csv"): entry["rows"] if isinstance(entry, dict) else entry
            for name, entry in outputs.items()
            if name.endswith(".csv")
        }
        runs.append({"as_of": path.parent.name, **rows, **manifest.get("report", {}).get("figures", {})})
    return runs[-limit:]


def gather_figures(
    con: duckdb.DuckDBPyConnection,
    as_of: str,
    settings: LinkSettings,
    changes_csv: Path,
    output_root: Path,
    previous_as_of: str | None,
    visits: list[dict[str, Any]],
) -> ReportFigures:
    list_rows = {table: con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0] for table in LIST_TABLES}
    methods = _dicts(
        con, "SELECT source, method, count(*) AS records FROM core_person_links GROUP BY ALL ORDER BY ALL"
    )
    records = sum(row["records"] for row in methods)
    linked = sum(row["records"] for row in methods if not row["method"].startswith("unlinked:"))
    # The queue's kinds (why a record is in it: a tie, the grey zone, an ID under another name, a lone ID
    # near another person) each get their highest-scored pairs: one kind would fill the page otherwise.
    # The links are narrowed to the queue's row numbers before `source_record` (computed) is matched: over
    # ten million links that took 0.75 s a night, 0.08 s so.
    review = con.sql(
        f"""WITH queue AS (
                SELECT q.source, q.source_record, q.candidate_person_id, q.score, q.evidence, l.method,
                       row_number() OVER (
                           PARTITION BY l.method ORDER BY q.score DESC, q.source, q.source_record, q.candidate_person_id
                       ) AS place
                FROM core_review_queue AS q JOIN (
                    SELECT * FROM core_person_links
                    WHERE source_row IN (SELECT {SOURCE_ROW_SQL} FROM core_review_queue)
                ) AS l USING (source, source_record)
            )
            SELECT source_record, candidate_person_id, score, evidence, method FROM queue
            WHERE place <= {REVIEW_PAIRS_PER_KIND}
            ORDER BY method, score DESC, source, source_record, candidate_person_id"""
    ).fetchall()
    quarantine = " UNION ALL ".join(
        f"SELECT source, rule, action FROM quarantine_{source}" for source in SOURCES
    )
    figures = ReportFigures(
        as_of=as_of,
        previous_as_of=previous_as_of,
        list_rows=list_rows,
        list_groups=list_groups(con),
        group_rows={
            (table, group): n
            for table, (column, _) in LIST_TABLES.items()
            for group, n in con.sql(f"SELECT {column}, count(*) FROM {table} GROUP BY ALL").fetchall()
        },
        changes=_dicts(
            con,
            f"SELECT list, change, count(*) AS entries FROM {published_csv(changes_csv)} "
            "GROUP BY ALL ORDER BY ALL",
        ),
        records=records,
        linked=linked,
        persons=con.sql("SELECT count(*) FROM core_persons").fetchall()[0][0],
        methods=methods,
        score_bins=_score_bins(con),
        no_candidate=sum(
            row["records"] for row in methods if row["method"] == "unlinked:invalid_id_no_candidate"
        ),
        accept_threshold=settings.accept_threshold,
        review_threshold=settings.review_threshold,
        weights=[
            (
                c.name,
                level.name,
                *getattr(settings, f"{c.name}_{level.name}"),
                settings.weight(c.name, level.name),
            )
            for c in COMPARISONS
            for level in c.levels
        ],
        review_rows=con.sql("SELECT count(*) FROM core_review_queue").fetchall()[0][0],
        review_pairs=[
            ReviewPair(record, mask_citizen_id(candidate), score, _levels(evidence, settings), method)
            for record, candidate, score, evidence, method in review
        ],
        second_ids=_second_ids(con),
        quarantine=_dicts(
            con,
            f"SELECT source, rule, action, count(*) AS rows FROM ({quarantine}) GROUP BY ALL ORDER BY ALL",
        ),
        decisions=status_counts(con),
        visits=visits,
        label_accuracy=label_accuracy(con),
        card_holders=card_holders(con),
        on_removal_list=on_removal_list(con),
        trend=[],
    )
    current = {
        "as_of": as_of,
        "proactive": list_rows["out_proactive"],
        "removals": list_rows["out_removals"],
        "zero_employment_households": list_rows["out_zero_employment_households"],
        "entitlements": list_rows["out_entitlements"],
        "dibao_employment": list_rows["out_dibao_employment"],
        "disability_employment": list_rows["out_disability_employment"],
        "households_at_risk": list_rows["out_households_at_risk"],
        "review_queue": figures.review_rows,
        "quarantine": figures.quarantine_rows,
        **figures.for_manifest(),
    }
    trend = [*previous_figures(output_root, as_of, TREND_RUNS - 1), current]
    return dataclasses.replace(figures, trend=trend)
