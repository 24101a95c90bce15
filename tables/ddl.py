"""DuckDB tables from their declarations: create one, and fill it from a query whose columns must be its own.

A table's columns, order, types and NOT NULLs come from `catalog.py`; the SQL that computes its rows
lives with the part that computes them and only has to name the same columns. `build_table` refuses a
query that names a column the table lacks or leaves one out (a forgotten column would otherwise be
silently NULL), so a declaration and its SQL cannot drift apart unseen; `build_view` does the same for
a table declared as a view of other tables (its columns and types in order, a view having no DDL of
its own).
"""

from typing import Any

import duckdb

from aidmatch.tables.catalog import Table


def column_definitions(table: Table) -> str:
    """`col TYPE [NOT NULL], …`, a generated column as `VIRTUAL`."""
    parts = []
    for column in table.columns:
        if column.generated is not None:
            parts.append(f"{column.name} {column.sql_type} GENERATED ALWAYS AS ({column.generated}) VIRTUAL")
        else:
            parts.append(f"{column.name} {column.sql_type}{'' if column.nullable else ' NOT NULL'}")
    return ", ".join(parts)


def create_table(con: duckdb.DuckDBPyConnection, table: Table, name: str | None = None) -> None:
    """(Re)create `table` (under `name`, for a table per source such as quarantine_<source>), empty."""
    con.execute(f"CREATE OR REPLACE TABLE {name or table.name} ({column_definitions(table)})")


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether the table `name` is there (one a step makes only on some nights: decisions read, a file kept)."""
    return bool(
        con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [name]).fetchone()[0]
    )


def build_table(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    query: str,
    parameters: dict[str, Any] | list[Any] | None = None,
    name: str | None = None,
    parts: int | None = None,
) -> None:
    """Create the table from its declaration and insert the rows of `query` by column name — in its
    `csv_order` when it is stored so; the query's columns must be exactly the table's stored ones.

    With `parts`, the query is run once for each `$part` in 0 … `$parts` - 1 (parameters it must read,
    e.g. `hash(person_id) % $parts = $part`), its rows appended: for a query whose aggregates keep a list
    per group, state DuckDB 1.4 cannot spill, over more groups than its memory holds at once."""
    runs = (
        [parameters]
        if parts is None
        else [{**(parameters or {}), "part": p, "parts": parts} for p in range(parts)]
    )
    given = [d[0] for d in con.execute(f"SELECT * FROM ({query}) LIMIT 0", runs[0]).description]
    wanted = [c.name for c in table.stored]
    if sorted(given) != sorted(wanted):
        missing, extra = sorted(set(wanted) - set(given)), sorted(set(given) - set(wanted))
        raise ValueError(f"{name or table.name}: the query lacks {missing} and has undeclared {extra}")
    create_table(con, table, name)
    if table.stored_in_csv_order:
        query = f"SELECT * FROM ({query}) ORDER BY {table.csv_order}"
    for run in runs:
        con.execute(f"INSERT INTO {name or table.name} BY NAME {query}", run)


def rewrite_table(con: duckdb.DuckDBPyConnection, table: Table) -> None:
    """Write `table` anew from its rows, without the deleted rows its file still holds (DuckDB's vacuum is
    off in a work database: `resources.database_config`); all or nothing."""
    stored = ", ".join(column.name for column in table.stored)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"ALTER TABLE {table.name} RENAME TO {table.name}_rewritten")
        create_table(con, table)
        con.execute(f"INSERT INTO {table.name} BY NAME SELECT {stored} FROM {table.name}_rewritten")
        con.execute(f"DROP TABLE {table.name}_rewritten")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def build_view(con: duckdb.DuckDBPyConnection, table: Table, query: str) -> None:
    """(Re)create the view `table` as `query`, whose columns and types must be the declared ones, in order."""
    given = [(d[0], str(d[1])) for d in con.execute(f"SELECT * FROM ({query}) LIMIT 0").description]
    wanted = [(c.name, c.sql_type) for c in table.columns]
    if given != wanted:
        raise ValueError(f"{table.name}: the query's columns {given} are not the declared {wanted}")
    con.execute(f"CREATE OR REPLACE VIEW {table.name} AS {query}")
