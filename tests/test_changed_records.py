"""The records of a source staged again whose rows differ from the table they replace
(sources/changed_records.py): what a re-sent extract changed, by record, for the facts made again."""

import duckdb
import pytest

from aidmatch.sources.changed_records import (
    before_table,
    changed_table,
    drop_row_hashes,
    keep_row_hashes,
    note_changed_records,
)
from aidmatch.tables.ddl import has_table

COLUMNS = (
    "source VARCHAR, source_record VARCHAR GENERATED ALWAYS AS (source_file || ':' || source_row) VIRTUAL, "
    "source_file VARCHAR, source_sheet VARCHAR, source_row INTEGER, phone VARCHAR, registered_on DATE"
)
ROWS = [
    ("a.csv", None, 2, "13800000001", "2026-01-01"),
    ("a.csv", None, 3, "13800000002", None),
    ("b.xlsx", "Sheet1", 2, "13800000003", "2026-02-01"),
    ("b.xlsx", "Sheet2", 2, "13800000004", "2026-03-01"),
    ("b.xlsx", "Sheet2", 3, None, "2026-03-02"),
]


def _staged(con: duckdb.DuckDBPyConnection, rows: list[tuple], columns: str = COLUMNS) -> None:
    con.execute(f"CREATE OR REPLACE TABLE staged_unemployment ({columns})")
    for file, sheet, row, *values in rows:
        names = ["source", "source_file", "source_sheet", "source_row", "phone", "registered_on"]
        names += ["street"] if len(values) > 2 else []
        con.execute(
            f"INSERT INTO staged_unemployment ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",
            ["unemployment", file, sheet, row, *values],
        )


def _changed(con: duckdb.DuckDBPyConnection) -> set[tuple]:
    return set(con.sql(f"SELECT * FROM {changed_table('unemployment')}").fetchall())


@pytest.fixture
def con():
    with duckdb.connect() as con:
        _staged(con, ROWS)
        yield con


def test_the_records_whose_row_differs_or_that_are_new_are_noted(con):
    keep_row_hashes(con, "unemployment")
    again = [
        ROWS[0],
        (*ROWS[1][:4], "2026-01-05"),  # a date where none was
        ROWS[2],
        (*ROWS[3][:3], "13900000004", ROWS[3][4]),  # another phone number, on Sheet2's row 2, not Sheet1's
        ROWS[4],
        ("b.xlsx", "Sheet1", 3, "13800000005", "2026-04-01"),  # a new row
    ]
    _staged(con, again)
    assert note_changed_records(con, "unemployment") == 3
    assert _changed(con) == {("a.csv", None, 3), ("b.xlsx", "Sheet2", 2), ("b.xlsx", "Sheet1", 3)}
    assert not has_table(con, before_table("unemployment"))  # the hashes dropped once compared


def test_a_record_gone_leaves_every_record_counted_changed(con):
    """A gone record's place is known by its hash alone: the changed records cannot all be named."""
    keep_row_hashes(con, "unemployment")
    _staged(con, ROWS[:-1])
    assert note_changed_records(con, "unemployment") is None
    assert not has_table(con, changed_table("unemployment"))
    assert not has_table(con, before_table("unemployment"))


def test_the_same_rows_staged_again_in_another_order_change_no_record(con):
    keep_row_hashes(con, "unemployment")
    _staged(con, list(reversed(ROWS)))
    assert note_changed_records(con, "unemployment") == 0


def test_a_table_staged_with_another_column_changes_every_record(con):
    keep_row_hashes(con, "unemployment")
    _staged(con, [(*row, "东华门街道") for row in ROWS], f"{COLUMNS}, street VARCHAR")
    assert note_changed_records(con, "unemployment") == len(ROWS)


def test_without_the_hashes_of_the_table_replaced_no_record_is_known_changed(con):
    keep_row_hashes(con, "unemployment")
    drop_row_hashes(con, "unemployment")  # a night stopped before staging left them: dropped by the next
    assert note_changed_records(con, "unemployment") is None
    assert not has_table(con, changed_table("unemployment"))
