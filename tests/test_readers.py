"""Readers: real xlsx (openpyxl) and CSV files (real encodings) written in tmp_path, read into DuckDB."""

import datetime as dt
import hashlib
import io
import itertools
import multiprocessing
import os
import random
import shutil
import zipfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import duckdb
import openpyxl
import pytest
import xlwt
from conftest import HEADERS as CONFTEST_HEADERS
from conftest import citizen_id, tiny_rows

from aidmatch.checks.stage_source import stage_source
from aidmatch.settings import IntakeSettings
from aidmatch.sources import csv_reader, encoding, workbook_reader
from aidmatch.sources.column_maps import load_column_maps, normalize_header
from aidmatch.sources.digests import FileStamp, remember_sha256
from aidmatch.sources.machine import MachineSettings
from aidmatch.sources.readers import FileReport, SourceReadError, read_source

MAPS = load_column_maps()
LIMITS = IntakeSettings()
UNEMPLOYMENT_HEADER = ["序号", "姓名", "公民身份号码", "性别", "失业登记日期"]


def write_xlsx(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    workbook.save(path)
    return path


def write_text(path: Path, text: str, codec: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(codec))
    return path


def read(
    root: Path, source: str = "unemployment", limits: IntakeSettings = LIMITS
) -> tuple[list[FileReport], list[dict]]:
    con = duckdb.connect()
    reports = read_source(con, root, source, MAPS[source], f"raw_{source}", limits=limits)
    rows = (
        con.sql(f"SELECT * FROM raw_{source} ORDER BY source_file, source_sheet, source_row").pl().to_dicts()
    )
    return reports, rows


def read_error(root: Path, source: str = "unemployment", limits: IntakeSettings = LIMITS) -> SourceReadError:
    con = duckdb.connect()
    with pytest.raises(SourceReadError) as caught:
        read_source(con, root, source, MAPS[source], "raw", limits=limits)
    assert not con.sql("SELECT * FROM duckdb_tables() WHERE table_name = 'raw'").fetchall()  # no half table
    return caught.value


# --- xlsx ----------------------------------------------------------------------------------------


def test_xlsx_title_rows_footer_blank_rows_and_row_numbers(tmp_path: Path) -> None:
    write_xlsx(
        tmp_path / "unemployment" / "东城区.xlsx",
        {
            "第1页": [
                ["东城区登记失业人员花名册"],
                ["填报单位：东城区人社局", None, None, "2024年3月"],
                UNEMPLOYMENT_HEADER,
                [1, "张三", "110105194912310021", "女", "2024-03-05"],
                [],
                [2, "李四", "11010519491231002X", "男", "2024-03-06"],
                [None, None, None, None, None],
                [3, None, None, "男", None],  # no identity, no footer label: still a record
                ["合计", None, None, None, "3人"],
                ["制表人：王五", None, "审核人：赵六", None, "制表日期：2024-03-31"],
            ]
        },
    )
    [report], rows = read(tmp_path)
    assert report.header_row == {"第1页": 3}
    assert (report.rows_read, report.rows_skipped_blank, report.rows_skipped_footer) == (3, 2, 2)
    assert [r["source_record"] for r in rows] == [
        "unemployment/东城区.xlsx#第1页:4",
        "unemployment/东城区.xlsx#第1页:6",
        "unemployment/东城区.xlsx#第1页:8",
    ]
    assert [r["name"] for r in rows] == ["张三", "李四", None]
    assert (
        rows[0]["source_row"] == 4
        and rows[0]["source_sheet"] == "第1页"
        and rows[0]["source"] == "unemployment"
    )
    assert report.unmapped_columns == ["序号"]


def test_xlsx_cells_as_excel_shows_them(tmp_path: Path) -> None:
    write_xlsx(
        tmp_path / "unemployment" / "a.xlsx",
        {
            "Sheet1": [
                ["姓名", "公民身份号码", "出生日期", "失业登记日期", "联系电话", "民族"],
                [
                    "张三",
                    110105199001011234,
                    dt.date(1990, 1, 1),
                    dt.datetime(2024, 3, 5, 14, 30),
                    13800138000,
                    1.5,
                ],
                ["李四", 1.2e17, 45000, "2024年3月5日", "010-1234", 7],
            ]
        },
    )
    _, rows = read(tmp_path)
    assert rows[0]["citizen_id"] == "1.10105199001011E+17"  # 15 significant digits, as Excel shows it
    assert (rows[0]["birth_date"], rows[0]["registered_on"]) == ("1990-01-01", "2024-03-05")
    assert (rows[0]["phone"], rows[0]["ethnicity"]) == ("13800138000", "1.5")
    assert (rows[1]["citizen_id"], rows[1]["birth_date"], rows[1]["ethnicity"]) == ("1.2E+17", "45000", "7")
    assert rows[1]["registered_on"] == "2024年3月5日"


def test_xlsx_several_sheets_and_a_notes_sheet(tmp_path: Path) -> None:
    header = ["姓名", "身份证号码", "失业登记时间"]
    write_xlsx(
        tmp_path / "unemployment" / "a.xlsx",
        {
            "街道一": [header, ["甲", "1", "2024-01-01"]],
            "说明": [["本表由系统导出，请勿修改表头。"], [], ["联系人：某某"]],
            "街道二": [["街道二花名册"], header, ["乙", "2", "2024-01-02"], ["丙", "3", "2024-01-03"]],
            "空表": [],
        },
    )
    [report], rows = read(tmp_path)
    assert report.sheets == ["街道一", "街道二"] and report.skipped_sheets == ["说明", "空表"]
    assert report.header_row == {"街道一": 1, "街道二": 2}
    assert [r["source_record"] for r in rows] == [
        "unemployment/a.xlsx#街道一:2",
        "unemployment/a.xlsx#街道二:3",
        "unemployment/a.xlsx#街道二:4",
    ]


def test_sheet_with_data_but_no_header_is_an_error(tmp_path: Path) -> None:
    write_xlsx(
        tmp_path / "unemployment" / "a.xlsx",
        {
            "第1页": [UNEMPLOYMENT_HEADER, [1, "甲", "1", "男", "2024-01-01"]],
            "第2页": [["甲", "1"], ["乙", "2"]],
        },
    )
    error = read_error(tmp_path)
    assert (
        error.file == "unemployment/a.xlsx" and "sheet 第2页" in str(error) and "no header row" in str(error)
    )
    assert "甲" not in str(error)  # never a cell value in a message


def test_truncated_xlsx(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "unemployment" / "a.xlsx", {"S": [UNEMPLOYMENT_HEADER, [1, "甲", "1", "男", "x"]]}
    )
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    error = read_error(tmp_path)
    assert error.file == "unemployment/a.xlsx" and "damaged or truncated" in error.message


def write_xls(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    """An Excel 97–2003 workbook (BIFF8), as legacy systems export it; dates as real date cells."""
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlwt.Workbook(encoding="utf-8")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for name, rows in sheets.items():
        sheet = workbook.add_sheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is not None:
                    sheet.write(
                        r, c, value, date_style if isinstance(value, dt.date) else xlwt.Style.default_style
                    )
    workbook.save(str(path))
    return path


def test_xls_read_like_xlsx_with_excel_row_numbers(tmp_path: Path) -> None:
    write_xls(
        tmp_path / "unemployment" / "东城区.xls",
        {
            "花名册": [
                ["东城区登记失业人员花名册"],
                [],
                UNEMPLOYMENT_HEADER,
                [1, "张三", "110105194912310021", "女", dt.date(2024, 3, 5)],
                [],
                [2, "李四", 1.10105199001011e17, "男", "2024/3/6"],
                ["合计", None, None, None, "2人"],
            ],
            "说明": [["本表由系统导出"]],
        },
    )
    [report], rows = read(tmp_path)
    assert (report.encoding, report.sheets, report.skipped_sheets) == ("xls", ["花名册"], ["说明"])
    assert (report.rows_read, report.rows_skipped_blank, report.rows_skipped_footer) == (2, 1, 1)
    assert [(r["source_record"], r["name"], r["registered_on"]) for r in rows] == [
        ("unemployment/东城区.xls#花名册:4", "张三", "2024-03-05"),
        ("unemployment/东城区.xls#花名册:6", "李四", "2024/3/6"),
    ]
    assert (
        rows[1]["citizen_id"] == "1.10105199001011E+17"
    )  # a number in the .xls too: shown as Excel shows it


def test_xls_named_xlsx_is_read_and_says_so(tmp_path: Path) -> None:
    path = write_xls(
        tmp_path / "unemployment" / "a.xls", {"S": [UNEMPLOYMENT_HEADER, [1, "甲", "1", "男", "d"]]}
    )
    path.rename(path.with_suffix(".xlsx"))
    [report], rows = read(tmp_path)
    assert report.encoding == "xls" and "named .xlsx: read as .xls" in report.reason
    assert [r["source_record"] for r in rows] == ["unemployment/a.xlsx#S:2"]


def _ole_with_stream(tmp_path: Path, stream: str) -> bytes:
    """A real OLE compound file (xlwt's) whose `Workbook` stream is renamed `stream` in the directory."""
    path = write_xls(tmp_path / "ole" / "a.xls", {"S": [["x"]]})
    content = bytearray(path.read_bytes())
    old = "Workbook".encode("utf-16-le") + b"\0\0"
    at = content.index(old)
    name = stream.encode("utf-16-le") + b"\0\0"
    content[at : at + 64] = name.ljust(64, b"\0")
    content[at + 64 : at + 66] = len(name).to_bytes(2, "little")
    return bytes(content)


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("a.xlsx", "BINARY", "not a spreadsheet or a text export"),
        ("a.xlsx", "姓名,身份证号\n".encode(), "rename it to .csv"),
        ("a.xlsx", "ZIP", "a zip archive that is not a workbook (it has no xl/workbook.xml)"),
        ("a.xlsx", "ENCRYPTED", "password-protected"),
        ("a.xls", "ENCRYPTED", "password-protected"),
        ("a.xls", "WORD", "not a workbook (a Word document?)"),
        ("a.xls", b"<html><body><table><tr><td>\xe5\xa7\x93\xe5\x90\x8d</td></tr></table>", "web page"),
        ("a.xlsx", b"", "empty file"),
        ("a.csv", "BINARY", "not a spreadsheet or a text export"),
        ("a.txt", "XLSX", "an Excel workbook named .txt. Rename it to .xlsx"),
        ("a.csv", "XLS", "an Excel workbook named .csv. Rename it to .xls"),
        ("a.dat", "XLSX", "an Excel workbook (.xlsx), named .dat"),
        ("a.xlsb", b"x", ".xlsb files are not read"),
        ("a.ods", b"x", ".ods files are not read"),
        ("a.zip", b"x", "Unpack it into the folder"),
    ],
)
def test_file_whose_bytes_are_not_what_its_name_says(
    tmp_path: Path, name: str, content: bytes | str, expected: str
) -> None:
    """What the bytes really are decides the message: random bytes are not told to become a CSV."""
    real = {
        "BINARY": lambda: random.Random(7).randbytes(20_000),
        "ZIP": lambda: _zip({"word.txt": b"hello", "data/readme.md": b"x"}),
        "ENCRYPTED": lambda: _ole_with_stream(tmp_path, "EncryptedPackage"),
        "WORD": lambda: _ole_with_stream(tmp_path, "WordDocument"),
        "XLSX": lambda: write_xlsx(tmp_path / "w" / "a.xlsx", {"S": [UNEMPLOYMENT_HEADER]}).read_bytes(),
        "XLS": lambda: write_xls(tmp_path / "w" / "a.xls", {"S": [UNEMPLOYMENT_HEADER]}).read_bytes(),
    }
    data = real[content]() if isinstance(content, str) else content
    write_text(tmp_path / "unemployment" / "ok.csv", CSV_TEXT)
    (tmp_path / "unemployment" / name).write_bytes(data)
    error = read_error(tmp_path)
    assert error.file == f"unemployment/{name}" and expected in error.message, error.message
    if content == "BINARY":
        assert ".csv" not in error.message.split(".")[0] and "rename" not in error.message.lower()
    assert {(r.file, r.status) for r in error.reports} >= {(f"unemployment/{name}", "refused")}


