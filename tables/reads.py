"""Which tables a query reads, from DuckDB's own parse of it: the asset graph's edges come from here.

`tables_read` asks DuckDB to parse the query (`json_serialize_sql`: the parse tree, nothing bound, so
`$parameters` are welcome) and collects every table named in a FROM or a JOIN, at any depth — CTEs,
subqueries, `IN (SELECT …)` — but the query's own CTEs within their scope. A table macro the query
calls (`links_of(source)`, rules/sql_files.py) stands for the tables its body reads. `declared_reads`
refuses a table the catalog does not declare: every table and view a later step reads is declared
(`catalog.py`), so an asset's dependencies, derived from its SQL, name only tables the graph knows.
What does not belong here: which SQL file fills which table (beside that SQL, `rules/sql_files.py`).
"""

import json
import threading
from collections.abc import Mapping
from functools import cache
from typing import Any

import duckdb

from aidmatch.tables.catalog import TABLES


class UndeclaredTable(ValueError):
    """A query reads a table no declaration in the catalog names."""


def _walk(node: Any, scope: frozenset[str], tables: set[str], calls: set[str]) -> None:
    """Collect the base tables (outside the CTEs in `scope`) and the table functions called under `node`."""
    if isinstance(node, list):
        for item in node:
            _walk(item, scope, tables, calls)
        return
    if not isinstance(node, dict):
        return
    if "cte_map" in node:  # a query's WITH: its names hide tables of the same name in all it contains
        scope = scope | {entry["key"] for entry in node["cte_map"]["map"]}
    if node.get("type") == "BASE_TABLE" and (node["schema_name"] or node["table_name"] not in scope):
        tables.add(node["table_name"])
    elif node.get("type") == "TABLE_FUNCTION":
        calls.add(node["function"]["function_name"])
    for value in node.values():
        _walk(value, scope, tables, calls)


_PARSING = threading.Lock()  # one in-memory connection parses for the process (opening one costs more)


@cache
def _parser() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


@cache
def _parse(sql: str) -> tuple[frozenset[str], frozenset[str]]:
    """The base tables `sql` names outside its CTEs, and the table functions it calls."""
    with _PARSING:
        (serialized,) = _parser().execute("SELECT json_serialize_sql($sql)", {"sql": sql}).fetchone()
    tree = json.loads(serialized)
    if tree["error"]:
        raise ValueError(f"not a query DuckDB can parse: {tree['error_message']}")
    tables: set[str] = set()
    calls: set[str] = set()
    _walk(tree["statements"], frozenset(), tables, calls)
    return frozenset(tables), frozenset(calls)


def tables_read(sql: str, table_macros: Mapping[str, str] | None = None) -> frozenset[str]:
    """The tables `sql` (one SELECT) reads, directly or through the `table_macros` it calls (name → body)."""
    table_macros = table_macros or {}
    tables, calls = _parse(sql)
    for macro in sorted(calls & table_macros.keys()):
        tables |= tables_read(table_macros[macro], table_macros)
    return tables


def declared_reads(sql: str, what: str, table_macros: Mapping[str, str] | None = None) -> frozenset[str]:
    """`tables_read`, each of them declared in the catalog; else UndeclaredTable naming `what` reads them."""
    reads = tables_read(sql, table_macros)
    undeclared = sorted(reads - TABLES.keys())
    if undeclared:
        raise UndeclaredTable(
            f"{what} reads {', '.join(undeclared)}, which tables/catalog.py does not declare: declare every "
            "table a later step reads, so the asset graph can depend on it"
        )
    return reads
