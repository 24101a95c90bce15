"""The rules of SPEC section 4 (rules/): person facts and the three lists, on tiny hand-built worlds.

Each case builds a real DuckDB database in tmp_path holding the staged tables (created from the
declarations in sources/tables.py), `core_persons` and `core_person_links`, runs the rules and reads
the `out_*` tables back. The as-of date is 2026-11-22 unless a case says otherwise: the lookback
months are 2026-08, 2026-09 and 2026-10.
"""

import itertools
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest

from aidmatch.matching.link import linked_contributions_sql, profile_id_sql
from aidmatch.publish.printed_lists import labels_for_people
from aidmatch.resources import database_config
from aidmatch.rules.codes import CODES
from aidmatch.rules.facts import (
    PERSON_EMPLOYERS,
    PERSON_RECORDS,
    PERSON_WORK,
    build_night_facts,
    build_person_facts,
    build_unit,
    few_enough,
    make_again,
    update_night_facts,
)
from aidmatch.rules.lists import build_lists
from aidmatch.rules.settings import RuleSettings
from aidmatch.rules.sql_files import table_sql
from aidmatch.settings import Settings
from aidmatch.sources.tables import SOURCES, staged_columns
from aidmatch.tables import ddl
from aidmatch.tables.catalog import CORE_PERSON_LINKS, FACTS_PERSON_WORK
from aidmatch.work_database import dead_share

AS_OF = date(2026, 11, 22)
DEFAULTS = RuleSettings()


@dataclass(frozen=True)
class Rec:
    """One staged row of `source` for the case's person (unlinked: the linker found no person)."""

    source: str
    values: dict[str, Any] = field(default_factory=dict)
    linked: bool = True


def registration(
    on: date = date(2026, 6, 1), difficult: bool = False, categories: list[str] | None = None
) -> Rec:
    return Rec(
        "unemployment", {"registered_on": on, "is_difficult": difficult, "difficulty_categories": categories}
    )


def dibao(
    kind: str = "农村低保",
    status: str = "在保",
    capacity: str = "有劳动能力",
    employment: str = "失业",
    household: str = "H1",
) -> Rec:
    values = {
        "household_id": household,
        "assistance_type": kind,
        "assistance_status": status,
        "work_capacity": capacity,
        "employment_status": employment,
        "start_date": date(2024, 1, 1),
    }
    return Rec("dibao", values)


def card(grade: int = 4, status: str = "有效", valid_until: date = date(2030, 1, 1)) -> Rec:
    values = {
        "card_status": status,
        "disability_grade": grade,
        "valid_until": valid_until,
        "disability_category": "肢体",
    }
    return Rec("disability", values)


def contribution(month: date = date(2026, 10, 1), kind: str = "单位职工", paid: str = "已实缴") -> Rec:
    values = {
        "contribution_type": kind,
        "payment_status": paid,
        "period_month": month,
        "employer_name": "甲公司",
        "insurance_type": "企业职工基本养老保险",
    }
    return Rec("si_contributions", values)


def si_person(status: str) -> Rec:
    return Rec("si_persons", {"person_status": status})


def unlinked(rec: Rec) -> Rec:
    return replace(rec, linked=False)


class World:
    """A tiny database: staged tables as sources/tables.py declares them, plus the linker's two tables."""

    def __init__(self, directory: Path):
        path = directory / "world.duckdb"
        self.con = duckdb.connect(str(path), config=database_config(Settings(), path))  # as a night's
        for source in SOURCES:
            columns = ", ".join(f"{c.name} {c.sql_type}" for c in staged_columns(source))
            self.con.execute(f"CREATE TABLE staged_{source} ({columns})")
        ddl.create_table(self.con, CORE_PERSON_LINKS)  # its records' places stored, source_record virtual
        self.con.execute(
            "CREATE TABLE core_persons (person_id VARCHAR, name VARCHAR, sex VARCHAR, birth_date DATE,"
            " sources VARCHAR[], record_count INTEGER)"
        )
        self.rows = 0

    def person(self, person_id: str, sex: str, birth_date: date) -> str:
        self.con.execute(
            "INSERT INTO core_persons VALUES (?, ?, ?, ?, [], 0)",
            [person_id, f"姓名{person_id}", sex, birth_date],
        )
        return person_id

    def record(self, rec: Rec, person_id: str) -> str:
        """Insert the staged row and its link; returns its source_record."""
        self.rows += 1
        row_number = self.rows + 1  # below a header row
        source_record = f"{rec.source}/t.csv:{row_number}"
        row = {
            "source": rec.source,
            "source_record": source_record,
            "source_file": f"{rec.source}/t.csv",
            "source_row": row_number,
            "id_norm": person_id,
            "id_valid": rec.linked,
            **rec.values,
        }
        self.con.execute(
            f"INSERT INTO staged_{rec.source} ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",
            list(row.values()),
        )
        place = [rec.source, row["source_file"], row_number]
        if rec.linked:
            self.con.execute(
                "INSERT INTO core_person_links (source, source_file, source_row, person_id, method, score) "
                "VALUES (?, ?, ?, ?, 'exact_id', 1.0)",
                [*place, person_id],
            )
            self.con.execute(
                "UPDATE core_persons SET sources = list_distinct(list_append(sources, ?)),"
                " record_count = record_count + 1 WHERE person_id = ?",
                [rec.source, person_id],
            )
        else:
            self.con.execute(
                "INSERT INTO core_person_links (source, source_file, source_row, method) "
                "VALUES (?, ?, ?, 'unlinked:invalid_id')",
                place,
            )
        return source_record

    def add(self, person_id: str, sex: str, birth_date: date, records: list[Rec]) -> list[str]:
        self.person(person_id, sex, birth_date)
        return [self.record(rec, person_id) for rec in records]

    def build(self, as_of: date = AS_OF, settings: RuleSettings = DEFAULTS) -> dict[str, int]:
        # What the linker leaves beside its links: each linked contribution profile's person, and the view of
        # the linked contributions through them (matching/link.py).
        self.con.execute(
            f"""CREATE OR REPLACE TABLE core_profile_persons AS
                SELECT DISTINCT {profile_id_sql("s")} AS profile_id, l.person_id
                FROM staged_si_contributions AS s JOIN core_person_links AS l USING (source, source_record)
                WHERE l.person_id IS NOT NULL"""
        )
        self.con.execute(
            "CREATE OR REPLACE VIEW linked_si_contributions AS "
            + linked_contributions_sql("staged_si_contributions", "core_profile_persons")
        )
        build_person_facts(self.con, as_of, settings)
        return build_lists(self.con, as_of, settings)

    def rows_of(self, sql: str) -> list[tuple]:
        return self.con.execute(sql).fetchall()


