"""manifest.json: what a run read, what it wrote, with which code and configuration.

The case-system team checks it before importing: the as-of date, the Dagster run id, the code version,
every entry of each source folder with its status (read, or ignored and why), sha256 and row counts
(read = staged + rejected, per source), each source's completeness against the last published run and
the drops an operator accepted (`completeness`, see checks/completeness.py), every output file with its
row count, and the configuration in force.
"""

import json
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import duckdb

from pipelines.settings import PROJECT_ROOT


def code_version() -> str:
    """The package version, with the git commit when the code runs from a checkout."""
    version = metadata.version("aidmatch")
    try:
        commit = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return version
    return f"{version}+g{commit}"


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


def write_manifest(path: Path, **sections: Any) -> None:
    path.write_text(json.dumps(sections, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
