"""xlsx workbooks for people — the lists, the departments' feedback sheets, the monthly progress table, the
forms people fill — laid out to be read on screen and printed like a bureau's roster (花名册).

A sheet is a `TableSheet`: a title row (what, which area, as of when), an optional second title line,
optional group headers above the column headers, the header row, the rows, notes below. It prints on A4
landscape with the title and header rows repeated on every page, the list and the as-of date in the page
header, "第 N 页 共 M 页" in the footer and gridlines. A new page starts wherever the `page_break_by` columns
change value (each street on its own pages, to hand to its office).

Printed the same on every machine (SPEC section 5: 15 rows or more a page at 9 pt or more). A bureau prints
from Excel, WPS or LibreOffice, with or without the fonts of the machine that wrote the file, so:
- the scale is fixed at 100%: text prints at the 10 pt it is written in. (Fit-to-width made the size the
  printing machine's: where a substitute font made the columns wider, it shrank the page to 7.2 pt.)
- a column's width unit is the digit width of the workbook's Normal font, so the Normal font is Courier New,
  whose digits — and those of every monospaced font a machine substitutes for it (Liberation Mono, DejaVu
  Sans Mono, Noto Sans Mono) — are 0.6 em: a unit is 6.0 pt everywhere, and the table fits the page
  everywhere. (宋体 as the Normal font made a unit 5.0 pt where 宋体 is installed and 6.4 pt where it is not.)
- the cells are 宋体 (SimSun), the CJK font a Chinese office has; a CJK character is 10 pt wide in any CJK
  font, a digit or Latin letter at most 6.4 pt (DejaVu Sans, a reader's fallback for 宋体's Latin).
- columns are sized to their content within the page's width (`column_widths`), and row heights are written
  from the lines each row's text takes in those widths (`layout`, matched to what LibreOffice itself needs
  for one, two, three lines of 10-pt CJK text: 15.0, 29.85, 44.0 pt): readers do not grow rows of wrapped
  text on opening a file, and a row too short would hide text.

Cells are typed: numbers as numbers, dates as dates (yyyy-mm-dd), IDs, phone numbers and record references
as text with the text format "@" (Excel must never turn 110105199001011234 into 1.10105199001011E+17).
Written with XlsxWriter (the engine Polars writes xlsx with): 2.3 times openpyxl's speed on these sheets;
the data rows, the bulk of a sheet, as one block of XML made by Polars (`publish/sheet_rows.py`: 4 times
XlsxWriter's own speed cell by cell). The workbook is assembled in memory and hashed as it is written to
its file (the manifest's sha256); a city's workbooks several at once (`save_workbooks`).

No cell ever holds a formula that came from data (SPEC section 5): the workbook never converts strings
(XlsxWriter's strings_to_formulas, _numbers and _urls are off), every title, header and note is written
with `write_string` and every data cell as a string cell (`sheet_rows`), whatever it starts with; text
starting with = + - @ (or a tab or carriage return) or reading as an error value (#N/A) gets Excel's quote
prefix, so editing the cell keeps it text.
"""

import datetime as dt
import hashlib
import io
import math
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from aidmatch.publish.sheet_rows import CellStyle, TableWorksheet, is_literal, rows_xml
from aidmatch.publish.written import FileEntry

