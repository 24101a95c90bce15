"""Record defects: damaged IDs and names, and duplicated rows, each recorded for the truth.

What belongs here: turning a clean record frame (from `world.py`) into the text a department would
export — `id_text`, `name_text` — with at most one ID defect and one name defect per record, plus the
duplicate rows; and the defect codes in `id_defect`, `name_defect`, `row_defect`, `id_recoverable`.
Also the rare characters (生僻字) some persons' names hold, which other systems' files write as a
placeholder (`with_rare_characters`; the placeholder itself is the file's, `writers.py`).
ID defects are Polars expressions over the few-percent chosen rows; name defects run in Python over
those rows only (they need per-character pools, pinyin and OpenCC).
What does not: date formats and Excel cell types (`writers.py`), which depend on the file written.
"""

import random
from dataclasses import dataclass, replace
from functools import cache

import numpy as np
import opencc
import polars as pl

from aidmatch.data_samples import pools
from aidmatch.data_samples.citizen_ids import CHECK_CHARS, check_char
from aidmatch.data_samples.world import World, pick

ID_DEFECTS: dict[str, float] = {
    "fullwidth": 1.0,
    "inner_space": 1.0,
    "legacy_15": 1.0,
    "bad_check": 1.0,
    "typo_digit": 1.0,
    "swapped_digits": 1.0,
    "excel_numeric": 1.0,
    "second_id": 0.6,
    "missing": 0.8,
}
NAME_DEFECTS: dict[str, float] = {
    "spaces": 1.0,
    "fullwidth": 0.6,
    "bracket_note": 0.6,
    "middle_dot_variant": 0.3,
    "traditional": 1.0,
    "homophone": 1.0,
    "similar_shape": 1.0,
    "dropped_char": 0.6,
}
UNRECOVERABLE = ("excel_numeric", "missing")
# 生僻字: characters of real names that legacy systems (GB2312 fonts and code pages) cannot encode, and that
# OpenCC leaves as they are. A person's name holds one on a share `RARE_NAME_RATE` of persons; each file
# writes it, or its system's placeholder (`writers.FileLayout.placeholder`).
RARE_CHARACTERS = "堃喆玥珺祎犇赟䶮㛃燊琇昉"
RARE_NAME_RATE = 0.02
FULLWIDTH = {c: chr(ord(c) + 0xFEE0) for c in "0123456789X"}


@dataclass(frozen=True)
class DefectRates:
    """Share of records with an ID defect, a name defect, and an exact duplicate row."""

    id: float
    name: float
    duplicate: float

    def scaled(self, factor: float) -> "DefectRates":
        """These rates times `factor` (a world with twice the usual defects: 2), each at most 1."""
        return DefectRates(*(min(1.0, rate * factor) for rate in (self.id, self.name, self.duplicate)))


RATES: dict[str, DefectRates] = {
    "unemployment": DefectRates(0.2, 0.15, 0.02),
    "dibao": DefectRates(0.2, 0.12, 0.02),
    "disability": DefectRates(0.2, 0.12, 0.02),
    "si_persons": DefectRates(0.04, 0.04, 0.005),
    "si_contributions": DefectRates(0.01, 0.01, 0.002),
}


