"""Linking hand-made staged tables: blocking keys, comparison levels, decisions, near misses."""

from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from aidmatch.matching import LinkSettings, link_persons
from aidmatch.sources.citizen_id import check_character, normalize_citizen_ids
from aidmatch.sources.names import normalize_names
from aidmatch.sources.tables import SOURCES, staged_columns


def valid_id(first17: str) -> str:
    return first17 + check_character(first17)


def wrong_check(first17: str) -> str:
    return first17 + ("0" if check_character(first17) != "0" else "1")


def person_sex(citizen_id: str) -> str:
    return "男" if int(citizen_id[16]) % 2 else "女"


ZHANG = valid_id("11010519900101001")  # 张伟, 男, 1990-01-01
LI = valid_id("11010519850615002")  # 李娜, 女, 1985-06-15
WANG = valid_id("11010519780320003")  # 王丽, 男 (odd), 1978-03-20
ZHANG_SECOND = valid_id("11010519900101003")  # 张伟's region and birth date, another sequence: a second ID


def rec(source: str, raw_id: str | None, name: str | None, sex: str | None = None, birth: date | None = None):
    return {"source": source, "id_raw": raw_id, "name_raw": name, "sex": sex, "birth_date": birth}


def stage(con: duckdb.DuckDBPyConnection, records: list[dict]) -> None:
    """Create all five staged tables (declared columns) holding `records`, normalized like staging does:
    birth date and sex are only what the record itself says (never taken from its ID)."""
    frame = pl.DataFrame(records, schema_overrides={"birth_date": pl.Date, "id_raw": pl.String})
    ids = normalize_citizen_ids(frame["id_raw"], as_of=date(2026, 6, 30))
    names = normalize_names(frame["name_raw"])
    frame = pl.concat([frame.drop("id_raw", "name_raw"), ids, names], how="horizontal").with_columns(
        source_row=pl.int_range(2, pl.len() + 2).over("source"),
    )
    frame = frame.with_columns(
        source_file=pl.col("source") + "/test.csv",
        source_record=pl.col("source") + "/test.csv:" + pl.col("source_row").cast(pl.String),
    )
    for source in SOURCES:
        columns = ", ".join(f"{c.name} {c.sql_type}" for c in staged_columns(source))
        con.execute(f"CREATE TABLE staged_{source} ({columns})")
        rows = frame.filter(pl.col("source") == source).select(  # noqa: F841  (read by the SQL below)
            [c.name for c in staged_columns(source) if c.name in frame.columns]
        )
        con.execute(f"INSERT INTO staged_{source} BY NAME SELECT * FROM rows")


@pytest.fixture
def con(tmp_path: Path):
    connection = duckdb.connect(str(tmp_path / "link.duckdb"))
    yield connection
    connection.close()


def links(con: duckdb.DuckDBPyConnection) -> dict[str, tuple]:
    """source_record -> (person_id, method)."""
    rows = con.sql("SELECT source_record, person_id, method FROM core_person_links").fetchall()
    return {record: (person, method) for record, person, method in rows}


# A person seen in two sources under a valid ID: the anchor that fuzzy records are matched against.
def anchored(citizen_id: str, name: str) -> list[dict]:
    return [rec("si_persons", citizen_id, name), rec("si_contributions", citizen_id, name)]


def test_exact_ids_link_every_record_once_and_build_persons(con):
    legacy = "110105900101001"  # 15-digit legacy form of ZHANG, converted to 18 by the normalizer
    stage(
        con,
        [
            *anchored(ZHANG, "张伟"),
            rec("unemployment", legacy, "张伟"),
            rec("dibao", ZHANG.lower(), " 张 伟"),
        ],
    )
    summary = link_persons(con, LinkSettings())
    result = links(con)
    assert set(result.values()) == {(ZHANG, "exact_id")}
    assert con.sql("SELECT count(*), count(DISTINCT source_record) FROM core_person_links").fetchall()[0] == (
        4,
        4,
    )
    person = con.sql(
        "SELECT person_id, name, sex, birth_date, sources, record_count FROM core_persons"
    ).fetchall()
    assert person == [
        (
            ZHANG,
            "张伟",
            "男",
            date(1990, 1, 1),
            ["dibao", "si_contributions", "si_persons", "unemployment"],
            4,
        )
    ]
    assert summary.by_method == {"exact_id": 4} and summary.persons == 1 and summary.review_rows == 0


