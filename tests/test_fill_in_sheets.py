"""Sheets people fill in (a street office's 走访 sheet, the decision forms): the columns a worker fills are
shaded and unlocked, a drop-down refuses values outside its list, and a protected sheet locks the rest.

Written by `publish/xlsx_files.py`, read back with openpyxl as a case worker's Excel would see them.
"""

import dataclasses
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from aidmatch.publish.xlsx_files import SheetColumn, TableSheet, write_workbook

OUTCOMES = ("已登记", "暂无需求", "联系不上")


def _sheet(protected: bool) -> TableSheet:
    frame = pl.DataFrame({"name": ["张三", "李四", "王五"], "outcome": [None, "暂无需求", None]})
    return TableSheet(
        name="走访",
        title="走访任务单",
        columns=(
            SheetColumn("name", "姓名", 8),
            SheetColumn("outcome", "结果", 10, fill_in=True, choices=OUTCOMES),
        ),
        frame=frame,
        page_header="走访任务单",
        as_of="2026-11-22",
        protected=protected,
    )


def test_a_fill_in_column_has_its_drop_down_over_every_data_row_and_unlocked_shaded_cells(tmp_path: Path):
    path = tmp_path / "street.xlsx"
    write_workbook(path, [_sheet(protected=True)])
    sheet = openpyxl.load_workbook(path)["走访"]
    (rule,) = sheet.data_validations.dataValidation
    assert rule.type == "list" and rule.formula1 == '"已登记,暂无需求,联系不上"'
    assert str(rule.sqref) == "B3:B5"  # the title row, the header row, then three people
    assert rule.showErrorMessage and rule.allow_blank
    assert sheet.protection.sheet and not sheet.protection.autoFilter
    for row in (3, 4, 5):
        assert sheet.cell(row, 2).protection.locked is False
        assert sheet.cell(row, 2).fill.start_color.rgb.endswith("FFF9DB")
        assert sheet.cell(row, 1).protection.locked is True
    assert sheet.cell(4, 2).value == "暂无需求"
    assert sheet.cell(3, 2).value is None  # an empty cell to fill, not an empty string


def test_an_unprotected_sheet_stays_editable_everywhere(tmp_path: Path):
    path = tmp_path / "street.xlsx"
    write_workbook(path, [_sheet(protected=False)])
    assert not openpyxl.load_workbook(path)["走访"].protection.sheet


def test_a_drop_down_is_only_for_a_column_people_fill_in():
    with pytest.raises(ValueError, match="drop-down"):
        SheetColumn("outcome", "结果", 10, choices=OUTCOMES)


def test_a_hidden_column_is_read_back_but_neither_shown_nor_makes_rows_taller(tmp_path: Path):
    frame = pl.DataFrame({"name": ["张三"], "key": ["OUTREACH:DIBAO;DISABLED;ZERO_EMPLOYMENT_HOUSEHOLD" * 3]})
    sheet = TableSheet(
        name="走访",
        title="走访任务单",
        columns=(
            SheetColumn("name", "姓名", 8),
            SheetColumn("key", "走访依据（勿改）", 4, "id", hidden=True),
        ),
        frame=frame,
        page_header="走访任务单",
        as_of="2026-11-22",
    )
    path = tmp_path / "street.xlsx"
    write_workbook(path, [sheet])
    read = openpyxl.load_workbook(path)["走访"]
    assert read.column_dimensions["B"].hidden and not read.column_dimensions["A"].hidden
    assert read.cell(3, 2).value == frame["key"][0]
    assert read.row_dimensions[3].height < 20  # one line: the hidden text does not count


def test_a_row_people_write_in_has_room_for_handwriting(tmp_path: Path):
    """A sheet with fill-in columns gives each row two lines at least; the same names on a list people only
    read take one."""
    write_workbook(tmp_path / "form.xlsx", [_sheet(protected=True)])
    plain = dataclasses.replace(_sheet(protected=False), columns=_sheet(protected=False).columns[:1])
    write_workbook(tmp_path / "list.xlsx", [plain])
    form = openpyxl.load_workbook(tmp_path / "form.xlsx")["走访"]
    listed = openpyxl.load_workbook(tmp_path / "list.xlsx")["走访"]
    assert [form.row_dimensions[row].height for row in (3, 4, 5)] == [30.0] * 3
    assert [listed.row_dimensions[row].height for row in (3, 4, 5)] == [15.75] * 3