# --- the printed page -------------------------------------------------------------------------------
FONT = "宋体"
BODY_POINTS = 10
NORMAL_FONT = "Courier New"  # the width unit's font (see the module docstring)
UNIT_POINTS = 6.0  # a column-width unit: a digit of Courier New 10 pt
# XlsxWriter stores a width with Excel's 5-pixel cell padding added (5/7 of a unit at its 7-pixel digit).
_STORED_PADDING_UNITS = 5 / 7
# A4 landscape, 841.9 × 595.3 pt; 0.3-inch sides and 0.45-inch top and bottom (the page header and footer
# 0.2 inch from the edge, where printers still print): 530 pt of rows a page, the title and header rows
# repeated included. The table's width is kept 1% inside the printable width.
_SIDE_MARGIN, _TOP_MARGIN, _HEADER_MARGIN = 0.3, 0.45, 0.2
PRINTABLE_POINTS = (841.9 - 2 * 72 * _SIDE_MARGIN) * 0.99
# Text: a CJK (any non-ASCII) character takes the body size; an ASCII one what DejaVu Sans gives it (the
# widest of the fonts a reader puts in 宋体's place for Latin: digits 6.4 pt, letters up to 7, punctuation
# 3.6). LibreOffice keeps about 3 pt of a cell's width free of text (4 here). The rows of 10-pt CJK text it
# needs (OptimalHeight) are 15.0, 29.85 and 44.0 pt for one, two and three lines: 14.5 pt a line and 1 pt
# here, on the 0.75-pt (pixel) grid row heights are stored on.
_DIGIT_POINTS, _LETTER_POINTS, _NARROW_POINTS = 6.4, 7.0, 3.6
_CELL_PADDING_POINTS = 4.0
_LINE_POINTS = 14.5
_ROW_PADDING_POINTS = 1.0
_PIXEL_POINTS = 0.75
_WRAP_SLACK = 1.02  # a line broken early at a word (LibreOffice keeps Latin words whole)
_TITLE_POINTS = 21.75  # the 14-pt title line (LibreOffice needs 20.3)
_MIN_WIDTH = 3.0  # units: the narrowest column (a CJK character, two digits)
# Excel keeps at most 1,026 manual page breaks a sheet (1,023 in practice, where XlsxWriter stops);
# past them a sheet's groups run on without one. The employers' view starts a sheet before.
MAX_PAGE_BREAKS = 1023
_NOT_IN_SHEET_NAME = re.compile(r"[\[\]:*?/\\]")  # Excel refuses these in a sheet's name

KINDS = ("text", "id", "date", "number", "percent")
_NUMBER_FORMATS = {"id": "@", "date": "yyyy-mm-dd", "number": "0", "percent": "0.0%"}
_BODY = {"font_name": FONT, "font_size": BODY_POINTS, "text_wrap": True, "valign": "top"}
_STYLES: dict[str, dict[str, Any]] = {
    **{
        kind: _BODY | ({"num_format": _NUMBER_FORMATS[kind]} if kind in _NUMBER_FORMATS else {})
        for kind in KINDS
    },
    "header": _BODY
    | {"bold": True, "bg_color": "#DDEBF7", "align": "center", "valign": "vcenter", "border": 1},
    "title": {"font_name": FONT, "font_size": 14, "bold": True, "valign": "vcenter"},
    "subtitle": {"font_name": FONT, "font_size": BODY_POINTS, "valign": "vcenter", "text_wrap": True},
    "note": _BODY,
}
# A column people fill in (走访日期, 结果, 说明, 经办人): pale yellow, and its cells left unlocked when the sheet
# is protected, so a worker types there and nowhere else.
_FILL_IN = {"bg_color": "#FFF9DB", "locked": False}


def _options() -> dict[str, Any]:
    """A workbook's options, made anew for each: XlsxWriter adds to the default format's dict it is given,
    and a second workbook given the same would tie its Normal font to the theme's (Calibri)."""
    return {
        "strings_to_formulas": False,
        "strings_to_numbers": False,
        "strings_to_urls": False,
        "remove_timezone": True,
        "in_memory": True,
        "default_format_properties": {"font_name": NORMAL_FONT, "font_size": BODY_POINTS},
    }


@dataclass(frozen=True)
class SheetColumn:
    key: str  # the frame's column
    header: str  # 中文表头
    width: float  # Excel column-width units (6 pt each): the most it takes before its text wraps
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


# --- measuring text ---------------------------------------------------------------------------------


def _paragraph_points(values: pl.Expr) -> pl.Expr:
    """Each value's paragraphs (lines it breaks itself) as the points each takes on one line."""
    paragraph = pl.element()
    points = (
        paragraph.str.len_chars() * _DIGIT_POINTS
        + paragraph.str.count_matches(r"[^\x00-\x7f]") * (BODY_POINTS - _DIGIT_POINTS)
        + paragraph.str.count_matches(r"[A-Za-z]") * (_LETTER_POINTS - _DIGIT_POINTS)
        + paragraph.str.count_matches(r"[ \-.,:;/()'\[\]]") * (_NARROW_POINTS - _DIGIT_POINTS)
    )
    return values.cast(pl.String).fill_null("").str.split("\n").list.eval(points)


