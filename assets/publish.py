"""The publish asset: write `OUTPUT/<as-of>/` atomically — the CSV files, the xlsx lists, the manifest."""

from pathlib import Path

import dagster as dg

from assets.partitions import as_of_partitions
from checks.quarantine import source_counts
from pipelines.resources import AidmatchResource
from publish.atomic import publish_atomically
from publish.csv_files import write_csv
from publish.manifest import code_version, input_section, write_manifest
from publish.outputs import OUTPUT_FILES
from sources.tables import SOURCES


@dg.asset(
    name="published_outputs",
    group_name="publish",
    deps=[f"staged_{source}" for source in SOURCES],
    partitions_def=as_of_partitions,
    description="OUTPUT/<as-of>/: the lists, person links, review queue, quarantine and manifest.json.",
)
def published_outputs(context: dg.AssetExecutionContext, aidmatch: AidmatchResource) -> dg.MaterializeResult:
    as_of = context.partition_key
    with aidmatch.connect(as_of) as con:
        staging = {source: source_counts(con, source) for source in SOURCES}
        written: dict[str, int] = {}

        def write(folder: Path) -> None:
            for output in OUTPUT_FILES:
                written[f"{output.name}.csv"] = write_csv(con, output.select_sql, folder / f"{output.name}.csv")
            write_manifest(
                folder / "manifest.json",
                as_of=as_of,
                run_id=context.run_id,
                code_version=code_version(),
                inputs=input_section(con, staging),
                outputs=written,
                config=aidmatch.settings.as_dict(),
            )

        target = publish_atomically(aidmatch.output_path, as_of, write)
    context.log.info(f"published {len(written) + 1} files to {target}")
    return dg.MaterializeResult(
        metadata={
            "folder": dg.MetadataValue.path(str(target.resolve())),
            **{f"rows {name}": n for name, n in written.items()},
        }
    )
