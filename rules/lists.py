"""The lists of SPEC section 4 (主动发现名单, 应退出名单, 零就业家庭, 应享尽享) built from `facts_persons`.

Each list is one SQL file beside this module (`zero_employment_households.sql`, `proactive.sql`,
`entitlements.sql`, `removals.sql`) creating its `out_*` table with the SPEC section 5 columns in order,
then `evidence`. They run in that order: the proactive list reads the households, the removal list the
entitlements (a removal for 灵活就业 says when the same person is owed the flexible subsidy).
Codes and their Chinese labels are in codes.py.
"""

from datetime import date

import duckdb

from aidmatch.rules.codes import HIGH_CONFIDENCE_REMOVAL_REASONS
from aidmatch.rules.settings import RuleSettings
from aidmatch.rules.sql_files import create_links_of, run_sql_file

LIST_TABLES: tuple[str, ...] = (
    "out_zero_employment_households",
    "out_proactive",
    "out_entitlements",
    "out_removals",
)


def build_lists(con: duckdb.DuckDBPyConnection, as_of: date, settings: RuleSettings) -> dict[str, int]:
    """(Re)create the `out_*` tables from `facts_persons` (build_person_facts first, same as_of).

    Returns a summary for the run's metadata: the row count of each table, and per source the
    records the linker left unlinked (they cannot contribute to any list).
    """
    run_sql_file(con, "zero_employment_households.sql", {})
    run_sql_file(
        con,
        "proactive.sql",
        {
            "as_of": as_of,
            "age_4050_women": settings.age_4050_women,
            "age_4050_men": settings.age_4050_men,
            "long_term_months": settings.long_term_months,
            "outreach_disability_grades": list(settings.outreach_disability_grades),
        },
    )
    create_links_of(con)
    run_sql_file(
        con,
        "entitlements.sql",
        {
            "as_of": as_of,
            "lookback_months": settings.lookback_months,
            "subsidy_months": settings.subsidy_months,
            "subsidy_retirement_years": settings.subsidy_retirement_years,
            "extract_month_min_share": settings.extract_month_min_share,
        },
    )
    run_sql_file(
        con,
        "removals.sql",
        {"as_of": as_of, "high_confidence_reasons": list(HIGH_CONFIDENCE_REMOVAL_REASONS)},
    )
    summary = {table: con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0] for table in LIST_TABLES}
    unlinked = con.execute(
        "SELECT source, count(*) FROM core_person_links WHERE person_id IS NULL GROUP BY source"
    ).fetchall()
    summary.update({f"unlinked_{source}_records": count for source, count in unlinked})
    return summary


def entitlement_counts(con: duckdb.DuckDBPyConnection) -> list[dict[str, str | int]]:
    """Rows of `out_entitlements` per entitlement and district, for the UI's numbers (a trend over runs).

    The district is the person's active 低保 record's 所属区县, else the county of the si_persons 参保地
    (北京市东城区 → 东城区), else （未知）.
    """
    create_links_of(con)
    return (
        con.sql(
            """
            WITH entitled AS (SELECT DISTINCT person_id FROM out_entitlements),
            dibao_district AS (
                SELECT l.person_id, min(d.district) AS district
                FROM staged_dibao AS d JOIN links_of('dibao') AS l USING (source_record)
                WHERE d.assistance_status = '在保' AND d.district IS NOT NULL
                  AND l.person_id IN (SELECT person_id FROM entitled)
                GROUP BY l.person_id
            ),
            insured_place AS (
                SELECT l.person_id,
                       min(coalesce(nullif(regexp_extract(s.insured_place, '([^省市]+[区县旗])$', 1), ''), s.insured_place))
                           AS district
                FROM staged_si_persons AS s JOIN links_of('si_persons') AS l USING (source_record)
                WHERE s.insured_place IS NOT NULL AND l.person_id IN (SELECT person_id FROM entitled)
                GROUP BY l.person_id
            )
            SELECT e.entitlement, coalesce(d.district, i.district, '（未知）') AS district, count(*) AS rows
            FROM out_entitlements AS e
            LEFT JOIN dibao_district AS d USING (person_id)
            LEFT JOIN insured_place AS i USING (person_id)
            GROUP BY ALL
            ORDER BY ALL
            """
        )
        .pl()
        .to_dicts()
    )
