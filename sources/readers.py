"""Readers: every `.xlsx` / `.csv` extract of one source folder into one raw DuckDB table of text.

What belongs here: finding the files, reading them as departments export them (title rows above the
header, footer rows, blank rows, several sheets, GB18030 or UTF-8 CSV), mapping their headers to the
canonical keys, numbering rows as Excel or an editor shows them, and the blocking `SourceReadError`
for a file that cannot be read as it is. Every value stays text, exactly as read: normalizing IDs,
names and dates is `staging.py` and the normalizers beside it.

The raw table has one VARCHAR column per canonical key of the column map (NULL where a file lacks
it) and `source, source_file, source_sheet, source_row, source_record`; `source_record` is a virtual
column, `<folder>/<file>[#<sheet>]:<row>`. Blank rows and footer rows (合计, 制表人, …) are counted
in the `FileReport`s and left out; every other row is kept, with or without an identity.

Limitation: CSV row numbers count physical lines, so a quoted field with a line break inside makes
the numbers of the rows after it in that file too small by the breaks it holds.
"""

import csv
import datetime as dt
import hashlib
import io
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from sources.column_maps import IDENTITY_KEYS, SourceColumnMap, load_column_maps
from sources.encoding import HEAD_BYTES, DecodeFailure, FileScan, decode_head, detect_encoding, scan_file
from sources.header import HeaderMatch, find_header

__all__ = ["FileReport", "SourceColumnMap", "SourceReadError", "load_column_maps", "read_source"]

# A row with a cell starting with one of these and no identity (name, ID or card number) is a footer;
# the label itself may stand in the name column ("合计" under 姓名): that is no identity.
FOOTER_PREFIXES = (
    "合计", "总计", "小计", "共计", "制表", "填表", "审核", "复核", "负责人", "经办人", "填报", "打印",
    "日期", "备注", "说明", "注：", "注:",
)  # fmt: skip
_OLD_SPREADSHEETS = (".xls", ".xlsb", ".xlsm", ".ods", ".et")
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # .xls, and password-protected .xlsx
_CSV_DELIMITERS = (",", "\t", ";")
_REEXPORT = "Re-export it as UTF-8 or GB18030 CSV, or as .xlsx."
_TEXT = r"'[^\s\x{3000}]'"  # a regex that finds a visible character (U+3000 is the ideographic space)
_FOOTER_LABEL = r"[\s\x{3000}]*(?:" + "|".join(map(re.escape, FOOTER_PREFIXES)) + ")"
_FOOTER_CELL = f"'^{_FOOTER_LABEL}'"  # a cell that starts with a footer label
_FOOTER_ROW = f"'(?:^|\\n){_FOOTER_LABEL}'"  # cells joined by line breaks, one of them a footer label


class SourceReadError(Exception):
    """A file (or folder) of a source cannot be read as it is; blocking until a steward fixes it.

    `file` is relative to the input root; the message says what is wrong and what to do, and never
    quotes a cell value (no personal data in logs).
    """

    def __init__(self, source: str, file: str, message: str) -> None:
        super().__init__(f"[{source}] {file}: {message}")
        self.source = source
        self.file = file
        self.message = message


@dataclass
class FileReport:
    """What reading one file did; ignored files (lock files, other types) are reported too."""

    file: str  # relative to the input root, e.g. "dibao/东城区.xlsx"
    sha256: str
    size_bytes: int
    encoding: str  # gb18030 | utf-8-sig | utf-8 | xlsx ("" for an ignored file)
    sheets: list[str] = field(default_factory=list)  # sheets read (xlsx only)
    header_row: dict[str, int] = field(default_factory=dict)  # sheet -> 1-based header row; CSV key ""
    rows_read: int = 0  # data rows put in the table
    rows_skipped_blank: int = 0
    rows_skipped_footer: int = 0
    unmapped_columns: list[str] = field(default_factory=list)  # extra headers, kept out of the table
    skipped_sheets: list[str] = field(default_factory=list)  # sheets with no table (empty, notes, charts)
    ignored: str | None = None  # why the file was not read; None when it was


@dataclass(frozen=True)
class _Target:
    """The table being filled and what every file of the source shares."""

    con: duckdb.DuckDBPyConnection
    table: str  # quoted identifier
    source: str
    column_map: SourceColumnMap

    def error(self, file: str, message: str) -> SourceReadError:
        return SourceReadError(self.source, file, message)


