"""Person facts as of a date (SPEC section 4): age, working age, employment, 低保, disability,
registration, pension / death status — one row per person in `facts_persons`, with evidence text —
where each person lives and how to reach them, in `facts_locations` (SPEC section 5, "点对点"), and each
active urban 低保 household's members, who of them counts and works, in `facts_households`.

Most of a person's facts do not depend on the as-of date: what the 低保 record in force, the registration
or the 社保 status say, the retirement date, where the person lives. They are built as units that a night
whose inputs are unchanged — the tables each unit's SQL reads — takes from the night that built them
(`aidmatch/reuse.py`, the facts step in `assets/lists.py`): `PERSON_RECORDS` (`facts_person_records`,
`facts_locations`), whatever the date; `PERSON_WORK` (`facts_person_work`: the look-back's contributions)
and `PERSON_EMPLOYERS` (each recognized person's employers of those months, `facts_person_employers`, which
the employer subsidy of the lists asks of the contributions), for one as-of month. Each night then makes
`facts_persons` from them with what only the date decides (age, working age, the disability card valid at
D) — or, when its units are those of the night before, keeps that night's and makes again only the rows the
date moved (`update_night_facts`) — and `facts_households` from that.

The logic is the SQL in `person_records.sql`, `locations.sql` (its address parser in `address_parts.sql`),
`person_work.sql`, `person_employers.sql`, `persons.sql` (and `persons_moved.sql`) and `households.sql` (the
tables declared in `aidmatch.tables.catalog`); this module only feeds it the settings. The lists (lists.py)
read `facts_persons`, `facts_locations` and `facts_households` and nothing else about a person, but for the
employer subsidy (entitlements.sql), which reads `facts_person_employers`.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb

from aidmatch.matching.link import contributions_of_persons_sql
from aidmatch.rules.retirement import create_retirement_macro
from aidmatch.rules.settings import RuleSettings
from aidmatch.rules.sql_files import create_table_macro, read_sql_file, run_sql_file, sql_reads, table_sql
from aidmatch.tables.catalog import (
    FACTS_HOUSEHOLDS,
    FACTS_LOCATIONS,
    FACTS_PERSON_EMPLOYERS,
    FACTS_PERSON_RECORDS,
    FACTS_PERSON_WORK,
    FACTS_PERSONS,
    LINKED_SI_CONTRIBUTIONS,
    TABLES,
    Table,
)
from aidmatch.tables.ddl import build_table, rewrite_table
from aidmatch.work_database import dead_share


@dataclass(frozen=True)
class FactsUnit:
    """Facts tables built together, and reused together while what they are made from holds."""

    name: str  # the unit in the work database's ledger (aidmatch/reuse.py)
    tables: tuple[Table, ...]
    of_the_month: bool  # made for the as-of date's month; else whatever the date

    def parameters(self, as_of: date, settings: RuleSettings) -> dict[str, Any]:
        """The SQL's parameters: the settings it reads, and the as-of date for a unit of the month."""
        if self.of_the_month:
            return {"as_of": as_of, "lookback_months": settings.lookback_months}
        return {"women_category": settings.women_retirement_category.code}


PERSON_RECORDS = FactsUnit("facts_records", (FACTS_PERSON_RECORDS, FACTS_LOCATIONS), of_the_month=False)
PERSON_WORK = FactsUnit("facts_work", (FACTS_PERSON_WORK,), of_the_month=True)
# Apart from the look-back's contributions: the employers are asked only of recognized persons (whom
# facts_person_records names), so a re-sent registration changes them and leaves the look-back as it was.
PERSON_EMPLOYERS = FactsUnit("facts_employers", (FACTS_PERSON_EMPLOYERS,), of_the_month=True)
FACTS_UNITS = (PERSON_RECORDS, PERSON_WORK, PERSON_EMPLOYERS)
# The persons of one part of a table built in parts (person_work.sql): in DuckDB's 3 GB, 2.5 million
# persons' look-back lists were built in 10 s a part; a province's ten million at once ran out of memory.
PERSONS_PER_PART = 3_000_000
# The share of deleted rows a facts table's file holds (DuckDB's vacuum is off: `resources.database_config`)
# past which `_rows_again` writes it anew: a night whose re-sent source's persons are 5.7% of a city's, or
# whose date moved 0.3% of facts_persons' rows, leaves them where they are; past it of the persons, a unit
# is built whole rather than made again for them (`few_enough`).
DEAD_SHARE_REWRITTEN = 0.25
# Every facts table, in the order they are built: each after the tables it reads.
FACTS_TABLES = (*(table for unit in FACTS_UNITS for table in unit.tables), FACTS_PERSONS, FACTS_HOUSEHOLDS)


