"""The `ingest_files` table (declared in `aidmatch.tables.catalog`): every entry of each source folder — read or ignored, and why — with its
sha256 and row counts.

The raw assets write it; the manifest and the stewards' per-file view read it. Kept in the run's
DuckDB database so the publish step needs no state passed through Dagster.
"""

import dataclasses

import duckdb
import polars as pl

from aidmatch.sources.readers import FileReport
from aidmatch.tables.catalog import INGEST_FILES
from aidmatch.tables.ddl import column_definitions


def record_file_reports(con: duckdb.DuckDBPyConnection, source: str, reports: list[FileReport]) -> None:
    """Replace the source's rows of `ingest_files` with these reports."""
    con.execute(f"CREATE TABLE IF NOT EXISTS ingest_files ({column_definitions(INGEST_FILES)})")
    for column in ("status", "reason"):  # a work database of the same as-of written before these columns
        con.execute(f"ALTER TABLE ingest_files ADD COLUMN IF NOT EXISTS {column} VARCHAR")
    con.execute("DELETE FROM ingest_files WHERE source = ?", [source])
    if not reports:
        return
    names = [c.name for c in INGEST_FILES.columns]
    rows = [
        {"source": source} | {k: v for k, v in dataclasses.asdict(r).items() if k in names} for r in reports
    ]
    frame = pl.DataFrame(rows).select([n for n in names if n in rows[0]])
    con.register("_reports", frame)
    con.execute("INSERT INTO ingest_files BY NAME SELECT * FROM _reports")
    con.unregister("_reports")