def read_source(
    con: duckdb.DuckDBPyConnection, input_root: Path, source: str, column_map: SourceColumnMap, table: str
) -> list[FileReport]:
    """Read every `.xlsx` / `.csv` of `input_root/source/` into the raw table `table` (replaced).

    Returns one report per file of the folder, read or ignored, sorted by file. Raises
    SourceReadError (and leaves no table behind) when the folder or a file cannot be read.
    """
    target = _Target(con, '"' + table.replace('"', '""') + '"', source, column_map)
    data_files, reports = _list_folder(target, input_root)
    con.execute(f"CREATE OR REPLACE TABLE {target.table} ({_table_columns(column_map)})")
    try:
        for path in data_files:
            file = f"{source}/{path.name}"
            read = _read_csv if path.suffix.lower() == ".csv" else _read_xlsx
            reports.append(read(target, path, file))
        _drop_skipped_rows(target, reports)
    except BaseException:
        con.execute(f"DROP TABLE IF EXISTS {target.table}")
        raise
    return sorted(reports, key=lambda report: report.file)


def _list_folder(target: _Target, input_root: Path) -> tuple[list[Path], list[FileReport]]:
    """The data files of the source folder, sorted, and reports for the files that are ignored."""
    folder = input_root / target.source
    if not folder.is_dir():
        raise target.error(
            f"{target.source}/",
            f"the folder is missing from the input directory {input_root}. Create it and put the "
            f"{target.source} extracts (.xlsx or .csv) in it.",
        )
    data_files: list[Path] = []
    ignored: list[FileReport] = []
    for path in sorted(folder.iterdir()):
        reason = _ignore_reason(path)
        if reason is None and path.suffix.lower() in _OLD_SPREADSHEETS:
            raise target.error(
                f"{target.source}/{path.name}",
                f"{path.suffix} workbooks are not read. Open it in Excel or WPS and save it as .xlsx "
                "(Excel Workbook), then rerun.",
            )
        if reason is None:
            data_files.append(path)
        else:
            size = path.stat().st_size if path.is_file() else 0
            ignored.append(FileReport(f"{target.source}/{path.name}", "", size, "", ignored=reason))
    if not data_files:
        raise target.error(
            f"{target.source}/",
            "the folder holds no .xlsx or .csv file. Put this source's extracts in it, then rerun.",
        )
    return data_files, ignored


def _ignore_reason(path: Path) -> str | None:
    """Why a folder entry is not an extract to read, or None when it is one."""
    if path.name.startswith("~$"):
        return "Office lock file (the workbook was open when copied)"
    if path.name.startswith("."):
        return "hidden file"
    if not path.is_file():
        return "not a file"
    if path.suffix.lower() not in (".xlsx", ".csv", *_OLD_SPREADSHEETS):
        return f"not an extract ({path.suffix or 'no extension'}); only .xlsx and .csv are read"
    return None


def _table_columns(column_map: SourceColumnMap) -> str:
    record = "source_file || coalesce('#' || source_sheet, '') || ':' || source_row"
    return ", ".join(
        [
            "source VARCHAR NOT NULL",
            "source_file VARCHAR NOT NULL",
            "source_sheet VARCHAR",
            "source_row INTEGER",
            f"source_record VARCHAR GENERATED ALWAYS AS ({record}) VIRTUAL",
            *(f'"{key}" VARCHAR' for key in column_map.keys),
            "_skip VARCHAR",  # 'blank' / 'footer' while loading; the column is dropped at the end
        ]
    )


def _sql_text(value: str | None) -> str:
    return "NULL" if value is None else "'" + value.replace("'", "''") + "'"


def _check_header(
    target: _Target, file: str, sheet: str | None, header: HeaderMatch | None, hint: str = ""
) -> HeaderMatch:
    """The header, or SourceReadError saying which required columns are missing and what was found."""
    column_map = target.column_map
    where = f"sheet {sheet}: " if sheet else ""
    if header is not None and header.is_header(column_map):
        missing = column_map.missing_required(set(header.columns))
        if missing:
            raise target.error(
                file,
                f"{where}required column(s) missing: {'; '.join(missing)}. Headers found on row "
                f"{header.index + 1}: {', '.join(header.headers)}. Add the column to the export, or, if "
                f"it is there under another name, add that name to sources/column_maps.yaml under "
                f"{target.source}.",
            )
        if header.duplicates:
            clashes = "; ".join(
                f"{', '.join(texts)} all mean {key}" for key, texts in header.duplicates.items()
            )
            raise target.error(
                file,
                f"{where}several columns mean the same thing ({clashes}). Remove or rename the extra column, "
                "then rerun.",
            )
        return header
    expected = ", ".join(aliases[0] for aliases in column_map.columns.values())
    found = f" The closest row ({header.index + 1}) has: {', '.join(header.headers)}." if header else ""
    raise target.error(
        file,
        f"{where}no header row found in its first rows. {hint}Expected headers such as {expected}; "
        f"required: {'; '.join(column_map.missing_required(set()))}.{found} If the export names a "
        f"column differently, add that name to sources/column_maps.yaml under {target.source}.",
    )


