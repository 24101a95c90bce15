"""People's decisions on review-queue pairs, inside the linker (SPEC section 6).

What belongs here: matching the valid confirm / reject rows of `decisions_links` (made by
`decisions/intake.py`) to the profiles they name by content (source + record key), the labels they give
the linker's methods, and their effect: a rejected candidate is removed from the scored pairs before any
decision (never proposed again for that record — the record may still link to somebody else); a
confirmed candidate is the record's link, method `reviewed`, its evidence naming the decision.
Without a `decisions_links` table (no decisions folder) nothing here runs.

Tables: `link_decided` (decision × profile), `core_decision_labels(decision_id, decision,
proposed_method)` — the method the linker would have given the pair (a fuzzy method, `exact_id`,
`id_name_conflict`, or `not_proposed` when the pair is no longer generated) — and
`decisions_link_outcomes(decision_id, status, records)` with status `applied` or `orphaned` (its
record key names no record tonight).
"""

import duckdb

from aidmatch.decisions.keys import create_record_key_macro, record_key_sql
from aidmatch.matching.methods import CONFLICT_SQL, FUZZY_METHOD_SQL
from aidmatch.tables.ddl import has_table


def has_link_decisions(con: duckdb.DuckDBPyConnection) -> bool:
    return has_table(con, "decisions_links")


def apply_rejections(con: duckdb.DuckDBPyConnection) -> None:
    """Match the decisions to profiles, label each with the method its pair had, and take rejected pairs
    out of `link_scored`. Call between scoring and deciding."""
    if not has_link_decisions(con):
        return
    create_record_key_macro(con)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE link_decided AS
        WITH keyed AS (
            SELECT profile_id, source, record_count, {record_key_sql()} AS record_key
            FROM link_profiles WHERE source IN (SELECT source FROM decisions_links)
        )
        SELECT d.decision_id, d.decision, d.person_id, d.reason, d.decided_by, d.file, d."row",
               k.profile_id, k.record_count
        FROM decisions_links AS d LEFT JOIN keyed AS k USING (source, record_key)
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TABLE core_decision_labels AS
        SELECT d.decision_id, any_value(d.decision) AS decision,
               coalesce(any_value(CASE WHEN s.blocked_by <> 'exact_id' THEN {FUZZY_METHOD_SQL}
                                       WHEN {CONFLICT_SQL} THEN 'id_name_conflict'
                                       ELSE 'exact_id' END), 'not_proposed') AS proposed_method
        FROM link_decided AS d
        LEFT JOIN link_scored AS s ON s.profile_id = d.profile_id AND s.person_id = d.person_id
        WHERE d.profile_id IS NOT NULL
        GROUP BY d.decision_id
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TABLE decisions_link_outcomes AS
        SELECT decision_id, CASE WHEN count(profile_id) > 0 THEN 'applied' ELSE 'orphaned' END AS status,
               coalesce(sum(record_count), 0)::INTEGER AS records
        FROM link_decided GROUP BY decision_id
        """
    )
    con.execute(
        """
        DELETE FROM link_scored AS s USING link_decided AS d
        WHERE d.decision = 'reject' AND s.profile_id = d.profile_id AND s.person_id = d.person_id
        """
    )


def apply_confirmations(con: duckdb.DuckDBPyConnection) -> None:
    """A confirmed candidate becomes the record's link (method `reviewed`) and leaves the review queue; a
    record left with no candidate because its only one was rejected says so (`unlinked:rejected`).
    Call after deciding."""
    if not has_link_decisions(con):
        return
    con.execute(
        """
        UPDATE link_decisions AS l
        SET person_id = c.person_id, method = 'reviewed', score = NULL,
            evidence = format('reviewed: 确认 [{}:{}] 经办人 {}：{}', c.file, c."row", coalesce(c.decided_by, ''), c.reason)
        FROM (SELECT * FROM link_decided WHERE decision = 'confirm' AND profile_id IS NOT NULL) AS c
        WHERE l.profile_id = c.profile_id
        """
    )
    con.execute(
        """
        UPDATE link_decisions SET method = 'unlinked:rejected'
        WHERE method = 'unlinked:invalid_id_no_candidate'
          AND profile_id IN (SELECT profile_id FROM link_decided WHERE decision = 'reject')
        """
    )
    con.execute(
        """
        DELETE FROM link_review
        WHERE profile_id IN (SELECT profile_id FROM link_decided WHERE decision = 'confirm')
        """
    )
