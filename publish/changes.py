"""changes.csv: who entered and who left each list since the previous published run (有进有出、动态管理).

The previous run is the newest `OUTPUT/<date>/` before this as-of that holds the lists. An entry's key
is what it is about, never where its row sits in an extract: the person and category on the proactive
list, the person and roll on the removal list, the household on the zero-employment list, the person,
entitlement and employer on the entitlements (entered: became entitled; left: the period ended or the
grounds went; changed: the period's end or the confidence moved), the person on 民政's and 残联's lists
(changed: the finding or the employer, the status moved), the household on the early warning (changed: the
risk or the working member moved). Monthly
extracts move rows (one deleted row renumbers every row after it), so a key made of `source_record`
would report every later registration as leaving and entering again. A person's registrations on one
roll are one entry, its detail the reasons of all of them. A key present in both runs whose detail
(reasons, status) changed is reported as `changed`.
"""

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from aidmatch.publish.csv_files import published_csv


@dataclass(frozen=True)
class TrackedList:
    name: str  # the CSV file name without extension, and the table of this run that holds it
    key: tuple[str, ...]  # the columns that make an entry the same from one night to the next
    # SQL aggregate over an entry's rows (min, not any_value: the same rows give the same detail every night):
    # what is worth reporting when it changes
    detail: str
    person: str = "min(person_id)"  # SQL aggregate: the person the entry is about (NULL for households)


# The reasons of every row of an entry, sorted and without repeats: "DUPLICATE;EMPLOYED".
_ALL_REASONS = "array_to_string(list_sort(list_distinct(flatten(list(string_split(reasons, ';'))))), ';')"

TRACKED_LISTS: tuple[TrackedList, ...] = (
    TrackedList("proactive", ("person_id", "category"), "min(reasons)"),
    TrackedList("removals", ("person_id", "roll"), _ALL_REASONS),
    TrackedList("zero_employment_households", ("household_id",), "min(status)", person="NULL"),
    # who became entitled, whose period ended (left), whose period end or confidence changed
    TrackedList(
        "entitlements",
        ("person_id", "entitlement", "coalesce(employer_id, employer_name, '')"),
        "min(confidence || coalesce(' ' || subsidy_until, ''))",
    ),
    TrackedList(
        "dibao_employment",
        ("person_id",),
        "min(finding || coalesce(' ' || coalesce(employer_id, employer_name), ''))",
    ),
    TrackedList("disability_employment", ("person_id",), "min(status)"),
    TrackedList(
        "households_at_risk", ("household_id",), "min(risk || ' ' || working_member_id)", person="NULL"
    ),
)


def published_nights(output_root: Path, before: str) -> list[Path]:
    """The published folders `OUTPUT/<YYYY-MM-DD>/` dated before `before`, oldest first: every reader of
    earlier nights (the changes, completeness, the report's trend, the progress table) starts here. A
    half-written publication is hidden (`.2026-11-22.…`) and never one of them."""
    nights = []
    for folder in output_root.glob("????-??-??"):
        try:
            day = dt.date.fromisoformat(folder.name)
        except ValueError:
            continue
        if day < dt.date.fromisoformat(before) and folder.is_dir():
            nights.append((day, folder))
    return [folder for _, folder in sorted(nights)]


def previous_run(output_root: Path, as_of: str) -> Path | None:
    """The newest published folder dated before `as_of` that holds the lists (any tracked list: a run
    published before a list existed is still the previous run of the others)."""
    holding = [
        folder
        for folder in published_nights(output_root, as_of)
        if any((folder / f"{t.name}.csv").is_file() for t in TRACKED_LISTS)
    ]
    return holding[-1] if holding else None


def changes_sql(current_tables: dict[str, str], previous: Path | None) -> str:
    """SQL for changes.csv; `current_tables` maps each tracked list name to the SELECT of this run's rows.

    Without a previous run every current entry has `entered` (the first night starts from nothing), and so
    has every entry of a list the previous run did not publish yet.
    """
    parts = []
    for tracked in TRACKED_LISTS:
        key = " || '|' || ".join(f"CAST({column} AS VARCHAR)" for column in tracked.key)
        entries = (
            f"SELECT {key} AS key, {tracked.person} AS person_id, {tracked.detail} AS detail FROM ({{rows}}) "
            f"GROUP BY {', '.join(tracked.key)}"
        )
        current = entries.format(rows=current_tables[tracked.name])
        if previous is None or not (previous / f"{tracked.name}.csv").is_file():
            old = (
                "SELECT NULL::VARCHAR AS key, NULL::VARCHAR AS person_id, NULL::VARCHAR AS detail WHERE false"
            )
            previous_as_of = f"'{previous.name}'" if previous else "NULL"
        else:
            old = entries.format(rows=f"SELECT * FROM {published_csv(previous / f'{tracked.name}.csv')}")
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
