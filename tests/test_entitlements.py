"""Entitlements (SPEC section 4 item 4, 应享尽享): one tiny world per rule and edge, built as test_rules.py builds
its worlds (staged tables and links in a real DuckDB file), read back from `out_entitlements`.

As of 2026-11-22: the lookback months are 2026-08..2026-10. Every world holds a background person P0 employed
by E0 from 2026-05 to 2026-10, so the contribution extract's first month is 2026-05. The table of cases is one
world, built once; the cases that need their own settings or row numbers build their own.
"""

from datetime import date

import polars as pl
import pytest

from aidmatch.data_samples import expected
from aidmatch.data_samples.world import World as SampleWorld
from aidmatch.rules.codes import LABELS
from aidmatch.rules.settings import RuleSettings
from aidmatch.settings import ConfigError, load_settings
from aidmatch.tables.catalog import OUT_ENTITLEMENTS
from tests.conftest import SPEC_COLUMNS
from tests.test_rules import AS_OF, DEFAULTS, Rec, World, dibao, registration, si_person

EXTRACT_MONTHS = [date(2026, m, 1) for m in range(5, 11)]
INSURANCES = ("企业职工基本养老保险", "失业保险", "工伤保险", "职工基本医疗保险")
MAN = ("男", date(1980, 1, 1))  # retires 2043-01-01: far from any period's end
NEAR_RETIREMENT = ("男", date(1967, 6, 15))  # retires 2028-02-15


def recognized(on: date | None = date(2025, 2, 10), registered: date = date(2025, 1, 10)) -> Rec:
    """A registration as 就业困难人员 with its 认定日期 (None: left empty)."""
    values = {
        "registered_on": registered,
        "is_difficult": True,
        "difficulty_categories": ["大龄"],
        "recognized_on": on,
    }
    return Rec("unemployment", values)


def paid(
    month: date,
    kind: str = "单位职工",
    employer: str | None = "E1",
    status: str = "已实缴",
    name: str = "",
    insurance: str = INSURANCES[0],
) -> Rec:
    """One contribution row; a 单位职工 row names its employer (单位名称 defaults to `<单位编号>公司`)."""
    values = {
        "contribution_type": kind,
        "payment_status": status,
        "period_month": month,
        "employer_id": employer if kind == "单位职工" else None,
        "employer_name": (name or f"{employer}公司") if kind == "单位职工" else None,
        "insurance_type": insurance,
    }
    return Rec("si_contributions", values)


def employed(first: date, last: date = date(2026, 10, 1), employer: str = "E1") -> list[Rec]:
    """Paid 单位职工 contributions to `employer` every month from `first` to `last`."""
    return [paid(month, employer=employer) for month in EXTRACT_MONTHS if first <= month <= last]


def world_of(tmp_path, person: tuple[str, date] | None = None, records: list[Rec] | None = None) -> World:
    """The background person P0 (employed by E0 over the whole extract, 100 rows a month: the cases' own rows
    cannot move the extract's first month), inserted in bulk from its own file; and P1 with `records`."""
    world = World(tmp_path)
    world.person("P0", "女", date(1985, 3, 3))
    world.con.execute(
        """
        INSERT INTO staged_si_contributions (source, source_record, source_file, source_row, id_norm, id_valid,
            employer_id, employer_name, contribution_type, insurance_type, period_month, payment_status)
        SELECT 'si_contributions', 'si_contributions/p0.csv:' || (i + 2), 'si_contributions/p0.csv', i + 2, 'P0',
            true, 'E0', 'E0公司', '单位职工', $insurances[i % 4 + 1], DATE '2026-05-01' + to_months(i // 100), '已实缴'
        FROM range(600) AS t(i)
        """,
        {"insurances": list(INSURANCES)},
    )
    world.con.execute(
        "INSERT INTO core_person_links (source, source_file, source_row, person_id, method, score) "
        "SELECT source, source_file, source_row, 'P0', 'exact_id', 1.0 FROM staged_si_contributions"
    )
    if person is not None:
        world.add("P1", *person, records or [])
    return world