def with_rare_characters(world: World, seed: int, rate: float = RARE_NAME_RATE) -> World:
    """The world with a rare character (`RARE_CHARACTERS`) in the given name of a share `rate` of its persons,
    the same in the truth and in every record of theirs (a 低保 head's name in the household's rows too).
    Drawn from a stream of its own: the rest of the world, and every later draw, stay as they were."""
    rng = np.random.default_rng([seed, 3])
    persons = world.persons
    n = persons.height
    given = persons["name"].str.len_chars().to_numpy() - 1  # characters after the surname
    chosen = (rng.random(n) < rate) & (given >= 1) & ~persons["name"].str.contains("·").to_numpy()
    spot = 1 + np.floor(rng.random(n) * np.maximum(given, 1)).astype(int)  # a given-name character
    rare = pick(rng, RARE_CHARACTERS, n)
    rows = np.flatnonzero(chosen)
    names = persons["name"].to_numpy().copy()
    names[rows] = [
        name[:i] + c + name[i + 1 :] for name, i, c in zip(names[rows], spot[rows], rare[rows], strict=True)
    ]
    renamed = persons.select("person_id", new_name=pl.Series(names, dtype=pl.String)).filter(
        pl.Series(chosen)
    )

    def rename(frame: pl.DataFrame, key: str, column: str) -> pl.DataFrame:
        if column not in frame.columns:
            return frame
        return (
            frame.join(renamed.rename({"person_id": key}), on=key, how="left", maintain_order="left")
            .with_columns(pl.coalesce("new_name", column).alias(column))
            .drop("new_name")
        )

    records = {
        source: rename(rename(frame, "person_id", "name"), "head_id", "head_name")
        for source, frame in world.records.items()
    }
    return replace(
        world, persons=persons.with_columns(name=pl.Series(names, dtype=pl.String)), records=records
    )


def damage(
    records: pl.DataFrame,
    source: str,
    rng: np.random.Generator,
    true_ids: pl.Series,
    defect_scale: float = 1.0,
    housemate_rate: float = 0.0,
) -> pl.DataFrame:
    """The records as exported: damaged `id_text` / `name_text`, defect codes, and duplicate rows.

    `defect_scale` multiplies the usual rates of `RATES`; `housemate_rate` is the share of 低保 rows
    whose ID is a housemate's (drawn from its own random stream, so a world without it is unchanged)."""
    rates = RATES[source].scaled(defect_scale)
    damaged = _damage_names(_damage_ids(records, rng, rates.id, true_ids), rng, rates.name)
    if housemate_rate and "household_id" in damaged.columns:
        damaged = _housemate_ids(damaged, np.random.default_rng(rng.integers(2**32)), housemate_rate)
    row_defect = (
        pl.when(pl.col("second_registration")).then(pl.lit("second_registration")).otherwise(pl.lit(""))
        if "second_registration" in damaged.columns
        else pl.lit("")
    )
    damaged = damaged.with_columns(
        row_defect=row_defect,
        id_recoverable=~pl.col("id_defect").is_in(UNRECOVERABLE),
        order=pl.int_range(pl.len()).cast(pl.Float64),
    )
    copies = damaged.filter(pl.Series(rng.random(damaged.height) < rates.duplicate))
    copies = copies.with_columns(
        row_defect=pl.lit("exact_duplicate_row"),
        order=pl.col("order") + pl.Series(rng.uniform(0.5, 30, copies.height)),
    )
    return pl.concat([damaged, copies]).sort("order").drop("order")


def _damage_ids(
    records: pl.DataFrame, rng: np.random.Generator, rate: float, true_ids: pl.Series
) -> pl.DataFrame:
    """Choose at most one ID defect per record and write `id_text`, computed on the chosen rows only."""
    n = records.height
    kinds, weights = zip(*ID_DEFECTS.items(), strict=True)
    chosen = np.where(rng.random(n) < rate, pick(rng, kinds, n, weights), "")
    ends_x = (records["key"].str.slice(17, 1) == "X").to_numpy()
    chosen = np.where((chosen == "") & ends_x & (rng.random(n) < 3 * rate), "lowercase_x", chosen)
    rows = np.flatnonzero(chosen != "")
    damaged = records[rows].select(
        "key",
        id_defect=pl.Series(chosen[rows], dtype=pl.String),
        position=pl.Series(rng.integers(0, 17, len(rows))),
        shift=pl.Series(rng.integers(1, 10, len(rows))),
    )
    damaged = damaged.with_columns(id_defect=_applicable(true_ids)).with_columns(id_text=_damaged_id())
    return records.with_columns(
        id_defect=pl.repeat("", n, dtype=pl.String, eager=True).scatter(rows, damaged["id_defect"]),
        id_text=records["key"].clone().scatter(rows, damaged["id_text"]),
    )


