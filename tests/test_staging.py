"""Staging: raw text rows → staged rows and quarantine rows (sources/staging.py, checks/stage_source.py)."""

from datetime import date
from functools import partial

import duckdb
import pytest
from dagster import AssetCheckSeverity

from aidmatch.checks.source_checks import row_rules_result, schema_result, validate_staged
from aidmatch.checks.stage_source import stage_source as stage_at
from aidmatch.sources.staging import build_normalized

stage_source = partial(stage_at, as_of=date(2026, 6, 30), max_cell_chars=32767)

RECORD = ("source", "source_file", "source_sheet", "source_row", "source_record")


def raw_table(con: duckdb.DuckDBPyConnection, source: str, columns: list[str], rows: list[tuple]) -> None:
    """A raw_<source> table as the readers make it: text columns plus the record columns."""
    values = []
    for number, row in enumerate(rows, start=2):
        cells = [source, f"{source}/a.csv", None, number, f"{source}/a.csv:{number}", *row]
        values.append(
            "("
            + ", ".join("NULL" if v is None else (str(v) if isinstance(v, int) else f"'{v}'") for v in cells)
            + ")"
        )
    names = ", ".join((*RECORD, *columns))
    con.execute(f"CREATE TABLE raw_{source} AS SELECT * FROM (VALUES {', '.join(values)}) t({names})")
    for column in columns:  # text, as the readers make every raw column (an all-NULL one included)
        con.execute(f"ALTER TABLE raw_{source} ALTER {column} TYPE VARCHAR")


def quarantine(con: duckdb.DuckDBPyConnection, source: str) -> set[tuple]:
    return set(con.sql(f"SELECT source_record, rule, value, action FROM quarantine_{source}").fetchall())


@pytest.fixture
def con():
    connection = duckdb.connect()
    yield connection
    connection.close()


def test_read_equals_staged_plus_rejected_and_defects_are_kept(con):
    columns = ["name", "citizen_id", "registered_on", "is_difficult", "difficulty_categories"]
    raw_table(
        con,
        "unemployment",
        columns,
        [
            ("张三", "11010519491231002x", "2024/3/5", "是", "大龄、低保"),
            ("李四", "110105194912310021", "45356", "否", None),  # wrong check digit
            (None, None, "2024-01-01", "否", None),  # nothing to link: rejected
            (
                "王五",
                "1.10105199001011E+17",
                "bad",
                "否",
                "火星人",
            ),  # Excel number, bad date, unknown category
            ("张三", "11010519491231002x", "2024/3/5", "是", "大龄、低保"),  # exact copy of row 2
        ],
    )
    result = stage_source(con, "unemployment")
    assert (result.rows_read, result.rows_staged, result.rows_rejected) == (5, 4, 1)
    assert quarantine(con, "unemployment") == {
        ("unemployment/a.csv:3", "id_bad_checksum", "110105194912310021", "kept"),
        ("unemployment/a.csv:4", "no_identity", None, "rejected"),
        ("unemployment/a.csv:5", "id_excel_numeric", "1.10105199001011E+17", "kept"),
        ("unemployment/a.csv:5", "bad_date:registered_on", "bad", "kept"),
        ("unemployment/a.csv:5", "unknown_value:difficulty_categories", "火星人", "kept"),
        ("unemployment/a.csv:6", "duplicate_row", "unemployment/a.csv:2", "kept"),
    }
    staged = dict(con.sql("SELECT source_record, id_norm FROM staged_unemployment").fetchall())
    assert staged["unemployment/a.csv:2"] == "11010519491231002X"
    assert staged["unemployment/a.csv:5"] is None  # never repaired
    assert "unemployment/a.csv:4" not in staged


def test_conditions_on_one_lookup_are_decided_per_cell_and_hold_on_the_same_rows(con):
    """`NormalizedView.any_true` tests a condition on one column's lookup once per distinct cell (a NULL
    cell included: `registered_on IS NULL` is true where the cell is empty), and the others per row: the
    rows it holds on are those where one of the conditions is true."""
    raw_table(
        con,
        "unemployment",
        ["name", "citizen_id", "registered_on", "phone"],
        [
            ("张三", "11010519491231002x", "2024/3/5", "=1+1"),
            ("李四", "110105194912310021", "bad", "13800000000"),
            ("王五", "11010519491231002x", None, None),
            ("赵六", None, "2024-01-01", "13800000000"),
            ("张三", "11010519491231002x", "2024/3/5", "13800000000"),
        ],
    )
    view = build_normalized(
        con, "unemployment", "raw_unemployment", "normalized", as_of=date(2026, 6, 30), max_cell_chars=100
    )
    conditions = [
        "registered_on IS NULL AND raw_registered_on IS NOT NULL",  # one lookup: a date that did not parse
        "registered_on IS NULL",  # one lookup, true on a NULL cell
        "ascii(raw_phone) = 61",  # one lookup: starts with '='
        "id_issue = 'missing' AND name IS NOT NULL",  # two lookups: per row
        "id_valid AND name = '张三'",  # two lookups: per row
    ]
    may_fail = view.any_true(conditions)
    assert may_fail.count("_fails_lk_") == 2  # registered_on's and phone's lookups
    assert "(id_issue = 'missing' AND name IS NOT NULL)" in may_fail

    def rows(where: str) -> list[tuple]:
        return con.sql(f"SELECT source_row FROM normalized WHERE {where} ORDER BY 1").fetchall()

    assert rows(may_fail) == rows(" OR ".join(f"({c})" for c in conditions)) == [(2,), (3,), (4,), (5,), (6,)]
    for condition in conditions:  # and each condition alone, decided per cell where it can be
        assert rows(view.any_true([condition])) == rows(condition)