def entitlements_of(world: World, person_id: str = "P1") -> list[tuple]:
    return world.rows_of(
        "SELECT entitlement, employer_id, subsidy_until, confidence FROM out_entitlements"
        f" WHERE person_id = '{person_id}' ORDER BY ALL"
    )


FLEXIBLE = [paid(date(2026, 10, 1), kind="灵活就业")]


# One case per rule and edge: (person, records, expected rows). All cases live in one world, each its own person.
CASES = [
    # SI_SUBSIDY_FLEXIBLE and the subsidy period
    pytest.param(
        MAN,
        [recognized(date(2023, 12, 22)), *FLEXIBLE],
        [("SI_SUBSIDY_FLEXIBLE", None, date(2026, 12, 21), "high")],
        id="recognized-35-months-ago",
    ),
    pytest.param(MAN, [recognized(date(2023, 10, 22)), *FLEXIBLE], [], id="recognized-37-months-ago"),
    pytest.param(
        NEAR_RETIREMENT,
        [recognized(date(2023, 7, 22)), *FLEXIBLE],
        [("SI_SUBSIDY_FLEXIBLE", None, date(2028, 2, 14), "high")],
        id="within-5-years-of-retirement-runs-to-retirement",
    ),
    pytest.param(
        ("男", date(1970, 1, 1)),  # retires 2031-05-01: more than 5 years after recognition
        [recognized(date(2023, 7, 22)), *FLEXIBLE],
        [],
        id="not-within-5-years-of-retirement",
    ),
    pytest.param(
        NEAR_RETIREMENT,
        [recognized(date(2025, 6, 1)), *FLEXIBLE],
        [("SI_SUBSIDY_FLEXIBLE", None, date(2028, 2, 14), "high")],
        id="retirement-within-36-months-ends-the-period",
    ),
    pytest.param(MAN, [recognized(date(2026, 11, 23)), *FLEXIBLE], [], id="recognized-after-as-of"),
    pytest.param(
        MAN,
        [recognized(None), *FLEXIBLE],
        [("SI_SUBSIDY_FLEXIBLE", None, None, "review")],
        id="recognition-date-empty-review",
    ),
    pytest.param(
        MAN,
        [recognized(None), recognized(date(2024, 5, 1), registered=date(2024, 4, 1)), *FLEXIBLE],
        [("SI_SUBSIDY_FLEXIBLE", None, date(2027, 4, 30), "high")],
        id="one-dated-recognition-is-enough",
    ),
    pytest.param(
        MAN,
        [
            recognized(date(2025, 6, 1)),
            recognized(date(2023, 10, 1), registered=date(2023, 9, 1)),
            *FLEXIBLE,
        ],
        [],
        id="the-earliest-recognition-counts",
    ),
    pytest.param(MAN, [registration(), *FLEXIBLE], [], id="not-recognized"),
    pytest.param(MAN, [recognized(), *FLEXIBLE, si_person("死亡")], [], id="flexible-dead"),
    pytest.param(MAN, [recognized(), *FLEXIBLE, si_person("离退休")], [], id="flexible-retired"),
    pytest.param(
        MAN, [recognized(), paid(date(2026, 7, 1), kind="灵活就业")], [], id="flexible-before-lookback"
    ),
    pytest.param(
        MAN,
        [recognized(), paid(date(2026, 10, 1), kind="灵活就业", status="欠费")],
        [],
        id="flexible-in-arrears",
    ),
    pytest.param(
        MAN,
        [recognized(), paid(date(2026, 8, 1), kind="灵活就业"), *employed(date(2026, 9, 1))],
        [("SI_SUBSIDY_EMPLOYER", "E1", date(2028, 2, 9), "high")],
        id="flexible-plus-unit-is-not-flexible",
    ),
    # SI_SUBSIDY_EMPLOYER: the hire the extract shows, against the recognition month
    pytest.param(
        MAN,
        [recognized(date(2026, 7, 15)), *employed(date(2026, 7, 1))],
        [("SI_SUBSIDY_EMPLOYER", "E1", date(2029, 7, 14), "high")],
        id="hired-the-month-of-recognition",
    ),
    pytest.param(
        MAN, [recognized(date(2026, 7, 15)), *employed(date(2026, 6, 1))], [], id="hired-the-month-before"
    ),
    pytest.param(
        MAN, [recognized(), *employed(date(2026, 5, 1))], [], id="employed-since-the-extracts-first-month"
    ),
    pytest.param(
        MAN,
        [recognized(), paid(date(2024, 3, 1)), *employed(date(2026, 5, 1))],
        [],
        id="a-back-paid-old-month-is-no-hire",
    ),
    pytest.param(
        MAN,
        [
            recognized(),
            *employed(date(2026, 6, 1), date(2026, 8, 1)),
            *employed(date(2026, 9, 1), employer="E2"),
        ],
        [
            ("SI_SUBSIDY_EMPLOYER", "E1", date(2028, 2, 9), "high"),
            ("SI_SUBSIDY_EMPLOYER", "E2", date(2028, 2, 9), "high"),
        ],
        id="two-employers-in-the-window",
    ),
    pytest.param(
        MAN,
        [recognized(), *employed(date(2026, 6, 1), date(2026, 7, 1))],
        [],
        id="left-the-employer-before-the-lookback",
    ),
    pytest.param(
        MAN,
        [
            recognized(date(2026, 7, 15)),
            paid(date(2026, 6, 1), status="欠费"),
            *employed(date(2026, 7, 1)),
        ],
        [("SI_SUBSIDY_EMPLOYER", "E1", date(2029, 7, 14), "high")],
        id="the-first-paid-month-counts",
    ),
    pytest.param(
        MAN,
        [recognized(None), *employed(date(2026, 6, 1))],
        [("SI_SUBSIDY_EMPLOYER", "E1", None, "review")],
        id="hire-seen-recognition-date-empty-review",
    ),
    pytest.param(MAN, [registration(), *employed(date(2026, 6, 1))], [], id="hire-of-someone-not-recognized"),
    # TEMP_LIVING_ALLOWANCE
    pytest.param(
        MAN,
        [registration(), dibao(kind="城市低保边缘")],
        [("TEMP_LIVING_ALLOWANCE", None, None, "high")],
        id="allowance-dibao-edge-member",
    ),
    pytest.param(
        MAN,
        [recognized(), dibao()],
        [("TEMP_LIVING_ALLOWANCE", None, None, "high")],
        id="allowance-recognized-jobless",
    ),
    pytest.param(MAN, [registration(), dibao(employment="在业")], [], id="allowance-dibao-member-works"),
    # a 低保 record contradicting the registration: still listed, to be checked (SPEC section 4 item 4)
    pytest.param(
        MAN,
        [registration(), dibao(employment="在校学生")],
        [("TEMP_LIVING_ALLOWANCE", None, None, "review")],
        id="allowance-student-review",
    ),
    pytest.param(
        MAN,
        [registration(), dibao(capacity="完全丧失劳动能力")],
        [("TEMP_LIVING_ALLOWANCE", None, None, "review")],
        id="allowance-incapable-member-review",
    ),
    pytest.param(MAN, [registration(), dibao(status="停保")], [], id="allowance-dibao-stopped"),
    pytest.param(MAN, [dibao()], [], id="allowance-not-registered"),
    pytest.param(MAN, [registration(), dibao(), si_person("死亡")], [], id="allowance-dead"),
    pytest.param(MAN, [registration(), dibao(), si_person("离退休")], [], id="allowance-retired"),
    pytest.param(("男", date(1963, 1, 1)), [registration(), dibao()], [], id="allowance-past-retirement"),
    pytest.param(
        MAN,
        [recognized(), dibao(), *FLEXIBLE],
        [("SI_SUBSIDY_FLEXIBLE", None, date(2028, 2, 9), "high")],
        id="flexibly-employed-dibao-member-gets-the-subsidy-not-the-allowance",
    ),
]


