"""Reading a decisions folder: every decided row validated, each bad one quarantined with its rule, every
file accounted for (no pipeline run: `load_decisions` on a folder of files as people and systems leave it)."""

import csv
import datetime as dt
from pathlib import Path

import duckdb
import openpyxl
import pytest
from conftest import TINY_AS_OF, citizen_id, run_aidmatch, write_tiny_world
from dagster import DagsterEventType, DagsterInstance

from aidmatch.decisions.intake import load_decisions

PERSON = citizen_id("110101", dt.date(1980, 1, 1), 11)
KEY, OTHER_KEY = "0123456789abcdef", "fedcba9876543210"
REVIEW_HEADER = ["source", "record_key", "candidate_person_id", "decision", "reason", "decided_by"]
REMOVAL_HEADER = ["roll", "basis", "record_key", "decision", "reason", "decided_by", "valid_until"]


def write(path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> None:
    with open(path, "w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("decisions")
    write(
        folder / "review.csv",
        REVIEW_HEADER,
        [
            ["unemployment", KEY, PERSON, "confirm", "同一人", "甲"],  # 2: valid
            ["unemployment", KEY, PERSON, "", "", ""],  # undecided
            ["社保参保", OTHER_KEY, PERSON, "reject", "非同一人", "甲"],  # 4: a source label, valid
            ["低保", OTHER_KEY, PERSON, "confirm", "同一人", "乙"],  # 5: valid
            ["低保", OTHER_KEY, PERSON, "reject", "非同一人", "丙"],  # 6: same pair decided the other way
            ["街道", KEY, PERSON, "confirm", "同一人", "甲"],  # 7: unknown source
            [
                "dibao",
                KEY,
                PERSON[:6] + PERSON[8:17],
                "confirm",
                "同一人",
                "甲",
            ],  # 8: legacy 15 digits: valid
            ["dibao", KEY, "11010119800101001X", "confirm", "同一人", "甲"],  # 9: bad check digit
        ],
    )
    sub = folder / "2026-07"
    sub.mkdir()
    write(
        sub / "removals.csv",
        REMOVAL_HEADER,
        [
            ["登记失业", "FLEXIBLY_EMPLOYED", KEY, "保留", "仍在求职", "乙", "2026-12-31"],  # 2: valid
            ["unemployment", "", KEY, "keep", "仍在求职", "乙", "2026/12/31"],  # 3: no basis
            ["低保", "FLEXIBLY_EMPLOYED", KEY, "keep", "仍在求职", "乙", "2026-12-31"],  # 4: unknown roll
            ["unemployment", "FLEXIBLY_EMPLOYED", KEY, "keep", "仍在求职", "乙", "长期"],  # 5: no real date
            [
                "employment_difficulty",
                "BASIS_ENDED",
                KEY,
                "exit",
                "已核实",
                "乙",
                "",
            ],  # 6: exit, no date needed
        ],
        encoding="gb18030",
    )
    (folder / "~$review.xlsx").write_bytes(b"lock")
    (folder / "notes.txt").write_text("我们下周再看", encoding="utf-8")
    con = duckdb.connect()
    intake = load_decisions(con, folder, dt.date(2026, 7, 31))
    rows = {
        (file, row): rule
        for file, row, rule in con.sql('SELECT file, "row", rule FROM decisions_rows').fetchall()
    }
    yield con, intake, rows
    con.close()


def test_each_bad_row_is_quarantined_by_its_rule(loaded):
    _, _, rules = loaded
    assert rules == {
        ("review.csv", 2): None,
        ("review.csv", 4): None,
        ("review.csv", 5): "conflicting_decisions",
        ("review.csv", 6): "conflicting_decisions",
        ("review.csv", 7): "unknown_source",
        ("review.csv", 8): None,
        ("review.csv", 9): "unknown_person",
        ("2026-07/removals.csv", 2): None,
        ("2026-07/removals.csv", 3): "missing_basis",
        ("2026-07/removals.csv", 4): "unknown_roll",
        ("2026-07/removals.csv", 5): "missing_expiry",
        ("2026-07/removals.csv", 6): None,
    }


def test_valid_rows_reach_the_linker_and_the_removal_list(loaded):
    con, _, _ = loaded
    links = con.sql("SELECT source, person_id, decision FROM decisions_links ORDER BY ALL").fetchall()
    assert links == [
        ("dibao", PERSON, "confirm"),
        ("si_persons", PERSON, "reject"),
        ("unemployment", PERSON, "confirm"),
    ]
    keeps = con.sql("SELECT roll, decision, valid_until FROM decisions_keeps ORDER BY ALL").fetchall()
    assert keeps == [("employment_difficulty", "exit", None), ("unemployment", "keep", dt.date(2026, 12, 31))]


def test_every_file_is_accounted_for(loaded):
    _, intake, _ = loaded
    files = {f["file"]: (f["status"], f["decided_rows"], f["undecided_rows"]) for f in intake.files}
    assert files == {
        "2026-07/removals.csv": ("read", 5, 0),
        "notes.txt": ("not read", 0, 0),
        "review.csv": ("read", 7, 1),
        "~$review.xlsx": ("ignored", 0, 0),
    }


def test_a_form_that_cannot_be_read_is_named_to_the_operator(tmp_path, dagster_home, capsys):
    """A truncated workbook in the decisions folder: the night goes on, and says which file's decisions it
    did not apply (the terminal, and the WARN of valid_rows)."""
    decisions = tmp_path / "decisions"
    decisions.mkdir()
    (decisions / "review_queue.xlsx").write_bytes(b"PK\x03\x04 truncated by the mail system")
    code = run_aidmatch(
        write_tiny_world(tmp_path / "input"), tmp_path / "out", tmp_path / "work", TINY_AS_OF,
        "--decisions", str(decisions),
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "decisions: not read, its decisions not applied: review_queue.xlsx (cannot be read" in captured.out
    assert "check valid_rows on decisions: WARN" in captured.out
    with DagsterInstance.get() as instance:
        run = instance.get_runs(limit=1)[0]
        records = instance.get_records_for_run(run.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION)
    (evaluation,) = [
        r.event_log_entry.dagster_event.event_specific_data
        for r in records.records
        if r.event_log_entry.dagster_event.event_specific_data.check_name == "valid_rows"
    ]
    assert not evaluation.passed and evaluation.metadata["files_not_read"].value == 1


def test_a_street_work_list_is_read_as_visit_and_removal_forms_whatever_the_column_order(tmp_path):
    """A street office's workbook (publish/street_work.py): its 走访 sheet is the visit form, its 核实退出
    sheet the removal form under the headers 结果 and 说明; the header is found by name below the title,
    a column moved; 说明 and 政策兑现 are no forms (政策兑现's results stay with the office)."""
    workbook = openpyxl.Workbook()
    guide = workbook.active
    guide.title = "说明"
    guide.append(["走访任务单·说明"])
    visits = workbook.create_sheet("走访")
    visits.append(["走访任务单·走访　东城区 东华门街道"])
    visits.append(["序号", "姓名", "结果", "公民身份号码", "走访日期", "说明", "经办人", "走访依据（勿改）"])
    visits.append([1, "甲", "暂无需求", PERSON, dt.date(2026, 7, 20), "", "李娟", "OUTREACH:DIBAO"])
    visits.append([2, "乙", "", PERSON, None, "", "", "OUTREACH:DIBAO"])  # not visited yet
    removals = workbook.create_sheet("核实退出")
    removals.append(["走访任务单·核实退出"])
    removals.append(["序号", "名册", "公民身份号码", "走访日期", "结果", "说明", "经办人", "有效期至",
                     "记录键（勿改）", "核实依据（勿改）"])  # fmt: skip
    removals.append([1, "登记失业", PERSON, dt.date(2026, 7, 20), "保留", "仍在求职", "李娟",
                     dt.date(2026, 12, 31), KEY, "FLEXIBLY_EMPLOYED"])  # fmt: skip
    entitlements = workbook.create_sheet("政策兑现")
    entitlements.append(["走访任务单·政策兑现"])
    entitlements.append(["序号", "公民身份号码", "走访日期", "结果", "说明", "经办人"])
    entitlements.append([1, PERSON, dt.date(2026, 7, 20), "已告知", "", "李娟"])
    folder = tmp_path / "decisions"
    folder.mkdir()
    workbook.save(folder / "东华门街道.xlsx")
    con = duckdb.connect()
    intake = load_decisions(con, folder, dt.date(2026, 7, 31))
    assert intake.files == [
        {"file": "东华门街道.xlsx", "status": "read", "decided_rows": 2, "undecided_rows": 1, "note": ""}
    ]
    assert con.sql(
        "SELECT person_id, category, reasons, outcome, visited_on, decided_by FROM decisions_visits"
    ).fetchall() == [(PERSON, "OUTREACH", ["DIBAO"], "NO_NEED_NOW", dt.date(2026, 7, 20), "李娟")]
    assert con.sql("SELECT roll, basis, decision, valid_until, reason FROM decisions_keeps").fetchall() == [
        ("unemployment", "FLEXIBLY_EMPLOYED", "keep", dt.date(2026, 12, 31), "仍在求职")
    ]
