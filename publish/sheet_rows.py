"""A sheet's data rows as SpreadsheetML, made by Polars expressions over the whole column at once, and the
XlsxWriter worksheet that writes them in place of its own.

Why not XlsxWriter's `write_string` cell by cell: it is Python, some 10 µs a cell with its row bookkeeping
and XML escaping, and a city's workbooks are 2.6 million cells — 26 CPU-seconds a night, the largest part
of an unchanged night. The same cells as column expressions (escape, quote, reference, concatenate) take
a fraction of that. XlsxWriter still writes everything else: the title and header rows, merged cells,
widths, page setup, filters, drop-downs, protection, styles; only the block of data rows is ours.

What a cell becomes is what XlsxWriter made of it (`publish/xlsx_files.py` says why each):
- text: an inline string (`t="inlineStr"`, as XlsxWriter's own constant_memory mode writes them), escaped
  for XML (& < >, control characters as `_xHHHH_`, a literal `_xHHHH_` with its underscore escaped),
  `xml:space="preserve"` when it starts or ends with white space, cut at Excel's 32,767 characters, with
  the quote-prefix style when it reads as a formula or an error value. Never a formula: there is no way
  for text to become one here.
- numbers as numbers, dates as Excel serial days (the date format shows them yyyy-mm-dd), a date-time with
  its time of day (its wall-clock time, when it has a time zone);
- an empty value: no cell, or an empty styled cell in a column people fill in (shaded, unlocked).
Each row carries its height when it is not the default 15 pt (`customHeight`: readers keep it).
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

from aidmatch.sources.text import FORMULA_PREFIXES

MAX_TEXT = 32_767  # characters Excel holds in a cell
DEFAULT_ROW_POINTS = 15.0  # XlsxWriter's default row (20 px): no height written
_PIXEL_POINTS = 0.75
# Excel's serial day 0 (its 1900 date system, for dates after February 1900).
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_ERROR_TEXTS = ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A")
# What XlsxWriter escapes as _xHHHH_: C0 controls but tab and newline, and the two non-characters.
_CONTROLS = [*(chr(c) for c in range(0x20) if c not in (0x09, 0x0A)), "\ufffe", "\uffff"]
_NEEDS_CONTROL_ESCAPE = r"_x[0-9a-fA-F]{4}_|[\x00-\x08\x0b-\x1f\x{fffe}\x{ffff}]"


@dataclass(frozen=True)
class CellStyle:
    """How one column's cells are written: its style's XF index and that of its quote-prefixed twin, and
    whether its empty cells are written (a column people fill in keeps its shading on empty cells)."""

    key: str
    plain: int
    quoted: int
    keep_empty: bool


def is_literal(text: str) -> bool:
    """Text a spreadsheet would take for a formula or an error value if it were typed (a title, a header,
    a note; `literal_texts` is the same for a column of data)."""
    return text.startswith(FORMULA_PREFIXES) or text in _ERROR_TEXTS


def literal_texts(text: pl.Expr) -> pl.Expr:
    """The texts of a column a spreadsheet would take for a formula or an error value (`is_literal`)."""
    starts = [text.str.starts_with(prefix) for prefix in FORMULA_PREFIXES]
    return pl.any_horizontal(*starts, text.is_in(_ERROR_TEXTS))


def rows_xml(frame: pl.DataFrame, styles: Sequence[CellStyle], first: int, heights: Sequence[float]) -> str:
    """The `<row>` elements of `frame`'s rows, the first on sheet row `first` (0-based), each `heights`
    points tall, its cells in the columns of `styles` (in that order, from column A)."""
    if not frame.height:
        return ""
    number = pl.int_range(first + 1, first + 1 + frame.height, dtype=pl.Int64).cast(pl.String)
    cells = [_cell(frame, style, xl_col_to_name(index), number) for index, style in enumerate(styles)]
    # each height on the pixel grid rows are stored on, rounded as XlsxWriter's set_row rounds it
    points = pl.Series("h", heights, dtype=pl.Float64)
    height = (points / _PIXEL_POINTS + 0.5).floor() * _PIXEL_POINTS
    row = pl.concat_str(
        pl.lit('<row r="'),
        number,
        pl.when(pl.lit(height) != DEFAULT_ROW_POINTS)
        .then(pl.lit('" ht="') + pl.lit(height).cast(pl.String) + pl.lit('" customHeight="1">'))
        .otherwise(pl.lit('">')),
        pl.concat_str(cells, ignore_nulls=True),
        pl.lit("</row>"),
    )
    return frame.select(row.str.join("")).item()


def _cell(frame: pl.DataFrame, style: CellStyle, letter: str, number: pl.Expr) -> pl.Expr:
    """One column's `<c>` elements (null where a cell is not written)."""
    opening = pl.lit(f'<c r="{letter}') + number
    empty = opening + pl.lit(f'" s="{style.plain}"/>') if style.keep_empty else pl.lit(None, pl.String)
    value = pl.col(style.key)
    dtype = frame.schema[style.key]
    if dtype.is_numeric():
        shown = value.is_not_null() & value.cast(pl.Float64).is_finite()
        return pl.when(shown).then(_valued(opening, style.plain, value.cast(pl.String))).otherwise(empty)
    if dtype == pl.Date:
        serial = (value - pl.lit(_EXCEL_EPOCH)).dt.total_days().cast(pl.String)
        return pl.when(value.is_not_null()).then(_valued(opening, style.plain, serial)).otherwise(empty)
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is not None:  # its wall-clock time, as XlsxWriter's remove_timezone writes it
            value = value.dt.replace_time_zone(None)
        days = (value - pl.lit(dt.datetime.combine(_EXCEL_EPOCH, dt.time()))).dt.total_microseconds()
        serial = (days / 86_400_000_000).cast(pl.String)
        return pl.when(value.is_not_null()).then(_valued(opening, style.plain, serial)).otherwise(empty)
    text = value.cast(pl.String).str.slice(0, MAX_TEXT)
    escaped = _escaped(text, _has_controls(frame, style.key))
    space = pl.when(text.str.contains(r"^\s|\s$")).then(pl.lit(' xml:space="preserve"')).otherwise(pl.lit(""))
    xf = pl.when(literal_texts(text)).then(pl.lit(str(style.quoted))).otherwise(pl.lit(str(style.plain)))
    cell = pl.concat_str(
        opening, pl.lit('" s="'), xf, pl.lit('" t="inlineStr"><is><t'), space, pl.lit(">"), escaped,
        pl.lit("</t></is></c>"),
    )  # fmt: skip
    return pl.when(text.is_null() | (text == "")).then(empty).otherwise(cell)


