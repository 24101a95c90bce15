"""The rules stage: the facts (`facts_persons`, `facts_locations`), then the lists of SPEC section 4.

Wiring only (see `rules/`): each table is an asset whose upstream is the tables its SQL reads
(`assets/table_specs.py`), and in a province every city's person index of the night besides.
"""

import datetime as dt

import dagster as dg

from aidmatch.assets.partitions import as_of_key
from aidmatch.assets.province import other_cities_for_rules, rules_deps
from aidmatch.assets.table_specs import sql_table_spec
from aidmatch.console import tell
from aidmatch.metadata import metadata_table
from aidmatch.province.person_index import keep_own_rows
from aidmatch.resources import AidmatchResource
from aidmatch.rules.codes import CODES
from aidmatch.rules.facts import FACTS_TABLES, build_person_facts
from aidmatch.rules.lists import LIST_TABLES, build_lists, entitlement_counts
from aidmatch.settings import Settings

FACT_COUNTS = {  # per fact, how many persons it holds for: numbers the UI plots night over night
    "working_age": "working_age",
    "employed": "employed",
    "flexibly_employed": "flexibly_employed",
    "dibao_active": "dibao_active",
    "disabled": "disabled",
    "registered_unemployed": "registered",
}


def facts(context: dg.AssetExecutionContext, aidmatch: AidmatchResource):
    as_of = dt.date.fromisoformat(as_of_key(context))
    with aidmatch.connect(as_of_key(context)) as con:
        other_cities_for_rules(con, aidmatch, as_of_key(context))
        persons = build_person_facts(con, as_of, aidmatch.settings.rules)
        filters = ", ".join(f"count(*) FILTER ({column})" for column in FACT_COUNTS.values())
        counts = con.sql(f"SELECT {filters} FROM facts_persons").fetchall()[0]
        (located,) = con.sql("SELECT count(*) FROM facts_locations").fetchall()[0]
    yield dg.MaterializeResult(
        asset_key="facts_persons",
        metadata={"dagster/row_count": persons, **dict(zip(FACT_COUNTS, counts, strict=True))},
    )
    yield dg.MaterializeResult(asset_key="facts_locations", metadata={"dagster/row_count": located})


# In the order they are built and yielded: a multi-asset yields an output after those it depends on.
LIST_SPECS = [table.name for table in LIST_TABLES]
_BREAKDOWN = {  # per list: how many rows per category and reason code, for the UI
    "out_proactive": "SELECT category, unnest(string_split(reasons, ';')) AS reason FROM out_proactive",
    "out_removals": "SELECT roll, confidence, unnest(string_split(reasons, ';')) AS reason FROM out_removals",
    "out_zero_employment_households": "SELECT status FROM out_zero_employment_households",
    "out_entitlements": "SELECT entitlement, confidence FROM out_entitlements",
}
ENTITLEMENTS = tuple(c.code for c in CODES if c.kind == "entitlement")


def _entitlement_numbers(counts: list[dict[str, str | int]]) -> dict[str, int]:
    """One number per entitlement and per entitlement × district: the UI plots each over the runs."""
    totals = {code: sum(int(r["rows"]) for r in counts if r["entitlement"] == code) for code in ENTITLEMENTS}
    return totals | {f"{r['entitlement']} {r['district']}": int(r["rows"]) for r in counts}


def lists(context: dg.AssetExecutionContext, aidmatch: AidmatchResource):
    as_of = dt.date.fromisoformat(as_of_key(context))
    with aidmatch.connect(as_of_key(context)) as con:
        other_cities_for_rules(con, aidmatch, as_of_key(context))
        summary = build_lists(con, as_of, aidmatch.settings.rules)
        if aidmatch.city:  # a province: the rows this city works
            summary |= {table: summary[table] - removed for table, removed in keep_own_rows(con).items()}
        breakdowns = {
            key: con.sql(f"SELECT *, count(*) AS rows FROM ({sql}) GROUP BY ALL ORDER BY ALL").pl().to_dicts()
            for key, sql in _BREAKDOWN.items()
        }
        counts = entitlement_counts(con)
    extra = {
        "out_removals": {name: n for name, n in summary.items() if name.startswith("keep_decisions ")},
        "out_entitlements": {
            **_entitlement_numbers(counts),
            "by district": metadata_table(counts, ["entitlement", "district", "rows"]),
        },
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
