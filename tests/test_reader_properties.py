"""Property-based tests of the readers and staging together: whatever a department's file holds — random
widths, random text (quotes, separators, line breaks, control characters, CJK), cells up to 100,000
characters — reading never raises anything but a `SourceReadError`, every data row is accounted for
(read, or skipped as blank or footer), and rows read = rows staged + rows rejected.

Each test is bounded (`max_examples`, no deadline) so the suite stays fast; files are real CSV (UTF-8 and
GB18030, written by Python's csv module) and real xlsx (openpyxl).
"""

import csv
import datetime as dt
import io
import os
import tempfile
from pathlib import Path

import duckdb
import openpyxl
from hypothesis import given, settings
from hypothesis import strategies as st

from aidmatch.checks.stage_source import source_counts, stage_source
from aidmatch.settings import IntakeSettings
from aidmatch.sources.column_maps import load_column_maps
from aidmatch.sources.readers import SourceReadError, read_source

AS_OF = dt.date(2026, 6, 30)
MAPS = load_column_maps()
SOURCE = "unemployment"
HEADER = ["姓名", "公民身份号码", "性别", "出生日期", "失业登记日期", "居住地址"]
LIMITS = IntakeSettings(max_cell_chars=5_000)  # below the huge cells, so cutting is exercised too
BOUNDED = settings(
    max_examples=int(os.environ.get("AIDMATCH_PROPERTY_EXAMPLES", 40)), deadline=None, database=None
)

_ALPHABET = st.one_of(
    st.characters(codec="utf-8", exclude_categories=("Cs",)),
    st.sampled_from("0123456789Xx王李张丽（）·•,;\t\"'\r\n \u3000合计制表"),
    st.characters(min_codepoint=0x01, max_codepoint=0x1F),
)
_CELL = st.one_of(
    st.none(),
    st.text(_ALPHABET, max_size=30),
    st.builds(
        lambda part, times: part * times, st.text(_ALPHABET, min_size=1, max_size=4), st.integers(1, 25_000)
    ),
)
# Rows of any width: shorter than the header (missing cells), as wide, or wider (extra cells).
ROWS = st.lists(st.lists(_CELL, min_size=0, max_size=len(HEADER) + 2), min_size=0, max_size=12)


def _read_and_stage(root: Path, expected_rows: int) -> None:
    """Read and stage `root/unemployment/`; a refusal is a SourceReadError, anything else must add up."""
    con = duckdb.connect()
    try:
        reports = read_source(con, root, SOURCE, MAPS[SOURCE], f"raw_{SOURCE}", limits=LIMITS)
    except SourceReadError as error:
        assert error.message and error.file.startswith(SOURCE)
        return
    (report,) = [r for r in reports if r.status == "read"]
    assert report.rows_read + report.rows_skipped_blank + report.rows_skipped_footer == expected_rows
    result = stage_source(con, SOURCE, as_of=AS_OF, max_cell_chars=LIMITS.max_cell_chars)
    counts = source_counts(con, SOURCE)
    assert counts["rows_read"] == report.rows_read == result.rows_read
    assert counts["rows_read"] == counts["rows_staged"] + counts["rows_rejected"]
    longest = con.execute(
        f"SELECT max(greatest(length(name_raw), length(id_raw), length(address))) FROM staged_{SOURCE}"
    ).fetchall()[0][0]
    assert longest is None or longest <= LIMITS.max_cell_chars