def _insert_rows(
    target: _Target, relation: str, file: str, sheet: str | None, header: HeaderMatch, width: int, row: str
) -> None:
    """Insert every row of `relation` (raw columns c0..c<width-1>) with its key columns and skip mark."""
    cells = ", ".join(f"c{i}" for i in range(width))
    identity = " OR ".join(
        f"(regexp_matches({cell}, {_TEXT}) AND NOT regexp_matches({cell}, {_FOOTER_CELL}))"
        for cell in (f"c{header.columns[key]}" for key in IDENTITY_KEYS if key in header.columns)
    )
    skip = (
        f"CASE WHEN {identity or 'false'} THEN NULL "
        f"WHEN NOT regexp_matches(concat({cells}), {_TEXT}) THEN 'blank' "
        f"WHEN regexp_matches(concat_ws(chr(10), {cells}), {_FOOTER_ROW}) THEN 'footer' END"
    )
    keys = target.column_map.keys
    key_columns = ", ".join(f'"{key}"' for key in keys)
    values = ", ".join(f"c{header.columns[key]}" if key in header.columns else "NULL" for key in keys)
    target.con.execute(
        f"INSERT INTO {target.table} (source, source_file, source_sheet, source_row, _skip, {key_columns}) "
        f"SELECT {_sql_text(target.source)}, {_sql_text(file)}, {_sql_text(sheet)}, {row}, {skip}, {values} "
        f"FROM {relation}"
    )


# --- xlsx ---------------------------------------------------------------------------------------


def _read_xlsx(target: _Target, path: Path, file: str) -> FileReport:
    """Read every worksheet that holds a table; sheets with nothing tabular are skipped and reported."""
    content = path.read_bytes()
    report = FileReport(file, hashlib.sha256(content).hexdigest(), len(content), "xlsx")
    if not content.startswith(_ZIP_MAGIC):
        kind = (
            "an old-format .xls workbook or a password-protected one"
            if content.startswith(_OLE_MAGIC)
            else "not an Excel workbook (it looks like text; if it is a CSV export, rename it to .csv)"
        )
        raise target.error(file, f"the file is {kind}. Save it as an unprotected .xlsx, then rerun.")
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(content))
        for sheet in workbook.sheets_metadata:
            if sheet.typ != SheetTypeEnum.WorkSheet:
                report.skipped_sheets.append(sheet.name)
                continue
            rows = workbook.get_sheet_by_name(sheet.name).to_python(skip_empty_area=False)
            _read_sheet(target, file, sheet.name, [[_cell_text(v) for v in row] for row in rows], report,
                        hidden=sheet.visible != SheetVisibleEnum.Visible)  # fmt: skip
    except CalamineError:
        raise target.error(
            file,
            "the workbook is damaged or truncated and cannot be opened. Copy or export it again, "
            "check that it opens in Excel, then rerun.",
        ) from None
    return report


def _read_sheet(
    target: _Target, file: str, sheet: str, cells: list[list[str | None]], report: FileReport, hidden: bool
) -> None:
    header = find_header(cells, target.column_map)
    tabular = any(sum(1 for cell in row if cell and cell.strip()) >= 2 for row in cells)
    if (header is None or not header.is_header(target.column_map)) and (hidden or not tabular):
        report.skipped_sheets.append(sheet)  # empty, a title or notes only, or a hidden helper list
        return
    header = _check_header(target, file, sheet, header)
    width = max(map(len, cells))
    data = cells[header.index + 1 :]
    columns = {
        f"c{i}": pa.array([row[i] if i < len(row) else None for row in data], pa.string())
        for i in range(width)
    }
    columns["_row"] = pa.array(range(header.index + 2, header.index + 2 + len(data)), pa.int32())
    target.con.register("_xlsx_rows", pa.table(columns))
    try:
        _insert_rows(target, "_xlsx_rows", file, sheet, header, width, "_row")
    finally:
        target.con.unregister("_xlsx_rows")
    report.sheets.append(sheet)
    report.header_row[sheet] = header.index + 1
    report.unmapped_columns += [h for h in header.unmapped if h not in report.unmapped_columns]