def _applicable(true_ids: pl.Series) -> pl.Expr:
    """The chosen defect, or none where the ID offers nothing to damage that way."""
    key, position = pl.col("key"), pl.col("position")
    eligible = {
        "legacy_15": key.str.slice(6, 2) == "19",
        "excel_numeric": key.str.contains(r"^\d+$"),
        "swapped_digits": key.str.slice(position, 1) != key.str.slice(position + 1, 1),
        "second_id": ~_second_id(key.str.slice(0, 18)).is_in(true_ids.implode()),
    }
    kind = pl.col("id_defect")
    for name, condition in eligible.items():
        kind = pl.when((pl.col("id_defect") == name) & ~condition).then(pl.lit("")).otherwise(kind)
    return kind


def _damaged_id() -> pl.Expr:
    """The ID text with the defect of `id_defect` at `position` (by `shift` where a value changes)."""
    key, position, shift = pl.col("key"), pl.col("position"), pl.col("shift")
    id18, tail, nxt = key.str.slice(0, 18), key.str.slice(18), position + 1
    check_index = id18.str.slice(17, 1).replace_strict(
        {c: i for i, c in enumerate(CHECK_CHARS)}, return_dtype=pl.Int64
    )
    wrong_check = ((check_index + shift) % 11).replace_strict(
        dict(enumerate(CHECK_CHARS)), return_dtype=pl.String
    )
    digit = key.str.slice(position, 1).cast(pl.Int64)
    texts = {
        "lowercase_x": key.str.to_lowercase(),
        "fullwidth": key.str.replace_many(list(FULLWIDTH), list(FULLWIDTH.values())),
        "inner_space": pl.concat_str(key.str.slice(0, nxt), pl.lit(" "), key.str.slice(nxt)),
        "legacy_15": pl.concat_str(id18.str.slice(0, 6), id18.str.slice(8, 9), tail),
        "bad_check": pl.concat_str(id18.str.slice(0, 17), wrong_check, tail),
        "typo_digit": pl.concat_str(
            key.str.slice(0, position), ((digit + shift) % 10).cast(pl.String), key.str.slice(nxt)
        ),
        "swapped_digits": pl.concat_str(
            key.str.slice(0, position),
            key.str.slice(nxt, 1),
            key.str.slice(position, 1),
            key.str.slice(nxt + 1),
        ),
        "excel_numeric": excel_display(key),
        "second_id": pl.concat_str(_second_id(id18), tail),
        "missing": pl.lit(None, dtype=pl.String),
    }
    text = key
    for name, expr in texts.items():
        text = pl.when(pl.col("id_defect") == name).then(expr).otherwise(text)
    return text


def _housemate_ids(records: pl.DataFrame, rng: np.random.Generator, rate: float) -> pl.DataFrame:
    """A housemate's ID typed by mistake (id_defect `housemate_id`): on a share `rate` of the rows without
    an ID defect in a household of two or more, the ID of the household's next member (the last: the head).
    """
    housemate = (
        pl.col("key").shift(-1).over("household_id").fill_null(pl.col("key").first().over("household_id"))
    )
    chosen = pl.Series(rng.random(records.height) < rate)
    eligible = (pl.len().over("household_id") > 1) & (pl.col("id_defect") == "") & chosen
    return records.with_columns(
        id_text=pl.when(eligible).then(housemate.str.slice(0, 18)).otherwise("id_text"),
        id_defect=pl.when(eligible).then(pl.lit("housemate_id")).otherwise("id_defect"),
    )


