"""Linking what other systems export (issue 25), on hand-made staged tables:

- a 生僻字 the exporting system could not encode, written as a placeholder (王?伟, 王□伟, a private-use code
  point) in the 社保 name, the registration name or both: it agrees with any one character, so the records
  whose link needs an agreeing name still link — a lost ID too, unless another person agrees as well;
- one person under two IDs (一人多证) with a homophone or a dropped character in one name, and a second ID
  seen in two sources: merged into the better attested ID; twins named alike (numbered one after the
  other), and two IDs that one source holds side by side: never.
"""

from datetime import date

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_matching import anchored, con, links, rec, stage, valid_id  # noqa: F401  (con: fixture)

from aidmatch.matching import LinkSettings, link_persons
from aidmatch.matching.name_features import name_pair_features
from aidmatch.sources.names import normalize_names

BIRTH = date(1988, 7, 9)
WANG = valid_id("32010219880709013")  # 王喆伟, 男: 喆 is what other systems cannot encode
TYPO = WANG[:8] + str((int(WANG[8]) + 3) % 10) + WANG[9:]  # one digit mistyped: invalid, one edit from WANG
SECOND = valid_id("32010219880709057")  # his region and birth date, another sequence: a second ID


def _persons(db) -> dict[str, str]:
    return dict(db.sql("SELECT person_id, name FROM core_persons").fetchall())


def _evidence(db, record: str) -> str:
    sql = f"SELECT evidence FROM core_person_links WHERE source_record = '{record}'"
    return db.sql(sql).fetchall()[0][0]


# (SI name, registration name): the placeholder where each world has it
WORLDS = {
    "in the 社保 name": ("王?伟", "王喆伟"),
    "in the registration name": ("王喆伟", "王□伟"),
    "in both": ("王\ue0a1伟", "王？伟"),  # a private-use code point; a full-width ？
    "in the surname": ("王喆伟", "?喆伟"),
}


@pytest.mark.parametrize("world", WORLDS)
def test_a_name_with_a_placeholder_still_links_where_the_link_needs_the_name(con, world):  # noqa: F811
    si_name, registered = WORLDS[world]
    stage(
        con,
        [
            *anchored(WANG, si_name),
            rec("unemployment", TYPO, registered, "男", BIRTH),  # a mistyped digit
            rec("dibao", SECOND, registered, "男", BIRTH),  # his second ID, alone in its source
            rec("disability", None, registered, "男", BIRTH),  # the ID lost
        ],
    )
    link_persons(con, LinkSettings())
    result = links(con)
    assert result["unemployment/test.csv:2"] == (WANG, "fuzzy_id_typo")
    assert result["dibao/test.csv:2"] == (WANG, "fuzzy_second_id")
    assert "name=unknown_char" in _evidence(con, "unemployment/test.csv:2")
    # no ID: the same name but for one unknown character, birth date and sex, and nobody else agrees as well
    assert result["disability/test.csv:2"] == (WANG, "fuzzy_name_dob_sex")
    assert con.sql("SELECT count(*) FROM core_review_queue").fetchall() == [(0,)]
    assert set(_persons(con)) == {WANG}


def test_a_second_id_with_a_placeholder_links_where_the_source_has_no_birth_date(con):  # noqa: F811
    """社保缴费 rows carry no birth date or sex: the second ID's region and birth date and the name but for
    its unknown character are enough; a lost ID there has too little to go on."""
    stage(
        con,
        [
            *anchored(WANG, "王喆伟"),
            rec("si_persons", WANG, "王喆伟", "男", BIRTH),
            rec("si_contributions", SECOND, "王\ue003伟"),  # 3: his second ID, his system's own code point
        ],
    )
    link_persons(con, LinkSettings())
    assert links(con)["si_contributions/test.csv:3"] == (WANG, "fuzzy_second_id")
    assert "name=unknown_char" in _evidence(con, "si_contributions/test.csv:3")


def test_the_persons_name_is_one_without_a_placeholder_wherever_it_comes_from(con):  # noqa: F811
    """社保 writes 王?伟, his registration 王喆伟: the person is 王喆伟 (lists, review forms), and a record
    whose ID is lost links on the complete name, birth date and sex."""
    stage(
        con,
        [
            *anchored(WANG, "王?伟"),
            rec("unemployment", WANG, "王喆伟", "男", BIRTH),
            rec("disability", None, "王喆伟", "男", BIRTH),
        ],
    )
    link_persons(con, LinkSettings())
    assert links(con)["disability/test.csv:2"] == (WANG, "fuzzy_name_dob_sex")
    assert _persons(con) == {WANG: "王喆伟"}


def test_a_placeholder_never_makes_a_link_to_the_wrong_person(con):  # noqa: F811
    """Two persons the unknown character could be (王喆伟, 王志伟: one birth date, one sex): a lost ID under
    王?伟 is a tie for the analyst; 王?强 agrees with neither; 王? says too little (compared as missing)."""
    other = valid_id("32010219880709031")  # 王志伟, 男, the same birth date
    li = valid_id("11010519850615002")  # 李娜, 女
    stage(
        con,
        [
            *anchored(WANG, "王喆伟"),
            *anchored(other, "王志伟"),
            *anchored(li, "李娜"),
            rec("dibao", None, "王?伟", "男", BIRTH),
            rec("disability", None, "王?强", "男", BIRTH),
            rec("unemployment", li, "李?", "女", date(1985, 6, 15)),
        ],
    )
    link_persons(con, LinkSettings())
    result = links(con)
    assert result["dibao/test.csv:2"] == (None, "unlinked:ambiguous")
    assert result["disability/test.csv:2"][0] is None
    assert result["unemployment/test.csv:2"] == (li, "exact_id")
    assert "name=missing" in _evidence(con, "unemployment/test.csv:2")


