"""For the partner departments and the early warning (SPEC section 4 items 5 and 6): 民政's 低保家庭成员就业状况比对,
残联's 持证残疾人就业状况 and 零就业家庭预警, on tiny hand-built worlds (staged tables and links in a real DuckDB file,
as test_rules.py builds them), read back from the `out_*` tables; then their workbooks, written and read back
with openpyxl and printed by LibreOffice.

As of 2026-11-22: the look-back months are 2026-08, 2026-09 and 2026-10, the last of them 2026-10. Each table
of cases is one world, built once, each case its own person (and for the households, its own household).
"""

from datetime import date
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from printing import MIN_POINTS, assert_printed_as_rosters, print_workbooks, printed_sizes
from test_entitlements import paid
from test_rules import MAN, Rec, World, card, dibao, registration, si_person, unlinked

from aidmatch.publish.partner_lists import (
    DIBAO_REQUEST,
    HOUSEHOLDS_AT_RISK,
    households_at_risk_labels,
    partner_workbooks,
)
from aidmatch.publish.xlsx_files import write_workbook
from aidmatch.rules.codes import labels_of

AUG, SEP, OCT = date(2026, 8, 1), date(2026, 9, 1), date(2026, 10, 1)
FLEX = "灵活就业"


def flexible(month: date = OCT) -> Rec:
    return paid(month, kind=FLEX)


# --- 民政: 低保家庭成员就业状况比对 -----------------------------------------------------------------------
# (records, expected (finding, employer_id, employer_name, recorded_status) or None: not listed)
DIBAO_CASES = [
    pytest.param([dibao(employment="在业"), paid(OCT)], None, id="recorded-working-and-employed"),
    pytest.param(
        [dibao(employment="失业"), *(paid(m) for m in (AUG, SEP, OCT))],
        ("EMPLOYED", "E1", "E1公司", "失业"),
        id="recorded-unemployed-and-employed",
    ),
    pytest.param(
        [dibao(), paid(SEP, employer="E1"), paid(OCT, employer="E7"), paid(OCT, employer="E3")],
        ("EMPLOYED", "E3", "E3公司", "失业"),
        id="two-employers-in-the-last-month-the-smaller-number",
    ),
    pytest.param(
        [dibao(), paid(AUG, employer="E1"), paid(OCT, employer="E9")],
        ("EMPLOYED", "E9", "E9公司", "失业"),
        id="the-latest-month-decides-not-the-smallest-number",
    ),
    pytest.param(
        [dibao(), paid(SEP, employer="E5"), paid(OCT, employer="E1", status="欠费")],
        ("EMPLOYED", "E5", "E5公司", "失业"),
        id="arrears-in-the-last-month-are-not-a-paid-month",
    ),
    pytest.param(
        [dibao(), paid(OCT, employer=None, name="丙商店"), paid(OCT, employer="E8")],
        ("EMPLOYED", "E8", "E8公司", "失业"),
        id="an-employer-with-a-number-before-one-known-by-name",
    ),
    pytest.param(
        [dibao(), paid(OCT, employer=None, name="丙商店")],
        ("EMPLOYED", None, "丙商店", "失业"),
        id="an-employer-known-by-name-only",
    ),
    pytest.param([dibao(), flexible()], ("FLEXIBLY_EMPLOYED", None, None, "失业"), id="only-flexible"),
    pytest.param(
        [dibao(), flexible(SEP), paid(AUG)], ("EMPLOYED", "E1", "E1公司", "失业"), id="flexible-and-employee"
    ),
    pytest.param([dibao(employment="在业"), flexible()], None, id="recorded-working-and-flexible"),
    pytest.param(
        [dibao(employment="在校学生"), paid(OCT)],
        ("EMPLOYED", "E1", "E1公司", "在校学生"),
        id="recorded-at-school-and-employed",
    ),
    pytest.param(
        [dibao(employment=None), paid(OCT)], ("EMPLOYED", "E1", "E1公司", None), id="recorded-status-blank"
    ),
    pytest.param(
        [dibao(kind="城市低保边缘"), flexible()], ("FLEXIBLY_EMPLOYED", None, None, "失业"), id="dibao-edge"
    ),
    pytest.param([dibao(status="停保"), paid(OCT)], None, id="stopped-member"),
    pytest.param(
        [dibao(household="H2"), dibao(employment="在业", household="H3"), paid(OCT)],
        None,
        id="another-active-record-says-working",
    ),
    pytest.param(
        [dibao(status="停保", employment="在业", household="H4"), dibao(household="H5"), paid(OCT)],
        ("EMPLOYED", "E1", "E1公司", "失业"),
        id="a-stopped-record-saying-working-says-nothing",
    ),
    pytest.param([dibao(), paid(OCT, kind="城乡居民")], None, id="resident-insurance-says-nothing"),
    pytest.param([dibao(), paid(date(2026, 7, 1))], None, id="paid-before-the-look-back"),
    pytest.param([dibao(), paid(OCT, status="欠费")], None, id="only-arrears"),
    pytest.param([unlinked(dibao()), paid(OCT)], None, id="unlinked-dibao-record"),
    pytest.param([paid(OCT)], None, id="not-in-dibao"),
]


