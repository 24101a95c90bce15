"""The rules stage: `facts_persons`, then the lists of SPEC section 4. Wiring only (see `rules/`)."""

import datetime as dt

import dagster as dg

from aidmatch.assets.partitions import as_of_key, as_of_partitions
from aidmatch.assets.province import RULES_DEPS, other_cities_for_rules
from aidmatch.console import tell
from aidmatch.metadata import OWNERS, column_schema, metadata_table, table_tags
from aidmatch.province.person_index import keep_own_rows
from aidmatch.resources import AidmatchResource
from aidmatch.rules.codes import CODES
from aidmatch.rules.facts import build_person_facts
from aidmatch.rules.lists import build_lists, entitlement_counts
from aidmatch.sources.tables import SOURCES, Column
from aidmatch.tables.catalog import (
    OUT_ENTITLEMENTS,
    OUT_PROACTIVE,
    OUT_REMOVALS,
    OUT_ZERO_EMPLOYMENT_HOUSEHOLDS,
)

LINKED = ["core_person_links", "core_persons"]


@dg.asset(
    group_name="facts",
    deps=[*LINKED, *(f"staged_{s}" for s in SOURCES), *RULES_DEPS],
    partitions_def=as_of_partitions,
    kinds={"duckdb"},
    owners=OWNERS["facts"],
    tags=table_tags("facts", True),
    description="Per person at D: working age, employed, 低保, disability, registration, si status, household.",
)
def facts_persons(context: dg.AssetExecutionContext, aidmatch: AidmatchResource) -> dg.MaterializeResult:
    as_of = dt.date.fromisoformat(as_of_key(context))
    with aidmatch.connect(as_of_key(context)) as con:
        other_cities_for_rules(con, aidmatch, as_of_key(context))
        persons = build_person_facts(con, as_of, aidmatch.settings.rules)
        described = con.sql("DESCRIBE facts_persons").fetchall()
        counts = con.sql(
            """SELECT count(*) FILTER (working_age), count(*) FILTER (employed), count(*) FILTER (flexibly_employed),
                      count(*) FILTER (dibao_active), count(*) FILTER (disabled), count(*) FILTER (registered)
               FROM facts_persons"""
        ).fetchall()[0]
    names = (
        "working_age",
        "employed",
        "flexibly_employed",
        "dibao_active",
        "disabled",
        "registered_unemployed",
    )
    # facts_persons is the rules' working table, its columns those of facts.sql: shown as they are
    schema = column_schema([Column(name, kind, "", null == "YES") for name, kind, null, *_ in described])
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": persons,
            "dagster/column_schema": schema,
            **dict(zip(names, counts, strict=True)),
        }
    )


# In the order they are yielded: a multi-asset yields an output after those it depends on.
LIST_TABLES = (OUT_PROACTIVE, OUT_ENTITLEMENTS, OUT_REMOVALS, OUT_ZERO_EMPLOYMENT_HOUSEHOLDS)
LIST_SPECS = [table.name for table in LIST_TABLES]
# The removal list says when a flexibly employed person is owed the flexible subsidy.
LIST_DEPS = {"out_removals": ["facts_persons", "out_entitlements"]}
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


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            table.name,
            group_name="lists",
            description=f"{table.description} One row per {table.grain}; published as `{table.csv}.csv`.",
            deps=LIST_DEPS.get(table.name, ["facts_persons"]),
            kinds={"duckdb"},
            metadata={"dagster/column_schema": column_schema(table.columns)},
            owners=OWNERS[table.layer],
            tags=table_tags(table.layer, table.personal_data),
        )
        for table in LIST_TABLES
    ],
    partitions_def=as_of_partitions,
    name="build_lists",
)
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
        counts = entitlement_counts(con)
    extra = {
        "out_removals": {name: n for name, n in summary.items() if name.startswith("keep_decisions ")},
        "out_proactive": {name: n for name, n in summary.items() if name.startswith("visit_outcomes ")},
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
