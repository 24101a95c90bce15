"""The raw table a source's files are read into, the per-file report, and the blocking read error.

What belongs here: the shape of the raw table, inserting one file's (or sheet's) rows into it with
their canonical columns, telling data rows from blank and footer rows, and the steward-facing
messages about headers. Reading the bytes of a format is `workbook_reader.py` / `csv_reader.py`; the
entry point over a folder is `readers.py`.

The raw table has one VARCHAR column per canonical key of the column map (NULL where a file lacks
it), then `source, source_file, source_sheet, source_row` and the virtual column `source_record`
(`<folder>/<file>[#<sheet>]:<row>`), and `SURPLUS_COLUMN`: on a CSV row with more fields than its header
(a value with an unquoted comma shifts every value after it), the first field too many — the row rule
`surplus_fields` tells the steward, never a silently shifted row. Rows are inserted with a temporary `_skip` mark (blank /
footer), counted into the reports and deleted by `finish`, which also drops the mark.
"""

import re
from dataclasses import dataclass, field

import duckdb

from aidmatch.sources.column_maps import IDENTITY_KEYS, SourceColumnMap
from aidmatch.sources.header import HeaderMatch
from aidmatch.sources.tables import SOURCE_RECORD_COLUMN

# A row with a cell starting with one of these and no identity (name, ID or card number) is a footer;
# the label itself may stand in the name column ("合计" under 姓名): that is no identity.
FOOTER_PREFIXES = (
    "合计", "总计", "小计", "共计", "制表", "填表", "审核", "复核", "负责人", "经办人", "填报", "打印",
    "日期", "备注", "说明", "注：", "注:",
)  # fmt: skip
SURPLUS_COLUMN = "_surplus"
_SPACES = r"\s\x{3000}"  # RE2 whitespace and the ideographic space U+3000
_TEXT = f"'[^{_SPACES}]'"  # finds a visible character
_EMPTY = "''"
_FOOTER_LABEL = f"[{_SPACES}]*(?:" + "|".join(map(re.escape, FOOTER_PREFIXES)) + ")"
_FOOTER_CELL = f"'^{_FOOTER_LABEL}'"  # a cell that starts with a footer label
_FOOTER_ROW = f"'(?:^|\\n){_FOOTER_LABEL}'"  # cells joined by line breaks, one of them a footer label
# First characters that make a cell worth the regular expressions above (spaces, footer labels; 0 is ''):
# Every other non-empty identity cell is an identity, decided without a regex (10 million rows).
_SUSPECT_FIRST = ", ".join(
    str(c) for c in sorted({0, 9, 10, 13, 32, 0x3000} | {ord(p[0]) for p in FOOTER_PREFIXES})
)
# A row whose first non-empty cell reads one of these is a footer whatever its other cells hold — a count
# under the ID column (合计 | | 5人) is no ID: totals, counts (共15人, 共3户, a lone 15条), who made, checked
# or filed the table and when (制表人, 审核人, 制表日期, 填报单位). The labels a name or an ID never starts with.
FOOTER_LABELS = ("合计", "总计", "小计", "共计", "制表", "填表", "审核", "复核", "填报")
COUNT_UNITS = "人条户名行项笔"
_DIGITS = "0-9０-９,，"
_FOOTER_FIRST = (
    f"'^[{_SPACES}]*(?:" + "|".join(FOOTER_LABELS) + f"|共[{_SPACES}]*[{_DIGITS}]+[{_SPACES}]*[{COUNT_UNITS}]"
    f"|[{_DIGITS}]+[{_SPACES}]*[{COUNT_UNITS}][{_SPACES}]*$)'"
)
# ... worth that regular expression when it starts with a label's first character, 共 or a space, or is a short
# cell starting with a digit (a lone count: never an 18-character ID). Decided from the first character and
# the byte length, so that ten million rows of IDs cost no string work.
_FOOTER_FIRST_CHARS = ", ".join(
    str(c) for c in sorted({ord(label[0]) for label in FOOTER_LABELS} | {ord("共"), 9, 10, 13, 32, 0x3000})
)
_COUNT_BYTES_MAX = 16


