"""Each comparison level of the linker (`matching/comparisons.py`), one table row per pair: pairs that must
land on a level, and pairs that must not hold it.

A pair is scored as the linker scores it: a one-row pair relation, the name-pair features of
`name_features.py`, `create_scored_pairs` — the first level that holds wins. A pair that must not hold a
level is also checked against that level's own condition alone (the catch-all level aside), so a level
whose SQL holds too widely fails here even when an earlier level hides it on real pairs. Every level of
every comparison, `missing` included, needs rows of both kinds: a new level comes with its pairs.
"""

import datetime as dt
from typing import Any

import duckdb
import pytest

from aidmatch.matching.comparisons import COMPARISONS, create_macros, create_scored_pairs
from aidmatch.matching.name_features import create_pair_input
from aidmatch.matching.settings import LinkSettings
from tests.conftest import citizen_id

# The person's ID and others, valid (a real check character) unless said otherwise.
PERSON = citizen_id("110105", dt.date(1980, 5, 12), 123)  # 110105198005121233
SAME_REGION_AND_BIRTH = citizen_id("110105", dt.date(1980, 5, 12), 457)  # a second ID of the same key
STRANGER = citizen_id("440524", dt.date(1975, 1, 1), 8)
OTHER_BIRTH = citizen_id("110105", dt.date(1981, 5, 12), 123)
TWIN = citizen_id("110105", dt.date(1980, 5, 12), 125)  # numbered two after the person: the same sex


def _with(text: str, position: int, character: str) -> str:
    return text[:position] + character + text[position + 1 :]


def _swapped(text: str, left: int, right: int) -> str:
    chars = list(text)
    chars[left], chars[right] = chars[right], chars[left]
    return "".join(chars)


WRONG_CHECK = _with(PERSON, 17, "0" if PERSON[17] != "0" else "1")
ONE_TYPO = _with(PERSON, 3, "9" if PERSON[3] != "9" else "8")
TWO_TYPOS = _with(ONE_TYPO, 12, "9" if PERSON[12] != "9" else "8")
ADJACENT = _swapped(PERSON, 8, 9)  # 19[80]… -> 19[08]…
APART = _swapped(PERSON, 8, 10)
assert ADJACENT != PERSON and APART != PERSON

# The pair relation's columns (as `link.py` builds it) and what a pair holds when a row does not say.
TYPES = {
    "record_id": "VARCHAR",
    "record_id_valid": "BOOLEAN",
    "record_id_conflict": "BOOLEAN",
    "record_head_id": "VARCHAR",
    "record_id_prefix": "VARCHAR",
    "record_name": "VARCHAR",
    "record_alias": "VARCHAR",
    "record_birth_date": "DATE",
    "record_sex": "VARCHAR",
    "person_id": "VARCHAR",
    "person_name": "VARCHAR",
    "person_alias": "VARCHAR",
    "person_birth_date": "DATE",
    "person_sex": "VARCHAR",
}
BLANK: dict[str, Any] = dict.fromkeys(TYPES) | {
    "record_id_valid": False,
    "record_id_conflict": False,
    "person_id": PERSON,
}

MUST, MUST_NOT = True, False

