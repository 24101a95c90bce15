"""The linking stage: `core_persons`, `core_person_links`, `core_review_queue`, `core_profile_persons` from
the staged sources and people's decisions, and the view `linked_si_contributions` the rules read.

Wiring only: `matching.link_persons` does the work; this asset turns its summary into the match report
analysts read in the UI — counts per method and source, the score histogram, the masked head of the
review queue, and link rates as numbers so the UI plots their trend from run to run.

When what the linker reads of every staged table — each record's place and identity, digested as the table
was staged (`matching.link_input_digest`, kept in the work database's ledger, `aidmatch/reuse.py`) — and
the decisions it applies are those of an earlier night, and so are the linker's code and thresholds, the
tables that night linked are reused whole, and its match report said again: a source re-sent with other
phone numbers or statuses is staged again, but its records link as they did.
"""

import datetime as dt
from dataclasses import asdict

import dagster as dg
import duckdb

from aidmatch.assets.partitions import as_of_key
from aidmatch.assets.table_specs import table_spec
from aidmatch.code_versions import digest
from aidmatch.console import tell
from aidmatch.matching.link import LINKED_CONTRIBUTIONS_SQL, link_persons
from aidmatch.matching.reviewed import has_link_decisions
from aidmatch.matching.summary import LinkSummary
from aidmatch.metadata import metadata_table
from aidmatch.resources import AidmatchResource
from aidmatch.reuse import (
    FULL_NIGHT,
    LINK_INPUT,
    Decision,
    decide,
    forget,
    ledger,
    linked_code_version,
    record,
)
from aidmatch.settings import Settings
from aidmatch.sources.tables import SOURCES
from aidmatch.tables.catalog import (
    CORE_PERSON_LINKS,
    CORE_PERSONS,
    CORE_PROFILE_PERSONS,
    CORE_REVIEW_QUEUE,
    LINKED_SI_CONTRIBUTIONS,
)
from aidmatch.tables.reads import declared_reads

# The linker's views, with their SQL: what reads them reads what they read (the contributions).
LINKED_VIEWS = {LINKED_SI_CONTRIBUTIONS.name: LINKED_CONTRIBUTIONS_SQL}
# What the linker reads (its SQL is composed in Python, matching/): every staged source, people's decisions.
LINKER_READS = [*(f"staged_{s}" for s in SOURCES), "decisions"]
LINKED_UNIT = "linked"  # the ledger's name for what one linking makes (aidmatch/reuse.py)
# ... those tables and views: the core tables, what the decisions did, the views on them
LINKED_TABLES = (
    CORE_PERSON_LINKS.name,
    CORE_PERSONS.name,
    CORE_REVIEW_QUEUE.name,
    CORE_PROFILE_PERSONS.name,
    LINKED_SI_CONTRIBUTIONS.name,
    "core_source_duplicates",
    "decisions_link_outcomes",
    "core_decision_labels",
)


def _decisions_version(con: duckdb.DuckDBPyConnection) -> str:
    """A hash of the review decisions the linker applies (`decisions_links`, the decisions step's)."""
    if not has_link_decisions(con):
        return "none"
    (hashed,) = con.sql(
        "SELECT md5(coalesce(string_agg(d::VARCHAR, chr(10) ORDER BY decision_id), '')) FROM decisions_links AS d"
    ).fetchone()
    return hashed


def _decide(con: duckdb.DuckDBPyConnection, aidmatch: AidmatchResource, as_of: str) -> Decision:
    """Reuse the linked tables when what the linker reads of the staged tables (by digest; by data version
    for a table staged by a version that did not digest it), the decisions and the linker's code are those
    they were linked from."""
    built = ledger(con)
    present = {
        name for (name,) in con.sql("SELECT table_name FROM duckdb_tables() WHERE NOT temporary").fetchall()
    }
    staged = [f"staged_{source}" for source in SOURCES if f"staged_{source}" in present]
    unknown = [table for table in staged if table not in built]
    inputs = [
        f"{table}={built[table].summary.get(LINK_INPUT) or built[table].data_version}"
        for table in staged
        if table in built
    ]
    version = digest(linked_code_version(aidmatch.settings), *inputs, _decisions_version(con))
    anyway = FULL_NIGHT if aidmatch.full else f"{', '.join(unknown)} of no known night" if unknown else None
    return decide(con, LINKED_UNIT, version, as_of, anyway)


def _link(
    con: duckdb.DuckDBPyConnection, aidmatch: AidmatchResource, as_of: str, decision: Decision
) -> LinkSummary:
    """Link tonight's staged records, and write the ledger row of what that made."""
    forget(con, [LINKED_UNIT])
    summary = link_persons(con, aidmatch.settings.linking, dt.date.fromisoformat(as_of))
    built = ledger(con)
    horizons = [built[f"staged_{s}"].valid_until for s in SOURCES if f"staged_{s}" in built]
    present = {name for (name,) in con.sql(
        "SELECT table_name FROM duckdb_tables() WHERE NOT temporary UNION ALL "
        "SELECT view_name FROM duckdb_views() WHERE NOT temporary AND NOT internal"
    ).fetchall()}  # fmt: skip
    tables = [table for table in LINKED_TABLES if table in present]
    valid_until = min((h for h in horizons if h is not None), default=None)
    record(con, LINKED_UNIT, decision.version, as_of, tables, asdict(summary), valid_until)
    return summary


def linked(context: dg.AssetExecutionContext, aidmatch: AidmatchResource):
    as_of = as_of_key(context)
    with aidmatch.connect(as_of) as con:
        decision = _decide(con, aidmatch, as_of)
        if decision.reused:
            summary = LinkSummary(**decision.reused.summary)
            tell(
                context.log,
                f"records' identities and decisions unchanged since {decision.reused.built_as_of}: "
                "linked tables reused",
            )
        else:
            summary = _link(con, aidmatch, as_of, decision)
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
    version = dg.DataVersion(decision.data_version_at(as_of))
    reuse = {"reuse": decision.said()}
    yield dg.MaterializeResult(
        asset_key="core_person_links",
        data_version=version,
        metadata={
            **reuse,
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
        data_version=version,
        metadata={
            "dagster/row_count": summary.persons,
            "persons_with_duplicate_records": summary.duplicate_persons,
        },
    )
    yield dg.MaterializeResult(
        asset_key="core_review_queue",
        data_version=version,
        metadata={
            "dagster/row_count": summary.review_rows,
            "review_rate": round(summary.review_rows / max(1, summary.records), 4),
            "head (IDs masked)": metadata_table(summary.review_head),
        },
    )
    yield dg.MaterializeResult(
        asset_key=CORE_PROFILE_PERSONS.name, data_version=version, metadata={"dagster/row_count": profiles}
    )
    if view:
        yield dg.MaterializeResult(asset_key=LINKED_SI_CONTRIBUTIONS.name, data_version=version)


def linked_assets(settings: Settings, nights: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    view = LINKED_SI_CONTRIBUTIONS
    code = linked_code_version(settings)
    return dg.multi_asset(
        specs=[
            *(
                table_spec(table, "linked", LINKER_READS, code_version=code)
                for table in (CORE_PERSON_LINKS, CORE_PERSONS, CORE_REVIEW_QUEUE, CORE_PROFILE_PERSONS)
            ),
            # made only when the contributions are staged (a subset materialized from the UI may lack them)
            table_spec(
                view,
                "linked",
                sorted(declared_reads(LINKED_CONTRIBUTIONS_SQL, view.name)),
                skippable=True,
                code_version=code,
            ),
        ],
        partitions_def=nights,
        name="link_persons",
    )(linked)
