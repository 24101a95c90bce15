"""The rules stage: `facts_persons`, then the lists of SPEC section 4. Wiring only (see `rules/`)."""

import datetime as dt

import dagster as dg

from aidmatch.assets.partitions import as_of_partitions
from aidmatch.console import tell
from aidmatch.metadata import metadata_table
from aidmatch.resources import AidmatchResource
from aidmatch.rules.codes import CODES
from aidmatch.rules.facts import build_person_facts
from aidmatch.rules.lists import build_lists, entitlement_counts
from aidmatch.sources.tables import SOURCES

LINKED = ["core_person_links", "core_persons"]


@dg.asset(
    group_name="facts",
    deps=[*LINKED, *(f"staged_{s}" for s in SOURCES)],
    partitions_def=as_of_partitions,
    kinds={"duckdb"},
    description="Per person at D: working age, employed, 低保, disability, registration, si status, household.",
)
def facts_persons(context: dg.AssetExecutionContext, aidmatch: AidmatchResource) -> dg.MaterializeResult:
    as_of = dt.date.fromisoformat(context.partition_key)
    with aidmatch.connect(context.partition_key) as con:
        persons = build_person_facts(con, as_of, aidmatch.settings.rules)
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
    return dg.MaterializeResult(metadata={"persons": persons, **dict(zip(names, counts, strict=True))})


LIST_SPECS = {  # in the order they are built (a multi-asset yields its outputs after their dependencies)
    "out_zero_employment_households": "零就业家庭: CONFIRMED / POTENTIAL, one row per household.",
    "out_proactive": "主动发现名单: RECOGNIZE and OUTREACH, one row per person, with reasons and evidence.",
    "out_entitlements": "应享尽享: the subsidies and allowance the data proves, one row per person × entitlement (× employer).",
    "out_removals": "应退出名单: one row per registration × roll, with reasons, confidence and evidence.",
}
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
            key,
            group_name="lists",
            description=text,
            deps=LIST_DEPS.get(key, ["facts_persons"]),
            kinds={"duckdb"},
        )
        for key, text in LIST_SPECS.items()
    ],
    partitions_def=as_of_partitions,
    name="build_lists",
)
def lists(context: dg.AssetExecutionContext, aidmatch: AidmatchResource):
    as_of = dt.date.fromisoformat(context.partition_key)
    with aidmatch.connect(context.partition_key) as con:
        summary = build_lists(con, as_of, aidmatch.settings.rules)
        breakdowns = {
            key: con.sql(f"SELECT *, count(*) AS rows FROM ({sql}) GROUP BY ALL ORDER BY ALL").pl().to_dicts()
            for key, sql in _BREAKDOWN.items()
        }
        counts = entitlement_counts(con)
    extra = {
        "out_entitlements": {
            **_entitlement_numbers(counts),
            "by district": metadata_table(counts, ["entitlement", "district", "rows"]),
        }
    }
    for key in LIST_SPECS:
        tell(context.log, f"{key}: {summary[key]} rows")
        yield dg.MaterializeResult(
            asset_key=key,
            metadata={
                "rows": summary[key],
                "breakdown": metadata_table(breakdowns[key]),
                **extra.get(key, {}),
            },
        )
