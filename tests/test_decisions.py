"""Decisions by people (SPEC section 6), end to end over three real runs of a tiny world.

Night 1 (2026-06-30) publishes the forms. People fill them as they would — the review form in Excel
(openpyxl here), a rejection and some bad rows as a system's CSV — into the decisions folder. Night 2
(2026-07-31) runs on re-ordered extracts (every row moved) and applies them; night 3 (2026-08-01) is the
day after a keep's expiry date.
"""

import csv
import datetime as dt
import hashlib
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest
from conftest import (
    EMPLOYED,
    HEADERS,
    UNEMPLOYED,
    read_csv,
    read_manifest,
    run_aidmatch,
    tiny_rows,
    write_csv_file,
)

NIGHTS = ("2026-06-30", "2026-07-31", "2026-08-01")
HOMOPHONE = EMPLOYED[0]  # 王静华: registered again under a lost ID as 王晶华 (同音字)
DROPPED = EMPLOYED[1]  # 李丽强华: registered again under a lost ID as 李强华 (a dropped character)
KEPT_LONG, KEPT_EXPIRING, KEPT_CHANGING, KEPT_NO_DATE = UNEMPLOYED[
    0:4
]  # 灵活就业 payers, kept by case workers
FLEXIBLE_MONTHS = [f"2026{m:02d}" for m in range(3, 8)]


def _extracts(root: Path, night: int) -> Path:
    """The tiny world plus the two lost-ID registrations and four 灵活就业 payers among the registered;
    from night 2 on, the rows of every file come in reverse order and one payer is hired (单位职工)."""
    rows = {source: tiny_rows(source, dt.date.fromisoformat(NIGHTS[0])) for source in HEADERS}
    for person, name in ((HOMOPHONE, "王晶华"), (DROPPED, "李强华")):
        rows["unemployment"].append(
            [name, "", person.sex, person.birth.isoformat(), "汉族", "城镇", "13800000000", "北京市东城区某街1号",
             "东华门街道", "多福巷社区", "2025-03-15", "否", "", ""]
        )  # fmt: skip
    for person in (KEPT_LONG, KEPT_EXPIRING, KEPT_CHANGING, KEPT_NO_DATE):
        rows["si_contributions"] += [
            [person.id, person.name, "", "", "灵活就业", "企业职工基本养老保险", month, "4000", "已实缴"]
            for month in FLEXIBLE_MONTHS
        ]
    if night > 1:
        rows["si_contributions"].append(
            [KEPT_CHANGING.id, KEPT_CHANGING.name, "U0009", "新华书店", "单位职工", "企业职工基本养老保险", "202606",
             "6000", "已实缴"]
        )  # fmt: skip
        rows = {source: list(reversed(data)) for source, data in rows.items()}
    shutil.rmtree(root, ignore_errors=True)
    for source, data in rows.items():
        write_csv_file(root / source / "东城区.csv", HEADERS[source], data)
    return root


def _fill_review_form(published: Path, target: Path) -> None:
    """An analyst confirms the homophone registration's candidate in the review form and saves a copy."""
    workbook = openpyxl.load_workbook(published / "review_queue.xlsx")
    sheet = workbook.active
    header = [cell.value for cell in sheet[2]]  # below the title row
    column = {
        name: header.index(name) + 1 for name in ("记录姓名", "候选人公民身份号码", "决定", "理由", "经办人")
    }
    for row in range(3, sheet.max_row + 1):
        if sheet.cell(row, column["记录姓名"]).value == "王晶华":
            assert sheet.cell(row, column["候选人公民身份号码"]).value == HOMOPHONE.id
            sheet.cell(row, column["决定"]).value = "确认"
            sheet.cell(row, column["理由"]).value = "户籍系统核对，同一人"
            sheet.cell(row, column["经办人"]).value = "审核员甲"
    workbook.save(target)


def _fill_removal_form(published: Path, target: Path) -> None:
    """Case workers keep three 灵活就业 payers on the unemployment roll (one without an end date)."""
    until = {
        KEPT_LONG.id: dt.date(2026, 7, 31),  # night 2 is its last day
        KEPT_EXPIRING.id: dt.date(2026, 7, 30),  # expired before night 2
        KEPT_CHANGING.id: dt.date(2026, 12, 31),  # ends early: hired before night 2
        KEPT_NO_DATE.id: None,
    }
    workbook = openpyxl.load_workbook(published / "removal_decisions.xlsx")
    sheet = workbook.active
    header = [cell.value for cell in sheet[2]]  # below the title row
    column = {
        name: header.index(name) + 1
        for name in ("名册", "公民身份号码", "决定", "理由", "经办人", "有效期至")
    }
    for row in range(3, sheet.max_row + 1):
        person = sheet.cell(row, column["公民身份号码"]).value
        if person in until and sheet.cell(row, column["名册"]).value == "登记失业":
            sheet.cell(row, column["决定"]).value = "保留"
            sheet.cell(row, column["理由"]).value = "入户核实仍在求职，灵活就业缴费为保养老"
            sheet.cell(row, column["经办人"]).value = "社区专干乙"
            sheet.cell(row, column["有效期至"]).value = until[person]
    workbook.save(target)