def create_fact_macros(con: duckdb.DuckDBPyConnection) -> None:
    """The macros the facts' SQL calls (a connection's own: made again on each)."""
    create_retirement_macro(con)
    create_table_macro(con, "links_of")
    run_sql_file(con, "address_parts.sql", {})


@contextmanager
def _rows_in_any_order(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """The facts tables are not sorted — every reader joins, aggregates or sorts them — so DuckDB may write
    their rows in whatever order its threads finish: keeping the order of person_records.sql's joins over a
    province's ten million persons ran out of memory (3 GB) where this built them in 45 s; a city's facts
    take the same time or less."""
    con.execute("SET preserve_insertion_order = false")
    try:
        yield
    finally:
        con.execute("RESET preserve_insertion_order")


def _parts(con: duckdb.DuckDBPyConnection) -> int:
    """How many parts a table built in parts (its SQL reads `$parts`) is built in: `PERSONS_PER_PART`
    persons each."""
    persons = con.execute("SELECT count(*) FROM core_persons").fetchone()[0]  # type: ignore[index]
    return max(1, -(-persons // PERSONS_PER_PART))


def build_unit(con: duckdb.DuckDBPyConnection, unit: FactsUnit, as_of: date, settings: RuleSettings) -> None:
    """(Re)create the tables of `unit` from the staged tables and the linked ones (`create_fact_macros`
    first). `facts_locations` reads no parameter."""
    parameters = unit.parameters(as_of, settings)
    with _rows_in_any_order(con):
        for table in unit.tables:
            sql = table_sql(table)
            given = {key: value for key, value in parameters.items() if f"${key}" in sql}
            build_table(con, table, sql, given, parts=_parts(con) if "$parts" in sql else None)


def _person_keyed(tables: tuple[Table, ...]) -> list[str]:
    """The tables and views the SQL of `tables` reads whose rows are a person's (a `person_id` column)."""
    reads = sql_reads(*tables)
    return sorted(
        name for name in reads if name in TABLES and any(c.name == "person_id" for c in TABLES[name].columns)
    )


@contextmanager
def _of_persons(con: duckdb.DuckDBPyConnection, persons: str, tables: tuple[Table, ...]) -> Iterator[None]:
    """Inside, the SQL of `tables` — the same that makes a night's facts — makes the rows of the persons in
    the table `persons` only: every table it reads whose rows are a person's (`core_persons`, the links, the
    facts it is made from, the linked contributions: through those persons' links) is shadowed by a temporary
    view of those persons' rows (DuckDB looks a name up among the temporary objects first, and a table
    macro's when it is called)."""
    (database,) = con.execute("SELECT current_database()").fetchone()  # type: ignore[misc]
    shadowed = _person_keyed(tables)
    try:
        for table in shadowed:
            rows = (
                contributions_of_persons_sql(persons, f'"{database}".main.core_person_links')
                if table == LINKED_SI_CONTRIBUTIONS.name
                else f'SELECT * FROM "{database}".main.{table} WHERE person_id IN (SELECT person_id FROM {persons})'
            )
            con.execute(f"CREATE OR REPLACE TEMP VIEW {table} AS {rows}")
        yield
    finally:
        for table in shadowed:
            con.execute(f"DROP VIEW IF EXISTS temp.main.{table}")


def _rows_again(
    con: duckdb.DuckDBPyConnection, tables: tuple[Table, ...], parameters: dict[str, Any], persons: str
) -> None:
    """Delete the rows of the persons in the table `persons` from `tables` and make them again by the
    tables' own SQL (each given the `parameters` it reads), restricted to those persons (`_of_persons`).
    A table whose file holds deleted rows past `DEAD_SHARE_REWRITTEN` of its rows is then written anew."""
    with _rows_in_any_order(con):
        for table in tables:
            con.execute(f"DELETE FROM {table.name} WHERE person_id IN (SELECT person_id FROM {persons})")
        with _of_persons(con, persons, tables):
            for table in tables:
                sql = table_sql(table)
                given = {key: value for key, value in parameters.items() if f"${key}" in sql}
                con.execute(f"INSERT INTO {table.name} BY NAME {sql}", given)
        for table in tables:
            if dead_share(con, table.name) > DEAD_SHARE_REWRITTEN:
                rewrite_table(con, table)


def few_enough(con: duckdb.DuckDBPyConnection, persons: str) -> bool:
    """Whether the persons in the table `persons` are few enough for a unit's rows of theirs to be made
    again (`make_again`) rather than the unit built whole: at most `DEAD_SHARE_REWRITTEN` of core_persons'
    — past it, the rows made again would have the tables written anew all the same."""
    ((again, everyone),) = con.execute(
        f"SELECT (SELECT count(*) FROM {persons}), (SELECT count(*) FROM core_persons)"
    ).fetchall()
    return again <= DEAD_SHARE_REWRITTEN * everyone


def make_again(
    con: duckdb.DuckDBPyConnection, unit: FactsUnit, as_of: date, settings: RuleSettings, persons: str
) -> None:
    """Make the rows of `unit`'s tables of the persons in the table `persons` again, the others kept: what a
    source re-sent with its records linked as they were changes (a person's facts are made of their own
    records). Rows of a unit of many parts are made in one: a few persons' lists fit in memory."""
    _rows_again(con, unit.tables, unit.parameters(as_of, settings) | {"part": 0, "parts": 1}, persons)


def _night_parameters(as_of: date, settings: RuleSettings) -> dict[str, Any]:
    """What persons.sql reads: the as-of date and the working age's start."""
    return {"as_of": as_of, "min_working_age": settings.min_working_age}


def build_night_facts(con: duckdb.DuckDBPyConnection, as_of: date, settings: RuleSettings) -> None:
    """(Re)create `facts_persons` and `facts_households` from the units' tables (built or reused) and what
    only the as-of date decides."""
    with _rows_in_any_order(con):
        build_table(con, FACTS_PERSONS, table_sql(FACTS_PERSONS), _night_parameters(as_of, settings))
        build_table(con, FACTS_HOUSEHOLDS, table_sql(FACTS_HOUSEHOLDS))


# The persons whose row of facts_persons the date decides differently on two nights (persons_moved.sql).
PERSONS_MOVED_SQL = "persons_moved.sql"


def update_night_facts(
    con: duckdb.DuckDBPyConnection, then: date, as_of: date, settings: RuleSettings, again: str | None = None
) -> int:
    """Bring `facts_persons`, built for the as-of `then` from tonight's units, to `as_of`, and make
    `facts_households` from it: only the rows of the persons whose facts the date decides differently
    (persons_moved.sql: a birthday, a retirement date, a card's last valid day between the two) are made
    again — a few thousand of a million, where writing the million took most of an unchanged night's facts —
    and those of the persons in the table `again` (whose records changed). Returns how many."""
    moved = read_sql_file(PERSONS_MOVED_SQL)
    if again:
        moved = f"{moved} UNION SELECT person_id FROM {again}"
    con.execute(f"CREATE OR REPLACE TEMP TABLE facts_moved AS {moved}", {"then": then, "as_of": as_of})
    _rows_again(con, (FACTS_PERSONS,), _night_parameters(as_of, settings), "facts_moved")
    with _rows_in_any_order(con):
        build_table(con, FACTS_HOUSEHOLDS, table_sql(FACTS_HOUSEHOLDS))
    ((count,),) = con.execute("SELECT count(*) FROM facts_moved").fetchall()
    con.execute("DROP TABLE facts_moved")
    return count


def build_person_facts(con: duckdb.DuckDBPyConnection, as_of: date, settings: RuleSettings) -> None:
    """(Re)create every facts table from the staged tables, `core_person_links`, `linked_si_contributions`
    and `core_persons`, nothing reused."""
    create_fact_macros(con)
    for unit in FACTS_UNITS:
        build_unit(con, unit, as_of, settings)
    build_night_facts(con, as_of, settings)
