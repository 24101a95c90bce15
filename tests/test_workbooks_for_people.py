"""What people get from three nights of a tiny hand-made world: the departments' feedback sheets cell by
cell (a defect of every quarantine rule), changes.csv after a registration row is deleted from the second
night's extract, a quiet third night, the monthly progress table, each street's work list.

Real `aidmatch run`s in a temporary Dagster instance, real CSV extracts, real workbooks read back with
openpyxl. The expected cells come from the defects this module writes and the rules' own words
(`checks/row_rules.py`), which test_every_rule_speaks_chinese checks by themselves.
"""

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest
from conftest import (
    HEADERS,
    SOURCES,
    UNEMPLOYED,
    check_char,
    citizen_id,
    read_csv,
    read_manifest,
    run_aidmatch,
    tiny_rows,
    write_csv_file,
    wrong_check,
)
from dagster import AssetKey, DagsterInstance

from aidmatch.checks.row_rules import rules_for
from aidmatch.sources.column_maps import load_column_maps
from aidmatch.sources.tables import DEPARTMENTS

NIGHTS = (dt.date(2026, 6, 26), dt.date(2026, 6, 27), dt.date(2026, 6, 28))
MAX_CELL_CHARS = 60
MAX_QUARANTINE_RATE = 0.9
FEEDBACK_MAX_ROWS = 15  # the unemployment workbook shows 15 of its 20 problem rows, the others all theirs
CONFIG = f"""
intake:
  max_cell_chars: {MAX_CELL_CHARS}
validation:
  max_quarantine_rate: {MAX_QUARANTINE_RATE}
publish:
  progress_period_start_day: 27
  feedback_max_rows: {FEEDBACK_MAX_ROWS}
"""
BIRTH = dt.date(1981, 2, 3)
VALID = citizen_id("110101", BIRTH, 101)
BAD_DATE_ID = "11010119810230101" + check_char("11010119810230101")  # 30 February
LONG_ADDRESS = "北京市东城区东华门街道多福巷社区" + "很长的地址" * 10

# The tiny world's people whose story the nights tell (UNEMPLOYED[1] is past her retirement age).
LEAVES = UNEMPLOYED[1]  # her registration row is deleted from the second night's extract
RECOGNIZED = UNEMPLOYED[3]  # 就业困难人员 recognized on the second night's date
GOES_FLEXIBLE = UNEMPLOYED[4]  # 就业困难人员: 灵活就业 contributions from the second night on
GETS_HIRED = UNEMPLOYED[5]  # 就业困难人员: 单位职工 contributions from the second night on
EMPLOYED_ALL_ALONG = UNEMPLOYED[6:10]  # on the removal list every night, their rows below the deleted one


def _registration(name: str, citizen: str, **cells: str) -> list[str]:
    """A registration of the tiny world's shape (东华门街道, registered 2025-01-15), some cells changed."""
    row = dict(zip(HEADERS["unemployment"], tiny_rows("unemployment")[0], strict=True))
    row |= {"姓名": name, "公民身份号码": citizen, "性别": "男", "出生日期": BIRTH.isoformat(), **cells}
    return list(row.values())


def _id(sequence: int) -> str:
    return citizen_id("110101", BIRTH, sequence)


@dataclass
class Defect:
    """A defective row of an extract and what the feedback sheet must say of it (`value` as shown)."""

    source: str
    file: str
    row: list[str]  # the row itself: its number is where it ends up in the file
    rule: str
    value: str | None


def _months(as_of: dt.date) -> list[str]:
    return [f"{as_of.year}{as_of.month - back:02d}" for back in (3, 2, 1)]


def _contributions(people, kind: str, as_of: dt.date) -> list[list[str]]:
    return [
        [p.id, p.name, "U0002", "甲公司", kind, "企业职工基本养老保险", month, "5000", "已实缴"]
        for p in people
        for month in _months(as_of)
    ]