class SourceReadError(Exception):
    """A file (or folder) of a source cannot be read as it is; blocking until a steward fixes it.

    `file` is relative to the input root; the message says what is wrong and what to do, and never
    quotes a cell value (no personal data in logs).
    """

    def __init__(
        self,
        source: str,
        file: str,
        message: str,
        reports: "list[FileReport] | None" = None,
        headers: list[str] | None = None,
    ) -> None:
        super().__init__(f"[{source}] {file}: {message}")
        self.source = source
        self.file = file
        self.message = message
        # every entry of the folder accounted for when the error was raised (read, ignored, refused)
        self.reports = reports or []
        # the headers of the file that no column map knows, when it was refused for its header
        self.headers = headers or []


@dataclass
class FileReport:
    """What became of one entry of a source folder: read, ignored (lock files, notes) or refused."""

    file: str  # relative to the input root, e.g. "dibao/东城区.xlsx", "unemployment/2026年11月/海淀区.csv"
    sha256: str
    size_bytes: int
    encoding: str  # gb18030 | utf-8-sig | utf-8 | xlsx | xls ("" when not read)
    sheets: list[str] = field(default_factory=list)  # sheets read (xlsx only)
    header_row: dict[str, int] = field(default_factory=dict)  # sheet -> 1-based header row; CSV key ""
    rows_read: int = 0  # data rows put in the table
    rows_skipped_blank: int = 0
    rows_skipped_footer: int = 0
    unmapped_columns: list[str] = field(default_factory=list)  # extra headers, kept out of the table
    skipped_sheets: list[str] = field(default_factory=list)  # sheets with no table (empty, notes, charts)
    status: str = "read"  # read | ignored | refused
    reason: str = ""  # why it was ignored or refused; for a file read, a note (an .xls named .xlsx)