def _cell_text(value: object) -> str | None:
    """A cell as the text Excel shows: no `.0` on whole numbers, dates as YYYY-MM-DD, None when empty.

    A number of 1e15 or more (an ID that Excel stored as a number) is shown as Excel shows it,
    `1.10105199001011E+17` (15 significant digits): its last digits are lost, and must stay visibly so.
    """
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        if abs(value) >= 1e15:
            mantissa, exponent = f"{value:.14E}".split("E")
            return f"{mantissa.rstrip('0').rstrip('.')}E{exponent}"
        return str(int(value)) if float(value).is_integer() else f"{value:.15g}"
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


# --- csv ----------------------------------------------------------------------------------------


def _read_csv(target: _Target, path: Path, file: str) -> FileReport:
    """Read a CSV with DuckDB: UTF-8 directly, GB18030 through a streamed UTF-8 copy."""
    with open(path, "rb") as handle:
        head = handle.read(HEAD_BYTES)
    complete = len(head) < HEAD_BYTES
    if head.startswith(_ZIP_MAGIC):
        raise target.error(file, "the file is an Excel workbook named .csv. Rename it to .xlsx, then rerun.")
    encoding = detect_encoding(head)
    if encoding is None:
        raise target.error(file, f"the file is not in a supported encoding (UTF-8 or GB18030). {_REEXPORT}")
    rows, line_numbers, delimiter, header = _csv_header(
        decode_head(head, encoding, complete), target.column_map
    )
    if header is None and not any(cell.strip() for row in rows for cell in row):
        scan = scan_file(path, encoding)
        return FileReport(file, scan.sha256, scan.size_bytes, encoding)  # an empty file: nothing to read
    header = _check_header(
        target, file, None, header, f"Read as {encoding}, the file may be in another encoding. {_REEXPORT} "
    )
    header_line = line_numbers[header.index]
    width = len(rows[header.index])
    with tempfile.TemporaryDirectory(prefix="aidmatch_csv_") as tmp:
        if encoding == "gb18030":
            utf8_copy = Path(tmp) / "utf8.csv"
            scan = _scan(target, file, path, encoding, utf8_copy)
            _insert_csv(target, utf8_copy, file, header, header_line, width, delimiter)
        else:  # hash and look for blank lines on the second core while DuckDB reads
            with ThreadPoolExecutor(max_workers=1) as pool:
                scanning = pool.submit(_scan, target, file, path, encoding)
                _insert_csv(target, path, file, header, header_line, width, delimiter)
                scan = scanning.result()
    blank_lines = [line for line in scan.blank_lines if line > header_line]
    _number_csv_rows(target, file, header_line, blank_lines)
    return FileReport(
        file, scan.sha256, scan.size_bytes, encoding,
        header_row={"": header_line}, rows_skipped_blank=len(blank_lines), unmapped_columns=header.unmapped,
    )  # fmt: skip


def _csv_header(
    text: str, column_map: SourceColumnMap
) -> tuple[list[list[str]], list[int], str, HeaderMatch | None]:
    """The first rows parsed with the delimiter that best reveals a header, their line numbers, the header."""
    best: tuple[list[list[str]], list[int], str, HeaderMatch | None] | None = None
    for delimiter in _CSV_DELIMITERS:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        rows: list[list[str]] = []
        line_numbers: list[int] = []
        for row in reader:
            rows.append(row)
            line_numbers.append(reader.line_num)
            if len(rows) == 30:
                break
        header = find_header(rows, column_map)
        if best is None or _rank(header, column_map) > _rank(best[3], column_map):
            best = (rows, line_numbers, delimiter, header)
    assert best is not None
    return best


def _rank(header: HeaderMatch | None, column_map: SourceColumnMap) -> tuple[bool, int]:
    """How convincing a header is: a real header first, then the number of known columns."""
    return (header is not None and header.is_header(column_map), len(header.columns) if header else 0)


