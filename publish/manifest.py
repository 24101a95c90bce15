"""manifest.json: what a run read, what it wrote, where, when, with which code and configuration.

The case-system team checks it before importing: the schema version (`manifest_version`), the as-of
date, the Dagster run id, the code version, the absolute input, output and work folders the run used
(`paths`), when the run started and when the manifest was written (`started_at`, `published_at`, ISO
8601 with the Asia/Shanghai offset), the seconds of each step (`steps`), every entry of each source
folder with its status (read, or ignored and why), sha256 and row counts (read = staged + rejected, per
source), each source's completeness against the last published run and the drops an operator accepted
(`completeness`, see checks/completeness.py), the verdict of every check of the run (`checks`), every
output file with its row count, sha256 and size (`outputs`), the configuration in force, and the tables
taken from an earlier night's work database (`reused`: per unit, `raw_<source>`, `staged_<source>`,
`linked`, the night that built it and the night whose database tonight's was copied from; none on a full
night, `aidmatch/reuse.py`).

`config` is the configuration as loaded with its `paths` replaced by the paths in force: a run given
`--input`/`--output`/`--work-dir` (or a resource configured in the UI) does not use the file's paths, and
the manifest must not say two things. `config.paths` and `paths` therefore always agree.

Each output file is hashed by what writes it, once: a workbook from its bytes as they are written
(`xlsx_files.save_workbook`), a CSV DuckDB writes as soon as it is written, from the page cache, beside the
next file's writing (`written.file_entry`; about 0.8 s per GB: person_links.csv is the large one). An xlsx's `rows`
are its data rows over all sheets, header rows not counted; a CSV's are its records, the header not counted.
"""

import datetime as dt
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import duckdb

from aidmatch.publish.written import FileEntry
from aidmatch.settings import BUREAU_TIMEZONE

MANIFEST_VERSION = 2


def input_section(con: duckdb.DuckDBPyConnection, staging: dict[str, dict[str, int]]) -> dict[str, Any]:
    """Per source: its files (status and reason, sha256, rows) and the read/staged/rejected/flagged counts."""
    files = con.sql(
        "SELECT source, file, status, reason, sha256, size_bytes, encoding, rows_read, rows_skipped_blank, "
        "rows_skipped_footer FROM ingest_files ORDER BY source, file"
    ).pl()
    return {
        source: {"files": files.filter(files["source"] == source).drop("source").to_dicts(), **counts}
        for source, counts in staging.items()
    }


def timestamp(epoch_seconds: float | None) -> str | None:
    """ISO 8601 with the offset, to the millisecond: 2026-11-22T02:00:03.125+08:00."""
    if epoch_seconds is None:
        return None
    return dt.datetime.fromtimestamp(epoch_seconds, BUREAU_TIMEZONE).isoformat(timespec="milliseconds")


def steps_section(
    steps: list[tuple[str, float, float | None, str]], published_at: float
) -> dict[str, dict[str, Any]]:
    """Per step (start order): its seconds and status; a step still running (publish) counts up to the
    manifest's writing."""
    return {
        key: {"seconds": round((end if end is not None else published_at) - start, 3), "status": status}
        for key, start, end, status in steps
    }


def output_section(folder: Path, entries: dict[str, FileEntry]) -> dict[str, dict[str, Any]]:
    """Every file of the folder being published (by its path in it: by_street/东城区_东华门街道.xlsx) but the
    manifest, with the rows, sha256 and bytes its writer recorded, in path order.

    A file written without an entry, or an entry without its file, is a bug in the publish step, not
    something to paper over.
    """
    files = sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and p.relative_to(folder).as_posix() != "manifest.json"
    )
    unknown = [name for name in files if name not in entries]
    if unknown:
        raise ValueError(f"no entry for the output files {unknown}")
    missing = sorted(set(entries) - set(files))
    if missing:
        raise ValueError(f"output files recorded but not written: {missing}")
    return {name: asdict(entries[name]) for name in files}


def paths_in_force(input_path: Path, output_path: Path, work_path: Path) -> dict[str, str]:
    """The absolute folders the run used."""
    return {
        "input_root": str(input_path.resolve()),
        "output_root": str(output_path.resolve()),
        "work_dir": str(work_path.resolve()),
    }


def config_echo(config: dict[str, Any], paths: dict[str, str]) -> dict[str, Any]:
    """The configuration as loaded, its paths replaced by those in force (see the module docstring)."""
    return {**config, "paths": {**config.get("paths", {}), **paths}}


def write_manifest(path: Path, **sections: Any) -> None:
    document = {"manifest_version": MANIFEST_VERSION, **sections}
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