def test_disability_card_gives_id_category_and_grade(con):
    columns = ["name", "card_no", "citizen_id", "card_status"]
    raw_table(
        con,
        "disability",
        columns,
        [
            ("张三", "11010519491231002X43", None, "有效"),  # 18-character ID + 肢体 + 三级
            ("李四", "33042175010100122", None, "有效"),  # legacy 15-digit ID + 听力 + 二级
            ("王五", "1.10105199001011E+19", None, "有效"),  # Excel turned the card into a number
        ],
    )
    stage_source(con, "disability")
    rows = con.sql(
        "SELECT source_record, id_norm, id_issue, id_prefix, disability_category, disability_grade "
        "FROM staged_disability ORDER BY source_row"
    ).fetchall()
    assert rows == [
        ("disability/a.csv:2", "11010519491231002X", None, None, "肢体", 3),
        ("disability/a.csv:3", "330421197501010015", None, None, "听力", 2),
        ("disability/a.csv:4", None, "excel_numeric", "110105199001011", None, None),
    ]


def test_schema_check_validates_small_tables_whole_and_samples_big_ones(con):
    raw_table(con, "si_persons", ["name", "citizen_id"], [("张三", "11010519491231002X")] * 3)
    stage_source(con, "si_persons")
    assert (
        schema_result("si_persons", validate_staged(con, "si_persons")).metadata["rows_validated"].value == 3
    )

    con.execute(
        "INSERT INTO staged_si_persons BY NAME SELECT s.* EXCLUDE (source_record) FROM staged_si_persons s, range(200_000)"
    )
    result = schema_result("si_persons", validate_staged(con, "si_persons"))
    validated = result.metadata["rows_validated"].value
    assert result.passed and 50_000 < validated < 400_000  # about SCHEMA_SAMPLE_ROWS of 600,003


def test_schema_check_fails_on_a_staged_table_that_breaks_its_declaration(con):
    raw_table(con, "si_persons", ["name", "citizen_id"], [("张三", "11010519491231002X")])
    stage_source(con, "si_persons")
    con.execute("UPDATE staged_si_persons SET source_row = NULL")  # declared NOT NULL
    result = schema_result("si_persons", validate_staged(con, "si_persons"))
    assert not result.passed and "source_row" in str(result.metadata["failures"].value)


def test_notices_are_flagged_but_never_count_toward_blocking(con):
    """A 15-digit ID converted and an exact duplicate row lose nothing: flagged for the steward, not
    counted toward validation.max_quarantine_rate; a wrong check digit is a defect and counts."""
    raw_table(
        con,
        "si_persons",
        ["citizen_id", "name"],
        [
            ("330421750101001", "张三"),  # legacy 15 digits: a notice
            ("330421750101001", "张三"),  # and an exact copy of it: a second notice
            ("110105194912310021", "李四"),  # wrong check digit: a defect
            ("11010519491231002X", "王五"),
        ],
    )
    result = stage_source(con, "si_persons")
    assert (result.rows_flagged, result.rows_blocking) == (3, 1)
    assert result.quarantine_rate == 0.75 and result.blocking_rate == 0.25
    by_rule = {(f.rule, f.notice): f.first_records for f in result.failures}
    assert by_rule == {
        ("id_legacy_15", True): ["si_persons/a.csv:2", "si_persons/a.csv:3"],
        ("duplicate_row", True): ["si_persons/a.csv:3"],
        ("id_bad_checksum", False): ["si_persons/a.csv:4"],
    }
    assert row_rules_result(result, max_rate=0.3).severity == AssetCheckSeverity.WARN
    blocked = row_rules_result(result, max_rate=0.2)
    assert blocked.severity == AssetCheckSeverity.ERROR and not blocked.passed
    assert "25.0%" in blocked.description and "blocking" in blocked.description
    assert all(f.label for f in result.failures), "every rule has its Chinese name"