@pytest.fixture(scope="module")
def cases_world(tmp_path_factory) -> World:
    """Every case of CASES as person P<number>, beside the background person P0, built once."""
    world = world_of(tmp_path_factory.mktemp("entitlements"))
    for number, case in enumerate(CASES, start=1):
        person, records, _ = case.values
        world.add(f"P{number}", *person, records)
    world.build()
    return world


@pytest.mark.parametrize(
    ("number", "expected"),
    [pytest.param(n, case.values[2], id=case.id) for n, case in enumerate(CASES, start=1)],
)
def test_entitlements(cases_world, number, expected):
    assert entitlements_of(cases_world, f"P{number}") == expected


def test_the_background_person_is_entitled_to_nothing(cases_world):
    assert (
        entitlements_of(cases_world, "P0") == []
    )  # employed since the extract's first month, not recognized


def test_flexible_subsidy_and_removal_say_so_of_each_other(tmp_path):
    """The registration may end (FLEXIBLY_EMPLOYED, review) while the subsidy is owed: both rows say so."""
    world = world_of(tmp_path, MAN, [recognized(), *FLEXIBLE])
    world.build()
    ((evidence,),) = world.rows_of("SELECT evidence FROM out_entitlements WHERE person_id = 'P1'")
    assert evidence == (
        "认定日期 2025-02-10 [unemployment/t.csv:2]；补贴期限36个月，至 2028-02-09 | 仅有灵活就业缴费（已实缴）2026-10"
        " | 同一人因灵活就业列入应退出名单（需核实）：失业登记可以终止，补贴仍应享受"
    )
    assert world.rows_of("SELECT reasons, confidence, evidence FROM out_removals WHERE person_id = 'P1'") == [
        (
            "FLEXIBLY_EMPLOYED",
            "review",
            "FLEXIBLY_EMPLOYED: 仅有灵活就业缴费（已实缴）2026-10；同一人应享受就业困难人员社保补贴（灵活就业），"
            "补贴期限至 2028-02-09：失业登记可以终止，补贴仍应享受",
        )
    ]


