"""The CSV files of a run, declared once: file name and the SQL that selects its rows, in SPEC order.

The publish asset writes exactly these CSV files for the case systems (SPEC section 5's columns
first, in its order; the location and contact columns after them, then `evidence` and the like) and
the manifest counts their rows. The lists' workbooks for people are `printed_lists.py`.
"""

from dataclasses import dataclass

from aidmatch.sources.tables import SOURCES


@dataclass(frozen=True)
class OutputFile:
    name: str  # file name without extension
    select_sql: str


def _union(tables: str) -> str:
    return " UNION ALL ".join(f"SELECT * FROM {tables.format(source=s)}" for s in SOURCES)


_ROW = "TRY_CAST(regexp_extract(source_record, ':(\\d+)$', 1) AS INTEGER)"

_CONTACT = "district, street, community, phone, address"

PROACTIVE = OutputFile(
    "proactive",
    f"SELECT person_id, name, sex, birth_date, category, reasons, sources, match_confidence, {_CONTACT}, evidence "
    "FROM out_proactive ORDER BY category, person_id",
)
REMOVALS = OutputFile(
    "removals",
    f"SELECT person_id, name, roll, reasons, confidence, source_record, evidence, {_CONTACT} "
    "FROM out_removals ORDER BY roll, confidence, person_id, source_record",
)
ZERO_EMPLOYMENT_HOUSEHOLDS = OutputFile(
    "zero_employment_households",
    "SELECT household_id, status, working_age_members, registered_unemployed_members, member_ids, "
    "district, street, member_names, member_relations, evidence "
    "FROM out_zero_employment_households ORDER BY status, household_id",
)
PERSON_LINKS = OutputFile(
    "person_links",
    "SELECT source, source_record, person_id, method, score, evidence FROM core_person_links",
)
REVIEW_QUEUE = OutputFile(
    "review_queue",
    "SELECT source, source_record, candidate_person_id, score, evidence FROM core_review_queue "
    "ORDER BY score DESC, source, source_record",
)
QUARANTINE = OutputFile(
    "quarantine",
    "SELECT source, source_record, rule, value, message, action, source_file "
    f"FROM ({_union('quarantine_{source}')}) ORDER BY source, source_file, {_ROW}, source_record, rule",
)

LISTS: tuple[OutputFile, ...] = (PROACTIVE, REMOVALS, ZERO_EMPLOYMENT_HOUSEHOLDS)
OUTPUT_FILES: tuple[OutputFile, ...] = (*LISTS, PERSON_LINKS, REVIEW_QUEUE, QUARANTINE)
