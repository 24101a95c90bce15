"""Ingest assets: `raw_<source>` (files → text table) and `staged_<source>` (normalized, validated).

One factory builds the pair for each of the five sources, so every source gets the same checks:
- `raw_<source>` · `files_readable` (blocking ERROR): a missing folder, an unreadable file or a
  missing required column stops the run — nothing downstream runs on partial input.
- `staged_<source>` · `row_rules` (WARN, or blocking ERROR past the configured quarantine rate) and
  `schema` (the Pandera schema generated from `sources/tables.py`, blocking ERROR).
The logic lives in `sources/` and `checks/`; this module only wires it.
"""

import dagster as dg

from assets.partitions import as_of_partitions
from checks.quarantine import stage_source
from checks.source_checks import files_readable_result, row_rules_result, schema_result
from pipelines.resources import AidmatchResource
from sources.file_log import record_file_reports
from sources.readers import SourceReadError, load_column_maps, read_source
from sources.tables import SOURCES

RAW_GROUP = "raw"
STAGED_GROUP = "staged"


def _raw_asset(source: str) -> dg.AssetsDefinition:
    @dg.asset(
        name=f"raw_{source}",
        group_name=RAW_GROUP,
        partitions_def=as_of_partitions,
        description=f"Every row of every file in the `{source}/` folder, as text, with its source_record.",
        check_specs=[dg.AssetCheckSpec("files_readable", asset=f"raw_{source}", blocking=True)],
        kinds={"duckdb"},
    )
    def raw(context: dg.AssetExecutionContext, aidmatch: AidmatchResource) -> dg.MaterializeResult:
        maps = load_column_maps(aidmatch.column_maps_path)
        with aidmatch.connect(context.partition_key) as con:
            try:
                reports = read_source(con, aidmatch.input_path, source, maps[source], f"raw_{source}")
            except SourceReadError as error:
                context.log.error(str(error))
                return dg.MaterializeResult(check_results=[files_readable_result(source, error=error)])
            record_file_reports(con, source, reports)
        result = files_readable_result(source, reports=reports)
        context.log.info(
            f"{source}: read {sum(r.rows_read for r in reports)} rows from {len(reports)} file(s)"
        )
        return dg.MaterializeResult(metadata=dict(result.metadata), check_results=[result])

    return raw


def _staged_asset(source: str) -> dg.AssetsDefinition:
    key = f"staged_{source}"

    @dg.asset(
        name=key,
        group_name=STAGED_GROUP,
        deps=[f"raw_{source}"],
        partitions_def=as_of_partitions,
        description=f"`{source}` normalized to the columns of sources/tables.py; failures in quarantine_{source}.",
        check_specs=[
            dg.AssetCheckSpec("row_rules", asset=key, blocking=True),
            dg.AssetCheckSpec("schema", asset=key, blocking=True),
        ],
        kinds={"duckdb"},
    )
    def staged(context: dg.AssetExecutionContext, aidmatch: AidmatchResource) -> dg.MaterializeResult:
        threshold = aidmatch.settings.validation.max_quarantine_rate
        with aidmatch.connect(context.partition_key) as con:
            result = stage_source(con, source)
            checks = [row_rules_result(result, threshold), schema_result(con, source)]
        context.log.info(
            f"{source}: staged {result.rows_staged} of {result.rows_read} rows, "
            f"{result.rows_rejected} rejected, {result.rows_flagged} flagged"
        )
        return dg.MaterializeResult(
            metadata={
                "rows_read": result.rows_read,
                "rows_staged": result.rows_staged,
                "rows_rejected": result.rows_rejected,
                "rows_flagged": result.rows_flagged,
                "quarantine_rate": round(result.quarantine_rate, 4),
            },
            check_results=checks,
        )

    return staged


ingest_assets = [factory(source) for source in SOURCES for factory in (_raw_asset, _staged_asset)]