def test_wrong_check_digit_links_by_first_17(con):
    stage(
        con, [*anchored(ZHANG, "张伟"), rec("dibao", wrong_check(ZHANG[:17]), "张伟", "男", date(1990, 1, 1))]
    )
    link_persons(con, LinkSettings())
    assert links(con)["dibao/test.csv:2"] == (ZHANG, "fuzzy_checksum")
    evidence = con.sql("SELECT evidence FROM core_person_links WHERE source = 'dibao'").fetchall()[0][0]
    assert evidence.startswith("id=checksum_only(+13.3) name=exact(+9.7)")


def test_one_mistyped_digit_links_by_a_masked_position(con):
    typo = ZHANG[:15] + "7" + ZHANG[16:]  # sequence digit 1 -> 7 (check character now wrong)
    stage(con, [*anchored(ZHANG, "张伟"), rec("unemployment", typo, "张伟", "男", date(1990, 1, 1))])
    link_persons(con, LinkSettings())
    assert links(con)["unemployment/test.csv:2"] == (ZHANG, "fuzzy_id_typo")


def test_two_adjacent_digits_swapped(con):
    swapped = ZHANG[:2] + ZHANG[3] + ZHANG[2] + ZHANG[4:]  # 110105... -> 101105...
    stage(con, [*anchored(ZHANG, "张伟"), rec("disability", swapped, "张伟")])
    link_persons(con, LinkSettings())
    assert links(con)["disability/test.csv:2"] == (ZHANG, "fuzzy_id_swap")


def test_contribution_with_typo_links_on_id_and_name_alone(con):
    typo = ZHANG[:3] + "9" + ZHANG[4:]  # region digit mistyped; contributions have no sex or birth date
    stage(
        con,
        [
            rec("si_persons", ZHANG, "张伟"),
            rec("unemployment", ZHANG, "张伟"),
            rec("si_contributions", typo, "张伟"),
        ],
    )
    link_persons(con, LinkSettings())
    assert links(con)["si_contributions/test.csv:2"] == (ZHANG, "fuzzy_id_typo")


def test_excel_prefix_unique_links_ambiguous_does_not(con):
    other = valid_id("11010519900101003")  # same 15-digit prefix, same name, same sex: two candidates
    excel = "1.10105199001010E+17"  # Excel kept 110105199001010: the last three digits are lost
    stage(con, [*anchored(ZHANG, "张伟"), rec("unemployment", excel, "张伟", "男")])
    link_persons(con, LinkSettings())
    assert links(con)["unemployment/test.csv:2"] == (ZHANG, "fuzzy_excel_prefix")

    con.execute("DROP TABLE core_person_links")
    for source in SOURCES:
        con.execute(f"DROP TABLE staged_{source}")
    stage(con, [*anchored(ZHANG, "张伟"), *anchored(other, "张伟"), rec("unemployment", excel, "张伟", "男")])
    link_persons(con, LinkSettings())
    person, method = links(con)["unemployment/test.csv:2"]
    assert person is None and method == "unlinked:ambiguous"
    candidates = con.sql("SELECT candidate_person_id FROM core_review_queue ORDER BY 1").fetchall()
    assert candidates == [(ZHANG,), (other,)]


def test_excel_prefix_rounded_up_last_digit(con):
    person = valid_id("11010519900101057")  # 110105199001010|57… rounds up to ...011 at 15 digits
    stage(con, [*anchored(person, "张伟"), rec("dibao", "1.10105199001011E+17", "张伟", "男")])
    link_persons(con, LinkSettings())
    assert links(con)["dibao/test.csv:2"] == (person, "fuzzy_excel_prefix")


def test_lost_id_links_by_name_birth_date_and_sex(con):
    stage(con, [*anchored(LI, "李娜"), rec("dibao", None, "李娜", "女", date(1985, 6, 15))])
    link_persons(con, LinkSettings())
    assert links(con)["dibao/test.csv:2"] == (LI, "fuzzy_name_dob_sex")


def test_lost_id_with_homophone_name_goes_to_review(con):
    stage(con, [*anchored(WANG, "王丽"), rec("dibao", None, "王莉", "男", date(1978, 3, 20))])
    link_persons(con, LinkSettings())
    assert links(con)["dibao/test.csv:2"] == (None, "unlinked:review")
    row = con.sql("SELECT candidate_person_id, evidence FROM core_review_queue").fetchall()[0]
    assert row[0] == WANG and "name=same_pinyin" in row[1]


