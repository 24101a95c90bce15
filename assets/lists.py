"""The rules stage: the facts (`facts_persons`, `facts_locations`, `facts_households` and the two tables
`facts_persons` is made from), then the lists of SPEC section 4.

Wiring only (see `rules/`): each table is an asset whose upstream is the tables its SQL reads
(`assets/table_specs.py`), and in a province every city's person index of the night besides. The facts
that do not depend on the date (`rules/facts.py`, `FACTS_UNITS`) are taken from the night that built them
when the tables they read (staged, linked, another unit's) and the facts' code and settings are that
night's — and, for the look-back's contributions, the as-of month (`aidmatch/reuse.py`); `facts_persons` is
then the night before's, brought to tonight's date.
"""

import datetime as dt

import dagster as dg
import duckdb

from aidmatch.assets.linking import LINKED_UNIT, LINKED_VIEWS
from aidmatch.assets.partitions import as_of_key
from aidmatch.assets.province import other_cities_for_rules, rules_deps
from aidmatch.assets.table_specs import sql_table_spec
from aidmatch.code_versions import digest
from aidmatch.console import tell
from aidmatch.metadata import metadata_table
from aidmatch.province.person_index import keep_own_rows
from aidmatch.resources import AidmatchResource
from aidmatch.reuse import (
    FULL_NIGHT,
    Built,
    Decision,
    decide,
    facts_code_version,
    forget,
    ledger,
    record,
)
from aidmatch.rules.codes import labels_of
from aidmatch.rules.facts import (
    FACTS_TABLES,
    FACTS_UNITS,
    FactsUnit,
    build_night_facts,
    build_unit,
    create_fact_macros,
    update_night_facts,
)
from aidmatch.rules.lists import LIST_TABLES, build_lists, district_counts
from aidmatch.rules.sql_files import sql_reads
from aidmatch.settings import Settings
from aidmatch.tables.catalog import FACTS_PERSONS, Table
from aidmatch.tables.reads import declared_reads

# The ledger's unit of facts_persons: made for one as-of date, brought to the next by `update_night_facts`.
NIGHT_FACTS = "facts_night"
FACT_COUNTS = {  # per fact, how many persons it holds for: numbers the UI plots night over night
    "working_age": "working_age",
    "employed": "employed",
    "flexibly_employed": "flexibly_employed",
    "dibao_active": "dibao_active",
    "disabled": "disabled",
    "registered_unemployed": "registered",
}


def _inputs(built: dict[str, Built], unit: str, tables: tuple[Table, ...]) -> list[str]:
    """What the SQL of `tables` (the ledger's `unit`) is made from: the data version of each other unit of
    the ledger that made a table or view it reads — or that a view of the linker it reads, reads."""
    reads = frozenset().union(*map(sql_reads, tables))
    reads = reads.union(*(declared_reads(sql, name) for name, sql in LINKED_VIEWS.items() if name in reads))
    return sorted(
        f"{name}={made.data_version}"
        for name, made in built.items()
        if name != unit and reads.intersection(made.tables)
    )


def _decide_facts(
    con: duckdb.DuckDBPyConnection, aidmatch: AidmatchResource, unit: FactsUnit, as_of: dt.date
) -> Decision:
    """Reuse `unit` when what it reads — the staged tables, the linked ones, another unit's facts: the data
    versions of the ledger's units that made them — the facts' code and settings, and for a unit of the
    month the as-of month, are those it was built from. The linked tables alone do not say: they are
    reused while the records' identities hold, whatever else a re-sent extract changed. In a province a
    city's facts read the other cities' records of tonight: built every night there."""
    built = ledger(con)
    linked = built.get(LINKED_UNIT)
    month = as_of.strftime("%Y-%m") if unit.of_the_month else ""
    inputs = _inputs(built, unit.name, unit.tables)
    version = digest(facts_code_version(aidmatch.settings, unit.tables), *inputs, month)
    earlier = built.get(unit.name)
    anyway = (
        FULL_NIGHT
        if aidmatch.full
        else "a city of a province reads the other cities' records of tonight"
        if aidmatch.city
        else "the linked tables are of no known night"
        if linked is None
        else f"the look-back moved with the as-of month (built for {earlier.built_as_of[:7]})"
        if month and earlier and earlier.built_as_of[:7] != month
        else None
    )
    return decide(con, unit.name, version, as_of.isoformat(), anyway)


