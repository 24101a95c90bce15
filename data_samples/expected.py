"""Expected outputs computed from the clean world: a plain, separate reading of SPEC section 4.

What belongs here: the statutory retirement date and the lists (proactive, removals, zero-employment
households, entitlements, 民政's and 残联's lists, the early warning) as SPEC states them, computed from the
generator's clean frames — never from the defective extracts — so the pipeline's lists can be scored
against them.
What does not: anything the pipeline imports; this is an oracle, written from the SPEC text only.
"""

import calendar
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from aidmatch.data_samples.world import World

# Retirement schemes of the 2024 decision: (base age, Y0, step months, cap months).
SCHEMES: dict[str, tuple[int, int, int, int]] = {
    "male": (60, 1965, 4, 36),
    "female_55": (55, 1970, 4, 36),
    "female_50": (50, 1975, 2, 60),
}
HIGH_CONFIDENCE = ("EMPLOYED", "RETIRED", "DECEASED", "DUPLICATE")
SUBSIDY_MONTHS = 36  # 社会保险补贴期限 from the 认定日期 ...
SUBSIDY_RETIREMENT_YEARS = 5  # ... or to retirement when that comes less than 5 years after it


def add_months(day: date, months: int) -> date:
    """`day` plus `months` calendar months, the day clamped to the month's end."""
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month0 + 1, min(day.day, calendar.monthrange(year, month0 + 1)[1]))