def _world_of(tmp_path_factory, name: str, people: list[tuple[tuple, list[Rec]]]) -> World:
    """A world of one person P<number> per (person, records) of `people`, built once."""
    world = World(tmp_path_factory.mktemp(name))
    for number, (person, records) in enumerate(people, start=1):
        world.add(f"P{number}", *person, records)
    world.build()
    return world


@pytest.fixture(scope="module")
def dibao_world(tmp_path_factory) -> World:
    return _world_of(tmp_path_factory, "dibao_employment", [(MAN, case.values[0]) for case in DIBAO_CASES])


@pytest.mark.parametrize(
    ("number", "expected"),
    [pytest.param(n, case.values[1], id=case.id) for n, case in enumerate(DIBAO_CASES, start=1)],
)
def test_dibao_employment(dibao_world, number, expected):
    rows = dibao_world.rows_of(
        "SELECT finding, employer_id, employer_name, recorded_status FROM out_dibao_employment"
        f" WHERE person_id = 'P{number}'"
    )
    assert rows == ([expected] if expected else [])


def test_a_dibao_member_row_names_the_record_the_months_and_the_household(tmp_path):
    world = World(tmp_path)
    world.add(
        "P1",
        *MAN,
        [dibao(kind="城市低保边缘", household="H9"), paid(SEP, employer="E2"), paid(OCT, employer="E2")],
    )
    world.build()
    assert world.rows_of(
        "SELECT household_id, dibao_type, evidence, paid_months, on_removal_list FROM out_dibao_employment"
        " WHERE person_id = 'P1'"
    ) == [
        (
            "H9",
            "城市低保边缘",
            "单位职工缴费（已实缴）2026-09,2026-10，单位：E2公司；最近缴费月份 2026-10 的单位：E2公司（单位编号 E2）"
            " | 城市低保边缘 户编号 H9 在保，劳动能力 有劳动能力，就业状况 失业 [dibao/t.csv:2]",
            "2026年9、10月",
            False,
        )
    ]


def _registration_key(world: World, person: str) -> tuple[str, str]:
    """The content key and basis of the person's removal on the unemployment roll (decisions/keeps.py)."""
    ((key, basis),) = world.rows_of(
        "SELECT k.record_key, k.basis FROM decision_removal_keys AS k JOIN out_removals AS r USING (source_record, roll)"
        f" WHERE r.person_id = '{person}' AND k.roll = 'unemployment'"
    )
    return key, basis


def test_a_member_whose_registration_is_on_the_removal_list_says_so_until_a_case_worker_keeps_it(tmp_path):
    """Interplay: 民政's row and the removal list name the same work; a kept registration is off the removal
    list, and 民政's row then says nothing of it."""
    world = World(tmp_path)
    (registered, *_) = world.add("P1", *MAN, [registration(), dibao(), paid(OCT)])
    world.build()
    ((evidence,),) = world.rows_of("SELECT evidence FROM out_dibao_employment WHERE person_id = 'P1'")
    assert f"同一人已登记失业，其登记因已就业列入应退出名单 [{registered}]" in evidence
    assert world.rows_of("SELECT on_removal_list FROM out_dibao_employment") == [(True,)]
    key, basis = _registration_key(world, "P1")
    world.con.execute(
        "CREATE TABLE decisions_keeps AS SELECT 1 AS decision_id, ? AS record_key, 'unemployment' AS roll,"
        " ? AS basis, 'keep' AS decision, DATE '2027-01-01' AS valid_until, '仍在求职' AS reason,"
        " '张*' AS decided_by, 'keeps.csv' AS file, 2 AS \"row\"",
        [key, basis],
    )
    world.build()
    assert world.rows_of("SELECT count(*) FROM out_removals WHERE person_id = 'P1'") == [(0,)]
    ((evidence, on_removal_list),) = world.rows_of(
        "SELECT evidence, on_removal_list FROM out_dibao_employment"
    )
    assert "应退出名单" not in evidence and not on_removal_list