def _csv_text(rows: list[list[str | None]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows([["" if cell is None else cell for cell in row] for row in rows])
    return buffer.getvalue()


@BOUNDED
@given(rows=ROWS, codec=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
def test_any_csv_is_read_and_staged_or_refused_and_every_row_adds_up(rows, codec):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / SOURCE).mkdir()
        (root / SOURCE / "东城区.csv").write_bytes(_csv_text(rows).encode(codec))
        _read_and_stage(root, len(rows))


# openpyxl refuses the characters a workbook cannot hold (XML 1.0: the control characters, U+FFFE and U+FFFF):
# they come from the other readers.
_XLSX_CELL = _CELL.map(
    lambda text: (
        text
        if text is None
        else "".join(c for c in text if (c >= " " or c in "\t\n\r") and c not in "\ufffe\uffff")
    )
)


@BOUNDED
@given(rows=st.lists(st.lists(_XLSX_CELL, max_size=len(HEADER) + 2), max_size=12))
def test_any_xlsx_is_read_and_staged_or_refused_and_every_row_adds_up(rows):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / SOURCE).mkdir()
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        for r, row in enumerate([HEADER, *rows], start=1):
            for c, value in enumerate(row, start=1):
                if value not in (None, ""):
                    sheet.cell(r, c, value).data_type = "s"  # text, even "=1+2": a department's value
        workbook.save(root / SOURCE / "东城区.xlsx")
        # Trailing rows with no cell at all do not exist in the sheet: they cannot be counted as blank.
        filled = [i + 1 for i, row in enumerate(rows) if any(cell not in (None, "") for cell in row)]
        written = max(filled, default=0)
        _read_and_stage(root, written)


# --- a folder of several files, some refused ----------------------------------------------------------

# A file of the folder: its header (the reference one, or one lacking a required column) and its data rows.
_FILE = st.tuples(
    st.sampled_from(["good", "no 姓名", "no 失业登记日期", "人员名字 for 姓名"]),
    st.lists(st.tuples(st.sampled_from("王李张刘陈"), st.integers(0, 99)), min_size=0, max_size=5),
)
_HEADERS = {
    "good": HEADER,
    "no 姓名": [h for h in HEADER if h != "姓名"],
    "no 失业登记日期": [h for h in HEADER if h != "失业登记日期"],
    "人员名字 for 姓名": ["人员名字", *HEADER[1:]],
}


@BOUNDED
@given(files=st.lists(_FILE, min_size=1, max_size=6), codec=st.sampled_from(["utf-8", "gb18030"]))
def test_every_file_of_a_folder_is_read_or_refused_whatever_the_others_do(files, codec):
    """Each file is read (its rows counted) or refused by name with what is missing, whichever files come
    before or after it; the folder is refused — no table left — when any file is, naming every one."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / SOURCE).mkdir()
        for i, (kind, people) in enumerate(files):
            header = _HEADERS[kind]
            values = [
                {"姓名": f"{surname}{n}", "人员名字": f"{surname}{n}", "公民身份号码": "110101199001011234",
                 "性别": "男", "出生日期": "1990-01-01", "失业登记日期": "2025-01-01", "居住地址": "某路"}
                for surname, n in people
            ]  # fmt: skip
            rows = [[row[h] for h in header] for row in values]
            buffer = io.StringIO()
            csv.writer(buffer).writerows([header, *rows])
            (root / SOURCE / f"{i:02d}.csv").write_bytes(buffer.getvalue().encode(codec))
        refused = {f"{SOURCE}/{i:02d}.csv" for i, (kind, _) in enumerate(files) if kind != "good"}
        con = duckdb.connect()
        try:
            reports = read_source(con, root, SOURCE, MAPS[SOURCE], "raw", limits=LIMITS)
        except SourceReadError as error:
            assert refused and {r.file for r in error.reports if r.status == "refused"} == refused
            assert all(file in str(error) for file in refused)
            assert all(
                "required column(s) missing" in r.reason for r in error.reports if r.status == "refused"
            )
            read = {r.file: r.rows_read for r in error.reports if r.status == "read"}
            assert not con.sql("SELECT * FROM duckdb_tables() WHERE table_name = 'raw'").fetchall()
        else:
            assert not refused
            read = {r.file: r.rows_read for r in reports}
            assert con.sql("SELECT count(*) FROM raw").fetchall()[0][0] == sum(read.values())
        assert read == {
            f"{SOURCE}/{i:02d}.csv": len(people) for i, (kind, people) in enumerate(files) if kind == "good"
        }


# --- footers ------------------------------------------------------------------------------------------

_FOOTER_TEXT = st.sampled_from(
    ["合计", "总计：{n}人", "小计", "共{n}人", "共 {n} 条", "共{n}户", "制表人：王五", "审核人：赵六", "制表日期：2024年3月31日",
     "填报单位：东城区人社局", "{n}人"]
)  # fmt: skip
# A footer row: its label in any column, maybe a count under the ID column (2) as other systems write it.
_FOOTER_ROW = st.tuples(_FOOTER_TEXT, st.integers(0, len(HEADER) - 1), st.booleans())


@BOUNDED
@given(
    people=st.integers(1, 8),
    footers=st.lists(_FOOTER_ROW, min_size=1, max_size=5),
    between=st.booleans(),
    codec=st.sampled_from(["utf-8", "gb18030"]),
)
def test_footer_rows_in_any_column_are_never_records(people, footers, between, codec):
    """Totals, counts and who made the table, written in the last rows (or between groups, as a 小计 is),
    the label in any column and a count under the ID column: never a record, never quarantined."""
    data = [
        [f"张{i}", f"11010119900101{100 + 2 * i:03d}", "男", "1990-01-01", "2025-01-01", "某路"]
        for i in range(people)
    ]
    rows = []
    for text, column, count in footers:
        row = [""] * len(HEADER)
        row[column] = text.format(n=people)
        if count and column < 1:  # the label first, the count under the ID column
            row[1] = f"{people}人"
        rows.append(row)
    body = data[:1] + rows + data[1:] if between else data + rows
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / SOURCE).mkdir()
        buffer = io.StringIO()
        csv.writer(buffer).writerows([HEADER, *body])
        (root / SOURCE / "a.csv").write_bytes(buffer.getvalue().encode(codec))
        con = duckdb.connect()
        [report] = read_source(con, root, SOURCE, MAPS[SOURCE], f"raw_{SOURCE}", limits=LIMITS)
        assert (report.rows_read, report.rows_skipped_footer) == (people, len(footers))
        stage_source(con, SOURCE, as_of=AS_OF, max_cell_chars=LIMITS.max_cell_chars)
        names = {name for (name,) in con.sql(f"SELECT name FROM staged_{SOURCE}").fetchall()}
        assert names == {f"张{i}" for i in range(people)}
