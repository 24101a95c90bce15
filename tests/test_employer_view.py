"""The employers' view of the 单位吸纳 subsidy (直补快办): a tiny world of three employers built as
test_entitlements.py builds its worlds, laid out both ways (one sheet grouped by employer, a workbook per
employer), written and read back with openpyxl."""

from datetime import date, datetime

import openpyxl
import pytest

from aidmatch.publish import employer_view
from aidmatch.publish.employer_view import (
    COLUMNS,
    EMPLOYER_COLUMNS,
    TITLE,
    VIEW_FILE,
    VIEW_FOLDER,
    employer_rows,
    employer_workbooks,
    file_names,
)
from aidmatch.publish.manifest import output_section
from aidmatch.publish.xlsx_files import save_workbook
from tests.test_entitlements import MAN, employed, paid, recognized, world_of
from tests.test_rules import Rec

AS_OF = "2026-11-22"


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    """P1 hired by E1 (a 认定日期) and by a shop known by name only; P2 hired by E1 with an empty 认定日期;
    P3 hired by E2 the month before recognition (no subsidy: E2 is not in the view)."""
    placed = Rec("unemployment", {**recognized().values, "address": "北京市东城区东华门街道多福巷1号",
                                  "phone": "13800000000"})  # fmt: skip
    world = world_of(tmp_path_factory.mktemp("world"), MAN, [placed, *employed(date(2026, 8, 1))])
    world.record(paid(date(2026, 9, 1), employer=None, name="丙/商店"), "P1")
    world.add("P2", *MAN, [recognized(None), *employed(date(2026, 7, 1))])
    world.add("P3", *MAN, [recognized(date(2026, 8, 10)), *employed(date(2026, 7, 1), employer="E2")])
    world.build()
    return employer_rows(world.con)


def _written(books, folder) -> dict:
    for path, _ in books:
        (folder / path).parent.mkdir(exist_ok=True)
    return {path: save_workbook(folder / path, sheets) for path, sheets in books}


def _sheets(path) -> dict[str, list[tuple]]:
    workbook = openpyxl.load_workbook(path)
    return {sheet.title: [tuple(row) for row in sheet.iter_rows(values_only=True)] for sheet in workbook}


def test_one_sheet_grouped_by_employer_each_employer_on_its_own_pages(rows, tmp_path):
    written = _written(employer_workbooks(rows, AS_OF, workbook_per_employer=False), tmp_path)
    assert {path: entry.rows for path, entry in written.items()} == {VIEW_FILE: 3}
    workbook = openpyxl.load_workbook(tmp_path / VIEW_FILE)
    assert workbook.sheetnames == ["单位吸纳社保补贴"], "one sheet, not one per employer"
    sheet = workbook.active
    title, subtitle, header, *body = [tuple(row) for row in sheet.iter_rows(values_only=True)]
    assert title[0] == TITLE and header == tuple(c.header for c in COLUMNS)
    assert subtitle[0].endswith(f"数据截至：{AS_OF}　共 2 家单位 3 人") and "无需单位申请" in subtitle[0]
    assert sheet.print_title_rows == "$1:$3", "the title, the line every employer's pages carry, the header"
    people = [dict(zip(header, row, strict=True)) for row in body if isinstance(row[0], int)]
    assert [(p["序号"], p["单位编号"], p["单位名称"], p["姓名"]) for p in people] == [
        (1, "E1", "E1公司", "姓名P1"),
        (2, "E1", "E1公司", "姓名P2"),
        (1, None, "丙/商店", "姓名P1"),
    ], "numbered within each employer, the name-only employer last, its name kept as written"
    first, second = people[:2]
    assert [first[h] for h in ("公民身份号码", "本单位首次\n缴费月份", "近期已缴费月份", "可信度")] == [
        "P1", "2026-08", "2026-08、2026-09、2026-10", "高"
    ]  # fmt: skip
    assert (first["就业困难人员\n认定日期"], first["补贴期限至"]) == (
        datetime(2025, 2, 10),
        datetime(2028, 2, 9),
    )
    assert first["联系电话"] == "13800000000"
    assert (second["姓名"], second["补贴期限至"], second["可信度"]) == ("姓名P2", None, "需核实")
    assert [b.id for b in sheet.row_breaks.brk] == [5], "the shop starts a new page (row 6)"
    assert [row[0] for row in body[len(people) :]] == list(employer_view.NOTES), "the notes under the table"