def retirement_date(birth: date, scheme: str) -> date:
    """法定退休年龄: birth + base·12 + delay months, delay = min(cap, ceil(k / step)) for k > 0."""
    base, first_year, step, cap = SCHEMES[scheme]
    k = (birth.year - first_year) * 12 + birth.month
    delay = 0 if k <= 0 else min(cap, -(-k // step))
    return add_months(birth, base * 12 + delay)


def write_expected(world: "World", registrations: pl.DataFrame, folder: Path) -> None:
    """Write expected_proactive.csv, expected_removals.csv, expected_zero_employment_households.csv,
    expected_entitlements.csv, expected_dibao_employment.csv, expected_disability_employment.csv and
    expected_households_at_risk.csv."""
    facts = person_facts(world)
    households = zero_employment_households(world, facts, registrations)
    proactive(world, facts, registrations, households).write_csv(folder / "expected_proactive.csv")
    removals(facts, registrations).write_csv(folder / "expected_removals.csv")
    households.write_csv(folder / "expected_zero_employment_households.csv")
    entitlements(world, facts, registrations).write_csv(folder / "expected_entitlements.csv")
    dibao_employment(world, facts).write_csv(folder / "expected_dibao_employment.csv")
    disability_employment(world, facts, registrations).write_csv(
        folder / "expected_disability_employment.csv"
    )
    households_at_risk(world, facts).write_csv(folder / "expected_households_at_risk.csv")


def lookback(d: date) -> list[str]:
    """The look-back months of D as 费款所属期 (YYYYMM), the latest first: the 3 calendar months before D's."""
    return [add_months(date(d.year, d.month, 1), -m).strftime("%Y%m") for m in (1, 2, 3)]


def person_facts(world: "World") -> pl.DataFrame:
    """What SPEC section 4 needs to know of each person on D, from the clean records."""
    d = world.as_of
    records = world.records
    paid = records["si_contributions"].filter(
        pl.col("period_month").is_in(lookback(d)), pl.col("payment_status") == "已实缴"
    )
    employee = paid.filter(pl.col("contribution_type") == "单位职工")["person_id"].unique()
    flexible = paid.filter(pl.col("contribution_type") == "灵活就业")["person_id"].unique()
    dibao = records["dibao"]
    active = dibao.filter(pl.col("assistance_status") == "在保")
    cards = records["disability"].filter(pl.col("card_status") == "有效", pl.col("valid_until") >= d)
    si = records["si_persons"]
    people = world.persons.select("person_id", "sex", "birth_date").with_columns(
        scheme=pl.when(pl.col("sex") == "男").then(pl.lit("male")).otherwise(pl.lit("female_55"))
    )
    births = people.select("birth_date", "scheme").unique()
    births = births.with_columns(
        statutory=pl.Series([retirement_date(b, s) for b, s in births.iter_rows()], dtype=pl.Date)
    )
    before_birthday = (
        # dt.month()/dt.day() are Int8: widen before arithmetic, or month * 100 wraps around.
        pl.col("birth_date").dt.month().cast(pl.Int32) * 100 + pl.col("birth_date").dt.day().cast(pl.Int32)
        > d.month * 100 + d.day
    )
    return (
        people.join(births, on=["birth_date", "scheme"], how="left")
        .with_columns(age=d.year - pl.col("birth_date").dt.year() - before_birthday.cast(pl.Int32))
        .with_columns(
            working_age=(pl.col("age") >= 16) & (pl.col("statutory") > d),
            past_retirement=pl.col("statutory") <= d,
            employed=pl.col("person_id").is_in(employee.implode()),
            flexibly_employed=pl.col("person_id").is_in(flexible.implode())
            & ~pl.col("person_id").is_in(employee.implode()),
            active_dibao=pl.col("person_id").is_in(active["person_id"].implode()),
            dibao_capable=pl.col("person_id").is_in(
                active.filter(pl.col("work_capacity") != "完全丧失劳动能力")["person_id"].implode()
            ),
            no_capacity=pl.col("person_id").is_in(
                dibao.filter(pl.col("work_capacity") == "完全丧失劳动能力")["person_id"].implode()
            ),
            works_per_dibao=pl.col("person_id").is_in(
                active.filter(pl.col("employment_status") == "在业")["person_id"].implode()
            ),
            student=pl.col("person_id").is_in(
                dibao.filter(pl.col("employment_status") == "在校学生")["person_id"].implode()
            ),
            disabled=pl.col("person_id").is_in(cards["person_id"].implode()),
            disabled_34=pl.col("person_id").is_in(
                cards.filter(pl.col("disability_grade").is_in(["三级", "四级"]))["person_id"].implode()
            ),
            retired=pl.col("person_id").is_in(
                si.filter(pl.col("person_status") == "离退休")["person_id"].implode()
            ),
            dead=pl.col("person_id").is_in(
                si.filter(pl.col("person_status") == "死亡")["person_id"].implode()
            ),
        )
        .with_columns(working=pl.col("employed") | pl.col("flexibly_employed") | pl.col("works_per_dibao"))
    )


def _urban_members(world: "World", facts: pl.DataFrame) -> pl.DataFrame:
    """The members of active urban households with their facts, and whether each is counted: working age,
    neither 完全丧失劳动能力 nor 在校学生."""
    return (
        world.records["dibao"]
        .filter(
            pl.col("assistance_status") == "在保",
            pl.col("assistance_type").is_in(["城市低保", "城市低保边缘"]),
        )
        .select("household_id", "person_id", "work_capacity", "employment_status")
        .unique()
        .join(facts, on="person_id", how="left")
        .with_columns(
            counted=pl.col("working_age")
            & (pl.col("work_capacity") != "完全丧失劳动能力")
            & (pl.col("employment_status") != "在校学生")
        )
    )


def zero_employment_households(
    world: "World", facts: pl.DataFrame, registrations: pl.DataFrame
) -> pl.DataFrame:
    """零就业家庭: active urban households with a counted working-age member and no counted member working."""
    members = _urban_members(world, facts).with_columns(
        registered=pl.col("person_id").is_in(registrations["person_id"].implode())
    )
    return (
        members.group_by("household_id")
        .agg(
            counted=pl.col("counted").sum(),
            working=(pl.col("counted") & pl.col("working")).sum(),
            registered=(pl.col("working_age") & pl.col("registered")).sum(),
        )
        .filter(pl.col("counted") > 0, pl.col("working") == 0)
        .select(
            "household_id",
            status=pl.when(pl.col("registered") > 0).then(pl.lit("CONFIRMED")).otherwise(pl.lit("POTENTIAL")),
        )
        .sort("household_id")
    )


def proactive(
    world: "World", facts: pl.DataFrame, registrations: pl.DataFrame, households: pl.DataFrame
) -> pl.DataFrame:
    """主动发现名单: RECOGNIZE registered people who may be 就业困难人员; OUTREACH the unregistered."""
    d = world.as_of
    registered = registrations.group_by("person_id").agg(
        first_registered=pl.col("registered_on").min(), any_difficult=(pl.col("is_difficult") == "是").any()
    )
    zero_members = world.records["dibao"].filter(
        pl.col("household_id").is_in(households["household_id"].implode())
    )
    people = facts.join(registered, on="person_id", how="left").with_columns(
        registered=pl.col("first_registered").is_not_null(),
        zero_household=pl.col("person_id").is_in(zero_members["person_id"].implode()),
        aged=pl.when(pl.col("sex") == "女").then(pl.col("age") >= 40).otherwise(pl.col("age") >= 50),
    )
    recognize = [
        ("DIBAO", pl.col("active_dibao")),
        ("DISABLED", pl.col("disabled")),
        ("AGE_4050", pl.col("aged")),
        ("LONG_TERM_UNEMPLOYED", pl.col("first_registered") <= add_months(d, -12)),
        ("ZERO_EMPLOYMENT_HOUSEHOLD", pl.col("zero_household")),
    ]
    outreach = [("DIBAO", pl.col("dibao_capable")), ("DISABLED", pl.col("disabled_34"))]
    recognizable = (
        pl.col("registered") & pl.col("working_age") & ~pl.col("any_difficult") & ~pl.col("employed")
    )
    reachable = (
        ~pl.col("registered")
        & pl.col("working_age")
        & ~pl.col("working")
        & ~pl.col("retired")
        & ~pl.col("dead")
        & ~pl.col("student")
    )
    listed = [
        people.filter(condition).select("person_id", category=pl.lit(category), reasons=_reasons(rules))
        for category, condition, rules in (
            ("RECOGNIZE", recognizable, recognize),
            ("OUTREACH", reachable, outreach),
        )
    ]
    return pl.concat(listed).filter(pl.col("reasons") != "").sort("person_id")


def removals(facts: pl.DataFrame, registrations: pl.DataFrame) -> pl.DataFrame:
    """应退出名单: one row per registration and roll with a reason to leave it, and its confidence."""
    rows = registrations.select(
        "source_record", "person_id", "registered_on", "is_difficult", "difficulty_categories"
    ).join(facts, on="person_id", how="left")
    record = pl.col("source_record").str.extract_groups(r"^(?<place>.*):(?<row>\d+)$")
    # earliest first: by registration date (empty last), then in file order (file, sheet, row as a number)
    rows = rows.sort(
        "registered_on", record.struct["place"], record.struct["row"].cast(pl.Int64), nulls_last=True
    ).with_columns(
        duplicate=pl.int_range(pl.len()).over("person_id") > 0,  # all but the earliest registration
        categories=pl.col("difficulty_categories").str.replace_all("，", "、").str.split("、"),
    )
    unemployment = [
        ("EMPLOYED", pl.col("employed")),
        ("FLEXIBLY_EMPLOYED", pl.col("flexibly_employed")),
        ("RETIRED", pl.col("retired")),
        ("RETIREMENT_AGE", pl.col("past_retirement") & ~pl.col("retired")),
        ("DECEASED", pl.col("dead")),
        ("DUPLICATE", pl.col("duplicate")),
        ("NO_WORK_CAPACITY", pl.col("no_capacity")),
    ]
    basis = (pl.col("categories").list.len() > 0) & pl.col("categories").list.eval(
        pl.element().is_in(["低保", "残疾"])
    ).list.all()
    basis_gone = (~pl.col("categories").list.contains("低保") | ~pl.col("active_dibao")) & (
        ~pl.col("categories").list.contains("残疾") | ~pl.col("disabled")
    )
    difficulty = [("BASIS_ENDED", (pl.col("is_difficult") == "是") & basis & basis_gone)]
    listed = [
        rows.select("source_record", roll=pl.lit(roll), reasons=_reasons(rules))
        for roll, rules in (("unemployment", unemployment), ("employment_difficulty", difficulty))
    ]
    high = pl.col("reasons").str.split(";").list.eval(pl.element().is_in(HIGH_CONFIDENCE)).list.any()
    return (
        pl.concat(listed)
        .filter(pl.col("reasons") != "")
        .with_columns(confidence=pl.when(high).then(pl.lit("high")).otherwise(pl.lit("review")))
        .sort("source_record", "roll")
    )


def entitlements(world: "World", facts: pl.DataFrame, registrations: pl.DataFrame) -> pl.DataFrame:
    """应享尽享: the two 社保补贴 of a recognized 就业困难人员 within the subsidy period, and 临时生活补贴.

    Recognized: a registration with 就业困难人员 是; the earliest 认定日期 of those starts the period, which runs
    36 months, or to retirement when that is less than 5 years away. No 认定日期 at all: listed as review
    (while before retirement), the period unknown. The employer subsidy wants a hire the contribution
    extract shows: the employer's first paid 单位职工 month after the extract's first month, and not before
    the recognition month. The allowance goes to registered, working-age, jobless, living, not retired members
    of an active 低保 household; review when a 低保 record says 完全丧失劳动能力 or 在校学生.
    """
    d = world.as_of
    recognized = (
        registrations.filter(pl.col("is_difficult") == "是")
        .group_by("person_id")
        .agg(recognized_on=pl.col("recognized_on").min())
    )
    end = (
        pl.when(pl.col("statutory") < pl.col("recognized_on").dt.offset_by(f"{SUBSIDY_RETIREMENT_YEARS}y"))
        .then("statutory")
        .otherwise(pl.col("recognized_on").dt.offset_by(f"{SUBSIDY_MONTHS}mo"))
    )
    known = pl.col("recognized_on").is_not_null()
    people = (
        facts.join(recognized, on="person_id")
        .with_columns(end=end)
        .with_columns(
            in_period=pl.when(known)
            .then((pl.col("recognized_on") <= d) & (pl.lit(d) < pl.col("end")))
            .otherwise(pl.lit(d) < pl.col("statutory")),
            subsidy_until=pl.col("end") - timedelta(days=1),
            confidence=pl.when(known).then(pl.lit("high")).otherwise(pl.lit("review")),
        )
        .filter("in_period")
    )
    flexible = people.filter("flexibly_employed", ~pl.col("dead"), ~pl.col("retired")).select(
        "person_id", entitlement=pl.lit("SI_SUBSIDY_FLEXIBLE"), employer_id=pl.lit(None, pl.String),
        subsidy_until="subsidy_until", confidence="confidence",
    )  # fmt: skip
    paid = world.records["si_contributions"].with_columns(
        pl.col("period_month", "employer_id", "contribution_type", "payment_status").cast(pl.String)
    )
    window = lookback(d)
    employers = (
        paid.filter(pl.col("contribution_type") == "单位职工", pl.col("payment_status") == "已实缴")
        .group_by("person_id", "employer_id")
        .agg(first_month=pl.col("period_month").min(), in_window=pl.col("period_month").is_in(window).any())
        .filter("in_window", pl.col("first_month") > paid["period_month"].min())
    )
    employer = (
        people.join(employers, on="person_id")
        .filter(~known | (pl.col("first_month") >= pl.col("recognized_on").dt.strftime("%Y%m")))
        .select(
            "person_id",
            entitlement=pl.lit("SI_SUBSIDY_EMPLOYER"),
            employer_id="employer_id",
            subsidy_until="subsidy_until",
            confidence="confidence",
        )  # fmt: skip
    )
    registered = pl.col("person_id").is_in(registrations["person_id"].implode())
    # A 低保 record saying 完全丧失劳动能力 or 在校学生 contradicts the registration: listed, to be checked.
    conflict = pl.col("no_capacity") | pl.col("student")
    allowance = facts.filter(
        registered, "working_age", ~pl.col("working"), ~pl.col("dead"), ~pl.col("retired"), "active_dibao",
    ).select(
        "person_id", entitlement=pl.lit("TEMP_LIVING_ALLOWANCE"), employer_id=pl.lit(None, pl.String),
        subsidy_until=pl.lit(None, pl.Date),
        confidence=pl.when(conflict).then(pl.lit("review")).otherwise(pl.lit("high")),
    )  # fmt: skip
    return pl.concat([flexible, employer, allowance]).sort("entitlement", "person_id", "employer_id")


def _paid_employee_months(world: "World") -> pl.DataFrame:
    """Paid 单位职工 contributions in the look-back months: person, 单位编号, 费款所属期 (YYYYMM)."""
    return (
        world.records["si_contributions"]
        .with_columns(
            pl.col("period_month", "employer_id", "contribution_type", "payment_status").cast(pl.String)
        )
        .filter(
            pl.col("period_month").is_in(lookback(world.as_of)),
            pl.col("contribution_type") == "单位职工",
            pl.col("payment_status") == "已实缴",
        )
        .select("person_id", "employer_id", "period_month")
    )


def dibao_employment(world: "World", facts: pl.DataFrame) -> pl.DataFrame:
    """民政: active 低保/低保边缘 members employed or flexibly employed whose active records do not say 在业, with
    their record's household, type and 就业状况, and for EMPLOYED the employer of their latest paid 单位职工 month
    (the smallest 单位编号 among that month's)."""
    paid = _paid_employee_months(world)
    latest = (
        paid.filter(pl.col("period_month") == pl.col("period_month").max().over("person_id"))
        .group_by("person_id")
        .agg(pl.col("employer_id").min())
    )
    record = (
        world.records["dibao"]
        .filter(pl.col("assistance_status") == "在保")
        .sort("start_date", descending=True)
        .unique("person_id", keep="first")
        .select("person_id", "household_id", "assistance_type", "employment_status")
    )
    return (
        facts.filter(
            "active_dibao", pl.col("employed") | pl.col("flexibly_employed"), ~pl.col("works_per_dibao")
        )
        .join(record, on="person_id")
        .join(latest, on="person_id", how="left")
        .select(
            "person_id",
            "household_id",
            dibao_type="assistance_type",
            recorded_status="employment_status",
            finding=pl.when("employed").then(pl.lit("EMPLOYED")).otherwise(pl.lit("FLEXIBLY_EMPLOYED")),
            employer_id=pl.when("employed").then("employer_id"),
        )
        .sort("person_id")
    )


def disability_employment(world: "World", facts: pl.DataFrame, registrations: pl.DataFrame) -> pl.DataFrame:
    """残联: every living working-age holder of a valid card, the card's category and grade (1..4), and the
    first status that applies: EMPLOYED, FLEXIBLY_EMPLOYED, REGISTERED_UNEMPLOYED, RETIRED, NOT_WORKING."""
    d = world.as_of
    cards = (
        world.records["disability"]
        .filter(pl.col("card_status") == "有效", pl.col("valid_until") >= d)
        .sort("issued_on", descending=True)
        .unique("person_id", keep="first")
        .select(
            "person_id",
            "disability_category",
            disability_grade=pl.col("disability_grade").replace_strict(
                {"一级": 1, "二级": 2, "三级": 3, "四级": 4}
            ),
        )
    )
    registered = pl.col("person_id").is_in(registrations["person_id"].implode())
    status = (
        pl.when("employed")
        .then(pl.lit("EMPLOYED"))
        .when("flexibly_employed")
        .then(pl.lit("FLEXIBLY_EMPLOYED"))
        .when(registered)
        .then(pl.lit("REGISTERED_UNEMPLOYED"))
        .when("retired")
        .then(pl.lit("RETIRED"))
        .otherwise(pl.lit("NOT_WORKING"))
    )
    return (
        facts.filter("working_age", ~pl.col("dead"))
        .join(cards, on="person_id")
        .select("person_id", "disability_category", "disability_grade", status=status)
        .sort("person_id")
    )


def households_at_risk(world: "World", facts: pl.DataFrame) -> pl.DataFrame:
    """零就业家庭预警: active urban households where exactly one counted member is working, and that member is
    flexibly employed (FLEXIBLE_ONLY) or employed without a paid 单位职工 month in the last look-back month
    (CONTRIBUTIONS_STOPPED)."""
    last_month = lookback(world.as_of)[0]
    paid_last = _paid_employee_months(world).filter(pl.col("period_month") == last_month)["person_id"]
    workers = (
        _urban_members(world, facts)
        .filter("counted", "working")
        .with_columns(workers=pl.len().over("household_id"))
        .filter(pl.col("workers") == 1)
    )
    risk = (
        pl.when("flexibly_employed")
        .then(pl.lit("FLEXIBLE_ONLY"))
        .when(pl.col("employed") & ~pl.col("person_id").is_in(paid_last.implode()))
        .then(pl.lit("CONTRIBUTIONS_STOPPED"))
    )
    return (
        workers.select("household_id", risk=risk, working_member_id="person_id")
        .filter(pl.col("risk").is_not_null())
        .sort("household_id")
    )


def _reasons(rules: list[tuple[str, pl.Expr]]) -> pl.Expr:
    """The codes of the rules that hold, sorted and joined by `;` (empty when none holds)."""
    codes = [pl.when(condition.fill_null(False)).then(pl.lit(code)) for code, condition in sorted(rules)]
    return pl.concat_str(codes, separator=";", ignore_nulls=True).fill_null("")
