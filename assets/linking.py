"""The linking stage: `core_persons`, `core_person_links`, `core_review_queue` from the staged sources.

Wiring only: `matching.link_persons` does the work; this asset turns its summary into the match report
analysts read in the UI — counts per method and source, the score histogram, the masked head of the
review queue, and link rates as numbers so the UI plots their trend from run to run.
"""

import datetime as dt

import dagster as dg

from aidmatch.assets.partitions import as_of_key, as_of_partitions
from aidmatch.console import tell
from aidmatch.matching.link import link_persons
from aidmatch.metadata import OWNERS, column_schema, metadata_table, table_tags
from aidmatch.resources import AidmatchResource
from aidmatch.sources.tables import SOURCES
from aidmatch.tables.catalog import CORE_PERSON_LINKS, CORE_PERSONS, CORE_REVIEW_QUEUE

LINKED_TABLES = (CORE_PERSON_LINKS, CORE_PERSONS, CORE_REVIEW_QUEUE)


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            table.name,
            group_name="linked",
            description=table.description,
            deps=[*(f"staged_{s}" for s in SOURCES), "decisions"],
            kinds={"duckdb"},
            metadata={"dagster/column_schema": column_schema(table.columns)},
            owners=OWNERS[table.layer],
            tags=table_tags(table.layer, table.personal_data),
        )
        for table in LINKED_TABLES
    ],
    partitions_def=as_of_partitions,
    name="link_persons",
)
def linked(context: dg.AssetExecutionContext, aidmatch: AidmatchResource):
    as_of = as_of_key(context)
    with aidmatch.connect(as_of) as con:
        summary = link_persons(con, aidmatch.settings.linking, dt.date.fromisoformat(as_of))
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
