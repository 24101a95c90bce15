"""The province person index: what a city's run gives the other cities, and how it reads theirs.

Each city's run links its own records (identity resolution stays inside the city), then writes its
*linked* records as Parquet — one file per source, `EXCHANGE/<as-of>/<city>/<source>.parquet`, every
staged column with the record's `person_id` and link `method`, its file named `<city>/<source>/...` —
and needs nothing else from the others. Before the rules, a city's facts and lists steps read, beside
their own tables, every other city's records *of their own persons*: found by the exact ID join on
`person_id` (someone registered here who works, draws 低保 or retired in another city). Temporary views
named like the tables and views (`staged_<source>`, `core_person_links`, `core_persons`,
`linked_si_contributions`) put them together, so the rules' SQL is the one-node SQL, unchanged; the
persons are this city's people — on one of its rolls
(a registration, a 低保 record, a card here), the only people its lists name. The lists then keep this
city's rows: its registrations and its households (`keep_own_rows`).

What does not belong here: the partitions, jobs and sensor (`pipelines/province.py`) and the rules.
"""

import shutil
from pathlib import Path

import duckdb

from aidmatch.matching.link import linked_contributions_sql
from aidmatch.sources.raw_table import sql_text
from aidmatch.sources.tables import SOURCE_RECORD_SQL, SOURCES, same_place_sql

# The sources whose records put a person on a roll a list is worked from; the others say what a person
# does (contributions, pension, death) wherever they live.
ROLL_SOURCES = ("unemployment", "dibao", "disability")


class PersonIndexMissing(Exception):
    """A city's run reached the rules before every other city of the province had written its index."""


def _present_sources(con: duckdb.DuckDBPyConnection, database: str) -> list[str]:
    tables = {
        name
        for (name,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = ? AND schema_name = 'main'",
            [database],
        ).fetchall()
    }
    return [source for source in SOURCES if f"staged_{source}" in tables]


def _database(con: duckdb.DuckDBPyConnection) -> str:
    (name,) = con.execute("SELECT current_database()").fetchall()[0]
    return '"' + name.replace('"', '""') + '"'


def export_person_index(con: duckdb.DuckDBPyConnection, city: str, folder: Path) -> dict[str, int]:
    """Write this city's linked records to `folder/<city>/<source>.parquet` (replacing the city's previous
    index whole, never leaving half of one); return the rows written per source."""
    target, partial = folder / city, folder / f".{city}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    database = _database(con)
    written = {}
    for source in _present_sources(con, database.strip('"')):
        path = sql_text(str(partial / f"{source}.parquet"))
        (rows,) = con.execute(
            f"""
            COPY (
                SELECT s.* EXCLUDE (source_record) REPLACE ({sql_text(city + "/")} || s.source_file AS source_file),
                       l.person_id, l.method
                FROM staged_{source} AS s
                JOIN core_person_links AS l
                  ON l.source = {sql_text(source)} AND {same_place_sql("l", "s")}
                WHERE l.person_id IS NOT NULL
            ) TO {path} (FORMAT parquet)
            """
        ).fetchall()[0]
        written[source] = rows
    if target.exists():
        shutil.rmtree(target)
    partial.rename(target)
    return written


