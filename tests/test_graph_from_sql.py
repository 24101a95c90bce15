"""The asset graph from the SQL: each table a rules SQL file fills is an asset made from exactly the tables
that SQL reads, every one declared in the catalog and an asset of the graph.

The reads come from DuckDB's parse of each file (tables/reads.py); the test checks them the other way
round, with DuckDB's binder: each SQL is prepared in an empty database holding only the tables the
graph says it reads, each with its declared columns (USING joins need them) — a table the SQL reads
that the graph misses, or a column its declaration lacks, fails to bind.
"""

import dagster as dg
import duckdb
import pytest

from aidmatch.pipelines.code_location import build_defs
from aidmatch.rules.facts import FACTS_TABLES
from aidmatch.rules.lists import LIST_TABLES
from aidmatch.rules.retirement import create_retirement_macro
from aidmatch.rules.sql_files import (
    TABLE_MACROS,
    create_months_for_people,
    create_table_macro,
    run_sql_file,
    sql_reads,
    table_sql,
)
from aidmatch.settings import Settings
from aidmatch.tables.catalog import OUT_PROACTIVE, TABLES, Table
from aidmatch.tables.ddl import create_table
from aidmatch.tables.reads import UndeclaredTable, declared_reads, tables_read

RULES_TABLES = (*FACTS_TABLES, *LIST_TABLES)


@pytest.fixture(scope="module")
def graph():
    return build_defs(Settings()).resolve_asset_graph()


def _parents(graph, name: str) -> set[str]:
    return {key.to_user_string() for key in graph.get(dg.AssetKey(name)).parent_keys}


def _database_holding(tables: set[str]) -> duckdb.DuckDBPyConnection:
    """An empty database with `tables` as declared, and the macros the rules' SQL calls (each table macro,
    bound when it is made, where the tables it reads are; months_for_people, the printed months of the partner lists)."""
    con = duckdb.connect()
    for name in sorted(tables):
        create_table(con, TABLES[name])
    create_retirement_macro(con)
    create_months_for_people(con)
    for macro, body in sorted(TABLE_MACROS.items()):
        if tables_read(body) <= tables:
            create_table_macro(con, macro)
    run_sql_file(con, "address_parts.sql", {})
    return con


@pytest.mark.parametrize("table", RULES_TABLES, ids=lambda table: table.name)
def test_each_rules_table_is_made_from_the_tables_its_sql_reads_and_binds_on_them(graph, table: Table):
    reads = sql_reads(table)
    assert _parents(graph, table.name) == reads
    with _database_holding(reads) as con:
        con.execute(f"PREPARE rows AS {table_sql(table)}")  # binds: every table and column it names is there


def test_the_graph_knows_the_lists_read_by_the_lists(graph):
    assert "out_zero_employment_households" in _parents(graph, "out_proactive")
    assert "out_entitlements" in _parents(graph, "out_removals")
    contributions = _parents(graph, "facts_person_work") & _parents(graph, "facts_person_employers")
    assert "linked_si_contributions" in contributions
    assert "facts_person_employers" in _parents(graph, "out_entitlements")
    assert {"facts_person_records", "facts_person_work"} <= _parents(graph, "facts_persons")
    assert _parents(graph, "linked_si_contributions") == {"staged_si_contributions", "core_profile_persons"}


def test_every_dependency_is_an_asset_of_the_graph(graph):
    """No edge to a table the graph does not make (Dagster would draw it as an external asset); the source
    folders the nightly job observes (`files_<source>`) are the only parents it does not make."""
    for key in graph.get_all_asset_keys():
        for parent in graph.get(key).parent_keys:
            node = graph.get(parent)
            assert node.is_materializable or (node.is_observable and parent.path[0].startswith("files_")), (
                key,
                parent,
            )


def test_a_table_missing_from_the_dependencies_fails_to_bind():
    reads = sql_reads(OUT_PROACTIVE) - {"out_zero_employment_households"}
    with _database_holding(reads) as con, pytest.raises(duckdb.CatalogException, match="out_zero_employment"):
        con.execute(f"PREPARE rows AS {table_sql(OUT_PROACTIVE)}")


def test_a_query_reading_an_undeclared_table_is_refused():
    sql = table_sql(OUT_PROACTIVE).replace(
        "FROM facts_persons AS f", "FROM facts_persons AS f JOIN decisions_keeps AS k USING (person_id)", 1
    )
    with pytest.raises(UndeclaredTable, match="the SQL of out_proactive reads decisions_keeps"):
        declared_reads(sql, "the SQL of out_proactive", TABLE_MACROS)


def test_reads_are_found_in_ctes_subqueries_and_table_macros_and_a_cte_is_no_table():
    sql = """WITH facts_persons AS (SELECT person_id FROM core_persons),
                  mine AS (SELECT * FROM facts_persons JOIN links_of('dibao') USING (person_id))
             SELECT * FROM mine WHERE person_id IN (SELECT person_id FROM out_removals WHERE roll = $roll)"""
    assert tables_read(sql, TABLE_MACROS) == {"core_persons", "core_person_links", "out_removals"}
    assert tables_read("SELECT * FROM facts_persons") == {"facts_persons"}