def _facts_unit(
    con: duckdb.DuckDBPyConnection, aidmatch: AidmatchResource, unit: FactsUnit, as_of: dt.date
) -> Decision:
    """Take `unit` from the night that built it, or build it and write its ledger row."""
    decision = _decide_facts(con, aidmatch, unit, as_of)
    if decision.reused is None:
        forget(con, [unit.name])
        build_unit(con, unit, as_of, aidmatch.settings.rules)
        tables = [table.name for table in unit.tables]
        record(con, unit.name, decision.version, as_of.isoformat(), tables, {})
    return decision


def _night_facts(con: duckdb.DuckDBPyConnection, aidmatch: AidmatchResource, as_of: dt.date) -> str:
    """Make `facts_persons` and `facts_households` for tonight: from the night before's `facts_persons`, its
    rows of the persons the date moved made again, when that table was made from the tables tonight holds
    (the units' facts, the linked tables, the staged cards: by their data versions) by the same code and
    settings; else whole. Says which, for the terminal."""
    tonight = as_of.isoformat()
    inputs = _inputs(ledger(con), NIGHT_FACTS, (FACTS_PERSONS,))
    version = digest(facts_code_version(aidmatch.settings, (FACTS_PERSONS,)), *inputs)
    decision = decide(con, NIGHT_FACTS, version, tonight, FULL_NIGHT if aidmatch.full else None)
    forget(con, [NIGHT_FACTS], drop=decision.reused is None)  # kept: its rows brought to tonight below
    if decision.reused is None:
        build_night_facts(con, as_of, aidmatch.settings.rules)
        said = f"built ({decision.why})"
    else:
        then = dt.date.fromisoformat(decision.reused.built_as_of)
        moved = update_night_facts(con, then, as_of, aidmatch.settings.rules)
        said = f"kept ({decision.reused.said()}); the rows of {moved} persons the date moved made again"
    record(con, NIGHT_FACTS, version, tonight, [FACTS_PERSONS.name], {})
    return said


def facts(context: dg.AssetExecutionContext, aidmatch: AidmatchResource):
    as_of = dt.date.fromisoformat(as_of_key(context))
    with aidmatch.connect(as_of_key(context)) as con:
        other_cities_for_rules(con, aidmatch, as_of_key(context))
        create_fact_macros(con)
        decisions = {unit.name: _facts_unit(con, aidmatch, unit, as_of) for unit in FACTS_UNITS}
        night = _night_facts(con, aidmatch, as_of)
        filters = ", ".join(f"count(*) FILTER ({column})" for column in FACT_COUNTS.values())
        counts = con.sql(f"SELECT {filters} FROM facts_persons").fetchall()[0]
        rows = {
            table.name: con.sql(f"SELECT count(*) FROM {table.name}").fetchall()[0][0]
            for table in FACTS_TABLES
        }
    for unit in FACTS_UNITS:
        decision = decisions[unit.name]
        tell(
            context.log,
            f"{unit.name}: reused, {decision.reused.said()}"
            if decision.reused
            else f"{unit.name}: built ({decision.why})",
        )
        for table in unit.tables:
            yield dg.MaterializeResult(
                asset_key=table.name,
                data_version=dg.DataVersion(decision.data_version_at(as_of.isoformat())),
                metadata={"reuse": decision.said(), "dagster/row_count": rows[table.name]},
            )
    tell(context.log, f"facts_persons: {night}")
    yield dg.MaterializeResult(
        asset_key="facts_persons",
        metadata={
            "reuse": night,
            "dagster/row_count": rows["facts_persons"],
            **dict(zip(FACT_COUNTS, counts, strict=True)),
        },
    )
    yield dg.MaterializeResult(
        asset_key="facts_households", metadata={"dagster/row_count": rows["facts_households"]}
    )


