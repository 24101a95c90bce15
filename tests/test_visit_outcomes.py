"""Visit outcomes (SPEC section 6, "The proactive list ends in a visit"): a street office's 走访 rows read from
a decisions folder, validated, and applied to the proactive list — on a tiny hand-built world (test_rules.py's),
with the outcomes written as a system writes them (CSV, English headers). The pipeline-wide nights, with
workbooks filled as a worker fills them, are tests/test_street_work.py.
"""

import csv
from datetime import date
from pathlib import Path

import pytest

from aidmatch.decisions.audit import DECISIONS_APPLIED_SQL, create_audit_tables
from aidmatch.decisions.intake import load_decisions
from aidmatch.decisions.settings import VisitSettings
from aidmatch.publish.progress import Period
from aidmatch.publish.street_work import work_frames
from aidmatch.rules.lists import build_lists
from tests.conftest import citizen_id
from tests.test_rules import AS_OF, DEFAULTS, MAN, World, card, contribution, dibao, registration

HEADER = ["person_id", "basis", "outcome", "visited_on", "note", "visited_by"]
P = {n: citizen_id("110101", date(1990, 5, 5), 100 + 2 * n + 1) for n in range(1, 9)}
NOBODY = citizen_id("110101", date(1991, 1, 1), 901)  # a valid ID that no extract holds


