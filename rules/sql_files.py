"""The SQL files that sit beside this module (one statement per file): which table each one fills, what
it reads, and the macros they share.

A table the rules build is filled by the SELECT in `rules/<its name without the layer>.sql`
(`facts_persons` by persons.sql, `out_proactive` by proactive.sql): `table_sql` reads it, and
`sql_reads` says which tables it reads (`tables/reads.py`), so a new table with its SQL file gets its
place in the asset graph with nothing written twice.
"""

from pathlib import Path
from typing import Any

import duckdb

from aidmatch.tables.catalog import Table
from aidmatch.tables.reads import declared_reads

_HERE = Path(__file__).parent

# links_of(src): the linked records of one source with their person. It reads only that source's rows of
# core_person_links (ten million of them are contributions); every rule meets a source's records this way.
# unemployment_work_removals(): per person whose registration is on the removal list for work (EMPLOYED or
# FLEXIBLY_EMPLOYED, as the keep decisions leave it), that work and the registrations, each said once — the
# partner lists and the early warning name it in their own words.
TABLE_MACROS = {
    "links_of": "SELECT source_record, person_id FROM core_person_links "
    "WHERE source = src AND person_id IS NOT NULL",
    "unemployment_work_removals": """
        SELECT
            person_id,
            array_to_string(list_sort(list_distinct(list(
                CASE reason WHEN 'EMPLOYED' THEN '已就业' ELSE '灵活就业（需核实）' END
            ))), '、') AS work,
            array_to_string(list_sort(list_distinct(list(source_record))), '、') AS records
        FROM (
            SELECT person_id, source_record, unnest(string_split(reasons, ';')) AS reason
            FROM out_removals WHERE roll = 'unemployment'
        )
        WHERE reason IN ('EMPLOYED', 'FLEXIBLY_EMPLOYED')
        GROUP BY person_id""",
}
_TABLE_MACRO_PARAMETERS = {"links_of": "src", "unemployment_work_removals": ""}


def read_sql_file(filename: str) -> str:
    """The text of `rules/<filename>`."""
    return (_HERE / filename).read_text(encoding="utf-8")


def run_sql_file(con: duckdb.DuckDBPyConnection, filename: str, parameters: dict[str, Any]) -> None:
    """Execute `rules/<filename>` with its named `$parameters`."""
    con.execute(read_sql_file(filename), parameters)


def table_sql(table: Table) -> str:
    """The SELECT that fills `table`: `rules/<name without its layer>.sql`."""
    return read_sql_file(f"{table.name.removeprefix(f'{table.layer}_')}.sql")


def sql_reads(*tables: Table) -> frozenset[str]:
    """The tables the SQL of `tables` reads, every one declared in the catalog (else UndeclaredTable)."""
    return frozenset().union(
        *(declared_reads(table_sql(table), f"the SQL of {table.name}", TABLE_MACROS) for table in tables)
    )


def create_table_macro(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Install the table macro `name` (TABLE_MACROS). DuckDB binds a table macro when it is made: the
    tables it reads must be there (links_of after linking, unemployment_work_removals after the removal
    list and its keep decisions)."""
    parameters = _TABLE_MACRO_PARAMETERS[name]
    con.execute(f"CREATE OR REPLACE TEMP MACRO {name}({parameters}) AS TABLE {TABLE_MACROS[name]}")


def create_months_for_people(con: duckdb.DuckDBPyConnection) -> None:
    """Install `months_for_people(months)`: sorted `YYYY-MM` months as a printed list says them, each year
    named once — ['2025-12', '2026-01', '2026-02'] -> '2025年12月、2026年1、2月' — one short line where
    '2025-12,2026-01,2026-02' would take two."""
    con.execute(
        """
        CREATE OR REPLACE TEMP MACRO months_for_people(months) AS array_to_string(list_transform(
            generate_series(1, len(months)),
            lambda i: CASE WHEN i = 1 OR months[i][1:4] <> months[i - 1][1:4] THEN months[i][1:4] || '年' ELSE '' END
                || CAST(months[i][6:7] AS INTEGER)
                || CASE WHEN i = len(months) OR months[i][1:4] <> months[i + 1][1:4] THEN '月' ELSE '' END
        ), '、')
        """
    )