MAN = ("男", date(1990, 5, 5))  # 36 on the as-of date: no AGE_4050
WOMAN = ("女", date(1992, 5, 5))  # 34


@pytest.mark.parametrize(
    ("person", "records", "expected"),
    [
        # RECOGNIZE: one case per reason
        pytest.param(MAN, [registration(), dibao()], ("RECOGNIZE", "DIBAO"), id="recognize-dibao"),
        pytest.param(
            MAN,
            [registration(), dibao(kind="农村低保边缘")],
            ("RECOGNIZE", "DIBAO"),
            id="recognize-dibao-edge",
        ),
        pytest.param(
            MAN, [registration(), card(grade=1)], ("RECOGNIZE", "DISABLED"), id="recognize-disabled-any-grade"
        ),
        pytest.param(
            ("女", date(1986, 11, 22)), [registration()], ("RECOGNIZE", "AGE_4050"), id="woman-40-today"
        ),
        pytest.param(("女", date(1986, 11, 23)), [registration()], None, id="woman-40-tomorrow"),
        pytest.param(
            ("男", date(1976, 11, 22)), [registration()], ("RECOGNIZE", "AGE_4050"), id="man-50-today"
        ),
        pytest.param(("男", date(1976, 11, 23)), [registration()], None, id="man-50-tomorrow"),
        pytest.param(
            MAN,
            [registration(on=date(2025, 11, 22))],
            ("RECOGNIZE", "LONG_TERM_UNEMPLOYED"),
            id="registered-12-months",
        ),
        pytest.param(MAN, [registration(on=date(2025, 11, 23))], None, id="registered-under-12-months"),
        pytest.param(
            MAN,
            [registration(), dibao(kind="城市低保")],
            ("RECOGNIZE", "DIBAO;ZERO_EMPLOYMENT_HOUSEHOLD"),
            id="recognize-zero-employment-household",
        ),
        pytest.param(
            ("女", date(1980, 1, 1)),
            [registration(on=date(2020, 1, 1)), dibao(), card()],
            ("RECOGNIZE", "AGE_4050;DIBAO;DISABLED;LONG_TERM_UNEMPLOYED"),
            id="recognize-reasons-sorted",
        ),
        # RECOGNIZE exclusions
        pytest.param(MAN, [registration()], None, id="registered-without-reason"),
        pytest.param(
            MAN, [registration(difficult=True, categories=["低保"]), dibao()], None, id="already-difficult"
        ),
        pytest.param(MAN, [registration(), dibao(), contribution()], None, id="registered-employed"),
        pytest.param(
            MAN,
            [registration(), dibao(), contribution(kind="灵活就业")],
            ("RECOGNIZE", "DIBAO"),
            id="flexible-not-employed",
        ),
        pytest.param(
            MAN,
            [registration(), dibao(), contribution(month=date(2026, 7, 1))],
            ("RECOGNIZE", "DIBAO"),
            id="contribution-4-months-back",
        ),
        pytest.param(
            MAN,
            [registration(), dibao(), contribution(month=date(2026, 8, 1))],
            None,
            id="contribution-3-months-back",
        ),
        pytest.param(
            MAN,
            [registration(), dibao(), contribution(month=date(2026, 11, 1))],
            ("RECOGNIZE", "DIBAO"),
            id="contribution-this-month",
        ),
        pytest.param(
            MAN,
            [registration(), dibao(), contribution(paid="欠费")],
            ("RECOGNIZE", "DIBAO"),
            id="arrears-do-not-count",
        ),
        pytest.param(
            MAN,
            [registration(), dibao(), contribution(kind="城乡居民")],
            ("RECOGNIZE", "DIBAO"),
            id="resident-insurance-says-nothing",
        ),
        pytest.param(("男", date(2010, 11, 23)), [registration(), dibao()], None, id="15-years-old"),
        pytest.param(
            ("男", date(2010, 11, 22)), [registration(), dibao()], ("RECOGNIZE", "DIBAO"), id="16-today"
        ),
        pytest.param(("男", date(1963, 1, 1)), [registration(), dibao()], None, id="past-retirement"),
        # SPEC lists no retired/dead exclusion for RECOGNIZE: the removal list takes such a person off
        pytest.param(
            MAN,
            [registration(), dibao(), si_person("死亡")],
            ("RECOGNIZE", "DIBAO"),
            id="registered-deceased",
        ),
        # OUTREACH: one case per reason
        pytest.param(MAN, [dibao()], ("OUTREACH", "DIBAO"), id="outreach-dibao"),
        pytest.param(
            MAN, [dibao(capacity="部分丧失劳动能力")], ("OUTREACH", "DIBAO"), id="outreach-partial-capacity"
        ),
        pytest.param(MAN, [card(grade=3)], ("OUTREACH", "DISABLED"), id="outreach-grade-3"),
        pytest.param(MAN, [card(grade=4), dibao()], ("OUTREACH", "DIBAO;DISABLED"), id="outreach-both"),
        pytest.param(
            MAN, [dibao(kind="城市低保")], ("OUTREACH", "DIBAO"), id="outreach-zero-household-member"
        ),
        pytest.param(
            MAN, [unlinked(registration()), dibao()], ("OUTREACH", "DIBAO"), id="unlinked-registration"
        ),
        pytest.param(MAN, [card(valid_until=AS_OF)], ("OUTREACH", "DISABLED"), id="card-valid-until-today"),
        # OUTREACH exclusions
        pytest.param(MAN, [card(grade=2)], None, id="outreach-grade-2"),
        pytest.param(MAN, [card(valid_until=date(2026, 11, 21))], None, id="card-expired-yesterday"),
        pytest.param(MAN, [card(status="过期")], None, id="card-status-expired"),
        pytest.param(MAN, [card(status="注销")], None, id="card-cancelled"),
        pytest.param(MAN, [dibao(capacity="完全丧失劳动能力")], None, id="no-work-capacity"),
        pytest.param(MAN, [dibao(employment="在校学生")], None, id="student"),
        pytest.param(
            MAN, [card(), dibao(status="停保", employment="在校学生")], None, id="student-in-stopped-dibao"
        ),
        pytest.param(
            MAN,
            [card(), dibao(status="停保", employment="在业")],
            ("OUTREACH", "DISABLED"),
            id="working-per-stopped-dibao-says-nothing",
        ),
        pytest.param(MAN, [dibao(employment="在业")], None, id="dibao-says-working"),
        pytest.param(MAN, [dibao(status="停保")], None, id="dibao-stopped"),
        pytest.param(MAN, [dibao(), contribution(kind="灵活就业")], None, id="flexibly-employed-is-working"),
        pytest.param(MAN, [dibao(), contribution()], None, id="employed-is-working"),
        pytest.param(MAN, [dibao(), si_person("离退休")], None, id="retired"),
        pytest.param(MAN, [unlinked(dibao())], None, id="unlinked-dibao"),
        pytest.param(("女", date(1970, 1, 1)), [dibao()], None, id="woman-past-retirement"),
    ],
)
def test_proactive(tmp_path, person, records, expected):
    world = World(tmp_path)
    world.add("P1", *person, records)
    world.build()
    assert world.rows_of("SELECT category, reasons FROM out_proactive") == ([expected] if expected else [])


