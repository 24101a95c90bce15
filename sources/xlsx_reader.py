"""xlsx extracts: every worksheet holding a table, read with calamine, cells as the text Excel shows.

What belongs here: opening a workbook (and saying clearly when it is not one, or is damaged),
choosing the sheets, and turning cells into text (`cell_text`). Workbooks are department-sized, so
one Python pass over a sheet's cells is fine; the rows go to DuckDB as one Arrow table per sheet.
"""

import datetime as dt
import hashlib
import io
from pathlib import Path

import pyarrow as pa
from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from sources.header import find_header
from sources.raw_table import FileReport, RawTable

ZIP_MAGIC = b"PK\x03\x04"  # an .xlsx is a zip archive
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # .xls, and password-protected .xlsx


def read_xlsx(raw: RawTable, path: Path, file: str) -> FileReport:
    """Read every worksheet that holds a table; sheets with nothing tabular are skipped and reported."""
    content = path.read_bytes()
    report = FileReport(file, hashlib.sha256(content).hexdigest(), len(content), "xlsx")
    if not content.startswith(ZIP_MAGIC):
        kind = (
            "an old-format .xls workbook or a password-protected one"
            if content.startswith(_OLE_MAGIC)
            else "not an Excel workbook (it looks like text; if it is a CSV export, rename it to .csv)"
        )
        raise raw.error(file, f"the file is {kind}. Save it as an unprotected .xlsx, then rerun.")
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(content))
        for sheet in workbook.sheets_metadata:
            if sheet.typ != SheetTypeEnum.WorkSheet:  # a chart sheet
                report.skipped_sheets.append(sheet.name)
                continue
            rows = workbook.get_sheet_by_name(sheet.name).to_python(skip_empty_area=False)
            cells = [[cell_text(value) for value in row] for row in rows]
            _read_sheet(
                raw, file, sheet.name, cells, report, hidden=sheet.visible != SheetVisibleEnum.Visible
            )
    except CalamineError:
        raise raw.error(
            file,
            "the workbook is damaged or truncated and cannot be opened. Copy or export it again, check "
            "that it opens in Excel, then rerun.",
        ) from None
    return report


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
