"""Loading and running the SQL files that sit beside this module (one statement per file), and the macros
they share."""

from pathlib import Path
from typing import Any

import duckdb

_HERE = Path(__file__).parent


def read_sql_file(filename: str) -> str:
    """The text of `rules/<filename>`."""
    return (_HERE / filename).read_text(encoding="utf-8")


def run_sql_file(con: duckdb.DuckDBPyConnection, filename: str, parameters: dict[str, Any]) -> None:
    """Execute `rules/<filename>` with its named `$parameters`."""
    con.execute(read_sql_file(filename), parameters)


def create_links_of(con: duckdb.DuckDBPyConnection) -> None:
    """Install `links_of(source)`: the linked records of one source with their person.

    It reads only that source's rows of `core_person_links` (ten million of them are contributions).
    """
    con.execute(
        "CREATE OR REPLACE TEMP MACRO links_of(src) AS TABLE SELECT source_record, person_id "
        "FROM core_person_links WHERE source = src AND person_id IS NOT NULL"
    )


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
