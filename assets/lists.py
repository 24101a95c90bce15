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
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

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
    CHANGED_SINCE,
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
    few_enough,
    make_again,
    update_night_facts,
)
from aidmatch.rules.lists import LIST_TABLES, build_lists, district_counts
from aidmatch.rules.sql_files import sql_reads
from aidmatch.settings import Settings
from aidmatch.sources.changed_records import changed_table
from aidmatch.sources.tables import same_place_sql
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


def _inputs(built: dict[str, Built], unit: str, tables: tuple[Table, ...]) -> dict[str, str]:
    """What the SQL of `tables` (the ledger's `unit`) is made from: the data version of each other unit of
    the ledger that made a table or view it reads — or that a view of the linker it reads, reads."""
    reads = sql_reads(*tables)
    reads = reads.union(*(declared_reads(sql, name) for name, sql in LINKED_VIEWS.items() if name in reads))
    return {
        name: made.data_version
        for name, made in sorted(built.items())
        if name != unit and reads.intersection(made.tables)
    }


@dataclass(frozen=True)
class _Plan:
    """What a night does with a unit of facts (or `facts_persons`): `decision`, and what it is made from."""

    decision: Decision
    inputs: dict[str, str]  # unit -> data version (`_inputs`)
    code: str  # the facts' code version with the settings, and the month for a unit of the month
    earlier: Built | None  # the ledger's row before tonight
    anyway: str | None  # why the tables are made whole whatever changed (a full night, a city of a province)

    @property
    def summary(self) -> dict[str, Any]:
        """The ledger row's summary: what the tables were made from, for the next night's `changed_only`."""
        return {"inputs": self.inputs, "code": self.code}

    @property
    def built_from(self) -> dict[str, str]:
        """The data versions of the units the tables were made from when they were made (`inputs` then)."""
        return self.earlier.summary.get("inputs", {}) if self.earlier else {}

    def changed_only(self, units: set[str]) -> list[str] | None:
        """The inputs that changed since the tables were made, when every one of them is among `units` and
        the code is the same; else None (the tables are made whole)."""
        before = self.earlier.summary if self.earlier else {}
        if (
            self.decision.reused
            or self.anyway
            or before.get("code") != self.code
            or before.get("inputs", {}).keys() != self.inputs.keys()
        ):
            return None
        changed = [unit for unit, version in self.inputs.items() if before["inputs"][unit] != version]
        return changed if set(changed) <= units else None


def _plan(
    con: duckdb.DuckDBPyConnection,
    aidmatch: AidmatchResource,
    unit: str,
    tables: tuple[Table, ...],
    as_of: dt.date,
    month: str,
) -> _Plan:
    """Reuse `unit` when what it reads — the staged tables, the linked ones, another unit's facts: the data
    versions of the ledger's units that made them — the facts' code and settings, and for a unit of the
    month the as-of `month`, are those it was built from. The linked tables alone do not say: they are
    reused while the records' identities hold, whatever else a re-sent extract changed. In a province a
    city's facts read the other cities' records of tonight: built every night there."""
    built = ledger(con)
    inputs = _inputs(built, unit, tables)
    code = digest(facts_code_version(aidmatch.settings, tables), month)
    earlier = built.get(unit)
    anyway = (
        FULL_NIGHT
        if aidmatch.full
        else "a city of a province reads the other cities' records of tonight"
        if aidmatch.city
        else "the linked tables are of no known night"
        if LINKED_UNIT not in built
        else f"the look-back moved with the as-of month (built for {earlier.built_as_of[:7]})"
        if month and earlier and earlier.built_as_of[:7] != month
        else None
    )
    version = digest(code, *(f"{name}={version}" for name, version in inputs.items()))
    return _Plan(decide(con, unit, version, as_of.isoformat(), anyway), inputs, code, earlier, anyway)


def _persons_again(con: duckdb.DuckDBPyConnection, staged: list[str], built_from: dict[str, str]) -> int:
    """Add to the temporary table `facts_again` the persons of the records of the `staged` tables that
    changed since the tables were made from them (`built_from`: unit -> data version): those of
    `changed_<source>` when the source was staged again over that very table (`sources/changed_records.py`),
    else every record of the source. Returns how many persons it holds. The linked tables being the same,
    so are those records' places and identities: only their other columns changed, and a person's facts are
    made of their own records."""
    built = ledger(con)
    con.execute("CREATE TEMP TABLE IF NOT EXISTS facts_again (person_id VARCHAR PRIMARY KEY)")
    for unit in staged:
        source = unit.removeprefix("staged_")
        changed = changed_table(source)
        if built[unit].summary.get(CHANGED_SINCE) == built_from.get(unit) and changed in built[unit].tables:
            records = f"SEMI JOIN {changed} AS c ON {same_place_sql('c', 'l')}"
        else:
            records = ""
        con.execute(
            f"INSERT OR IGNORE INTO facts_again SELECT DISTINCT l.person_id FROM core_person_links AS l {records} "
            "WHERE l.source = $source AND l.person_id IS NOT NULL",
            {"source": source},
        )
    return con.execute("SELECT count(*) FROM facts_again").fetchone()[0]  # type: ignore[index]


