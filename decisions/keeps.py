"""Keep decisions on the removal list (应退出名单): a registration a case worker verified stays on its roll.

A kept removal (the registration's record key and roll) is left off the list while the as-of date is on
or before the decision's 有效期至 and the removal's basis is the one the case worker saw. The basis
(`核实依据`) is what a removal rests on, without what changes every month: its reason codes, and for
EMPLOYED the employers — so a new employer or a new contribution type (灵活就业 → 单位职工) ends the keep
early, a further month of the same contributions does not. When a keep ends, the removal returns with
the reason in its evidence. What does not belong here: reading the decision files (`intake.py`).
"""

import datetime as dt

import duckdb

from aidmatch.decisions.keys import create_record_key_macro, record_key_sql
from aidmatch.tables.ddl import has_table

# The basis of a removal row: reasons, and the employers behind EMPLOYED.
BASIS_SQL = """r.reasons || CASE WHEN list_contains(string_split(r.reasons, ';'), 'EMPLOYED')
    THEN '[' || array_to_string(f.employers, '、') || ']' ELSE '' END"""


def create_removal_keys(con: duckdb.DuckDBPyConnection) -> None:
    """`decision_removal_keys(source_record, roll, record_key, basis)`: what names each row of
    `out_removals` in a decision, and the basis a keep is made on."""
    create_record_key_macro(con)
    con.execute(
        f"""
        CREATE OR REPLACE TABLE decision_removal_keys AS
        SELECT r.source_record, r.roll, {record_key_sql("u")} AS record_key,
               {BASIS_SQL} AS basis
        FROM out_removals AS r
        JOIN staged_unemployment AS u USING (source_record)
        JOIN facts_persons AS f USING (person_id)
        """
    )


def apply_keep_decisions(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> dict[str, int]:
    """Leave kept removals off `out_removals`; say in the evidence why a keep that ended no longer holds;
    create `decisions_keep_outcomes(decision_id, status, records, detail)`. Returns rows per status.

    Status: `applied` (the removal is left off the list), `expired` (past 有效期至: back on the list),
    `evidence_changed` (the basis differs: back on the list), `confirmed` (an 退出 decision: the removal
    stands), `not_on_list` (the registration is there but not on that roll's removal list tonight),
    `orphaned` (no registration has this key: it left the extract, or its identity was corrected).
    Without a `decisions_keeps` table (no decisions read) only the keys are made."""
    create_removal_keys(con)
    if not has_table(con, "decisions_keeps"):
        return {}
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE decision_keep_matches AS
        SELECT d.decision_id, d.decision, d.valid_until, d.basis AS kept_basis, d.file, d."row",
               k.source_record, k.roll, k.basis,
               CASE WHEN k.source_record IS NULL THEN NULL
                    WHEN d.decision = 'exit' THEN 'confirmed'
                    WHEN $as_of::DATE > d.valid_until THEN 'expired'
                    WHEN k.basis = d.basis THEN 'applied'
                    -- an exact copy of the kept row (a DUPLICATE removal) has its own basis: not this keep's
                    WHEN bool_or(k.basis = d.basis) OVER (PARTITION BY d.decision_id) THEN NULL
                    ELSE 'evidence_changed' END AS status
        FROM decisions_keeps AS d
        LEFT JOIN decision_removal_keys AS k ON k.record_key = d.record_key AND k.roll = d.roll
        """,
        {"as_of": as_of},
    )
    con.execute(
        """
        DELETE FROM out_removals AS r USING decision_keep_matches AS m
        WHERE m.status = 'applied' AND r.source_record = m.source_record AND r.roll = m.roll
        """
    )
    con.execute(
        """
        UPDATE out_removals AS r SET evidence = r.evidence || ' | ' || m.note
        FROM (
            SELECT source_record, roll, string_agg(CASE status
                WHEN 'expired' THEN format('保留决定已于 {} 到期 [{}:{}]', valid_until, file, "row")
                ELSE format('保留决定因依据变化而结束：保留时 {}，现在 {} [{}:{}]', kept_basis, basis, file, "row")
            END, '；' ORDER BY decision_id) AS note
            FROM decision_keep_matches WHERE status IN ('expired', 'evidence_changed') GROUP BY ALL
        ) AS m
        WHERE r.source_record = m.source_record AND r.roll = m.roll
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TABLE decisions_keep_outcomes AS
        WITH registered AS (SELECT DISTINCT {record_key_sql()} AS record_key FROM staged_unemployment)
        SELECT d.decision_id,
               coalesce(
                   any_value(m.status) FILTER (m.status IS NOT NULL),
                   CASE WHEN d.record_key IN (SELECT record_key FROM registered) THEN 'not_on_list' ELSE 'orphaned' END
               ) AS status,
               count(m.status)::INTEGER AS records,
               CASE WHEN any_value(m.status) = 'evidence_changed'
                    THEN format('保留时 {{}}，现在 {{}}', d.basis, any_value(m.basis)) END AS detail
        FROM decisions_keeps AS d
        LEFT JOIN decision_keep_matches AS m USING (decision_id)
        GROUP BY d.decision_id, d.record_key, d.basis
        """
    )
    return dict(con.sql("SELECT status, count(*) FROM decisions_keep_outcomes GROUP BY ALL").fetchall())