def test_invalid_id_without_candidate_and_far_candidate(con):
    stage(
        con,
        [
            *anchored(ZHANG, "张伟"),
            rec("dibao", "11010519900101", "陈晨", "女", date(2001, 2, 3)),  # bad length, nobody like her
            rec(
                "dibao", wrong_check("32010519700101001"), "张伟", "男", date(1990, 1, 1)
            ),  # far ID, same name
        ],
    )
    link_persons(con, LinkSettings())
    result = links(con)
    assert result["dibao/test.csv:2"] == (None, "unlinked:invalid_id_no_candidate")
    # name, birth date and sex agree but the ID is far: the grey zone, for an analyst, never a link
    assert result["dibao/test.csv:3"] == (None, "unlinked:review")
    review = con.sql("SELECT source_record, candidate_person_id FROM core_review_queue").fetchall()
    assert review == [("dibao/test.csv:3", ZHANG)]


def test_exact_id_under_a_completely_different_name_is_reviewed_not_linked(con):
    stage(con, [*anchored(ZHANG, "张伟"), rec("unemployment", ZHANG, "李娜")])
    summary = link_persons(con, LinkSettings())
    assert links(con)["unemployment/test.csv:2"] == (None, "unlinked:id_name_conflict")
    assert links(con)["si_persons/test.csv:2"] == (ZHANG, "exact_id")
    review = con.sql("SELECT source_record, candidate_person_id FROM core_review_queue").fetchall()
    assert review == [("unemployment/test.csv:2", ZHANG)]
    assert summary.review_head[0]["candidate_person_id"] == "110105********0014"[:6] + "*" * 8 + ZHANG[-4:]


def test_exact_id_with_a_name_typo_or_alias_still_links(con):
    stage(
        con,
        [
            *anchored(WANG, "王丽"),
            rec("unemployment", WANG, "王莉"),  # homophone
            rec("dibao", WANG, "王己"),  # shape typo: shares a character
            rec("disability", WANG, "刘芳（曾用名王丽）"),  # another name, its alias matches
        ],
    )
    link_persons(con, LinkSettings())
    assert {method for _, method in links(con).values()} == {"exact_id"}


def test_twins_with_adjacent_ids_are_not_merged(con):
    twin_a = valid_id("11010519950505001")  # 刘洋, 男
    twin_b = valid_id("11010519950505002")  # 刘海, 女
    typo_a = twin_a[:5] + "9" + twin_a[6:]  # twin A's region digit mistyped
    stage(
        con,
        [
            *anchored(twin_a, "刘洋"),
            *anchored(twin_b, "刘海"),
            rec("dibao", typo_a, "刘洋", "男", date(1995, 5, 5)),
            rec("unemployment", wrong_check(twin_b[:17]), "刘洋", "男", date(1995, 5, 5)),  # B's ID, A's name
        ],
    )
    link_persons(con, LinkSettings())
    result = links(con)
    assert result["dibao/test.csv:2"] == (twin_a, "fuzzy_id_typo")
    # not silently given to twin B (her ID) nor to twin A (his name): both go to the analyst
    assert result["unemployment/test.csv:2"] == (None, "unlinked:ambiguous")
    review = con.sql("SELECT source_record, candidate_person_id FROM core_review_queue").fetchall()
    assert sorted(review) == [("unemployment/test.csv:2", twin_a), ("unemployment/test.csv:2", twin_b)]


def test_father_and_son_with_one_name_are_not_merged(con):
    father = valid_id("11010519600101001")
    son = valid_id("11010519880909001")
    stage(
        con,
        [
            *anchored(father, "张伟"),
            *anchored(son, "张伟"),
            rec("dibao", None, "张伟", "男", date(1988, 9, 9)),
        ],
    )
    link_persons(con, LinkSettings())
    assert links(con)["dibao/test.csv:2"] == (son, "fuzzy_name_dob_sex")
    assert con.sql("SELECT count(*) FROM core_persons").fetchall()[0] == (2,)


def test_same_name_and_birth_date_with_two_valid_ids_are_two_people(con):
    other = valid_id("44052419900101001")  # 张伟, 男, 1990-01-01, another county
    stage(
        con,
        [
            *anchored(ZHANG, "张伟"),
            rec("unemployment", other, "张伟"),
            rec("dibao", None, "张伟", "男", date(1990, 1, 1)),
        ],
    )
    link_persons(con, LinkSettings())
    result = links(con)
    assert result["unemployment/test.csv:2"] == (other, "exact_id")  # alone in its source, but its own ID
    assert result["dibao/test.csv:2"] == (None, "unlinked:ambiguous")  # a lost ID between two people


def under_a_second_id(other: dict) -> list[dict]:
    """张伟 anchored under his ID, his 低保 row under his second ID (dibao/test.csv:2), and `other`."""
    return [*anchored(ZHANG, "张伟"), rec("dibao", ZHANG_SECOND, "张伟", "男", date(1990, 1, 1)), other]


