"""Statutory retirement date under the 2024 NPC Standing Committee decision (渐进式延迟法定退休年龄).

`retirement_date` is the readable reference; `create_retirement_macro` installs its SQL twin
`retirement_date(birth, category)` into DuckDB for the rules that run at scale. Tests keep the two in
agreement. Which category a person falls in (and the default for women) is the caller's business.
"""

import calendar
import math
from datetime import date
from enum import Enum

import duckdb


class RetirementCategory(Enum):
    """(base age, cutoff year Y0, months of birth per month of delay, cap in months)."""

    MEN = ("men", 60, 1965, 4, 36)
    WOMEN_55 = ("women_55", 55, 1970, 4, 36)
    WOMEN_50 = ("women_50", 50, 1975, 2, 60)

    def __init__(self, code: str, base_years: int, cutoff_year: int, step_months: int, cap_months: int):
        self.code = code
        self.base_years = base_years
        self.cutoff_year = cutoff_year
        self.step_months = step_months
        self.cap_months = cap_months


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the end of a shorter month (2020-01-31 + 1 → 2020-02-29)."""
    year, month_index = divmod(day.year * 12 + day.month - 1 + months, 12)
    month = month_index + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def retirement_delay_months(birth: date, category: RetirementCategory) -> int:
    """Months of delay: one per `step` months of birth after December of Y0, at most `cap`."""
    k = (birth.year - category.cutoff_year) * 12 + birth.month
    return 0 if k <= 0 else min(category.cap_months, math.ceil(k / category.step_months))


def retirement_date(birth: date, category: RetirementCategory) -> date:
    """法定退休日期: birth + base·12 + delay months, same day clamped to the month's end."""
    return add_months(birth, category.base_years * 12 + retirement_delay_months(birth, category))


_MACRO_SQL = """
CREATE OR REPLACE MACRO retirement_delay_months(k, step_months, cap_months) AS (
    CASE WHEN k <= 0 THEN 0 ELSE least(cap_months, (k + step_months - 1) // step_months) END
);
CREATE OR REPLACE MACRO retirement_date(birth, category) AS (
    CAST(birth + to_months(CAST(CASE category {branches} END AS INTEGER)) AS DATE)
);
"""


def create_retirement_macro(con: duckdb.DuckDBPyConnection) -> None:
    """Install `retirement_date(birth DATE, category VARCHAR) -> DATE` (category: men, women_55, women_50)."""
    branches = " ".join(
        f"WHEN '{c.code}' THEN {c.base_years} * 12 + retirement_delay_months("
        f"(year(birth) - {c.cutoff_year}) * 12 + month(birth), {c.step_months}, {c.cap_months})"
        for c in RetirementCategory
    )
    con.execute(_MACRO_SQL.format(branches=branches))
