"""The employers' view of the 单位吸纳 subsidy (直补快办): a tiny world of three employers built as
test_entitlements.py builds its worlds, published both ways (a sheet per employer, a workbook per employer)
and read back with openpyxl."""

from datetime import date

import openpyxl
import pytest

from aidmatch.publish.employer_view import (
    HEADERS,
    VIEW_FILE,
    VIEW_FOLDER,
    employer_frames,
    file_names,
    sheet_names,
    write_employer_view,
)
from aidmatch.publish.manifest import output_section
from tests.test_entitlements import MAN, employed, paid, recognized, world_of


@pytest.fixture(scope="module")
def frames(tmp_path_factory):
    """P1 hired by E1 (a 认定日期) and by a shop known by name only; P2 hired by E1 with an empty 认定日期;
    P3 hired by E2 the month before recognition (no subsidy: E2 is not in the view)."""
    world = world_of(tmp_path_factory.mktemp("world"), MAN, [recognized(), *employed(date(2026, 8, 1))])
    world.record(paid(date(2026, 9, 1), employer=None, name="丙/商店"), "P1")
    world.add("P2", *MAN, [recognized(None), *employed(date(2026, 7, 1))])
    world.add("P3", *MAN, [recognized(date(2026, 8, 10)), *employed(date(2026, 7, 1), employer="E2")])
    world.build()
    return employer_frames(world.con)


def _sheets(path) -> dict[str, list[tuple]]:
    workbook = openpyxl.load_workbook(path)
    return {sheet.title: [tuple(row) for row in sheet.iter_rows(values_only=True)] for sheet in workbook}


def test_one_sheet_per_employer_lists_the_people_it_hired(frames, tmp_path):
    written = write_employer_view(frames, tmp_path, workbook_per_employer=False)
    assert written == {VIEW_FILE: 3}
    sheets = _sheets(tmp_path / VIEW_FILE)
    assert list(sheets) == ["E1 E1公司", "丙_商店"], "the name-only employer last; / is not allowed in a name"
    header, *rows = sheets["E1 E1公司"]
    assert header == tuple(HEADERS.values())
    assert [row[:9] for row in rows] == [
        (
            "E1",
            "E1公司",
            "P1",
            "姓名P1",
            "2025-02-10",
            "2026-08",
            "2026-08,2026-09,2026-10",
            "2028-02-09",
            "高",
        ),
        ("E1", "E1公司", "P2", "姓名P2", None, "2026-07", "2026-08,2026-09,2026-10", None, "需核实"),
    ]
    assert "认定日期为空" in rows[1][9], "the evidence says why the period is not known"
    ((_, shop, person, *_),) = sheets["丙_商店"][1:]
    assert (shop, person) == ("丙/商店", "P1")


def test_one_workbook_per_employer(frames, tmp_path):
    written = write_employer_view(frames, tmp_path, workbook_per_employer=True)
    assert written == {f"{VIEW_FOLDER}/E1_E1公司.xlsx": 2, f"{VIEW_FOLDER}/丙_商店.xlsx": 1}
    assert sorted(p.name for p in (tmp_path / VIEW_FOLDER).iterdir()) == ["E1_E1公司.xlsx", "丙_商店.xlsx"]
    (rows,) = _sheets(tmp_path / VIEW_FOLDER / "E1_E1公司.xlsx").values()
    assert [row[2] for row in rows[1:]] == ["P1", "P2"]
    assert not (tmp_path / VIEW_FILE).exists()
    manifest = output_section(tmp_path, written)  # files in the subfolder by their path in the run folder
    assert {name: entry["rows"] for name, entry in manifest.items()} == written
    (tmp_path / VIEW_FOLDER / "stray.xlsx").write_bytes(b"")
    with pytest.raises(ValueError, match="by_employer/stray.xlsx"):
        output_section(tmp_path, written)


def test_no_employer_subsidy_still_writes_the_workbook_saying_so(tmp_path):
    assert write_employer_view({}, tmp_path, workbook_per_employer=False) == {VIEW_FILE: 0}
    assert _sheets(tmp_path / VIEW_FILE) == {"（无）": [tuple(HEADERS.values())]}
    assert write_employer_view({}, tmp_path / "none", workbook_per_employer=True) == {}


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