def test_past_the_employers_a_sheet_holds_the_view_goes_on_in_the_next_sheet(rows, tmp_path, monkeypatch):
    monkeypatch.setattr(employer_view, "EMPLOYERS_PER_SHEET", 1)
    written = _written(employer_workbooks(rows, AS_OF, workbook_per_employer=False), tmp_path)
    assert {path: entry.rows for path, entry in written.items()} == {VIEW_FILE: 3}
    sheets = _sheets(tmp_path / VIEW_FILE)
    assert list(sheets) == ["单位1-1", "单位2-2"]
    assert [row[2] for row in sheets["单位1-1"][3:5]] == ["E1公司", "E1公司"]
    assert sheets["单位2-2"][1][0].endswith("共 1 家单位 1 人")


def test_excel_keeps_a_thousand_page_breaks_a_sheet_and_the_view_stays_within():
    assert employer_view.EMPLOYERS_PER_SHEET - 1 <= employer_view.MAX_PAGE_BREAKS <= 1026


def test_one_workbook_per_employer(rows, tmp_path):
    written = _written(employer_workbooks(rows, AS_OF, workbook_per_employer=True), tmp_path)
    expected = {f"{VIEW_FOLDER}/E1_E1公司.xlsx": 2, f"{VIEW_FOLDER}/丙_商店.xlsx": 1}
    assert {path: entry.rows for path, entry in written.items()} == expected
    ((title, unit, header, *rows_),) = _sheets(tmp_path / VIEW_FOLDER / "E1_E1公司.xlsx").values()
    assert unit[0] == f"单位：E1公司　单位编号：E1　数据截至：{AS_OF}　共 2 人"
    assert header == tuple(c.header for c in EMPLOYER_COLUMNS) and [row[2] for row in rows_[:2]] == [
        "P1",
        "P2",
    ]
    manifest = output_section(tmp_path, written)  # files in the subfolder by their path in the run folder
    assert {name: entry["rows"] for name, entry in manifest.items()} == expected
    (tmp_path / VIEW_FOLDER / "stray.xlsx").write_bytes(b"")
    with pytest.raises(ValueError, match="by_employer/stray.xlsx"):
        output_section(tmp_path, written)


def test_no_employer_subsidy_still_writes_the_workbook_saying_so(rows, tmp_path):
    none = rows.clear()
    written = _written(employer_workbooks(none, AS_OF, workbook_per_employer=False), tmp_path)
    assert {path: entry.rows for path, entry in written.items()} == {VIEW_FILE: 0}
    ((title, unit, header, *_),) = _sheets(tmp_path / VIEW_FILE).values()
    assert unit[0].endswith(f"数据截至：{AS_OF}　共 0 家单位 0 人") and header[0] == "序号"
    assert employer_workbooks(none, AS_OF, workbook_per_employer=True) == []


def test_file_names_from_data_are_safe_short_and_unique():
    long = "某某某某某某某某某某某某某某某某某某某某某某某某某某某某某某有限公司"
    employers = [
        ("A1", long + "一"),
        ("A1", long + "二"),
        (None, "a?b*c[d]e:f\\g"),
        (None, None),
        ("../x", "y"),
    ]
    files = file_names(employers)
    assert len(set(files)) == len(files) and all("/" not in f and ".." not in f for f in files)
    assert files[2:] == ["a_b_c_d_e_f_g.xlsx", "单位不详.xlsx", "_x_y.xlsx"]
    assert all(len(f) <= 85 for f in files)
