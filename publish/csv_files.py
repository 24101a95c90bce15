"""The CSV files of `OUTPUT/<as-of>/`: UTF-8, a header row, the columns in the order SPEC section 5 fixes.

DuckDB writes them straight from the run database (`COPY ... TO`), so a ten-million-row
person_links.csv never passes through Python. The SQL that selects each file's rows lives with the
table that feeds it; this module only knows how to write one, and read one back.
"""

from pathlib import Path

import duckdb

from aidmatch.sources.raw_table import sql_text


def published_csv(path: Path) -> str:
    """`read_csv` of a CSV file `write_csv` wrote — a night before's list, the street offices' baseline, the
    changes — cell for cell: every cell as text, an empty text (written `""`) apart from an empty cell
    (NULL), in the dialect written, so that DuckDB's sniffer does not sample the file (0.05–0.09 s a list
    at a million persons: 0.3 s of the 0.5 a quiet night's changes.csv took)."""
    return (
        f"read_csv({sql_text(str(path))}, all_varchar = true, header = true, "
        "delim = ',', quote = '\"', escape = '\"', allow_quoted_nulls = false, sample_size = 1)"
    )


def write_csv(con: duckdb.DuckDBPyConnection, select_sql: str, path: Path) -> int:
    """Write the rows of `select_sql` to `path` as UTF-8 CSV with a header; return the row count."""
    (written,) = con.execute(
        f"COPY ({select_sql}) TO {sql_text(str(path))} (FORMAT csv, HEADER true, DELIMITER ',', QUOTE '\"')"
    ).fetchall()[0]
    return written
