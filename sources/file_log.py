"""The `ingest_files` table: which files each source read, their sha256 and row counts.

The raw assets write it; the manifest and the stewards' per-file view read it. Kept in the run's
DuckDB database so the publish step needs no state passed through Dagster.
"""

import dataclasses

import duckdb
import polars as pl

from sources.readers import FileReport

_COLUMNS = (
    "source VARCHAR, file VARCHAR, sha256 VARCHAR, size_bytes BIGINT, encoding VARCHAR, sheets VARCHAR[], "
    "rows_read BIGINT, rows_skipped_blank BIGINT, rows_skipped_footer BIGINT, unmapped_columns VARCHAR[]"
)


def record_file_reports(con: duckdb.DuckDBPyConnection, source: str, reports: list[FileReport]) -> None:
    """Replace the source's rows of `ingest_files` with these reports."""
    con.execute(f"CREATE TABLE IF NOT EXISTS ingest_files ({_COLUMNS})")
    con.execute("DELETE FROM ingest_files WHERE source = ?", [source])
    if not reports:
        return
    names = [c.split()[0] for c in _COLUMNS.split(", ")]
    rows = [
        {"source": source} | {k: v for k, v in dataclasses.asdict(r).items() if k in names} for r in reports
    ]
    frame = pl.DataFrame(rows).select([n for n in names if n in rows[0]])
    con.register("_reports", frame)
    con.execute("INSERT INTO ingest_files BY NAME SELECT * FROM _reports")
    con.unregister("_reports")
