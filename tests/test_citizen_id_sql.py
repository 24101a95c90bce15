"""One citizen-ID validity: the linker's SQL macro `id_is_valid` (`matching/comparisons.py`, for the IDs staging
does not validate, such as 户主身份证号) says of every normalized ID what staging (`sources/citizen_id.py`)
says of the raw value, on the same as-of date — on random IDs, IDs corrupted the ways exports corrupt
them, and random text.
"""

import datetime as dt

import duckdb
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aidmatch.matching.comparisons import create_macros
from aidmatch.sources.citizen_id import normalize_citizen_ids
from tests.conftest import citizen_id

DIGITS = "0123456789"


@st.composite
def well_formed_ids(draw) -> str:
    """An 18-character ID with its right check character, born any day from 1700 to 2200 (some before
    1800, some after the as-of date: both invalid), in a known or an unknown region."""
    region = draw(st.text(DIGITS, min_size=6, max_size=6))
    birth = draw(st.dates(dt.date(1700, 1, 1), dt.date(2200, 12, 31)))
    return citizen_id(region, birth, draw(st.integers(0, 999)))


@st.composite
def corrupted_ids(draw) -> str:
    """A well-formed ID as exports damage it: a character mistyped, two swapped, one dropped or added, the
    check character wrong, a lowercase x, the birth date made impossible (0230, 1301), 15 digits."""
    text = draw(well_formed_ids())
    position = draw(st.integers(0, 17))
    kind = draw(
        st.sampled_from(
            ["substitute", "swap", "drop", "insert", "check", "lower_x", "bad_month", "bad_day", "legacy"]
        )
    )
    character = draw(st.sampled_from([*DIGITS, "X", "x", " ", "Ｘ", "１", "A"]))
    if kind == "substitute":
        return text[:position] + character + text[position + 1 :]
    if kind == "swap":
        position = min(position, 16)
        return text[:position] + text[position + 1] + text[position] + text[position + 2 :]
    if kind == "drop":
        return text[:position] + text[position + 1 :]
    if kind == "insert":
        return text[:position] + character + text[position:]
    if kind == "check":
        return text[:17] + draw(st.sampled_from([c for c in "0123456789X" if c != text[17]]))
    if kind == "lower_x":
        return text[:17] + "x"
    if kind == "bad_month":
        return text[:10] + draw(st.sampled_from(["00", "13", "99"])) + text[12:]
    if kind == "bad_day":
        return text[:10] + "0230" + text[14:]
    return text[:6] + text[8:17]  # the 15-digit form, before 1999's


ANY_ID = st.one_of(
    well_formed_ids(), corrupted_ids(), st.text(DIGITS + "Xx", min_size=14, max_size=20), st.text()
)
AS_OF = st.dates(dt.date(1790, 1, 1), dt.date(2210, 12, 31))


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    yield connection
    connection.close()


def sql_verdicts(con: duckdb.DuckDBPyConnection, ids: list[str | None], as_of: dt.date) -> list[bool]:
    create_macros(con, as_of)
    (verdicts,) = con.execute("SELECT list_transform(?::VARCHAR[], id -> id_is_valid(id))", [ids]).fetchone()
    return verdicts


@settings(max_examples=300, deadline=None)
@given(st.lists(ANY_ID, min_size=1, max_size=40), AS_OF)
def test_the_sql_and_the_staging_judge_every_id_alike(con, raw: list[str], as_of: dt.date) -> None:
    staged = normalize_citizen_ids(pl.Series(raw, dtype=pl.String), as_of=as_of)
    normalized = staged["id_norm"].to_list()
    assert sql_verdicts(con, normalized, as_of) == staged["id_valid"].to_list()


def test_the_birth_date_is_judged_against_the_as_of_date(con) -> None:
    """A re-run of an old night gives that night's verdicts: an ID born after the night is invalid then."""
    born = citizen_id("110101", dt.date(2026, 7, 1), 11)
    assert sql_verdicts(con, [born], dt.date(2026, 6, 30)) == [False]
    assert sql_verdicts(con, [born], dt.date(2026, 7, 1)) == [True]
    assert sql_verdicts(con, [citizen_id("110101", dt.date(1799, 12, 31), 11)], dt.date(2026, 7, 1)) == [
        False
    ]
    assert sql_verdicts(con, ["11010519491231002X", None], dt.date(2026, 7, 1)) == [True, False]
