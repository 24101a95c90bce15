"""What every decision did tonight: `decisions_applied.csv`, the manifest's `decisions` section, the UI.

One row per decided row of the decision files, whatever became of it: `applied`, `orphaned` (its record
key names no record tonight: reported every night, never dropped), `expired` / `evidence_changed` (a
keep or a visit that no longer holds: the removal is back on the list, the person back on the street's
走访 sheet), `confirmed` (an 退出), `not_on_list` (a keep whose registration is not on that roll's removal
list tonight, a visit whose person is not on the proactive list), `superseded` (a visit with a later one
of the same person), or `quarantined` (the row breaks a rule of `intake.py`, or a visit's ID names nobody
tonight: `rule` and `message` say which). `proposed_method` is the method the linker gave
the decided pair — the labels that measure each method's accuracy (Splink's accuracy from labels).
"""

from typing import Any

import duckdb

# The `status` codes of decisions_applied.csv, for the case systems' contract.
STATUSES: dict[str, str] = {
    "applied": "the decision holds tonight: the link is made or removed, the registration kept off the list",
    "orphaned": "its record key names no record tonight (reported every night, never dropped)",
    "expired": "a keep past its 有效期至, a visit past its review date: back on the list or the 走访 sheet",
    "evidence_changed": "a keep whose basis changed (a new employer, a new contribution type), a visit whose "
    "person has a new category or reason: back on the list or the 走访 sheet",
    "confirmed": "an 退出: the removal stands",
    "not_on_list": "a keep whose registration is not on that roll's removal list tonight, a visit whose person "
    "is not on the proactive list",
    "superseded": "a visit followed by a later visit of the same person, which holds",
    "quarantined": "the row breaks a rule (`rule`, `message`) and was not applied",
}

DECISIONS_APPLIED_SQL = """
SELECT r.file AS decision_file, r."row" AS decision_row, r.kind, r.decision_text AS decision,
       CASE WHEN r.rule IS NOT NULL THEN 'quarantined' ELSE coalesce(l.status, k.status, v.status, 'orphaned') END
           AS status,
       coalesce(l.records, k.records, v.records, 0) AS records,
       r.source, r.record_key, r.candidate_person_id, r.roll, r.valid_until, r.decided_by, r.reason,
       lab.proposed_method, coalesce(r.rule, v.rule) AS rule, coalesce(r.message, k.detail, v.message) AS message,
       CASE WHEN r.kind = 'visit' THEN r.person_id END AS person_id, r.visited_on, v.revisit_on, r.decision_id
FROM decisions_rows AS r
LEFT JOIN decisions_link_outcomes AS l USING (decision_id)
LEFT JOIN decisions_keep_outcomes AS k USING (decision_id)
LEFT JOIN decisions_visit_outcomes AS v USING (decision_id)
LEFT JOIN core_decision_labels AS lab USING (decision_id)
ORDER BY decision_file, decision_row, r.kind, r.decision_id
"""

# Per method the linker proposed: how many of its reviewed pairs people confirmed and rejected.
LABEL_ACCURACY_SQL = """
SELECT proposed_method AS method,
       count(*) FILTER (decision = 'confirm')::INTEGER AS confirmed,
       count(*) FILTER (decision = 'reject')::INTEGER AS rejected,
       round(count(*) FILTER (decision = 'confirm') / count(*), 4) AS confirmed_share
FROM core_decision_labels GROUP BY ALL ORDER BY method
"""


def create_audit_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Outcome tables that a step without decisions to apply did not make, empty, so the audit reads them."""
    con.execute(
        """
        CREATE TABLE IF NOT EXISTS decisions_link_outcomes (decision_id BIGINT, status VARCHAR, records INTEGER);
        CREATE TABLE IF NOT EXISTS decisions_keep_outcomes (
            decision_id BIGINT, status VARCHAR, records INTEGER, detail VARCHAR
        );
        CREATE TABLE IF NOT EXISTS core_decision_labels (
            decision_id BIGINT, decision VARCHAR, proposed_method VARCHAR
        );
        CREATE TABLE IF NOT EXISTS decisions_visit_outcomes (
            decision_id BIGINT, status VARCHAR, records INTEGER, revisit_on DATE, rule VARCHAR, message VARCHAR
        );
        """
    )


def label_accuracy(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    create_audit_tables(con)
    return con.sql(LABEL_ACCURACY_SQL).pl().to_dicts()


def status_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    create_audit_tables(con)
    return dict(
        con.sql(
            f"SELECT status, count(*) FROM ({DECISIONS_APPLIED_SQL}) GROUP BY ALL ORDER BY ALL"
        ).fetchall()
    )


def manifest_section(con: duckdb.DuckDBPyConnection, folder: str) -> dict[str, Any]:
    """The manifest's `decisions`: the folder read, each file, counts per status, every decision with what
    became of it (file, row, kind, decision, status, records; no names)."""
    create_audit_tables(con)
    return {
        "folder": folder,
        "files": con.sql("SELECT * FROM decisions_files ORDER BY file").pl().to_dicts(),
        "by_status": status_counts(con),
        "label_accuracy": label_accuracy(con),
        "decisions": con.sql(
            f"""SELECT decision_file AS file, decision_row AS row, kind, decision, status, records, rule
                FROM ({DECISIONS_APPLIED_SQL})"""
        )
        .pl()
        .to_dicts(),
    }