# In the order they are built and yielded: a multi-asset yields an output after those it depends on.
LIST_SPECS = [table.name for table in LIST_TABLES]
_BREAKDOWN = {  # per list: how many rows per category and reason code, for the UI
    "out_proactive": "SELECT category, unnest(string_split(reasons, ';')) AS reason FROM out_proactive",
    "out_removals": "SELECT roll, confidence, unnest(string_split(reasons, ';')) AS reason FROM out_removals",
    "out_zero_employment_households": "SELECT status FROM out_zero_employment_households",
    "out_entitlements": "SELECT entitlement, confidence FROM out_entitlements",
    "out_dibao_employment": "SELECT finding, dibao_type FROM out_dibao_employment",
    "out_households_at_risk": "SELECT risk FROM out_households_at_risk",
    "out_disability_employment": "SELECT status, disability_grade FROM out_disability_employment",
}
# The lists with a number per code and per code × district in the UI (plotted over runs): list -> (the code
# column, its codes' kind in rules/codes.py).
_CODE_NUMBERS = {
    "out_entitlements": ("entitlement", "entitlement"),
    "out_dibao_employment": ("finding", "dibao_finding"),
    "out_households_at_risk": ("risk", "household_risk"),
    "out_disability_employment": ("status", "disability_status"),
}


def _code_numbers(counts: list[dict[str, str | int]], column: str, kind: str) -> dict[str, int]:
    """One number per code (every code of its list, 0 when absent) and per code × district."""
    totals = {code: sum(int(r["rows"]) for r in counts if r[column] == code) for code in labels_of(kind)}
    return totals | {f"{r[column]} {r['district']}": int(r["rows"]) for r in counts}


def lists(context: dg.AssetExecutionContext, aidmatch: AidmatchResource):
    as_of = dt.date.fromisoformat(as_of_key(context))
    with aidmatch.connect(as_of_key(context)) as con:
        other_cities_for_rules(con, aidmatch, as_of_key(context))
        summary = build_lists(con, as_of, aidmatch.settings.rules, aidmatch.settings.visits)
        if aidmatch.city:  # a province: the rows this city works
            summary |= {table: summary[table] - removed for table, removed in keep_own_rows(con).items()}
        breakdowns = {
            key: con.sql(f"SELECT *, count(*) AS rows FROM ({sql}) GROUP BY ALL ORDER BY ALL").pl().to_dicts()
            for key, sql in _BREAKDOWN.items()
        }
        counts = {table: district_counts(con, table, column) for table, (column, _) in _CODE_NUMBERS.items()}
    extra: dict[str, dict[str, object]] = {
        "out_removals": {name: n for name, n in summary.items() if name.startswith("keep_decisions ")},
        "out_proactive": {name: n for name, n in summary.items() if name.startswith("visit_outcomes ")},
    }
    for table, (column, kind) in _CODE_NUMBERS.items():
        extra[table] = {
            **_code_numbers(counts[table], column, kind),
            "by district": metadata_table(counts[table], [column, "district", "rows"]),
        }
    for key in LIST_SPECS:
        tell(context.log, f"{key}: {summary[key]} rows")
        yield dg.MaterializeResult(
            asset_key=key,
            metadata={
                "dagster/row_count": summary[key],
                # a row with several reasons is counted under each: the reasons add up to more than the rows
                "rows by reason (a row with several reasons counts under each)": metadata_table(
                    breakdowns[key]
                ),
                **extra.get(key, {}),
            },
        )


def facts_asset(settings: Settings, nights: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    return dg.multi_asset(
        specs=[sql_table_spec(table, "facts", rules_deps(settings)) for table in FACTS_TABLES],
        partitions_def=nights,
        name="facts_persons",
    )(facts)


def lists_asset(settings: Settings, nights: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    return dg.multi_asset(
        specs=[
            sql_table_spec(
                table,
                "lists",
                rules_deps(settings),
                f"{table.description} One row per {table.grain}; published as `{table.csv}.csv`.",
            )
            for table in LIST_TABLES
        ],
        partitions_def=nights,
        name="build_lists",
    )(lists)
