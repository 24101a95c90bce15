"""What a careful person recovers from real extracts (issue 13), one table per case, on hand-made staged tables:

- the 低保 household head's ID written twice (成员身份证号 damaged, 户主身份证号 still right);
- a housemate's ID typed by mistake: the right person by name, birth date and sex, never the ID's owner;
- a lost or invalid ID plus a dropped or similar-shape character: at least a review-queue candidate.
"""

from dataclasses import dataclass
from datetime import date

import pytest
from test_matching import con, links, stage, valid_id, wrong_check  # noqa: F401  (con: fixture)

from aidmatch.matching import LinkSettings, link_persons

HEAD = valid_id("32010219700304001")  # 刘建国, 男, 1970-03-04: the head; his ID is seen in 低保 only
WIFE = valid_id("32010219720812002")  # 陈秀英, 女, 1972-08-12
SON = valid_id("32010219980105003")  # 刘小明, 男, 1998-01-05
OTHER = valid_id("11010519800101005")
FANG = valid_id("32010219900506002")  # 王芳, 女, 1990-05-06  # 赵六, 男: an unrelated anchor person


def dibao(
    raw_id: str | None,
    name: str,
    sex: str,
    birth: date,
    relation: str,
    head_id: str | None = HEAD,
    household: str = "H001",
) -> dict:
    return {
        "source": "dibao",
        "id_raw": raw_id,
        "name_raw": name,
        "sex": sex,
        "birth_date": birth,
        "household_id": household,
        "head_name": "刘建国",
        "head_id_norm": head_id,
        "relation": relation,
    }


def other(source: str, raw_id: str | None, name: str, sex: str | None = None, birth: date | None = None):
    return {"source": source, "id_raw": raw_id, "name_raw": name, "sex": sex, "birth_date": birth}


def swapped(citizen_id: str, position: int) -> str:
    """The ID with characters `position` and `position + 1` (0-based) swapped."""
    chars = list(citizen_id)
    chars[position], chars[position + 1] = chars[position + 1], chars[position]
    return "".join(chars)


HEAD_BIRTH, WIFE_BIRTH, SON_BIRTH = date(1970, 3, 4), date(1972, 8, 12), date(1998, 1, 5)
MEMBERS = [  # the rest of the household, IDs right
    dibao(WIFE, "陈秀英", "女", WIFE_BIRTH, "配偶"),
    dibao(SON, "刘小明", "男", SON_BIRTH, "儿子"),
]


@dataclass(frozen=True)
class Case:
    name: str
    records: list[dict]
    record: str  # the source_record looked at
    expected: tuple[str | None, str]  # (person_id, method)
    review: set[str] | None = None  # candidate IDs of that record in the review queue (None: not checked)


HEAD_CASES = [
    Case(
        "head's own ID with a wrong check digit, head column right",
        [dibao(wrong_check(HEAD[:17]), "刘建国", "男", HEAD_BIRTH, "户主"), *MEMBERS],
        "dibao/test.csv:2",
        (HEAD, "fuzzy_checksum"),
    ),
    Case(
        "head's own ID with two digits swapped",
        [dibao(swapped(HEAD, 10), "刘建国", "男", HEAD_BIRTH, "户主"), *MEMBERS],
        "dibao/test.csv:2",
        (HEAD, "fuzzy_id_swap"),
    ),
    Case(
        "head's own ID lost and a dropped character; the household's other rows state the head's ID",
        [dibao(None, "刘国", "男", HEAD_BIRTH, "户主", head_id=None), *MEMBERS],
        "dibao/test.csv:2",
        (HEAD, "fuzzy_household_head"),
    ),
    Case(
        "head's own ID and birth date both lost: the household's 户主身份证号 alone finds him",
        [dibao(None, "刘建国", "男", None, "户主"), *MEMBERS],
        "dibao/test.csv:2",
        (HEAD, "fuzzy_household_head"),
    ),
    Case(
        "a member's (not the head's) lost ID is not given to the head",
        [dibao(HEAD, "刘建国", "男", HEAD_BIRTH, "户主"), dibao(None, "刘晓明", "男", SON_BIRTH, "儿子")],
        "dibao/test.csv:3",
        (None, "unlinked:invalid_id_no_candidate"),
    ),
]


def typed_with_heads_id(
    name: str, member: tuple, elsewhere: list[dict], expected: tuple, review=None
) -> Case:
    """A household member's row (`member`: name, sex, birth, relation) typed with the head's ID, beside the
    head's own row, and `elsewhere` the records of other sources."""
    rows = [dibao(HEAD, "刘建国", "男", HEAD_BIRTH, "户主"), dibao(HEAD, *member), *elsewhere]
    return Case(name, rows, "dibao/test.csv:3", expected, review=review)


