"""xlsx workbooks for people — the lists, the departments' feedback sheets, the monthly progress table —
laid out to be read on screen and printed (a bureau's 花名册).

A sheet is a `TableSheet`: a title row (what, which area, as of when), an optional second title line,
optional group headers above the column headers, the header row, the rows, notes below. It prints on A4
landscape with the title and header rows repeated on every page, the list and the as-of date in the page
header, "第 N 页 共 M 页" in the footer, gridlines, and text wrapped in the widths each column declares.
Those widths are designed to fill the page at 100%: fit-to-width stays on only as a safety net, so the
10-pt body never shrinks below 9 pt and a page holds at most about 40 rows. A new page starts wherever the
`page_break_by` columns change value (each street on its own pages, to hand to its office).

Cells are typed: numbers as numbers, dates as dates (yyyy-mm-dd), IDs, phone numbers and record
references as text with the text format "@" (Excel must never turn 110105199001011234 into
1.10105199001011E+17). Written in openpyxl's write-only mode so a large list streams.

No cell ever holds a formula that came from data (SPEC section 5): every cell of every sheet is made by
`cell`, which writes text starting with = + - @ (or a tab or carriage return) as literal text — string
type, never openpyxl's formula type — with Excel's quote prefix, so editing the cell keeps it text.
"""

import functools
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from copy import copy
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import Path
from typing import Any

import polars as pl
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, Cell
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet

from aidmatch.sources.text import FORMULA_PREFIXES

# Excel stops at 1,026 manual page breaks a sheet; past that a sheet's groups run on without one.
MAX_PAGE_BREAKS = 1000
# Row heights are written, not left to the reader (LibreOffice does not grow rows of wrapped text on
# opening a file): lines a cell needs at the body size, from the points its text takes — 10 pt a CJK
# character, 6.4 pt any other (wide digits: a reader without 宋体 substitutes DejaVu Sans) — against its
# column's width (5.25 pt a width unit, less the cell's padding), with slack for lines broken early at a
# word; 14.5 pt a line (CJK fonts are tall).
_POINTS_PER_UNIT = 5.25
_CELL_PADDING_POINTS = 1
_LINE_POINTS = 14.5
_WRAP_SLACK = 1.05

_FONT = "宋体"
_BODY = Font(name=_FONT, size=10)
_WRAP = Alignment(wrap_text=True, vertical="top")
_STYLES: dict[str, dict[str, Any]] = {
    "text": {"font": _BODY, "alignment": _WRAP},
    "id": {"font": _BODY, "alignment": _WRAP, "number_format": "@"},
    "date": {"font": _BODY, "alignment": _WRAP, "number_format": "yyyy-mm-dd"},
    "number": {"font": _BODY, "alignment": _WRAP, "number_format": "0"},
    "percent": {"font": _BODY, "alignment": _WRAP, "number_format": "0.0%"},
    "header": {
        "font": Font(name=_FONT, size=10, bold=True),
        "fill": PatternFill("solid", start_color="DDEBF7"),
        "alignment": Alignment(horizontal="center", vertical="center", wrap_text=True),
    },
    "title": {"font": Font(name=_FONT, size=14, bold=True), "alignment": Alignment(vertical="center")},
    "subtitle": {"font": _BODY, "alignment": Alignment(vertical="center")},
    "note": {"font": _BODY, "alignment": _WRAP},
}
KINDS = ("text", "id", "date", "number", "percent")
# A column people fill in (走访日期, 结果, 说明, 经办人): pale yellow, and its cells left unlocked when the sheet
# is protected, so a worker types there and nowhere else.
_FILL_IN = {"fill": PatternFill("solid", start_color="FFF9DB"), "protection": Protection(locked=False)}


@dataclass(frozen=True)
class SheetColumn:
    key: str  # the frame's column
    header: str  # 中文表头
    width: float  # Excel column-width units; a CJK character takes about 2
    kind: str = "text"  # text | id | date | number | percent
    fill_in: bool = False  # filled in by people: unlocked cells on a protected sheet, shaded
    choices: tuple[str, ...] = ()  # a drop-down of the values a filled-in cell may take
    hidden: bool = False  # in the sheet for reading it back (a form's 勿改 key), neither shown nor printed

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"column {self.key}: kind {self.kind!r} is not one of {KINDS}")
        if self.choices and not self.fill_in:
            raise ValueError(f"column {self.key}: a drop-down is for a column people fill in")

    @property
    def style(self) -> str:
        """The name of the style its data cells take."""
        return f"{self.kind}_fill_in" if self.fill_in else self.kind


