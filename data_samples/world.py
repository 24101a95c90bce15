"""The synthetic city: people, 低保 households, their statuses, and the clean records of the five sources.

What belongs here: who exists (true IDs, names, births, households), what is true of them on the as-of
date (employment, retirement, death, 低保, disability cards, registrations), and the clean record frames
each source would export if nothing went wrong. Every table is built with numpy and Polars, vectorised.
What does not: defects (`defects.py`) and file layout (`writers.py`).

Clean record frames carry `person_id`, `key` (the ID text a source writes: the citizen ID, or for
disability the 20-character card number), `name`, and the source's own columns under the staged names
of `sources/tables.py` (dates as `pl.Date`, everything else as text).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from aidmatch.data_samples import pools
from aidmatch.data_samples.careers import recognized_careers
from aidmatch.data_samples.citizen_ids import citizen_id
from aidmatch.data_samples.expected import retirement_date
from aidmatch.data_samples.work_changes import work_changes

DAY = np.timedelta64(1, "D")
INSURANCES_EMPLOYEE = ("企业职工基本养老保险", "失业保险", "工伤保险", "职工基本医疗保险")
DISABILITY_CATEGORIES = ("视力", "听力", "言语", "肢体", "智力", "精神", "多重")
GRADES = ("一级", "二级", "三级", "四级")
WINDOW_MONTHS = 6  # contributions cover the 6 calendar months before the as-of month


@dataclass(frozen=True)
class World:
    """The city on the as-of date: one row per person, and the clean records of each source."""

    as_of: date
    persons: pl.DataFrame
    records: dict[str, pl.DataFrame]


def pick(
    rng: np.random.Generator, pool: Sequence[str], size: int, p: Sequence[float] | None = None
) -> np.ndarray:
    """`size` draws from a pool of strings, as a numpy object array."""
    weights = None if p is None else np.asarray(p, dtype=float) / np.sum(p)
    return np.asarray(list(pool), dtype=object)[rng.choice(len(pool), size=size, p=weights)]


def weighted_sample(rng: np.random.Generator, weights: np.ndarray, k: int) -> np.ndarray:
    """Indices of `k` rows drawn without replacement with probability ∝ weight (Efraimidis–Spirakis)."""
    with np.errstate(divide="ignore"):
        keys = np.log(rng.random(len(weights))) / weights
    return np.sort(np.argpartition(-keys, k - 1)[:k]) if k else np.array([], dtype=int)


def days_before(as_of: date, days: np.ndarray) -> np.ndarray:
    """Dates `days` before the as-of date, as datetime64[D]."""
    return np.datetime64(as_of) - np.round(days).astype("timedelta64[D]")


def employer_count(people: int) -> int:
    """How many employers (单位) the city has: one per 40 people."""
    return max(10, people // 40)


@dataclass(frozen=True)
class CityOfProvince:
    """A city of a province generated city by city (河北省's, `province.py`): its number (its prefecture in
    GB/T 2260: 石家庄市 is 1301), which its districts' region codes — and so its people's IDs and its 户编号 —
    carry, and the citizen IDs the earlier cities' people hold (no two people share one)."""

    number: int
    taken: pl.Series

    def region(self, district_code: str) -> str:
        """A district's region code in this city: 110105 (朝阳区 in the one-city world) -> 130105."""
        return f"13{self.number:02d}{district_code[4:]}"


def _district_codes(districts: np.ndarray, city: CityOfProvince | None) -> np.ndarray:
    """The region code of each district: the one-city world's, or this city's of the province."""
    codes = [pools.DISTRICTS[d][0] for d in districts]
    return np.asarray([city.region(c) for c in codes] if city else codes, dtype=object)