def sql_text(value: str | None) -> str:
    """A SQL string literal (or NULL)."""
    return "NULL" if value is None else "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class RawTable:
    """The raw table of one source being filled: `table` is the quoted identifier."""

    con: duckdb.DuckDBPyConnection
    table: str
    source: str
    column_map: SourceColumnMap

    def error(
        self,
        file: str,
        message: str,
        reports: "list[FileReport] | None" = None,
        headers: list[str] | None = None,
    ) -> SourceReadError:
        return SourceReadError(self.source, file, message, reports, headers)

    def create(self) -> None:
        columns = [
            "source VARCHAR NOT NULL",
            "source_file VARCHAR NOT NULL",
            "source_sheet VARCHAR",
            "source_row INTEGER",
            SOURCE_RECORD_COLUMN,
            *(f'"{key}" VARCHAR' for key in self.column_map.keys),
            f"{SURPLUS_COLUMN} VARCHAR",
            "_skip VARCHAR",
        ]
        self.con.execute(f"CREATE OR REPLACE TABLE {self.table} ({', '.join(columns)})")

    def check_header(
        self, file: str, sheet: str | None, header: HeaderMatch | None, hint: str = ""
    ) -> HeaderMatch:
        """The header, or SourceReadError saying which required columns are missing, what was found, and
        which header found most resembles each missing column (the line a steward adds to the column map)."""
        column_map = self.column_map
        where = f"sheet {sheet}: " if sheet else ""
        extend = f"add that name to sources/column_maps.yaml under {self.source}"
        unknown = column_map.unknown(header.headers) if header else []
        if header is None or not header.is_header(column_map):
            expected = ", ".join(aliases[0] for aliases in column_map.columns.values())
            closest = (
                f" The closest row ({header.index + 1}) has: {', '.join(header.headers)}." if header else ""
            )
            raise self.error(
                file,
                f"{where}no header row found in its first rows. {hint}Expected headers such as {expected}; "
                f"required: {'; '.join(column_map.missing_required(set()))}.{closest}"
                f"{self._resemblances(set(header.columns) if header else set(), unknown)} If the export names "
                f"a column differently, {extend}.",
                headers=unknown,
            )
        missing = column_map.missing_required(set(header.columns))
        if missing:
            hints = self._resemblances(set(header.columns), unknown)
            raise self.error(
                file,
                f"{where}required column(s) missing: {'; '.join(missing)}. Headers found on row "
                f"{header.index + 1}: {', '.join(header.headers)}."
                + (
                    f"{hints} Otherwise add the column to the export."
                    if hints
                    else f" Add the column to the export, or, if it is there under another name, {extend}."
                ),
                headers=unknown,
            )
        if header.duplicates:
            clashes = "; ".join(
                f"{', '.join(texts)} all mean {key}" for key, texts in header.duplicates.items()
            )
            raise self.error(
                file,
                f"{where}several columns have the same header ({clashes}). Remove or rename the extra one.",
            )
        return header

    def _resemblances(self, found: set[str], unknown: list[str]) -> str:
        """A hint for every missing required column that an unknown header resembles (empty when none
        does): ` 人员姓名 looks like 姓名: add it under si_persons › name in sources/column_maps.yaml if it
        holds that column.`"""
        hints = []
        for group in self.column_map.required:
            if found.intersection(group):
                continue
            for key in group:
                match = self.column_map.resembling(key, unknown)
                if match:
                    hints.append(
                        f" {match[0]} looks like {match[1]}: add it under {self.source} › {key} in "
                        f"sources/column_maps.yaml if it holds that column."
                    )
                    break
        return "".join(hints)

    def insert_rows(
        self,
        relation: str,
        file: str,
        sheet: str | None,
        header: HeaderMatch,
        width: int,
        row: str,
        surplus: str = "NULL",
    ) -> int:
        """Insert every row of `relation` (text columns c0..c<width-1>) with its canonical columns.

        `row` is the SQL for `source_row` (never NULL: `source_record` is made of it), `surplus` for
        `SURPLUS_COLUMN`. Returns the number of rows inserted, blank and footer rows included (they carry
        the `_skip` mark).
        """
        cells = ", ".join(f"c{i}" for i in range(width))
        identity = " OR ".join(
            f"(ascii({cell}) NOT IN ({_SUSPECT_FIRST}) OR "
            f"(regexp_matches({cell}, {_TEXT}) AND NOT regexp_matches({cell}, {_FOOTER_CELL})))"
            for cell in (f"c{header.columns[key]}" for key in IDENTITY_KEYS if key in header.columns)
        )
        first = f"coalesce({', '.join(f'nullif(c{i}, {_EMPTY})' for i in range(width))})"
        footer_first = (
            f"CASE WHEN ascii({first}) IN ({_FOOTER_FIRST_CHARS}) THEN regexp_matches({first}, {_FOOTER_FIRST}) "
            f"WHEN strlen({first}) <= {_COUNT_BYTES_MAX} AND (ascii({first}) BETWEEN 48 AND 57 "
            f"OR ascii({first}) BETWEEN 65296 AND 65305) THEN regexp_matches({first}, {_FOOTER_FIRST}) END"
        )
        skip = (
            f"CASE WHEN {footer_first} THEN 'footer' WHEN {identity or 'false'} THEN NULL "
            f"WHEN NOT regexp_matches(concat({cells}), {_TEXT}) THEN 'blank' "
            f"WHEN regexp_matches(concat_ws(chr(10), {cells}), {_FOOTER_ROW}) THEN 'footer' END"
        )
        keys = self.column_map.keys
        key_columns = ", ".join(f'"{key}"' for key in keys)
        values = ", ".join(f"c{header.columns[key]}" if key in header.columns else "NULL" for key in keys)
        inserted = self.con.execute(
            f"INSERT INTO {self.table} (source, source_file, source_sheet, source_row, _skip, {SURPLUS_COLUMN}, "
            f"{key_columns}) SELECT {sql_text(self.source)}, {sql_text(file)}, {sql_text(sheet)}, {row}, {skip}, "
            f"{surplus}, {values} FROM {relation}"
        ).fetchone()
        return inserted[0] if inserted else 0

    def finish(self, reports: list[FileReport]) -> None:
        """Move the blank and footer row counts into the reports, delete those rows, drop the mark."""
        by_file = {report.file: report for report in reports}
        counts = self.con.execute(
            f"SELECT source_file, _skip, count(*) FROM {self.table} WHERE _skip IS NOT NULL GROUP BY ALL"
        ).fetchall()
        for file, kind, count in counts:
            report = by_file[file]
            report.rows_read -= count
            if kind == "blank":
                report.rows_skipped_blank += count
            else:
                report.rows_skipped_footer += count
        self.con.execute(f"DELETE FROM {self.table} WHERE _skip IS NOT NULL")
        self.con.execute(f"ALTER TABLE {self.table} DROP COLUMN _skip")
