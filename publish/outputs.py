"""The CSV files of a run: file name and the SQL that selects its rows, from the tables' declarations.

The publish asset writes exactly these CSV files for the case systems — each table's published columns
in their declared order (`aidmatch.tables.catalog`: SPEC section 5's columns first, `evidence` and the like
after them, then the columns added since, such as where a person lives) — and the manifest counts their
rows. The lists' workbooks for people are `printed_lists.py`.
"""

from dataclasses import dataclass

from aidmatch.sources.tables import SOURCES
from aidmatch.tables.catalog import (
    CORE_PERSON_LINKS,
    CORE_REVIEW_QUEUE,
    OUT_DIBAO_EMPLOYMENT,
    OUT_DISABILITY_EMPLOYMENT,
    OUT_ENTITLEMENTS,
    OUT_HOUSEHOLDS_AT_RISK,
    OUT_PROACTIVE,
    OUT_REMOVALS,
    OUT_ZERO_EMPLOYMENT_HOUSEHOLDS,
    QUARANTINE,
    Table,
)


@dataclass(frozen=True)
class OutputFile:
    name: str  # file name without extension
    select_sql: str


def _union(tables: str) -> str:
    return " UNION ALL ".join(f"SELECT * FROM {tables.format(source=s)}" for s in SOURCES)


def csv_select(table: Table, rows: str | None = None) -> str:
    """The SELECT of a table's CSV file: its published columns in declared order, its rows in `csv_order`
    (from `rows`, a relation, when the table is not one table of the run database) — or in the order the
    table is stored in, when that is its `csv_order` already."""
    columns = ", ".join(c.name for c in table.published)
    order = f" ORDER BY {table.csv_order}" if table.csv_order and not table.stored_in_csv_order else ""
    return f"SELECT {columns} FROM {rows or table.name}{order}"


PROACTIVE = OutputFile("proactive", csv_select(OUT_PROACTIVE))
REMOVALS = OutputFile("removals", csv_select(OUT_REMOVALS))
ZERO_EMPLOYMENT_HOUSEHOLDS = OutputFile(
    "zero_employment_households", csv_select(OUT_ZERO_EMPLOYMENT_HOUSEHOLDS)
)
ENTITLEMENTS = OutputFile("entitlements", csv_select(OUT_ENTITLEMENTS))
DIBAO_EMPLOYMENT = OutputFile("dibao_employment", csv_select(OUT_DIBAO_EMPLOYMENT))
DISABILITY_EMPLOYMENT = OutputFile("disability_employment", csv_select(OUT_DISABILITY_EMPLOYMENT))
HOUSEHOLDS_AT_RISK = OutputFile("households_at_risk", csv_select(OUT_HOUSEHOLDS_AT_RISK))
PERSON_LINKS = OutputFile("person_links", csv_select(CORE_PERSON_LINKS))
REVIEW_QUEUE = OutputFile("review_queue", csv_select(CORE_REVIEW_QUEUE))
QUARANTINE_FILE = OutputFile("quarantine", csv_select(QUARANTINE, f"({_union('quarantine_{source}')})"))

LISTS: tuple[OutputFile, ...] = (
    PROACTIVE,
    REMOVALS,
    ZERO_EMPLOYMENT_HOUSEHOLDS,
    ENTITLEMENTS,
    DIBAO_EMPLOYMENT,
    DISABILITY_EMPLOYMENT,
    HOUSEHOLDS_AT_RISK,
)
OUTPUT_FILES: tuple[OutputFile, ...] = (*LISTS, PERSON_LINKS, REVIEW_QUEUE, QUARANTINE_FILE)