def attach_person_index(
    con: duckdb.DuckDBPyConnection, folder: Path, city: str, cities: tuple[str, ...]
) -> None:
    """On `con` (this city's work database), make `core_persons` this city's people (on one of its rolls)
    and every other city's records of them part of `staged_<source>` and `core_person_links` (temporary
    views over the tables and the index files in `folder`). PersonIndexMissing when a city has not
    written its index yet."""
    others = [other for other in cities if other != city]
    missing = [other for other in others if not (folder / other).is_dir()]
    if missing:
        raise PersonIndexMissing(
            f"the person index of {', '.join(missing)} for this night is not in {folder} yet: run those "
            "cities' intake first (the province sensor starts the lists once every city's index is in)."
        )
    database = _database(con)
    rolls = ", ".join(sql_text(source) for source in ROLL_SOURCES)
    own_persons = (
        f"(SELECT person_id FROM {database}.main.core_person_links "
        f"WHERE source IN ({rolls}) AND person_id IS NOT NULL)"
    )
    links = []  # every other city's links of this city's persons, one SELECT per source
    for source in _present_sources(con, database.strip('"')):
        files = [path for other in others if (path := folder / other / f"{source}.parquet").is_file()]
        own = f"SELECT * FROM {database}.main.staged_{source}"
        # the linked contributions: this city's through its profiles, the others' with their person
        linked = (
            linked_contributions_sql(
                f"{database}.main.staged_{source}", f"{database}.main.core_profile_persons"
            )
            if source == "si_contributions"
            else None
        )
        if files:
            # every other city's records of this city's persons, with their person, link method and name
            theirs = (
                f"(SELECT *, {SOURCE_RECORD_SQL} AS source_record "
                f"FROM read_parquet([{', '.join(sql_text(str(path)) for path in files)}]) "
                f"WHERE person_id IN {own_persons})"
            )
            own += f" UNION ALL BY NAME SELECT * EXCLUDE (person_id, method) FROM {theirs}"
            links.append(
                f"SELECT {sql_text(source)} AS source, source_file, source_sheet, source_row, person_id, method "
                f"FROM {theirs}"
            )
            if linked is not None:
                linked += f" UNION ALL BY NAME SELECT * EXCLUDE (method) FROM {theirs}"
        con.execute(f"CREATE OR REPLACE TEMP VIEW staged_{source} AS {own}")
        if linked is not None:
            con.execute(f"CREATE OR REPLACE TEMP VIEW linked_{source} AS {linked}")
    theirs = " UNION ALL ".join(links) or (
        "SELECT NULL::VARCHAR AS source, NULL::VARCHAR AS source_file, NULL::VARCHAR AS source_sheet, "
        "NULL::INTEGER AS source_row, NULL::VARCHAR AS person_id, NULL::VARCHAR AS method WHERE false"
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP VIEW core_person_links AS
        SELECT * FROM {database}.main.core_person_links
        UNION ALL BY NAME
        SELECT *, {SOURCE_RECORD_SQL} AS source_record FROM ({theirs})
        """
    )
    # This city's people — those on one of its rolls, the only people its lists name — with the sources
    # any city holds a record of them in.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP VIEW core_persons AS
        SELECT p.* REPLACE (list_sort(list_distinct(p.sources || coalesce(o.sources, []))) AS sources)
        FROM {database}.main.core_persons AS p
        LEFT JOIN (SELECT person_id, list(DISTINCT source) AS sources FROM ({theirs}) GROUP BY person_id) AS o
          USING (person_id)
        WHERE p.person_id IN {own_persons}
        """
    )


def keep_own_rows(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Delete from the lists the rows that are another city's to work: another city's registration of one
    of this city's people, a household of another city (民政's members by the household of their 低保
    record), a card holder whose card another city issued. (A person is on this city's proactive list only
    if on one of its rolls: `core_persons` holds no one else.) Returns the rows removed per list."""
    database = _database(con)
    own_households = f"household_id IN (SELECT household_id FROM {database}.main.staged_dibao)"
    own = {
        "out_removals": f"source_record IN (SELECT source_record FROM {database}.main.staged_unemployment)",
        "out_zero_employment_households": own_households,
        "out_households_at_risk": own_households,
        "out_dibao_employment": own_households,
        "out_disability_employment": (
            f"person_id IN (SELECT person_id FROM {database}.main.core_person_links WHERE source = 'disability')"
        ),
    }
    removed = {}
    for table, condition in own.items():
        (count,) = con.execute(f"DELETE FROM {table} WHERE NOT ({condition})").fetchall()[0]
        removed[table] = count
    return removed