@dataclass(frozen=True)
class TableSheet:
    name: str  # the sheet's tab (31 characters at most)
    title: str  # the title row: what, which area, as of when
    columns: tuple[SheetColumn, ...]
    frame: pl.DataFrame  # holds every column's key, rows in print order
    page_header: str  # the page header's left side (its right side is `as_of`)
    as_of: str
    subtitle: str | None = None  # a second title line (单位、时间)
    groups: tuple[tuple[str, str, str], ...] = ()  # (group header, first column key, last column key)
    page_break_by: tuple[str, ...] = ()  # a new page whenever these columns' values change
    notes: tuple[str, ...] = ()  # lines below the table (说明)
    protected: bool = False  # locked but for the fill-in columns (filters still work): a form people fill

    @property
    def header_rows(self) -> int:
        """Rows above the data: title, subtitle, group headers, headers."""
        return 2 + (self.subtitle is not None) + bool(self.groups)


@dataclass(frozen=True)
class CellStyle:
    """A style registered once with a workbook, as the array of indexes its cells carry (setting the font,
    alignment and format objects on every cell would hash each of them per cell), and its twin with the
    quote prefix for literal text. Cells share them: nothing changes a cell's style after it is made."""

    plain: StyleArray
    quoted: StyleArray


def cell_style(sheet: Worksheet, spec: dict[str, Any]) -> CellStyle:
    prototype = WriteOnlyCell(sheet)
    for name, setting in spec.items():
        setattr(prototype, name, setting)
    quoted = copy(prototype._style)
    quoted.quotePrefix = True
    return CellStyle(prototype._style, quoted)


# Cells past which the workbooks are shared among processes: openpyxl is Python, some 25 µs a cell on one
# core, and a city's lists are a million and a half cells; a process costs about a second to start (its
# imports), which a test world's few hundred cells would pay many times over.
PROCESSES_FROM_CELLS = 200_000


def write_workbooks(books: Sequence[tuple[Path, Sequence[TableSheet]]], processes: int) -> list[int]:
    """Write each (path, sheets); return each workbook's data rows, in the order given.

    Past `PROCESSES_FROM_CELLS` cells, in `processes` spawned processes at once (a forked one could inherit
    Polars' thread pool locked by a thread of this process), the largest first so that they finish together.
    """
    cells = [sum(sheet.frame.height * len(sheet.columns) for sheet in sheets) for _, sheets in books]
    order = sorted(range(len(books)), key=lambda i: -cells[i])
    if processes <= 1 or len(books) <= 1 or sum(cells) < PROCESSES_FROM_CELLS:
        rows = [write_workbook(*books[i]) for i in order]
    else:
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(min(processes, len(books)), mp_context=spawn) as pool:
            rows = list(pool.map(write_workbook, *zip(*(books[i] for i in order), strict=True)))
    by_book = dict(zip(order, rows, strict=True))
    return [by_book[i] for i in range(len(books))]


def write_workbook(path: Path, sheets: Sequence[TableSheet]) -> int:
    """Write `sheets` to `path`; return their data rows (title, header and note rows not counted)."""
    workbook = Workbook(write_only=True)
    styles: dict[str, CellStyle] = {}
    for table, heights in zip(sheets, _sheet_heights(sheets), strict=True):
        sheet = workbook.create_sheet(title=table.name[:31])
        styles = styles or {
            **{name: cell_style(sheet, spec) for name, spec in _STYLES.items()},
            **{f"{kind}_fill_in": cell_style(sheet, _STYLES[kind] | _FILL_IN) for kind in KINDS},
        }
        _write_sheet(sheet, table, styles, heights)
        # Its XML is complete: close its temporary file now. openpyxl keeps each sheet's open until `save`,
        # and an employers' view of thousands of sheets ran out of the process's file descriptors.
        sheet.close()
    workbook.save(path)
    return sum(table.frame.height for table in sheets)


@dataclass(frozen=True)
class _Heights:
    across: list[float]  # the subtitle's (if any), then each note's
    rows: list[float]  # each data row's


def _across_texts(table: TableSheet) -> list[str]:
    """The texts written across a sheet below its title: the subtitle, the notes."""
    return [*([table.subtitle] if table.subtitle is not None else []), *table.notes]