def _units_for(points: float) -> float:
    """The width (units) whose cell holds `points` of text on one line (as `_lines` counts them)."""
    return max(0.0, (points * _WRAP_SLACK + _CELL_PADDING_POINTS) / UNIT_POINTS - _STORED_PADDING_UNITS)


def _usable_points(width: float) -> float:
    """The points of text one line of a cell of `width` units holds."""
    return (width + _STORED_PADDING_UNITS) * UNIT_POINTS - _CELL_PADDING_POINTS


def _lines(paragraphs: pl.Expr, width: float) -> pl.Expr:
    """The lines a cell's text takes in a column of `width` units: each paragraph's, wrapped. A paragraph
    longer than a line fills each line to within a character of the width (a character that does not fit
    goes to the next line whole; LibreOffice holds 8 CJK characters in 88 pt, not 8.8)."""
    usable = _usable_points(width)
    points = pl.element() * _WRAP_SLACK
    wrapped = pl.when(points <= usable).then(1.0).otherwise((points / (usable - BODY_POINTS)).ceil())
    return paragraphs.list.eval(wrapped).list.sum()


def _height(lines: int | float) -> float:
    """A row's height for its lines, rounded up to the pixel grid (XlsxWriter would round it to nearest)."""
    return math.ceil((lines * _LINE_POINTS + _ROW_PADDING_POINTS) / _PIXEL_POINTS - 1e-9) * _PIXEL_POINTS


def page_units(columns: int) -> float:
    """The units `columns` columns may take together on the printed page (each also takes its padding)."""
    return PRINTABLE_POINTS / UNIT_POINTS - columns * _STORED_PADDING_UNITS


@dataclass(frozen=True)
class Layout:
    """A sheet's measures: each column's width, the header row's height, each data row's, each text
    written across the table's (subtitle, then notes)."""

    widths: list[float]
    header_height: float
    rows: list[float]
    across: list[float]


def column_widths(columns: Sequence[SheetColumn], paragraphs: pl.DataFrame) -> list[float]:
    """Each column's width in units, sized to its content (`paragraphs`: its cells' paragraphs' points)
    within the page's width.

    A column takes its content's one-line width up to its declared width, and its header on one line; a
    column people fill in takes its declared width (room to write by hand). The text columns whose content
    is longer than their declared width (the evidence, an address, a long name) take what their longest
    cell needs on one line if the page has room; else they give it back where it costs the fewest printed
    lines (`_narrowed`), none below its header on two lines. A sheet declared wider than the page has its
    widest columns cut to one width (`_capped`): wrapped text, never a column printed on another page.
    Widths are multiples of 1/7 unit, as XlsxWriter stores them (rounded up)."""
    keys = [column.key for column in columns]
    maxima = paragraphs.select(pl.col(key).list.max().max().fill_null(0.0) for key in keys)
    needs = [_units_for(points) for points in maxima.row(0)] if paragraphs.height else [0.0] * len(keys)
    heads = [_header_points(column.header) for column in columns]
    widths = [
        column.width if column.fill_in else max(min(need, column.width), _units_for(points), _MIN_WIDTH)
        for column, need, points in zip(columns, needs, heads, strict=True)
    ]
    floors = {}
    for index, (column, need, points) in enumerate(zip(columns, needs, heads, strict=True)):
        if column.kind == "text" and not column.fill_in and need > widths[index]:
            widths[index] = need
            floors[index] = max(_units_for(points / 2), _MIN_WIDTH)
    budget = page_units(len(columns)) - len(columns) / 7  # room to round each width up
    if sum(widths) > budget and floors:
        widths = _narrowed(paragraphs, keys, widths, floors, budget)
    if sum(widths) > budget:
        widths = _capped(widths, budget, [column.kind == "text" for column in columns])
    return [math.ceil(width * 7 - 1e-9) / 7 for width in widths]