@dataclass
class Extracts:
    """One night's extracts: rows by (source, file), and the defects among them."""

    files: dict[tuple[str, str], list[list[str]]]
    defects: list[Defect]

    def line(self, defect: Defect) -> int:
        """The row's number as an editor shows it (the header is line 1)."""
        return (
            next(i for i, row in enumerate(self.files[(defect.source, defect.file)]) if row is defect.row) + 2
        )

    def write(self, root: Path) -> None:
        for (source, file), rows in self.files.items():
            write_csv_file(root / source / file, HEADERS[source], rows)


def extracts(night: int) -> Extracts:
    as_of = NIGHTS[night]
    files = {(source, "东城区.csv"): [list(row) for row in tiny_rows(source)] for source in SOURCES}
    registrations = files[("unemployment", "东城区.csv")]
    for person in (RECOGNIZED, GOES_FLEXIBLE, GETS_HIRED):
        row = next(r for r in registrations if r[1] == person.id)
        recognized = NIGHTS[1] if person is RECOGNIZED else dt.date(2025, 3, 1)
        row[11:14] = ["是", "长期失业", recognized.isoformat()]
    copied = registrations[9]
    defects = [
        Defect("unemployment", "东城区.csv", row, rule, value)
        for rule, row, value in [
            ("no_identity", _registration("", ""), None),
            ("id_missing", _registration("赵一", ""), None),
            ("id_excel_numeric", _registration("赵二", "1.10101198102031E+17"), "1.10101198102031E+17"),
            ("id_bad_checksum", _registration("赵三", wrong_check(VALID)), wrong_check(VALID)),
            ("id_bad_date", _registration("赵四", BAD_DATE_ID), BAD_DATE_ID),
            ("id_bad_length", _registration("赵五", VALID[:16]), VALID[:16]),
            ("id_bad_chars", _registration("赵六", VALID[:10] + "O" + VALID[11:]), VALID[:10] + "O" + VALID[11:]),
            ("id_legacy_15", _registration("赵七", "110101810203105"), "110101810203105"),
            ("id_unknown_region", _registration("赵八", citizen_id("990101", BIRTH, 107)), "990101"),
            ("id_birth_date_mismatch", _registration("赵九", _id(109), 出生日期="1981-02-04"), "1981-02-04"),
            ("id_sex_mismatch", _registration("钱一", _id(111), 性别="女"), "女"),
            ("bad_date:registered_on", _registration("钱二", _id(113), 失业登记日期="2024-13-45"), "2024-13-45"),
            ("unknown_value:hukou_type", _registration("钱三", _id(115), 户籍性质="火星户口"), "火星户口"),
            (
                "unknown_value:difficulty_categories",
                _registration("钱四", _id(117), 就业困难人员="是", 就业困难人员类别="外星人"),
                "外星人",
            ),
            ("duplicate_row", list(copied), None),  # its value names the copied row: set below
            ("cell_too_long:address", _registration("钱五", _id(119), 居住地址=LONG_ADDRESS), str(len(LONG_ADDRESS))),
            (
                "control_characters:address",
                _registration("钱六", _id(121), 居住地址="北京市东城区\x07某街1号"),
                "北京市东城区\\x07某街1号",
            ),
            ("formula_like:name", _registration("=1+2", _id(123)), "=1+2"),
            ("name_placeholder", _registration("钱？七", _id(125)), "钱？七"),
        ]
    ]  # fmt: skip
    registrations += [d.row for d in defects]
    # A second file whose every row is defective: past the quarantine limit on its own.
    bad_file = [_registration(name, wrong_check(_id(n))) for name, n in (("孙一", 131), ("孙二", 133))]
    files[("unemployment", "西城区.csv")] = bad_file
    defects += [Defect("unemployment", "西城区.csv", row, "id_bad_checksum", row[1]) for row in bad_file]

    def damage(source: str, index: int, header: str, value: str, rule: str) -> None:
        row = files[(source, "东城区.csv")][index]
        row[HEADERS[source].index(header)] = value
        defects.append(Defect(source, "东城区.csv", row, rule, value))

    damage("dibao", 1, "月保障金额", "一千二", "bad_number:monthly_amount")
    damage("dibao", 2, "保障起始日期", "2024-02-30", "bad_date:start_date")
    damage("disability", 0, "残疾等级", "五级", "unknown_value:disability_grade")
    damage("si_persons", 30, "死亡日期", "昨天", "bad_date:died_on")
    damage("si_contributions", 0, "费款所属期", "2026-13", "bad_month:period_month")
    damage("si_contributions", 1, "缴费基数", "六千", "bad_number:contribution_base")
    contributions = files[("si_contributions", "东城区.csv")]
    contributions += _contributions(EMPLOYED_ALL_ALONG, "单位职工", as_of)
    if night > 0:
        contributions += _contributions([GOES_FLEXIBLE], "灵活就业", as_of)
        contributions += _contributions([GETS_HIRED], "单位职工", as_of)
        registrations.remove(next(r for r in registrations if r[1] == LEAVES.id))  # deleted, not blanked
    result = Extracts(files, defects)
    duplicate = next(d for d in defects if d.rule == "duplicate_row")
    duplicate.value = f"登记失业 东城区.csv 第{registrations.index(copied) + 2}行"
    return result


