"""Readers: real xlsx (openpyxl) and CSV files (real encodings) written in tmp_path, read into DuckDB."""

import datetime as dt
import hashlib
import itertools
import shutil
from pathlib import Path

import duckdb
import openpyxl
import pytest

from sources import csv_reader, encoding
from sources.column_maps import load_column_maps, normalize_header
from sources.readers import FileReport, SourceReadError, read_source

MAPS = load_column_maps()
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


def read(root: Path, source: str = "unemployment") -> tuple[list[FileReport], list[dict]]:
    con = duckdb.connect()
    reports = read_source(con, root, source, MAPS[source], f"raw_{source}")
    rows = (
        con.sql(f"SELECT * FROM raw_{source} ORDER BY source_file, source_sheet, source_row").pl().to_dicts()
    )
    return reports, rows


def read_error(root: Path, source: str = "unemployment") -> SourceReadError:
    con = duckdb.connect()
    with pytest.raises(SourceReadError) as caught:
        read_source(con, root, source, MAPS[source], "raw")
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


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "old-format .xls"),
        ("姓名,身份证号\n".encode(), "rename it to .csv"),
    ],
)
def test_xlsx_that_is_not_an_xlsx(tmp_path: Path, content: bytes, expected: str) -> None:
    (tmp_path / "unemployment").mkdir()
    (tmp_path / "unemployment" / "a.xlsx").write_bytes(content)
    assert expected in read_error(tmp_path).message


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
    }
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
    read_source(con, tmp_path, "unemployment", MAPS["unemployment"], "raw")
    # line of row i: 1 header + i + the blank lines before it
    wrong = con.sql(
        "SELECT count(*) FROM raw WHERE source_row <> 1 + citizen_id::INTEGER + (citizen_id::INTEGER - 1) // 100000"
    ).fetchall()[0][0]
    assert wrong == 0
    assert con.sql("SELECT count(*) FROM raw").fetchall()[0][0] == 400_000


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
    (folder / "~$a.xlsx").write_bytes(b"lock")
    (folder / ".DS_Store").write_bytes(b"x")
    (folder / "readme.txt").write_text("notes")
    reports, rows = read(tmp_path)
    assert [(r.file, r.ignored is None) for r in reports] == [
        ("unemployment/.DS_Store", False),
        ("unemployment/a.xlsx", True),
        ("unemployment/b.csv", True),
        ("unemployment/readme.txt", False),
        ("unemployment/~$a.xlsx", False),
    ]
    assert [r["source_record"] for r in rows] == [
        "unemployment/a.xlsx#S:2",
        "unemployment/b.csv:2",
        "unemployment/b.csv:3",
    ]


def test_empty_and_missing_folder(tmp_path: Path) -> None:
    assert "folder is missing" in read_error(tmp_path).message
    (tmp_path / "unemployment").mkdir()
    (tmp_path / "unemployment" / "~$lock.xlsx").write_bytes(b"")
    assert "holds no .xlsx or .csv file" in read_error(tmp_path).message


def test_old_xls_is_an_error_not_silently_ignored(tmp_path: Path) -> None:
    write_text(tmp_path / "unemployment" / "a.xls", "x")
    assert "save it as .xlsx" in read_error(tmp_path).message


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
    rows = [f"姓名{i},{i:018d},2024-01-01\n" for i in range(2000)]
    rows[10] = f"超长,{10:018d},{'地' * 1_500_000}\n"
    write_text(tmp_path / "unemployment" / "a.csv", "姓名,公民身份号码,登记日期\n" + "".join(rows), "gb18030")
    with pytest.raises(SourceReadError) as raised:
        read_source(duckdb.connect(), tmp_path, "unemployment", MAPS["unemployment"], "raw")
    assert raised.value.file == "unemployment/a.csv" and "地地" not in str(raised.value)


def test_parts_go_to_memory_only_when_it_has_room(tmp_path: Path, monkeypatch) -> None:
    """A container's /dev/shm is often 64 MB: too small for the parts in flight, the temp dir is used."""
    monkeypatch.setattr(csv_reader, "_MEMORY_DIR", str(tmp_path))
    monkeypatch.setattr(csv_reader, "_SCRATCH_BYTES", 1)
    assert csv_reader._scratch_dir() == str(tmp_path)
    monkeypatch.setattr(csv_reader, "_SCRATCH_BYTES", shutil.disk_usage(tmp_path).free + 1)
    assert csv_reader._scratch_dir() is None
    monkeypatch.setattr(csv_reader, "_MEMORY_DIR", str(tmp_path / "missing"))
    assert csv_reader._scratch_dir() is None
