"""The street offices' loop, three nights of a generated world through `aidmatch run` (SPEC sections 5 and 6):
night 1 publishes each street's work list; the test fills the 走访 sheets as workers do (openpyxl: one of
each outcome, and bad rows — an unknown 结果, a missing 走访日期, an ID that names nobody — one workbook with
a column inserted) and drops them into the decisions folder. Night 2 reads the same extracts, one 低保 row
moved down a line: the visited people are off their street's 走访 sheet and on proactive.csv with their
outcome, the 信息有误 is in 民政's feedback at the record's new row, the bad rows are quarantined. Night 3
(as-of past the 联系不上 review date, one visited person holding a new card) brings both back, saying why.
"""

import csv
import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest
from conftest import HEADERS, WORLD_AS_OF, citizen_id, read_csv, read_manifest, run_aidmatch
from dagster import DagsterEventType, DagsterInstance

NIGHTS = (WORLD_AS_OF.isoformat(), "2026-07-01", "2026-08-01")
VISITED_ON = dt.date(2026, 7, 1)
NOBODY = citizen_id("110101", dt.date(1977, 7, 7), 997)  # a valid ID no extract holds
NOTE = "本人称从未在此居住，低保记录地址有误"
# the outcomes filled, in the order the people are picked
OUTCOMES = ("暂无需求", "信息有误", "联系不上", "不在本辖区", "已登记")


@dataclass(frozen=True)
class Pick:
    person_id: str
    district: str
    street: str
    reasons: str


@dataclass
class Nights:
    base: Path
    picks: dict[str, Pick]  # outcome (or bad:<rule>) -> the person its row is about
    record: tuple[str, int]  # the 信息有误 person's 低保 record: file, its line on night 2
    codes: list[int]

    def folder(self, night: int) -> Path:
        return self.base / "output" / NIGHTS[night]

    def work_rows(self, night: int, pick: Pick) -> list[dict]:
        """The 走访 rows of the pick's street on `night`, by header."""
        path = self.folder(night) / "by_street" / f"{pick.district}_{pick.street}.xlsx"
        sheet = openpyxl.load_workbook(path)["走访"]
        header = [c.value for c in sheet[2]]
        rows = sheet.iter_rows(min_row=3, values_only=True)
        return [dict(zip(header, row, strict=True)) for row in rows if isinstance(row[0], int)]


def _picks(folder: Path) -> dict[str, Pick]:
    """People of night 1's proactive list with a street: the 信息有误 one's 低保 record in a CSV (its row can
    move), the 暂无需求 one an outreach 低保 member (a card gives them a new reason on night 3)."""
    rows = [r for r in read_csv(folder / "proactive.csv")[1] if r["street"]]
    in_csv = [
        r
        for r in rows
        if "DIBAO: " in r["evidence"] and ".csv:" in r["evidence"].split("DIBAO: ")[1].split("]")[0]
    ]
    wrong = in_csv[0]
    no_need = next(
        r for r in rows if r is not wrong and r["category"] == "OUTREACH" and r["reasons"] == "DIBAO"
    )
    others = [r for r in rows if r not in (wrong, no_need)]
    people = [no_need, wrong, *others[:3]]
    bad = others[3:6]
    assert len(bad) == 3, "the world holds enough people to visit"
    as_pick = lambda r: Pick(r["person_id"], r["district"], r["street"], r["reasons"])  # noqa: E731
    return {outcome: as_pick(r) for outcome, r in zip(OUTCOMES, people, strict=True)} | {
        f"bad:{rule}": as_pick(r)
        for rule, r in zip(("unknown_decision", "missing_visit_date", "unknown_person"), bad, strict=True)
    }