def test_flexibly_employed_without_the_subsidy_is_a_plain_removal(tmp_path):
    world = world_of(tmp_path, MAN, [recognized(date(2023, 10, 22)), *FLEXIBLE])
    world.build()
    assert world.rows_of("SELECT evidence FROM out_removals WHERE person_id = 'P1'") == [
        ("FLEXIBLY_EMPLOYED: 仅有灵活就业缴费（已实缴）2026-10",)
    ]


def test_employer_row_names_the_employer_and_the_evidence(tmp_path):
    world = world_of(
        tmp_path, NEAR_RETIREMENT, [recognized(date(2023, 7, 22)), *employed(date(2026, 9, 1), employer="E7")]
    )
    world.build()
    assert world.rows_of(
        "SELECT * EXCLUDE (district, street, community, phone, address) FROM out_entitlements WHERE person_id = 'P1'"
    ) == [
        (
            "P1",
            "姓名P1",
            "SI_SUBSIDY_EMPLOYER",
            "E7",
            "E7公司",
            date(2028, 2, 14),
            "high",
            "认定日期 2023-07-22 [unemployment/t.csv:2]；法定退休日期 2028-02-15 距认定不足5年，补贴期限延至退休，"
            "至 2028-02-14 | 单位 E7公司（单位编号 E7）自 2026-09 起缴纳单位职工社保（已实缴），"
            "近3个月 2026-09,2026-10；缴费明细自 2026-05 起",
            date(2023, 7, 22),  # recognized_on, employed_from, paid_months: the employers' view
            date(2026, 9, 1),
            "2026-09,2026-10",
        )
    ]


def test_employer_known_by_name_only_and_renamed(tmp_path):
    """No 单位编号: the 单位名称 is the employer; a renamed employer is named as its latest month says."""
    records = [
        recognized(),
        paid(date(2026, 8, 1), employer=None, name="丙商店"),
        paid(date(2026, 9, 1), employer="E3", name="丁有限公司"),
        paid(date(2026, 10, 1), employer="E3", name="丁股份有限公司"),
    ]
    world = world_of(tmp_path, MAN, records)
    world.build()
    assert world.rows_of(
        "SELECT employer_id, employer_name FROM out_entitlements WHERE person_id = 'P1' ORDER BY ALL"
    ) == [("E3", "丁股份有限公司"), (None, "丙商店")]


