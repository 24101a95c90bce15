"""The lists of SPEC section 4 (主动发现名单, 应退出名单, 零就业家庭, 应享尽享, the partner departments' 低保家庭成员就业
状况比对 and 持证残疾人就业状况, 零就业家庭预警) built from the facts tables (facts.py).

Each list is one SQL file beside this module (`zero_employment_households.sql`, `proactive.sql`,
`entitlements.sql`, `removals.sql`, `dibao_employment.sql`, `households_at_risk.sql`,
`disability_employment.sql`: `sql_files.table_sql`) selecting the rows of its `out_*` table, whose columns
are declared in `aidmatch.tables.catalog` (SPEC section 5's in order, then `evidence`). They run in the
order of `LIST_TABLES`: the proactive list reads the households, the removal list the entitlements (a
removal for 灵活就业 says when the same person is owed the flexible subsidy), and 民政's list and the early
warning read the removal list as the keep decisions leave it (a member whose registration is to end for
the same work says so).
Codes and their Chinese labels are in codes.py.
"""

from datetime import date

import duckdb

from aidmatch.decisions.keeps import apply_keep_decisions
from aidmatch.decisions.settings import VisitSettings
from aidmatch.decisions.visits import apply_visit_outcomes
from aidmatch.rules.codes import HIGH_CONFIDENCE_REMOVAL_REASONS
from aidmatch.rules.settings import RuleSettings
from aidmatch.rules.sql_files import create_months_for_people, create_table_macro, table_sql
from aidmatch.tables.catalog import (
    OUT_DIBAO_EMPLOYMENT,
    OUT_DISABILITY_EMPLOYMENT,
    OUT_ENTITLEMENTS,
    OUT_HOUSEHOLDS_AT_RISK,
    OUT_PROACTIVE,
    OUT_REMOVALS,
    OUT_ZERO_EMPLOYMENT_HOUSEHOLDS,
)
from aidmatch.tables.ddl import build_table

# The lists in the order they are built: each after the lists its SQL reads.
LIST_TABLES = (
    OUT_ZERO_EMPLOYMENT_HOUSEHOLDS,
    OUT_PROACTIVE,
    OUT_ENTITLEMENTS,
    OUT_REMOVALS,
    OUT_DIBAO_EMPLOYMENT,
    OUT_HOUSEHOLDS_AT_RISK,
    OUT_DISABILITY_EMPLOYMENT,
)


def build_lists(
    con: duckdb.DuckDBPyConnection,
    as_of: date,
    settings: RuleSettings,
    visits: VisitSettings | None = None,
) -> dict[str, int]:
    """(Re)create the `out_*` tables from `facts_persons` (build_person_facts first, same as_of).

    Returns a summary for the run's metadata: the row count of each table, per source the records the
    linker left unlinked (they cannot contribute to any list), what the keep decisions did
    (`keep_decisions <status>`: SPEC section 6, a kept registration is left off the removal list) and the
    visit outcomes (`visit_outcomes <status>`: a visited person leaves the street's 走访 sheet for a while).
    """
    create_table_macro(con, "links_of")
    build_table(con, OUT_ZERO_EMPLOYMENT_HOUSEHOLDS, table_sql(OUT_ZERO_EMPLOYMENT_HOUSEHOLDS))
    build_table(
        con,
        OUT_PROACTIVE,
        table_sql(OUT_PROACTIVE),
        {
            "as_of": as_of,
            "age_4050_women": settings.age_4050_women,
            "age_4050_men": settings.age_4050_men,
            "long_term_months": settings.long_term_months,
            "outreach_disability_grades": list(settings.outreach_disability_grades),
        },
    )
    build_table(
        con,
        OUT_ENTITLEMENTS,
        table_sql(OUT_ENTITLEMENTS),
        {
            "as_of": as_of,
            "lookback_months": settings.lookback_months,
            "subsidy_months": settings.subsidy_months,
            "subsidy_retirement_years": settings.subsidy_retirement_years,
            "extract_month_min_share": settings.extract_month_min_share,
        },
    )
    build_table(
        con,
        OUT_REMOVALS,
        table_sql(OUT_REMOVALS),
        {"as_of": as_of, "high_confidence_reasons": list(HIGH_CONFIDENCE_REMOVAL_REASONS)},
    )
    kept = apply_keep_decisions(con, as_of)
    visited = apply_visit_outcomes(con, as_of, visits or VisitSettings())
    create_table_macro(con, "unemployment_work_removals")
    create_months_for_people(con)
    build_table(con, OUT_DIBAO_EMPLOYMENT, table_sql(OUT_DIBAO_EMPLOYMENT))
    build_table(con, OUT_HOUSEHOLDS_AT_RISK, table_sql(OUT_HOUSEHOLDS_AT_RISK), {"as_of": as_of})
    build_table(con, OUT_DISABILITY_EMPLOYMENT, table_sql(OUT_DISABILITY_EMPLOYMENT))
    summary = {t.name: con.sql(f"SELECT count(*) FROM {t.name}").fetchall()[0][0] for t in LIST_TABLES}
    unlinked = con.execute(
        "SELECT source, count(*) FROM core_person_links WHERE person_id IS NULL GROUP BY source"
    ).fetchall()
    summary.update({f"unlinked_{source}_records": count for source, count in unlinked})
    summary.update({f"keep_decisions {status}": count for status, count in kept.items()})
    summary.update({f"visit_outcomes {status}": count for status, count in visited.items()})
    return summary


def district_counts(con: duckdb.DuckDBPyConnection, table: str, code: str) -> list[dict[str, str | int]]:
    """Rows of a list per code (the column `code`: entitlement, finding, status, risk) and district (（未知）
    when no source places the row), for the UI's numbers: a trend over runs."""
    return (
        con.sql(
            f"SELECT {code}, coalesce(district, '（未知）') AS district, count(*) AS rows "
            f"FROM {table} GROUP BY ALL ORDER BY ALL"
        )
        .pl()
        .to_dicts()
    )
