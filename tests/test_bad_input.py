"""Bad input through `aidmatch run`: a clear message, no traceback, the right exit code, nothing published.

Each case starts from a tiny hand-made world (five UTF-8 CSVs with the SPEC reference headers) and
damages one thing. Failing runs must leave the previous good output (a real one, copied from a
session run) byte for byte untouched; a night a blocking check stopped writes only its departments'
feedback, to a folder of its own beside it. The inputs that are messy but usable (title rows, extra
columns, IDs stored as numbers, a wrong check digit, damaged names) share one run and must succeed.
"""

import datetime as dt
import shutil
import stat
from pathlib import Path

import duckdb
import openpyxl
import pytest
from conftest import (
    HEADERS,
    PEOPLE,
    SOURCES,
    TINY_AS_OF,
    Person,
    citizen_id,
    read_csv,
    read_manifest,
    run_aidmatch,
    tiny_rows,
    tree_digest,
    write_csv_file,
    write_tiny_world,
    wrong_check,
)

from aidmatch.sources.tables import DEPARTMENTS

AS_OF = TINY_AS_OF.isoformat()


@pytest.fixture
def case(tmp_path, dagster_home, tiny_good_output):
    """A fresh tiny world in `tmp_path/input`, and OUTPUT holding a previous good run of it."""
    output = tmp_path / "output"
    shutil.copytree(tiny_good_output, output)
    return Case(write_tiny_world(tmp_path / "input"), output, tmp_path / "work")


class Case:
    def __init__(self, input_dir: Path, output: Path, work: Path) -> None:
        self.input = input_dir
        self.output = output
        self.work = work
        self.before = tree_digest(output / AS_OF)

    def run(self, *extra: str, input_dir: Path | None = None) -> int:
        return run_aidmatch(input_dir or self.input, self.output, self.work, AS_OF, *extra)

    def assert_nothing_published(self, stopped: bool = False) -> None:
        """The previous output untouched; beside it nothing but, when a blocking check `stopped` the night,
        that night's feedback folder (SPEC section 6)."""
        assert tree_digest(self.output / AS_OF) == self.before, "the previous good output changed"
        expected = [AS_OF, f"{AS_OF}.feedback"] if stopped else [AS_OF]
        assert sorted(p.name for p in self.output.iterdir()) == expected, "a staging folder was left behind"


def _failed(capsys, code: int, expected_code: int) -> str:
    captured = capsys.readouterr()
    assert code == expected_code, f"exit code {code}, expected {expected_code}; stderr:\n{captured.err}"
    assert "Traceback" not in captured.out + captured.err
    assert captured.err.strip(), "a failure says why on stderr"
    return captured.err


# --- failures -----------------------------------------------------------------------------------


def test_missing_input_folder(case, capsys):
    missing = case.input.parent / "no_such_folder"
    err = _failed(capsys, case.run(input_dir=missing), 2)
    assert str(missing) in err
    case.assert_nothing_published()


def test_missing_source_folder(case, capsys):
    shutil.rmtree(case.input / "dibao")
    err = _failed(capsys, case.run(), 1)
    assert "dibao/" in err
    assert "missing" in err
    case.assert_nothing_published(stopped=True)


def test_empty_source_folder(case, capsys):
    (case.input / "disability" / "东城区.csv").unlink()
    err = _failed(capsys, case.run(), 1)
    assert "disability/" in err
    case.assert_nothing_published(stopped=True)


def test_unreadable_xlsx(case, capsys):
    (case.input / "unemployment" / "坏表.xlsx").write_bytes(b"PK\x03\x04" + b"\x00garbage\xff" * 64)
    err = _failed(capsys, case.run(), 1)
    assert "unemployment/坏表.xlsx" in err
    case.assert_nothing_published(stopped=True)


def test_utf16_csv(case, capsys):
    path = case.input / "si_persons" / "东城区.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("utf-16"))
    err = _failed(capsys, case.run(), 1)
    assert "si_persons/东城区.csv" in err
    assert "encoding" in err.lower() or "编码" in err
    case.assert_nothing_published(stopped=True)


