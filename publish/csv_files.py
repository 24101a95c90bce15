"""The CSV files of `OUTPUT/<as-of>/`: UTF-8, a header row, the columns in the order SPEC section 5 fixes.

DuckDB writes them straight from the run database (`COPY ... TO`), so a ten-million-row
person_links.csv never passes through Python. The SQL that selects each file's rows lives with the
table that feeds it; this module only knows how to write one.
"""

from pathlib import Path

import duckdb


def write_csv(con: duckdb.DuckDBPyConnection, select_sql: str, path: Path) -> int:
    """Write the rows of `select_sql` to `path` as UTF-8 CSV with a header; return the row count."""
    target = str(path).replace("'", "''")
    (written,) = con.execute(
        f"COPY ({select_sql}) TO '{target}' (FORMAT csv, HEADER true, DELIMITER ',', QUOTE '\"')"
    ).fetchall()[0]
    return written