def _sheet_heights(tables: Sequence[TableSheet]) -> list[_Heights]:
    """Each sheet's heights, measured in one Polars pass per set of columns: a pass costs about a
    millisecond however few its rows, and an employers' view has thousands of sheets of a few rows."""
    by_columns: dict[tuple[SheetColumn, ...], list[TableSheet]] = {}
    for table in tables:
        by_columns.setdefault(table.columns, []).append(table)
    measured: dict[int, _Heights] = {}
    for columns, group in by_columns.items():
        texts = [_across_texts(table) for table in group]
        across = iter(
            _heights(
                pl.DataFrame({"t": list(chain.from_iterable(texts))}, schema={"t": pl.String}),
                [SheetColumn("t", "", sum(column.width for column in columns if not column.hidden))],
            )
        )
        keys = [column.key for column in columns]
        rows = iter(
            _heights(pl.concat([table.frame[keys] for table in group], how="vertical_relaxed"), columns)
        )
        for table, own in zip(group, texts, strict=True):
            measured[id(table)] = _Heights(
                list(islice(across, len(own))), list(islice(rows, table.frame.height))
            )
    return [measured[id(table)] for table in tables]


def _write_sheet(
    sheet: Worksheet, table: TableSheet, styles: dict[str, CellStyle], heights: _Heights
) -> None:
    columns = table.columns
    last = get_column_letter(len(columns))
    for index, column in enumerate(columns, start=1):
        dimension = sheet.column_dimensions[get_column_letter(index)]
        dimension.width, dimension.hidden = column.width, column.hidden
    _page_setup(sheet, table, last)
    header_row = table.header_rows
    sheet.freeze_panes = f"A{header_row + 1}"  # the sheet's view is written with its first row: set it now
    across = iter(heights.across)
    _write_across(sheet, 1, table.title, styles["title"], last, 22)
    if table.subtitle is not None:
        _write_across(sheet, 2, table.subtitle, styles["subtitle"], last, next(across))
    if table.groups:
        _write_group_headers(sheet, table, header_row, styles["header"])
    sheet.row_dimensions[header_row].height = _header_height(columns)
    sheet.append([cell(sheet, column.header, styles["header"]) for column in columns])
    sheet.auto_filter.ref = f"A{header_row}:{last}{header_row + max(1, table.frame.height)}"

    kinds = [styles[column.style] for column in columns]
    _fill_in_rules(sheet, table, header_row)
    rows = table.frame[[column.key for column in columns]]
    breaks = table.frame[list(table.page_break_by)].iter_rows() if table.page_break_by else None
    group = None
    number = header_row
    for height, values in zip(heights.rows, rows.iter_rows(), strict=True):
        number += 1
        if breaks is not None:
            key = next(breaks)
            if group is not None and key != group and len(sheet.row_breaks.brk) < MAX_PAGE_BREAKS:
                sheet.row_breaks.append(Break(id=number - 1))
            group = key
        sheet.row_dimensions[number].height = height
        sheet.append(
            [
                cell(sheet, value, style, blank=column.fill_in)
                for value, style, column in zip(values, kinds, columns, strict=True)
            ]
        )
    for note, height in zip(table.notes, across, strict=True):
        number += 1
        _write_across(sheet, number, note, styles["note"], last, height)


def _fill_in_rules(sheet: Worksheet, table: TableSheet, header_row: int) -> None:
    """A drop-down on each fill-in column with choices (any other value refused, a blank allowed), and on a
    protected sheet the lock: only the fill-in cells take typing; filtering and resizing stay allowed."""
    first, last = header_row + 1, header_row + max(1, table.frame.height)
    for index, column in enumerate(table.columns, start=1):
        if column.choices:
            rule = DataValidation(
                type="list",
                formula1='"' + ",".join(column.choices) + '"',
                allow_blank=True,
                showErrorMessage=True,
                errorTitle=column.header,
                error="请从下拉列表中选择：" + "、".join(column.choices),
            )
            letter = get_column_letter(index)
            rule.add(f"{letter}{first}:{letter}{last}")
            sheet.data_validations.append(rule)
    if table.protected:
        sheet.protection.sheet = True
        for allowed in ("autoFilter", "formatColumns", "formatRows"):
            setattr(sheet.protection, allowed, False)  # False: not protected, the reader may do it


def _write_across(sheet: Worksheet, row: int, text: str, style: CellStyle, last: str, height: float) -> None:
    """One text across the table (title, subtitle, a note): one merged cell, `height` points tall."""
    sheet.merged_cells.add(f"A{row}:{last}{row}")
    sheet.row_dimensions[row].height = height
    sheet.append([cell(sheet, text, style)])