@dataclass(frozen=True)
class Nights:
    base: Path
    extracts: list[Extracts]
    codes: list[int]

    def folder(self, night: int) -> Path:
        return self.base / "output" / NIGHTS[night].isoformat()


@pytest.fixture(scope="module")
def nights(tmp_path_factory) -> Nights:
    base = tmp_path_factory.mktemp("nights")
    (base / "aidmatch.yaml").write_text(CONFIG, encoding="utf-8")
    written, codes = [], []
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAGSTER_HOME", str(base / "dagster_home"))
        for night, as_of in enumerate(NIGHTS):
            night_extracts = extracts(min(night, 1))  # the third night reads the second night's extracts
            input_dir = base / f"input{night}"
            night_extracts.write(input_dir)
            written.append(night_extracts)
            codes.append(
                run_aidmatch(
                    input_dir, base / "output", base / "work", as_of, "--config", str(base / "aidmatch.yaml")
                )
            )
    return Nights(base, written, codes)


def _sheet_rows(sheet, first: int) -> list[list]:
    return [[cell.value for cell in row] for row in sheet.iter_rows(min_row=first)]


# --- the departments' feedback sheets ---------------------------------------------------------------


def test_every_rule_speaks_chinese():
    """Every rule a source can apply — every column's — has a Chinese field, name and fix."""
    for source, column_map in load_column_maps().items():
        columns = [f"{prefix}{key}" for key in column_map.keys for prefix in ("raw_", "_cut_")]
        for rule in rules_for(source, columns, MAX_CELL_CHARS):
            for text in (rule.field, rule.label, rule.fix):
                assert re.search(r"[\u4e00-\u9fff]", text) and not re.search(r"[a-z]{3,}_[a-z]", text), (
                    source,
                    rule.rule,
                    text,
                )


def _catalogue(source: str) -> dict[str, object]:
    columns = [f"{prefix}{key}" for key in load_column_maps()[source].keys for prefix in ("raw_", "_cut_")]
    return {rule.rule: rule for rule in rules_for(source, columns, MAX_CELL_CHARS)}


@pytest.mark.parametrize("department", DEPARTMENTS, ids=lambda d: d.name)
def test_feedback_sheet_rows_cell_by_cell(nights, department):
    """The 问题明细 sheet holds exactly the defects of the department's files, in file and row order:
    data, file, sheet, row, field, value, what is wrong, how to fix it, what this run did."""
    assert nights.codes[0] == 0
    labels = {"unemployment": "登记失业", "dibao": "低保", "disability": "残联", "si_persons": "社保参保",
              "si_contributions": "社保缴费"}  # fmt: skip
    written = nights.extracts[0]
    expected = []
    for defect in sorted(
        (d for d in written.defects if d.source in department.sources),
        key=lambda d: (department.sources.index(d.source), d.file, written.line(d)),
    ):
        rule = _catalogue(defect.source)[defect.rule]
        action = "已拒收" if rule.rejects else "已采用"
        expected.append(
            [labels[defect.source], defect.file, None, written.line(defect), rule.field, defect.value,
             rule.label, rule.fix, action]
        )  # fmt: skip
    workbook = openpyxl.load_workbook(nights.folder(0) / f"feedback_{department.name}.xlsx")
    assert workbook.sheetnames == ["汇总", "问题明细", "走访反馈"]
    details = workbook["问题明细"]
    header = ["序号", "数据", "文件", "工作表", "行号", "字段", "原值", "问题", "修改方法", "本次处理"]
    assert [c.value for c in details[3]] == header  # below the title and the count
    rows = _sheet_rows(details, 4)
    shown = expected[:FEEDBACK_MAX_ROWS]  # every file and problem has its first rows shown: here, file order
    assert [row[0] for row in rows] == list(range(1, len(shown) + 1))
    assert [row[1:] for row in rows] == shown
    assert all(isinstance(row[4], int) for row in rows), "row numbers are numbers"
    if len(expected) > FEEDBACK_MAX_ROWS:
        assert f"问题行共 {len(expected)} 条，本表列出其中 {len(shown)} 条" in details["A2"].value
    # the CSV beside it holds every row, in the same Chinese columns
    csv_header, csv_rows = read_csv(nights.folder(0) / f"feedback_{department.name}.csv")
    assert [h.lstrip("\ufeff") for h in csv_header] == header[1:]
    as_text = [["" if v is None else str(v) for v in row] for row in expected]
    assert [list(r.values()) for r in csv_rows] == as_text


