"""Dates and months as the extracts write them, parsed into `pl.Date` (SPEC section 2).

What belongs here: the accepted spellings of a date (2024-03-05, 2024/3/5, 2024.3.5, 20240305,
2024年3月5日, `2024-03-05 00:00:00`, Excel serial numbers) and of a month (费款所属期: 202403, 2024-03,
2024年3月), parsed in vectorised Polars. A bare year (2024) is refused rather than read as the Excel
serial of a day in 1905. A value that is not empty but does not parse comes back NULL;
the caller compares with the raw value to flag it. What does not belong here: deciding whether a parsed
date is plausible for its column (a registration in the future, say) — that is a row rule.
"""

from datetime import date

import polars as pl

_TIME = r"(?:[\sT]+[0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)?"
_SEPARATED = rf"^([0-9]{{4}})\s*[-/.年]\s*([0-9]{{1,2}})\s*[-/.月]\s*([0-9]{{1,2}})\s*日?{_TIME}$"
_COMPACT = r"^([0-9]{4})([0-9]{2})([0-9]{2})$"
_SERIAL = r"^([0-9]{1,5})(?:\.0+)?$"
_MONTH_SEPARATED = r"^([0-9]{4})\s*[-/.年]\s*([0-9]{1,2})\s*月?$"
_MONTH_COMPACT = r"^([0-9]{4})([0-9]{2})(?:\.0+)?$"  # 202403, or 202403.0 from a numeric cell

# Excel's 1900 date system counts 1900-01-01 as 1 and has a 1900-02-29 (serial 60) that never was.
_EXCEL_EPOCH_BEFORE_LEAP_BUG = date(1899, 12, 31)
_EXCEL_EPOCH = date(1899, 12, 30)
_EXCEL_FAKE_LEAP_DAY = 60
_EXCEL_LAST_SERIAL = 80_000
# A bare year (2024) is not a date, though it would be a serial of 1905: refuse it rather than guess.
_BARE_YEARS = (1900, 2100)
# 有效期至 "长期": a card (or any end date) without expiry reads as the last representable day.
_OPEN_ENDED = ("长期", "长期有效", "永久", "永久有效", "无期限")
OPEN_ENDED_DATE = date(9999, 12, 31)


def _clean(raw: pl.Expr) -> pl.Expr:
    """NFKC (full-width digits and separators) and outer whitespace removed."""
    return raw.str.normalize("NFKC").str.strip_chars()


def _from_parts(text: pl.Expr, pattern: str, *, with_day: bool) -> pl.Expr:
    """The date spelled by the year, month (and day) groups of `pattern`; NULL when impossible."""
    groups = text.str.extract_groups(pattern)
    day = groups.struct.field("3") if with_day else pl.lit("1")
    iso = pl.concat_str(
        groups.struct.field("1"), groups.struct.field("2").str.zfill(2), day.str.zfill(2), separator="-"
    )
    return iso.str.to_date("%Y-%m-%d", strict=False)


def _from_excel_serial(text: pl.Expr) -> pl.Expr:
    """An Excel serial day number (1900 date system), possibly written as a float (45356.0)."""
    serial = text.str.extract(_SERIAL, 1).cast(pl.Int32)
    epoch = pl.when(serial < _EXCEL_FAKE_LEAP_DAY).then(_EXCEL_EPOCH_BEFORE_LEAP_BUG).otherwise(_EXCEL_EPOCH)
    in_range = (
        serial.is_between(1, _EXCEL_LAST_SERIAL)
        & (serial != _EXCEL_FAKE_LEAP_DAY)
        & ~serial.is_between(*_BARE_YEARS)
    )
    return pl.when(in_range).then(epoch + pl.duration(days=serial))


def _date(text: pl.Expr) -> pl.Expr:
    return pl.coalesce(
        _from_parts(text, _SEPARATED, with_day=True),
        _from_parts(text, _COMPACT, with_day=True),
        _from_excel_serial(text),
        pl.when(text.is_in(_OPEN_ENDED)).then(OPEN_ENDED_DATE),
    )


def _parse(raw: pl.Series, parser: pl.Expr) -> pl.Series:
    return raw.cast(pl.String).to_frame("raw").select(parser.alias(raw.name)).to_series()


def parse_dates(raw: pl.Series) -> pl.Series:
    """Parse raw date text into `pl.Date`, same length and order; NULL when empty or unparseable."""
    return _parse(raw, _date(_clean(pl.col("raw"))))


def parse_months(raw: pl.Series) -> pl.Series:
    """Parse a month (费款所属期: 202403, 2024-03, 2024/3, 2024年3月) into the first day of that month.

    A full date (or Excel serial) is accepted too and gives the first of its month, since Excel often
    stores a period as a date. Same length and order; NULL when empty or unparseable.
    """
    text = _clean(pl.col("raw"))
    month = pl.coalesce(
        _from_parts(text, _MONTH_COMPACT, with_day=False),
        _from_parts(text, _MONTH_SEPARATED, with_day=False),
        _date(text).dt.month_start(),
    )
    return _parse(raw, month)