# --- 残联: 持证残疾人就业状况 ------------------------------------------------------------------------------
# (person, records, expected (status, category, grade) or None: not listed)
LISTED = ("肢体", 4)
DISABILITY_CASES = [
    pytest.param(MAN, [card(), paid(OCT)], ("EMPLOYED", *LISTED), id="employed"),
    pytest.param(MAN, [card(), flexible()], ("FLEXIBLY_EMPLOYED", *LISTED), id="flexible"),
    pytest.param(
        MAN,
        [card(), registration(), flexible()],
        ("FLEXIBLY_EMPLOYED", *LISTED),
        id="registered-and-flexible-is-flexible",
    ),
    pytest.param(MAN, [card(), registration()], ("REGISTERED_UNEMPLOYED", *LISTED), id="registered"),
    pytest.param(MAN, [card(), si_person("离退休")], ("RETIRED", *LISTED), id="retired"),
    pytest.param(
        MAN,
        [card(), registration(), si_person("离退休")],
        ("REGISTERED_UNEMPLOYED", *LISTED),
        id="registered-before-retired",
    ),
    pytest.param(
        MAN, [card(), si_person("离退休"), paid(OCT)], ("EMPLOYED", *LISTED), id="employed-before-retired"
    ),
    pytest.param(MAN, [card()], ("NOT_WORKING", *LISTED), id="not-working"),
    pytest.param(
        MAN, [card(), paid(OCT, kind="城乡居民")], ("NOT_WORKING", *LISTED), id="resident-insurance"
    ),
    pytest.param(MAN, [card(), paid(OCT, status="欠费")], ("NOT_WORKING", *LISTED), id="only-arrears"),
    pytest.param(
        MAN, [card(), dibao(employment="在业")], ("NOT_WORKING", *LISTED), id="dibao-record-is-not-employment"
    ),
    pytest.param(MAN, [card(grade=1)], ("NOT_WORKING", "肢体", 1), id="grade-1"),
    pytest.param(
        MAN, [card(valid_until=date(2026, 11, 22))], ("NOT_WORKING", *LISTED), id="valid-until-today"
    ),
    pytest.param(MAN, [card(valid_until=date(2026, 11, 21)), paid(OCT)], None, id="expired-before-d"),
    pytest.param(MAN, [card(status="过期"), paid(OCT)], None, id="card-status-expired"),
    pytest.param(MAN, [card(status="注销")], None, id="card-cancelled"),
    pytest.param(MAN, [card(), si_person("死亡")], None, id="dead"),
    pytest.param(MAN, [card(), si_person("死亡"), paid(OCT)], None, id="dead-with-contributions"),
    pytest.param(("男", date(1963, 1, 1)), [card(), paid(OCT)], None, id="past-retirement-age"),
    pytest.param(("男", date(2010, 11, 23)), [card()], None, id="under-16"),
    pytest.param(MAN, [unlinked(card())], None, id="unlinked-card"),
    pytest.param(MAN, [registration(), paid(OCT)], None, id="no-card"),
]


@pytest.fixture(scope="module")
def disability_world(tmp_path_factory) -> World:
    return _world_of(
        tmp_path_factory, "disability_employment", [case.values[:2] for case in DISABILITY_CASES]
    )


@pytest.mark.parametrize(
    ("number", "expected"),
    [pytest.param(n, case.values[2], id=case.id) for n, case in enumerate(DISABILITY_CASES, start=1)],
)
def test_disability_employment(disability_world, number, expected):
    rows = disability_world.rows_of(
        "SELECT status, disability_category, disability_grade FROM out_disability_employment"
        f" WHERE person_id = 'P{number}'"
    )
    assert rows == ([expected] if expected else [])


# --- 零就业家庭预警 ---------------------------------------------------------------------------------------
# (the members' records, expected (risk, the working member's index) or None: not listed). Each case is one
# household H<case>, 城市低保 and 在保 unless a member's records say otherwise.


