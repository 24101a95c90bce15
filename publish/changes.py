"""changes.csv: who entered and who left each list since the previous published run (有进有出、动态管理).

The previous run is the newest `OUTPUT/<date>/` before this as-of that holds the lists. A row's key
is what makes it the same entry from one night to the next: the person and category on the proactive
list, the registration and roll on the removal list, the household on the zero-employment list. A
key present in both runs whose reasons or status changed is reported as `changed`.
"""

import datetime as dt
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TrackedList:
    name: str  # the CSV file name without extension, and the table of this run that holds it
    key: tuple[str, ...]
    detail: str  # the column whose change is worth reporting
    person: str = "person_id"  # SQL for the person the entry is about (NULL for households)


TRACKED_LISTS: tuple[TrackedList, ...] = (
    TrackedList("proactive", ("person_id", "category"), "reasons"),
    TrackedList("removals", ("source_record", "roll"), "reasons"),
    TrackedList("zero_employment_households", ("household_id",), "status", person="NULL"),
)


def previous_run(output_root: Path, as_of: str) -> Path | None:
    """The newest published folder dated before `as_of` that holds every tracked list."""
    candidates = []
    for folder in output_root.glob("????-??-??"):
        try:
            day = dt.date.fromisoformat(folder.name)
        except ValueError:
            continue
        if day < dt.date.fromisoformat(as_of) and all(
            (folder / f"{t.name}.csv").is_file() for t in TRACKED_LISTS
        ):
            candidates.append((day, folder))
    return max(candidates)[1] if candidates else None


def changes_sql(current_tables: dict[str, str], previous: Path | None) -> str:
    """SQL for changes.csv; `current_tables` maps each tracked list name to the SELECT of this run's rows.

    Without a previous run every current entry has `entered` (the first night starts from nothing).
    """
    parts = []
    for tracked in TRACKED_LISTS:
        key = " || '|' || ".join(f"CAST({column} AS VARCHAR)" for column in tracked.key)
        person = tracked.person
        current = f"SELECT {key} AS key, {person} AS person_id, {tracked.detail} AS detail FROM ({current_tables[tracked.name]})"
        if previous is None:
            old = (
                "SELECT NULL::VARCHAR AS key, NULL::VARCHAR AS person_id, NULL::VARCHAR AS detail WHERE false"
            )
            previous_as_of = "NULL"
        else:
            path = str(previous / f"{tracked.name}.csv").replace("'", "''")
            old = (
                f"SELECT {key} AS key, {person} AS person_id, {tracked.detail} AS detail "
                f"FROM read_csv('{path}', all_varchar = true, header = true)"
            )
            previous_as_of = f"'{previous.name}'"
        parts.append(
            f"""
            SELECT '{tracked.name}' AS list,
                   CASE WHEN o.key IS NULL THEN 'entered' WHEN n.key IS NULL THEN 'left' ELSE 'changed' END AS change,
                   COALESCE(n.key, o.key) AS key,
                   COALESCE(n.person_id, o.person_id) AS person_id,
                   n.detail AS detail, o.detail AS previous_detail, {previous_as_of} AS previous_as_of
            FROM ({current}) n FULL OUTER JOIN ({old}) o ON n.key = o.key
            WHERE o.key IS NULL OR n.key IS NULL OR n.detail IS DISTINCT FROM o.detail
            """
        )
    return " UNION ALL ".join(parts) + " ORDER BY list, change, key"
