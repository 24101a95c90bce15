"""The rule thresholds and defaults (SPEC section 4: "every threshold is configuration").

One frozen dataclass, validated on construction; `aidmatch.settings` loads it from the `rules:`
section of the YAML config (unknown keys and wrong types are errors there) and the manifest echoes it.
"""

from dataclasses import dataclass

from aidmatch.rules.retirement import RetirementCategory


@dataclass(frozen=True)
class RuleSettings:
    # Employed / flexibly employed: contributions in this many calendar months before the as-of month.
    lookback_months: int = 3
    # LONG_TERM_UNEMPLOYED (长期失业): registered at least this many months before the as-of date.
    long_term_months: int = 12
    # Working age starts on this birthday (劳动年龄下限).
    min_working_age: int = 16
    # AGE_4050 (大龄, "4050人员"): women from this age ...
    age_4050_women: int = 40
    # ... and men from this age.
    age_4050_men: int = 50
    # OUTREACH by DISABLED: a valid card of one of these grades (三级/四级: mild enough to work).
    outreach_disability_grades: tuple[int, ...] = (3, 4)
    # The extracts cannot tell a woman's statutory base (female cadre 55, female worker 50): 55 is the
    # conservative default (the later date: nobody leaves a roll early as RETIREMENT_AGE). 55 or 50.
    default_women_retirement_base: int = 55
    # Entitlements (应享尽享): the 就业困难人员 社会保险补贴期限 runs this many months from the 认定日期 ...
    subsidy_months: int = 36
    # ... or to the statutory retirement date when that is less than this many years after the 认定日期
    # (《就业补助资金管理办法》: 距法定退休年龄不足5年的, 可延长至退休).
    subsidy_retirement_years: int = 5
    # SI_SUBSIDY_EMPLOYER needs a hire the contribution extract shows: the employer's first month must be
    # later than the extract's first month, the earliest 费款所属期 holding at least this share of the
    # busiest month's rows (a few back-paid 补缴 rows for an old month do not make the extract cover it).
    extract_month_min_share: float = 0.5

    def __post_init__(self) -> None:
        if self.default_women_retirement_base not in (50, 55):
            raise ValueError("default_women_retirement_base must be 50 or 55")
        for name in (
            "lookback_months",
            "long_term_months",
            "min_working_age",
            "age_4050_women",
            "age_4050_men",
            "subsidy_months",
            "subsidy_retirement_years",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive number")
        if not 0 < self.extract_month_min_share <= 1:
            raise ValueError("extract_month_min_share must be above 0 and at most 1")
        if not set(self.outreach_disability_grades) <= {1, 2, 3, 4}:
            raise ValueError("outreach_disability_grades must be among 1, 2, 3, 4")

    @property
    def women_retirement_category(self) -> RetirementCategory:
        """The retirement category applied to every woman (see default_women_retirement_base)."""
        if self.default_women_retirement_base == 50:
            return RetirementCategory.WOMEN_50
        return RetirementCategory.WOMEN_55
