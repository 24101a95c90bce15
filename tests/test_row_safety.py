"""Row safety: oversized cells, control characters, formula-like values and the as-of birth-date verdict.

Staging runs on real DuckDB tables (and a real xlsx read by the product's reader); the workbooks are
written by `publish/xlsx_files.py` and read back with openpyxl; the end-to-end test runs `aidmatch run`.
"""

import datetime as dt
import hashlib
import re
import resource
import zipfile
from pathlib import Path

import duckdb
import openpyxl
import polars as pl
import pytest
from openpyxl.utils.escape import unescape

from aidmatch.checks.stage_source import source_counts, stage_source
from aidmatch.publish import xlsx_files
from aidmatch.publish.csv_files import published_csv, write_csv
from aidmatch.publish.xlsx_files import SheetColumn, TableSheet, write_workbook, write_workbooks
from aidmatch.settings import IntakeSettings
from aidmatch.sources.column_maps import load_column_maps
from aidmatch.sources.readers import read_source
from aidmatch.sources.text import CONTROL_CHARACTERS
from tests.conftest import (
    DIBAO_MEMBERS,
    HEADERS,
    SOURCES,
    TINY_AS_OF,
    UNEMPLOYED,
    citizen_id,
    read_csv,
    run_aidmatch,
    tiny_rows,
    write_csv_file,
)

AS_OF = dt.date(2026, 6, 30)
LIMIT = 32767
VALID_ID = "11010519491231002X"
OTHER_ID = citizen_id("110101", dt.date(1980, 1, 2), 11)
RECORD = ("source", "source_file", "source_sheet", "source_row", "source_record")


def raw_table(con: duckdb.DuckDBPyConnection, source: str, columns: list[str], rows: list[tuple]) -> None:
    """raw_<source> as the readers make it (text columns and the record columns), values bound as
    parameters so that any character (NUL included) reaches the table unchanged."""
    names = ", ".join(f"{c} VARCHAR" for c in (*RECORD, *columns))
    con.execute(f"CREATE TABLE raw_{source} ({names})")
    for number, row in enumerate(rows, start=2):
        values = [source, f"{source}/a.csv", None, number, f"{source}/a.csv:{number}", *row]
        con.execute(f"INSERT INTO raw_{source} VALUES ({', '.join('?' * len(values))})", values)


def stage(con: duckdb.DuckDBPyConnection, source: str, limit: int = LIMIT, as_of: dt.date = AS_OF):
    result = stage_source(con, source, as_of=as_of, max_cell_chars=limit)
    source_counts(con, source)  # raises unless rows read = staged + rejected
    return result


def quarantined(con: duckdb.DuckDBPyConnection, source: str, prefix: str = "") -> dict[tuple[str, str], str]:
    """(source_record, rule) -> value, for the rules starting with `prefix`."""
    rows = con.execute(
        f"SELECT source_record, rule, value, action, message FROM quarantine_{source} WHERE starts_with(rule, ?)",
        [prefix],
    ).fetchall()
    assert all(action == "kept" and " / " in message for _, _, _, action, message in rows)  # bilingual
    return {(record, rule): value for record, rule, value, _, _ in rows}


@pytest.fixture
def con():
    connection = duckdb.connect()
    yield connection
    connection.close()


# --- cells over the size limit ------------------------------------------------------------------