def test_every_rule_is_in_some_feedback_sheet(nights):
    """The world holds a defect of every rule kind of README's list, and each reached its department."""
    kinds = set()
    for department in DEPARTMENTS:
        problems = {row["问题"] for row in read_csv(nights.folder(0) / f"feedback_{department.name}.csv")[1]}
        for source in department.sources:
            kinds |= {
                code.split(":")[0] for code, rule in _catalogue(source).items() if rule.label in problems
            }
    assert kinds == {
        "no_identity", "id_missing", "id_excel_numeric", "id_bad_checksum", "id_bad_date", "id_bad_length",
        "id_bad_chars", "id_legacy_15", "id_unknown_region", "id_birth_date_mismatch", "id_sex_mismatch",
        "bad_date", "bad_month", "bad_number", "unknown_value", "duplicate_row", "cell_too_long",
        "control_characters", "formula_like", "name_placeholder",
    }  # fmt: skip


def test_feedback_summary_per_file(nights):
    """Per file: rows read, rejected, to fix, the share, each problem with its rows, and a verdict."""
    written = nights.extracts[0]
    workbook = openpyxl.load_workbook(nights.folder(0) / "feedback_unemployment.xlsx")
    summary = workbook["汇总"]
    assert summary["A1"].value.startswith("数据质量反馈表　人社部门·登记失业人员　数据截至：2026-06-26")
    rows = [row for row in _sheet_rows(summary, 3) if isinstance(row[0], int)]
    by_file = {row[2]: row for row in rows}
    assert list(by_file) == ["东城区.csv", "西城区.csv"]
    first = [d for d in written.defects if d.file == "东城区.csv" and d.source == "unemployment"]
    read = len(written.files[("unemployment", "东城区.csv")])
    catalogue = _catalogue("unemployment")
    problems = sorted(catalogue[d.rule].label for d in first)
    assert by_file["东城区.csv"][1:7] == [
        "登记失业",
        "东城区.csv",
        read,
        1,
        len(first) - 1,
        pytest.approx(len(first) / read),
    ]
    assert sorted(by_file["东城区.csv"][7].split("\n")) == sorted(f"{p}：1 行" for p in problems)
    assert (
        by_file["东城区.csv"][8]
        == f"基本可用：1 行既无身份证号也无姓名，本次未使用；{len(first) - 1} 行需修正：请按问题明细修正后下次报送"
    )
    assert by_file["西城区.csv"][3:7] == [2, 0, 2, 1.0]
    assert by_file["西城区.csv"][8].startswith("不合格：问题行占 100.0%，超过 90% 的上限")
    assert summary.cell(3, 7).number_format == "0.0%"


# --- what changed, night over night ------------------------------------------------------------------


def _changes(folder: Path) -> list[dict[str, str]]:
    return read_csv(folder / "changes.csv")[1]


