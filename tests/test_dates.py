"""Date and month parsing (SPEC section 2: the spellings real extracts use)."""

from datetime import date

import polars as pl
import pytest

from aidmatch.sources.dates import parse_dates, parse_months

MARCH_5 = date(2024, 3, 5)


def parsed(raw: str | None) -> date | None:
    return parse_dates(pl.Series([raw], dtype=pl.String)).item()


@pytest.mark.parametrize(
    "raw",
    [
        "2024-03-05",
        "2024-3-5",
        "2024/3/5",
        "2024/03/05",
        "2024.3.5",
        "20240305",
        "2024年3月5日",
        "2024 年 3 月 5 日",
        "2024-03-05 00:00:00",
        "2024/3/5 8:30",
        "2024-03-05T00:00:00.000",
        " 2024-03-05\u3000",
        "２０２４－０３－０５",
        "45356",  # Excel serial
        "45356.0",
    ],
)
def test_every_spelling_parses(raw: str) -> None:
    assert parsed(raw) == MARCH_5


@pytest.mark.parametrize(
    ("serial", "expected"),
    [
        ("1", date(1900, 1, 1)),
        ("59", date(1900, 2, 28)),
        ("61", date(1900, 3, 1)),
        ("80000", date(2119, 1, 11)),
    ],
)
def test_excel_serials_follow_the_1900_date_system(serial: str, expected: date) -> None:
    assert parsed(serial) == expected


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "  ",
        "60",  # 1900-02-29, which Excel invented
        "0",
        "80001",
        "2024",  # a bare year is not a date
        "2024-02-30",
        "2024-13-01",
        "20241301",
        "2024-03",  # a month, not a date
        "202403",
        "2024-3-500:00:00",
        "45356.5",
        "昨天",
    ],
)
def test_empty_or_unparseable_is_null(raw: str | None) -> None:
    assert parsed(raw) is None


def test_output_is_aligned_with_input_and_unparseable_values_can_be_flagged() -> None:
    raw = pl.Series("registered_on", ["2024-03-05", None, "bad", "45356", ""])
    result = parse_dates(raw)
    assert (result.name, result.dtype) == ("registered_on", pl.Date)
    assert result.to_list() == [MARCH_5, None, None, MARCH_5, None]
    flagged = (raw.str.strip_chars() != "") & result.is_null()
    assert flagged.to_list() == [False, None, True, False, False]


@pytest.mark.parametrize(
    "raw",
    ["202403", "202403.0", "2024-03", "2024/3", "2024.03", "2024年3月", "2024年03月", "2024-03-05", "45356"],
)
def test_months_parse_to_the_first_of_the_month(raw: str) -> None:
    assert parse_months(pl.Series([raw])).item() == date(2024, 3, 1)


@pytest.mark.parametrize("raw", [None, "", "202413", "2024", "2024-00", "abc"])
def test_unparseable_months_are_null(raw: str | None) -> None:
    assert parse_months(pl.Series([raw], dtype=pl.String)).item() is None


def test_open_ended_end_date_reads_as_last_day():
    from aidmatch.sources.dates import OPEN_ENDED_DATE

    assert parse_dates(pl.Series(["长期", "长期有效", "长 期x"])).to_list() == [
        OPEN_ENDED_DATE,
        OPEN_ENDED_DATE,
        None,
    ]