def member(*records: Rec, kind: str = "城市低保", status: str = "在保", capacity: str = "有劳动能力",
           employment: str = "失业", person: tuple[str, date] = MAN) -> tuple[tuple[str, date], list[Rec]]:  # fmt: skip
    """A member: the person, their 低保 row (its household is filled in by the case) and other records."""
    row = {"assistance_type": kind, "assistance_status": status, "work_capacity": capacity,
           "employment_status": employment, "start_date": date(2024, 1, 1)}  # fmt: skip
    return person, [Rec("dibao", row), *records]


HOUSEHOLD_CASES = [
    pytest.param([member(paid(AUG)), member()], ("CONTRIBUTIONS_STOPPED", 0), id="paid-the-first-month-only"),
    pytest.param(
        [member(paid(AUG), paid(SEP)), member()], ("CONTRIBUTIONS_STOPPED", 0), id="stopped-after-two"
    ),
    pytest.param(
        [member(paid(AUG), paid(SEP), paid(OCT, status="欠费")), member()],
        ("CONTRIBUTIONS_STOPPED", 0),
        id="the-last-month-in-arrears",
    ),
    pytest.param(
        [member(paid(AUG), flexible(OCT)), member()],
        ("CONTRIBUTIONS_STOPPED", 0),
        id="employee-then-flexible-is-employed-and-stopped",
    ),
    pytest.param([member(), member(flexible())], ("FLEXIBLE_ONLY", 1), id="flexible-only"),
    pytest.param([member(flexible(AUG))], ("FLEXIBLE_ONLY", 0), id="one-member-household"),
    pytest.param(
        [member(flexible(), kind="城市低保边缘"), member(capacity="完全丧失劳动能力", employment="其他")],
        ("FLEXIBLE_ONLY", 0),
        id="edge-household-a-member-not-counted",
    ),
    pytest.param([member(paid(AUG), paid(OCT)), member()], None, id="paid-the-last-month"),
    pytest.param([member(flexible()), member(paid(OCT))], None, id="two-working-members"),
    pytest.param([member(flexible()), member(flexible())], None, id="two-flexible-members"),
    pytest.param([member(flexible()), member(employment="在业")], None, id="a-second-worker-by-the-record"),
    pytest.param([member(employment="在业"), member()], None, id="works-only-by-the-record"),
    pytest.param(
        [member(flexible(), kind="农村低保"), member(kind="农村低保边缘")], None, id="rural-household"
    ),
    pytest.param([member(flexible(), status="停保"), member(status="停保")], None, id="stopped-household"),
    pytest.param(
        [member(flexible(), employment="在校学生"), member()], None, id="the-worker-is-at-school-not-counted"
    ),
    pytest.param(
        [member(flexible(), person=("男", date(1956, 1, 1))), member()],
        None,
        id="the-worker-past-working-age-not-counted",
    ),
    pytest.param([member(), member()], None, id="zero-employment-household"),
]


@pytest.fixture(scope="module")
def household_world(tmp_path_factory) -> World:
    world = World(tmp_path_factory.mktemp("households_at_risk"))
    for number, case in enumerate(HOUSEHOLD_CASES, start=1):
        for index, (person, records) in enumerate(case.values[0]):
            household = [
                Rec(r.source, {**r.values, "household_id": f"H{number}"}) if r.source == "dibao" else r
                for r in records
            ]
            world.add(f"P{number}_{index}", *person, household)
    world.build()
    return world


@pytest.mark.parametrize(
    ("number", "expected"),
    [pytest.param(n, case.values[1], id=case.id) for n, case in enumerate(HOUSEHOLD_CASES, start=1)],
)
def test_households_at_risk(household_world, number, expected):
    rows = household_world.rows_of(
        f"SELECT risk, working_member_id FROM out_households_at_risk WHERE household_id = 'H{number}'"
    )
    assert rows == ([(expected[0], f"P{number}_{expected[1]}")] if expected else [])