# (comparison, level, the pair's values, whether the pair must land on the level)
CASES: list[tuple[str, str, dict[str, Any], bool]] = [
    # citizen ID (公民身份号码): the record's normalized ID (or Excel's digits) against the person's
    ("id", "missing", {}, MUST),
    ("id", "missing", {"record_id_prefix": PERSON[:15]}, MUST_NOT),
    ("id", "exact", {"record_id": PERSON, "record_id_valid": True}, MUST),
    ("id", "exact", {"record_id": WRONG_CHECK}, MUST_NOT),
    ("id", "checksum_only", {"record_id": WRONG_CHECK}, MUST),
    ("id", "checksum_only", {"record_id": ONE_TYPO}, MUST_NOT),
    ("id", "one_substitution", {"record_id": ONE_TYPO}, MUST),
    ("id", "one_substitution", {"record_id": TWO_TYPOS}, MUST_NOT),
    ("id", "adjacent_swap", {"record_id": ADJACENT}, MUST),
    ("id", "adjacent_swap", {"record_id": APART}, MUST_NOT),
    ("id", "excel_prefix", {"record_id_prefix": PERSON[:15]}, MUST),
    # Excel keeps 15 significant digits, the last one rounded: 110105198005121|2 -> …12 (no rounding up)
    ("id", "excel_prefix", {"record_id_prefix": PERSON[:14] + str(int(PERSON[14]) + 1)}, MUST_NOT),
    ("id", "excel_prefix", {"record_id_prefix": _with(PERSON[:15], 4, "9")}, MUST_NOT),
    ("id", "another_persons_id", {"record_id": STRANGER, "record_id_valid": True, "record_id_conflict": True}, MUST),
    ("id", "another_persons_id", {"record_id": STRANGER, "record_id_valid": True}, MUST_NOT),
    ("id", "adjacent_sequence", {"record_id": TWIN, "record_id_valid": True, "record_name": "王梓晗", "person_name": "王梓涵"}, MUST),
    ("id", "adjacent_sequence", {"record_id": TWIN, "record_id_valid": True, "record_name": "王梓涵", "person_name": "王梓涵"}, MUST_NOT),
    ("id", "same_region_birth_date", {"record_id": SAME_REGION_AND_BIRTH, "record_id_valid": True}, MUST),
    ("id", "same_region_birth_date", {"record_id": OTHER_BIRTH, "record_id_valid": True}, MUST_NOT),
    ("id", "both_valid_different", {"record_id": STRANGER, "record_id_valid": True}, MUST),
    ("id", "both_valid_different", {"record_id": STRANGER[:17] + "Z"}, MUST_NOT),
    ("id", "different", {"record_id": STRANGER[:17] + "Z"}, MUST),
    ("id", "different", {"record_id": PERSON, "record_id_valid": True}, MUST_NOT),
    # name (姓名)
    ("name", "missing", {"person_name": "王丽"}, MUST),
    ("name", "missing", {"record_name": "王丽", "person_name": "王丽"}, MUST_NOT),
    ("name", "exact", {"record_name": "王丽", "person_name": "王丽"}, MUST),
    ("name", "exact", {"record_name": "王丽", "person_name": "王莉"}, MUST_NOT),
    ("name", "alias", {"record_name": "张三", "record_alias": "张珊", "person_name": "张珊"}, MUST),
    ("name", "alias", {"record_name": "张珊", "person_name": "张三", "person_alias": "张山"}, MUST_NOT),
    ("name", "missing", {"record_name": "李?", "person_name": "李四"}, MUST),  # 生僻字: too little of its own
    ("name", "exact", {"record_name": "张?伟", "person_name": "张?伟"}, MUST_NOT),  # a placeholder is no character
    ("name", "unknown_char", {"record_name": "张?伟", "person_name": "张大伟"}, MUST),  # 生僻字 placeholder
    ("name", "unknown_char", {"record_name": "张?伟", "person_name": "张大强"}, MUST_NOT),
    ("name", "same_pinyin", {"record_name": "王丽", "person_name": "王莉"}, MUST),  # 同音字
    ("name", "same_pinyin", {"record_name": "王丽", "person_name": "王刚"}, MUST_NOT),
    ("name", "dropped_char", {"record_name": "欧阳娜娜", "person_name": "欧阳娜"}, MUST),
    ("name", "dropped_char", {"record_name": "王丽", "person_name": "王刚"}, MUST_NOT),
    ("name", "one_char_differs", {"record_name": "王己", "person_name": "王已"}, MUST),  # 形近字
    ("name", "one_char_differs", {"record_name": "王丽华", "person_name": "王刚强"}, MUST_NOT),
    ("name", "similar", {"record_name": "欧阳明华", "person_name": "欧阳华明"}, MUST),
    ("name", "similar", {"record_name": "张伟强", "person_name": "张芳丽"}, MUST_NOT),
    ("name", "different", {"record_name": "张伟", "person_name": "王芳"}, MUST),
    ("name", "different", {"record_name": "张伟", "person_name": "张芳"}, MUST_NOT),
    ("name", "partial", {"record_name": "张伟强", "person_name": "张芳丽"}, MUST),
    ("name", "partial", {"record_name": "张伟", "person_name": "王芳"}, MUST_NOT),
    # birth date (the record's column against the date the person's ID states)
    ("birth_date", "missing", {"person_birth_date": dt.date(1980, 5, 12)}, MUST),
    ("birth_date", "missing", {"record_birth_date": dt.date(1980, 5, 12), "person_birth_date": dt.date(1980, 5, 12)}, MUST_NOT),
    ("birth_date", "exact", {"record_birth_date": dt.date(1980, 5, 12), "person_birth_date": dt.date(1980, 5, 12)}, MUST),
    ("birth_date", "exact", {"record_birth_date": dt.date(1980, 6, 12), "person_birth_date": dt.date(1980, 5, 12)}, MUST_NOT),
    ("birth_date", "one_component", {"record_birth_date": dt.date(1980, 6, 12), "person_birth_date": dt.date(1980, 5, 12)}, MUST),
    ("birth_date", "one_component", {"record_birth_date": dt.date(1981, 6, 12), "person_birth_date": dt.date(1980, 5, 12)}, MUST_NOT),
    ("birth_date", "different", {"record_birth_date": dt.date(1981, 6, 12), "person_birth_date": dt.date(1980, 5, 12)}, MUST),
    ("birth_date", "different", {"record_birth_date": dt.date(1980, 5, 21), "person_birth_date": dt.date(1980, 5, 12)}, MUST_NOT),
    # sex (性别; the person's from the ID)
    ("sex", "missing", {"person_sex": "男"}, MUST),
    ("sex", "missing", {"record_sex": "男", "person_sex": "男"}, MUST_NOT),
    ("sex", "agree", {"record_sex": "男", "person_sex": "男"}, MUST),
    ("sex", "agree", {"record_sex": "女", "person_sex": "男"}, MUST_NOT),
    ("sex", "disagree", {"record_sex": "女", "person_sex": "男"}, MUST),
    ("sex", "disagree", {"record_sex": "男", "person_sex": "男"}, MUST_NOT),
    # 低保 household head: the household's 户主身份证号 on a head's own row
    ("household_head", "missing", {}, MUST),
    ("household_head", "missing", {"record_head_id": PERSON}, MUST_NOT),
    ("household_head", "agree", {"record_head_id": PERSON}, MUST),
    ("household_head", "agree", {"record_head_id": STRANGER}, MUST_NOT),
    ("household_head", "disagree", {"record_head_id": STRANGER}, MUST),
    ("household_head", "disagree", {"record_head_id": PERSON}, MUST_NOT),
]  # fmt: skip

