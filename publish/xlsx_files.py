"""xlsx workbooks for people: Chinese headers, one sheet per category, ready to print.

Every sheet has a frozen header row, an auto-filter, widths that fit the content (CJK characters count
double), IDs and record references stored as text (Excel must never turn 110105199001011234 into
1.10105199001011E+17), landscape A4 fitted to the page width with the header repeated on every page.
Written with openpyxl's write-only mode so a large list streams instead of building a DOM.

No cell ever holds a formula that came from data (SPEC section 5): every cell of every sheet is made by
`_cell`, which writes text starting with = + - @ (or a tab or carriage return) as literal text — string
type, never openpyxl's formula type — with Excel's quote prefix, so editing the cell keeps it text.
"""

from pathlib import Path
from typing import Any

import polars as pl
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from aidmatch.sources.text import FORMULA_PREFIXES

MAX_WIDTH = 60
_HEADER_STYLE = {
    "font": Font(bold=True),
    "fill": PatternFill("solid", start_color="DDEBF7"),
    "alignment": Alignment(vertical="center", wrap_text=True),
}
_IDENTIFIER_STYLE = {"number_format": "@"}


def _display_width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _column_widths(frame: pl.DataFrame, headers: list[str]) -> list[int]:
    widths = []
    for column, header in zip(frame.columns, headers, strict=True):
        longest = (
            frame.select(
                pl.col(column)
                .cast(pl.String)
                .fill_null("")
                .head(2000)
                .map_elements(_display_width, pl.Int64)
                .max()
            ).item()
            if frame.height
            else 0
        )
        widths.append(min(MAX_WIDTH, max(_display_width(header), longest or 0) + 2))
    return widths


def is_identifier(column: str) -> bool:
    """Columns holding IDs and record references: formatted as text so that Excel never re-reads them."""
    return column.endswith(("_id", "_ids")) or column == "source_record"


def write_workbook(path: Path, sheets: dict[str, pl.DataFrame], headers: dict[str, str]) -> None:
    """Write `sheets` (sheet title -> frame) to `path`; `headers` maps column names to Chinese labels.

    Every value is written as text (dates as YYYY-MM-DD), so no ID or code is reinterpreted by Excel;
    identifier columns also carry the text number format ("@"), so an edit keeps them text.
    """
    workbook = Workbook(write_only=True)
    for title, frame in sheets.items():
        sheet = workbook.create_sheet(title=title[:31])
        labels = [headers.get(column, column) for column in frame.columns]
        for index, width in enumerate(_column_widths(frame, labels), start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.freeze_panes = "A2"
        last = get_column_letter(max(1, len(labels)))
        sheet.auto_filter.ref = f"A1:{last}{frame.height + 1}"
        sheet.print_title_rows = "1:1"
        sheet.page_setup.orientation = "landscape"
        sheet.page_setup.paperSize = Worksheet.PAPERSIZE_A4
        sheet.page_setup.fitToWidth = 1
        sheet.page_setup.fitToHeight = 0
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
        sheet.append([_cell(sheet, label, _HEADER_STYLE) for label in labels])
        text = frame.select(pl.all().cast(pl.String).fill_null(""))
        styles = [_IDENTIFIER_STYLE if is_identifier(column) else None for column in frame.columns]
        for row in text.iter_rows():
            sheet.append([_cell(sheet, value, style) for value, style in zip(row, styles, strict=True)])
    workbook.save(path)


def _cell(sheet, value: str, style: dict[str, Any] | None = None) -> str | Cell:
    """The one place a cell is made. Text that a spreadsheet would run as a formula (or openpyxl would store
    as a formula or an error value: "=…", "#N/A") becomes a string cell with the quote prefix; other text
    without a style stays a plain value, which openpyxl writes as a string without a cell object per value.
    """
    literal = value.startswith(FORMULA_PREFIXES) or value in ERROR_CODES
    if style is None and not literal:
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    if literal:
        cell.quotePrefix = True
    for name, setting in (style or {}).items():
        setattr(cell, name, setting)
    return cell