def build_world(n: int, seed: int, as_of: date, city: CityOfProvince | None = None) -> World:
    """A city of about `n` people and the clean records of the five sources on `as_of`; `city` when it is
    one of a province's."""
    rng = np.random.default_rng(seed)
    households, members = _households(rng, max(8, round(0.031 * n)), as_of, city)
    persons = _persons(rng, n, members, as_of, city)
    persons = _statuses(rng, persons, households, as_of)
    cards = _cards(rng, persons, as_of)
    registrations = _registrations(rng, persons, cards, as_of)
    persons, registrations = recognized_careers(
        np.random.default_rng([seed, 2]),
        persons,
        registrations,
        as_of,
        WINDOW_MONTHS,
        employer_count(persons.height),
    )
    persons, cards = work_changes(
        np.random.default_rng([seed, 3]), persons, cards, as_of, WINDOW_MONTHS, employer_count(persons.height)
    )
    records = {
        "unemployment": registrations,
        "dibao": _dibao(rng, persons, households),
        "disability": cards,
        "si_persons": _si_persons(rng, persons),
        "si_contributions": _contributions(rng, persons, as_of),
    }
    return World(as_of, persons, records)


def _households(
    rng: np.random.Generator, count: int, as_of: date, city: CityOfProvince | None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """低保 households (one row each) and their members' demographic skeleton (one row each)."""
    district_index = rng.integers(0, len(pools.DISTRICTS), count)
    districts = np.asarray(list(pools.DISTRICTS), dtype=object)[district_index]
    district_code = _district_codes(districts, city)
    urban = rng.random(count) < 0.6
    marginal = rng.random(count) < 0.25
    kind = np.where(urban, "城市", "农村").astype(object) + np.where(marginal, "低保边缘", "低保").astype(
        object
    )
    start = days_before(as_of, rng.uniform(60, 3000, count))
    stopped = rng.random(count) < 0.15
    stop = start + (rng.random(count) * (np.datetime64(as_of) - start).astype(int)).astype(int) * DAY
    amount = np.where(urban, 1100.0, 800.0) * np.where(marginal, 0.5, 1.0) * rng.uniform(0.8, 1.2, count)
    households = pl.DataFrame(
        {
            "household_id": [f"{c}{i:08d}" for i, c in enumerate(district_code)],
            "district": districts,
            "district_code": district_code,
            "assistance_type": kind,
            "assistance_status": np.where(stopped, "停保", "在保"),
            "start_date": start,
            "stop_date": np.where(stopped, stop, np.datetime64("NaT")),
            "member_amount": np.round(amount, 0),
            "urban": urban,
        }
    )
    sizes = rng.choice([1, 2, 3, 4, 5], size=count, p=[0.25, 0.25, 0.25, 0.17, 0.08])
    hh = np.repeat(np.arange(count), sizes)
    position = np.arange(len(hh)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    role = np.where(position == 0, "head", np.where(position == 1, "spouse", "child")).astype(object)
    role[(position >= 2) & (rng.random(len(hh)) < 0.2)] = "parent"
    head_age = rng.uniform(25, 72, count)[hh]
    age = np.select(
        [role == "head", role == "spouse", role == "child"],
        [head_age, head_age + rng.normal(0, 3, len(hh)), head_age - rng.uniform(20, 36, len(hh))],
        np.minimum(head_age + rng.uniform(22, 35, len(hh)), 95),
    )
    head_male = (rng.random(count) < 0.6)[hh]
    male = np.where(
        role == "head", head_male, np.where(role == "spouse", ~head_male, rng.random(len(hh)) < 0.5)
    )
    members = pl.DataFrame(
        {
            "household_id": households["household_id"].to_numpy()[hh],
            "hh_index": hh,
            "role": role,
            "age": np.clip(age, 0.05, 95),
            "male": male,
            "urban": urban[hh],
            "district": districts[hh],
        }
    )
    return households, members


def _ages(rng: np.random.Generator, size: int) -> np.ndarray:
    """Ages in years of people outside 低保 households, by age band."""
    bands = np.array([(0, 16), (16, 30), (30, 45), (45, 60), (60, 75), (75, 95)])
    band = rng.choice(len(bands), size=size, p=[0.06, 0.18, 0.25, 0.25, 0.18, 0.08])
    return rng.uniform(bands[band, 0], bands[band, 1])


def _persons(
    rng: np.random.Generator, n: int, members: pl.DataFrame, as_of: date, city: CityOfProvince | None
) -> pl.DataFrame:
    """Everybody: household members first, then the rest, with unique true IDs and the near-miss pairs."""
    m = members.height
    rest = max(n - m, 200)
    total = m + rest
    age = np.concatenate([members["age"].to_numpy(), _ages(rng, rest)])
    male = np.concatenate([members["male"].to_numpy(), rng.random(rest) < 0.5])
    district = np.concatenate([members["district"].to_numpy(), pick(rng, tuple(pools.DISTRICTS), rest)])
    role = np.concatenate([members["role"].to_numpy(), np.full(rest, "", dtype=object)])
    surnames, weights = zip(*pools.SURNAMES, strict=True)
    surname = pick(rng, surnames, total, weights)
    household = members["hh_index"].to_numpy()
    head_of = np.searchsorted(household, household)  # members are grouped by household, the head first
    surname[:m] = np.where(members["role"].to_numpy() == "child", surname[head_of], surname[:m])
    given = _given_names(rng, male)
    minority = np.zeros(total, dtype=bool)
    minority[m:] = rng.random(rest) < 0.015
    surname[minority] = ""
    given[minority] = (
        pick(rng, pools.MINORITY_PARTS, minority.sum())
        + "·"
        + pick(rng, pools.MINORITY_PARTS, minority.sum())
    )
    city_code = _district_codes(district, city)
    region = np.where(rng.random(total) < 0.55, city_code, pick(rng, pools.OTHER_REGIONS, total))
    region[:m] = np.where(members["role"].to_numpy() == "child", city_code[:m], region[:m])
    region[minority] = pick(rng, pools.MINORITY_REGIONS, minority.sum())
    birth = days_before(as_of, age * 365.25)
    near_miss = np.full(total, "", dtype=object)
    sequence = 2 * rng.integers(0, 490, total) + np.where(male, 1, 2)
    outside = np.flatnonzero(~minority & (np.arange(total) >= m))
    _near_misses(rng, outside, surname, given, male, birth, region, sequence, near_miss, as_of)
    urban = np.concatenate([members["urban"].to_numpy(), rng.random(rest) < 0.85])
    ethnic_names, ethnic_weights = zip(*pools.ETHNICITIES, strict=True)
    ethnicity = np.where(minority, "维吾尔族", pick(rng, ethnic_names, total, ethnic_weights))
    frame = pl.DataFrame(
        {
            "name": surname + given,
            "male": male,
            "birth_date": birth,
            "region": region,
            "sequence": sequence,
            "household_id": pl.concat(
                [members["household_id"], pl.repeat(None, rest, dtype=pl.String, eager=True)]
            ),
            "relation_role": role,
            "district": district,
            "hukou_type": np.where(urban, "城镇", "农村"),
            "ethnicity": ethnicity,
            "near_miss": near_miss,
        }
    )
    streets = pl.DataFrame(
        [
            {"district": d, "street_index": i, "street": s}
            for d, (_, names) in pools.DISTRICTS.items()
            for i, s in enumerate(names)
        ]  # fmt: skip
    )
    return (
        _unique_ids(rng, frame, city.taken if city else None)
        .with_columns(
            sex=pl.when("male").then(pl.lit("男")).otherwise(pl.lit("女")),
            phone=pl.Series(rng.integers(13_000_000_000, 19_999_999_999, total)).cast(pl.String),
            street_index=pl.Series(rng.integers(0, 3, total)),
            community=pl.Series(pick(rng, pools.COMMUNITIES, total)),
            building=pl.Series(rng.integers(1, 40, total)),
        )
        .join(streets, on=["district", "street_index"], how="left", maintain_order="left")
        .with_columns(
            address=pl.concat_str(
                pl.lit("北京市"),
                "district",
                "street",
                "community",
                "building",
                pl.lit("号楼"),
                pl.col("building") % 6 + 1,
                pl.lit("单元"),
                pl.col("building") * 37 % 900 + 101,
                pl.lit("室"),
            )  # fmt: skip
        )
        .drop("building", "street_index")
    )


def _given_names(rng: np.random.Generator, male: np.ndarray) -> np.ndarray:
    """One- or two-character given names from the pool of each sex."""
    total = len(male)
    first = np.where(male, pick(rng, pools.MALE_CHARS, total), pick(rng, pools.FEMALE_CHARS, total))
    second = np.where(male, pick(rng, pools.MALE_CHARS, total), pick(rng, pools.FEMALE_CHARS, total))
    return np.where(rng.random(total) < 0.85, first + second, first).astype(object)


def _near_misses(rng, candidates, surname, given, male, birth, region, sequence, near_miss, as_of) -> None:
    """Make the pairs a linker must NOT merge (in place): twins, a father and son of one name, namesakes.

    Twins: same birth date, surname and region, adjacent sequence numbers (+1: opposite sex; +2: same sex).
    Father and son: same full name. Namesakes: same name, sex and birth date, different regions.
    """
    pairs = max(3, len(candidates) // 500)
    chosen = rng.choice(candidates, size=6 * pairs, replace=False).reshape(3, 2, pairs)
    (twin_a, twin_b), (father, son), (name_a, name_b) = chosen
    step = np.where(np.arange(pairs) % 2 == 0, 1, 2)
    birth[twin_b], surname[twin_b], region[twin_b] = birth[twin_a], surname[twin_a], region[twin_a]
    sequence[twin_b] = sequence[twin_a] + step
    male[twin_b] = sequence[twin_b] % 2 == 1
    birth[father] = days_before(as_of, rng.uniform(58, 78, pairs) * 365.25)
    birth[son] = birth[father] + np.round(rng.uniform(24, 36, pairs) * 365.25).astype(int) * DAY
    male[father] = male[son] = True
    sequence[father] = sequence[father] | 1
    sequence[son] = sequence[son] | 1
    surname[son], given[son], region[son] = surname[father], given[father], region[father]
    surname[name_b], given[name_b], male[name_b], birth[name_b] = (
        surname[name_a], given[name_a], male[name_a], birth[name_a],
    )  # fmt: skip
    sequence[name_b] = 2 * (sequence[name_b] // 2) + np.where(male[name_b], 1, 2)
    region[name_b] = np.where(region[name_a] == "110105", "110108", "110105")
    for label, rows in (("twin", twin_a), ("twin", twin_b), ("father_son", father), ("father_son", son),
                        ("same_name_birth", name_a), ("same_name_birth", name_b)):  # fmt: skip
        near_miss[rows] = label


def _unique_ids(rng: np.random.Generator, frame: pl.DataFrame, taken: pl.Series | None) -> pl.DataFrame:
    """Compute true IDs, redrawing the sequence of later duplicates, and of IDs already `taken` by another
    city, until every ID is unique."""
    while True:
        frame = frame.with_columns(
            person_id=citizen_id(pl.col("region"), pl.col("birth_date"), pl.col("sequence"))
        )
        clash = ~frame["person_id"].is_first_distinct()
        if taken is not None:
            clash |= frame["person_id"].is_in(taken.implode())
        clash = clash.to_numpy()
        if not clash.any():
            return frame
        redraw = 2 * rng.integers(0, 490, clash.sum()) + np.where(frame["male"].to_numpy()[clash], 1, 2)
        sequence = frame["sequence"].to_numpy().copy()
        sequence[clash] = redraw
        frame = frame.with_columns(sequence=pl.Series(sequence))


def _statuses(
    rng: np.random.Generator, persons: pl.DataFrame, households: pl.DataFrame, as_of: date
) -> pl.DataFrame:
    """Retirement, death, employment and contributions of each person on the as-of date."""
    total = persons.height
    scheme = np.where(
        persons["male"].to_numpy(), "male", np.where(rng.random(total) < 0.4, "female_50", "female_55")
    ).astype(object)
    persons = persons.with_columns(retirement_scheme=pl.Series(scheme))
    distinct = persons.select("birth_date", "retirement_scheme").unique()
    distinct = distinct.with_columns(
        retirement_date=pl.Series(
            [retirement_date(b, s) for b, s in distinct.iter_rows()], dtype=pl.Date
        )  # Python over distinct (birth date, scheme) pairs only
    )
    persons = persons.join(
        distinct, on=["birth_date", "retirement_scheme"], how="left", maintain_order="left"
    )
    persons = persons.join(
        households.select("household_id", "urban", "assistance_status"), on="household_id", how="left",
        maintain_order="left",
    )  # fmt: skip
    age = (np.datetime64(as_of) - persons["birth_date"].to_numpy().astype("datetime64[D]")).astype(
        int
    ) / 365.25
    past = persons["retirement_date"].to_numpy() <= np.datetime64(as_of)
    in_dibao = persons["household_id"].is_not_null().to_numpy()
    dead = rng.random(total) < np.where(age >= 70, 0.03, 0.003)
    dead &= age >= 16
    died_on = np.maximum(
        days_before(as_of, rng.uniform(5, 1000, total)),
        persons["birth_date"].to_numpy().astype("datetime64[D]"),
    )
    retired = past & ~dead & (rng.random(total) < 0.88)
    working_age = (age >= 16) & ~past & ~dead
    p_dibao, p_rest = [0.12, 0.10, 0.25, 0.53], [0.68, 0.08, 0.10, 0.14]
    kinds = ("单位职工", "灵活就业", "城乡居民", "")
    kind = np.where(in_dibao, pick(rng, kinds, total, p_dibao), pick(rng, kinds, total, p_rest))
    kind = np.where(
        working_age, kind, np.where(past & ~retired & ~dead & (rng.random(total) < 0.3), "城乡居民", "")
    )
    months_from, months_to = np.ones(total, dtype=int), np.full(total, WINDOW_MONTHS)
    starter = (kind == "单位职工") & (rng.random(total) < 0.08)
    months_to[starter] = rng.integers(1, 4, starter.sum())
    stopped = working_age & (kind == "") & (rng.random(total) < 0.12)
    kind[stopped] = "单位职工"
    months_from[stopped] = rng.integers(4, 6, stopped.sum())
    resident = kind == "城乡居民"
    months_from[resident] = months_to[resident] = rng.integers(1, WINDOW_MONTHS + 1, resident.sum())
    arrears = (kind == "单位职工") & (rng.random(total) < 0.03)
    employers = employer_count(total)
    return persons.with_columns(
        age=pl.Series(age),
        died_on=pl.Series(np.where(dead, died_on, np.datetime64("NaT"))).cast(pl.Date),
        retired_on=pl.when(pl.Series(retired)).then("retirement_date"),
        contribution_type=pl.Series(kind),
        months_from=pl.Series(np.where(kind == "", 0, months_from)),
        months_to=pl.Series(np.where(kind == "", 0, months_to)),
        arrears=pl.Series(arrears),
        employer=pl.Series(np.where(kind == "单位职工", rng.integers(0, employers, total), -1)),
        contribution_base=pl.Series(np.round(rng.uniform(4000, 30000, total), -2)),
    ).with_columns(
        employed=(pl.col("contribution_type") == "单位职工")
        & (pl.col("months_from") <= 3)
        & ~pl.col("arrears"),
        flexibly_employed=(pl.col("contribution_type") == "灵活就业"),
    )


def _cards(rng: np.random.Generator, persons: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """持证残疾人: one card for about 6% of people, more often the old and 低保 members."""
    weights = (1 + persons["age"].to_numpy() / 30) * np.where(persons["household_id"].is_not_null(), 3.0, 1.0)
    rows = weighted_sample(rng, weights, round(0.06 * persons.height))
    cards = persons[rows]
    k = cards.height
    category = rng.choice(7, size=k, p=[0.12, 0.2, 0.02, 0.45, 0.06, 0.1, 0.05]) + 1
    grade = rng.choice(4, size=k, p=[0.1, 0.2, 0.3, 0.4]) + 1
    issued = days_before(as_of, rng.uniform(30, 4500, k))
    valid_until = issued + 3652 * DAY
    expired = valid_until < np.datetime64(as_of)
    dead = cards["died_on"].is_not_null().to_numpy()
    status = np.where(
        dead, "注销", np.where(expired, np.where(rng.random(k) < 0.75, "过期", "有效"),
                               np.where(rng.random(k) < 0.04, "注销", "有效"))
    )  # fmt: skip
    return cards.select(
        "person_id",
        pl.concat_str("person_id", pl.lit(category.astype(str)), pl.lit(grade.astype(str))).alias("key"),
        "name",
        "sex",
        disability_category=pl.Series(np.asarray(DISABILITY_CATEGORIES, dtype=object)[category - 1]),
        disability_grade=pl.Series(np.asarray(GRADES, dtype=object)[grade - 1]),
        issued_on=pl.Series(issued).cast(pl.Date),
        valid_until=pl.Series(valid_until).cast(pl.Date),
        card_status=pl.Series(status),
        address="address",
        id_column_filled=pl.Series(rng.random(k) < 0.4),
        district="district",
    )


def _registrations(
    rng: np.random.Generator, persons: pl.DataFrame, cards: pl.DataFrame, as_of: date
) -> pl.DataFrame:
    """登记失业: mostly jobless working-age people, but also the employed, retired, dead and over-age."""
    p = persons.with_columns(has_card=pl.col("person_id").is_in(cards["person_id"].implode()))
    age = p["age"].to_numpy()
    weight = np.select(
        [
            p["died_on"].is_not_null().to_numpy(),
            p["retired_on"].is_not_null().to_numpy(),
            p["retirement_date"].to_numpy() <= np.datetime64(as_of),
            p["employed"].to_numpy(),
            p["flexibly_employed"].to_numpy(),
        ],
        [3.0, 0.1, 1.0, 0.1, 0.6],
        1.0,
    )
    weight *= ((age >= 16) & (age <= 72)) * np.where(p["household_id"].is_not_null(), 5.0, 1.0)
    weight *= np.where(p["has_card"].to_numpy(), 2.0, 1.0)
    people = p[weighted_sample(rng, weight, round(0.057 * p.height))]
    twice = people.filter(pl.Series(rng.random(people.height) < 0.03))
    regs = pl.concat([people, twice]).with_columns(
        registered_on=pl.Series(days_before(as_of, rng.uniform(1, 1095, people.height + twice.height))).cast(
            pl.Date
        ),
    )
    regs = regs.with_columns(
        registered_on=pl.when(pl.col("died_on") < pl.col("registered_on"))
        .then(pl.col("died_on") - timedelta(days=30))
        .otherwise("registered_on")
    )
    regs = regs.with_columns(
        second_registration=pl.col("registered_on").rank("ordinal").over("person_id") > 1,
    )
    return _difficulty(rng, regs, as_of)


def _difficulty(rng: np.random.Generator, regs: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """就业困难人员 认定: the categories a registrant qualifies for, kept at random, joined by 、 or ，."""
    k = regs.height
    aged = pl.when(pl.col("male")).then(pl.col("age") >= 50).otherwise(pl.col("age") >= 40)
    eligible = {
        "大龄": aged,
        "残疾": pl.col("has_card"),
        "低保": pl.col("household_id").is_not_null(),
        "长期失业": pl.col("registered_on") <= as_of - timedelta(days=365),
        "零就业家庭": pl.col("urban").fill_null(False) & pl.Series(rng.random(k) < 0.5),
        "失地": (pl.col("hukou_type") == "农村") & pl.Series(rng.random(k) < 0.2),
        "其他": pl.Series(rng.random(k) < 0.05),
    }
    keep = {c: e & pl.Series(rng.random(k) < 0.7) for c, e in eligible.items()}
    listed = [pl.when(e).then(pl.lit(c)) for c, e in keep.items()]
    difficult = pl.any_horizontal(keep.values()) & pl.Series(rng.random(k) < 0.85)
    separator = pl.Series(rng.random(k) < 0.7)
    return regs.select(
        "person_id",
        pl.col("person_id").alias("key"),
        "name",
        "sex",
        "birth_date",
        "ethnicity",
        "hukou_type",
        "phone",
        "address",
        "street",
        "community",
        "registered_on",
        "second_registration",
        "district",
        is_difficult=pl.when(difficult).then(pl.lit("是")).otherwise(pl.lit("否")),
        difficulty_categories=pl.when(difficult).then(
            pl.when(separator)
            .then(pl.concat_str(listed, separator="、", ignore_nulls=True))
            .otherwise(pl.concat_str(listed, separator="，", ignore_nulls=True))
        ),
        recognized_on=pl.when(difficult).then(
            pl.min_horizontal(
                pl.col("registered_on") + pl.duration(days=pl.Series(rng.integers(0, 90, k))), pl.lit(as_of)
            )
        ),
    )


def _dibao(rng: np.random.Generator, persons: pl.DataFrame, households: pl.DataFrame) -> pl.DataFrame:
    """低保 members: one row per household member, with the household's type, status and amounts."""
    members = persons.filter(pl.col("household_id").is_not_null()).drop("urban", "assistance_status")
    heads = members.filter(pl.col("relation_role") == "head").select(
        "household_id", head_name="name", head_id="person_id"
    )
    k = members.height
    draw = pl.Series(rng.random(k))
    working_age = (pl.col("age") >= 16) & pl.col("retired_on").is_null() & pl.col("died_on").is_null()
    capacity = (
        pl.when(~working_age | (pl.col("age") >= 60))
        .then(pl.when(draw < 0.8).then(pl.lit("完全丧失劳动能力")).otherwise(pl.lit("部分丧失劳动能力")))
        .when(draw < 0.72)
        .then(pl.lit("有劳动能力"))
        .when(draw < 0.88)
        .then(pl.lit("部分丧失劳动能力"))
        .otherwise(pl.lit("完全丧失劳动能力"))
    )
    status_draw = pl.Series(rng.random(k))
    employment = (
        pl.when(pl.col("retired_on").is_not_null())
        .then(pl.lit("退休"))
        .when(pl.col("age").is_between(6, 16, closed="left"))
        .then(pl.lit("在校学生"))
        .when(pl.col("age").is_between(16, 22) & (status_draw < 0.6))
        .then(pl.lit("在校学生"))
        .when(pl.col("employed"))
        .then(pl.when(status_draw < 0.75).then(pl.lit("在业")).otherwise(pl.lit("失业")))
        .when(pl.col("flexibly_employed"))
        .then(pl.when(status_draw < 0.5).then(pl.lit("在业")).otherwise(pl.lit("失业")))
        .when(working_age & (pl.col("age") < 60))
        .then(pl.when(status_draw < 0.65).then(pl.lit("失业")).otherwise(pl.lit("其他")))
        .otherwise(pl.lit("其他"))
    )
    relation = (
        pl.when(pl.col("relation_role") == "head")
        .then(pl.lit("户主"))
        .when(pl.col("relation_role") == "spouse")
        .then(pl.lit("配偶"))
        .when(pl.col("relation_role") == "child")
        .then(pl.when("male").then(pl.lit("儿子")).otherwise(pl.lit("女儿")))
        .otherwise(pl.when("male").then(pl.lit("父亲")).otherwise(pl.lit("母亲")))
    )
    return (
        members.join(households.drop("district"), on="household_id", how="left", maintain_order="left")
        .join(heads, on="household_id", how="left", maintain_order="left")
        .select(
            "person_id",
            pl.col("person_id").alias("key"),
            "name",
            "household_id",
            "assistance_type",
            "head_name",
            "head_id",
            relation.alias("relation"),
            "sex",
            "birth_date",
            capacity.alias("work_capacity"),
            employment.alias("employment_status"),
            "assistance_status",
            "start_date",
            "stop_date",
            pl.col("member_amount").cast(pl.Int64).cast(pl.String).alias("monthly_amount"),
            "district",
            "street",
        )
    )


def _si_persons(rng: np.random.Generator, persons: pl.DataFrame) -> pl.DataFrame:
    """社会保险参保人员: 97% of people, with 个人状态 from their statuses."""
    insured = persons.filter(
        pl.Series(rng.random(persons.height) < 0.97)
        | pl.col("died_on").is_not_null()
        | pl.col("retired_on").is_not_null()
    )
    suspended = pl.Series(rng.random(insured.height) < 0.5)
    status = (
        pl.when(pl.col("died_on").is_not_null())
        .then(pl.lit("死亡"))
        .when(pl.col("retired_on").is_not_null())
        .then(pl.lit("离退休"))
        .when((pl.col("contribution_type") != "") & (pl.col("months_from") <= 3))
        .then(pl.lit("参保缴费"))
        .when(suspended | (pl.col("contribution_type") != ""))
        .then(pl.lit("暂停缴费"))
        .otherwise(pl.lit("终止参保"))
    )
    return insured.select(
        "person_id",
        pl.col("person_id").alias("key"),
        "name",
        "sex",
        "birth_date",
        status.alias("person_status"),
        "retired_on",
        "died_on",
        pl.concat_str(pl.lit("北京市"), "district").alias("insured_place"),
        "district",
    )


def _contributions(rng: np.random.Generator, persons: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """社会保险缴费明细: person × month × 险种 over the window, 单位职工 / 灵活就业 / 城乡居民, for each person's
    current job and the job before it or beside it, if any (`previous_*`, see careers.py and work_changes.py);
    欠费 for the look-back months of a job in arrears, or its last month only (`arrears_last`)."""
    plan = pl.DataFrame(
        {
            "contribution_type": ["单位职工"] * 4 + ["灵活就业", "城乡居民"],
            "insurance_type": [*INSURANCES_EMPLOYEE, "企业职工基本养老保险", "城乡居民基本养老保险"],
        }
    )
    months = pl.DataFrame({"month_back": np.arange(1, WINDOW_MONTHS + 1)}).with_columns(
        period_month=pl.lit(date(as_of.year, as_of.month, 1)).dt.offset_by(
            pl.concat_str(pl.lit("-"), pl.col("month_back"), pl.lit("mo"))
        ),
    )
    employers = employer_count(persons.height)
    employer_names = (
        pick(rng, pools.EMPLOYER_PREFIXES, employers)
        + pick(rng, pools.EMPLOYER_TRADES, employers)
        + pick(rng, pools.EMPLOYER_SUFFIXES, employers)
    )
    employer_table = pl.DataFrame(
        {
            "employer": np.arange(employers),
            "employer_id": [f"1101{i:07d}" for i in range(employers)],
            "employer_name": employer_names,
        }
    )
    job = ("person_id", "name", "district", "contribution_type", "months_from", "months_to", "arrears",
           "arrears_last", "employer", "contribution_base")  # fmt: skip
    previous_job = persons.filter(pl.col("previous_type").is_not_null()).select(
        "person_id", "name", "district",
        contribution_type="previous_type", months_from="previous_from", months_to="previous_to", arrears=False,
        arrears_last=False,
        employer=pl.when(pl.col("previous_type") == "单位职工").then("previous_employer").otherwise(-1),
        contribution_base="contribution_base",
    )  # fmt: skip
    jobs = pl.concat(
        [persons.filter(pl.col("contribution_type") != "").select(job), previous_job], how="vertical_relaxed"
    )
    rows = (
        jobs.join(plan, on="contribution_type")
        .join(months, how="cross")
        .filter(pl.col("month_back").is_between(pl.col("months_from"), pl.col("months_to")))
        .join(employer_table, on="employer", how="left")
    )
    late = pl.Series(rng.random(rows.height) < 0.01)
    base = (
        pl.when(pl.col("contribution_type") == "单位职工")
        .then("contribution_base")
        .when(pl.col("contribution_type") == "灵活就业")
        .then(pl.lit(6000.0))
        .otherwise(pl.lit(1000.0))
    )
    return (
        rows.sort("person_id", "month_back", "insurance_type", descending=[False, True, False])
        .select(
            "person_id",
            pl.col("person_id").alias("key"),
            "name",
            "employer_id",
            "employer_name",
            "contribution_type",
            "insurance_type",
            pl.col("period_month").dt.strftime("%Y%m"),
            base.cast(pl.Int64).cast(pl.String).alias("contribution_base"),
            pl.when(
                late
                | (pl.col("arrears") & (pl.col("month_back") <= 3))
                | (pl.col("arrears_last") & (pl.col("month_back") == 1))
            )
            .then(pl.lit("欠费"))
            .otherwise(pl.lit("已实缴"))
            .alias("payment_status"),
            "district",
        )
        .with_columns(pl.exclude("person_id", "key", "name").cast(pl.Categorical))
    )  # repetitive text: saves memory