def test_proactive_row_carries_identity_sources_confidence_and_evidence(tmp_path):
    world = World(tmp_path)
    records = world.add("P1", "女", date(1980, 1, 1), [registration(on=date(2020, 1, 1)), card()])
    world.con.execute(
        "UPDATE core_person_links SET method = 'fuzzy_name_dob_sex' WHERE source = 'disability'"
    )
    world.add("P2", *MAN, [dibao(), card()])
    world.build()
    outreach, row = world.rows_of("SELECT * FROM out_proactive")
    assert outreach[:8] == (
        "P2",
        "姓名P2",
        "男",
        MAN[1],
        "OUTREACH",
        "DIBAO;DISABLED",
        "dibao;disability",
        "exact",
    )
    assert row[:5] == ("P1", "姓名P1", "女", date(1980, 1, 1), "RECOGNIZE")
    assert row[5:8] == ("AGE_4050;DISABLED;LONG_TERM_UNEMPLOYED", "disability;unemployment", "fuzzy")
    evidence = row[8]  # district, street, community, phone, address come after it
    assert "AGE_4050: 女 46周岁" in evidence
    assert "失业登记日期 2020-01-01" in evidence
    assert f"有效期至 2030-01-01 [{records[1]}]" in evidence


@pytest.mark.parametrize(
    ("person", "records", "expected"),
    [
        pytest.param(
            MAN, [registration(), contribution()], [("unemployment", "EMPLOYED", "high")], id="employed"
        ),
        pytest.param(
            MAN,
            [registration(), contribution(kind="灵活就业")],
            [("unemployment", "FLEXIBLY_EMPLOYED", "review")],
            id="flexibly-employed",
        ),
        pytest.param(
            MAN,
            [registration(), contribution(kind="灵活就业"), contribution()],
            [("unemployment", "EMPLOYED", "high")],
            id="employed-and-flexible-is-employed",
        ),
        pytest.param(
            MAN, [registration(), contribution(kind="城乡居民")], [], id="resident-insurance-says-nothing"
        ),
        pytest.param(MAN, [registration(), contribution(paid="欠费")], [], id="arrears-do-not-count"),
        pytest.param(
            MAN,
            [registration(), contribution(month=date(2026, 8, 1))],
            [("unemployment", "EMPLOYED", "high")],
            id="contribution-3-months-back",
        ),
        pytest.param(
            MAN, [registration(), contribution(month=date(2026, 7, 1))], [], id="contribution-4-months-back"
        ),
        pytest.param(
            ("男", date(1960, 1, 1)),
            [registration(), si_person("离退休")],
            [("unemployment", "RETIRED", "high")],
            id="retired",
        ),
        pytest.param(
            ("男", date(1960, 1, 1)),
            [registration()],
            [("unemployment", "RETIREMENT_AGE", "review")],
            id="retirement-age-without-pension",
        ),
        pytest.param(
            MAN, [registration(), si_person("死亡")], [("unemployment", "DECEASED", "high")], id="deceased"
        ),
        pytest.param(MAN, [registration(), si_person("暂停缴费")], [], id="si-suspended-says-nothing"),
        pytest.param(
            MAN,
            [registration(), dibao(capacity="完全丧失劳动能力")],
            [("unemployment", "NO_WORK_CAPACITY", "review")],
            id="no-work-capacity",
        ),
        pytest.param(
            MAN,
            [registration(), dibao(capacity="完全丧失劳动能力", status="停保")],
            [("unemployment", "NO_WORK_CAPACITY", "review")],
            id="no-work-capacity-stopped-record",
        ),
        pytest.param(
            MAN,
            [registration(difficult=True, categories=["低保"])],
            [("employment_difficulty", "BASIS_ENDED", "review")],
            id="basis-ended-dibao",
        ),
        pytest.param(
            MAN,
            [
                registration(difficult=True, categories=["残疾", "低保"]),
                dibao(status="停保"),
                card(status="注销"),
            ],
            [("employment_difficulty", "BASIS_ENDED", "review")],
            id="basis-ended-both",
        ),
        pytest.param(
            MAN,
            [registration(difficult=True, categories=["残疾"]), card(valid_until=date(2026, 1, 1))],
            [("employment_difficulty", "BASIS_ENDED", "review")],
            id="basis-ended-expired-card",
        ),
        pytest.param(
            MAN, [registration(difficult=True, categories=["低保"]), dibao()], [], id="basis-holds-dibao"
        ),
        pytest.param(
            MAN,
            [registration(difficult=True, categories=["低保"]), card()],
            [("employment_difficulty", "BASIS_ENDED", "review")],
            id="basis-ended-unlisted-card-does-not-count",
        ),
        pytest.param(
            MAN,
            [registration(difficult=True, categories=["低保", "大龄"])],
            [],
            id="basis-has-other-category",
        ),
        pytest.param(MAN, [registration(difficult=True, categories=None)], [], id="basis-unknown"),
        pytest.param(
            MAN,
            [registration(difficult=True, categories=["残疾"]), contribution()],
            [("unemployment", "EMPLOYED", "high"), ("employment_difficulty", "BASIS_ENDED", "review")],
            id="difficulty-roll-carries-only-its-own-reason",
        ),
        pytest.param(MAN, [registration(), dibao(), card()], [], id="nothing-to-remove"),
        pytest.param(
            MAN, [unlinked(registration()), contribution()], [], id="unlinked-registration-left-out"
        ),
        pytest.param(
            MAN, [registration(), unlinked(contribution())], [], id="unlinked-contribution-says-nothing"
        ),
    ],
)
def test_removals_single_registration(tmp_path, person, records, expected):
    world = World(tmp_path)
    world.add("P1", *person, records)
    world.build()
    assert world.rows_of("SELECT roll, reasons, confidence FROM out_removals ORDER BY roll DESC") == expected