def _fill(published: Path, decisions: Path, picks: dict[str, Pick]) -> None:
    """Fill each pick's row of its street's 走访 sheet as a worker does, and save the workbook (one per
    street) into the decisions folder; the first workbook gets a column inserted before its table."""
    by_street: dict[tuple[str, str], list[tuple[str, Pick]]] = {}
    for what, pick in picks.items():
        by_street.setdefault((pick.district, pick.street), []).append((what, pick))
    for number, ((district, street), rows) in enumerate(sorted(by_street.items())):
        workbook = openpyxl.load_workbook(published / "by_street" / f"{district}_{street}.xlsx")
        sheet = workbook["走访"]
        if number == 0:
            sheet.insert_cols(2)
            sheet.cell(2, 2).value = "备注"  # people insert columns: the header is found by name
        column = {c.value: c.column for c in sheet[2]}
        for what, pick in rows:
            line = next(
                r
                for r in range(3, sheet.max_row + 1)
                if sheet.cell(r, column["公民身份号码"]).value == pick.person_id
            )
            values = {"走访日期": VISITED_ON, "结果": what, "经办人": "李娟"}
            if what == "信息有误":
                values["说明"] = NOTE
            elif what == "bad:unknown_decision":
                values["结果"] = "搬走了"  # pasted past the drop-down
            elif what == "bad:missing_visit_date":
                values |= {"结果": "暂无需求", "走访日期": None}
            elif what == "bad:unknown_person":
                values |= {"结果": "暂无需求", "公民身份号码": NOBODY}
            for header, value in values.items():
                sheet.cell(line, column[header]).value = value
        workbook.save(decisions / f"{street}_走访.xlsx")


def _move_down(input_dir: Path, record: str) -> tuple[str, int]:
    """Put an empty line above a CSV record: the same extract, the record one line further down."""
    file, line = record.rsplit(":", 1)
    path = input_dir / file
    lines = path.read_bytes().splitlines(keepends=True)
    ending = lines[0][len(lines[0].rstrip(b"\r\n")) :]
    lines.insert(int(line) - 1, ending)
    path.write_bytes(b"".join(lines))
    return file.split("/", 1)[1], int(line) + 1