def _system_csv(published: Path, target: Path) -> None:
    """A system rejects the dropped-character registration's candidate, and sends four bad rows."""
    _, queue = read_csv(published / "review_queue.csv")
    workbook = openpyxl.load_workbook(published / "review_queue.xlsx")
    rows = list(workbook.active.iter_rows(values_only=True))
    key = next(row[10] for row in rows[2:] if row[3] == "李强华")
    assert any(r["candidate_person_id"] == DROPPED.id for r in queue)
    with open(target, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["source", "record_key", "candidate_person_id", "decision", "reason", "decided_by"])
        writer.writerow(["unemployment", key, DROPPED.id, "reject", "出生医院记录不同，非同一人", "sys"])
        writer.writerow(["unemployment", key, DROPPED.id, "同意", "看起来一样", "sys"])  # unknown decision
        writer.writerow(["unemployment", key, HOMOPHONE.id, "confirm", "", "sys"])  # missing reason
        writer.writerow(["unemployment", "row-12", DROPPED.id, "confirm", "同一人", "sys"])  # unknown record
        writer.writerow(
            ["unemployment", "0123456789abcdef", DROPPED.id, "confirm", "同一人", "sys"]
        )  # orphan


@dataclass(frozen=True)
class Nights:
    published: list[Path]
    decisions: Path
    digests_before: dict[str, str]


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def nights(tmp_path_factory) -> Nights:
    base = tmp_path_factory.mktemp("decisions")
    decisions = base / "decisions"
    published = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAGSTER_HOME", str(base / "dagster_home"))
        for night, as_of in enumerate(NIGHTS, start=1):
            code = run_aidmatch(_extracts(base / "input", night), base / "output", base / "work", as_of)
            assert code == 0, f"night {night} must publish"
            published.append(base / "output" / as_of)
            if night == 1:
                decisions.mkdir()
                _fill_review_form(published[0], decisions / "审核决定-6月.xlsx")
                _fill_removal_form(published[0], decisions / "退出核实-6月.xlsx")
                _system_csv(published[0], decisions / "case_system.csv")
                digests = _digests(decisions)
    return Nights(published, decisions, digests)


def _links(folder: Path) -> dict[str, dict[str, str]]:
    return {row["source_record"]: row for row in read_csv(folder / "person_links.csv")[1]}


def _registration(folder: Path, name: str) -> str:
    rows = read_csv(folder / "person_links.csv")[1]
    (record,) = [
        r["source_record"] for r in rows if r["source"] == "unemployment" and _name_of(folder, r) == name
    ]
    return record


def _name_of(folder: Path, link: dict[str, str]) -> str:
    # the registration's name, read from the night's own extract by its row number
    path = folder.parent.parent / "input" / "unemployment" / "东城区.csv"
    line = int(link["source_record"].rsplit(":", 1)[1])
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))[line - 1][0]


def _applied(folder: Path) -> list[dict[str, str]]:
    return read_csv(folder / "decisions_applied.csv")[1]


def _removal_rows(folder: Path, person_id: str) -> list[dict[str, str]]:
    return [
        r
        for r in read_csv(folder / "removals.csv")[1]
        if r["person_id"] == person_id and r["roll"] == "unemployment"
    ]


def test_night_one_publishes_forms_with_the_pairs_and_removals(nights):
    first = nights.published[0]
    review = openpyxl.load_workbook(first / "review_queue.xlsx").active
    names = {row[3] for row in review.iter_rows(min_row=3, values_only=True)}
    assert {"王晶华", "李强华"} <= names, "both lost-ID registrations reach the review form"
    removals = openpyxl.load_workbook(first / "removal_decisions.xlsx").active
    rows = list(removals.iter_rows(values_only=True))
    assert "退出核实决定" in rows[0][0], "a title row above the header"
    assert rows[1][-4:] == ("决定", "理由", "经办人", "有效期至")
    people = {row[1] for row in rows[2:]}
    assert {KEPT_LONG.id, KEPT_EXPIRING.id, KEPT_CHANGING.id} <= people
    assert _removal_rows(first, KEPT_LONG.id)[0]["reasons"] == "FLEXIBLY_EMPLOYED"