@pytest.mark.parametrize(
    ("registrations", "duplicates"),
    [
        pytest.param(
            [registration(on=date(2026, 3, 1)), registration(on=date(2026, 1, 1))], [0], id="later-date"
        ),
        pytest.param([registration(), registration()], [1], id="exact-copy-later-row"),
        pytest.param([registration(on=None), registration()], [0], id="unknown-date-last"),
        pytest.param([registration(), registration(), registration()], [1, 2], id="three-times"),
    ],
)
def test_duplicate_registrations(tmp_path, registrations, duplicates):
    world = World(tmp_path)
    records = world.add("P1", *MAN, registrations)
    world.build()
    rows = world.rows_of("SELECT source_record, reasons, confidence, evidence FROM out_removals")
    assert sorted(r[0] for r in rows) == sorted(records[i] for i in duplicates)
    assert {r[1:3] for r in rows} == {("DUPLICATE", "high")}
    kept = next(r for i, r in enumerate(records) if i not in duplicates)
    assert all(f"[{kept}]" in r[3] for r in rows)


def test_removal_evidence_names_months_employer_and_records(tmp_path):
    world = World(tmp_path)
    records = world.add(
        "P1",
        *MAN,
        [
            registration(),
            contribution(month=date(2026, 9, 1)),
            contribution(month=date(2026, 8, 1)),
            si_person("死亡"),
        ],
    )
    world.build()
    ((source_record, evidence),) = world.rows_of("SELECT source_record, evidence FROM out_removals")
    assert source_record == records[0]
    assert "EMPLOYED: 单位职工缴费（已实缴）2026-08,2026-09，单位：甲公司" in evidence
    assert f"DECEASED: 社保个人状态 死亡，死亡日期 空 [{records[3]}]" in evidence


RETIREMENT_VECTORS = [
    # (sex, birth, women's base setting, statutory retirement date) from SPEC section 4
    pytest.param("男", date(1970, 3, 31), 55, date(2031, 7, 31), id="man"),
    pytest.param("女", date(1978, 5, 10), 55, date(2035, 7, 10), id="woman-55"),
    pytest.param("女", date(1980, 8, 31), 50, date(2033, 6, 30), id="woman-50"),
]


@pytest.mark.parametrize(("sex", "birth", "women_base", "retires_on"), RETIREMENT_VECTORS)
@pytest.mark.parametrize("days_after", [-1, 0, 1])
def test_working_age_ends_on_the_statutory_retirement_date(
    tmp_path, sex, birth, women_base, retires_on, days_after
):
    as_of = date.fromordinal(retires_on.toordinal() + days_after)
    world = World(tmp_path)
    world.add("P1", sex, birth, [registration(on=date(2020, 1, 1))])
    world.build(as_of, RuleSettings(default_women_retirement_base=women_base))
    working_age, retirement_date = world.rows_of("SELECT working_age, retirement_date FROM facts_persons")[0]
    assert retirement_date == retires_on
    assert working_age == (days_after < 0)
    removal_reasons = world.rows_of("SELECT reasons FROM out_removals")
    assert removal_reasons == ([] if days_after < 0 else [("RETIREMENT_AGE",)])


def test_women_default_to_the_55_base(tmp_path):
    world = World(tmp_path)
    world.add("P1", "女", date(1980, 8, 31), [])
    world.add("P2", None, date(1980, 8, 31), [])
    world.build()
    assert world.rows_of("SELECT person_id, retirement_category FROM facts_persons") == [
        ("P1", "women_55"),
        ("P2", "men"),
    ]


