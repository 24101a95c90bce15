"""The linking stage: `core_persons`, `core_person_links`, `core_review_queue`, `core_profile_persons` from
the staged sources and people's decisions, and the view `linked_si_contributions` the rules read.

Wiring only: `matching.link_persons` does the work; this asset turns its summary into the match report
analysts read in the UI — counts per method and source, the score histogram, the masked head of the
review queue, and link rates as numbers so the UI plots their trend from run to run.
"""

import datetime as dt

import dagster as dg

from aidmatch.assets.partitions import as_of_key
from aidmatch.assets.table_specs import table_spec
from aidmatch.console import tell
from aidmatch.matching.link import LINKED_CONTRIBUTIONS_SQL, link_persons
from aidmatch.metadata import metadata_table
from aidmatch.resources import AidmatchResource
from aidmatch.sources.tables import SOURCES
from aidmatch.tables.catalog import (
    CORE_PERSON_LINKS,
    CORE_PERSONS,
    CORE_PROFILE_PERSONS,
    CORE_REVIEW_QUEUE,
    LINKED_SI_CONTRIBUTIONS,
)
from aidmatch.tables.reads import declared_reads

# What the linker reads (its SQL is composed in Python, matching/): every staged source, people's decisions.
LINKER_READS = [*(f"staged_{s}" for s in SOURCES), "decisions"]


def linked(context: dg.AssetExecutionContext, aidmatch: AidmatchResource):
    as_of = as_of_key(context)
    with aidmatch.connect(as_of) as con:
        summary = link_persons(con, aidmatch.settings.linking, dt.date.fromisoformat(as_of))
        (profiles,) = con.sql(f"SELECT count(*) FROM {CORE_PROFILE_PERSONS.name}").fetchall()[0]
        (view,) = con.execute(
            "SELECT count(*) FROM duckdb_views() WHERE view_name = $name",
            {"name": LINKED_SI_CONTRIBUTIONS.name},
        ).fetchall()[0]
    rates = {
        f"link_rate {source}": round(
            sum(n for method, n in methods.items() if not method.startswith("unlinked:"))
            / max(1, sum(methods.values())),
            4,
        )
        for source, methods in summary.by_source.items()
    }
    tell(
        context.log,
        f"linked {summary.linked} of {summary.records} records to {summary.persons} persons; "
        f"{summary.review_rows} to review",
    )
    yield dg.MaterializeResult(
        asset_key="core_person_links",
        metadata={
            "dagster/row_count": summary.records,
            "linked": summary.linked,
            "link_rate": round(summary.linked / max(1, summary.records), 4),
            **rates,
            "by_method": metadata_table([{"method": m, "records": n} for m, n in summary.by_method.items()]),
            "by_source_and_method": metadata_table(
                [
                    {"source": s, "method": m, "records": n}
                    for s, methods in summary.by_source.items()
                    for m, n in methods.items()
                ]
            ),
            "score_histogram (bits, non-exact links)": metadata_table(
                [{"from": lo, "to": hi, "records": n} for lo, hi, n in summary.score_histogram]
            ),
            "blocking_pairs": metadata_table(
                [{"rule": r, "pairs": n} for r, n in summary.blocking_pairs.items()]
            ),
            "accept_threshold": summary.accept_threshold,
            "review_threshold": summary.review_threshold,
            **{f"review decisions {status}": n for status, n in sorted(summary.decisions.items())},
            "accuracy from labels (reviewed pairs per method)": metadata_table(
                summary.label_accuracy, ["method", "confirmed", "rejected", "confirmed_share"]
            ),
        },
    )
    yield dg.MaterializeResult(
        asset_key="core_persons",
        metadata={
            "dagster/row_count": summary.persons,
            "persons_with_duplicate_records": summary.duplicate_persons,
        },
    )
    yield dg.MaterializeResult(
        asset_key="core_review_queue",
        metadata={
            "dagster/row_count": summary.review_rows,
            "review_rate": round(summary.review_rows / max(1, summary.records), 4),
            "head (IDs masked)": metadata_table(summary.review_head),
        },
    )
    yield dg.MaterializeResult(asset_key=CORE_PROFILE_PERSONS.name, metadata={"dagster/row_count": profiles})
    if view:
        yield dg.MaterializeResult(asset_key=LINKED_SI_CONTRIBUTIONS.name)


def linked_assets(nights: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    view = LINKED_SI_CONTRIBUTIONS
    return dg.multi_asset(
        specs=[
            *(
                table_spec(table, "linked", LINKER_READS)
                for table in (CORE_PERSON_LINKS, CORE_PERSONS, CORE_REVIEW_QUEUE, CORE_PROFILE_PERSONS)
            ),
            # made only when the contributions are staged (a subset materialized from the UI may lack them)
            table_spec(
                view, "linked", sorted(declared_reads(LINKED_CONTRIBUTIONS_SQL, view.name)), skippable=True
            ),
        ],
        partitions_def=nights,
        name="link_persons",
    )(linked)
