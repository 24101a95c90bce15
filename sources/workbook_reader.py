"""Workbooks (.xlsx and Excel 97–2003 .xls): every worksheet holding a table, read with calamine, cells as
the text Excel shows.

What belongs here: opening a workbook (calamine reads both formats, so there is one reader and one
`cell_text`), the limits that keep a workbook from exhausting the machine, choosing the sheets, and
turning cells into text. What the bytes of a file are (and the messages for files that are no
workbook) is `sniff.py` / `folder.py`. Workbooks are department-sized, so one Python pass over a sheet's
cells is fine; the rows go to DuckDB as one Arrow table per sheet.

Limits (`intake` in the configuration), checked before the work they bound: an xlsx whose zip members
declare more unpacked bytes than `max_xlsx_uncompressed_bytes` is refused from the zip's directory,
before anything is decompressed; a sheet of more than `max_xlsx_cells` cells (rows × columns) is refused
as soon as calamine has its dimensions, before its cells become Python values (the costly part). A
member whose declared size lies fails its own size and CRC check while calamine unpacks it.
"""

import datetime as dt
import hashlib
import io
import zipfile
from typing import Protocol

import pyarrow as pa
from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from aidmatch.sources.folder import Entry
from aidmatch.sources.header import find_header
from aidmatch.sources.raw_table import FileReport, RawTable
from aidmatch.sources.sniff import ZIP_ERRORS, Kind


class WorkbookLimits(Protocol):
    """The `intake` settings a workbook is held to (aidmatch/settings.py `IntakeSettings`)."""

    @property
    def max_xlsx_uncompressed_bytes(self) -> int: ...

    @property
    def max_xlsx_cells(self) -> int: ...


def read_workbook(raw: RawTable, entry: Entry, limits: WorkbookLimits) -> FileReport:
    """Read every worksheet that holds a table; sheets with nothing tabular are skipped and reported."""
    file = entry.file
    content = entry.path.read_bytes()
    xls = entry.kind is Kind.XLS
    report = FileReport(
        file, hashlib.sha256(content).hexdigest(), len(content), "xls" if xls else "xlsx", reason=entry.note
    )
    if not xls:
        _check_unpacked_size(raw, file, content, limits.max_xlsx_uncompressed_bytes)
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(content))
        for sheet in workbook.sheets_metadata:
            if sheet.typ != SheetTypeEnum.WorkSheet:  # a chart sheet
                report.skipped_sheets.append(sheet.name)
                continue
            data = workbook.get_sheet_by_name(sheet.name)
            if data.height * data.width > limits.max_xlsx_cells:
                raise raw.error(
                    file,
                    f"sheet {sheet.name} has {data.height:,} rows × {data.width:,} columns = "
                    f"{data.height * data.width:,} cells, more than the {limits.max_xlsx_cells:,} a sheet may "
                    f"hold; it is not read. Split the sheet, or export it as .csv (or, if the machine has "
                    f"the memory, raise intake.max_xlsx_cells in the configuration), then rerun.",
                )
            cells = [[cell_text(value) for value in row] for row in data.to_python(skip_empty_area=False)]
            _read_sheet(
                raw, file, sheet.name, cells, report, hidden=sheet.visible != SheetVisibleEnum.Visible
            )
    except CalamineError:
        protected = " or password-protected" if xls else ""
        raise raw.error(
            file,
            f"the workbook is damaged, truncated{protected} and cannot be opened. Copy or export it again, "
            "check that it opens in Excel without a password, then rerun.",
        ) from None
    return report


def _check_unpacked_size(raw: RawTable, file: str, content: bytes, limit: int) -> None:
    """Refuse an xlsx whose members declare more unpacked bytes than `limit` (read from the zip's directory:
    nothing is decompressed)."""
    try:
        unpacked = sum(member.file_size for member in zipfile.ZipFile(io.BytesIO(content)).infolist())
    except ZIP_ERRORS:
        return  # calamine reports it as damaged
    if unpacked > limit:
        raise raw.error(
            file,
            f"the workbook would unpack to {unpacked:,} bytes, more than the {limit:,} allowed; it is not "
            f"read (a zip bomb, or no department's extract). Check where the file comes from; a real extract "
            f"that big is better exported as .csv (or raise intake.max_xlsx_uncompressed_bytes), then rerun.",
        )


def _read_sheet(
    raw: RawTable, file: str, sheet: str, cells: list[list[str | None]], report: FileReport, hidden: bool
) -> None:
    """Insert a sheet's rows below its header; skip a sheet with no table (empty, notes, hidden lists)."""
    header = find_header(cells, raw.column_map)
    tabular = any(sum(1 for cell in row if cell and cell.strip()) >= 2 for row in cells)
    if (header is None or not header.is_header(raw.column_map)) and (hidden or not tabular):
        report.skipped_sheets.append(sheet)
        return
    header = raw.check_header(file, sheet, header)
    width = max(map(len, cells))  # calamine rows are all as wide as the sheet
    data = cells[header.index + 1 :]
    columns = {f"c{i}": pa.array([row[i] for row in data], pa.string()) for i in range(width)}
    first_row = header.index + 2  # 1-based Excel row of the first row below the header
    columns["_row"] = pa.array(range(first_row, first_row + len(data)), pa.int32())
    raw.con.register("_xlsx_rows", pa.table(columns))
    try:
        report.rows_read += raw.insert_rows("_xlsx_rows", file, sheet, header, width, "_row")
    finally:
        raw.con.unregister("_xlsx_rows")
    report.sheets.append(sheet)
    report.header_row[sheet] = header.index + 1
    report.unmapped_columns += [text for text in header.unmapped if text not in report.unmapped_columns]


def cell_text(value: object) -> str | None:
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