ZHANG = valid_id("11010519900101001")  # 张伟 / 张志伟, 男, 1990-01-01
ZHANG_SECOND = valid_id("11010519900101091")  # a second ID of his, numbered when it was issued


@pytest.mark.parametrize(
    ("anchor_name", "second_name"),
    [("张伟", "张炜"), ("张志伟", "张伟"), ("张伟", "张伟")],
    ids=["a homophone (同音字)", "a dropped character", "the same name"],
)
def test_a_second_id_under_an_imperfect_name_is_merged(con, anchor_name, second_name):  # noqa: F811
    stage(
        con,
        [
            *anchored(ZHANG, anchor_name),
            rec("unemployment", ZHANG_SECOND, second_name, "男", date(1990, 1, 1)),
        ],
    )
    link_persons(con, LinkSettings())
    assert links(con)["unemployment/test.csv:2"] == (ZHANG, "fuzzy_second_id")
    assert set(_persons(con)) == {ZHANG}


@pytest.mark.parametrize("second_name", ["张伟", "张炜"])
def test_a_second_id_seen_in_two_sources_is_merged_into_the_better_attested_one(con, second_name):  # noqa: F811
    """The second ID is carried by a registration and a 低保 row (two sources, neither holding the first);
    the first by 社保, its contributions and a card: three sources."""
    stage(
        con,
        [
            *anchored(ZHANG, "张伟"),
            rec("disability", ZHANG, "张伟", "男"),
            rec("unemployment", ZHANG_SECOND, second_name, "男", date(1990, 1, 1)),
            rec("dibao", ZHANG_SECOND, second_name, "男", date(1990, 1, 1)),
        ],
    )
    link_persons(con, LinkSettings())
    result = links(con)
    assert result["unemployment/test.csv:2"] == (ZHANG, "fuzzy_second_id")
    assert result["dibao/test.csv:2"] == (ZHANG, "fuzzy_second_id")
    assert set(_persons(con)) == {ZHANG}


def test_two_ids_one_source_holds_side_by_side_are_two_people(con):  # noqa: F811
    """Two insured persons of one name, region and birth date (both in 社保): namesakes, not one person."""
    stage(
        con,
        [
            *anchored(ZHANG, "张伟"),
            *anchored(ZHANG_SECOND, "张伟"),
            rec("unemployment", ZHANG_SECOND, "张伟", "男", date(1990, 1, 1)),
        ],
    )
    link_persons(con, LinkSettings())
    assert links(con)["unemployment/test.csv:2"] == (ZHANG_SECOND, "exact_id")
    assert set(_persons(con)) == {ZHANG, ZHANG_SECOND}


TWIN_A = valid_id("44030520150817021")  # 陈梓涵, 女 (even), 2015-08-17
TWIN_B = valid_id("44030520150817023")  # 陈梓晗, 男 (odd): born the same day, numbered next


@pytest.mark.parametrize("twin_b_name", ["陈梓晗", "陈梓?"])
@pytest.mark.parametrize("twin_b_sources", [("unemployment",), ("unemployment", "dibao")])
def test_twins_named_alike_are_never_merged(con, twin_b_sources, twin_b_name):  # noqa: F811
    """梓涵 and 梓晗 sound the same, and 梓? agrees with either: twin B's ID, alone in its source or in two,
    stays twin B's."""
    stage(
        con,
        [
            *anchored(TWIN_A, "陈梓涵"),
            rec("disability", TWIN_A, "陈梓涵", "女"),
            *(rec(source, TWIN_B, twin_b_name, "男", date(2015, 8, 17)) for source in twin_b_sources),
        ],
    )
    link_persons(con, LinkSettings())
    result = links(con)
    for source in twin_b_sources:
        assert result[f"{source}/test.csv:2"] == (TWIN_B, "exact_id")
    assert set(_persons(con)) == {TWIN_A, TWIN_B}


# --- properties of the placeholder ------------------------------------------------------------------

_CHINESE = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5).filter(lambda c: c != "〇")
_PLACEHOLDER = st.sampled_from(["?", "？", "*", "＊", "□", "〇", "\ue000", "\U000f0001", "\ufffd"])


@settings(max_examples=200, deadline=None, database=None)
@given(
    name=st.text(_CHINESE, min_size=3, max_size=5),
    at=st.integers(0, 4),
    placeholder=_PLACEHOLDER,
    other_at=st.integers(0, 4),
)
def test_a_placeholder_agrees_with_any_one_character_and_nothing_more(name, at, placeholder, other_at):
    """Whatever the name and wherever the placeholder stands, the name written with it is "the same name,
    one character unknown" against the name, the other way round, and against the name written with
    another placeholder; a different name of that length differs elsewhere, so it never agrees."""
    name = normalize_names(pl.Series([name]))["name"][0]  # simplified, as staging makes it
    at %= len(name)
    written = normalize_names(pl.Series([name[:at] + placeholder + name[at + 1 :]]))["name"][0]
    other = name[: other_at % len(name)] + "\ue001" + name[other_at % len(name) + 1 :]
    changed = (
        name[: (at + 1) % len(name)]
        + ("丁" if name[(at + 1) % len(name)] != "丁" else "乙")
        + name[(at + 1) % len(name) + 1 :]
    )
    pairs = pl.DataFrame(
        {"record_name": [written, name, written, written], "person_name": [name, written, other, changed]}
    )
    features = name_pair_features(pairs)
    assert features["name_unknown"].to_list()[:3] == [True, True, True]
    assert features["name_edits"].to_list()[:2] == [0, 0]
    assert features["same_pinyin"].to_list()[:2] == [True, True]
    assert features["name_edits"][3] == 1 and not features["name_unreadable"].any()