@functools.cache
def _header_height(columns: tuple[SheetColumn, ...]) -> float:
    """The header row's height: the same for every sheet of a list (or of each employer in the view)."""
    return _heights(pl.DataFrame({c.key: [c.header] for c in columns}), columns)[0]


def _heights(frame: pl.DataFrame, columns: Sequence[SheetColumn]) -> list[float]:
    """Each row's height in points: the most lines any of its cells needs (see _LINE_POINTS)."""
    lines = []
    for column in (column for column in columns if not column.hidden):
        usable = column.width * _POINTS_PER_UNIT - _CELL_PADDING_POINTS
        paragraph = pl.element()
        points = paragraph.str.len_chars() * 6.4 + paragraph.str.count_matches(r"[^\x00-\x7f]") * 3.6
        lines.append(
            pl.col(column.key)
            .cast(pl.String)
            .fill_null("")
            .str.split("\n")
            .list.eval((points * _WRAP_SLACK / usable).ceil().clip(lower_bound=1))
            .list.sum()
        )
    counts = frame.select(pl.max_horizontal(lines).alias("lines")).to_series() if lines else pl.Series([1])
    return (counts * _LINE_POINTS + 3).to_list()


def _write_group_headers(sheet: Worksheet, table: TableSheet, row: int, style: CellStyle) -> None:
    """A row of group headers above the column headers: a group's header spans its columns; a column in no
    group has its own header merged across both rows."""
    keys = [column.key for column in table.columns]
    above: list[str | None] = [None] * len(keys)
    grouped = set()
    for header, first, last in table.groups:
        start, end = keys.index(first), keys.index(last)
        above[start] = header
        grouped.update(range(start, end + 1))
        sheet.merged_cells.add(
            f"{get_column_letter(start + 1)}{row - 1}:{get_column_letter(end + 1)}{row - 1}"
        )
    for index, column in enumerate(table.columns):
        if index not in grouped:
            above[index] = column.header
            letter = get_column_letter(index + 1)
            sheet.merged_cells.add(f"{letter}{row - 1}:{letter}{row}")
    sheet.row_dimensions[row - 1].height = _LINE_POINTS + 3
    sheet.append([cell(sheet, text or "", style) for text in above])


def _page_setup(sheet: Worksheet, table: TableSheet, last: str) -> None:
    """A4 landscape; title and header rows on every page; page header and "第 N 页 共 M 页"; gridlines."""
    sheet.print_title_rows = f"1:{table.header_rows}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    sheet.page_margins.top = sheet.page_margins.bottom = 0.7
    sheet.page_margins.header = sheet.page_margins.footer = 0.3
    sheet.print_options.gridLines = True
    sheet.print_options.horizontalCentered = True
    sheet.oddHeader.left.text = _header_text(table.page_header)
    sheet.oddHeader.right.text = _header_text(f"数据截至 {table.as_of}")
    sheet.oddFooter.center.text = "第 &P 页 共 &N 页"
    for part in (sheet.oddHeader.left, sheet.oddHeader.right, sheet.oddFooter.center):
        part.size, part.font = 10, _FONT


def _header_text(text: str) -> str:
    """Text for a page header: & starts a code there, so a literal one is doubled."""
    return text.replace("&", "&&")


def cell(sheet: Worksheet, value: Any, style: CellStyle | None = None, blank: bool = False) -> Any | Cell:
    """The one place a cell is made. Text that a spreadsheet would run as a formula (or openpyxl would store
    as a formula or an error value: "=…", "#N/A") becomes a string cell with the quote prefix; numbers and
    dates stay numbers and dates; a value without a style stays a plain value, which openpyxl writes
    without a cell object of its own; an empty one stays empty — unless it is a `blank` to fill in, which
    keeps its style (unlocked, shaded).
    """
    literal = isinstance(value, str) and (value.startswith(FORMULA_PREFIXES) or value in ERROR_CODES)
    if blank and style is not None and value in (None, ""):
        made = WriteOnlyCell(sheet)
        made._style = style.plain
        return made
    if value is None or (style is None and not literal):
        return value
    made = WriteOnlyCell(sheet, value=value)
    if literal:
        made.data_type = "s"
    if style is None:
        made.quotePrefix = True
    else:
        made._style = style.quoted if literal else style.plain
    return made