def write_xlsx_with_a_huge_cell(path: Path, huge: str) -> None:
    """An xlsx whose 居住地址 cell holds `huge` whole. openpyxl itself cuts text at Excel's 32,767 characters,
    so the cell is written as a placeholder and the sheet's XML patched: other writers do not cut."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "花名册"
    sheet.append(["姓名", "公民身份号码", "居住地址", "失业登记日期"])
    sheet.append(["张三", VALID_ID, "HUGE-CELL", "2024-03-05"])
    sheet.append(["李四", OTHER_ID, "北京市东城区某街1号", "2024-03-06"])
    path.parent.mkdir(parents=True)
    workbook.save(path)
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet_xml = "xl/worksheets/sheet1.xml"
    parts[sheet_xml] = parts[sheet_xml].replace(b"HUGE-CELL", huge.encode("utf-8"))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def write_csv_with_a_huge_cell(path: Path, huge: str) -> None:
    rows = [["张三", VALID_ID, huge, "2024-03-05"], ["李四", OTHER_ID, "北京市东城区某街1号", "2024-03-06"]]
    write_csv_file(path, ["姓名", "公民身份号码", "居住地址", "失业登记日期"], rows)


@pytest.mark.parametrize(
    ("file", "write"),
    [("东城区.xlsx", write_xlsx_with_a_huge_cell), ("东城区.csv", write_csv_with_a_huge_cell)],
    ids=["xlsx", "csv"],
)
def test_a_3_mb_cell_is_cut_and_its_row_quarantined_with_file_and_row(
    tmp_path: Path, con, file, write
) -> None:
    huge = "北京市东城区" + "某" * 3_000_000
    write(tmp_path / "unemployment" / file, huge)
    column_map = load_column_maps()["unemployment"]
    read_source(con, tmp_path, "unemployment", column_map, "raw_unemployment", limits=IntakeSettings())
    assert con.execute("SELECT max(length(address)) FROM raw_unemployment").fetchall()[0] == (len(huge),)
    record = f"unemployment/{file.replace('.xlsx', '.xlsx#花名册')}:2"

    result = stage(con, "unemployment")

    assert (result.rows_read, result.rows_staged, result.rows_rejected) == (2, 2, 0)
    assert quarantined(con, "unemployment", "cell_too_long") == {
        (record, "cell_too_long:address"): str(len(huge))
    }
    [(message,)] = con.execute("SELECT message FROM quarantine_unemployment").fetchall()
    assert message.startswith("居住地址：") and f"{LIMIT}" in message  # the steward's header, the limit
    row = con.execute(
        "SELECT name, id_norm, id_valid, address, registered_on FROM staged_unemployment WHERE source_row = 2"
    ).fetchall()[0]
    assert row == ("张三", VALID_ID, True, huge[:LIMIT], dt.date(2024, 3, 5))  # the rest of the row staged


@pytest.mark.parametrize("column", ["name", "address", "registered_on", "citizen_id"])
def test_an_oversized_cell_is_cut_before_any_normalizer_sees_it(con, column: str) -> None:
    """Lookup columns (name, date, ID) and directly read text alike; the value shown is the length."""
    row = {"name": "张三", "citizen_id": VALID_ID, "address": "北京市", "registered_on": "2024-03-05"}
    row[column] = "x" * 50
    raw_table(con, "unemployment", list(row), [tuple(row.values())])
    stage(con, "unemployment", limit=20)
    assert quarantined(con, "unemployment", "cell_too_long") == {
        ("unemployment/a.csv:2", f"cell_too_long:{column}"): "50"
    }
    other_values = con.execute(
        "SELECT value FROM quarantine_unemployment WHERE rule NOT LIKE 'cell%'"
    ).fetchall()
    assert all(
        value is None or len(value) <= 20 for (value,) in other_values
    )  # e.g. bad_date shows the cut text
    staged = con.execute("SELECT name_raw, id_raw, address FROM staged_unemployment").fetchall()[0]
    assert all(value is None or len(value) <= 20 for value in staged)


def test_a_cell_exactly_at_the_limit_is_left_alone(con) -> None:
    raw_table(con, "unemployment", ["name", "citizen_id", "address"], [("张三", VALID_ID, "地" * 20)])
    stage(con, "unemployment", limit=20)
    assert quarantined(con, "unemployment") == {}
    assert con.execute("SELECT address FROM staged_unemployment").fetchall()[0] == ("地" * 20,)


# --- control characters -------------------------------------------------------------------------


def test_nul_bytes_inside_a_name_are_removed_and_the_row_flagged(con) -> None:
    raw_table(
        con, "unemployment", ["name", "citizen_id"], [("张\x00三\x00", VALID_ID), ("李四", "110105\x00")]
    )
    stage(con, "unemployment")
    assert quarantined(con, "unemployment", "control_characters") == {
        ("unemployment/a.csv:2", "control_characters:name"): "张\\x00三\\x00",
        ("unemployment/a.csv:3", "control_characters:citizen_id"): "110105\\x00",
    }
    names = con.execute("SELECT name_raw, name FROM staged_unemployment ORDER BY source_row").fetchall()
    assert names == [("张三", "张三"), ("李四", "李四")]


@pytest.mark.parametrize("codec", ["utf-8", "gb18030"])
def test_a_csv_with_nul_bytes_in_a_name_is_read_and_the_row_flagged(tmp_path: Path, con, codec: str) -> None:
    """A stray NUL is a control character in a cell, not UTF-16: the file is read, not refused."""
    path = tmp_path / "unemployment" / "东城区.csv"
    rows = [["张\x00三", VALID_ID, "2024-03-05"], ["李四", OTHER_ID, "2024-03-05"]]
    write_csv_file(path, ["姓名", "公民身份号码", "失业登记日期"], rows, encoding=codec)
    column_map = load_column_maps()["unemployment"]
    [report] = read_source(
        con, tmp_path, "unemployment", column_map, "raw_unemployment", limits=IntakeSettings()
    )
    assert (report.status, report.rows_read) == ("read", 2)
    stage(con, "unemployment")
    assert quarantined(con, "unemployment", "control_characters") == {
        ("unemployment/东城区.csv:2", "control_characters:name"): "张\\x00三"
    }
    names = con.execute("SELECT name FROM staged_unemployment ORDER BY source_row").fetchall()
    assert names == [("张三",), ("李四",)]


@pytest.mark.parametrize("character", CONTROL_CHARACTERS, ids=lambda c: f"U+{ord(c):04X}")
def test_every_control_character_is_removed_from_lookup_and_direct_columns(con, character: str) -> None:
    raw_table(
        con,
        "unemployment",
        ["name", "citizen_id", "address", "registered_on"],
        [(f"王{character}五", VALID_ID, f"东城区{character}某街", f"2024-03-05{character}")],
    )
    stage(con, "unemployment")
    shown = f"\\x{ord(character):02x}"
    assert quarantined(con, "unemployment", "control_characters") == {
        ("unemployment/a.csv:2", "control_characters:name"): f"王{shown}五",
        ("unemployment/a.csv:2", "control_characters:address"): f"东城区{shown}某街",
        ("unemployment/a.csv:2", "control_characters:registered_on"): f"2024-03-05{shown}",
    }
    row = con.execute("SELECT name, address, registered_on FROM staged_unemployment").fetchall()[0]
    assert row == ("王五", "东城区某街", dt.date(2024, 3, 5))


def test_an_amount_with_a_control_character_is_still_read_as_a_number(con) -> None:
    raw_table(
        con,
        "dibao",
        ["name", "citizen_id", "monthly_amount"],
        [("张三", VALID_ID, "￥1,2\x0000"), ("李四", VALID_ID, "x")],
    )
    stage(con, "dibao")
    assert quarantined(con, "dibao") == {
        ("dibao/a.csv:2", "control_characters:monthly_amount"): "￥1,2\\x0000",
        ("dibao/a.csv:3", "bad_number:monthly_amount"): "x",
    }
    assert con.execute("SELECT monthly_amount FROM staged_dibao ORDER BY source_row").fetchall() == [
        (1200.0,),
        (None,),
    ]


def test_tabs_and_line_breaks_inside_an_address_are_legitimate(con) -> None:
    raw_table(
        con, "unemployment", ["name", "citizen_id", "address"], [("张三", VALID_ID, "东城区\n某街\t1号")]
    )
    stage(con, "unemployment")
    assert quarantined(con, "unemployment") == {}
    assert con.execute("SELECT address FROM staged_unemployment").fetchall()[0] == ("东城区\n某街\t1号",)


# --- formula-like values ------------------------------------------------------------------------

FORMULA_NAMES = ['=HYPERLINK("http://x","y")', "=1+2", "+1", "-张三", "@SUM(A1)", "\t=1+2", "\r+1"]


def test_names_that_look_like_formulas_are_flagged_and_kept(con) -> None:
    rows = [(name, VALID_ID, None) for name in [*FORMULA_NAMES, "张三", "阿依·古丽"]]
    raw_table(con, "dibao", ["name", "citizen_id", "head_name"], [*rows, ("李四", VALID_ID, "=1+2")])
    result = stage(con, "dibao")
    flagged = quarantined(con, "dibao", "formula_like")
    expected = {(f"dibao/a.csv:{n}", "formula_like:name") for n in range(2, 2 + len(FORMULA_NAMES))}
    assert set(flagged) == expected | {(f"dibao/a.csv:{len(rows) + 2}", "formula_like:head_name")}
    assert flagged[("dibao/a.csv:3", "formula_like:name")] == "=1+2"
    assert result.rows_staged == len(rows) + 1  # kept
    assert con.execute("SELECT name_raw FROM staged_dibao WHERE source_row = 3").fetchall()[0] == ("=1+2",)


@pytest.mark.parametrize(
    ("phone", "flagged"),
    [("=1+2", True), ("@A1", True), ("+cmd|' /C calc'!A0", True), ("-", False), ("+86 138 0000 0000", False)],
)
def test_text_columns_flag_formulas_but_not_phone_numbers_or_dashes(con, phone: str, flagged: bool) -> None:
    raw_table(con, "unemployment", ["name", "citizen_id", "phone"], [("张三", VALID_ID, phone)])
    stage(con, "unemployment")
    assert bool(quarantined(con, "unemployment", "formula_like:phone")) is flagged


# --- as-of birth dates --------------------------------------------------------------------------


def test_an_id_born_after_the_as_of_date_is_bad_date_that_night_and_valid_later(con) -> None:
    born = dt.date(2026, 7, 15)  # after AS_OF, before the day these tests are written (2026-12)
    assert born <= dt.date.today()
    raw_table(con, "unemployment", ["name", "citizen_id"], [("张三", citizen_id("110101", born, 11))])
    stage(con, "unemployment", as_of=AS_OF)
    assert set(quarantined(con, "unemployment", "id_")) == {("unemployment/a.csv:2", "id_bad_date")}
    assert con.execute("SELECT id_valid FROM staged_unemployment").fetchall()[0] == (False,)

    stage(con, "unemployment", as_of=dt.date(2026, 8, 1))
    assert quarantined(con, "unemployment", "id_") == {}
    assert con.execute("SELECT id_valid, id_issue FROM staged_unemployment").fetchall() == [(True, None)]


# --- xlsx: no formula from data -----------------------------------------------------------------


def test_written_workbooks_hold_no_formula_and_the_exact_text(tmp_path: Path) -> None:
    texts = [*FORMULA_NAMES, "#N/A", "张三"]
    frame = pl.DataFrame({"person_id": texts, "name": texts, "evidence": list(reversed(texts))})
    columns = (
        SheetColumn("person_id", "公民身份号码", 20, "id"),
        SheetColumn("name", "姓名", 8),
        SheetColumn("evidence", "依据", 30),
    )

    def sheet(name: str, rows: pl.DataFrame) -> TableSheet:
        return TableSheet(
            name, "=1+2 标题", columns, rows, page_header="=页眉", as_of="2026-06-30", notes=("=说明",)
        )

    path = tmp_path / "list.xlsx"
    assert write_workbook(path, [sheet("甲", frame), sheet("乙", frame.head(2))]) == len(texts) + 2

    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames == ["甲", "乙"]
    for ws in workbook:
        cells = [cell for row in ws.iter_rows() for cell in row if cell.value is not None]
        assert cells and all(cell.data_type == "s" for cell in cells)
        assert all(cell.quotePrefix for cell in cells if cell.value.startswith(("=", "+", "-", "@", "#")))
        assert ws["A1"].value == "=1+2 标题" and ws.oddHeader.left.text == "=页眉"
    # A control character is stored as Excel's escape (_x000D_ for a carriage return), which Excel and
    # LibreOffice read back as the character; openpyxl leaves it to `unescape`.
    values = [
        [unescape(cell.value) for cell in row]
        for row in workbook["甲"].iter_rows(min_row=3, max_row=2 + len(texts))
    ]
    assert values == [list(row) for row in frame.iter_rows()]


def test_workbooks_written_several_at_once_are_the_ones_written_one_by_one(tmp_path: Path) -> None:
    """A city's workbooks are written several at once (`write_workbooks`): each file holds what writing
    them one by one would have written — the same cells, literal text kept literal — and the rows come back
    in the order the workbooks were given, whichever finished first."""
    columns = (SheetColumn("person_id", "公民身份号码", 20, "id"), SheetColumn("name", "姓名", 8))
    sizes = [3, 40, 1, 12]  # not in size order: the largest are written first

    def books(folder: Path) -> list[tuple[Path, list[TableSheet]]]:
        folder.mkdir()
        made = []
        for index, size in enumerate(sizes):
            names = [FORMULA_NAMES[i % len(FORMULA_NAMES)] if i % 3 else f"张{i}" for i in range(size)]
            frame = pl.DataFrame({"person_id": [f"{i:018d}" for i in range(size)], "name": names})
            made.append(
                (folder / f"{index}.xlsx", [TableSheet("名单", "标题", columns, frame, "页眉", "2026-06-30")])
            )
        return made

    def cells(path: Path) -> list[tuple]:
        sheet = openpyxl.load_workbook(path)["名单"]
        return [
            (c.value, c.data_type, c.quotePrefix, c.number_format) for row in sheet.iter_rows() for c in row
        ]

    alone = write_workbooks(books(tmp_path / "alone"), workers=1)
    shared = write_workbooks(books(tmp_path / "shared"), workers=2)
    assert alone == shared == sizes
    for index in range(len(sizes)):
        assert cells(tmp_path / "shared" / f"{index}.xlsx") == cells(tmp_path / "alone" / f"{index}.xlsx")


def test_formula_names_end_to_end_csv_exact_xlsx_literal_quarantine_flagged(
    tmp_path: Path, dagster_home
) -> None:
    """=HYPERLINK(…) and =1+2 as names in the unemployment and dibao files of the tiny world."""
    rows = {source: tiny_rows(source) for source in SOURCES}
    rows["unemployment"][0][0] = '=HYPERLINK("http://x","y")'
    rows["unemployment"][2][0] = "=1+2"  # [1] is past retirement age: on no list
    rows["dibao"][0][4] = "=1+2"  # 成员姓名 of a household head (one row of five: under the quarantine limit)
    for index, name in ((0, rows["unemployment"][0][0]), (2, "=1+2"), (10, "=1+2")):
        rows["si_persons"][index][1] = name  # the same people under the same names in every source
    for source in SOURCES:
        write_csv_file(tmp_path / "input" / source / "东城区.csv", HEADERS[source], rows[source])
    code = run_aidmatch(tmp_path / "input", tmp_path / "output", tmp_path / "work", TINY_AS_OF)
    assert code == 0
    folder = tmp_path / "output" / TINY_AS_OF.isoformat()

    workbooks = sorted(folder.glob("*.xlsx"))
    assert {"proactive.xlsx", "feedback_unemployment.xlsx", "progress.xlsx"} <= {p.name for p in workbooks}
    for path in workbooks:  # the lists, the feedback sheets (which show the values) and the progress table
        workbook = openpyxl.load_workbook(path)
        formulas = [
            c.coordinate for s in workbook for row in s.iter_rows() for c in row if c.data_type == "f"
        ]
        assert formulas == [], path.name
    feedback = openpyxl.load_workbook(folder / "feedback_unemployment.xlsx")["问题明细"]
    shown = {c.value: c.quotePrefix for row in feedback.iter_rows(min_row=3) for c in row}
    assert shown.get('=HYPERLINK("http://x","y")') is True, "the department sees its value, as text"

    _, proactive = read_csv(folder / "proactive.csv")
    names = {row["person_id"]: row["name"] for row in proactive}
    # Exact in the CSV (no quote added); the bracketed part of a name is a note, as for 张三（曾用名张珊）.
    assert [names[p.id] for p in (UNEMPLOYED[0], UNEMPLOYED[2], DIBAO_MEMBERS[0])] == [
        "=HYPERLINK",
        "=1+2",
        "=1+2",
    ]
    workbook = openpyxl.load_workbook(folder / "proactive.xlsx")
    texts = {c.value for s in workbook for row in s.iter_rows() for c in row}
    assert {"=HYPERLINK", "=1+2"} <= texts

    _, quarantine = read_csv(folder / "quarantine.csv")
    formula_rows = {(row["source_record"], row["rule"], row["value"]) for row in quarantine}
    assert {
        ("unemployment/东城区.csv:2", "formula_like:name", '=HYPERLINK("http://x","y")'),
        ("unemployment/东城区.csv:4", "formula_like:name", "=1+2"),
        ("dibao/东城区.csv:2", "formula_like:name", "=1+2"),
    } <= formula_rows


def test_a_sheet_among_many_gets_the_heights_it_gets_alone(tmp_path: Path) -> None:
    """A sheet is laid out from its own rows (its columns sized to them, its rows' and notes' heights from
    the lines their text takes): among the sheets of a workbook it gets what it gets alone."""
    narrow = (SheetColumn("person_id", "公民身份号码", 20, "id"), SheetColumn("evidence", "依据", 10))
    wide = (SheetColumn("evidence", "依据", 40),)

    def table(index: int, columns: tuple[SheetColumn, ...]) -> TableSheet:
        # texts of one to several lines (some sheets have no row)
        evidence = ["说明" * (index * 29 % 97 + 40 * row) for row in range(index % 4)]
        frame = pl.DataFrame(
            {"person_id": [f"{row:018d}" for row in range(len(evidence))], "evidence": evidence},
            schema={"person_id": pl.String, "evidence": pl.String},
        )
        note = "注" * (index * 11 % 60)
        return TableSheet(
            f"表{index}", "标题", columns, frame, "页眉", "2026-06-30",
            subtitle="单位" * index if index % 2 else None, notes=(note, "另注") if note else (),
        )  # fmt: skip

    tables = [table(index, narrow if index % 3 else wide) for index in range(1, 13)]

    def heights(path: Path, name: str) -> list[float | None]:
        sheet = openpyxl.load_workbook(path)[name]
        return [sheet.row_dimensions[row].height for row in range(1, sheet.max_row + 1)]

    write_workbook(tmp_path / "all.xlsx", tables)
    seen: set[float | None] = set()
    for table in tables:
        write_workbook(tmp_path / f"{table.name}.xlsx", [table])
        alone = heights(tmp_path / f"{table.name}.xlsx", table.name)
        assert heights(tmp_path / "all.xlsx", table.name) == alone
        seen.update(alone)
    assert len(seen) > 5  # rows and notes of many heights: a sheet given another's would show


def test_a_workbook_of_more_sheets_than_open_files_allowed_is_written(tmp_path: Path) -> None:
    """An employers' view has a sheet per employer, thousands in a city: a workbook is written whatever
    the process's limit of open files (1,024 on many servers), each sheet's temporary file closed in turn."""
    columns = (SheetColumn("name", "姓名", 8),)
    sheets = [
        TableSheet(
            f"单位{index}", "标题", columns, pl.DataFrame({"name": [f"张{index}"]}), "页眉", "2026-06-30"
        )
        for index in range(300)
    ]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
    try:
        assert write_workbook(tmp_path / "view.xlsx", sheets) == len(sheets)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    workbook = openpyxl.load_workbook(tmp_path / "view.xlsx", read_only=True)
    assert workbook.sheetnames == [sheet.name for sheet in sheets]
    assert [row[0] for row in workbook["单位299"].iter_rows(min_row=3, values_only=True)] == ["张299"]


def test_sheet_names_from_data_never_stop_a_workbook(tmp_path: Path) -> None:
    """Excel refuses a sheet name longer than 31 characters, holding [ ] : * ? / \\ or taken (whatever its
    case): such names are cut, mended and numbered, and the workbook is written."""
    columns = (SheetColumn("name", "姓名", 8),)
    names = ["名单" * 20, "名单" * 20, "a/b:c*[d]", "Tab", "tab"]
    sheets = [
        TableSheet(n, "标题", columns, pl.DataFrame({"name": ["张三"]}), "页眉", "2026-06-30") for n in names
    ]
    assert write_workbook(tmp_path / "names.xlsx", sheets) == len(names)
    assert openpyxl.load_workbook(tmp_path / "names.xlsx").sheetnames == [
        ("名单" * 20)[:31],
        ("名单" * 20)[:29] + "~2",
        "a_b_c__d_",
        "Tab",
        "tab~2",
    ]


def test_the_same_sheets_make_the_same_bytes(tmp_path: Path) -> None:
    """A workbook's bytes depend on its sheets alone (its date is its as-of date): the manifest's sha256 of
    an unchanged list is the same night after night."""
    frame = pl.DataFrame({"name": ["张三", "=1+2"], "born": [dt.date(1990, 1, 1), None]})
    columns = (SheetColumn("name", "姓名", 8), SheetColumn("born", "出生日期", 11, "date"))
    sheets = [TableSheet("名单", "标题", columns, frame, "页眉", "2026-06-30", notes=("说明",))]
    first = xlsx_files.save_workbook(tmp_path / "a.xlsx", sheets)
    second = xlsx_files.save_workbook(tmp_path / "b.xlsx", sheets)
    assert first == second and (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    with zipfile.ZipFile(tmp_path / "b.xlsx") as package:
        normal = re.search(r"<font>.*?</font>", package.read("xl/styles.xml").decode()).group()
    assert "Courier New" in normal and "scheme" not in normal, (
        "the Normal font is Courier New, not the theme's"
    )
    assert first.sha256 == hashlib.sha256((tmp_path / "a.xlsx").read_bytes()).hexdigest()
    assert (first.rows, first.bytes) == (2, (tmp_path / "a.xlsx").stat().st_size)


def test_a_workbook_that_cannot_be_written_fails_the_writing_naming_it(tmp_path: Path) -> None:
    """A workbook that cannot be written (here: no such folder) fails the whole writing with an error naming
    it — never a workbook silently missing — whichever of the writers met it."""
    columns = (SheetColumn("name", "姓名", 8),)
    books = [
        (
            folder / "list.xlsx",
            [
                TableSheet(
                    "名单", "标题", columns, pl.DataFrame({"name": ["张三"] * rows}), "页眉", "2026-06-30"
                )
            ],
        )
        for folder, rows in ((tmp_path, 1), (tmp_path / "missing", 5), (tmp_path, 3))
    ]
    with pytest.raises(FileNotFoundError, match="missing/list.xlsx"):
        write_workbooks(books, workers=2)


def test_a_published_csv_reads_back_cell_for_cell(tmp_path):
    """The changes since the night before, the street offices' baseline and the report read the CSVs a night
    published back in the dialect they were written in (`published_csv`, no sniffing): every cell is the
    text written — a comma and quotes, a line break, leading zeros, an ID — and an empty text is not taken
    for an empty cell (the changes would report an entry whose detail is empty as changed every night)."""
    con = duckdb.connect()
    rows = [
        ("1", 'say "hi", then go', "line\nbreak", "007", None),
        ("2", "", "，、；", "110105199001011234", "x"),
    ]
    con.execute("CREATE TABLE cells (n VARCHAR, a VARCHAR, b VARCHAR, c VARCHAR, d VARCHAR)")
    con.executemany("INSERT INTO cells VALUES (?, ?, ?, ?, ?)", rows)
    path = tmp_path / "cells.csv"
    write_csv(con, "SELECT * FROM cells ORDER BY n", path)
    assert con.sql(f"SELECT * FROM {published_csv(path)} ORDER BY n").fetchall() == rows
