"""The decisions asset: people's filled decision forms, read and validated before the night links.

Wiring only (`decisions/intake.py` does the work): the folder is the resource's `decisions_path`; the
check `valid_rows` warns with the file, row and rule of every quarantined decision row (never their
names or IDs), which the run then leaves out while applying the rest, and with every file in the folder
that could not be read as a form (truncated, another format): a case worker's 保留 decisions in it would
otherwise be silently not applied, and the people they kept back on the removal list.
"""

import datetime as dt
import logging

import dagster as dg

from aidmatch.assets.partitions import as_of_check, as_of_key
from aidmatch.console import tell
from aidmatch.decisions.intake import load_decisions
from aidmatch.metadata import OWNERS, metadata_table, table_tags
from aidmatch.resources import AidmatchResource

QUARANTINE_HEAD_ROWS = 20
VALID_ROWS_CHECK = (
    "WARN when a decided row breaks a rule (unknown record, decision or outcome, missing reason, expiry "
    "or visit date, decided two ways): it is quarantined, the others applied; or when a file in the "
    "folder cannot be read as a form. Not blocking. (A visit whose ID names nobody is found once the "
    "night has linked its persons: decisions_applied.csv and out_proactive's visit_outcomes say so.)"
)


def decisions(context: dg.AssetExecutionContext, aidmatch: AidmatchResource) -> dg.MaterializeResult:
    as_of = dt.date.fromisoformat(as_of_key(context))
    folder = aidmatch.decisions_path
    with aidmatch.connect(as_of_key(context)) as con:
        intake = load_decisions(con, folder, as_of)
        counts = (
            con.sql(
                "SELECT kind, decision, coalesce(rule, 'valid') AS rule, count(*) AS rows FROM decisions_rows "
                "GROUP BY ALL ORDER BY ALL"
            )
            .pl()
            .to_dicts()
        )
        quarantined = (
            con.sql(
                f"""SELECT file, "row", kind, rule, message FROM decisions_rows WHERE rule IS NOT NULL
                ORDER BY file, "row" LIMIT {QUARANTINE_HEAD_ROWS}"""
            )
            .pl()
            .to_dicts()
        )
        (bad,) = con.sql("SELECT count(*) FROM decisions_rows WHERE rule IS NOT NULL").fetchall()[0]
    decided = len(intake.rows)
    unread = [f"{f['file']} ({f['note']})" for f in intake.files if f["status"] == "not read"]
    tell(
        context.log,
        f"decisions: {decided} decided rows in {len(intake.files)} files of {folder}; {bad} quarantined",
    )
    for file in unread:
        tell(context.log, f"decisions: not read, its decisions not applied: {file}", logging.WARNING)
    problems = [f"{bad} of {decided} decided rows quarantined"] if bad else []
    problems += (
        [f"{len(unread)} files not read, their decisions not applied: {'; '.join(unread)}"] if unread else []
    )
    return dg.MaterializeResult(
        metadata={
            "folder": dg.MetadataValue.path(str(folder)),
            "decided_rows": decided,
            "quarantined_rows": bad,
            "files": metadata_table(
                intake.files, ["file", "status", "decided_rows", "undecided_rows", "note"]
            ),
            "by_kind_decision_rule": metadata_table(counts, ["kind", "decision", "rule", "rows"]),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name="valid_rows",
                passed=not problems,
                severity=dg.AssetCheckSeverity.WARN,
                description="; ".join(problems) or "every decided row is valid",
                metadata={
                    "quarantined_rows": bad,
                    "files_not_read": len(unread),
                    "head": metadata_table(quarantined, ["file", "row", "kind", "rule", "message"]),
                },
            )
        ],
    )


def decisions_asset(nights: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    return dg.asset(
        name="decisions",
        group_name="decisions",
        partitions_def=nights,
        kinds={"duckdb"},
        owners=OWNERS["decisions"],
        tags=table_tags("decisions", True),
        description="People's decisions (SPEC section 6): confirm / reject review-queue pairs, keep / exit "
        "removals, the street offices' visit outcomes (their work lists' 走访 sheets).",
        check_specs=[as_of_check("valid_rows", "decisions", VALID_ROWS_CHECK, nights)],
    )(decisions)