COMPARISON = {comparison.name: comparison for comparison in COMPARISONS}


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    create_macros(connection, dt.date(2026, 11, 22))
    yield connection
    connection.close()


def _pair_table(con: duckdb.DuckDBPyConnection, values: dict[str, Any]) -> None:
    """`pair_input`: one pair with its name features, as the linker builds its pair relation."""
    pair = BLANK | values
    con.execute("DROP TABLE IF EXISTS pair_names")
    columns = ", ".join(f"${name}::{kind} AS {name}" for name, kind in TYPES.items())
    con.execute(f"CREATE TEMP TABLE pair_names AS SELECT {columns}", pair)
    create_pair_input(con, "pair_names", "pair_input")


def _case_id(case: tuple[str, str, dict[str, Any], bool]) -> str:
    comparison, level, _, must = case
    return f"{comparison}-{level}-{'must' if must else 'must_not'}"


@pytest.mark.parametrize("case", CASES, ids=[_case_id(case) for case in CASES])
def test_a_pair_lands_on_its_level_or_not(con, case) -> None:
    name, level, values, must = case
    comparison = COMPARISON[name]
    _pair_table(con, values)
    create_scored_pairs(con, "pair_input", "pair_scored", LinkSettings())
    (landed,) = con.sql(f"SELECT {name}_level FROM pair_scored").fetchone()
    if must:
        assert landed == level
        return
    assert landed != level
    own = next((lv.sql for lv in comparison.levels[:-1] if lv.name == level), None)
    if level == "missing":
        own = comparison.missing_sql
    if own is not None:  # the level's condition alone does not hold either
        condition = own.format(name_similarity_min=LinkSettings().name_similarity_min)
        (holds,) = con.sql(f"SELECT coalesce(({condition}), false) FROM pair_input").fetchone()
        assert not holds, f"{name}={level} holds on a pair it must not: {values}"


def test_every_level_has_pairs_that_must_and_must_not_land_on_it() -> None:
    declared = {(c.name, level) for c in COMPARISONS for level in ("missing", *(lv.name for lv in c.levels))}
    for must in (MUST, MUST_NOT):
        covered = {(name, level) for name, level, _, kind in CASES if kind is must}
        assert declared - covered == set(), f"levels without a {'must' if must else 'must-not'} pair"
    assert {(name, level) for name, level, _, _ in CASES} <= declared, "a row names no declared level"


@pytest.mark.parametrize(
    ("a", "b", "apart"),
    [
        ("王?伟", "王喆伟", True),  # a placeholder for one character: one byte against three, one character
        ("王伟", "王喆伟", True),  # one dropped
        ("欧阳娜娜", "欧阳娜", True),
        ("张伟", "张强", True),  # one changed
        ("王喆伟", "王喆伟", False),
        ("王丽", "丽王", False),  # swapped: two apart
        ("张伟强", "张芳丽", False),
    ],
)
def test_names_one_character_apart_are_counted_in_characters(con, a: str, b: str, apart: bool) -> None:
    """The blocking keys' `one_char_apart` (second IDs, placeholders) counts characters, not UTF-8 bytes."""
    assert con.execute(
        "SELECT one_char_apart($a, $b), one_char_apart($b, $a)", {"a": a, "b": b}
    ).fetchone() == (
        apart,
        apart,
    )
