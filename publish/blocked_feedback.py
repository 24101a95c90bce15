"""The departments' feedback on a night a blocking check stopped: `OUTPUT/<as-of>.feedback/` (SPEC section 6).

Feedback is most needed on the nights a department's extract is refused, and those nights publish nothing:
`OUTPUT/<as-of>/` keeps the last good publication. So the ingest step, the moment a blocking check
(files_readable, complete, row_rules, schema) stops the night, writes the departments' 数据质量反馈表 to a
folder of its own beside it — `feedback_<department>.xlsx` and `.csv` as a published night has them: the
summary per file (a refused file with why, first in line), the problem rows of the sources staged tonight,
and why the night stopped at the department's extracts. Written whole or not at all (`atomic.py`: a killed
write leaves a hidden folder the next run removes), owner-only (the rows name people).

The folder is that night's: a rerun that stops again replaces it, and a later successful night of the same
as-of removes it (`remove_blocked_feedback`) — its published folder then holds the current feedback, and a
stale one beside it would send a steward to fix what is fixed.
"""

import shutil
from pathlib import Path

import duckdb

from aidmatch.publish.atomic import publish_atomically
from aidmatch.publish.feedback import (
    detail_frame,
    feedback_sheets,
    no_visits,
    summary_frame,
    write_feedback_csv,
)
from aidmatch.publish.permissions import OWNER_ONLY
from aidmatch.publish.xlsx_files import write_workbook
from aidmatch.sources.tables import DEPARTMENTS

SUFFIX = ".feedback"
# The metadata key naming the folder on the stopped night's observation (pipelines/explain.py reads it).
FEEDBACK_FOLDER = "feedback_folder"


def feedback_folder(output_root: Path, as_of: str) -> Path:
    """Where a stopped night's feedback goes: `OUTPUT/<as-of>.feedback/`."""
    return output_root / f"{as_of}{SUFFIX}"


def write_blocked_feedback(
    con: duckdb.DuckDBPyConnection,
    output_root: Path,
    as_of: str,
    staged: set[str],
    stopped: dict[str, list[str]],
    max_rate: float,
    max_rows: int,
) -> Path:
    """Write every department's feedback workbook and CSV for a stopped night; return the folder.

    `staged`: the sources staged tonight (their quarantine rows are tonight's); `stopped`: per source, the
    blocking checks' messages."""

    def write(folder: Path) -> None:
        for department in DEPARTMENTS:
            why = tuple(message for source in department.sources for message in stopped.get(source, []))
            details = detail_frame(con, department, staged)
            write_feedback_csv(details, no_visits(), department, folder / f"feedback_{department.name}.csv")
            summary = summary_frame(con, department, max_rate, staged)
            write_workbook(
                folder / f"feedback_{department.name}.xlsx",
                feedback_sheets(department, summary, details, no_visits(), as_of, max_rows, why),
            )

    return publish_atomically(output_root, f"{as_of}{SUFFIX}", write, OWNER_ONLY)


def remove_blocked_feedback(output_root: Path, as_of: str) -> bool:
    """Remove a stopped night's feedback once the same as-of is published; True when there was one."""
    folder = feedback_folder(output_root, as_of)
    if not folder.is_dir():
        return False
    shutil.rmtree(folder)
    return True