def test_a_deleted_row_is_one_real_change_not_a_shift(nights):
    """Night 2's extract lost one registration row: every row below it moved up. changes.csv reports that
    person leaving and the two people whose contributions began — not the registrations that moved — and
    the one who, recognized, went flexible: now owed the flexible subsidy (entered, with its period's end)."""
    assert nights.codes[1] == 0
    first, second = (read_csv(nights.folder(n) / "removals.csv")[1] for n in (0, 1))
    moved = {
        r["person_id"]: r["source_record"]
        for r in first
        if r["person_id"] in {p.id for p in EMPLOYED_ALL_ALONG}
    }
    now = {r["person_id"]: r["source_record"] for r in second if r["person_id"] in moved}
    assert moved and all(now[p] != moved[p] for p in moved), "their rows moved up in the second extract"
    changes = {
        (c["list"], c["change"], c["key"], c["detail"], c["previous_detail"])
        for c in _changes(nights.folder(1))
    }
    (flexible_until,) = [
        r["subsidy_until"]
        for r in read_csv(nights.folder(1) / "entitlements.csv")[1]
        if (r["person_id"], r["entitlement"]) == (GOES_FLEXIBLE.id, "SI_SUBSIDY_FLEXIBLE")
    ]
    assert changes == {
        ("removals", "left", f"{LEAVES.id}|unemployment", "", "RETIREMENT_AGE"),
        ("removals", "entered", f"{GOES_FLEXIBLE.id}|unemployment", "FLEXIBLY_EMPLOYED", ""),
        ("removals", "entered", f"{GETS_HIRED.id}|unemployment", "EMPLOYED", ""),
        ("entitlements", "entered", f"{GOES_FLEXIBLE.id}|SI_SUBSIDY_FLEXIBLE|", f"high {flexible_until}", ""),
    }


def _published_metadata(nights: Nights, night: int) -> dict:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAGSTER_HOME", str(nights.base / "dagster_home"))
        with DagsterInstance.get() as instance:
            event = instance.get_latest_materialization_event(AssetKey("published_outputs"))
            records = instance.fetch_materializations(AssetKey("published_outputs"), limit=10).records
    by_partition = {r.partition_key: r.asset_materialization.metadata for r in records}
    assert event is not None
    return {key: value.value for key, value in by_partition[NIGHTS[night].isoformat()].items()}


def test_entered_and_left_are_numbers_in_the_metadata_and_a_quiet_night_says_so(nights):
    assert nights.codes[2] == 0
    second = _published_metadata(nights, 1)
    assert (second["removals entered"], second["removals left"], second["removals changed"]) == (2, 1, 0)
    assert (second["proactive entered"], second["zero_employment_households left"]) == (0, 0)
    quiet = _published_metadata(nights, 2)
    assert _changes(nights.folder(2)) == []
    assert all(quiet[f"{name} {change}"] == 0 for name in ("proactive", "removals", "zero_employment_households")
               for change in ("entered", "left", "changed"))  # fmt: skip
    assert quiet["changes since previous run"] == (
        f"a quiet night: nobody entered, left or changed on any list since {NIGHTS[1]}"
    )


# --- the monthly progress table ----------------------------------------------------------------------


