"""What becomes of recognized 就业困难人员: recognized long ago, hired, changing jobs.

What belongs here: the part of the city that the entitlements (SPEC section 4 item 4) turn on, drawn from
its own random stream so that the rest of the world stays as it was — 认定日期 older than the subsidy
period, recognized registrants hired by an employer in the contribution window (before,
in or after their recognition month, or already at the window's start: no hire seen), some coming from
another employer or from 灵活就业, so that a person may show two employers, or both kinds, in the months
before the as-of date.
What does not: the contributions themselves (`world._contributions` writes them from each person's
current job and `previous_*` job), an empty 认定日期 (`writers.py` leaves some cells empty, as it does other
optional dates) and the expected lists (`expected.py`).
"""

from datetime import date, timedelta

import numpy as np
import polars as pl

OLD_RECOGNITION = 0.3  # share of recognized registrations moved 12..30 months further back
HIRED = 0.25  # share of recognized, working-age, living registrants without a job who are hired
CHANGED_JOBS = 0.3  # share of the hired who come from another employer


def recognized_careers(
    rng: np.random.Generator,
    persons: pl.DataFrame,
    registrations: pl.DataFrame,
    as_of: date,
    window_months: int,
    employers: int,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The persons with some recognized registrants hired (and `previous_*` job columns), and the registrations
    with some recognitions redated.

    Hired: recognized registrants without a 单位职工 job, starting 1..window_months months back (the months of
    contributions before the as-of month); `employers`: the city's count.
    """
    recognized = registrations.filter(pl.col("is_difficult") == "是")["person_id"].unique().implode()
    candidate = (
        pl.col("person_id").is_in(recognized)
        & (pl.col("contribution_type") != "单位职工")
        & (pl.col("age") >= 16)
        & (pl.col("retirement_date") > as_of + timedelta(days=31 * window_months))
        & pl.col("died_on").is_null()
        & pl.col("retired_on").is_null()
    )
    total = persons.height
    hired = persons.select(candidate).to_series().to_numpy() & (rng.random(total) < HIRED)
    start = rng.integers(1, window_months + 1, total)  # months back; window_months: since the window's start
    changed = hired & (start < window_months) & (rng.random(total) < CHANGED_JOBS)
    # the job before the hire: another employer, or the person's 灵活就业, ending the month before the hire
    had_flexible = hired & (persons["contribution_type"].to_numpy() == "灵活就业") & (start < window_months)
    previous_type = np.where(changed, "单位职工", np.where(had_flexible, "灵活就业", ""))
    previous_to = np.minimum(start + 1 + rng.integers(0, window_months, total), window_months)
    new_employer = rng.integers(0, employers, total)
    is_hired = pl.Series(hired)
    hired_persons = persons.with_columns(
        contribution_type=pl.when(is_hired).then(pl.lit("单位职工")).otherwise("contribution_type"),
        months_from=pl.when(is_hired).then(1).otherwise("months_from"),
        months_to=pl.when(is_hired).then(pl.Series(start)).otherwise("months_to"),
        arrears=pl.col("arrears") & ~is_hired,
        employer=pl.when(is_hired).then(pl.Series(new_employer)).otherwise("employer"),
        previous_type=pl.Series(previous_type).replace("", None),
        previous_employer=pl.Series((new_employer + 1 + rng.integers(0, employers - 1, total)) % employers),
        previous_from=pl.Series(start + 1),
        previous_to=pl.Series(previous_to),
    ).with_columns(
        employed=pl.when(is_hired).then(True).otherwise("employed"),
        flexibly_employed=pl.col("flexibly_employed") & ~is_hired,
    )
    return hired_persons, _redate(rng, registrations)


def _redate(rng: np.random.Generator, registrations: pl.DataFrame) -> pl.DataFrame:
    """Move some recognitions (and their registrations) further back, past the subsidy period's end."""
    k = registrations.height
    difficult = pl.col("is_difficult") == "是"
    back = pl.Series(np.where(rng.random(k) < OLD_RECOGNITION, rng.integers(365, 913, k), 0))
    moved = registrations.with_columns(
        registered_on=pl.when(difficult)
        .then(pl.col("registered_on") - pl.duration(days=back))
        .otherwise("registered_on"),
        recognized_on=pl.col("recognized_on") - pl.duration(days=back),
    )
    return moved.with_columns(
        second_registration=pl.col("registered_on").rank("ordinal").over("person_id") > 1
    )
