"""The output files of a run, declared once: file name, the SQL that selects its rows, in SPEC order.

The publish asset writes exactly these (CSV for the case systems; the lists also as xlsx for people),
and the manifest counts their rows. Columns after SPEC's fixed ones are extra, documented in README.
"""

from dataclasses import dataclass

from sources.tables import SOURCES


@dataclass(frozen=True)
class OutputFile:
    name: str  # file name without extension
    select_sql: str


def _quarantine_sql() -> str:
    union = " UNION ALL ".join(f"SELECT * FROM quarantine_{source}" for source in SOURCES)
    return (
        "SELECT source, source_record, rule, value, message, action, source_file "
        f"FROM ({union}) ORDER BY source, source_file, "
        "TRY_CAST(regexp_extract(source_record, ':(\\d+)$', 1) AS INTEGER), source_record, rule"
    )


QUARANTINE = OutputFile("quarantine", _quarantine_sql())

OUTPUT_FILES: tuple[OutputFile, ...] = (QUARANTINE,)