def _rows() -> list[list[str]]:
    return [
        [P[1], "OUTREACH:DIBAO", "暂无需求", "2026-11-01", "", "甲"],  # 2 applied until 2027-05-01
        [P[2], "OUTREACH:DIBAO", "联系不上", "2026-10-01", "", "甲"],  # 3 expired on 2026-11-01
        [P[3], "RECOGNIZE:DIBAO", "NO_NEED_NOW", "2026-11-01", "", "乙"],  # 4 a new reason since: changed
        [P[4], "OUTREACH:DISABLED", "联系不上", "2026-09-01", "", "甲"],  # 5 superseded by row 6
        [P[4], "OUTREACH:DISABLED", "不在本辖区", "2026-11-10", "已搬至外省", "甲"],  # 6 applied
        [P[5], "OUTREACH:DIBAO", "暂无需求", "2026-11-01", "", "甲"],  # 7 works now: not on the list
        [NOBODY, "OUTREACH:DIBAO", "暂无需求", "2026-11-01", "", "甲"],  # 8 names nobody
        [P[6], "OUTREACH:DIBAO", "搬走了", "2026-11-01", "", "甲"],  # 9 unknown outcome
        [P[6], "OUTREACH:DIBAO", "暂无需求", "", "", "甲"],  # 10 no date
        [P[6], "OUTREACH:DIBAO", "暂无需求", "2026-12-01", "", "甲"],  # 11 after the as-of date
        [P[6][:17] + ("0" if P[6][17] != "0" else "1"), "OUTREACH:DIBAO", "暂无需求", "2026-11-01", "", "甲"],
        [P[6], "", "暂无需求", "2026-11-01", "", "甲"],  # 13 no basis
        [P[6], "OUTREACH:DIBAO", "信息有误", "2026-11-01", "", "甲"],  # 14 信息有误 without saying what
        [P[7], "OUTREACH:DIBAO", "暂无需求", "2026-11-05", "", "甲"],  # 15 and 16: two outcomes, one day
        [P[7], "OUTREACH:DIBAO", "联系不上", "2026-11-05", "", "乙"],
        [P[6], "OUTREACH:DIBAO", "", "", "", ""],  # 17 undecided
        [P[8], "OUTREACH:DIBAO", "已登记", "2026-11-20", "", "甲"],  # 18 registered since: a new category
    ]


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    base = tmp_path_factory.mktemp("visits")
    world = World(base)
    for n in (1, 2, 6, 7):
        world.add(P[n], *MAN, [dibao(household=f"H{n}")])
    world.add(P[3], *MAN, [registration(date(2025, 6, 1)), dibao(household="H3")])  # long-term since
    world.add(P[4], *MAN, [card(grade=4)])
    world.add(P[5], *MAN, [dibao(household="H5"), contribution()])
    world.add(P[8], *MAN, [registration(date(2026, 11, 20)), dibao(household="H8")])
    folder = base / "decisions"
    folder.mkdir()
    with open(folder / "visits.csv", "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([HEADER, *_rows()])
    load_decisions(world.con, folder, AS_OF)
    world.summary = world.build()  # the default visit settings
    create_audit_tables(world.con)
    return world


def _applied(world: World) -> dict[int, tuple]:
    return {
        row: (status, rule)
        for row, status, rule in world.rows_of(
            f"SELECT decision_row, status, rule FROM ({DECISIONS_APPLIED_SQL})"
        )
    }


def test_each_visit_row_has_its_status(world):
    assert _applied(world) == {
        2: ("applied", None),
        3: ("expired", None),
        4: ("evidence_changed", None),
        5: ("superseded", None),
        6: ("applied", None),
        7: ("not_on_list", None),
        8: ("quarantined", "unknown_person"),
        9: ("quarantined", "unknown_decision"),
        10: ("quarantined", "missing_visit_date"),
        11: ("quarantined", "missing_visit_date"),
        12: ("quarantined", "unknown_person"),
        13: ("quarantined", "missing_basis"),
        14: ("quarantined", "missing_reason"),
        15: ("quarantined", "conflicting_decisions"),
        16: ("quarantined", "conflicting_decisions"),
        18: ("evidence_changed", None),
    }
    assert world.summary["visit_outcomes applied"] == 2


def test_a_visited_person_stays_on_the_list_with_the_latest_outcome_and_its_review_date(world):
    rows = world.rows_of(
        "SELECT person_id, outcome, outcome_date, revisit_on FROM out_proactive WHERE outcome IS NOT NULL"
    )
    assert sorted(rows) == sorted(
        [
            (P[1], "NO_NEED_NOW", date(2026, 11, 1), date(2027, 5, 1)),
            (P[2], "UNREACHABLE", date(2026, 10, 1), date(2026, 11, 1)),
            (P[3], "NO_NEED_NOW", date(2026, 11, 1), date(2027, 5, 1)),
            (P[4], "MOVED_AWAY", date(2026, 11, 10), date(2027, 11, 10)),
            (P[8], "REGISTERED", date(2026, 11, 20), date(2026, 12, 20)),
        ]
    )
    assert world.rows_of(f"SELECT outcome FROM out_proactive WHERE person_id = '{P[6]}'") == [(None,)]


def test_a_changed_evidence_says_what_the_worker_did_not_see(world):
    assert world.rows_of(f"SELECT status, new_reasons FROM proactive_visits WHERE person_id = '{P[3]}'") == [
        ("evidence_changed", ["LONG_TERM_UNEMPLOYED"])
    ]
    (message,) = world.rows_of(f"SELECT message FROM ({DECISIONS_APPLIED_SQL}) WHERE decision_row = 4")[0]
    assert message == "走访时 RECOGNIZE:DIBAO，现在 RECOGNIZE，新增 LONG_TERM_UNEMPLOYED"
    # registered since the visit: the category is new (the reasons are the worker's)
    assert world.rows_of(
        f"SELECT status, visited_category, new_reasons FROM proactive_visits WHERE person_id = '{P[8]}'"
    ) == [("evidence_changed", "OUTREACH", [])]
    (message,) = world.rows_of(f"SELECT message FROM ({DECISIONS_APPLIED_SQL}) WHERE decision_row = 18")[0]
    assert message == "走访时 OUTREACH:DIBAO，现在 RECOGNIZE"


def test_review_months_come_from_the_settings(tmp_path):
    world = World(tmp_path)
    world.add(P[1], *MAN, [dibao()])
    folder = tmp_path / "decisions"
    folder.mkdir()
    with open(folder / "v.csv", "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([HEADER, [P[1], "OUTREACH:DIBAO", "暂无需求", "2026-11-01", "", "甲"]])
    load_decisions(world.con, folder, AS_OF)
    world.build()  # the default settings: six months
    build_lists(world.con, AS_OF, DEFAULTS, VisitSettings(no_need_now_months=2))
    assert world.rows_of("SELECT revisit_on FROM out_proactive") == [(date(2027, 1, 1),)]


def test_months_outside_reason_are_refused():
    with pytest.raises(ValueError, match="unreachable_months"):
        VisitSettings(unreachable_months=0)


def test_without_decisions_nothing_is_applied(tmp_path: Path):
    world = World(tmp_path)
    world.add(P[1], *MAN, [dibao()])
    summary = world.build()
    assert not any(key.startswith("visit_outcomes") for key in summary)
    assert world.rows_of("SELECT outcome FROM out_proactive") == [(None,)]


def test_the_street_work_list_says_why_each_visited_person_is_back(world):
    """The 走访 rows of the street work lists (publish/street_work.py) on this world, without a baseline: the
    never-visited are new, the applied are off, the others back with the outcome or the change named."""
    frames = work_frames(world.con, Period(date(2026, 11, 1), AS_OF, None))
    situation = dict(frames["走访"].select("person_id", "situation").iter_rows())
    assert situation == {
        P[2]: "复访到期（2026-10-01 联系不上）",
        P[3]: "情况变化（新增：长期失业人员）",
        P[6]: "新增",  # only bad rows: never visited
        P[7]: "新增",
        P[8]: "情况变化（类别原为主动上门服务对象）",
    }
