"""The data rows a workbook holds (`publish/sheet_rows.py`): whatever a department's text, number or date,
the cell read back is the value written, typed, quoted where it would read as a formula, and between the
rows XlsxWriter writes above and below it."""

import datetime as dt
import math
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.utils.escape import unescape

from aidmatch.publish.sheet_rows import MAX_TEXT
from aidmatch.publish.xlsx_files import SheetColumn, TableSheet, save_workbook
from aidmatch.sources.text import FORMULA_PREFIXES

pytestmark = pytest.mark.quick

# Text as departments send it and worse: control characters, XML's own, what reads as Excel's escape
# (_x0041_) or as XlsxWriter's rich text (<r>…</r>), white space at either end, formulas, error values.
_PIECES = st.sampled_from(
    ["&", "<", ">", "<r>", "</r>", "_x0041_", "_x005F_", " ", "\t", "\n", "\r", "\x01", "\x1f", "\ufffe",
     "=", "+", "-", "@", "#N/A", "张", "𠀀", "a"]
)  # fmt: skip
_TEXTS = st.one_of(
    st.none(),
    st.text(min_size=0, max_size=12),
    st.lists(_PIECES, max_size=6).map("".join),
)
_NUMBERS = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True, width=64))
_DATES = st.one_of(st.none(), st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(9999, 12, 31)))
_COLUMNS = (
    SheetColumn("text", "文本", 20),
    SheetColumn("id", "公民身份号码", 20, "id"),
    SheetColumn("number", "数", 8, "number"),
    SheetColumn("date", "日期", 10, "date"),
    SheetColumn("filled", "说明", 10, fill_in=True),
)


def _sheet(frame: pl.DataFrame) -> TableSheet:
    return TableSheet(
        "表", "标题", _COLUMNS, frame, page_header="页眉", as_of="2026-06-30", notes=("说明一", "=说明二")
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(_TEXTS, _TEXTS, _NUMBERS, _DATES, _TEXTS), min_size=0, max_size=8))
def test_each_cell_reads_back_as_written(tmp_path: Path, rows: list[tuple]) -> None:
    frame = pl.DataFrame(
        rows,
        schema={
            "text": pl.String,
            "id": pl.String,
            "number": pl.Float64,
            "date": pl.Date,
            "filled": pl.String,
        },
        orient="row",
    )
    path = tmp_path / "rows.xlsx"
    save_workbook(path, [_sheet(frame)])
    sheet = openpyxl.load_workbook(path)["表"]
    first = 3  # title, header, then the rows
    for offset, (text, code, number, date, filled) in enumerate(rows):
        cells = sheet[first + offset]
        for cell, value in ((cells[0], text), (cells[1], code), (cells[4], filled)):
            if not value:
                assert cell.value is None
            else:
                assert unescape(cell.value) == value[:MAX_TEXT]
                assert cell.data_type == "s"
                assert cell.quotePrefix == (value.startswith(FORMULA_PREFIXES) or value == "#N/A")
        assert not code or cells[1].number_format == "@"
        if number is None or not math.isfinite(number):
            assert cells[2].value is None
        else:
            assert cells[2].value == number and cells[2].data_type == "n"
        if date is None:
            assert cells[3].value is None
        else:
            assert cells[3].value.date() == date and cells[3].number_format == "yyyy-mm-dd"
        assert cells[4].fill.fgColor.rgb.endswith("FFF9DB") and not cells[4].protection.locked
    notes = [sheet.cell(first + len(rows) + i, 1).value for i in range(2)]
    assert notes == ["说明一", "=说明二"] and sheet.cell(first + len(rows) + 1, 1).quotePrefix


def test_rows_keep_their_heights_and_text_past_excels_limit_is_cut(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {"text": ["一行", "长" * (MAX_TEXT + 10)], "id": ["1", "2"], "number": [1.0, 2.0],
         "date": [None, None], "filled": [None, None]},
        schema_overrides={"date": pl.Date, "filled": pl.String},
    )  # fmt: skip
    path = tmp_path / "rows.xlsx"
    save_workbook(path, [_sheet(frame)])
    sheet = openpyxl.load_workbook(path)["表"]
    assert sheet["A4"].value == "长" * MAX_TEXT
    # a row people write in takes two lines at least; the long text many more
    assert sheet.row_dimensions[3].height == 30.0
    assert sheet.row_dimensions[4].height > 100


def test_date_times_are_written_as_their_wall_clock_time(tmp_path: Path) -> None:
    at = dt.datetime(2026, 6, 30, 18, 30)
    frame = pl.DataFrame({"naive": [at, None], "zoned": [at, at]}).with_columns(
        pl.col("zoned").dt.replace_time_zone("Asia/Shanghai")
    )
    columns = (SheetColumn("naive", "时间", 12, "date"), SheetColumn("zoned", "时间", 12, "date"))
    path = tmp_path / "times.xlsx"
    save_workbook(path, [TableSheet("表", "标题", columns, frame, page_header="页眉", as_of="2026-06-30")])
    sheet = openpyxl.load_workbook(path)["表"]
    assert [[cell.value for cell in row] for row in sheet.iter_rows(min_row=3, max_row=4)] == [
        [at, at],
        [None, at],
    ]