@pytest.mark.parametrize(
    ("members", "expected"),
    [
        pytest.param([(MAN, [dibao(kind="城市低保")])], ("POTENTIAL", 1, 0, "P0"), id="potential"),
        pytest.param([(MAN, [dibao(kind="城市低保边缘")])], ("POTENTIAL", 1, 0, "P0"), id="urban-edge"),
        pytest.param(
            [(MAN, [dibao(kind="城市低保"), registration()])],
            ("CONFIRMED", 1, 1, "P0"),
            id="confirmed-registered",
        ),
        pytest.param([(MAN, [dibao(kind="农村低保")])], None, id="rural"),
        pytest.param([(MAN, [dibao(kind="城市低保", status="停保")])], None, id="stopped"),
        pytest.param([(MAN, [dibao(kind="城市低保"), contribution()])], None, id="member-employed"),
        pytest.param(
            [(MAN, [dibao(kind="城市低保"), contribution(kind="灵活就业")])], None, id="member-flexible"
        ),
        pytest.param([(MAN, [dibao(kind="城市低保", employment="在业")])], None, id="member-says-working"),
        pytest.param(
            [(MAN, [dibao(kind="城市低保"), contribution(kind="城乡居民")])],
            ("POTENTIAL", 1, 0, "P0"),
            id="resident-insurance-says-nothing",
        ),
        pytest.param(
            [
                (MAN, [dibao(kind="城市低保", employment="在校学生")]),
                (WOMAN, [dibao(kind="城市低保", capacity="完全丧失劳动能力")]),
                (("男", date(1950, 1, 1)), [dibao(kind="城市低保", employment="退休")]),
            ],
            None,
            id="no-counted-member",
        ),
        pytest.param(
            [
                (MAN, [dibao(kind="城市低保")]),
                (WOMAN, [dibao(kind="城市低保", employment="在校学生"), contribution(kind="灵活就业")]),
                (("男", date(2015, 1, 1)), [dibao(kind="城市低保", employment="其他")]),
            ],
            ("POTENTIAL", 1, 0, "P0;P1;P2"),
            id="only-counted-members-matter",
        ),
        pytest.param(
            [
                (MAN, [dibao(kind="城市低保")]),
                (WOMAN, [dibao(kind="城市低保", status="停保"), contribution()]),
            ],
            None,
            id="a-stopped-member-still-belongs",
        ),
        pytest.param(
            [
                (MAN, [dibao(kind="城市低保")]),
                (WOMAN, [dibao(kind="城市低保", household="H2"), registration()]),
            ],
            ("POTENTIAL", 1, 0, "P0"),
            id="other-household",
        ),
        pytest.param(
            [
                (MAN, [dibao(kind="城市低保")]),
                (WOMAN, [dibao(kind="城市低保", employment="在校学生"), registration()]),
            ],
            ("CONFIRMED", 1, 1, "P0;P1"),
            id="registered-working-age-student-confirms",
        ),
        pytest.param(
            [
                (MAN, [dibao(kind="城市低保")]),
                (("男", date(1950, 1, 1)), [dibao(kind="城市低保"), registration()]),
            ],
            ("POTENTIAL", 1, 0, "P0;P1"),
            id="registered-past-retirement-does-not-confirm",
        ),
    ],
)
def test_zero_employment_households(tmp_path, members, expected):
    world = World(tmp_path)
    for i, (person, records) in enumerate(members):
        world.add(f"P{i}", *person, records)
    world.build()
    rows = world.rows_of(
        "SELECT status, working_age_members, registered_unemployed_members, member_ids"
        " FROM out_zero_employment_households WHERE household_id = 'H1'"
    )
    assert rows == ([expected] if expected else [])


def test_zero_employment_household_evidence_names_members_and_unlinked_rows(tmp_path):
    world = World(tmp_path)
    world.add("P0", *MAN, [dibao(kind="城市低保"), registration()])
    world.add("P1", *WOMAN, [dibao(kind="城市低保", employment="在校学生")])
    (unlinked_record,) = world.add("P2", *WOMAN, [unlinked(dibao(kind="城市低保"))])
    summary = world.build()
    ((evidence,),) = world.rows_of("SELECT evidence FROM out_zero_employment_households")
    assert evidence == (
        "城市低保 在保；计入成员：P0（已登记失业），均无单位职工/灵活就业缴费、无在业记录；"
        f"不计入：P1（在校学生）；未能关联的成员记录：{unlinked_record}"
    )
    assert summary["unlinked_dibao_records"] == 1
    assert summary["out_zero_employment_households"] == 1


def test_every_emitted_code_has_a_label(tmp_path):
    world = World(tmp_path)
    world.add(
        "P0", "女", date(1980, 1, 1), [registration(on=date(2020, 1, 1)), dibao(kind="城市低保"), card()]
    )
    world.add("P1", *MAN, [registration(difficult=True, categories=["残疾"]), registration(), contribution()])
    world.add("P2", *MAN, [card()])
    world.build()
    emitted = world.rows_of(
        "SELECT category AS code FROM out_proactive"
        " UNION SELECT unnest(string_split(reasons, ';')) FROM out_proactive"
        " UNION SELECT unnest(string_split(reasons, ';')) FROM out_removals"
        " UNION SELECT roll FROM out_removals UNION SELECT confidence FROM out_removals"
        " UNION SELECT status FROM out_zero_employment_households"
    )
    known = {c.code for c in CODES}
    assert {code for (code,) in emitted} == {
        "RECOGNIZE", "OUTREACH",  # P0, P2
        "AGE_4050", "DIBAO", "DISABLED", "LONG_TERM_UNEMPLOYED", "ZERO_EMPLOYMENT_HOUSEHOLD",  # P0
        "EMPLOYED", "DUPLICATE", "BASIS_ENDED",  # P1: employed, registered twice, once as 残疾 without a card
        "unemployment", "employment_difficulty", "high", "review", "CONFIRMED",
    }  # fmt: skip
    assert {code for (code,) in emitted} <= known
    people = labels_for_people(pl.DataFrame({"reasons": ["DIBAO;RECOGNIZE"]}))
    assert people["reasons"].to_list() == ["低保/低保边缘家庭成员、应认定就业困难人员"]
    evidence = (
        "DIBAO: 低保 [dibao/a.xlsx#Sheet2:3] | LOCATION: 街道取自[unemployment/t.csv:9] | AGE_4050: 45岁"
    )
    printed = labels_for_people(pl.DataFrame({"evidence": [evidence]}))["evidence"].to_list()
    assert printed == [
        "低保/低保边缘家庭成员：低保 [低保 a.xlsx 工作表Sheet2 第3行]\n大龄（“4050”人员）：45岁"
    ], "one reason a line, in Chinese; where the contact columns came from is left to the CSV"


def test_list_columns_follow_the_spec(tmp_path):
    """SPEC section 5: its columns in order and `evidence`, then (person rows) district, street, community,
    phone, address and (households) district, street and the members' names, then (proactive) the latest
    visit's outcome (SPEC section 6): added at the end, as the contract's minor versions add columns."""
    world = World(tmp_path)
    world.build()

    def columns(table: str) -> list[str]:
        return [c[0] for c in world.rows_of(f"DESCRIBE {table}")]

    contact = ["district", "street", "community", "phone", "address"]
    assert columns("out_proactive") == [
        "person_id", "name", "sex", "birth_date", "category", "reasons", "sources", "match_confidence",
        "evidence", *contact, "outcome", "outcome_date", "revisit_on",
    ]  # fmt: skip
    assert columns("out_removals") == [
        "person_id", "name", "roll", "reasons", "confidence", "source_record", "evidence", *contact,
    ]  # fmt: skip
    assert columns("out_zero_employment_households") == [
        "household_id", "status", "working_age_members", "registered_unemployed_members", "member_ids",
        "evidence", "district", "street", "member_names", "member_relations",
    ]  # fmt: skip