def _scan(target: _Target, file: str, path: Path, encoding: str, utf8_copy: Path | None = None) -> FileScan:
    """`scan_file`, its decoding failure told as a SourceReadError."""
    try:
        return scan_file(path, encoding, utf8_copy)
    except DecodeFailure as failure:
        raise target.error(
            file,
            f"the file is not valid {encoding} from line {failure.line} on (mixed encodings?). {_REEXPORT}",
        ) from None


def _insert_csv(
    target: _Target, path: Path, file: str, header: HeaderMatch, header_line: int, width: int, delimiter: str
) -> None:
    """Insert the rows after the header line; `source_row` stays NULL until `_number_csv_rows`."""
    types = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width))

    def relation(parallel: bool) -> str:
        return (
            f"read_csv({_sql_text(str(path))}, header = false, skip = {header_line}, "
            f"delim = {_sql_text(delimiter)}, quote = '\"', escape = '\"', columns = {{{types}}}, "
            f"auto_detect = false, null_padding = true, strict_mode = false, parallel = {parallel})"
        )

    try:
        try:
            _insert_rows(target, relation(parallel=True), file, None, header, width, "NULL")
        except duckdb.InvalidInputException as error:
            if "quoted new lines" not in str(error):
                raise
            _insert_rows(target, relation(parallel=False), file, None, header, width, "NULL")
    except duckdb.InvalidInputException as error:
        raise target.error(file, _csv_problem(str(error))) from None


def _csv_problem(duckdb_message: str) -> str:
    """A steward's account of a DuckDB CSV error, without the line content DuckDB quotes."""
    line = re.search(r"CSV Error on Line: (\d+)", duckdb_message)
    where = f" near line {line.group(1)}" if line else ""
    if "Invalid unicode" in duckdb_message:
        return f"the file is not valid UTF-8{where} (mixed encodings?). {_REEXPORT}"
    return f"the file cannot be parsed as CSV{where} (broken quoting?). {_REEXPORT}"


def _number_csv_rows(target: _Target, file: str, header_line: int, blank_lines: list[int]) -> None:
    """Give the rows just inserted their line numbers: the line after the header, plus blank lines skipped.

    DuckDB keeps the file's row order in the table, so the rows' `rowid`s are consecutive in file
    order. The j-th blank line (0-based) `b` precedes every row whose line, not counting blank lines,
    is at least `b - j`; an ASOF join finds how many precede each row.
    """
    con, table = target.con, target.table
    con.execute(
        f"UPDATE {table} SET source_row = (rowid - (SELECT min(rowid) FROM {table} WHERE source_row IS NULL) "
        f"+ {header_line + 1})::INTEGER WHERE source_row IS NULL"
    )
    if not blank_lines:
        return
    shift_from = {line - j: j + 1 for j, line in enumerate(blank_lines)}  # consecutive blanks: the last wins
    shifts = pa.table({"threshold": list(shift_from), "shift": list(shift_from.values())})
    con.register("_blank_shifts", shifts)
    try:
        con.execute(
            f"UPDATE {table} SET source_row = {table}.source_row + s.shift FROM ("
            f"  SELECT r.rowid AS row_id, b.shift FROM {table} AS r"
            f"  ASOF JOIN _blank_shifts AS b ON r.source_row >= b.threshold"
            f"  WHERE r.source_file = {_sql_text(file)}"
            f") AS s WHERE {table}.rowid = s.row_id"
        )
    finally:
        con.unregister("_blank_shifts")


def _drop_skipped_rows(target: _Target, reports: list[FileReport]) -> None:
    """Count the blank and footer rows per file into the reports, delete them, drop the mark column."""
    con, table = target.con, target.table
    counts = con.execute(
        f"SELECT source_file, _skip, count(*) FROM {table} WHERE _skip IS NOT NULL GROUP BY ALL"
    ).fetchall()
    by_file = {report.file: report for report in reports}
    for file, kind, count in counts:
        if kind == "blank":
            by_file[file].rows_skipped_blank += count
        else:
            by_file[file].rows_skipped_footer += count
    for file, count in con.execute(
        f"SELECT source_file, count(*) FROM {table} WHERE _skip IS NULL GROUP BY ALL"
    ).fetchall():
        by_file[file].rows_read = count
    con.execute(f"DELETE FROM {table} WHERE _skip IS NOT NULL")
    con.execute(f"ALTER TABLE {table} DROP COLUMN _skip")
