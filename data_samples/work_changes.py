"""Work that changes in the look-back months, and the cards and pensions 残联 asks about.

What belongs here: the part of the city that the partner departments' lists and the early warning (SPEC
section 4 items 5 and 6) turn on, drawn from its own random stream so that the rest of the world stays as
it was —
- a job that ended in the look-back's first or second month: 单位职工 contributions that stop before the last
  month, still "employed at D" but CONTRIBUTIONS_STOPPED when the household has no other worker (more often
  for 低保 members, so that small worlds hold some);
- the last month in arrears (欠费: not a paid month) after months paid;
- a second employer in the same months (兼职): two employers in the last month, of which 民政 is told the one
  with the smaller 单位编号 — written as the person's `previous_*` job, which `world._contributions` writes
  like any other;
- early retirement on disability grounds (si_persons 离退休 before the statutory date) for card holders of
  grade 一级/二级, whose contributions stop;
- a dead card holder whose card still says 有效 (残联 has not been told): not on 残联's list all the same.
What does not: the contributions themselves (`world._contributions`), the recognized 就业困难人员's careers
(`careers.py`) and the expected lists (`expected.py`).
"""

from datetime import date

import numpy as np
import polars as pl

JOB_ENDED = (
    0.04  # share of the 单位职工 jobs held through the window whose contributions stop in the look-back
)
JOB_ENDED_DIBAO = 0.3  # the same share for 低保 members
LAST_MONTH_ARREARS = 0.03  # share of those jobs whose last month is 欠费
SECOND_JOB = 0.03  # share of those jobs with a second employer through the last months
EARLY_RETIREMENT = (
    0.2  # share of card holders of grade 一级/二级, 45 or older and of working age, retired early
)
CARD_NOT_CANCELLED = 0.4  # share of dead card holders whose card, still in date, still says 有效


def work_changes(
    rng: np.random.Generator,
    persons: pl.DataFrame,
    cards: pl.DataFrame,
    as_of: date,
    window_months: int,
    employers: int,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The persons with some jobs ended, arrears in the last month (`arrears_last`), second jobs and early
    retirements; the cards with some of the dead's still valid. `window_months`: the months of contributions
    before the as-of month (the look-back is the last 3 of them); `employers`: the city's count."""
    total = persons.height
    draw = rng.random((5, total))
    in_dibao = persons["household_id"].is_not_null().to_numpy()
    severe_cards = cards.filter(pl.col("disability_grade").is_in(["一级", "二级"]))["person_id"]
    severe = persons["person_id"].is_in(severe_cards.implode()).to_numpy()
    early = (
        severe
        & (persons["age"] >= 45).to_numpy()
        & (persons["retirement_date"] > as_of).to_numpy()
        & persons["died_on"].is_null().to_numpy()
        & persons["retired_on"].is_null().to_numpy()
        & persons["previous_type"].is_null().to_numpy()
        & (draw[0] < EARLY_RETIREMENT)
    )
    through_window = (
        ~early
        & (
            (persons["contribution_type"] == "单位职工")
            & (persons["months_from"] == 1)
            & (persons["months_to"] == window_months)
            & ~persons["arrears"]
            & persons["previous_type"].is_null()
        ).to_numpy()
    )
    ended = through_window & (draw[1] < np.where(in_dibao, JOB_ENDED_DIBAO, JOB_ENDED))
    kept = through_window & ~ended
    arrears_last = kept & (draw[2] < LAST_MONTH_ARREARS)
    second = kept & ~arrears_last & (draw[3] < SECOND_JOB)
    months_from = np.where(
        early, 0, np.where(ended, rng.integers(2, 4, total), persons["months_from"].to_numpy())
    )
    retired_on = np.datetime64(as_of) - rng.integers(30, 1500, total) * np.timedelta64(1, "D")
    other_employer = (persons["employer"].to_numpy() + 1 + rng.integers(0, employers - 1, total)) % employers
    stop, two_jobs = pl.Series(early), pl.Series(second)
    changed = persons.with_columns(
        months_from=pl.Series(months_from),
        months_to=pl.when(stop).then(0).otherwise("months_to"),
        contribution_type=pl.when(stop).then(pl.lit("")).otherwise("contribution_type"),
        retired_on=pl.when(stop).then(pl.Series(retired_on).cast(pl.Date)).otherwise("retired_on"),
        employed=pl.col("employed") & ~stop,
        flexibly_employed=pl.col("flexibly_employed") & ~stop,
        arrears_last=pl.Series(arrears_last),
        previous_type=pl.when(two_jobs).then(pl.lit("单位职工")).otherwise("previous_type"),
        previous_employer=pl.when(two_jobs).then(pl.Series(other_employer)).otherwise("previous_employer"),
        previous_from=pl.when(two_jobs).then(1).otherwise("previous_from"),
        previous_to=pl.when(two_jobs)
        .then(pl.Series(rng.integers(1, window_months + 1, total)))
        .otherwise("previous_to"),
    )
    dead = persons.filter(pl.col("died_on").is_not_null())["person_id"]
    revived = (
        cards["person_id"].is_in(dead.implode()).to_numpy()
        & (cards["valid_until"] >= as_of).to_numpy()
        & (rng.random(cards.height) < CARD_NOT_CANCELLED)
    )
    cards = cards.with_columns(
        card_status=pl.when(pl.Series(revived)).then(pl.lit("有效")).otherwise("card_status")
    )
    return changed, cards
