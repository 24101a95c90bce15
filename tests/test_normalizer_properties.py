"""Property-based tests of the normalizers: random text (control characters, full-width forms, CJK,
huge strings) never raises, keeps the declared types and the row order, and the results are stable.

Each test is bounded (`max_examples`, no deadline) so the suite stays fast.
"""

import datetime as dt

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from aidmatch.sources.citizen_id import check_character, normalize_citizen_ids
from aidmatch.sources.dates import parse_dates, parse_months
from aidmatch.sources.names import normalize_names
from aidmatch.sources.text import CONTROL_PATTERN

AS_OF = dt.date(2026, 6, 30)
BOUNDED = settings(max_examples=150, deadline=None, database=None)  # no example folder in the tree

# Characters the extracts are made of, and the ones they should not hold: ASCII, CJK, full-width forms,
# middle-dot variants, brackets, every control character, spaces of every kind.
_ALPHABET = st.one_of(
    st.characters(codec="utf-8", exclude_categories=("Cs",)),
    st.sampled_from("0123456789Xx王李张丽莉乾坤阿依古丽（）()【】·•‧・．.曾用名:：\u3000\u200b"),
    st.characters(min_codepoint=0x00, max_codepoint=0x9F),
    st.characters(min_codepoint=0xFF01, max_codepoint=0xFF5E),
)
TEXT = st.text(_ALPHABET, max_size=40)
# A short pattern repeated into a long cell (up to ~100,000 characters).
HUGE = st.builds(
    lambda part, times: part * times, st.text(_ALPHABET, min_size=1, max_size=5), st.integers(1, 20_000)
)
CELLS = st.lists(st.one_of(st.none(), TEXT, HUGE), max_size=8)


def series(values: list[str | None]) -> pl.Series:
    return pl.Series("raw", values, dtype=pl.String)


@BOUNDED
@given(CELLS)
def test_citizen_ids_of_any_text_keep_types_and_rows(values: list[str | None]) -> None:
    result = normalize_citizen_ids(series(values), as_of=AS_OF)
    assert result.schema == {
        "id_raw": pl.String,
        "id_norm": pl.String,
        "id_valid": pl.Boolean,
        "id_issue": pl.String,
        "id_prefix": pl.String,
        "id_birth_date": pl.Date,
        "id_sex": pl.String,
        "id_region_known": pl.Boolean,
    }
    assert result["id_raw"].to_list() == values
    for row in result.iter_rows(named=True):
        assert row["id_valid"] == (row["id_issue"] is None)
        assert row["id_norm"] is None or len(row["id_norm"]) == 18
        if row["id_valid"]:
            assert row["id_birth_date"] <= AS_OF and row["id_sex"] in ("男", "女")


@st.composite
def valid_ids(draw) -> str:
    region = draw(st.from_regex(r"\A[1-8][0-9]{5}\Z"))
    birth = draw(st.dates(dt.date(1800, 1, 1), AS_OF))
    sequence = draw(st.integers(0, 999))
    body = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return body + check_character(body)


@BOUNDED
@given(st.lists(valid_ids(), min_size=1, max_size=5))
def test_a_valid_18_character_id_normalizes_to_itself(ids: list[str]) -> None:
    result = normalize_citizen_ids(series(ids), as_of=AS_OF)
    assert result["id_norm"].to_list() == ids
    assert result["id_valid"].all()
    spaced = [f" {i[:6]} {i[6:].lower()}\u3000" for i in ids]  # spaces, lowercase x: the same ID
    assert normalize_citizen_ids(series(spaced), as_of=AS_OF)["id_norm"].to_list() == ids


@BOUNDED
@given(CELLS)
def test_names_of_any_text_keep_types_and_normalizing_twice_changes_nothing(values: list[str | None]) -> None:
    result = normalize_names(series(values))
    assert result.schema == {"name_raw": pl.String, "name": pl.String, "name_alias": pl.String}
    assert result["name_raw"].to_list() == values
    names = result["name"]
    assert not names.str.contains(CONTROL_PATTERN).fill_null(False).any()  # never a NUL in a person's name
    assert not names.str.contains(r"\s").fill_null(False).any()
    assert (names != "").fill_null(True).all()  # empty becomes NULL
    assert normalize_names(names)["name"].to_list() == names.to_list()


@BOUNDED
@given(CELLS)
def test_dates_and_months_of_any_text_are_dates_or_null(values: list[str | None]) -> None:
    dates, months = parse_dates(series(values)), parse_months(series(values))
    assert dates.dtype == pl.Date and months.dtype == pl.Date
    assert len(dates) == len(months) == len(values)
    assert all(d is None or d.day == 1 for d in months.to_list())
    empty = [v is None or not v.strip() for v in values]
    assert all(d is None for d, blank in zip(dates.to_list(), empty, strict=True) if blank)


@BOUNDED
@given(st.dates(dt.date(1900, 3, 1), dt.date(2099, 12, 31)))
def test_every_spelling_of_a_date_parses_to_it(day: dt.date) -> None:
    serial = (day - dt.date(1899, 12, 30)).days
    spellings = [
        day.isoformat(),
        f"{day.year}/{day.month}/{day.day}",
        f"{day:%Y%m%d}",
        f"{day.year}年{day.month}月{day.day}日",
        f"{day.isoformat()} 00:00:00",
        day.isoformat().translate(str.maketrans("0123456789-", "０１２３４５６７８９－")),  # full-width
    ]
    if not 1900 <= serial <= 2100:  # an Excel serial, unless it reads as a bare year (refused by design)
        spellings.append(str(serial))
    assert parse_dates(series(spellings)).to_list() == [day] * len(spellings)
    assert (
        parse_months(series([f"{day:%Y%m}", f"{day.year}年{day.month}月"])).to_list()
        == [day.replace(day=1)] * 2
    )