def _narrowed(
    paragraphs: pl.DataFrame, keys: list[str], widths: list[float], floors: dict[int, float], budget: float
) -> list[float]:
    """The columns of `floors` narrowed from their `widths` (each on a half-unit grid down to its floor)
    until the columns fit `budget`, half a unit at a time where it adds the fewest printed lines over all
    rows — a row's lines being the most any of its cells takes, narrowing a cell of a row already taller
    costs nothing. The steps are numpy sums over the rows (`_line_counter`).

    A cell never takes fewer lines in a narrower column, so the rows' lines after narrowing one column
    are the larger of the rows' lines now and that column's cells' at the narrower width: one pass over
    the rows a candidate, whatever the number of columns. A column's cells are counted at a width only
    once the narrowing reaches the width before it (most columns stop long before their floor)."""
    grids = {i: np.arange(widths[i], floors[i], -0.5) for i in floors}
    counters = {i: _line_counter(paragraphs[keys[i]]) for i in grids}
    counted: dict[tuple[int, int], np.ndarray] = {}

    def lines_at(i: int, step: int) -> np.ndarray:
        """The lines of column i's cells at its `step`-th width."""
        if (i, step) not in counted:
            counted[i, step] = counters[i](grids[i][step])
        return counted[i, step]

    others = [i for i in range(len(keys)) if i not in grids]
    settled = (
        paragraphs.select(pl.max_horizontal(_lines(pl.col(keys[i]), widths[i]) for i in others)).to_numpy()[
            :, 0
        ]
        if others
        else np.ones(paragraphs.height)
    )
    at = dict.fromkeys(grids, 0)
    rows = np.max([settled, *(lines_at(i, 0) for i in grids)], axis=0)  # each row's lines
    now, over = float(rows.sum()), sum(widths) - budget
    while over > 0:
        candidates = [
            (float(np.maximum(rows, lines_at(i, at[i] + 1)).sum()) - now, -grids[i][at[i]], i)
            for i in grids
            if at[i] + 1 < len(grids[i])
        ]
        if not candidates:
            break
        added, _, i = min(candidates)  # the fewest lines added; the widest column on a tie
        over -= grids[i][at[i]] - grids[i][at[i] + 1]
        at[i] += 1
        np.maximum(rows, lines_at(i, at[i]), out=rows)
        now += added
    return [grids[i][at[i]] if i in grids else width for i, width in enumerate(widths)]


def _line_counter(paragraphs: pl.Series) -> Callable[[float], np.ndarray]:
    """The lines each cell of a column takes at a width (units), as `_lines` counts them: every paragraph's
    points against the width, summed per cell (the paragraphs flattened once, for every width asked)."""
    wrapped = paragraphs.explode().to_numpy() * _WRAP_SLACK
    lengths = paragraphs.list.len().to_numpy()
    starts = np.cumsum(lengths, dtype=np.int64) - lengths

    def at(width: float) -> np.ndarray:
        usable = (width + _STORED_PADDING_UNITS) * UNIT_POINTS - _CELL_PADDING_POINTS
        lines = np.where(wrapped <= usable, 1.0, np.ceil(wrapped / (usable - BODY_POINTS)))
        return np.add.reduceat(lines, starts)

    return at


def _capped(widths: list[float], budget: float, text: list[bool]) -> list[float]:
    """The widest columns cut to one cap so that they add up to `budget` (a sheet declared wider than the
    page: its text wraps, and never prints a column on another page) — the `text` columns only when they
    can give the room: an ID, a number or a date cut to wrap is hard to read (民政's workbook printed its
    IDs on two lines, four rows a page); all columns when they cannot."""
    cut = (
        text
        if sum(w for w, t in zip(widths, text, strict=True) if not t) + _MIN_WIDTH * sum(text) <= budget
        else [True] * len(widths)
    )
    low, high = _MIN_WIDTH, max(widths)
    for _ in range(60):  # bisect the cap
        cap = (low + high) / 2
        if sum(min(width, cap) if c else width for width, c in zip(widths, cut, strict=True)) > budget:
            high = cap
        else:
            low = cap
    return [min(width, low) if c else width for width, c in zip(widths, cut, strict=True)]


