"""Enumerated columns (性别, 户籍性质, 保障状态, 险种, ...): raw spellings mapped to canonical values.

What belongs here: the lookup of a raw value in `enum_values.yaml` — the one place where canonical
values and their aliases live, for data stewards to extend — and the splitting of the multi-valued
就业困难人员类别 cell. An unknown value becomes NULL; the caller compares with the raw value to flag it.
What does not belong here: the meaning of the values in the rules (who counts as working, say).
"""

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import polars as pl
import yaml

from aidmatch.sources.text import compact_text

ENUM_VALUES_FILE = Path(__file__).with_name("enum_values.yaml")
CATEGORY_KIND = "difficulty_category"
# Between the categories of one 就业困难人员类别 cell, after NFKC (，；／ are folded to ,;/).
_CATEGORY_SEPARATORS = r"[、,;/|\s]+"
_DTYPES: dict[type, pl.DataType] = {bool: pl.Boolean(), int: pl.Int32(), str: pl.String()}

Canonical = str | int | bool


@dataclass(frozen=True)
class Enumeration:
    """One kind's canonical values and the lookup from every accepted spelling (as a key) to its value."""

    values: tuple[Canonical, ...]
    lookup: dict[str, Canonical]
    dtype: pl.DataType
    # How a steward writes each value: the value itself when it is text, else its first alias (是, 一级).
    spellings: tuple[str, ...]


def _key(text: pl.Expr) -> pl.Expr:
    """The form in which raw values and aliases are compared: NFKC, no whitespace, upper case."""
    return compact_text(text).str.to_uppercase()


def _keys(spellings: list[str]) -> list[str]:
    return pl.Series(spellings, dtype=pl.String).to_frame("s").select(_key(pl.col("s"))).to_series().to_list()


def _enumeration(kind: str, aliases_by_value: dict[Canonical, list[str]]) -> Enumeration:
    value_types = {type(value) for value in aliases_by_value}
    if len(value_types) != 1 or not value_types <= set(_DTYPES):
        raise ValueError(f"{kind}: canonical values must all be text, all numbers or all true/false")
    lookup: dict[str, Canonical] = {}
    for value, aliases in aliases_by_value.items():
        if not all(isinstance(alias, str) for alias in aliases):
            raise ValueError(f"{kind}.{value}: put every alias in double quotes, got {aliases!r}")
        for key in _keys([str(value), *aliases]):
            if lookup.setdefault(key, value) != value:
                raise ValueError(f"{kind}: {key!r} is an alias of both {lookup[key]!r} and {value!r}")
    spellings = tuple(
        value if isinstance(value, str) else (aliases[0] if aliases else str(value))
        for value, aliases in aliases_by_value.items()
    )
    return Enumeration(tuple(aliases_by_value), lookup, _DTYPES[value_types.pop()], spellings)


@cache
def enumerations(path: Path = ENUM_VALUES_FILE) -> dict[str, Enumeration]:
    """Every kind of `enum_values.yaml`, validated (an alias may mean one value per kind); read once."""
    with path.open(encoding="utf-8") as file:
        document = yaml.safe_load(file)
    return {kind: _enumeration(kind, aliases_by_value) for kind, aliases_by_value in document.items()}


def _enumeration_of(kind: str) -> Enumeration:
    known = enumerations()
    if kind not in known:
        raise KeyError(f"unknown enumeration kind {kind!r}; known: {', '.join(known)}")
    return known[kind]


def canonical_values(kind: str) -> tuple[Canonical, ...]:
    """The canonical values of one kind, e.g. ('男', '女') for sex."""
    return _enumeration_of(kind).values


def written_values(kind: str) -> tuple[str, ...]:
    """The values of one kind as a steward writes them in an extract: ('是', '否') for yes_no."""
    return _enumeration_of(kind).spellings


def normalize_enum(kind: str, raw: pl.Series) -> pl.Series:
    """Canonical values of `kind` for raw values, same length and order; NULL when empty or unknown.

    Text kinds give text, `yes_no` gives booleans and `disability_grade` integers 1-4.
    """
    enumeration = _enumeration_of(kind)
    value = _key(pl.col("raw")).replace_strict(
        enumeration.lookup, default=None, return_dtype=enumeration.dtype
    )
    return raw.cast(pl.String).to_frame("raw").select(value.alias(raw.name)).to_series()


def split_categories(raw: pl.Series) -> pl.Series:
    """就业困难人员类别: the canonical categories of each cell as a sorted list without duplicates.

    Categories are separated by 、，, ; / or spaces; unknown ones are dropped. NULL stays NULL.
    """
    lookup = _enumeration_of(CATEGORY_KIND).lookup
    tokens = pl.col("raw").str.normalize("NFKC").str.replace_all(_CATEGORY_SEPARATORS, ",").str.split(",")
    categories = tokens.list.eval(
        _key(pl.element())
        .replace_strict(lookup, default=None, return_dtype=pl.String)
        .drop_nulls()
        .unique()
        .sort()
    )
    return raw.cast(pl.String).to_frame("raw").select(categories.alias(raw.name)).to_series()
