"""A declared table as a node of the asset graph: its AssetSpec, what the UI shows of it taken from its
declaration (`tables/catalog.py`), its upstream the tables it is made from.

`sql_table_spec` is for a table a SQL file of `rules/` fills: its upstream is what that SQL reads
(`rules.sql_files.sql_reads`), so an edge of the graph is never written by hand beside the SQL. This is
the one place a table becomes a node: what the graph says of every table (a version of its SQL, say)
is added here.
"""

from collections.abc import Iterable

import dagster as dg

from aidmatch.code_versions import digest
from aidmatch.metadata import OWNERS, column_schema, table_tags
from aidmatch.rules.sql_files import TABLE_MACROS, sql_reads, table_sql
from aidmatch.tables.catalog import Table


def table_spec(
    table: Table,
    group: str,
    deps: Iterable[str | dg.AssetDep],
    description: str | None = None,
    skippable: bool = False,
    code_version: str | None = None,
) -> dg.AssetSpec:
    """The asset of `table`, in `group`, made from `deps` by the code of `code_version`
    (`code_versions.py`: the UI says "has a new code version" of a night built by other code)."""
    return dg.AssetSpec(
        table.name,
        group_name=group,
        description=description or table.description,
        deps=list(deps),
        code_version=code_version,
        kinds={"duckdb"},
        skippable=skippable,
        metadata={"dagster/column_schema": column_schema(table.columns)},
        owners=OWNERS[table.layer],
        tags=table_tags(table.layer, table.personal_data),
    )


def sql_table_spec(
    table: Table, group: str, also: Iterable[dg.AssetDep] = (), description: str | None = None
) -> dg.AssetSpec:
    """The asset of a table a rules SQL file fills: made from the tables that SQL reads (and `also`), its
    code version that of its SQL (with the table macros it may call)."""
    sql = table_sql(table)
    version = digest(sql, *(f"{name}: {body}" for name, body in sorted(TABLE_MACROS.items())))
    return table_spec(table, group, [*sorted(sql_reads(table)), *also], description, code_version=version)