# --- where people live (facts_locations, SPEC section 5 "点对点") ----------------------------------


def _registered_at(address: str | None, street: str | None = None, community: str | None = None, phone=None):
    values = {"address": address, "street": street, "community": community, "phone": phone}
    return replace(registration(), values={**registration().values, **values})


def _location(world: World, person_id: str) -> tuple:
    (row,) = world.rows_of(
        f"SELECT district, street, community, phone, address, evidence FROM facts_locations WHERE person_id = '{person_id}'"
    )
    return row


def test_location_takes_each_field_from_the_best_source_and_says_which(tmp_path):
    """登记失业 first (where the person lives now), then 低保, then the card's 户籍地址; within a record a stated
    column before what its address spells out; each field's record named in the evidence."""
    world = World(tmp_path)
    dibao_place = replace(dibao(), values={**dibao().values, "district": "南湖区", "street": "新兴街道"})
    home = "浙江省嘉兴市南湖区新兴街道紫阳社区12幢"
    card_home = replace(card(), values={**card().values, "address": "浙江省嘉兴市海宁市硖石街道东山社区5号"})
    a, b, c, d = "110101199001010011", "110101199001010038", "110101199001010054", "110101199001010070"
    registered = world.add(
        a, *MAN, [_registered_at(home, "紫阳街道", None, "13800000000"), dibao_place, card_home]
    )
    on_dibao = world.add(b, *MAN, [dibao_place, card_home])
    carded = world.add(c, *MAN, [card_home])
    world.add(d, *MAN, [contribution()])
    world.build()
    assert _location(world, a) == (
        "南湖区", "紫阳街道", "紫阳社区", "13800000000", home,
        f"街道、电话、地址取自[{registered[0]}]，区县、社区据其地址",
    )  # fmt: skip
    assert _location(world, b) == (
        "南湖区", "新兴街道", "东山社区", None, "浙江省嘉兴市海宁市硖石街道东山社区5号",
        f"区县、街道取自[{on_dibao[0]}]；地址取自[{on_dibao[1]}]，社区据其地址",
    )  # fmt: skip
    assert _location(world, c)[:3] == ("海宁市", "硖石街道", "东山社区")
    assert _location(world, c)[5] == f"地址取自[{carded[0]}]，区县、街道、社区据其地址"
    assert world.rows_of(f"SELECT count(*) FROM facts_locations WHERE person_id = '{d}'") == [(0,)]


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("北京市西城区新街口街道第二社区37号楼", ("西城区", "新街口街道", "第二社区")),
        ("嘉兴市海宁市许村镇许巷村3组", ("海宁市", "许村镇", "许巷村")),
        ("桐乡市梧桐街道振东社区", ("桐乡市", "梧桐街道", "振东社区")),  # a county-level city, no 区
        ("内蒙古自治区呼和浩特市新城区海拉尔东路街道", ("新城区", "海拉尔东路街道", None)),
        ("吉林省延边朝鲜族自治州延吉市建工街道", ("延吉市", "建工街道", None)),
        ("宁波市镇海区招宝山街道", ("镇海区", "招宝山街道", None)),
        ("东莞市虎门镇阳光小区", ("东莞市", "虎门镇", None)),  # 阳光小区 is no district
        ("月坛街道南礼士路新村5号", (None, "月坛街道", None)),  # 新村 is a compound, no 村
        ("阜外大街12号", (None, None, None)),
    ],
)
def test_an_address_names_its_district_street_and_community(tmp_path, address, expected):
    world = World(tmp_path)
    person = "110101199001010011"
    world.add(person, *MAN, [replace(card(), values={**card().values, "address": address})])
    world.build()
    assert _location(world, person)[:3] == expected


def test_lists_carry_the_contact_columns_and_the_location_evidence(tmp_path):
    world = World(tmp_path)
    person = "110101199001010011"
    home = "北京市东城区东华门街道多福巷社区1号"
    (record,) = world.add(person, *MAN, [_registered_at(home, "东华门街道", "多福巷社区", "13800000000")])
    world.con.execute(
        "INSERT INTO staged_unemployment (source, source_record, source_file, source_row, id_norm, id_valid, "
        "registered_on, street) VALUES ('unemployment', 'unemployment/t.csv:9', 'unemployment/t.csv', 9, ?, "
        "true, DATE '2026-09-01', '别的街道')",
        [person],
    )
    world.con.execute(
        "INSERT INTO core_person_links (source, source_file, source_row, person_id, method, score) "
        "VALUES ('unemployment', 'unemployment/t.csv', 9, ?, 'exact_id', 1)",
        [person],
    )
    world.build()
    # the latest registration (2026-09-01) gives the street; the earlier one the rest; both rows say so
    rows = world.rows_of(
        "SELECT source_record, reasons, district, street, community, phone, address, evidence FROM out_removals"
    )
    assert [r[:7] for r in rows] == [
        ("unemployment/t.csv:9", "DUPLICATE", "东城区", "别的街道", "多福巷社区", "13800000000", home)
    ]
    assert rows[0][7].endswith(
        f" | LOCATION: 社区、电话、地址取自[{record}]，区县据其地址；街道取自[unemployment/t.csv:9]"
    ), "one phrase per record, in the order of the first field each gives"


def test_zero_employment_household_names_its_members_and_place(tmp_path):
    world = World(tmp_path)
    head, child = "110101199001010011", "110101199001010038"

    def member(relation: str, street: str | None) -> Rec:
        values = {
            **dibao(kind="城市低保").values,
            "relation": relation,
            "district": "东城区",
            "street": street,
        }
        return Rec("dibao", values)

    world.add(child, *WOMAN, [member("子女", "别的街道")])
    (head_record,) = world.add(head, *MAN, [member("户主", "东华门街道")])
    world.con.execute("UPDATE staged_dibao SET head_id_norm = ?", [head])
    world.build()
    (row,) = world.rows_of(
        "SELECT member_ids, member_names, member_relations, district, street, evidence FROM out_zero_employment_households"
    )
    assert row[:5] == (f"{head};{child}", f"姓名{head};姓名{child}", "户主;子女", "东城区", "东华门街道")
    assert row[5].endswith(f"；区县、街道取自户主的低保记录[{head_record}]")


