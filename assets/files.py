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

from aidmatch.metadata import OWNERS
from aidmatch.resources import AidmatchResource
from aidmatch.sources.fingerprint import fingerprint
from aidmatch.sources.tables import SOURCE_LABELS, SOURCES

FILES_PREFIX = "files_"
FILES_GROUP = "files"


def _observer(source: str) -> dg.SourceAsset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)  # observable source assets are beta in Dagster 1.13
        observable = dg.observable_source_asset(
            name=f"{FILES_PREFIX}{source}",
            group_name=FILES_GROUP,
            description=f"The files of the `{source}/` folder ({SOURCE_LABELS[source]}) as the department "
            "delivered them: the data version is the hash of every entry's path, size and sha256.",
            owners=OWNERS["raw"],
        )

    @observable
    def observe(aidmatch: AidmatchResource) -> dg.ObserveResult:
        files = fingerprint(aidmatch.input_path, source, aidmatch.settings.machine.workers)
        if files is None:  # the ingest step's files_readable check says what to do
            return dg.ObserveResult(data_version=dg.DataVersion("no folder"), metadata={"files": 0})
        return dg.ObserveResult(
            data_version=dg.DataVersion(files.digest),
            metadata={"files": files.files, "entries": len(files.entries), "bytes": files.size_bytes},
        )

    return observe


def files_assets() -> list[dg.SourceAsset]:
    """`files_<source>` for every source folder."""
    return [_observer(source) for source in SOURCES]