def test_allowance_evidence_names_the_registration_and_the_household(tmp_path):
    world = world_of(tmp_path, MAN, [registration(), dibao(kind="城市低保边缘", household="H9")])
    world.build()
    assert world.rows_of("SELECT evidence FROM out_entitlements WHERE person_id = 'P1'") == [
        (
            "失业登记日期 2026-06-01 [unemployment/t.csv:2] | 城市低保边缘 户编号 H9 在保，劳动能力 有劳动能力，"
            "就业状况 失业 [dibao/t.csv:3] | 无单位职工/灵活就业缴费，低保记录未在业",
        )
    ]


def test_allowance_of_a_member_the_dibao_record_calls_unable_to_work_names_the_conflict(tmp_path):
    world = world_of(tmp_path, MAN, [registration(), dibao(capacity="完全丧失劳动能力", household="H9")])
    world.build()
    ((confidence, evidence),) = world.rows_of(
        "SELECT confidence, evidence FROM out_entitlements WHERE person_id = 'P1'"
    )
    assert confidence == "review"
    assert evidence.endswith(
        "需核实：低保记录 劳动能力 完全丧失劳动能力 [dibao/t.csv:3]，与失业登记（本人求职）矛盾，请核实哪条记录属实"
    )
    # the removal list asks the same case worker to settle it
    assert world.rows_of("SELECT reasons FROM out_removals WHERE person_id = 'P1'") == [("NO_WORK_CAPACITY",)]


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        pytest.param(DEFAULTS, [("SI_SUBSIDY_FLEXIBLE", None, date(2027, 5, 31), "high")], id="36-months"),
        pytest.param(RuleSettings(subsidy_months=24), [], id="24-months"),
        pytest.param(
            RuleSettings(
                subsidy_retirement_years=20
            ),  # retires 2043: within 20 years, so the period runs to it
            [("SI_SUBSIDY_FLEXIBLE", None, date(2042, 12, 31), "high")],
            id="20-year-extension",
        ),
        pytest.param(RuleSettings(lookback_months=1), [], id="lookback-1-month"),
    ],
)
def test_thresholds_come_from_the_settings(tmp_path, settings, expected):
    world = world_of(tmp_path, MAN, [recognized(date(2024, 6, 1)), paid(date(2026, 9, 1), kind="灵活就业")])
    world.build(settings=settings)
    assert entitlements_of(world) == expected


def test_extract_first_month_share_is_configurable(tmp_path):
    """With no share at all, one back-paid row makes the extract start in 2024: P1's 2026-05 job is a hire."""
    records = [
        recognized(date(2024, 6, 1)),
        paid(date(2024, 3, 1), employer="E9"),
        *employed(date(2026, 5, 1)),
    ]
    world = world_of(tmp_path, MAN, records)
    world.build(settings=RuleSettings(extract_month_min_share=1e-9))
    assert entitlements_of(world) == [("SI_SUBSIDY_EMPLOYER", "E1", date(2027, 5, 31), "high")]


def test_entitlement_columns_codes_and_labels(tmp_path):
    world = world_of(tmp_path, MAN, [recognized(), *FLEXIBLE])
    world.add("P2", *MAN, [registration(), dibao()])
    world.add("P3", *MAN, [recognized(date(2026, 7, 15)), *employed(date(2026, 7, 1))])
    summary = world.build()
    published = [c.name for c in OUT_ENTITLEMENTS.published]
    assert published[: len(SPEC_COLUMNS["entitlements"])] == SPEC_COLUMNS["entitlements"]
    assert summary["out_entitlements"] == 3
    emitted = {e for (e,) in world.rows_of("SELECT DISTINCT entitlement FROM out_entitlements")}
    assert emitted == {"SI_SUBSIDY_FLEXIBLE", "SI_SUBSIDY_EMPLOYER", "TEMP_LIVING_ALLOWANCE"}
    assert all(code in LABELS for code in emitted)