def _header_points(header: str) -> float:
    """The points a header's longest line takes (headers are Chinese: the body size a character)."""
    return max(len(line) for line in header.split("\n")) * BODY_POINTS


def layout(table: TableSheet) -> Layout:
    """Widths and heights of a sheet, from the text it holds (Polars passes over its rows). A hidden column
    keeps its declared width and neither takes room on the page nor makes a row taller."""
    columns = [column for column in table.columns if not column.hidden]
    keys = [column.key for column in columns]
    # A datetime prints as its date (yyyy-mm-dd), as its format says.
    printed = [
        pl.col(key).cast(pl.Date) if table.frame.schema[key] == pl.Datetime else pl.col(key) for key in keys
    ]
    paragraphs = table.frame.select(
        _paragraph_points(value).alias(key) for value, key in zip(printed, keys, strict=True)
    )
    widths = column_widths(columns, paragraphs)
    shown = iter(widths)
    all_widths = [column.width if column.hidden else next(shown) for column in table.columns]
    if paragraphs.height:
        lines = paragraphs.select(
            pl.max_horizontal(_lines(pl.col(key), width) for key, width in zip(keys, widths, strict=True))
        ).to_series()
        # A row people write in by hand (a fill-in column) takes two lines at least.
        least = 2 if any(column.fill_in for column in columns) else 1
        rows = [_height(max(count, least)) for count in lines.to_list()]
    else:
        rows = []
    headers = pl.DataFrame({column.key: [column.header] for column in columns})
    header_lines = headers.select(
        _lines(_paragraph_points(pl.col(key)), width) for key, width in zip(keys, widths, strict=True)
    )
    header_height = _height(max(header_lines.row(0)))
    across_texts = [*([table.subtitle] if table.subtitle is not None else []), *table.notes]
    whole = sum(widths) + _STORED_PADDING_UNITS * (len(widths) - 1)
    across = (
        pl.DataFrame({"t": across_texts}, schema={"t": pl.String})
        .select(_lines(_paragraph_points(pl.col("t")), whole))
        .to_series()
        .to_list()
    )
    return Layout(all_widths, header_height, rows, [_height(count) for count in across])


# --- writing ----------------------------------------------------------------------------------------


def save_workbooks(books: Sequence[tuple[Path, Sequence[TableSheet]]], workers: int) -> list[FileEntry]:
    """Write each (path, sheets); return each workbook's rows, sha256 and size, in the order given.

    `workers` at once, on threads, the largest books first so that they finish together: a workbook's
    measuring and its rows' XML are Polars and its zip zlib, which leave the interpreter lock free (a
    city's 27 workbooks: 3.6 s and 6.0 CPU-s on two threads, where two writer processes took 4.1 s and 7.3
    CPU-s, importing Polars and receiving the frames pickled). The first workbook that cannot be written
    stops the writing: the ones not begun are not, and its error is raised."""
    if workers <= 1 or len(books) <= 1:
        return [save_workbook(path, sheets) for path, sheets in books]
    cells = [sum(sheet.frame.height * len(sheet.columns) for sheet in sheets) for _, sheets in books]
    with ThreadPoolExecutor(workers) as pool:
        futures = {
            i: pool.submit(save_workbook, *books[i])
            for i in sorted(range(len(books)), key=lambda i: -cells[i])
        }
        try:
            return [futures[i].result() for i in range(len(books))]
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise


def write_workbooks(books: Sequence[tuple[Path, Sequence[TableSheet]]], workers: int) -> list[int]:
    """Write each (path, sheets); return each workbook's data rows, in the order given (`save_workbooks`)."""
    return [entry.rows or 0 for entry in save_workbooks(books, workers)]


def write_workbook(path: Path, sheets: Sequence[TableSheet]) -> int:
    """Write `sheets` to `path`; return their data rows (title, header and note rows not counted)."""
    return save_workbook(path, sheets).rows or 0


