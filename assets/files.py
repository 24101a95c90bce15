"""The source folders as Dagster sees them: an observable source asset `files_<source>` per folder, whose
data version is the fingerprint of its files (`sources/fingerprint.py`: every entry's path, size and
sha256).

The nightly job observes them before it reads anything, so each `raw_<source>` materialization records
the folder's version it was read from: on a night whose files changed since, the UI marks the earlier
nights' raw tables "has a new dependency data version", and the asset page of `files_<source>` lists
the nights on which a department's delivery changed (the version moves) and those on which it did not.
The version is observed for the UI; the ingest step fingerprints the folder itself (the digests are
hashed once per run), so a table is never reused on the word of an observation made before a file
changed. On one node only: in a province every city has its own folders (`assets/ingest.py`).
"""

import warnings

import dagster as dg

from aidmatch.metadata import OWNERS, table_tags
from aidmatch.resources import AidmatchResource
from aidmatch.sources.fingerprint import fingerprint
from aidmatch.sources.tables import SOURCE_LABELS, SOURCES

FILES_PREFIX = "files_"
FILES_GROUP = "files"


def _observer(source: str) -> dg.AssetsDefinition:
    # One spec per observation rather than observable_source_asset, which drops the owners on their way to
    # the UI (Dagster 1.13 makes its external asset with owners=[]).
    spec = dg.AssetSpec(
        key=f"{FILES_PREFIX}{source}",
        group_name=FILES_GROUP,
        description=f"The files of the `{source}/` folder ({SOURCE_LABELS[source]}) as the department "
        "delivered them: the data version is the hash of every entry's path, size and sha256.",
        owners=OWNERS["raw"],
        tags=table_tags(FILES_GROUP, personal_data=True, source=source),  # the extracts as sent
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)  # observable source assets are beta in Dagster 1.13
        observable = dg.multi_observable_source_asset(
            name=f"{FILES_PREFIX}{source}", specs=[spec], required_resource_keys={"aidmatch"}
        )

    @observable
    def observe(context: dg.AssetExecutionContext) -> dg.ObserveResult:
        aidmatch: AidmatchResource = context.resources.aidmatch
        files = fingerprint(aidmatch.input_path, source, aidmatch.settings.machine.workers)
        if files is None:  # the ingest step's files_readable check says what to do
            return dg.ObserveResult(data_version=dg.DataVersion("no folder"), metadata={"files": 0})
        return dg.ObserveResult(
            data_version=dg.DataVersion(files.digest),
            metadata={
                "files": files.files,
                "entries": len(files.entries),
                "bytes": files.size_bytes,
                # the others were not read: their digests are the night before's, the files unwritten since
                "files hashed": files.hashed,
            },
        )

    return observe


def files_assets() -> list[dg.AssetsDefinition]:
    """`files_<source>` for every source folder."""
    return [_observer(source) for source in SOURCES]