def test_the_look_back_built_in_parts_is_the_look_back_built_at_once(tmp_path, monkeypatch):
    """facts_person_work is built persons part by part when they are many (rules/facts.py): each person in
    exactly one part, every part's rows the rows one pass gives."""
    world = World(tmp_path)
    months = [date(2026, 8, 1), date(2026, 9, 1), date(2026, 10, 1)]
    for number in range(12):
        records = [contribution(months[number % 3], kind="灵活就业" if number % 4 == 0 else "单位职工")]
        records += [replace(contribution(m), values={**contribution(m).values, "employer_name": f"乙{number}"})
                    for m in months[: number % 3]]  # fmt: skip
        world.add(f"P{number:02d}", *MAN, records)
    world.build()
    query = "SELECT * FROM facts_person_work ORDER BY person_id"
    at_once = world.rows_of(query)
    assert len(at_once) == 12
    monkeypatch.setattr("aidmatch.rules.facts.PERSONS_PER_PART", 5)  # 12 persons: three parts
    parts: dict[str, int | None] = {}

    def build_table(con, table, *args, **kwargs):
        parts[table.name] = kwargs.get("parts")
        return ddl.build_table(con, table, *args, **kwargs)

    monkeypatch.setattr("aidmatch.rules.facts.build_table", build_table)  # the real one, parts noted
    world.build()
    assert parts["facts_person_work"] == 3
    assert world.rows_of(query) == at_once
    # The part is chosen by an unsigned modulo of the hash: an untyped $parts made it HUGEINT, forty times
    # slower on a province's contributions.
    plan = world.con.execute(
        f"EXPLAIN {table_sql(FACTS_PERSON_WORK)}",
        {"as_of": AS_OF, "lookback_months": 3, "part": 0, "parts": 3},
    ).fetchall()
    assert "(hash(person_id) % 3) = 0" in plan[0][1] and "HUGEINT" not in plan[0][1]


def _kept_and_whole(tmp_path: Path, people: list[tuple[str, str, date, list[Rec]]]) -> tuple[World, World]:
    """Two worlds of the same `people`: one whose facts are brought forward, one built whole to compare."""
    (tmp_path / "whole").mkdir()
    kept, whole = World(tmp_path), World(tmp_path / "whole")
    for world in (kept, whole):
        for person_id, sex, birth, records in people:
            world.add(person_id, sex, birth, records)
    return kept, whole


def test_facts_made_again_for_the_persons_of_re_sent_records_are_the_facts_built_whole(tmp_path):
    """A source re-sent with its records linked as they were — other dates and statuses — has the rows of
    the persons of its records made again (make_again, then update_night_facts with them), the others'
    kept: the tables are those built whole from the re-sent records."""
    people = [
        (f"P{n}", "男" if n % 2 else "女", date(1966 + 2 * n, 1 + n % 12, 1 + n),
         [registration(on=date(2026, 1, 1 + n)), dibao(household=f"H{n % 3}"), card()])
        for n in range(10)
    ]  # fmt: skip
    people.append(("ELSE", *MAN, [dibao(household="H9")]))  # no unemployment record: kept as it was
    kept, whole = _kept_and_whole(tmp_path, people)
    for world in (kept, whole):
        world.build(AS_OF)
    query = "SELECT * FROM {} ORDER BY ALL"
    before = kept.rows_of(query.format("facts_person_records"))
    for world in (kept, whole):
        world.con.execute(
            "UPDATE staged_unemployment SET is_difficult = NOT coalesce(is_difficult, false), "
            "registered_on = registered_on - 40 WHERE source_row % 3 <> 0"
        )
    kept.con.execute(
        "CREATE TEMP TABLE again AS SELECT DISTINCT person_id FROM core_person_links "
        "WHERE source = 'unemployment' AND person_id IS NOT NULL"
    )
    make_again(kept.con, PERSON_RECORDS, AS_OF, DEFAULTS, "again")
    update_night_facts(kept.con, AS_OF, AS_OF, DEFAULTS, "again")
    build_person_facts(whole.con, AS_OF, DEFAULTS)
    for table in ("facts_person_records", "facts_locations", "facts_persons"):
        assert kept.rows_of(query.format(table)) == whole.rows_of(query.format(table)), table
    assert kept.rows_of(query.format("facts_person_records")) != before  # the re-sent records said otherwise
    # the shadowing views are gone: the facts' SQL reads every person again
    assert kept.rows_of("SELECT count(*) FROM core_persons") == [(11,)]


def test_look_back_and_employers_made_again_for_a_few_persons_are_those_built_whole(tmp_path):
    """The look-back's contributions and the employers of recognized persons made again for some persons
    (their linked contributions found through their links, `contributions_of_persons_sql`) are the rows
    built whole: another employer, a month unpaid, a recognition lost; the other persons' rows kept."""
    people = [
        (f"P{n}", *MAN, [registration(difficult=True), *(contribution(date(2026, m, 1)) for m in (8, 9, 10))])
        for n in range(6)
    ]
    people.append(("UNLINKED", *MAN, [registration(difficult=True), Rec("si_contributions", linked=False)]))
    kept, whole = _kept_and_whole(tmp_path, people)
    for world in (kept, whole):
        world.build(AS_OF)
        world.con.execute(
            "UPDATE staged_si_contributions SET employer_name = '乙公司' WHERE id_norm = 'P1' AND source_row % 2 = 0"
        )
        world.con.execute("UPDATE staged_si_contributions SET payment_status = '欠费' WHERE id_norm = 'P2'")
        world.con.execute("UPDATE facts_person_records SET is_difficult = false WHERE person_id = 'P3'")
    query = "SELECT * FROM {} ORDER BY ALL"
    before = kept.rows_of(query.format("facts_person_employers"))
    kept.con.execute("CREATE TEMP TABLE again AS SELECT unnest(['P1', 'P2', 'P3']) AS person_id")
    for unit in (PERSON_WORK, PERSON_EMPLOYERS):
        make_again(kept.con, unit, AS_OF, DEFAULTS, "again")
        build_unit(whole.con, unit, AS_OF, DEFAULTS)
    for table in ("facts_person_work", "facts_person_employers"):
        assert kept.rows_of(query.format(table)) == whole.rows_of(query.format(table)), table
    assert kept.rows_of(query.format("facts_person_employers")) != before
    assert {row[0] for row in before} == {"P0", "P1", "P2", "P3", "P4", "P5"}


