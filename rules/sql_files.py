"""Loading and running the SQL files that sit beside this module (one statement per file)."""

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