def test_one_person_under_a_second_id_of_the_same_region_and_birth_date(con):
    twin = valid_id("11010519900101005")  # the same region and birth date, but 张强: another person
    stage(con, under_a_second_id(rec("unemployment", twin, "张强", "男", date(1990, 1, 1))))
    link_persons(con, LinkSettings())
    result = links(con)
    assert result["dibao/test.csv:2"] == (ZHANG, "fuzzy_second_id")
    assert result["unemployment/test.csv:2"] == (twin, "exact_id")
    review = con.sql("SELECT source_record, candidate_person_id FROM core_review_queue").fetchall()
    assert review == []  # a different given name is no candidate; the second ID is linked, not reviewed
    persons = {p for (p,) in con.sql("SELECT person_id FROM core_persons").fetchall()}
    assert ZHANG_SECOND not in persons and {ZHANG, twin} <= persons


def test_a_merged_second_id_is_no_candidate_for_the_persons_other_records(con):
    """Once 张伟's second ID went to him, his record without an ID has one candidate, not a tie of two."""
    stage(con, under_a_second_id(rec("unemployment", None, "张伟", "男", date(1990, 1, 1))))
    link_persons(con, LinkSettings())
    result = links(con)
    assert result["dibao/test.csv:2"] == (ZHANG, "fuzzy_second_id")
    assert result["unemployment/test.csv:2"] == (ZHANG, "fuzzy_name_dob_sex")
    assert con.sql("SELECT count(*) FROM core_review_queue").fetchall() == [(0,)]


def test_second_id_in_a_source_without_birth_date_links_on_name_region_and_birth_date(con):
    # 张伟 under a second ID, in a source without birth date or sex
    stage(con, [*anchored(ZHANG, "张伟"), rec("si_contributions", ZHANG_SECOND, "张伟")])
    link_persons(con, LinkSettings())
    person, method = links(con)["si_contributions/test.csv:3"]
    assert (person, method) == (ZHANG, "fuzzy_second_id")
    (evidence,) = con.sql(
        "SELECT evidence FROM core_person_links WHERE source_record = 'si_contributions/test.csv:3'"
    ).fetchall()[0]
    assert "id=same_region_birth_date" in evidence and "name=exact" in evidence


def test_two_lone_ids_of_one_person_go_to_the_better_attested_id_never_both_ways(con):
    """One person, two IDs, each seen in one source only: the ID on more records is the person's; on as
    many records, the social-insurance ID is."""
    on_more_records = [rec("si_contributions", ZHANG, "张伟") for _ in range(3)]
    stage(con, [rec("si_persons", ZHANG_SECOND, "张伟"), *on_more_records])
    link_persons(con, LinkSettings())
    assert {person for person, _ in links(con).values()} == {ZHANG}
    assert links(con)["si_persons/test.csv:2"] == (ZHANG, "fuzzy_second_id")

    for source in SOURCES:
        con.execute(f"DROP TABLE staged_{source}")
    stage(con, [rec("si_persons", ZHANG_SECOND, "张伟"), rec("unemployment", ZHANG, "张伟", "男")])
    link_persons(con, LinkSettings())
    assert links(con) == {
        "si_persons/test.csv:2": (ZHANG_SECOND, "exact_id"),
        "unemployment/test.csv:2": (ZHANG_SECOND, "fuzzy_second_id"),
    }


def test_duplicates_within_a_source_link_to_one_person(con):
    stage(
        con,
        [
            *anchored(LI, "李娜"),
            rec("unemployment", LI, "李娜"),
            rec("unemployment", LI, "李娜"),  # an exact copy of the row
            rec("unemployment", wrong_check(LI[:17]), "李娜", "女", date(1985, 6, 15)),  # registered again
        ],
    )
    summary = link_persons(con, LinkSettings())
    assert {person for person, _ in links(con).values()} == {LI}
    duplicates = con.sql("SELECT source, person_id, source_records FROM core_source_duplicates").fetchall()
    assert duplicates == [
        (
            "unemployment",
            LI,
            ["unemployment/test.csv:2", "unemployment/test.csv:3", "unemployment/test.csv:4"],
        )
    ]
    assert summary.duplicate_persons == 1


def test_accept_threshold_is_configuration(con):
    stage(con, [*anchored(LI, "李娜"), rec("dibao", None, "李娜", "女", date(1985, 6, 15))])
    link_persons(con, LinkSettings(accept_threshold=40.0, review_threshold=10.0))
    assert links(con)["dibao/test.csv:2"] == (None, "unlinked:review")


def test_settings_reject_nonsense():
    with pytest.raises(ValueError):
        LinkSettings(accept_threshold=5.0, review_threshold=10.0)
    with pytest.raises(ValueError):
        LinkSettings(name_exact=(0.0, 0.1))
