"""Citizen ID normalization and validation (GB 11643-1999, SPEC section 3)."""

from datetime import date, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aidmatch.sources.citizen_id import (
    _check_character,
    check_character,
    mask_citizen_id,
    normalize_citizen_id,
    normalize_citizen_ids,
)

VALID = "11010519491231002X"
AS_OF = date(2026, 6, 30)


def one(raw: str | None) -> dict:
    return normalize_citizen_ids(pl.Series([raw], dtype=pl.String), as_of=AS_OF).row(0, named=True)


@pytest.mark.parametrize(("first17", "check"), [("11010519491231002", "X"), ("44052418800101001", "4")])
def test_check_character_spec_vectors(first17: str, check: str) -> None:
    assert check_character(first17) == check


def test_check_character_rejects_non_digits() -> None:
    with pytest.raises(ValueError):
        check_character("1101051949123100X")


@pytest.mark.parametrize("raw", [VALID, "440524188001010014"])
def test_spec_vectors_are_valid(raw: str) -> None:
    row = one(raw)
    assert (row["id_norm"], row["id_valid"], row["id_issue"]) == (raw, True, None)


@settings(max_examples=200, deadline=None)
@given(st.text("0123456789", min_size=17, max_size=17))
def test_no_valid_id_is_one_typo_or_one_adjacent_swap_from_another(first17: str) -> None:
    """What the linker's blocking rests on (`one_substitution` and `adjacent_swap` look only at invalid IDs):
    MOD 11-2 catches every mistyped character and every swap of two different neighbours."""
    valid = first17 + check_character(first17)
    typos = {valid[:i] + c + valid[i + 1 :] for i in range(18) for c in "0123456789X"}
    swaps = {valid[:i] + valid[i + 1] + valid[i] + valid[i + 2 :] for i in range(17)}
    neighbours = (typos | swaps) - {valid}
    assert neighbours, "there are neighbours to check"
    digits = sorted(n for n in neighbours if n[:17].isdigit())  # checked at once: one Polars pass
    checks = pl.select(_check_character(pl.lit(pl.Series([n[:17] for n in digits])))).to_series()
    assert not any(check == n[17] for check, n in zip(checks, digits, strict=True))


def test_valid_id_gives_birth_date_sex_and_region() -> None:
    assert one(VALID) | {"id_raw": None} == {
        "id_raw": None,
        "id_norm": VALID,
        "id_valid": True,
        "id_issue": None,
        "id_prefix": None,
        "id_birth_date": date(1949, 12, 31),
        "id_sex": "女",  # 17th digit 2 is even
        "id_region_known": True,
    }
    assert one("330421750101001")["id_sex"] == "男"  # sequence 001 is odd


@pytest.mark.parametrize(
    "raw",
    [
        "11010519491231002x",  # lowercase x
        "１１０１０５１９４９１２３１００２Ｘ",  # full-width digits and letter
        "１１０１０５１９４９１２３１００２ｘ",
        "110105 19491231 002X",  # inner spaces
        "\u3000110105\u300019491231002X\t",  # ideographic spaces, tab
        " 11010519491231002X ",
    ],
)
def test_cosmetic_defects_are_normalized_to_a_valid_id(raw: str) -> None:
    row = one(raw)
    assert (row["id_raw"], row["id_norm"], row["id_valid"]) == (raw, VALID, True)


def test_fifteen_digit_legacy_id_is_converted_to_eighteen() -> None:
    row = one("330421750101001")
    assert (row["id_norm"], row["id_valid"], row["id_birth_date"]) == (
        "330421197501010015",
        True,
        date(1975, 1, 1),
    )
    assert normalize_citizen_id("330421750101001") == "330421197501010015"


def test_legacy_id_with_impossible_date_keeps_its_conversion() -> None:
    row = one("330421751301001")  # month 13
    assert (row["id_issue"], len(row["id_norm"])) == ("bad_date", 18)