def _card(input_dir: Path, pick: Pick, name: str) -> None:
    """A valid disability card of grade 三级 for the pick, in a file of its own (the 残联's late addition)."""
    with open(input_dir / "disability" / "补录.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS["disability"])
        writer.writerow([name, pick.person_id + "43", pick.person_id, "", "肢体", "三级", "2026-07-15",
                         "2030-07-14", "有效", ""])  # fmt: skip


@pytest.fixture(scope="module")
def nights(tmp_path_factory, world) -> Nights:
    base = tmp_path_factory.mktemp("street_work")
    input_dir, decisions = base / "input", base / "decisions"
    shutil.copytree(world / "input", input_dir)
    decisions.mkdir()
    codes = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAGSTER_HOME", str(base / "dagster_home"))

        def night(number: int) -> None:
            args = (input_dir, base / "output", base / "work", NIGHTS[number], "--decisions", str(decisions))
            codes.append(run_aidmatch(*args))

        night(0)
        published = base / "output" / NIGHTS[0]
        picks = _picks(published)
        _fill(published, decisions, picks)
        wrong = next(
            r
            for r in read_csv(published / "proactive.csv")[1]
            if r["person_id"] == picks["信息有误"].person_id
        )
        record = _move_down(input_dir, wrong["evidence"].split("DIBAO: ")[1].split("[")[1].split("]")[0])
        night(1)
        no_need = next(
            r
            for r in read_csv(published / "proactive.csv")[1]
            if r["person_id"] == picks["暂无需求"].person_id
        )
        _card(input_dir, picks["暂无需求"], no_need["name"])
        night(2)
    return Nights(base, picks, record, codes)


def test_the_three_nights_publish(nights):
    assert nights.codes == [0, 0, 0]


def test_night_one_gives_every_street_its_work_list_with_everyone_new(nights):
    for pick in nights.picks.values():
        rows = nights.work_rows(0, pick)
        (row,) = [r for r in rows if r["公民身份号码"] == pick.person_id]
        assert row["列入情形"] == "新增" and row["结果"] is None
        assert row["走访依据（勿改）"].endswith(f":{pick.reasons}")


def test_night_two_visited_people_leave_the_work_and_keep_their_outcome(nights):
    proactive = {r["person_id"]: r for r in read_csv(nights.folder(1) / "proactive.csv")[1]}
    codes = {"暂无需求": "NO_NEED_NOW", "信息有误": "RECORD_WRONG", "联系不上": "UNREACHABLE",
             "不在本辖区": "MOVED_AWAY", "已登记": "REGISTERED"}  # fmt: skip
    review = {"暂无需求": "2027-01-01", "信息有误": "2026-10-01", "联系不上": "2026-08-01",
              "不在本辖区": "2027-07-01", "已登记": "2026-08-01"}  # fmt: skip
    for outcome in OUTCOMES:
        pick = nights.picks[outcome]
        assert pick.person_id not in {r["公民身份号码"] for r in nights.work_rows(1, pick)}, outcome
        row = proactive[pick.person_id]
        assert (row["outcome"], row["outcome_date"], row["revisit_on"]) == (
            codes[outcome],
            "2026-07-01",
            review[outcome],
        )
    for rule in ("unknown_decision", "missing_visit_date", "unknown_person"):
        pick = nights.picks[f"bad:{rule}"]
        (row,) = [r for r in nights.work_rows(1, pick) if r["公民身份号码"] == pick.person_id]
        assert row["列入情形"] == "待走访", "a bad row applies nothing: still to visit, no longer new"
        assert proactive[pick.person_id]["outcome"] == ""


def test_night_two_quarantines_the_bad_rows_with_file_row_and_rule(nights):
    applied = read_csv(nights.folder(1) / "decisions_applied.csv")[1]
    visits = [r for r in applied if r["kind"] == "visit"]
    assert sorted(r["status"] for r in visits) == sorted(["applied"] * 5 + ["quarantined"] * 3)
    bad = {r["rule"]: r for r in visits if r["status"] == "quarantined"}
    assert set(bad) == {"unknown_decision", "missing_visit_date", "unknown_person"}
    assert bad["unknown_person"]["person_id"] == NOBODY and "names nobody" in bad["unknown_person"]["message"]
    assert "搬走了" in bad["unknown_decision"]["message"]
    for row in bad.values():
        assert row["decision_file"].endswith("_走访.xlsx") and int(row["decision_row"]) >= 3
    manifest = read_manifest(nights.folder(1))["decisions"]
    assert manifest["by_status"]["quarantined"] == 3 and manifest["by_status"]["applied"] == 5


def test_night_two_sends_the_wrong_record_to_the_department_at_its_new_row(nights):
    pick = nights.picks["信息有误"]
    file, line = nights.record
    rows = [
        r
        for r in read_csv(nights.folder(1) / "feedback_dibao.csv")[1]
        if r["问题"].startswith("街道走访反馈")
    ]
    assert [(r["文件"], r["行号"], r["问题"]) for r in rows] == [
        (file, str(line), f"街道走访反馈：信息有误——{NOTE}")
    ]
    assert pick.street in rows[0]["修改方法"] and "李娟" in rows[0]["修改方法"]
    sheet = openpyxl.load_workbook(nights.folder(1) / "feedback_dibao.xlsx")["走访反馈"]
    header = [c.value for c in sheet[3]]
    (shown,) = [
        dict(zip(header, r, strict=True))
        for r in sheet.iter_rows(min_row=4, values_only=True)
        if isinstance(r[0], int)
    ]
    assert (shown["公民身份号码"], shown["行号"], shown["走访说明（信息有误）"]) == (
        pick.person_id,
        line,
        NOTE,
    )
    for other in ("unemployment", "disability", "social_insurance"):
        assert not any(
            r["问题"].startswith("街道走访反馈")
            for r in read_csv(nights.folder(1) / f"feedback_{other}.csv")[1]
        )


def test_night_two_counts_the_visits_per_street(nights):
    sheet = openpyxl.load_workbook(nights.folder(1) / "progress.xlsx")["走访进度"]
    header = [c.value for c in sheet[3]]
    rows = {
        r[0]: dict(zip(header, r, strict=True))
        for r in sheet.iter_rows(min_row=4, values_only=True)
        if r[2] is not None
    }
    total = rows["合计"]
    assert total["本期已走访"] == 5
    assert [total[label] for label in ("已登记", "暂无需求", "联系不上", "不在本辖区", "信息有误")] == [
        1,
        1,
        1,
        1,
        1,
    ]
    listed = len(read_csv(nights.folder(1) / "proactive.csv")[1])
    assert total["名单人数"] == listed and total["待走访"] == listed - 5
    report = (nights.folder(1) / "report.html").read_text(encoding="utf-8")
    assert '<span data-figure="visits:visited">5</span>' in report


def test_night_two_plots_the_visits_and_outcomes_in_the_ui(nights, monkeypatch):
    """Numbers on the published asset (the UI plots them night over night), per outcome on the proactive list."""
    monkeypatch.setenv("DAGSTER_HOME", str(nights.base / "dagster_home"))
    with DagsterInstance.get() as instance:
        records = instance.get_records_for_run(
            read_manifest(nights.folder(1))["run_id"], of_type=DagsterEventType.ASSET_MATERIALIZATION
        ).records
    metadata = {
        r.event_log_entry.asset_materialization.asset_key.to_user_string(): {
            key: value.value for key, value in r.event_log_entry.asset_materialization.metadata.items()
        }
        for r in records
    }
    published = metadata["published_outputs"]
    assert (
        published["visits visited"],
        published["visits NO_NEED_NOW"],
        published["visits RECORD_WRONG"],
    ) == (5, 1, 1)
    assert published["visits to_visit"] == published["visits listed"] - 5
    assert metadata["out_proactive"]["visit_outcomes applied"] == 5


def test_night_three_brings_back_the_unreachable_and_the_changed_saying_why(nights):
    unreachable, no_need = nights.picks["联系不上"], nights.picks["暂无需求"]
    (row,) = [r for r in nights.work_rows(2, unreachable) if r["公民身份号码"] == unreachable.person_id]
    assert row["列入情形"] == "复访到期（2026-07-01 联系不上）"
    (row,) = [r for r in nights.work_rows(2, no_need) if r["公民身份号码"] == no_need.person_id]
    assert row["列入情形"] == "情况变化（新增：持证残疾人）"
    assert row["走访依据（勿改）"] == "OUTREACH:DIBAO;DISABLED", "a new visit records what it saw now"
    moved = nights.picks["不在本辖区"]
    assert moved.person_id not in {r["公民身份号码"] for r in nights.work_rows(2, moved)}, "12 months to go"
    proactive = {r["person_id"]: r for r in read_csv(nights.folder(2) / "proactive.csv")[1]}
    assert proactive[no_need.person_id]["outcome"] == "NO_NEED_NOW", "the outcome stays on the list"
    applied = {
        r["person_id"]: r["status"]
        for r in read_csv(nights.folder(2) / "decisions_applied.csv")[1]
        if r["person_id"]
    }
    assert (applied[unreachable.person_id], applied[no_need.person_id]) == ("expired", "evidence_changed")


def test_every_household_at_risk_is_on_its_streets_work_list(nights):
    """零就业家庭预警 (SPEC section 4 item 6) is street work too: each household at risk on the 预警家庭 sheet of
    its street, one short line of why, the result left to fill."""
    folder = nights.folder(0)
    at_risk = read_csv(folder / "households_at_risk.csv")[1]
    watched = []
    for path in sorted((folder / "by_street").iterdir()):
        sheet = openpyxl.load_workbook(path)["预警家庭"]
        header = [c.value for c in sheet[2]]
        rows = [dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=3, values_only=True)]
        watched += [(path.stem, row) for row in rows if isinstance(row["序号"], int)]
    assert at_risk, "the generated world holds households at risk"
    assert sorted((street, row["户编号"]) for street, row in watched) == sorted(
        (f"{r['district']}_{r['street']}", r["household_id"]) for r in at_risk if r["street"]
    )
    assert all(row["预警说明"] and row["结果"] is None for _, row in watched)