def test_missing_required_column(case, capsys):
    header = HEADERS["unemployment"]
    drop = header.index("失业登记日期")
    rows = [row[:drop] + row[drop + 1 :] for row in tiny_rows("unemployment")]
    write_csv_file(case.input / "unemployment" / "东城区.csv", header[:drop] + header[drop + 1 :], rows)
    err = _failed(capsys, case.run(), 1)
    assert "失业登记日期" in err, "the message names the missing column"
    assert "unemployment/东城区.csv" in err, "the message names the file"
    case.assert_nothing_published(stopped=True)


def test_every_file_of_a_folder_is_read_or_refused_by_name_in_one_night(case, capsys):
    """Five 社保 files, three of them lacking a required column: all three named with what to do (the
    header that most resembles the missing column, when one does), the two good ones read, the night
    blocked — not one refusal a night."""
    header, rows = HEADERS["si_persons"], tiny_rows("si_persons")
    folder = case.input / "si_persons"
    (folder / "东城区.csv").unlink()

    def renamed(old: str, new: str | None) -> tuple[list[str], list[list[str]]]:
        """The header with `old` renamed to `new`, or dropped with its cells (None)."""
        at = header.index(old)
        if new is None:
            return header[:at] + header[at + 1 :], [row[:at] + row[at + 1 :] for row in rows]
        return header[:at] + [new] + header[at + 1 :], rows

    files = {
        "东城区.csv": (header, rows[:10]),
        "西城区.csv": renamed("姓名", "人员名字"),
        "朝阳区.csv": renamed("个人状态", "参保人员状态"),
        "海淀区.csv": renamed("社会保障号码", None),
        "丰台区.csv": (header, rows[10:]),
    }
    for name, (columns, data) in files.items():
        write_csv_file(folder / name, columns, data)
    err = _failed(capsys, case.run(), 1)
    for name, reason in (
        ("西城区.csv", "人员名字 looks like 人员姓名: add it under si_persons › name"),
        ("朝阳区.csv", "参保人员状态 looks like 人员状态: add it under si_persons › person_status"),
        ("海淀区.csv", "required column(s) missing: 社会保障号码 (citizen_id)"),
    ):
        line = next(line for line in err.splitlines() if f"si_persons/{name}:" in line)
        assert reason in line, line
    assert "3 entries refused" in err and "The other 2 files read 40 rows" in err
    assert "looks like" not in next(line for line in err.splitlines() if "海淀区.csv" in line)
    case.assert_nothing_published(stopped=True)
    # the steward's feedback, written on the night it is refused, names every refused file
    feedback = openpyxl.load_workbook(case.output / f"{AS_OF}.feedback" / "feedback_social_insurance.xlsx")
    said = " ".join(
        str(c) for sheet in feedback for row in sheet.iter_rows(values_only=True) for c in row if c
    )
    assert all(name in said for name in ("西城区.csv", "朝阳区.csv", "海淀区.csv")), said[:500]

    con = duckdb.connect(str(case.work / AS_OF / "aidmatch.duckdb"), read_only=True)
    files_logged = con.sql(
        "SELECT file, status, rows_read, unmapped_columns FROM ingest_files WHERE source = 'si_persons' ORDER BY file"
    ).fetchall()
    assert files_logged == [
        ("si_persons/东城区.csv", "read", 10, []),
        ("si_persons/丰台区.csv", "read", 30, []),
        ("si_persons/朝阳区.csv", "refused", 0, ["参保人员状态"]),
        ("si_persons/海淀区.csv", "refused", 0, []),
        ("si_persons/西城区.csv", "refused", 0, ["人员名字"]),
    ]
    tables = {name for (name,) in con.sql("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert "staged_unemployment" in tables and not {"raw_si_persons", "staged_si_persons"} & tables
    con.close()


def test_all_invalid_ids_block_the_run(case, capsys):
    rows = tiny_rows("unemployment")
    for row in rows:
        row[1] = row[1][:16]  # every ID too short
    write_csv_file(case.input / "unemployment" / "东城区.csv", HEADERS["unemployment"], rows)
    err = _failed(capsys, case.run(), 1)
    assert "unemployment" in err
    assert "row_rules" in err or "quarantine" in err.lower()
    case.assert_nothing_published(stopped=True)


def test_a_stopped_night_writes_the_departments_feedback_beside_the_lists_until_published(case, capsys):
    """A refused file stops the night: every department's feedback workbook and CSV go to a folder of
    their own (owner-only), the refused file in its department's summary, the terminal saying where; the
    night published once the file is fixed removes the folder, its own feedback being current."""
    bad = case.input / "unemployment" / "坏表.xlsx"
    bad.write_bytes(b"PK\x03\x04" + b"\x00garbage\xff" * 64)
    err = _failed(capsys, case.run(), 1)
    folder = case.output / f"{AS_OF}.feedback"
    assert f"feedback sheets (数据质量反馈表) of this night are in {folder}/" in err
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(f"feedback_{d.name}.{kind}" for d in DEPARTMENTS for kind in ("csv", "xlsx"))
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()} == {0o600}
    summary = openpyxl.load_workbook(folder / "feedback_unemployment.xlsx")["汇总"]
    assert "本次运行因本部门数据停止" in summary["A2"].value and "坏表.xlsx" in summary["A2"].value
    rows = {
        row[2]: row[8] for row in summary.iter_rows(min_row=4, values_only=True) if isinstance(row[0], int)
    }
    assert rows["坏表.xlsx"].startswith("拒收，整批数据本次未使用：")
    # the sources read that night are summarized as on a published night
    dibao = openpyxl.load_workbook(folder / "feedback_dibao.xlsx")["汇总"]
    assert [row[2:4] for row in dibao.iter_rows(min_row=3, max_row=3, values_only=True)] == [
        ("东城区.csv", len(tiny_rows("dibao")))
    ]
    case.assert_nothing_published(stopped=True)

    bad.unlink()
    assert case.run() == 0
    assert sorted(p.name for p in case.output.iterdir()) == [AS_OF], "the published night removed it"


def test_bad_config_value(case, capsys, tmp_path):
    config = tmp_path / "aidmatch.yaml"
    config.write_text("validation:\n  max_quarantine_rate: lots\n", encoding="utf-8")
    err = _failed(capsys, case.run("--config", str(config)), 2)
    assert "max_quarantine_rate" in err
    case.assert_nothing_published()


def test_unknown_config_key(case, capsys, tmp_path):
    config = tmp_path / "aidmatch.yaml"
    config.write_text("linking:\n  accept_treshold: 12\n", encoding="utf-8")
    err = _failed(capsys, case.run("--config", str(config)), 2)
    assert "accept_treshold" in err
    case.assert_nothing_published()


def test_as_of_after_today_is_a_command_line_error(case, capsys):
    """A date the nightly partitions do not hold yet is refused with a message, not a traceback."""
    future = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    code = run_aidmatch(case.input, case.output, case.work, future)
    err = _failed(capsys, code, 2)
    assert future in err or "--as-of" in err
    case.assert_nothing_published()


# --- messy but usable input: one run, several checks ----------------------------------------------

EXTRA = [
    Person(citizen_id("110102", dt.date(1985 + i, i + 1, 10 + i), 201 + 2 * i + (i % 2)), name, sex, dt.date(1985 + i, i + 1, 10 + i))
    for i, (name, sex) in enumerate(
        [("钱进", "男"), ("孔丽", "女"), ("曹明", "男"), ("严芳", "女"), ("华强", "男"), ("金燕", "女"),
         ("魏东", "男"), ("陶红", "女"), ("姜涛", "男")]
    )
]  # fmt: skip
# Two persons whose IDs share the 15 digits an Excel number keeps, with the same name and sex.
TWIN_A = Person(citizen_id("110102", dt.date(1990, 5, 5), 121), "戚伟", "男", dt.date(1990, 5, 5))
TWIN_B = Person(citizen_id("110102", dt.date(1990, 5, 5), 123), "戚伟", "男", dt.date(1990, 5, 5))
# Names with every defect of SPEC section 2: (person, name as typed, normalized name, alias).
NAMED = [
    Person(citizen_id("110105", dt.date(1980, 3, 1), 11), "王丽", "男", dt.date(1980, 3, 1)),
    Person(citizen_id("110105", dt.date(1981, 3, 2), 22), "李己", "女", dt.date(1981, 3, 2)),
    Person(citizen_id("110105", dt.date(1982, 3, 3), 33), "陈静华", "男", dt.date(1982, 3, 3)),
    Person(citizen_id("110105", dt.date(1983, 3, 4), 44), "张三", "女", dt.date(1983, 3, 4)),
    Person(citizen_id("110105", dt.date(1984, 3, 5), 55), "阿依·古丽", "男", dt.date(1984, 3, 5)),
    Person(citizen_id("110105", dt.date(1985, 3, 6), 66), "赵文东", "女", dt.date(1985, 3, 6)),
    Person(citizen_id("110105", dt.date(1986, 3, 7), 77), "孙国庆", "男", dt.date(1986, 3, 7)),
]
ALI = NAMED[4]
NAME_CASES = [  # (person, as typed, expected normalized name, expected alias or None)
    (NAMED[0], " 王 丽 ", "王丽", None),  # spaces
    (NAMED[6], "孙国\u3000庆", "孙国庆", None),  # full-width (ideographic) space
    (NAMED[3], "张三（曾用名张珊）", "张三", "张珊"),  # note in brackets
    (NAMED[5], "趙文東", "赵文东", None),  # traditional characters
    (NAMED[0], "王莉", "王莉", None),  # homophone typo
    (NAMED[1], "李已", "李已", None),  # similar-shape typo
    (NAMED[2], "陈华", "陈华", None),  # dropped character
    *[(ALI, f"阿依{dot}古丽", "阿依·古丽", None) for dot in ("·", "•", "‧", "・", "．", ".")],  # middle dots
]
MESSY_FILES = {
    "title_xlsx": "unemployment/标题.xlsx",
    "title_csv": "unemployment/标题.csv",
    "extra_columns": "dibao/额外列.csv",
    "numbers": "si_persons/数字.xlsx",
    "names": "unemployment/姓名.csv",
}


def _unemployment_row(p: Person, name: str | None = None, citizen: str | None = None) -> list[str]:
    return [name or p.name, citizen or p.id, p.sex, p.birth.isoformat(), "汉族", "城镇", "13900000000",
            "北京市西城区某街3号", "西长安街街道", "府右街社区", "2026-01-20", "否", "", ""]  # fmt: skip


def _write_xlsx(path: Path, sheet: str, rows: list[list[object]]) -> None:
    workbook = openpyxl.Workbook()
    workbook.active.title = sheet
    for row in rows:
        workbook.active.append(row)
    workbook.save(path)


def _excel_number(citizen: str) -> float:
    """The double Excel keeps of an 18-digit ID typed into a number cell: 15 significant digits."""
    return float(citizen[:15] + "000")


def write_messy_world(root: Path) -> Path:
    write_tiny_world(root)
    # si_persons knows everyone the other files mention (so fuzzy links have a person to go to).
    si = tiny_rows("si_persons") + [
        [p.id, p.name, p.sex, p.birth.isoformat(), "参保缴费", "", "", "西城区"]
        for p in [*EXTRA, TWIN_A, TWIN_B, *NAMED]
    ]
    write_csv_file(root / "si_persons" / "东城区.csv", HEADERS["si_persons"], si)
    # Header on row 3 under two title rows, in an xlsx ...
    _write_xlsx(
        root / MESSY_FILES["title_xlsx"],
        "花名册",
        [["西城区登记失业人员花名册"], ["单位：西城区人力资源和社会保障局", None, None, "2026年6月"],
         HEADERS["unemployment"], *[_unemployment_row(p) for p in EXTRA[0:3]]],
    )  # fmt: skip
    # ... and in a CSV; its middle row has a wrong check digit.
    rows = [
        _unemployment_row(EXTRA[3]),
        _unemployment_row(EXTRA[4], citizen=wrong_check(EXTRA[4].id)),
        _unemployment_row(EXTRA[5]),
    ]
    path = root / MESSY_FILES["title_csv"]
    write_csv_file(path, HEADERS["unemployment"], rows)
    path.write_text(
        "西城区登记失业人员花名册,,,\n制表单位：西城区人社局,,,\n" + path.read_text("utf-8"), "utf-8"
    )
    # Extra columns the map does not know: kept out, the run goes on.
    head = EXTRA[6]
    write_csv_file(
        root / MESSY_FILES["extra_columns"],
        ["序号", *HEADERS["dibao"], "备注", "核对人员"],
        [[str(i + 1), "11010200000009", "城市低保", head.name, head.id, p.name, p.id, "本人" if p is head else "配偶",
          p.sex, p.birth.isoformat(), "有劳动能力", "失业", "在保", "2024-01-01", "", "900", "西城区", "西长安街街道",
          "已入户核查", "刘某"] for i, p in enumerate(EXTRA[6:8])],
    )  # fmt: skip
    # IDs stored as numbers by Excel: one unique by prefix + name + sex, one shared by two persons.
    _write_xlsx(
        root / MESSY_FILES["numbers"],
        "Sheet1",
        [HEADERS["si_persons"]]
        + [[_excel_number(p.id), p.name, p.sex, p.birth.isoformat(), "参保缴费", None, None, "西城区"]
           for p in (EXTRA[8], TWIN_A)],
    )  # fmt: skip
    write_csv_file(
        root / MESSY_FILES["names"],
        HEADERS["unemployment"],
        [_unemployment_row(p, name=typed) for p, typed, _, _ in NAME_CASES],
    )
    return root


class MessyRun:
    def __init__(self, base: Path) -> None:
        self.input = write_messy_world(base / "input")
        self.output = base / "output"
        self.work = base / "work"
        self.home = base / "dagster_home"


@pytest.fixture(scope="module")
def messy(tmp_path_factory) -> MessyRun:
    run = MessyRun(tmp_path_factory.mktemp("messy"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAGSTER_HOME", str(run.home))
        run.code = run_aidmatch(run.input, run.output, run.work, AS_OF)
    run.folder = run.output / AS_OF
    return run


@pytest.fixture
def published(messy) -> Path:
    assert messy.code == 0, (
        "title rows, extra columns, numeric IDs, bad check digits and names are no reason to fail"
    )
    return messy.folder


def _links(folder: Path) -> dict[str, dict[str, str]]:
    return {row["source_record"]: row for row in read_csv(folder / "person_links.csv")[1]}


def _quarantine(folder: Path) -> list[dict[str, str]]:
    return read_csv(folder / "quarantine.csv")[1]


def test_messy_run_keeps_every_row(published):
    manifest = read_manifest(published)
    for source in SOURCES:
        section = manifest["inputs"][source]
        assert section["rows_read"] == section["rows_staged"] + section["rows_rejected"]
        assert section["rows_rejected"] == 0, f"{source}: no row of the messy world is beyond use"
    files = {f["file"]: f for source in SOURCES for f in manifest["inputs"][source]["files"]}
    assert files[MESSY_FILES["title_xlsx"]]["rows_read"] == 3
    assert files[MESSY_FILES["title_csv"]]["rows_read"] == 3
    assert files[MESSY_FILES["extra_columns"]]["rows_read"] == 2
    assert files[MESSY_FILES["numbers"]]["rows_read"] == 2
    assert files[MESSY_FILES["names"]]["rows_read"] == len(NAME_CASES)


def test_header_on_row_three_counts_the_title_rows(published):
    links = _links(published)
    for row, person in zip((4, 5, 6), EXTRA[0:3], strict=True):
        link = links[f"{MESSY_FILES['title_xlsx']}#花名册:{row}"]
        assert link["person_id"] == person.id and link["method"] == "exact_id", link
    assert links[f"{MESSY_FILES['title_csv']}:4"]["person_id"] == EXTRA[3].id
    assert links[f"{MESSY_FILES['title_csv']}:6"]["person_id"] == EXTRA[5].id
    records = {r for r in links if r.startswith("unemployment/标题")}
    assert len(records) == 6, sorted(records)


def test_wrong_check_digit_is_kept_and_flagged(published):
    record = f"{MESSY_FILES['title_csv']}:5"
    flagged = [r for r in _quarantine(published) if r["source_record"] == record]
    assert any("check" in r["rule"] for r in flagged), flagged
    assert all(r["action"] == "kept" for r in flagged), flagged
    link = _links(published)[record]  # staged: it has a person_links row
    assert link["method"] != "exact_id"
    assert link["person_id"] == EXTRA[4].id, "name, birth date and sex agree with one person one edit away"


def test_extra_columns_are_ignored(published):
    links = _links(published)
    household = [links[f"{MESSY_FILES['extra_columns']}:{row}"] for row in (2, 3)]
    assert [link["person_id"] for link in household] == [EXTRA[6].id, EXTRA[7].id]
    text = "".join(p.read_text(encoding="utf-8") for p in published.glob("*.csv"))
    assert "已入户核查" not in text and "核对人员" not in text


def test_ids_stored_as_numbers_are_quarantined_never_repaired(published):
    quarantine = _quarantine(published)
    links = _links(published)
    known = {p.id for p in (*PEOPLE, *EXTRA, TWIN_A, TWIN_B, *NAMED)}
    for row, person in ((2, EXTRA[8]), (3, TWIN_A)):
        record = f"{MESSY_FILES['numbers']}#Sheet1:{row}"
        flagged = [r for r in quarantine if r["source_record"] == record]
        assert flagged, f"{record}: not in quarantine"
        assert any("excel" in r["rule"] for r in flagged), flagged
        assert any("无法恢复" in r["message"] or "unrecoverable" in r["message"].lower() for r in flagged)
        assert all(r["action"] == "kept" for r in flagged)
        link = links[record]
        assert link["method"] != "exact_id"
        assert link["person_id"] in ("", person.id), f"{record}: linked to {link['person_id']}"
        assert not link["person_id"] or link["person_id"] in known
        assert link["person_id"] != person.id[:15] + "000"
    twin = links[f"{MESSY_FILES['numbers']}#Sheet1:3"]
    assert twin["person_id"] == "", "two persons share that prefix, name and sex: no link"
    assert twin["method"].startswith("unlinked:")


def test_names_with_every_defect_are_staged(published, messy):
    links = _links(published)
    for row, (person, typed, _, _) in enumerate(NAME_CASES, start=2):
        link = links.get(f"{MESSY_FILES['names']}:{row}")
        assert link is not None, f"row {row} ({typed!r}) was dropped"
        assert link["person_id"] == person.id, f"row {row} ({typed!r}): {link}"
    con = duckdb.connect(str(messy.work / AS_OF / "aidmatch.duckdb"), read_only=True)
    try:
        staged = dict(
            (row, (name, alias))
            for row, name, alias in con.sql(
                "SELECT source_row, name, name_alias FROM staged_unemployment WHERE source_file = ?",
                params=[MESSY_FILES["names"]],
            ).fetchall()
        )
    finally:
        con.close()
    for row, (_, typed, name, alias) in enumerate(NAME_CASES, start=2):
        assert staged[row] == (name, alias), f"row {row}: {typed!r} normalized to {staged[row]}"