def _staged(units: Iterable[str]) -> set[str]:
    """The staged tables' units among `units`."""
    return {name for name in units if name.startswith("staged_")}


@dataclass(frozen=True)
class _Done:
    """What the facts step did with a unit: the decision, and whether only some persons' rows were made."""

    decision: Decision
    said: str  # for the terminal
    again: bool = False  # the rows of the persons in `facts_again` made again, the others kept


def _made_again(done: dict[str, _Done]) -> set[str]:
    """The units whose rows of the persons in `facts_again` were made again tonight, the others kept."""
    return {name for name, unit in done.items() if unit.again}


def _facts_unit(
    con: duckdb.DuckDBPyConnection,
    aidmatch: AidmatchResource,
    unit: FactsUnit,
    as_of: dt.date,
    again: set[str],
) -> _Done:
    """Take `unit` from the night that built it; or, when only staged tables it reads changed since (a source
    re-sent, its records linked as they were) and units whose rows of the persons of changed records were
    made again tonight (`again`), make its rows of those persons again; or build it whole. Writes its ledger
    row."""
    month = as_of.strftime("%Y-%m") if unit.of_the_month else ""
    plan = _plan(con, aidmatch, unit.name, unit.tables, as_of, month)
    decision = plan.decision
    if decision.reused:
        return _Done(decision, f"reused, {decision.reused.said()}")
    changed = plan.changed_only(again | _staged(plan.inputs))
    persons = _persons_again(con, sorted(_staged(changed)), plan.built_from) if changed else 0
    why = decision.why
    if changed and not few_enough(con, "facts_again"):
        changed, why = None, f"the records of {persons} persons changed since {plan.earlier.built_as_of}"
    forget(con, [unit.name], drop=not changed)
    if changed:
        make_again(con, unit, as_of, aidmatch.settings.rules, "facts_again")
        said = (
            f"kept ({plan.earlier.said()}); the rows of {persons} persons of {', '.join(changed)} made again"
        )
    else:
        build_unit(con, unit, as_of, aidmatch.settings.rules)
        said = f"built ({why})"
    tables = [table.name for table in unit.tables]
    record(con, unit.name, decision.version, as_of.isoformat(), tables, plan.summary)
    return _Done(decision, said, again=bool(changed))


def _night_facts(
    con: duckdb.DuckDBPyConnection, aidmatch: AidmatchResource, as_of: dt.date, again: set[str]
) -> str:
    """Make `facts_persons` and `facts_households` for tonight: from the night before's `facts_persons`, its
    rows of the persons the date moved made again, when that table was made from the tables tonight holds
    (the units' facts, the linked tables, the staged cards: by their data versions) by the same code and
    settings — and the rows of the persons of re-sent records too, when only they changed (`again`: the
    units whose rows of those persons were made again tonight); else whole. Says which, for the terminal."""
    tonight = as_of.isoformat()
    plan = _plan(con, aidmatch, NIGHT_FACTS, (FACTS_PERSONS,), as_of, "")
    decision = plan.decision
    changed = plan.changed_only(again | _staged(plan.inputs))
    kept = decision.reused or (plan.earlier if changed else None)
    forget(con, [NIGHT_FACTS], drop=kept is None)  # kept: its rows brought to tonight below
    if kept is None:
        build_night_facts(con, as_of, aidmatch.settings.rules)
        said = f"built ({decision.why})"
    else:
        if changed:
            _persons_again(con, sorted(_staged(changed)), plan.built_from)
        then = dt.date.fromisoformat(kept.built_as_of)
        again_table = "facts_again" if changed else None
        moved = update_night_facts(con, then, as_of, aidmatch.settings.rules, again_table)
        why = "the date moved or whose records changed" if changed else "the date moved"
        said = f"kept ({kept.said()}); the rows of {moved} persons {why} made again"
    record(con, NIGHT_FACTS, decision.version, tonight, [FACTS_PERSONS.name], plan.summary)
    return said


def facts(context: dg.AssetExecutionContext, aidmatch: AidmatchResource):
    as_of = dt.date.fromisoformat(as_of_key(context))
    with aidmatch.connect(as_of_key(context)) as con:
        other_cities_for_rules(con, aidmatch, as_of_key(context))
        create_fact_macros(con)
        done: dict[str, _Done] = {}
        for unit in FACTS_UNITS:  # each after the units it reads
            done[unit.name] = _facts_unit(con, aidmatch, unit, as_of, _made_again(done))
        night = _night_facts(con, aidmatch, as_of, _made_again(done))
        filters = ", ".join(f"count(*) FILTER ({column})" for column in FACT_COUNTS.values())
        counts = con.sql(f"SELECT {filters} FROM facts_persons").fetchall()[0]
        rows = {
            table.name: con.sql(f"SELECT count(*) FROM {table.name}").fetchall()[0][0]
            for table in FACTS_TABLES
        }
    for unit in FACTS_UNITS:
        decision = done[unit.name].decision
        tell(context.log, f"{unit.name}: {done[unit.name].said}")
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
