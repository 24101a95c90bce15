"""Freshness: is the newest file of a source folder recent enough to be this month's extract?

The departments deliver monthly, so a folder whose newest file (subfolders included; its modification
time) is older than `freshness.warn_days` (default 35) is a WARN naming the file and its date, and older
than `freshness.error_days` (default 60) an ERROR. The ERROR does not block: a stale extract that is
whole is still a whole extract (completeness, `checks/completeness.py`, guards the decisions that rest
on an absent record); the lists are published and the check tells the operator which department to
chase.

Age is judged against the end of the as-of date (midnight after it, Asia/Shanghai), not the wall clock:
a re-run of an old night on the same files gives the same verdict as the night itself did. A file
modified after the as-of date's end (a later delivery read by a re-run) counts as age 0: it is fresh.

Only the files the readers read count (not ignored lock files or notes). This module holds the plain
logic; `checks/source_checks.py` turns it into the check result and `assets/ingest.py` wires it.
"""

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from aidmatch.settings import BUREAU_TIMEZONE

Verdict = Literal["fresh", "stale", "very_stale", "no_files"]


@dataclass(frozen=True)
class Freshness:
    source: str
    newest_file: str | None  # relative to the input root, as the file reports name it
    newest_modified: dt.datetime | None  # in Asia/Shanghai
    age_days: float | None  # days between the newest file's modification and the as-of date's end
    warn_days: int
    error_days: int

    @property
    def verdict(self) -> Verdict:
        if self.age_days is None:
            return "no_files"
        if self.age_days > self.error_days:
            return "very_stale"
        if self.age_days > self.warn_days:
            return "stale"
        return "fresh"

    @property
    def message(self) -> str:
        if self.newest_file is None or self.newest_modified is None:
            return f"{self.source}: no file was read, so its age is unknown (see files_readable)."
        stamp = f"{self.newest_modified:%Y-%m-%d}"
        age = f"{self.age_days:.0f} days"
        if self.verdict == "fresh":
            return f"{self.source}: newest file {self.newest_file} of {stamp}, {age} before the as-of date's end."
        limit = self.error_days if self.verdict == "very_stale" else self.warn_days
        return (
            f"{self.source}: the newest file, {self.newest_file}, was last modified on {stamp}, {age} before "
            f"the as-of date's end (more than {limit}): this extract looks late — ask the department for "
            "this month's delivery."
        )


def as_of_end(as_of: dt.date) -> dt.datetime:
    """The moment the as-of date ends: midnight after it in Asia/Shanghai."""
    return dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(0), BUREAU_TIMEZONE)


def assess_freshness(
    source: str, input_root: Path, files: list[str], as_of: dt.date, warn_days: int, error_days: int
) -> Freshness:
    """The age of the newest of `files` (paths relative to `input_root`) at the as-of date's end."""
    newest: tuple[float, str] | None = None
    for name in files:
        try:
            modified = (input_root / name).stat().st_mtime
        except OSError:
            continue  # gone since it was read: files_readable has the reports
        if newest is None or modified > newest[0]:
            newest = (modified, name)
    if newest is None:
        return Freshness(source, None, None, None, warn_days, error_days)
    modified = dt.datetime.fromtimestamp(newest[0], BUREAU_TIMEZONE)
    age = max(0.0, (as_of_end(as_of) - modified).total_seconds() / 86400)
    return Freshness(source, newest[1], modified, age, warn_days, error_days)