def test_damaged_bytes_of_every_kind_give_a_read_error_never_a_traceback(tmp_path: Path) -> None:
    """Workbooks, CSVs and bare magic numbers with bytes flipped, cut or appended, under every name: each
    is read, ignored or refused with a SourceReadError; no other exception escapes (seeded, repeatable)."""
    rng = random.Random(11)
    rows = [UNEMPLOYMENT_HEADER, [1, "甲", "1", "男", dt.date(2024, 1, 1)]]
    bases = [
        write_xlsx(tmp_path / "w" / "a.xlsx", {"S": rows}).read_bytes(),
        write_xls(tmp_path / "w" / "a.xls", {"S": rows}).read_bytes(),
        CSV_TEXT.encode("gb18030"),
        b"PK\x03\x04",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
    ]
    outcomes = set()
    for case in range(120):
        data = bytearray(rng.choice(bases))
        if case % 3 == 0:
            for _ in range(rng.randrange(1, 40)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        elif case % 3 == 1:
            data = data[: rng.randrange(len(data) + 1)]
        else:
            data = data[:8] + rng.randbytes(rng.randrange(3000))
        folder = tmp_path / str(case) / "unemployment"
        folder.mkdir(parents=True)
        (folder / f"f{rng.choice(['.xlsx', '.xls', '.csv', '.txt', '.dat'])}").write_bytes(bytes(data))
        try:
            reports = read_source(
                duckdb.connect(), folder.parent, "unemployment", MAPS["unemployment"], "raw", limits=LIMITS
            )
            outcomes.add(reports[0].status)
        except SourceReadError:
            outcomes.add("refused")
    assert outcomes == {"read", "ignored", "refused"}


def test_zip_bomb_is_refused_from_the_zip_directory_before_unpacking(tmp_path: Path, monkeypatch) -> None:
    """3 MB of zeros compress to a few kB: past a 1 MB limit, refused from the declared sizes."""
    path = write_xlsx(
        tmp_path / "unemployment" / "a.xlsx", {"S": [UNEMPLOYMENT_HEADER, [1, "甲", "1", "男", "d"]]}
    )
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/padding.bin", bytes(3_000_000))
    assert path.stat().st_size < 100_000
    [report], rows = read(tmp_path)  # the default limit (2 GB) reads it
    assert report.rows_read == 1
    monkeypatch.setattr(workbook_reader, "CalamineWorkbook", None)  # the workbook is never opened
    error = read_error(tmp_path, limits=IntakeSettings(max_xlsx_uncompressed_bytes=1_000_000))
    assert error.file == "unemployment/a.xlsx" and "would unpack to 3,01" in error.message
    assert "more than the 1,000,000 allowed" in error.message


def test_sheet_with_too_many_cells_is_refused(tmp_path: Path) -> None:
    rows = [UNEMPLOYMENT_HEADER] + [[i, "甲", str(i), "男", "d"] for i in range(1, 30)]  # 30 rows x 5
    write_xlsx(tmp_path / "unemployment" / "a.xlsx", {"S": rows})
    write_xls(tmp_path / "unemployment" / "b.xls", {"S": rows})
    assert read(tmp_path, limits=IntakeSettings(max_xlsx_cells=150))[0][0].rows_read == 29
    error = read_error(tmp_path, limits=IntakeSettings(max_xlsx_cells=149))
    assert error.file == "unemployment/"  # both refused, each named
    for name in ("a.xlsx", "b.xls"):
        assert f"\n  unemployment/{name}: sheet S has 30 rows × 5 columns = 150 cells, more than the 149" in (
            error.message
        )
    (tmp_path / "unemployment" / "a.xlsx").unlink()
    error = read_error(tmp_path, limits=IntakeSettings(max_xlsx_cells=149))
    assert error.file == "unemployment/b.xls" and "150 cells" in error.message


# The header aliases SPEC section 2 says the column maps ship: (key, aliases), for every source that has the key.
SPEC_ALIASES = (
    ("citizen_id", ("公民身份号码", "身份证号码", "身份证号", "证件号码", "社会保障号码")),
    ("name", ("姓名", "人员姓名", "成员姓名")),
    ("phone", ("联系电话", "手机号码", "联系方式")),
    ("address", ("居住地址", "现居住地址", "家庭住址")),
    ("birth_date", ("出生日期", "出生年月日")),
)


@pytest.mark.parametrize(
    ("source", "key", "alias"),
    [
        (source, key, alias)
        for source in MAPS
        for key, aliases in SPEC_ALIASES
        if key in MAPS[source].columns
        for alias in aliases
    ],
)
def test_every_alias_of_spec_section_2_is_read(tmp_path: Path, source: str, key: str, alias: str) -> None:
    """A file whose column for `key` is headed `alias` (the reference headers otherwise) reads it as `key`."""
    header, rows = list(CONFTEST_HEADERS[source]), tiny_rows(source)
    at = next(i for i, text in enumerate(header) if MAPS[source].key_for(text) == key)
    header[at] = alias
    write_text(tmp_path / source / "a.csv", "\n".join(",".join(row) for row in [header, *rows]) + "\n")
    _, read_rows = read(tmp_path, source)
    assert [row[key] for row in read_rows] == [row[at] or None for row in rows]


def test_missing_required_column_lists_missing_and_found(tmp_path: Path) -> None:
    write_xlsx(
        tmp_path / "unemployment" / "a.xlsx", {"S": [["姓名", "公民身份号码", "性别"], ["甲", "1", "男"]]}
    )
    error = read_error(tmp_path)
    assert "失业登记日期 (registered_on)" in error.message
    assert "Headers found on row 1: 姓名, 公民身份号码, 性别" in error.message


def test_extra_columns_are_ignored_and_reported_and_missing_optional_are_null(tmp_path: Path) -> None:
    write_xlsx(
        tmp_path / "unemployment" / "a.xlsx",
        {
            "S": [
                ["*姓 名", "公民身份\n号码", "失业登记日期（必填）", "备注说明", "经办人"],
                ["甲", "1", "d", "x", "y"],
            ]
        },
    )
    [report], rows = read(tmp_path)
    assert report.unmapped_columns == ["备注说明", "经办人"]
    assert set(rows[0]) == {
        "source",
        "source_file",
        "source_sheet",
        "source_row",
        "source_record",
        *MAPS["unemployment"].keys,
        "_surplus",  # a CSV row's fields past the header's: none in a workbook
    }
    assert rows[0]["_surplus"] is None
    assert (rows[0]["name"], rows[0]["citizen_id"], rows[0]["registered_on"], rows[0]["sex"]) == (
        "甲",
        "1",
        "d",
        None,
    )


def test_of_two_columns_for_one_key_the_first_listed_is_read_and_the_other_reported(tmp_path: Path) -> None:
    """证件号码 may hold another document's number: 身份证号, listed before it, is the one read."""
    write_xlsx(
        tmp_path / "unemployment" / "a.xlsx",
        {"S": [["姓名", "证件号码", "身份证号", "登记日期"], ["甲", "P1234567", "11010519491231002X", "d"]]},
    )
    [report], rows = read(tmp_path)
    assert rows[0]["citizen_id"] == "11010519491231002X"
    assert report.unmapped_columns == ["证件号码 (also citizen_id: 身份证号 is read)"]


def test_two_columns_with_the_same_header_are_an_error(tmp_path: Path) -> None:
    write_xlsx(
        tmp_path / "unemployment" / "a.xlsx",
        {"S": [["姓名", "身份证号", "身份证号（必填）", "登记日期"], ["甲", "1", "2", "d"]]},
    )
    assert "身份证号, 身份证号（必填） all mean citizen_id" in read_error(tmp_path).message


def test_disability_needs_card_number_or_id(tmp_path: Path) -> None:
    write_xlsx(
        tmp_path / "disability" / "a.xlsx",
        {"S": [["姓名", "残疾人证号", "证件状态"], ["甲", "11010519491231002X11", "有效"]]},
    )
    _, rows = read(tmp_path, "disability")
    assert rows[0]["card_no"] == "11010519491231002X11" and rows[0]["citizen_id"] is None
    write_xlsx(
        tmp_path / "disability" / "a.xlsx", {"S": [["姓名", "残疾类别", "证件状态"], ["甲", "视力", "有效"]]}
    )
    assert "残疾人证号 (card_no) / 身份证号 (citizen_id)" in read_error(tmp_path, "disability").message


# --- csv -----------------------------------------------------------------------------------------

CSV_TEXT = (
    "姓名,公民身份号码,失业登记日期,民族\n"
    "张三,011010519491231002,2024-03-05,汉\n"
    "李四,11010519491231002x,20240306,回\n"
)


@pytest.mark.parametrize("codec", ["gb18030", "utf-8"])
def test_a_csv_hashed_tonight_is_not_hashed_again_while_unwritten(tmp_path: Path, codec: str) -> None:
    """The reader takes the digest the night's observation made of the file (by its identity, digests.py)
    rather than hashing the bytes again; a file written to since (the same bytes, another change time) is
    hashed as it is read."""
    path = write_text(tmp_path / "unemployment" / "a.csv", CSV_TEXT, codec)
    remember_sha256(FileStamp.of(path), "a digest taken earlier tonight")
    [report], _ = read(tmp_path)
    assert report.sha256 == "a digest taken earlier tonight"
    path.write_bytes(path.read_bytes())
    [report], _ = read(tmp_path)
    assert report.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("codec", ["gb18030", "utf-8-sig", "utf-8"])
def test_csv_encodings(tmp_path: Path, codec: str) -> None:
    path = write_text(tmp_path / "unemployment" / "a.csv", CSV_TEXT, codec)
    [report], rows = read(tmp_path)
    assert report.encoding == codec and report.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert report.size_bytes == path.stat().st_size and report.header_row == {"": 1}
    assert [(r["name"], r["citizen_id"], r["source_record"]) for r in rows] == [
        ("张三", "011010519491231002", "unemployment/a.csv:2"),  # leading zero kept: text, never a number
        ("李四", "11010519491231002x", "unemployment/a.csv:3"),
    ]
    assert rows[0]["source_sheet"] is None and rows[1]["ethnicity"] == "回"


def test_csv_blank_lines_title_rows_footer_and_row_numbers(tmp_path: Path) -> None:
    text = (
        "西城区登记失业人员花名册\n\n"  # title and a blank line: lines 1-2
        "序号,姓名,公民身份号码,失业登记日期\r\n"  # header: line 3
        "1,赵六,0110X,2024-01-01\n"  # 4
        "\n"  # 5 blank
        "\r\n"  # 6 blank (CRLF)
        "2,钱七,00220,20240102\n"  # 7
        ",,,\n"  # 8 blank (delimiters only)
        " , ,,\n"  # 9 blank (spaces only)
        "4,孙八,x,\n"  # 10
        "合计,,,\n"  # 11 footer
        ",合计：3人,,\n"  # 12 footer: the label in the name column is no name
        "制表人：某某\n"  # 13 footer with a single field
        "\n\n"  # 14-15 trailing blank lines
    )
    write_text(tmp_path / "unemployment" / "a.csv", text, "gb18030")
    [report], rows = read(tmp_path)
    assert [(r["source_row"], r["name"]) for r in rows] == [(4, "赵六"), (7, "钱七"), (10, "孙八")]
    assert (report.header_row, report.rows_read, report.rows_skipped_footer) == ({"": 3}, 3, 3)
    assert report.rows_skipped_blank == 6  # lines 5, 6, 8, 9, 14, 15


# Footer rows as other systems write them (SPEC section 2): the label in any column, a count under the ID
# column. Header: 序号, 姓名, 公民身份号码, 性别, 失业登记日期.
FOOTER_FORMS = {
    "合计, a count under the ID": ["合计", None, "5人"],
    "总计": [None, "总计：2人"],
    "小计": ["小计", None, None, None, "2"],
    "共N人": [None, None, "共2人"],
    "共N条": [None, "共 2 条"],
    "共N户": ["共２户"],
    "制表人": ["制表人：王五", None, "审核人：赵六"],
    "审核人": [None, None, None, "审核人：赵六"],
    "制表日期": [None, "制表日期：2024年3月31日"],
    "填报单位": ["填报单位：东城区人社局（盖章）"],
    "a lone count under the ID": [None, None, "2人"],
}


@pytest.mark.parametrize("form", FOOTER_FORMS)
@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_every_footer_form_is_a_footer_never_a_record(tmp_path: Path, form: str, fmt: str) -> None:
    """The footer row is skipped and counted as a footer, in the last rows or between groups; the records
    around it — 共明, whose name starts like a count — are read, and nothing of the footer is quarantined."""
    footer = FOOTER_FORMS[form]
    rows = [
        ["东城区登记失业人员花名册"],
        UNEMPLOYMENT_HEADER,
        [1, "张三", citizen_id("110105", dt.date(1990, 1, 1), 12), "女", "2024-03-05"],
        footer,  # between groups, as a 小计 is
        [2, "共明", citizen_id("110105", dt.date(1991, 2, 3), 11), "男", "2024-03-06"],
        footer + [None] * (len(UNEMPLOYMENT_HEADER) - len(footer)),
        [],
    ]
    if fmt == "xlsx":
        write_xlsx(tmp_path / "unemployment" / "a.xlsx", {"S": rows})
    else:
        lines = [",".join("" if cell is None else str(cell) for cell in row) for row in rows]
        write_text(tmp_path / "unemployment" / "a.csv", "\n".join(lines) + "\n", "gb18030")
    con = duckdb.connect()
    [report] = read_source(
        con, tmp_path, "unemployment", MAPS["unemployment"], "raw_unemployment", limits=LIMITS
    )
    assert (report.rows_read, report.rows_skipped_footer) == (2, 2)
    stage_source(con, "unemployment", as_of=dt.date(2026, 6, 30), max_cell_chars=32767)
    assert con.sql("SELECT name FROM staged_unemployment ORDER BY source_row").fetchall() == [
        ("张三",),
        ("共明",),
    ]
    assert con.sql("SELECT rule FROM quarantine_unemployment").fetchall() == []


def test_a_name_with_a_placeholder_is_kept_and_flagged_for_the_department(tmp_path: Path) -> None:
    """Every placeholder form (SPEC section 2) flags its row `name_placeholder`, kept and counted, the value
    as written — a system's private-use code point shown as [U+…], visible in any font; a 〇 in an address
    is no name."""
    names = ["王?伟", "王？伟", "李□", "张〇明", "赵*", "杨力\ue007", "钱\U000f0001六", "孙\ufffd七", "周八"]
    lines = ["姓名,公民身份号码,失业登记日期,居住地址"] + [
        f"{name},{citizen_id('110105', dt.date(1990, 1, 1), 11 + 2 * i)},2025-01-01,二〇一号"
        for i, name in enumerate(names)
    ]
    write_text(tmp_path / "unemployment" / "a.csv", "\n".join(lines) + "\n", "gb18030")
    con = duckdb.connect()
    read_source(con, tmp_path, "unemployment", MAPS["unemployment"], "raw_unemployment", limits=LIMITS)
    result = stage_source(con, "unemployment", as_of=dt.date(2026, 6, 30), max_cell_chars=32767)
    flagged = con.sql(
        "SELECT value, action FROM quarantine_unemployment WHERE rule = 'name_placeholder' ORDER BY source_row"
    ).fetchall()
    shown = [*names[:5], "杨力[U+E007]", "钱[U+F0001]六", "孙\ufffd七"]
    assert flagged == [(value, "kept") for value in shown]
    assert (result.rows_staged, result.rows_blocking) == (len(names), len(names) - 1)  # counted, not a notice


@pytest.mark.parametrize("codec", ["utf-8", "gb18030"])
def test_big_csv_rows_keep_their_own_line_numbers(tmp_path: Path, codec: str) -> None:
    """Hundreds of thousands of rows (where DuckDB's parallel reader reorders) and blank lines among them."""
    lines = ["姓名,公民身份号码,失业登记日期,居住地址"]
    for i in range(1, 400_001):
        lines.append(f"人{i},{i},2024-01-01,北京市西城区西长安街街道新村社区{i % 90}号楼3单元{i % 700}室")
        if i % 100_000 == 0:
            lines.append("")
    write_text(tmp_path / "unemployment" / "big.csv", "\n".join(lines) + "\n", codec)
    con = duckdb.connect()
    read_source(con, tmp_path, "unemployment", MAPS["unemployment"], "raw", limits=LIMITS)
    # line of row i: 1 header + i + the blank lines before it
    wrong = con.sql(
        "SELECT count(*) FROM raw WHERE source_row <> 1 + citizen_id::INTEGER + (citizen_id::INTEGER - 1) // 100000"
    ).fetchall()[0][0]
    assert wrong == 0
    assert con.sql("SELECT count(*) FROM raw").fetchall()[0][0] == 400_000


def test_csv_with_a_stray_control_character_is_text_not_binary(tmp_path: Path) -> None:
    write_text(tmp_path / "unemployment" / "a.csv", CSV_TEXT.replace("汉", "汉\x0b"))  # a vertical tab
    _, rows = read(tmp_path)
    assert rows[0]["ethnicity"] == "汉\x0b"


def test_csv_tab_delimited(tmp_path: Path) -> None:
    write_text(tmp_path / "unemployment" / "a.csv", CSV_TEXT.replace(",", "\t"))
    _, rows = read(tmp_path)
    assert rows[1]["registered_on"] == "20240306"


def test_csv_quoted_fields(tmp_path: Path) -> None:
    write_text(
        tmp_path / "unemployment" / "a.csv",
        '姓名,公民身份号码,失业登记日期,居住地址\n"张,三",1,d,"某路""1""号"\n',
    )
    _, rows = read(tmp_path)
    assert (rows[0]["name"], rows[0]["address"]) == ("张,三", '某路"1"号')


def test_utf16_is_a_clear_encoding_error(tmp_path: Path) -> None:
    write_text(tmp_path / "unemployment" / "a.csv", CSV_TEXT, "utf-16")
    error = read_error(tmp_path)
    assert error.file == "unemployment/a.csv" and "not in a supported encoding" in error.message
    assert "UTF-8 or GB18030" in error.message


def test_big5_read_as_gb18030_yields_no_header_and_says_encoding(tmp_path: Path) -> None:
    write_text(tmp_path / "unemployment" / "a.csv", "姓名,公民身份號碼,失業登記日期\n陳三,1,2024\n", "big5")
    error = read_error(tmp_path)
    assert "no header row" in error.message and "another encoding" in error.message


def test_csv_invalid_utf8_after_valid_head_names_the_line_not_the_content(tmp_path: Path) -> None:
    padding = "王五,110105194912310021,2024-01-01,汉\n" * 30_000  # past the head that detection reads
    path = write_text(tmp_path / "unemployment" / "a.csv", CSV_TEXT + padding)
    path.write_bytes(path.read_bytes() + "赵六,1,".encode() + "二〇二四".encode("gb18030") + b"\n")
    error = read_error(tmp_path)
    assert "not valid UTF-8 near line 30004" in error.message and "赵六" not in str(error)


def test_csv_that_is_an_xlsx(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "unemployment" / "a.xlsx", {"S": [UNEMPLOYMENT_HEADER]})
    path.rename(path.with_suffix(".csv"))
    assert "Rename it to .xlsx" in read_error(tmp_path).message


def test_empty_csv_is_reported_with_no_rows(tmp_path: Path) -> None:
    write_text(tmp_path / "unemployment" / "a.csv", "\n\n")
    write_text(tmp_path / "unemployment" / "b.csv", CSV_TEXT)
    reports, rows = read(tmp_path)
    assert [(r.file, r.rows_read) for r in reports] == [("unemployment/a.csv", 0), ("unemployment/b.csv", 2)]
    assert len(rows) == 2


# --- folders -------------------------------------------------------------------------------------


def test_several_files_one_table_and_ignored_files_reported(tmp_path: Path) -> None:
    folder = tmp_path / "unemployment"
    write_text(folder / "b.csv", CSV_TEXT, "gb18030")
    write_xlsx(folder / "a.xlsx", {"S": [UNEMPLOYMENT_HEADER, [1, "甲", "1", "男", "2024-01-01"]]})
    write_text(folder / "c.txt", CSV_TEXT.replace(",", "\t"))  # a text export: read as CSV
    (folder / "~$a.xlsx").write_bytes(b"lock")
    (folder / ".DS_Store").write_bytes(b"x")
    (folder / "readme.txt").write_text("本目录存放登记失业人员名册。\n")  # notes, no table
    (folder / "说明.pdf").write_bytes(b"%PDF-1.4 x")
    (folder / ".svn").mkdir()
    write_text(folder / ".svn" / "old.csv", CSV_TEXT)
    reports, rows = read(tmp_path)
    assert [(r.file, r.status) for r in reports] == [
        ("unemployment/.DS_Store", "ignored"),
        ("unemployment/.svn/", "ignored"),
        ("unemployment/a.xlsx", "read"),
        ("unemployment/b.csv", "read"),
        ("unemployment/c.txt", "read"),
        ("unemployment/readme.txt", "ignored"),
        ("unemployment/~$a.xlsx", "ignored"),
        ("unemployment/说明.pdf", "ignored"),
    ]
    reasons = {r.file.split("/", 1)[1]: r.reason for r in reports}
    assert "Office lock file" in reasons["~$a.xlsx"] and reasons[".DS_Store"] == "hidden file"
    assert "hidden folder" in reasons[".svn/"] and "notes" in reasons["readme.txt"]
    assert "not an extract (a PDF document)" in reasons["说明.pdf"]
    lock = next(r for r in reports if r.file.endswith("~$a.xlsx"))
    assert (lock.sha256, lock.size_bytes) == (hashlib.sha256(b"lock").hexdigest(), 4)  # what was there
    assert [r["source_record"] for r in rows] == [
        "unemployment/a.xlsx#S:2",
        "unemployment/b.csv:2",
        "unemployment/b.csv:3",
        "unemployment/c.txt:2",
        "unemployment/c.txt:3",
    ]


def test_subfolders_are_read_and_stay_in_the_path(tmp_path: Path) -> None:
    folder = tmp_path / "unemployment"
    write_text(folder / "2026年10月" / "海淀区.csv", CSV_TEXT)
    write_xlsx(
        folder / "2026年11月" / "东城" / "a.xlsx", {"S": [UNEMPLOYMENT_HEADER, [1, "甲", "1", "男", "d"]]}
    )
    write_text(folder / "z.csv", CSV_TEXT)
    (folder / "empty").mkdir()
    reports, rows = read(tmp_path)
    assert [(r.file, r.status) for r in reports] == [
        ("unemployment/2026年10月/海淀区.csv", "read"),
        ("unemployment/2026年11月/东城/a.xlsx", "read"),
        ("unemployment/z.csv", "read"),
    ]  # a folder is no file: the empty one is not reported
    assert [(r["source_record"], r["source_file"]) for r in rows][:3] == [
        ("unemployment/2026年10月/海淀区.csv:2", "unemployment/2026年10月/海淀区.csv"),
        ("unemployment/2026年10月/海淀区.csv:3", "unemployment/2026年10月/海淀区.csv"),
        ("unemployment/2026年11月/东城/a.xlsx#S:2", "unemployment/2026年11月/东城/a.xlsx"),
    ]


def test_a_link_out_of_the_input_root_is_refused(tmp_path: Path) -> None:
    outside = write_text(tmp_path / "elsewhere" / "a.csv", CSV_TEXT)
    root = tmp_path / "input"
    write_text(root / "unemployment" / "ok.csv", CSV_TEXT)
    os.symlink(outside, root / "unemployment" / "linked.csv")
    error = read_error(root)
    assert error.file == "unemployment/linked.csv" and "outside the input directory" in error.message
    assert "copy the file itself" in error.message
    (root / "unemployment" / "linked.csv").unlink()
    os.symlink(outside.parent, root / "unemployment" / "linked_folder")  # a folder link: the same
    assert read_error(root).file == "unemployment/linked_folder/"
    (root / "unemployment" / "linked_folder").unlink()
    os.symlink(root / "missing.csv", root / "unemployment" / "dangling.csv")
    assert "does not exist" in read_error(root).message
    shutil.move(root / "unemployment", outside.parent / "unemployment")
    os.symlink(outside.parent / "unemployment", root / "unemployment")  # the source folder itself
    error = read_error(root)
    assert error.file == "unemployment/" and "outside the input directory" in error.message


def test_a_link_inside_the_root_is_read_once_and_never_loops(tmp_path: Path) -> None:
    root = tmp_path / "input"
    folder = root / "unemployment"
    shared = write_text(root / "shared" / "a.csv", CSV_TEXT)
    write_text(folder / "b.csv", CSV_TEXT)
    os.symlink(shared, folder / "0_link.csv")  # the only path to that file: read
    os.symlink(folder / "b.csv", folder / "a_link_to_b.csv")  # sorted first, yet b.csv is the one read
    os.symlink(folder, folder / "loop")  # the folder itself
    reports, rows = read(root)
    assert [(r.file, r.status) for r in reports] == [
        ("unemployment/0_link.csv", "read"),
        ("unemployment/a_link_to_b.csv", "ignored"),
        ("unemployment/b.csv", "read"),
        ("unemployment/loop/", "ignored"),
    ]
    assert "the same file as unemployment/b.csv" in reports[1].reason and "loop" in reports[3].reason
    assert len(rows) == 4  # two files of two rows each, none read twice


def test_csv_with_a_3_mb_cell_is_read_in_full_with_the_rows_after_it(tmp_path: Path) -> None:
    """DuckDB's default line limit (2 MB) failed the whole night; the value is kept whole for staging."""
    long = "地" * 1_000_000  # 3 MB in UTF-8
    text = CSV_TEXT + f"王五,110105194912310021,2024-01-01,{long}\n" + "赵六,2,2024-01-02,汉\n" * 3
    for codec, name in (("utf-8", "a.csv"), ("gb18030", "b.csv")):
        write_text(tmp_path / "unemployment" / name, text, codec)
    reports, rows = read(tmp_path)
    assert [r.rows_read for r in reports] == [6, 6]
    for file in ("unemployment/a.csv", "unemployment/b.csv"):
        mine = [r for r in rows if r["source_file"] == file]
        assert [r["source_row"] for r in mine] == [2, 3, 4, 5, 6, 7]
        assert mine[2]["ethnicity"] == long and mine[3]["name"] == "赵六"


def test_csv_is_read_within_a_small_memory_limit(tmp_path: Path) -> None:
    """DuckDB 1.4 gives each reader a buffer of 16 × max_line_size unless told: 1 GiB a reader, so under a
    512 MB memory_limit not even a three-line file could be read (and a 200,000-person world's contributions
    failed under 3 GB, four readers at once)."""
    for name in ("a.csv", "b.csv"):
        write_text(tmp_path / "unemployment" / name, CSV_TEXT)
    con = duckdb.connect(config={"memory_limit": "512MB", "threads": 2})
    reports = read_source(con, tmp_path, "unemployment", MAPS["unemployment"], "raw", limits=LIMITS)
    assert [r.rows_read for r in reports] == [2, 2]


def test_csv_with_a_long_cell_among_the_first_rows_is_read(tmp_path: Path) -> None:
    """A 300 kB cell inside the head where the header is looked for: Python's csv module refuses fields past
    128 kB by default, which raised a raw error instead of reading the file."""
    long = "x" * 300_000
    write_text(tmp_path / "unemployment" / "a.csv", CSV_TEXT + f"王五,110105194912310021,2024-01-01,{long}\n")
    reports, rows = read(tmp_path)
    assert reports[0].rows_read == 3 and rows[-1]["ethnicity"] == long


def test_a_file_name_that_is_not_utf8_is_refused_by_a_printable_name(tmp_path: Path) -> None:
    write_text(tmp_path / "unemployment" / "ok.csv", CSV_TEXT)
    with open(os.path.join(bytes(tmp_path / "unemployment"), "海淀".encode("gbk") + b".csv"), "wb") as handle:
        handle.write(CSV_TEXT.encode())
    error = read_error(tmp_path)
    assert "not valid UTF-8" in error.message and error.file.endswith(".csv")
    error.file.encode("utf-8")  # printable: the manifest, the terminal and DuckDB can hold it


def test_empty_and_missing_folder(tmp_path: Path) -> None:
    assert "folder is missing" in read_error(tmp_path).message
    (tmp_path / "unemployment").mkdir()
    (tmp_path / "unemployment" / "~$lock.xlsx").write_bytes(b"")
    (tmp_path / "unemployment" / "2026年11月").mkdir()
    error = read_error(tmp_path)
    assert "holds no .xlsx, .xls, .csv or .txt file" in error.message
    assert [(r.file, r.status) for r in error.reports] == [("unemployment/~$lock.xlsx", "ignored")]


# --- pieces --------------------------------------------------------------------------------------


@pytest.mark.parametrize("codec", ["utf-8", "gb18030"])
def test_streaming_passes_in_tiny_chunks(tmp_path: Path, monkeypatch, codec: str) -> None:
    """Empty lines and multi-byte characters split across chunk borders; parts end outside quotes, hold
    the file as UTF-8 and know their lines."""
    text = '姓名,号\n\n张三,"1\n2"\r\n\r\n\n李四,2\n\n王五'
    source = write_text(tmp_path / "a.csv", text, codec)
    parts: list[encoding.CsvPart] = []
    for chunk in (1, 2, 3, 5, 1 << 24):
        monkeypatch.setattr(encoding, "CHUNK_BYTES", chunk)
        monkeypatch.setattr(encoding, "PART_BYTES", chunk)
        parts.clear()
        directory = tmp_path / str(chunk)
        directory.mkdir()
        scan = encoding.split_into_parts(source, codec, directory, parts.append)
        assert b"".join(part.path.read_bytes() for part in parts).decode("utf-8") == text
        lines = text.split("\n")
        for part in parts:  # every part holds the lines it says, outside quotes
            content = part.path.read_bytes().decode()
            assert content == "\n".join(lines[part.first_line - 1 : part.first_line - 1 + part.lines]) + (
                "\n" if part.first_line - 1 + part.lines < len(lines) else ""
            )
            assert content.count('"') % 2 == 0
        assert sum(part.lines for part in parts) == 9
        assert (scan.lines, scan.size_bytes) == (9, source.stat().st_size)
        assert (
            scan.sha256
            == hashlib.sha256(source.read_bytes()).hexdigest()
            == encoding.scan_file(source).sha256
        )


def test_gb18030_pieces_decoded_by_processes_keep_order_lines_and_the_failing_line(
    tmp_path: Path, monkeypatch
) -> None:
    """A large GB18030 file is decoded by a pool of processes, several pieces of whole lines at once: the
    parts hold the file in order and know their lines, and bytes that are not GB18030 are named by the
    line they are on, whichever piece they fall in."""
    monkeypatch.setattr(encoding, "CHUNK_BYTES", 64)
    monkeypatch.setattr(encoding, "PART_BYTES", 256)
    text = "".join(f'{i},姓名{i},"地址\n{i}号"\n' + ("\n" if i % 5 == 0 else "") for i in range(200))
    source = write_text(tmp_path / "a.csv", text, "gb18030")
    parts: list[encoding.CsvPart] = []
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        (tmp_path / "a").mkdir()
        scan = encoding.split_into_parts(source, "gb18030", tmp_path / "a", parts.append, pool)
        assert len(parts) > 4
        assert b"".join(part.path.read_bytes() for part in parts).decode("utf-8") == text
        assert [part.first_line for part in parts[1:]] == [
            first.first_line + first.lines for first in parts[:-1]
        ]
        assert (
            scan.lines == text.count("\n") and scan.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
        )
        broken = tmp_path / "b.csv"
        broken.write_bytes(source.read_bytes() + b"\xff\xff\n")
        (tmp_path / "b").mkdir()
        with pytest.raises(encoding.DecodeFailure) as failure:
            encoding.split_into_parts(broken, "gb18030", tmp_path / "b", lambda part: None, pool)
    assert failure.value.line == text.count("\n") + 1


def test_every_mix_of_empty_lines_gets_a_space(tmp_path: Path) -> None:
    """LF and CRLF empty lines in runs, at the start of a part too: each line ends up non-empty."""
    part = encoding.CsvPart(tmp_path / "part.csv", 1, 5)
    for lines in itertools.product(["a", "", "\r", "b\r"], repeat=5):
        part.path.write_bytes(("\n".join(lines) + "\n").encode())
        encoding.make_empty_lines_visible(part)
        marked = part.path.read_bytes().decode().split("\n")[:-1]
        assert [line.strip() for line in marked] == [line.strip() for line in lines]
        assert all(line.strip("\r") for line in marked)


@pytest.mark.parametrize("chunk", [16, 64, 1000])
def test_gb18030_in_several_parts_keeps_row_numbers(tmp_path: Path, monkeypatch, chunk: int) -> None:
    monkeypatch.setattr(encoding, "CHUNK_BYTES", chunk)
    monkeypatch.setattr(encoding, "PART_BYTES", chunk)  # 16: the header line is in the second part
    monkeypatch.setattr(csv_reader, "CHUNK_BYTES", chunk)  # a file of many pieces: decoded by processes
    text = "花名册\n序号,姓名,公民身份号码,登记日期\n" + "".join(
        f"{i},姓名{i},{i:018d},2024-01-01\n" + ("\n" if i % 7 == 0 else "") for i in range(40)
    )
    write_text(tmp_path / "unemployment" / "a.csv", text, "gb18030")
    [report], table = read(tmp_path)
    lines = text.split("\n")
    assert report.rows_read == 40 and report.rows_skipped_blank == 6
    assert all(lines[r["source_row"] - 1].startswith(f"{r['citizen_id'].lstrip('0') or '0'},") for r in table)


def test_header_normalization_and_alias_conflicts(tmp_path: Path) -> None:
    assert normalize_header("＊性 别\n") == normalize_header("※性　别") == "性别"
    assert MAPS["unemployment"].key_for("出生日期（必填）") == "birth_date"
    assert MAPS["unemployment"].key_for("登记 日期") == "registered_on"
    bad = tmp_path / "maps.yaml"
    bad.write_text("x:\n  required: [a]\n  columns:\n    a: [姓名]\n    b: [姓 名]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="under both a and b"):
        load_column_maps(bad)


def test_csv_quoted_line_break_is_read(tmp_path: Path) -> None:
    """A quoted line break is part of its field (DuckDB's parallel reader would refuse it with short rows)."""
    write_text(
        tmp_path / "unemployment" / "a.csv",
        '姓名,公民身份号码,失业登记日期,居住地址\n甲,1,d,"某路\n1号"\n乙,2\n',
    )
    _, rows = read(tmp_path)
    assert [(r["name"], r["address"]) for r in rows] == [("甲", "某路\n1号"), ("乙", None)]


@pytest.mark.parametrize("part_bytes", [1 << 26, 64])
def test_rows_after_quoted_line_breaks_keep_their_own_line_numbers(
    tmp_path: Path, monkeypatch, part_bytes: int
) -> None:
    """Multi-line quoted fields (CRLF, an empty line inside one) and empty lines, in one part or many."""
    monkeypatch.setattr(encoding, "CHUNK_BYTES", min(part_bytes, 1 << 24))
    monkeypatch.setattr(encoding, "PART_BYTES", part_bytes)
    text = (
        "姓名,公民身份号码,失业登记日期\r\n"  # 1
        '"张\r\n三",1,2024-01-01\r\n'  # 2-3
        "李四,2,2024-01-02\r\n"  # 4
        "\r\n"  # 5
        '王五,"3\n\n4",2024-01-03\n'  # 6-8
        "赵六,5,2024-01-04\n"  # 9
    )
    write_text(tmp_path / "unemployment" / "a.csv", text)
    [report], rows = read(tmp_path)
    assert [(r["source_row"], r["citizen_id"]) for r in rows] == [
        (2, "1"),
        (4, "2"),
        (6, "3\n \n4"),
        (9, "5"),
    ]
    assert (report.rows_read, report.rows_skipped_blank) == (4, 1)


def test_a_quote_never_closed_is_refused_with_its_line_and_a_stray_one_is_read(tmp_path: Path) -> None:
    """DuckDB would read every row after an unclosed quote into one field: no row may vanish that way."""
    header = "姓名,公民身份号码,失业登记日期\n"
    write_text(tmp_path / "unemployment" / "a.csv", header + '张三,1,d\n李四,"2,d\n王五,3,d\n')
    error = read_error(tmp_path)
    assert "quoted field on line 3 is never closed" in error.message and "李四" not in error.message
    write_text(tmp_path / "unemployment" / "a.csv", header + '张"三,1,d\n李四,2,d\n')
    _, rows = read(tmp_path)
    assert [(r["source_row"], r["name"]) for r in rows] == [(2, '张"三'), (3, "李四")]


def test_gb18030_part_that_cannot_be_read_stops_the_transcoding(tmp_path: Path, monkeypatch) -> None:
    """A part DuckDB refuses (a 3 MB line) ends the read with a steward's error while later parts are
    still being transcoded: the transcoder is stopped, not left waiting for a reader that is gone."""
    monkeypatch.setattr(encoding, "CHUNK_BYTES", 4096)
    monkeypatch.setattr(encoding, "PART_BYTES", 4096)
    monkeypatch.setattr(csv_reader, "MAX_LINE_BYTES", 1 << 20)  # the 3 MB line is past it
    rows = [f"姓名{i},{i:018d},2024-01-01\n" for i in range(2000)]
    rows[10] = f"超长,{10:018d},{'地' * 1_500_000}\n"
    write_text(tmp_path / "unemployment" / "a.csv", "姓名,公民身份号码,登记日期\n" + "".join(rows), "gb18030")
    with pytest.raises(SourceReadError) as raised:
        read_source(duckdb.connect(), tmp_path, "unemployment", MAPS["unemployment"], "raw", limits=LIMITS)
    assert raised.value.file == "unemployment/a.csv" and "地地" not in str(raised.value)
    assert "is longer than 1 MB" in raised.value.message  # DuckDB 1.4 may not say which line


def test_parts_go_to_memory_only_when_it_has_room(tmp_path: Path, monkeypatch) -> None:
    """A container's /dev/shm is often 64 MB: too small for the parts in flight, the temp dir is used."""
    monkeypatch.setattr(csv_reader, "PART_BYTES", 1)
    assert csv_reader._scratch_dir(str(tmp_path), readers=2) == str(tmp_path)
    monkeypatch.setattr(csv_reader, "PART_BYTES", shutil.disk_usage(tmp_path).free)
    assert csv_reader._scratch_dir(str(tmp_path), readers=2) is None
    monkeypatch.setattr(csv_reader, "PART_BYTES", 1)
    assert csv_reader._scratch_dir(str(tmp_path / "missing"), readers=2) is None
    assert csv_reader._scratch_dir(None, readers=2) is None, "memory_dir: null never uses a RAM folder"


def test_the_machine_lends_its_cores_unless_configured() -> None:
    """Two constants said "two cores"; the CPUs this process may use say it now, or the configuration."""
    assert MachineSettings().workers == len(os.sched_getaffinity(0))
    assert MachineSettings(cores=3).workers == 3
    with pytest.raises(ValueError, match="at least 1"):
        MachineSettings(cores=0)
    with pytest.raises(ValueError, match="absolute"):
        MachineSettings(memory_dir="shm")


@pytest.mark.parametrize("part_bytes", [1 << 26, 64])
def test_a_row_with_more_fields_than_the_header_is_flagged_with_its_line(
    tmp_path: Path, monkeypatch, part_bytes: int
) -> None:
    """An unquoted comma in an address shifts the values after it: the row is read, its first field too many
    kept, and staging flags it (`surplus_fields`) with its line; a trailing comma is no extra field."""
    monkeypatch.setattr(encoding, "CHUNK_BYTES", min(part_bytes, 1 << 24))
    monkeypatch.setattr(encoding, "PART_BYTES", part_bytes)
    write_text(
        tmp_path / "unemployment" / "a.csv",
        "姓名,公民身份号码,居住地址,失业登记日期\n"
        "甲,11010519491231002X,某路1号,2024-01-01\n"  # 2
        "乙,110101199003070038,某区,某路2号,2024-01-02\x07\n"  # 3: the address's comma (and a BEL)
        "丙,110101199003071991,某路3号,2024-01-03,\n",  # 4: a trailing comma
    )
    con = duckdb.connect()
    read_source(con, tmp_path, "unemployment", MAPS["unemployment"], "raw_unemployment", limits=LIMITS)
    rows = con.sql(
        "SELECT source_row, address, _surplus FROM raw_unemployment ORDER BY source_row"
    ).fetchall()
    assert rows == [(2, "某路1号", None), (3, "某区", "2024-01-02\x07"), (4, "某路3号", None)]
    stage_source(con, "unemployment", as_of=dt.date(2026, 6, 30), max_cell_chars=32767)
    flagged = con.sql(
        "SELECT source_record, value, action FROM quarantine_unemployment WHERE rule = 'surplus_fields'"
    ).fetchall()
    # the value shown is made safe like every cell's: no control character reaches a steward's workbook
    assert flagged == [("unemployment/a.csv:3", "2024-01-02", "kept")]
    assert con.sql("SELECT count(*) FROM staged_unemployment").fetchall() == [(3,)]