def save_workbook(path: Path, sheets: Sequence[TableSheet]) -> FileEntry:
    """Write `sheets` to `path`; return their data rows and the file's sha256 and size, hashed from the
    bytes as they are written (the workbook is assembled in memory: nothing is read back)."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, _options())
    # The same rows make the same bytes, night after night: the file's date is its as-of date.
    as_of = dt.datetime.fromisoformat(sheets[0].as_of) if sheets else dt.datetime(2000, 1, 1)
    workbook.set_properties({"created": as_of})
    formats = _Formats(workbook)
    taken: set[str] = set()
    for table in sheets:
        name = unique_name(_NOT_IN_SHEET_NAME.sub("_", table.name).strip("'") or "Sheet", taken, 31)
        _write_sheet(workbook.add_worksheet(name, TableWorksheet), table, formats, layout(table))
    workbook.close()
    data = buffer.getbuffer()
    with open(path, "wb") as handle:
        handle.write(data)
    return FileEntry(
        rows=sum(table.frame.height for table in sheets),
        sha256=hashlib.sha256(data).hexdigest(),
        bytes=len(data),
    )


class _Formats:
    """A workbook's cell formats, each registered once, with its twin carrying the quote prefix."""

    def __init__(self, workbook: xlsxwriter.Workbook) -> None:
        specs = {name: spec for name, spec in _STYLES.items()}
        specs |= {f"{kind}_fill_in": _STYLES[kind] | _FILL_IN for kind in KINDS}
        self.plain = {name: workbook.add_format(spec) for name, spec in specs.items()}
        self.quoted = {
            name: workbook.add_format(spec | {"quote_prefix": True}) for name, spec in specs.items()
        }

    def of(self, name: str, text: str) -> Format:
        """The format for `text` in a cell of style `name`: quoted when the text must stay literal."""
        return self.quoted[name] if is_literal(text) else self.plain[name]


def unique_name(name: str, taken: set[str], limit: int) -> str:
    """`name` cut to `limit` characters, with ~2, ~3 … when it is taken (compared case-insensitively, as
    Excel compares sheet names); added to `taken`."""
    candidate, number = name[:limit], 1
    while candidate.casefold() in taken:
        number += 1
        suffix = f"~{number}"
        candidate = name[: limit - len(suffix)] + suffix
    taken.add(candidate.casefold())
    return candidate


def _write_sheet(sheet: TableWorksheet, table: TableSheet, formats: _Formats, measured: Layout) -> None:
    columns = table.columns
    last = len(columns) - 1
    for index, (width, column) in enumerate(zip(measured.widths, columns, strict=True)):
        sheet.set_column(index, index, width, None, {"hidden": True} if column.hidden else None)
    _page_setup(sheet, table)
    header_row = table.header_rows - 1  # 0-based
    first = header_row + 1
    end = header_row + max(1, table.frame.height)
    sheet.freeze_panes(first, 0)
    across = iter(measured.across)
    _write_across(sheet, 0, table.title, formats, "title", last, _TITLE_POINTS)
    if table.subtitle is not None:
        _write_across(sheet, 1, table.subtitle, formats, "subtitle", last, next(across))
    grouped = _write_group_headers(sheet, table, header_row, formats) if table.groups else set()
    sheet.set_row(header_row, measured.header_height)
    for index, column in enumerate(columns):
        if index not in grouped and table.groups:
            continue  # merged with the group row above it
        sheet.write_string(header_row, index, column.header, formats.of("header", column.header))
    sheet.autofilter(header_row, 0, end, last)
    _fill_in_rules(sheet, table, first, end)
    sheet.set_h_pagebreaks(_page_breaks(table, first))

    styles = [
        CellStyle(
            column.key,
            formats.plain[column.style]._get_xf_index(),
            formats.quoted[column.style]._get_xf_index(),
            keep_empty=column.fill_in,
        )
        for column in columns
    ]
    xml = rows_xml(table.frame, styles, first, measured.rows)
    sheet.set_data_rows(first, table.frame.height, len(columns), xml)
    number = first + table.frame.height
    for note, height in zip(table.notes, across, strict=True):
        _write_across(sheet, number, note, formats, "note", last, height)
        number += 1