def test_a_household_at_risk_names_its_members_and_a_working_member_on_the_removal_list(tmp_path):
    world = World(tmp_path)
    city = {"household_id": "H1", "assistance_type": "城市低保", "district": "东城区", "street": "东华门街道"}
    (registered, *_) = world.add(
        "P1", *MAN, [registration(), Rec("dibao", dibao().values | city), flexible()]
    )
    world.add("P2", "女", date(1992, 5, 5), [Rec("dibao", dibao(employment="在校学生").values | city)])
    world.add("P3", *MAN, [Rec("dibao", dibao().values | city)])
    world.build()
    ((row),) = world.rows_of(
        "SELECT risk, working_member_id, working_member_name, member_ids, district, street, member_names, evidence,"
        " summary FROM out_households_at_risk"
    )
    assert row == (
        "FLEXIBLE_ONLY",
        "P1",
        "姓名P1",
        "P1;P2;P3",
        "东城区",
        "东华门街道",
        "姓名P1;姓名P2;姓名P3",
        "城市低保 在保；计入成员：P1（已登记失业）、P3；其中仅 P1 就业：仅有灵活就业缴费（已实缴）2026-10；不计入：P2（在校学生）；"
        f"该成员已登记失业，其登记因灵活就业（需核实）列入应退出名单 [{registered}]：退出后仍应关注其家庭就业；"
        "区县、街道取自成员的低保记录[dibao/t.csv:3]",
        "唯一就业成员姓名P1仅有灵活就业缴费（2026年10月）；其失业登记列入应退出名单",
    )


def test_the_zero_employment_list_is_what_it_was(household_world):
    """The households the early warning reads are the zero-employment list's: a household nobody counted works
    in is on that list, not on this one."""
    zero = {h for (h,) in household_world.rows_of("SELECT household_id FROM out_zero_employment_households")}
    at_risk = {h for (h,) in household_world.rows_of("SELECT household_id FROM out_households_at_risk")}
    numbers = {case.id: n for n, case in enumerate(HOUSEHOLD_CASES, start=1)}
    assert {
        f"H{numbers[c]}" for c in ("the-worker-is-at-school-not-counted", "zero-employment-household")
    } <= zero
    assert not zero & at_risk


# --- the workbooks ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def partner_world(tmp_path_factory) -> World:
    """A few people of each list in two districts, for the workbooks."""
    world = World(tmp_path_factory.mktemp("partner_workbooks"))

    def placed(district: str, street: str, **values) -> Rec:
        return Rec("dibao", dibao(**values).values | {"district": district, "street": street})

    world.add(
        "P1", *MAN, [placed("西城区", "月坛街道", household="H1", kind="城市低保"), paid(OCT), registration()]
    )
    world.add("P2", "女", date(1992, 5, 5), [placed("西城区", "月坛街道", household="H1", kind="城市低保")])
    world.add("P3", *MAN, [placed("东城区", "东华门街道", household="H2", kind="城市低保"), flexible()])
    world.add("P4", *MAN, [placed("东城区", "东华门街道", household="H3"), paid(SEP), card(grade=2)])
    world.add("P5", *MAN, [card(grade=1), registration()])
    world.add("P6", "女", date(1985, 1, 1), [card(grade=1), flexible()])
    world.add("P7", *MAN, [card()])
    world.build()
    return world


@pytest.fixture(scope="module")
def workbooks(partner_world, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("partner_xlsx")
    paths = {}
    for name, sheets in partner_workbooks(partner_world.con, "2026-11-22", None):
        paths[name] = folder / name
        write_workbook(paths[name], sheets)
    return paths


def _body(sheet, header_row: int) -> list[dict]:
    header = [c.value for c in sheet[header_row]]
    rows = [
        dict(zip(header, r, strict=True)) for r in sheet.iter_rows(min_row=header_row + 1, values_only=True)
    ]
    return [r for r in rows if any(r[h] is not None for h in header[1:])]  # not a note below the table


def test_the_dibao_workbook_is_a_request_to_update_records(partner_world, workbooks):
    """民政: one sheet, headed as a request to update records, rows by 区县, 街道 and household, in Chinese."""
    sheet = openpyxl.load_workbook(workbooks["dibao_employment.xlsx"]).active
    assert sheet["A1"].value.startswith("低保家庭成员就业状况核实表")
    assert sheet["A2"].value == f"{DIBAO_REQUEST}　共 3 户 3 人"
    body = _body(sheet, 3)
    assert [(r["区县"], r["街道"], r["户编号"], r["公民身份号码"]) for r in body] == [
        ("东城区", "东华门街道", "H2", "P3"),
        ("东城区", "东华门街道", "H3", "P4"),
        ("西城区", "月坛街道", "H1", "P1"),
    ]
    labels = labels_of("dibao_finding")
    assert [r["社保缴费\n显示"] for r in body] == [
        labels["FLEXIBLY_EMPLOYED"],
        labels["EMPLOYED"],
        labels["EMPLOYED"],
    ]
    assert [r["缴费月份"] for r in body] == ["2026年10月", "2026年9月", "2026年10月"]
    assert [r["备注"] for r in body] == [None, None, "已登记失业"], "P1's registration is on the removal list"
    assert sheet.cell(4, 8).number_format == "@", "IDs as text"
    text = " ".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None)
    assert "EMPLOYED" not in text and "停保" not in text, (
        "Chinese, and nothing that reads as cutting anyone off"
    )