@pytest.mark.parametrize(
    ("raw", "issue"),
    [
        ("11010519491231003X", "bad_checksum"),  # one digit mistyped
        ("11010519491321002X", "bad_date"),  # month 13
        ("11010519490230002X", "bad_date"),  # 30 February
        ("11010517991231002X", "bad_date"),  # before the 1800s
    ],
)
def test_untrusted_ids_keep_their_normalized_form_for_fuzzy_matching(raw: str, issue: str) -> None:
    row = one(raw)
    assert (row["id_norm"], row["id_valid"], row["id_issue"]) == (raw, False, issue)
    assert row["id_birth_date"] is None and row["id_sex"] is None


def test_birth_date_after_the_as_of_date_is_bad_date() -> None:
    tomorrow = (AS_OF + timedelta(days=1)).strftime("%Y%m%d")
    first17 = f"110105{tomorrow}002"
    assert one(first17 + check_character(first17))["id_issue"] == "bad_date"


@pytest.mark.parametrize(
    ("raw", "issue"),
    [
        (None, "missing"),
        ("", "missing"),
        ("\u3000 ", "missing"),
        ("11010519491231002Y", "bad_chars"),
        ("1101051949X231002X", "bad_chars"),
        ("11010519491231-002X", "bad_chars"),
        ("1101051949123100", "bad_length"),
        ("1101051949123100211", "bad_length"),
        ("33042175010100X", "bad_length"),
    ],
)
def test_unusable_ids_have_no_normalized_form(raw: str | None, issue: str) -> None:
    row = one(raw)
    assert (row["id_norm"], row["id_valid"], row["id_issue"], row["id_prefix"]) == (None, False, issue, None)


@pytest.mark.parametrize(
    "raw", ["1.10105199001011E+17", "1.10105199001011e17", "1.10105199001011E17", "110105199001011000.0"]
)
def test_excel_numeric_ids_are_never_repaired(raw: str) -> None:
    row = one(raw)
    assert (row["id_norm"], row["id_valid"], row["id_issue"]) == (None, False, "excel_numeric")
    assert row["id_prefix"] == "110105199001011"
    assert normalize_citizen_id(raw) is None


def test_excel_numeric_prefix_is_only_what_survived() -> None:
    assert one("1.101052E+17")["id_prefix"] == "1101052"


def test_unknown_region_is_a_warning_not_a_defect() -> None:
    first17 = "99010519491231002"
    row = one(first17 + check_character(first17))
    assert (row["id_valid"], row["id_region_known"]) == (True, False)


def test_output_is_aligned_with_input_including_duplicates_and_nulls() -> None:
    raw = pl.Series(["330421750101001", None, VALID, "330421750101001", "bad"])
    result = normalize_citizen_ids(raw, as_of=AS_OF)
    assert result.columns == [
        "id_raw",
        "id_norm",
        "id_valid",
        "id_issue",
        "id_prefix",
        "id_birth_date",
        "id_sex",
        "id_region_known",
    ]
    assert result["id_raw"].to_list() == raw.to_list()
    assert result["id_norm"].to_list() == ["330421197501010015", None, VALID, "330421197501010015", None]
    assert result.schema["id_birth_date"] == pl.Date


def test_all_null_input() -> None:
    result = normalize_citizen_ids(pl.Series([None, None]), as_of=AS_OF)
    assert result["id_issue"].to_list() == ["missing", "missing"]


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        (VALID, "110105********002X"),
        (None, ""),
        ("", ""),
        ("12345", "*****"),
        ("330421750101001", "330421*****1001"),
    ],
)
def test_mask_citizen_id(value: str | None, masked: str) -> None:
    assert mask_citizen_id(value) == masked


def test_excel_text_marker_apostrophe_is_dropped():
    assert normalize_citizen_id("'11010519491231002x") == "11010519491231002X"


def test_disability_card_number_stored_by_excel_keeps_only_the_surviving_prefix():
    frame = normalize_citizen_ids(pl.Series(["1.10105199001011E+19"]), as_of=AS_OF)
    assert frame["id_issue"].to_list() == ["excel_numeric"]
    assert frame["id_norm"].to_list() == [None]
    assert frame["id_prefix"].to_list() == ["110105199001011"]