def excel_display(digits: pl.Expr) -> pl.Expr:
    """How Excel shows a long digit string stored as a number: 15 digits kept, `1.10105199001011E+17`."""
    mantissa = digits.str.slice(1, 14).str.strip_chars_end("0")
    return pl.concat_str(
        digits.str.slice(0, 1),
        pl.when(mantissa == "").then(pl.lit("")).otherwise(pl.concat_str(pl.lit("."), mantissa)),
        pl.lit("E+"),
        (digits.str.len_chars() - 1).cast(pl.String),
    )


def _second_id(id18: pl.Expr) -> pl.Expr:
    """Another valid ID for the same person: the sequence moved by an even step fixed per person."""
    step = 2 * (id18.hash(11) % 150 + 1)
    sequence = ((id18.str.slice(14, 3).cast(pl.Int64) + step - 1) % 998 + 1).cast(pl.String).str.zfill(3)
    body = pl.concat_str(id18.str.slice(0, 14), sequence)
    return pl.concat_str(body, check_char(body))


def _damage_names(records: pl.DataFrame, rng: np.random.Generator, rate: float) -> pl.DataFrame:
    """Choose at most one name defect per record and write `name_text` (Python over the damaged subset)."""
    n = records.height
    kinds, weights = zip(*NAME_DEFECTS.items(), strict=True)
    chosen = np.where(rng.random(n) < rate, pick(rng, kinds, n, weights), "")
    names = records["name"].to_numpy()
    dotted = np.char.find(names.astype(str), "·") >= 0
    chosen = np.where((chosen == "") & dotted & (rng.random(n) < 2 * rate), "middle_dot_variant", chosen)
    draw = random.Random(int(rng.integers(2**32)))
    texts, applied = names.copy(), chosen.copy()
    for row in np.flatnonzero(chosen != ""):
        text = damage_name(names[row], chosen[row], draw)
        texts[row] = names[row] if text is None else text
        applied[row] = "" if text is None else chosen[row]
    return records.with_columns(name_text=pl.Series(texts, dtype=pl.String), name_defect=pl.Series(applied))


def damage_name(name: str, kind: str, draw: random.Random) -> str | None:
    """`name` with one defect of `kind`, or None when the name offers nothing to damage that way."""
    given_from = 0 if "·" in name else 1
    match kind:
        case "spaces":
            cut = draw.randint(1, len(name) - 1)
            return draw.choice(
                (f" {name}", f"{name} ", f"{name[:cut]} {name[cut:]}", f" {name[:cut]}  {name[cut:]} ")
            )
        case "fullwidth":
            cut = draw.randint(1, len(name) - 1)
            return draw.choice((f"{name[:cut]}\u3000{name[cut:]}", f"{name}\u3000"))
        case "bracket_note":
            alias = name[:given_from] + draw.choice(pools.FEMALE_CHARS + pools.MALE_CHARS)
            return draw.choice(
                (
                    f"{name}（曾用名{alias}）",
                    f"{name}(曾用名{alias})",
                    f"{name}（小名{alias[-1]}{alias[-1]}）",
                )
            )
        case "middle_dot_variant":
            return name.replace("·", draw.choice(pools.DOT_VARIANTS)) if "·" in name else None
        case "traditional":
            text = _s2t().convert(name)
            return text if text != name else None
        case "homophone" | "similar_shape":
            table = pools.homophones() if kind == "homophone" else pools.SIMILAR_SHAPES
            spots = [i for i, c in enumerate(name) if c in table]
            if not spots:
                return None
            i = draw.choice(spots)
            twin = table[name[i]]
            return name[:i] + (draw.choice(twin) if isinstance(twin, tuple) else twin) + name[i + 1 :]
        case "dropped_char":
            spots = [i for i, c in enumerate(name) if i >= given_from and c != "·"]
            if len(name) < 3 or not spots:
                return None
            i = draw.choice(spots)
            return name[:i] + name[i + 1 :]
    raise ValueError(f"unknown name defect {kind}")


@cache
def _s2t() -> opencc.OpenCC:
    """The simplified→traditional converter, built once."""
    return opencc.OpenCC("s2t")
