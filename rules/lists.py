"""The lists of SPEC section 4 (主动发现名单, 应退出名单, 零就业家庭, 应享尽享) built from `facts_persons`.

Each list is one SQL file beside this module (`zero_employment_households.sql`, `proactive.sql`,
`entitlements.sql`, `removals.sql`) selecting the rows of its `out_*` table, whose columns are declared
in `aidmatch.tables.catalog` (SPEC section 5's in order, then `evidence`). They run in that order: the
proactive list reads the households, the removal list the entitlements (a removal for 灵活就业 says when
the same person is owed the flexible subsidy).
Codes and their Chinese labels are in codes.py.
"""

from datetime import date

import duckdb

from aidmatch.decisions.keeps import apply_keep_decisions
from aidmatch.decisions.settings import VisitSettings
from aidmatch.decisions.visits import apply_visit_outcomes
from aidmatch.rules.codes import HIGH_CONFIDENCE_REMOVAL_REASONS
from aidmatch.rules.settings import RuleSettings
from aidmatch.rules.sql_files import create_links_of, read_sql_file
from aidmatch.tables.catalog import (
    OUT_ENTITLEMENTS,
    OUT_PROACTIVE,
    OUT_REMOVALS,
    OUT_ZERO_EMPLOYMENT_HOUSEHOLDS,
)
from aidmatch.tables.ddl import build_table

LIST_TABLES: tuple[str, ...] = (
    "out_zero_employment_households",
    "out_proactive",
    "out_entitlements",
    "out_removals",
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
    build_table(con, OUT_ZERO_EMPLOYMENT_HOUSEHOLDS, read_sql_file("zero_employment_households.sql"))
    build_table(
        con,
        OUT_PROACTIVE,
        read_sql_file("proactive.sql"),
        {
            "as_of": as_of,
            "age_4050_women": settings.age_4050_women,
            "age_4050_men": settings.age_4050_men,
            "long_term_months": settings.long_term_months,
            "outreach_disability_grades": list(settings.outreach_disability_grades),
        },
    )
    create_links_of(con)
    build_table(
        con,
        OUT_ENTITLEMENTS,
        read_sql_file("entitlements.sql"),
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
        read_sql_file("removals.sql"),
        {"as_of": as_of, "high_confidence_reasons": list(HIGH_CONFIDENCE_REMOVAL_REASONS)},
    )
    kept = apply_keep_decisions(con, as_of)
    visited = apply_visit_outcomes(con, as_of, visits or VisitSettings())
    summary = {table: con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0] for table in LIST_TABLES}
    unlinked = con.execute(
        "SELECT source, count(*) FROM core_person_links WHERE person_id IS NULL GROUP BY source"
    ).fetchall()
    summary.update({f"unlinked_{source}_records": count for source, count in unlinked})
    summary.update({f"keep_decisions {status}": count for status, count in kept.items()})
    summary.update({f"visit_outcomes {status}": count for status, count in visited.items()})
    return summary


def entitlement_counts(con: duckdb.DuckDBPyConnection) -> list[dict[str, str | int]]:
    """Rows of `out_entitlements` per entitlement and district (（未知） when no source places the person),
    for the UI's numbers: a trend over runs."""
    return (
        con.sql(
            "SELECT entitlement, coalesce(district, '（未知）') AS district, count(*) AS rows "
            "FROM out_entitlements GROUP BY ALL ORDER BY ALL"
        )
        .pl()
        .to_dicts()
    )