def test_progress_table_counts_the_period_and_leaves_the_rest_blank_with_a_note(nights):
    """Period from the 27th (configured): night 2 is compared with night 1, the last run before it."""
    sheet = openpyxl.load_workbook(nights.folder(1) / "progress.xlsx")["进度表"]
    assert sheet["A1"].value == "困难群体就业精准帮扶行动进度表（月）"
    assert "时间：2026-06-27 至 2026-06-27（与 2026-06-26 发布的名单比较）" in sheet["A2"].value
    assert [c.value for c in sheet[3]][1:3] == ["本期帮扶困难群体就业总人数", "帮扶成效"]
    # a column under 帮扶成效 has its header on row 4; the others one merged across rows 3 and 4
    headers = [below.value or above.value for above, below in zip(sheet[3], sheet[4], strict=True)]
    rows = {row[0]: row[1:] for row in _sheet_rows(sheet, 5) if row[0] in ("东城区", "合计")}
    assert list(rows) == ["东城区", "合计"]
    values = dict(zip(headers[1:], rows["合计"], strict=True))
    assert values["实现灵活就业人数"] == 1 and values["用人单位吸纳人数"] == 1
    assert values["帮扶就业困难人员就业人数"] == 2
    assert values["新认定就业困难人员人数"] == 1
    assert values["期末仍需帮扶就业困难人员人数"] == 2  # RECOGNIZED and 钱四 (是, an unknown category)
    # the entitlements are counted as of the night, in persons (one person, several employers: once)
    entitled = read_csv(nights.folder(1) / "entitlements.csv")[1]
    for header, code in (
        ("享受临时生活补贴人数", "TEMP_LIVING_ALLOWANCE"),
        ("应享社保补贴（灵活就业）人数", "SI_SUBSIDY_FLEXIBLE"),
        ("应享社保补贴（单位吸纳）人数", "SI_SUBSIDY_EMPLOYER"),
    ):
        assert values[header] == len({r["person_id"] for r in entitled if r["entitlement"] == code}), header
    assert values["应享社保补贴（灵活就业）人数"] == 1, "GOES_FLEXIBLE, recognized, now flexibly employed"
    blank = [h for h, v in values.items() if v is None]
    assert blank == ["本期帮扶困难群体就业总人数", "自主创业人数", "公益性岗位安置人数", "项目帮扶人数"]
    notes = {
        row[0].split("：", 1)[0]: row[0] for row in _sheet_rows(sheet, 5) if row[0] and "：" in str(row[0])
    }
    assert "应享尽享名单" in notes["享受临时生活补贴人数"]
    assert "台账" in notes["公益性岗位安置人数"]


# --- each street's work list ------------------------------------------------------------------------


def _work_rows(sheet) -> list[dict]:
    header = [c.value for c in sheet[2]]
    return [dict(zip(header, row, strict=True)) for row in _sheet_rows(sheet, 3) if isinstance(row[0], int)]


@pytest.mark.parametrize("night", [0, 1])
def test_each_street_gets_its_work_list_new_people_marked_new(nights, night):
    """Night 0 has no run before its period (from 05-27): everyone is new. Night 1's period starts on the
    27th, its baseline night 0: new are those not on night 0's list, the others are still to visit."""
    folder = nights.folder(night)
    streets = sorted(p.name for p in (folder / "by_street").iterdir())
    assert "东城区_东华门街道.xlsx" in streets
    outputs = read_manifest(folder)["outputs"]
    assert all(f"by_street/{name}" in outputs for name in streets), "the manifest lists every work list"
    workbook = openpyxl.load_workbook(folder / "by_street" / "东城区_东华门街道.xlsx")
    assert workbook.sheetnames == ["说明", "走访", "核实退出", "政策兑现", "预警家庭"]
    period = "2026-05-27 至 2026-06-26" if night == 0 else "2026-06-27 至 2026-06-27"
    for sheet in workbook:
        assert f"东城区 东华门街道　本期：{period}" in sheet["A1"].value
    ours = {
        (r["person_id"], r["category"]): r
        for r in read_csv(folder / "proactive.csv")[1]
        if (r["district"], r["street"]) == ("东城区", "东华门街道")
    }
    before = {(r["person_id"], r["category"]) for r in read_csv(nights.folder(0) / "proactive.csv")[1]}
    visits = _work_rows(workbook["走访"])
    assert {row["公民身份号码"] for row in visits} == {person for person, _ in ours}
    for row in visits:
        key = next(k for k in ours if k[0] == row["公民身份号码"])
        assert row["列入情形"] == ("待走访" if night == 1 and key in before else "新增")
        assert row["走访依据（勿改）"] == f"{key[1]}:{ours[key]['reasons']}"
    key_column = next(c.column_letter for c in workbook["走访"][2] if c.value == "走访依据（勿改）")
    assert workbook["走访"].column_dimensions[key_column].hidden, (
        "the key columns are for reading back, not print"
    )
    removals = _work_rows(workbook["核实退出"])
    review = [
        r
        for r in read_csv(folder / "removals.csv")[1]
        if r["confidence"] == "review" and (r["district"], r["street"]) == ("东城区", "东华门街道")
    ]
    assert sorted(row["公民身份号码"] for row in removals) == sorted(r["person_id"] for r in review)