def test_the_disability_workbook_sums_up_per_district_grade_and_status(partner_world, workbooks):
    """残联: the summary counts the rows of disability_employment per 区县 × 等级 × status, with 就业率; the detail
    sheet holds every row once."""
    book = openpyxl.load_workbook(workbooks["disability_employment.xlsx"])
    assert book.sheetnames == ["汇总", "明细"]
    rows = pl.DataFrame(
        partner_world.rows_of(
            "SELECT coalesce(district, '（区县不详）'), disability_grade, status FROM out_disability_employment"
        ),
        schema=["district", "grade", "status"],
        orient="row",
    )
    summary = _body(book["汇总"], 3)  # title, the date and count, headers
    labels = labels_of("disability_status")
    grades = {1: "一级", 2: "二级", 3: "三级", 4: "四级"}
    for (district, grade), part in rows.group_by("district", "grade"):
        (line,) = [r for r in summary if r["区县"] == district and r["残疾等级"] == grades[grade]]
        assert {code: line[label] for code, label in labels.items()} == {
            code: int((part["status"] == code).sum()) for code in labels
        }
        working = int(part["status"].is_in(["EMPLOYED", "FLEXIBLY_EMPLOYED"]).sum())
        assert (line["合计"], line["就业人数"]) == (part.height, working)
        assert line["就业率"] == pytest.approx(working / part.height, abs=1e-4)
    (total,) = [r for r in summary if r["区县"] == "全部" and r["残疾等级"] == "合计"]
    assert total["合计"] == rows.height == 4
    detail = _body(book["明细"], 2)
    assert sorted(r["公民身份号码"] for r in detail) == ["P4", "P5", "P6", "P7"]
    assert {r["就业状况"] for r in detail} <= set(labels.values())


def test_the_households_at_risk_workbook_and_the_street_rows(partner_world, workbooks):
    """A sheet per risk; the rows a street office's work list takes: street, members, working member, why."""
    book = openpyxl.load_workbook(workbooks["households_at_risk.xlsx"])
    assert book.sheetnames == [labels_of("household_risk")["FLEXIBLE_ONLY"]]
    (row,) = _body(book.active, 2)
    assert (row["户编号"], row["家庭成员（与户主关系）及身份证号"]) == ("H2", "姓名P3 P3")
    rows = households_at_risk_labels(partner_world.con.sql(HOUSEHOLDS_AT_RISK.select_sql).pl())
    assert rows.select("district", "street", "household_id", "working_member", "risk").rows() == [
        ("东城区", "东华门街道", "H2", "姓名P3 P3", "FLEXIBLE_ONLY")
    ]
    assert rows["summary"].to_list() == ["唯一就业成员姓名P3仅有灵活就业缴费（2026年10月）"]


def test_the_workbooks_print_at_9_points_or_more(workbooks, tmp_path):
    """As a bureau's office prints them (LibreOffice, headless): every text at 9 pt or more; the lists of
    people and households as rosters (every row on paper, whole, 15 rows a page where rows allow)."""
    pdfs = print_workbooks(list(workbooks.values()), tmp_path)
    for name, path in workbooks.items():
        sizes = printed_sizes(pdfs[path.stem])
        assert sizes and min(sizes) >= MIN_POINTS, f"{name} printed at {sorted(sizes)} pt"
    for name in ("dibao_employment.xlsx", "households_at_risk.xlsx"):  # 残联's summary has no 序号
        assert_printed_as_rosters(pdfs[workbooks[name].stem], workbooks[name])
