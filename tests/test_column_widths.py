"""Columns sized within the page (`publish/xlsx_files.column_widths`): what gives way when a sheet holds more
than an A4 landscape page does at 100%."""

import polars as pl

from aidmatch.publish.xlsx_files import SheetColumn, TableSheet, layout, page_units

IDS = (SheetColumn("person_id", "公民身份号码", 24, "id"), SheetColumn("household_id", "户编号", 19, "id"))


def _widths(text_columns: int) -> list[float]:
    """The widths of a sheet of two ID columns and `text_columns` text columns whose headers are long."""
    texts = [SheetColumn(f"t{i}", "一个写在一行上的很长的表头", 13) for i in range(text_columns)]
    frame = pl.DataFrame(
        {"person_id": ["110101199410316795"] * 3, "household_id": ["11010100000117"] * 3}
        | {column.key: ["燕京餐饮有限公司"] * 3 for column in texts}
    )
    sheet = TableSheet(
        name="名单", title="名单", columns=(*IDS, *texts), frame=frame, page_header="名单", as_of="2026-11-22"
    )
    widths = layout(sheet).widths
    assert sum(widths) <= page_units(len(widths)), "the columns fit the page"
    return widths


def test_ids_keep_their_width_while_the_text_columns_can_give_the_room():
    alone, crowded = _widths(1), _widths(10)
    assert crowded[:2] == alone[:2], "each ID on one line"
    assert max(crowded[2:]) < alone[2], "the text columns wrap instead"


def test_ids_wrap_only_when_nothing_else_can_give():
    alone, packed = _widths(1), _widths(30)
    assert packed[0] < alone[0]