def test_an_entitlement_carries_where_the_person_lives(tmp_path):
    """As the other lists: facts_locations' district, street, community, phone and address, the evidence
    ending with where they came from; nothing when no source places the person."""
    address = "北京市东城区东华门街道多福巷1号"
    placed = {"street": "东华门街道", "community": "多福巷社区", "phone": "13800000000", "address": address}
    world = world_of(tmp_path, MAN, [Rec("unemployment", {**registration().values, **placed}), dibao()])
    world.add("P3", *MAN, [recognized(), *FLEXIBLE])
    world.build()
    (p1, p3) = world.rows_of(
        "SELECT person_id, district, street, community, phone, address, evidence FROM out_entitlements"
        " ORDER BY person_id"
    )
    assert p1[:6] == ("P1", "东城区", "东华门街道", "多福巷社区", "13800000000", address)
    ((located,),) = world.rows_of("SELECT evidence FROM facts_locations WHERE person_id = 'P1'")
    assert p1[6].endswith(f" | LOCATION: {located}")
    assert p3[1:6] == (None,) * 5 and "LOCATION" not in p3[6]


@pytest.mark.parametrize(
    "line",
    [
        "subsidy_months: 0",
        "subsidy_retirement_years: -1",
        "extract_month_min_share: 0",
        "extract_month_min_share: 1.5",
    ],
)
def test_entitlement_settings_are_validated(tmp_path, line):
    config = tmp_path / "aidmatch.yaml"
    config.write_text(f"rules:\n  {line}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=line.split(":")[0]):
        load_settings(config, environ={})


def test_the_generators_expected_entitlements_on_a_tiny_city():
    """data_samples/expected.py, the separate reading of SPEC the generated worlds are scored against."""
    man = ("男", date(1980, 1, 1))
    persons = pl.DataFrame(
        [(f"Q{i}", *man) for i in range(1, 7)], schema=["person_id", "sex", "birth_date"], orient="row"
    )
    contributions = [
        ("Q1", "202610", "灵活就业", None),  # flexibly employed
        *(("Q2", f"2026{m:02d}", "单位职工", "E1") for m in (7, 8, 9, 10)),  # hired the month of recognition
        *(("Q3", f"2026{m:02d}", "单位职工", "E2") for m in range(6, 11)),  # hired, 认定日期 empty
        *(("Q4", f"2026{m:02d}", "单位职工", "E3") for m in range(5, 11)),  # since the extract's first month
    ]
    records = {
        "si_contributions": pl.DataFrame(
            contributions,
            schema=["person_id", "period_month", "contribution_type", "employer_id"],
            orient="row",
        ).with_columns(payment_status=pl.lit("已实缴")),
        "dibao": pl.DataFrame(
            [
                ("Q5", "H1", "城市低保边缘", "在保", "有劳动能力", "失业"),
                ("Q6", "H2", "城市低保", "在保", "有劳动能力", "在业"),
            ],
            schema=[
                "person_id",
                "household_id",
                "assistance_type",
                "assistance_status",
                "work_capacity",
                "employment_status",
            ],
            orient="row",
        ),  # fmt: skip
        "disability": pl.DataFrame(
            {"person_id": [], "card_status": [], "valid_until": [], "disability_grade": []},
            schema={
                "person_id": pl.String,
                "card_status": pl.String,
                "valid_until": pl.Date,
                "disability_grade": pl.String,
            },
        ),  # fmt: skip
        "si_persons": pl.DataFrame({"person_id": ["Q1"], "person_status": ["参保缴费"]}),
    }
    registrations = pl.DataFrame(
        [
            ("Q1", "是", date(2025, 2, 10)),
            ("Q2", "是", date(2026, 7, 15)),
            ("Q3", "是", None),
            ("Q4", "是", date(2025, 2, 10)),
            ("Q5", "否", None),
            ("Q6", "否", None),
        ],
        schema={"person_id": pl.String, "is_difficult": pl.String, "recognized_on": pl.Date},
        orient="row",
    )
    world = SampleWorld(AS_OF, persons, records)
    facts = expected.person_facts(world)
    assert expected.entitlements(world, facts, registrations).rows() == [
        ("Q2", "SI_SUBSIDY_EMPLOYER", "E1", date(2029, 7, 14), "high"),
        ("Q3", "SI_SUBSIDY_EMPLOYER", "E2", None, "review"),
        ("Q1", "SI_SUBSIDY_FLEXIBLE", None, date(2028, 2, 9), "high"),
        ("Q5", "TEMP_LIVING_ALLOWANCE", None, None, "high"),
    ]
