"""Loading and running the SQL files that sit beside this module (one statement per file), and the macro
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
