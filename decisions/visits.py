"""Visit outcomes on the proactive list (主动发现名单): a street office's visit is remembered (SPEC section 6).

A street office records, on its work list's 走访 sheet, the outcome of visiting a person it was given:
已登记 (REGISTERED), 暂无需求 (NO_NEED_NOW), 联系不上 (UNREACHABLE), 不在本辖区 (MOVED_AWAY) or 信息有误
(RECORD_WRONG). The outcome is keyed on content — the person (公民身份号码) and what they were listed for
(走访依据: category and reasons) — never on a row, so it survives rows moving between extracts. A person's
latest outcome (by 走访日期) holds: the person stays on `out_proactive` with it (`outcome`, `outcome_date`,
`revisit_on`) but leaves the street's 走访 sheet until `revisit_on` (走访日期 plus the outcome's months,
`visits` settings) or until the evidence changes — a category or a reason the worker did not see — and then
returns saying why. What does not belong here: reading the forms (`intake.py`), the street's work list
(`publish/street_work.py`), the departments' feedback (`publish/feedback.py`).

Status of each valid visit row (decisions_applied.csv): `applied` (the person is off the 走访 sheet),
`expired` (the review date has come: back on it), `evidence_changed` (back on it), `superseded` (a later
visit of the same person holds), `not_on_list` (the person is not on tonight's proactive list: registered,
working, moved off the rolls), or `quarantined` with rule `unknown_person` when the ID names nobody in
tonight's extracts.
"""

import datetime as dt

import duckdb

from aidmatch.decisions.settings import VisitSettings

_EMPTY_VISITS = """
CREATE TABLE IF NOT EXISTS decisions_visits (
    decision_id BIGINT, person_id VARCHAR, category VARCHAR, reasons VARCHAR[], outcome VARCHAR, visited_on DATE,
    note VARCHAR, decided_by VARCHAR, file VARCHAR, "row" BIGINT
)
"""


def apply_visit_outcomes(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, settings: VisitSettings
) -> dict[str, int]:
    """Give `out_proactive` each person's latest outcome; create `proactive_visits` (one row per person on the
    list with an outcome: its status `applied`, `expired` or `evidence_changed` tonight, the reasons and
    category the worker did not see) and `decisions_visit_outcomes` (decision_id, status, records, rule,
    message) for the audit. Returns the valid visit rows per status. Without decisions read, none apply."""
    con.execute(_EMPTY_VISITS)
    months = settings.months()
    revisit = " ".join(f"WHEN '{code}' THEN {n}" for code, n in months.items())
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE decision_visit_matches AS
        WITH visits AS (
            SELECT *, CAST(visited_on + to_months(CASE outcome {revisit} END) AS DATE) AS revisit_on
            FROM decisions_visits
        )
        SELECT v.*,
               row_number() OVER (
                   PARTITION BY v.person_id ORDER BY v.visited_on DESC, v.file DESC, v."row" DESC
               ) = 1 AS latest,
               p.person_id IS NOT NULL AS listed,
               c.person_id IS NOT NULL AS known,
               p.category AS listed_category,
               list_filter(string_split(p.reasons, ';'), lambda r: NOT list_contains(v.reasons, r)) AS new_reasons,
               CASE
                   WHEN NOT known THEN 'quarantined'
                   WHEN NOT latest THEN 'superseded'
                   WHEN NOT listed THEN 'not_on_list'
                   WHEN p.category <> v.category OR len(new_reasons) > 0 THEN 'evidence_changed'
                   WHEN v.revisit_on <= $as_of::DATE THEN 'expired'
                   ELSE 'applied'
               END AS status
        FROM visits AS v
        LEFT JOIN out_proactive AS p USING (person_id)
        LEFT JOIN (SELECT person_id FROM core_persons) AS c USING (person_id)
        """,
        {"as_of": as_of},
    )
    con.execute(
        """
        CREATE OR REPLACE TABLE proactive_visits AS
        SELECT person_id, outcome, visited_on, revisit_on, status, category AS visited_category,
               array_to_string(list_sort(reasons), ';') AS visited_reasons, new_reasons, note, decided_by,
               file, "row"
        FROM decision_visit_matches
        WHERE latest AND listed AND known
        """
    )
    con.execute(
        """
        UPDATE out_proactive AS p
        SET outcome = v.outcome, outcome_date = v.visited_on, revisit_on = v.revisit_on
        FROM proactive_visits AS v
        WHERE p.person_id = v.person_id
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TABLE decisions_visit_outcomes AS
        SELECT decision_id, status, listed::INTEGER AS records, revisit_on,
               CASE WHEN status = 'quarantined' THEN 'unknown_person' END AS rule,
               CASE status
                   WHEN 'quarantined' THEN '公民身份号码 names nobody in tonight''s extracts: check the ID'
                   WHEN 'evidence_changed' THEN format(
                       '走访时 {}:{}，现在 {}{}', category, array_to_string(reasons, ';'), listed_category,
                       CASE WHEN len(new_reasons) > 0 THEN '，新增 ' || array_to_string(new_reasons, ';') ELSE '' END
                   )
                   WHEN 'expired' THEN format('复访日期 {} 已到', revisit_on)
               END AS message
        FROM decision_visit_matches
        """
    )
    return dict(con.sql("SELECT status, count(*) FROM decisions_visit_outcomes GROUP BY ALL").fetchall())