def _valued(opening: pl.Expr, xf: int, shown: pl.Expr) -> pl.Expr:
    return pl.concat_str(opening, pl.lit(f'" s="{xf}"><v>'), shown, pl.lit("</v></c>"))


def _has_controls(frame: pl.DataFrame, key: str) -> bool:
    """Whether any of a column's texts holds a control character or what reads as its escape (rare: the
    escaping's thirty passes are taken only for such a column)."""
    return bool(frame.select(pl.col(key).cast(pl.String).str.contains(_NEEDS_CONTROL_ESCAPE).any()).item())


def _escaped(text: pl.Expr, controls: bool) -> pl.Expr:
    """Text as XML character data, as XlsxWriter escapes it."""
    if controls:
        text = text.str.replace_all(r"(_x[0-9a-fA-F]{4}_)", "_x005F$1")
        for character in _CONTROLS:
            text = text.str.replace_all(character, f"_x{ord(character):04X}_", literal=True)
    for character, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        text = text.str.replace_all(character, entity, literal=True)
    return text


class TableWorksheet(Worksheet):
    """XlsxWriter's worksheet, with one block of data rows given as XML (`set_data_rows`) and written
    between the rows written through XlsxWriter above it (titles, headers) and below it (notes)."""

    def __init__(self) -> None:
        super().__init__()
        self._data_rows: tuple[int, int, str] | None = None

    def set_data_rows(self, first: int, count: int, columns: int, xml: str) -> None:
        """Rows `first` to `first + count - 1` (0-based) are `xml`, `columns` columns wide; no other
        write may touch them."""
        self._data_rows = (first, count, xml)
        if count:
            self._check_dimensions(first, 0)
            self._check_dimensions(first + count - 1, columns - 1)

    def _write_rows(self) -> None:
        if self._data_rows is None:
            super()._write_rows()
            return
        first, count, xml = self._data_rows
        top, bottom = self.dim_rowmin, self.dim_rowmax
        try:
            if top < first:
                self.dim_rowmax = first - 1
                super()._write_rows()
            self.fh.write(xml)
            if first + count <= bottom:
                self.dim_rowmin, self.dim_rowmax = first + count, bottom
                super()._write_rows()
        finally:
            self.dim_rowmin, self.dim_rowmax = top, bottom