SON_ROW = ("刘小明", "男", SON_BIRTH, "儿子")
WIFE_ROW = ("陈秀英", "女", WIFE_BIRTH, "配偶")
HOUSEMATE_CASES = [
    typed_with_heads_id(
        "son typed with his father's ID: found by name, birth date and sex in another source",
        SON_ROW, [other("unemployment", SON, "刘小明", "男", SON_BIRTH)], (SON, "fuzzy_name_dob_sex"), set(),
    ),
    typed_with_heads_id(
        "wife typed with her husband's ID, names share no character",
        WIFE_ROW, [other("si_persons", WIFE, "陈秀英", "女", WIFE_BIRTH)], (WIFE, "fuzzy_name_dob_sex"),
    ),
    typed_with_heads_id(
        "the right person only a homophone away: review, never the ID's owner",
        WIFE_ROW, [other("si_persons", WIFE, "陈秀鹰", "女", WIFE_BIRTH)], (None, "unlinked:id_name_conflict"),
        {HEAD, WIFE},
    ),
    typed_with_heads_id(
        "nobody else fits: unlinked, the ID's owner in review", WIFE_ROW, [], (None, "unlinked:id_name_conflict"),
        {HEAD},
    ),
    Case(
        "the only record naming an ID, under another birth date and sex: the person of that name, not the owner",
        [other("unemployment", HEAD, "王芳", "女", date(1990, 5, 6)), other("si_persons", FANG, "王芳", "女", date(1990, 5, 6))],
        "unemployment/test.csv:2",
        (FANG, "fuzzy_name_dob_sex"),
    ),
    *(
        Case(
            f"a mother's rows in two sources typed with her son's ID: the son's own row keeps it ({record})",
            [
                other("dibao", SON, "陈秀英", "女", WIFE_BIRTH),
                other("unemployment", SON, "陈秀英", "女", WIFE_BIRTH),
                other("si_persons", SON, "刘小明", "男", SON_BIRTH),
                other("si_persons", WIFE, "陈秀英", "女", WIFE_BIRTH),
            ],
            record,
            expected,
        )
        for record, expected in (
            ("si_persons/test.csv:2", (SON, "exact_id")),
            ("dibao/test.csv:2", (WIFE, "fuzzy_name_dob_sex")),
        )
    ),
    Case(
        "a name typo under one's own ID (same birth date) still links exactly",
        [dibao(HEAD, "刘建国", "男", HEAD_BIRTH, "户主"), other("unemployment", HEAD, "刘健国", "男", HEAD_BIRTH)],
        "unemployment/test.csv:2",
        (HEAD, "exact_id"),
    ),
]  # fmt: skip


def lost_id(name: str, known_as: str, source: str, raw_id: str | None, written: str, linked: str) -> Case:
    """OTHER is known as `known_as` (si_persons and contributions); a `source` record with `raw_id` writes
    `written`, OTHER's birth date and sex; `linked` is the expected unlinked method."""
    anchor = [other(s, OTHER, known_as) for s in ("si_persons", "si_contributions")]
    reviewed = {OTHER} if linked == "unlinked:review" else set()
    record = other(source, raw_id, written, "男", date(1980, 1, 1))
    return Case(name, [*anchor, record], f"{source}/test.csv:2", (None, linked), review=reviewed)


LOST_ID_CASES = [
    lost_id("lost ID, a dropped character: a review candidate", "赵小六", "unemployment", None, "赵六", "unlinked:review"),
    lost_id("lost ID, a similar-shape character (己/已): review, never a link", "赵己", "unemployment", None, "赵已",
            "unlinked:review"),
    lost_id("invalid ID far from any, a dropped character: review", "赵小六", "dibao", "123", "赵六", "unlinked:review"),
    lost_id("another surname, same birth date and sex: no candidate", "赵六", "unemployment", None, "钱六",
            "unlinked:invalid_id_no_candidate"),
]  # fmt: skip


def check(con, case: Case) -> None:  # noqa: F811  (con: the fixture's connection)
    stage(con, case.records)
    link_persons(con, LinkSettings())
    assert links(con)[case.record] == case.expected, case.name
    if case.review is not None:
        review = {
            candidate
            for (candidate,) in con.execute(
                "SELECT candidate_person_id FROM core_review_queue WHERE source_record = ?", [case.record]
            ).fetchall()
        }
        assert review == case.review, case.name


@pytest.mark.parametrize("case", HEAD_CASES, ids=lambda c: c.name)
def test_household_head_id_written_twice(con, case):  # noqa: F811
    check(con, case)


@pytest.mark.parametrize("case", HOUSEMATE_CASES, ids=lambda c: c.name)
def test_housemates_id_typed_by_mistake(con, case):  # noqa: F811
    check(con, case)


@pytest.mark.parametrize("case", LOST_ID_CASES, ids=lambda c: c.name)
def test_lost_id_and_a_damaged_name_reach_review(con, case):  # noqa: F811
    check(con, case)


def test_household_head_agreement_is_in_the_evidence(con):  # noqa: F811
    stage(con, [dibao(wrong_check(HEAD[:17]), "刘建国", "男", HEAD_BIRTH, "户主"), *MEMBERS])
    link_persons(con, LinkSettings())
    (evidence,) = con.sql(
        "SELECT evidence FROM core_person_links WHERE source_record = 'dibao/test.csv:2'"
    ).fetchall()[0]
    assert "household_head=agree(+" in evidence
    (plain,) = con.sql(
        "SELECT evidence FROM core_person_links WHERE source_record = 'dibao/test.csv:3'"
    ).fetchall()[0]
    assert "household_head" not in plain  # a member's row makes no head comparison: nothing to show
