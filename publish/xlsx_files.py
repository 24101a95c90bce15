"""xlsx workbooks for people: Chinese headers, one sheet per category, ready to print.

Every sheet has a frozen header row, an auto-filter, widths that fit the content (CJK characters count
double), IDs and record references stored as text (Excel must never turn 110105199001011234 into
1.10105199001011E+17), landscape A4 fitted to the page width with the header repeated on every page.
Written with openpyxl's write-only mode so a large list streams instead of building a DOM.
"""

from pathlib import Path

import polars as pl
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

MAX_WIDTH = 60
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", start_color="DDEBF7")


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
        sheet.append([_header_cell(sheet, label) for label in labels])
        text = frame.select(pl.all().cast(pl.String).fill_null(""))
        identifiers = [is_identifier(column) for column in frame.columns]
        for row in text.iter_rows():
            sheet.append(
                [_text_cell(sheet, v) if ident else v for v, ident in zip(row, identifiers, strict=True)]
            )
    workbook.save(path)


def _header_cell(sheet, label: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=label)
    cell.font = _HEADER_FONT
    cell.fill = _HEADER_FILL
    cell.alignment = Alignment(vertical="center", wrap_text=True)
    return cell


def _text_cell(sheet, value: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    cell.number_format = "@"
    return cell
