"""Person facts as of a date (SPEC section 4): age, working age, employment, 低保, disability,
registration, pension / death status — one row per person in `facts_persons`, with evidence text —
where each person lives and how to reach them, in `facts_locations` (SPEC section 5, "点对点"), and each
active urban 低保 household's members, who of them counts and works, in `facts_households`.

The logic is the SQL in `persons.sql`, `locations.sql` (its address parser in `address_parts.sql`) and
`households.sql` (the three tables declared in `aidmatch.tables.catalog`); this module only feeds it the
settings. The lists (lists.py) read these tables and nothing else about a person, but for the employer
subsidy (entitlements.sql), which needs each recognized person's contributions employer by employer over
the whole extract.
"""

from datetime import date

import duckdb

from aidmatch.rules.retirement import create_retirement_macro
from aidmatch.rules.settings import RuleSettings
from aidmatch.rules.sql_files import create_table_macro, run_sql_file, table_sql
from aidmatch.tables.catalog import FACTS_HOUSEHOLDS, FACTS_LOCATIONS, FACTS_PERSONS
from aidmatch.tables.ddl import build_table

FACTS_TABLES = (FACTS_PERSONS, FACTS_LOCATIONS, FACTS_HOUSEHOLDS)


def build_person_facts(con: duckdb.DuckDBPyConnection, as_of: date, settings: RuleSettings) -> int:
    """(Re)create `facts_persons`, `facts_locations` and `facts_households` from the staged tables,
    `core_person_links`, `linked_si_contributions` and `core_persons`.

    Returns the row count of `facts_persons` (one row per person of `core_persons`).
    """
    create_retirement_macro(con)
    create_table_macro(con, "links_of")
    build_table(
        con,
        FACTS_PERSONS,
        table_sql(FACTS_PERSONS),
        {
            "as_of": as_of,
            "lookback_months": settings.lookback_months,
            "min_working_age": settings.min_working_age,
            "women_category": settings.women_retirement_category.code,
        },
    )
    run_sql_file(con, "address_parts.sql", {})
    build_table(con, FACTS_LOCATIONS, table_sql(FACTS_LOCATIONS))
    build_table(con, FACTS_HOUSEHOLDS, table_sql(FACTS_HOUSEHOLDS))
    (count,) = con.sql("SELECT count(*) FROM facts_persons").fetchall()[0]
    return count