def _page_breaks(table: TableSheet, first: int) -> list[int]:
    """The rows (0-based) that start a page: each row whose `page_break_by` values differ from the row's
    before it, `MAX_PAGE_BREAKS` at most."""
    if not table.page_break_by:
        return []
    changed = table.frame.select(
        pl.any_horizontal(pl.col(key).ne_missing(pl.col(key).shift(1)) for key in table.page_break_by)
    ).to_series()
    starts = changed.arg_true()
    return [first + index for index in starts.filter(starts > 0).head(MAX_PAGE_BREAKS).to_list()]


def _fill_in_rules(sheet: Worksheet, table: TableSheet, first: int, end: int) -> None:
    """A drop-down on each fill-in column with choices (any other value refused, a blank allowed), and on a
    protected sheet the lock: only the fill-in cells take typing; filtering and resizing stay allowed."""
    for index, column in enumerate(table.columns):
        if column.choices:
            sheet.data_validation(
                first,
                index,
                end,
                index,
                {
                    "validate": "list",
                    "source": list(column.choices),
                    "ignore_blank": True,
                    "show_error": True,
                    "error_title": column.header[:32],
                    "error_message": ("请从下拉列表中选择：" + "、".join(column.choices))[:255],
                },
            )
    if table.protected:
        allowed = (
            "autofilter",
            "format_columns",
            "format_rows",
            "select_locked_cells",
            "select_unlocked_cells",
        )
        sheet.protect("", {option: True for option in allowed})


def _write_across(
    sheet: Worksheet, row: int, text: str, formats: _Formats, style: str, last: int, height: float
) -> None:
    """One text across the table (title, subtitle, a note): one merged cell, `height` points tall."""
    sheet.set_row(row, height)
    if last == 0:
        sheet.write_string(row, 0, text, formats.of(style, text))
    else:
        sheet.merge_range(row, 0, row, last, "", formats.of(style, text))
        sheet.write_string(row, 0, text, formats.of(style, text))


def _write_group_headers(sheet: Worksheet, table: TableSheet, row: int, formats: _Formats) -> set[int]:
    """A row of group headers above the column headers: a group's header spans its columns; a column in no
    group has its own header merged across both rows. Returns the grouped columns' indexes."""
    keys = [column.key for column in table.columns]
    grouped = set()
    sheet.set_row(row - 1, _height(1))
    for header, first, last in table.groups:
        start, end = keys.index(first), keys.index(last)
        grouped.update(range(start, end + 1))
        _merge(sheet, (row - 1, start, row - 1, end), header, formats.of("header", header))
    for index, column in enumerate(table.columns):
        if index not in grouped:
            _merge(sheet, (row - 1, index, row, index), column.header, formats.of("header", column.header))
    return grouped


def _merge(sheet: Worksheet, cells: tuple[int, int, int, int], text: str, style: Format) -> None:
    first_row, first_col, last_row, last_col = cells
    if (first_row, first_col) == (last_row, last_col):
        sheet.write_string(first_row, first_col, text, style)
    else:
        sheet.merge_range(first_row, first_col, last_row, last_col, "", style)
        sheet.write_string(first_row, first_col, text, style)


def _page_setup(sheet: Worksheet, table: TableSheet) -> None:
    """A4 landscape at 100%; title and header rows on every page; page header and "第 N 页 共 M 页"; gridlines."""
    sheet.repeat_rows(0, table.header_rows - 1)
    sheet.set_landscape()
    sheet.set_paper(9)
    sheet.set_print_scale(100)
    sheet.set_margins(left=_SIDE_MARGIN, right=_SIDE_MARGIN, top=_TOP_MARGIN, bottom=_TOP_MARGIN)
    sheet.hide_gridlines(0)  # 0: shown on screen and printed
    sheet.center_horizontally()
    font = f'&"{FONT},Regular"&{BODY_POINTS}'
    sheet.set_header(
        f"&L{font}{_header_text(table.page_header)}&R{font}{_header_text(f'数据截至 {table.as_of}')}",
        {"margin": _HEADER_MARGIN},
    )
    sheet.set_footer(f"&C{font}第 &P 页 共 &N 页", {"margin": _HEADER_MARGIN})


def _header_text(text: str) -> str:
    """Text for a page header: & starts a code there, so a literal one is doubled; cut to leave the
    header within Excel's 255 characters."""
    return text[:80].replace("&", "&&")