def test_a_unit_is_made_again_for_at_most_a_quarter_of_the_persons(tmp_path):
    """Past DEAD_SHARE_REWRITTEN of the persons, a unit is built whole rather than made again for them: the
    rows made again would have its tables written anew all the same."""
    world = World(tmp_path)
    for n in range(8):
        world.add(f"P{n}", *MAN, [registration()])

    def few(persons: int) -> bool:
        world.con.execute(
            f"CREATE OR REPLACE TEMP TABLE again AS SELECT 'P' || range AS person_id FROM range({persons})"
        )
        return few_enough(world.con, "again")

    assert few(0) and few(2)  # 2 of 8: a quarter
    assert not few(3)


def test_a_checkpoint_of_a_work_database_leaves_deleted_rows_where_they_lie(tmp_path):
    """With DuckDB's vacuum on, a checkpoint after half of a table's rows were deleted over its three row
    groups rewrote the first two into one; a work database keeps them as they are (resources.database_config)."""
    path = tmp_path / "work.duckdb"
    con = duckdb.connect(str(path), config=database_config(Settings(), path))
    con.execute("CREATE TABLE t AS SELECT range AS n, 'row ' || range AS text FROM range(300000)")
    con.execute("CHECKPOINT")
    con.execute("DELETE FROM t WHERE n % 2 = 0")
    con.execute("CHECKPOINT")
    assert dead_share(con, "t") == pytest.approx(0.5)


def test_rows_made_again_stay_deleted_in_the_file_until_they_pass_a_quarter_of_it(tmp_path):
    """The rows a night makes again are deleted where they lie, in every row group: DuckDB's vacuum, which at
    a checkpoint rewrote the whole table for them, is off in a work database (resources.database_config).
    A table whose file holds deleted rows past DEAD_SHARE_REWRITTEN of its rows is written anew: the same
    rows, the same declared columns, none deleted."""
    world = World(tmp_path)
    for n in range(20):
        world.add(f"P{n:02d}", *MAN, [registration(on=date(2026, 1, 1 + n))])
    world.build(AS_OF)
    con = world.con
    rows = world.rows_of("SELECT * FROM facts_person_records ORDER BY ALL")
    columns = world.rows_of("DESCRIBE facts_person_records")

    def again(persons: list[str]) -> float:
        con.execute("CREATE OR REPLACE TEMP TABLE again (person_id VARCHAR)")
        con.executemany("INSERT INTO again VALUES (?)", [[p] for p in persons])
        make_again(con, PERSON_RECORDS, AS_OF, DEFAULTS, "again")
        con.execute("CHECKPOINT")
        return dead_share(con, "facts_person_records")

    assert again(["P00", "P01", "P02"]) == pytest.approx(3 / 23)  # kept in the file past the checkpoint
    assert again(["P03", "P04", "P05", "P06"]) == 0  # 7 of 27: written anew
    assert world.rows_of("SELECT * FROM facts_person_records ORDER BY ALL") == rows
    assert world.rows_of("DESCRIBE facts_person_records") == columns


def test_facts_brought_to_a_later_date_are_the_facts_built_for_it(tmp_path):
    """An unchanged night keeps the night before's facts_persons and makes again only the rows of the
    persons the date moved (rules/persons_moved.sql). Across a year of nights, each a few days after the
    last, the rows so brought forward are the rows built whole for that night: a 16th birthday, a birthday on
    29 February, a retirement, a card running out, a later card running out where an earlier one holds on."""
    start, end = date(2026, 11, 22), date(2027, 12, 31)
    people = [
        ("TEEN", "男", date(2011, 3, 1), [registration(on=date(2026, 1, 5))]),  # 16 on 2027-03-01
        ("LEAP", "女", date(2008, 2, 29), [registration(on=date(2026, 1, 5))]),
        ("RETIRES", "男", date(1966, 9, 20), [registration(on=date(2020, 1, 1)), contribution()]),
        ("CARD", "女", date(1980, 4, 2), [card(valid_until=date(2027, 2, 14)), registration()]),
        ("TWO_CARDS", "男", date(1975, 7, 7), [card(valid_until=date(2030, 1, 1)), card(valid_until=date(2027, 6, 30))]),
        *((f"P{n}", "男" if n % 2 else "女", date(1960 + 3 * n, 1 + n % 12, 1 + 2 * n), [registration()])
          for n in range(12)),
    ]  # fmt: skip
    kept, whole = _kept_and_whole(tmp_path, people)
    for world in (kept, whole):
        # the card that runs out first was issued last: it is the one persons.sql takes while valid
        world.con.execute(
            "UPDATE staged_disability SET issued_on = CASE WHEN valid_until < DATE '2028-01-01' "
            "THEN DATE '2026-06-30' ELSE DATE '2025-01-01' END"
        )
        world.build(start)
    query = "SELECT * FROM facts_persons ORDER BY person_id"
    first = {row[0]: row for row in kept.rows_of(query)}
    then = start
    for step in itertools.cycle([1, 2, 3, 5, 8, 13]):
        night = then + timedelta(days=step)
        if night > end:
            break
        update_night_facts(kept.con, then, night, DEFAULTS)
        build_night_facts(whole.con, night, DEFAULTS)
        assert kept.rows_of(query) == whole.rows_of(query), f"{then} -> {night}"
        then = night
    last = {row[0]: row for row in kept.rows_of(query)}
    columns = [name for (name,) in kept.rows_of("SELECT column_name FROM (DESCRIBE facts_persons)")]

    def changed(person_id: str) -> set[str]:
        return {c for c, a, b in zip(columns, first[person_id], last[person_id], strict=True) if a != b}

    # every kind of move happened on the way (else the comparison above proves less than it says)
    assert {"age", "working_age"} <= changed("TEEN") and "age" in changed("LEAP")
    assert "working_age" in changed("RETIRES") and "disabled" in changed("CARD")
    assert "disability_record" in changed("TWO_CARDS") and "disabled" not in changed("TWO_CARDS")