def test_confirmed_pair_is_linked_as_reviewed_after_rows_moved(nights):
    second = nights.published[1]
    record = _registration(second, "王晶华")
    link = _links(second)[record]
    assert (link["person_id"], link["method"]) == (HOMOPHONE.id, "reviewed")
    assert "审核决定-6月.xlsx" in link["evidence"] and "审核员甲" in link["evidence"]
    assert record not in {r["source_record"] for r in read_csv(second / "review_queue.csv")[1]}


def test_rejected_pair_never_returns(nights):
    for folder in nights.published[1:]:
        record = _registration(folder, "李强华")
        link = _links(folder)[record]
        assert link["person_id"] != DROPPED.id
        proposed = {
            (r["source_record"], r["candidate_person_id"]) for r in read_csv(folder / "review_queue.csv")[1]
        }
        assert (record, DROPPED.id) not in proposed


def test_keep_holds_through_its_date_and_expires_the_day_after(nights):
    _, second, third = nights.published
    assert _removal_rows(second, KEPT_LONG.id) == [], "kept on its last day"
    (back,) = _removal_rows(third, KEPT_LONG.id)
    assert "保留决定已于 2026-07-31 到期" in back["evidence"]
    (expired,) = _removal_rows(second, KEPT_EXPIRING.id)
    assert (
        "保留决定已于 2026-07-30 到期" in expired["evidence"] and "退出核实-6月.xlsx" in expired["evidence"]
    )


def test_keep_ends_early_when_the_evidence_changes(nights):
    (row,) = _removal_rows(nights.published[1], KEPT_CHANGING.id)
    assert row["reasons"] == "EMPLOYED"
    assert "保留决定因依据变化而结束：保留时 FLEXIBLY_EMPLOYED，现在 EMPLOYED[新华书店]" in row["evidence"]


def test_bad_rows_are_quarantined_and_the_rest_applied(nights):
    rows = _applied(nights.published[1])
    by_rule = {r["rule"]: r for r in rows if r["status"] == "quarantined"}
    assert set(by_rule) == {"unknown_decision", "missing_reason", "unknown_record", "missing_expiry"}
    assert by_rule["unknown_decision"]["decision_file"] == "case_system.csv"
    assert (
        by_rule["unknown_decision"]["decision_row"] == "3"
        and "同意" in by_rule["unknown_decision"]["message"]
    )
    assert by_rule["missing_expiry"]["decision_file"] == "退出核实-6月.xlsx"
    statuses = sorted((r["kind"], r["status"]) for r in rows if r["status"] != "quarantined")
    assert statuses == sorted(
        [("link", "applied"), ("link", "applied"), ("link", "orphaned"), ("keep", "applied"), ("keep", "expired"),
         ("keep", "evidence_changed")]
    )  # fmt: skip


def test_every_decision_is_in_the_manifest_and_files_are_never_rewritten(nights):
    second = nights.published[1]
    section = read_manifest(second)["decisions"]
    assert section["folder"] == str(nights.decisions)
    assert len(section["decisions"]) == len(_applied(second)) == 10
    assert section["by_status"]["orphaned"] == 1
    assert {f["file"]: f["status"] for f in section["files"]} == dict.fromkeys(
        ["case_system.csv", "审核决定-6月.xlsx", "退出核实-6月.xlsx"], "read"
    )
    accuracy = {row["method"]: (row["confirmed"], row["rejected"]) for row in section["label_accuracy"]}
    assert accuracy == {"fuzzy_pinyin_dob": (1, 0), "fuzzy_name_similar": (0, 1)}
    report = (second / "report.html").read_text(encoding="utf-8")
    shown = dict(re.findall(r'data-figure="decisions:(\w+)">([\d,]+)<', report))
    assert {status: int(n) for status, n in shown.items()} == section["by_status"]
    labels = re.search(r"人工核查结果.*?</table>", report, re.S)
    assert labels and "<td>fuzzy_name_similar</td><td class=n>0</td><td class=n>1</td>" in labels.group()
    assert _digests(nights.decisions) == nights.digests_before
    third = read_manifest(nights.published[2])["decisions"]["by_status"]
    assert third["orphaned"] == 1 and third["expired"] == 2, "still reported the next night, never dropped"
