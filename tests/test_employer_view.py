"""The employers' view of the 单位吸纳 subsidy (直补快办): a tiny world of three employers built as
test_entitlements.py builds its worlds, laid out both ways (a sheet per employer, a workbook per employer),
written and read back with openpyxl."""

from datetime import date, datetime

import openpyxl
import pytest

from aidmatch.publish import employer_view
from aidmatch.publish.employer_view import (
    COLUMNS,
    TITLE,
    VIEW_FILE,
    VIEW_FOLDER,
    employer_frames,
    employer_workbooks,
    file_names,
    sheet_names,
)
from aidmatch.publish.manifest import output_section
from aidmatch.publish.xlsx_files import write_workbook
from tests.test_entitlements import MAN, employed, paid, recognized, world_of
from tests.test_rules import Rec

AS_OF = "2026-11-22"


@pytest.fixture(scope="module")
def frames(tmp_path_factory):
    """P1 hired by E1 (a 认定日期) and by a shop known by name only; P2 hired by E1 with an empty 认定日期;
    P3 hired by E2 the month before recognition (no subsidy: E2 is not in the view)."""
    placed = Rec("unemployment", {**recognized().values, "address": "北京市东城区东华门街道多福巷1号",
                                  "phone": "13800000000"})  # fmt: skip
    world = world_of(tmp_path_factory.mktemp("world"), MAN, [placed, *employed(date(2026, 8, 1))])
    world.record(paid(date(2026, 9, 1), employer=None, name="丙/商店"), "P1")
    world.add("P2", *MAN, [recognized(None), *employed(date(2026, 7, 1))])
    world.add("P3", *MAN, [recognized(date(2026, 8, 10)), *employed(date(2026, 7, 1), employer="E2")])
    world.build()
    return employer_frames(world.con)


def _written(books, folder) -> dict[str, int]:
    for path, sheets in books:
        (folder / path).parent.mkdir(exist_ok=True)
        write_workbook(folder / path, sheets)
    return {path: sum(sheet.frame.height for sheet in sheets) for path, sheets in books}


def _sheets(path) -> dict[str, list[tuple]]:
    workbook = openpyxl.load_workbook(path)
    return {sheet.title: [tuple(row) for row in sheet.iter_rows(values_only=True)] for sheet in workbook}


def test_one_sheet_per_employer_lists_the_people_it_hired(frames, tmp_path):
    written = _written(employer_workbooks(frames, AS_OF, workbook_per_employer=False), tmp_path)
    assert written == {VIEW_FILE: 3}
    sheets = _sheets(tmp_path / VIEW_FILE)
    assert list(sheets) == ["E1 E1公司", "丙_商店"], "the name-only employer last; / is not allowed in a name"
    title, unit, header, *rows = sheets["E1 E1公司"]
    assert title[0] == TITLE
    assert unit[0] == f"单位：E1公司　单位编号：E1　数据截至：{AS_OF}　共 2 人"
    assert header == tuple(c.header for c in COLUMNS)
    first, second = (dict(zip(header, row, strict=True)) for row in rows[:2])
    assert [first[h] for h in ("序号", "姓名", "公民身份号码", "本单位首次缴费月份", "近期已缴费月份", "可信度")] == [
        1, "姓名P1", "P1", "2026-08", "2026-08,2026-09,2026-10", "高"
    ]  # fmt: skip
    assert (first["就业困难人员认定日期"], first["补贴期限至"]) == (
        datetime(2025, 2, 10),
        datetime(2028, 2, 9),
    )
    assert (first["区县"], first["街道"], first["联系电话"]) == ("东城区", "东华门街道", "13800000000")
    assert "[登记失业 t.csv 第2行]" in first["依据"] and "LOCATION" not in first["依据"], "in Chinese"
    assert (second["姓名"], second["补贴期限至"], second["可信度"]) == ("姓名P2", None, "需核实")
    assert "认定日期为空" in second["依据"], "the evidence says why the period is not known"
    assert rows[2][0].startswith("说明："), "the notes under the table"
    (shop,) = [row for row in sheets["丙_商店"][3:] if row[2]]
    assert shop[2] == "P1" and sheets["丙_商店"][1][0].startswith("单位：丙/商店　单位编号：无")


def test_past_the_employers_a_file_holds_the_view_is_several_numbered_workbooks(
    frames, tmp_path, monkeypatch
):
    monkeypatch.setattr(employer_view, "EMPLOYERS_PER_FILE", 1)
    written = _written(employer_workbooks(frames, AS_OF, workbook_per_employer=False), tmp_path)
    assert written == {"entitlements_by_employer_01.xlsx": 2, "entitlements_by_employer_02.xlsx": 1}
    assert list(_sheets(tmp_path / "entitlements_by_employer_01.xlsx")) == ["E1 E1公司"]
    assert list(_sheets(tmp_path / "entitlements_by_employer_02.xlsx")) == ["丙_商店"]
    assert employer_view.view_files(120)[::119] == [
        "entitlements_by_employer_001.xlsx",
        "entitlements_by_employer_120.xlsx",
    ]


def test_one_workbook_per_employer(frames, tmp_path):
    written = _written(employer_workbooks(frames, AS_OF, workbook_per_employer=True), tmp_path)
    assert written == {f"{VIEW_FOLDER}/E1_E1公司.xlsx": 2, f"{VIEW_FOLDER}/丙_商店.xlsx": 1}
    (rows,) = _sheets(tmp_path / VIEW_FOLDER / "E1_E1公司.xlsx").values()
    assert [row[2] for row in rows[3:5]] == ["P1", "P2"]
    manifest = output_section(tmp_path, written)  # files in the subfolder by their path in the run folder
    assert {name: entry["rows"] for name, entry in manifest.items()} == written
    (tmp_path / VIEW_FOLDER / "stray.xlsx").write_bytes(b"")
    with pytest.raises(ValueError, match="by_employer/stray.xlsx"):
        output_section(tmp_path, written)


def test_no_employer_subsidy_still_writes_the_workbook_saying_so(tmp_path):
    assert _written(employer_workbooks({}, AS_OF, workbook_per_employer=False), tmp_path) == {VIEW_FILE: 0}
    ((title, unit, header, *_),) = _sheets(tmp_path / VIEW_FILE).values()
    assert unit[0] == f"数据截至：{AS_OF}　共 0 人" and header[0] == "序号"
    assert employer_workbooks({}, AS_OF, workbook_per_employer=True) == []


def test_names_from_data_are_safe_short_and_unique():
    long = "某某某某某某某某某某某某某某某某某某某某某某某某某某某某某某有限公司"
    employers = [
        ("A1", long + "一"),
        ("A1", long + "二"),
        (None, "a?b*c[d]e:f\\g"),
        (None, None),
        ("../x", "y"),
    ]
    names = sheet_names(employers)
    assert names[0] == f"A1 {long}"[:31] and names[1] == f"A1 {long}"[:29] + "~2"
    assert names[2:] == ["a_b_c_d_e_f_g", "单位不详", ".._x y"]
    assert all(len(name) <= 31 for name in names)
    files = file_names(employers)
    assert len(set(files)) == len(files) and all("/" not in f and ".." not in f for f in files)
    assert files[3:] == ["单位不详.xlsx", "_x_y.xlsx"]
