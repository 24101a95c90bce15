"""The statutory retirement date (rules/retirement.py) and the rule settings (rules/settings.py).

The Python `retirement_date` is the readable reference; the SQL macro used at scale must agree with
it on every birth date.
"""

from dataclasses import asdict
from datetime import date

import duckdb
import pytest

from aidmatch.rules.retirement import RetirementCategory, add_months, create_retirement_macro, retirement_date
from aidmatch.rules.settings import RuleSettings
from aidmatch.settings import ConfigError, load_settings


@pytest.mark.parametrize(
    ("birth", "category", "expected"),
    [
        # SPEC section 4 checks
        (date(1970, 3, 31), RetirementCategory.MEN, date(2031, 7, 31)),
        (date(1980, 8, 31), RetirementCategory.WOMEN_50, date(2033, 6, 30)),
        (date(1978, 5, 10), RetirementCategory.WOMEN_55, date(2035, 7, 10)),
        # born before Y0: no delay (k <= 0)
        (date(1964, 12, 31), RetirementCategory.MEN, date(2024, 12, 31)),
        (date(1969, 12, 15), RetirementCategory.WOMEN_55, date(2024, 12, 15)),
        (date(1974, 12, 1), RetirementCategory.WOMEN_50, date(2024, 12, 1)),
        # January of Y0 (k = 1): one month of delay
        (date(1965, 1, 1), RetirementCategory.MEN, date(2025, 2, 1)),
        (date(1975, 1, 31), RetirementCategory.WOMEN_50, date(2025, 2, 28)),
        # k = 4 (men): still one month; k = 5: two
        (date(1965, 4, 30), RetirementCategory.MEN, date(2025, 5, 30)),
        (date(1965, 5, 31), RetirementCategory.MEN, date(2025, 7, 31)),
        # capped: 36 / 60 months at most
        (date(1990, 1, 1), RetirementCategory.MEN, date(2053, 1, 1)),
        (date(1990, 1, 1), RetirementCategory.WOMEN_55, date(2048, 1, 1)),
        (date(1990, 1, 1), RetirementCategory.WOMEN_50, date(2045, 1, 1)),
    ],
)
def test_retirement_date(birth, category, expected):
    assert retirement_date(birth, category) == expected


def test_add_months_clamps_to_the_month_end():
    assert add_months(date(2020, 1, 31), 1) == date(2020, 2, 29)
    assert add_months(date(2021, 1, 31), 1) == date(2021, 2, 28)
    assert add_months(date(2020, 2, 29), 12) == date(2021, 2, 28)
    assert add_months(date(2020, 12, 15), 1) == date(2021, 1, 15)


@pytest.mark.parametrize("category", list(RetirementCategory))
def test_sql_macro_agrees_with_python_on_every_day(category):
    con = duckdb.connect()
    create_retirement_macro(con)
    rows = con.execute(
        "SELECT d::DATE, retirement_date(d::DATE, ?)"
        " FROM range(DATE '1955-01-01', DATE '2010-01-01', INTERVAL 1 DAY) AS t(d)",
        [category.code],
    ).fetchall()
    assert len(rows) > 20_000
    mismatches = [(birth, sql) for birth, sql in rows if sql != retirement_date(birth, category)]
    assert mismatches == []


def _rules_from_yaml(tmp_path, text: str) -> RuleSettings:
    path = tmp_path / "aidmatch.yaml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path, environ={}).rules


def test_settings_from_yaml(tmp_path):
    settings = _rules_from_yaml(tmp_path, "rules:\n  lookback_months: 6\n  outreach_disability_grades: [4]\n")
    assert settings.lookback_months == 6
    assert settings.outreach_disability_grades == (4,)
    assert asdict(settings)["default_women_retirement_base"] == 55
    assert settings.women_retirement_category is RetirementCategory.WOMEN_55
    assert (
        RuleSettings(default_women_retirement_base=50).women_retirement_category
        is RetirementCategory.WOMEN_50
    )


@pytest.mark.parametrize(
    "text",
    [
        "lookback_month: 3",
        "default_women_retirement_base: 52",
        "lookback_months: 0",
        "outreach_disability_grades: [5]",
        "lookback_months: three",
    ],
)
def test_settings_reject_bad_values(tmp_path, text):
    with pytest.raises(ConfigError):
        _rules_from_yaml(tmp_path, f"rules:\n  {text}\n")
