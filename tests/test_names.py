"""Name normalization, pinyin keys and masking (SPEC section 2, the name defects)."""

import polars as pl
import pytest

from aidmatch.sources.names import mask_name, name_pinyin, normalize_names


def normalized(raw: str | None) -> tuple[str | None, str | None]:
    row = normalize_names(pl.Series([raw], dtype=pl.String)).row(0, named=True)
    return row["name"], row["name_alias"]


@pytest.mark.parametrize("raw", [" 张三", "张三 ", "张 三", "\u3000张\u3000三\u3000", "张\t三", "张\u200b三"])
def test_spaces_are_removed(raw: str) -> None:
    assert normalized(raw) == ("张三", None)


def test_full_width_characters_are_folded() -> None:
    assert normalized("ＡＢＣ张三") == ("ABC张三", None)


@pytest.mark.parametrize(
    ("raw", "alias"),
    [
        ("张三（曾用名张珊）", "张珊"),
        ("张三(曾用名:张珊)", "张珊"),
        ("张三（原名：张珊）", "张珊"),
        ("张三【又名张珊】", "张珊"),
        ("张三[张珊]", "张珊"),
        ("张三［曾用名 张珊］", "张珊"),
        ("张三（已故）", "已故"),
        ("张三（曾用名張珊", "张珊"),  # note cut off at the end of the cell; traditional in the note
        ("张三()", None),
    ],
)
def test_bracketed_note_becomes_the_alias(raw: str, alias: str | None) -> None:
    assert normalized(raw) == ("张三", alias)


@pytest.mark.parametrize(
    "dot",
    [
        "\u00b7",  # · middle dot
        "\u2022",  # • bullet
        "\u2027",  # ‧ hyphenation point
        "\u30fb",  # ・ katakana middle dot
        "\uff0e",  # ． full-width full stop
        ".",
        "\uff65",  # ･ half-width katakana middle dot
        "\u2219",  # ∙ bullet operator
        "\u22c5",  # ⋅ dot operator
        "\u0387",  # · Greek ano teleia
        "\ua78f",  # ꞏ sinological dot
        "\u3002",  # 。 ideographic full stop
        " · ",
        "··",
    ],
)
def test_every_middle_dot_variant_becomes_u00b7(dot: str) -> None:
    assert normalized(f"阿依{dot}古丽") == ("阿依\u00b7古丽", None)


def test_dots_at_the_ends_are_dropped() -> None:
    assert normalized("·买买提·吐尔逊.") == ("买买提·吐尔逊", None)


@pytest.mark.parametrize(
    ("raw", "name"), [("張三", "张三"), ("陳麗華", "陈丽华"), ("歐陽娜娜", "欧阳娜娜"), ("王乾坤", "王乾坤")]
)
def test_traditional_characters_become_simplified(raw: str, name: str) -> None:
    assert normalized(raw) == (name, None)


@pytest.mark.parametrize("raw", [None, "", "  ", "（）", "·"])
def test_empty_names_are_null(raw: str | None) -> None:
    assert normalized(raw) == (None, None)


def test_output_is_aligned_with_input() -> None:
    raw = pl.Series(["張三", None, "李四", "張三", "陳麗華（曾用名陳麗）"])
    result = normalize_names(raw)
    assert result.columns == ["name_raw", "name", "name_alias"]
    assert result["name_raw"].to_list() == raw.to_list()
    assert result["name"].to_list() == ["张三", None, "李四", "张三", "陈丽华"]
    assert result["name_alias"].to_list() == [None, None, None, None, "陈丽"]


def test_all_null_input() -> None:
    assert normalize_names(pl.Series([None, None]))["name"].to_list() == [None, None]


def test_pinyin_makes_homophones_meet() -> None:
    pinyin = name_pinyin(pl.Series(["王丽", "王莉", "王力", "王己", "王已", None]))
    assert pinyin.to_list() == ["wangli", "wangli", "wangli", "wangji", "wangyi", None]


def test_pinyin_drops_the_middle_dot_and_reads_a_character_the_same_everywhere() -> None:
    pinyin = name_pinyin(pl.Series(["阿依·古丽", "曾", "曾国"]))
    assert pinyin[0] == "ayiguli"
    assert pinyin[2].startswith(pinyin[1])


@pytest.mark.parametrize(
    ("name", "masked"), [("张三", "张*"), ("欧阳娜娜", "欧***"), ("张", "张"), (None, "")]
)
def test_mask_name(name: str | None, masked: str) -> None:
    assert mask_name(name) == masked


def test_pinyin_of_nothing_to_read_is_empty_not_an_error():
    assert name_pinyin(pl.Series([], dtype=pl.String)).to_list() == []
    assert name_pinyin(pl.Series(["", None])).to_list() == ["", None]
