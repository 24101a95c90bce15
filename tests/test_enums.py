"""Enumeration lookup against enum_values.yaml, and the 就业困难人员类别 splitter."""

from pathlib import Path

import polars as pl
import pytest

from aidmatch.sources.enums import canonical_values, enumerations, normalize_enum, split_categories


def values(kind: str, raw: list[str | None]) -> list:
    return normalize_enum(kind, pl.Series(raw, dtype=pl.String)).to_list()


@pytest.mark.parametrize(
    ("kind", "raw", "expected"),
    [
        ("sex", ["男", "女", "M", "f", "1", "2", "男性", "女性", " 男 ", "Ｆ"], ["男", "女"] * 5),
        ("hukou_type", ["非农业", "城镇", "城镇户口", "非农业户口"], ["城镇"] * 4),
        ("hukou_type", ["农业", "农村", "农业户口"], ["农村"] * 3),
        ("yes_no", ["是", "否", "Y", "n", "1", "0"], [True, False] * 3),
        ("disability_grade", ["一级", "1级", "1", "壹级", "二级", "四级"], [1, 1, 1, 1, 2, 4]),
        (
            "insurance_type",
            ["养老", "失业", "工伤", "医疗", "居民养老"],
            ["企业职工基本养老保险", "失业保险", "工伤保险", "职工基本医疗保险", "城乡居民基本养老保险"],
        ),
        ("assistance_type", ["城市低保", "农村低保边缘"], ["城市低保", "农村低保边缘"]),
        ("work_capacity", ["完全丧失劳动能力", "无劳动能力"], ["完全丧失劳动能力"] * 2),
        ("employment_status", ["在业", "在校学生"], ["在业", "在校学生"]),
        ("assistance_status", ["在保", "停保"], ["在保", "停保"]),
        ("card_status", ["有效", "注销", "过期"], ["有效", "注销", "过期"]),
        ("disability_category", ["肢体", "肢体残疾", "多重"], ["肢体", "肢体", "多重"]),
        ("person_status", ["离退休", "死亡"], ["离退休", "死亡"]),
        ("contribution_type", ["单位职工", "灵活就业", "城乡居民"], ["单位职工", "灵活就业", "城乡居民"]),
        ("payment_status", ["已实缴", "欠费"], ["已实缴", "欠费"]),
    ],
)
def test_aliases_map_to_canonical_values(kind: str, raw: list[str], expected: list) -> None:
    assert values(kind, raw) == expected


def test_unknown_and_empty_values_are_null() -> None:
    assert values("sex", ["未知", "", None, "0"]) == [None, None, None, None]


def test_result_types_follow_the_kind() -> None:
    assert normalize_enum("yes_no", pl.Series(["是"])).dtype == pl.Boolean
    assert normalize_enum("disability_grade", pl.Series(["三级"])).dtype == pl.Int32
    assert normalize_enum("sex", pl.Series("sex", ["男"])).name == "sex"


def test_every_spec_value_is_canonical() -> None:
    assert canonical_values("assistance_type") == ("城市低保", "农村低保", "城市低保边缘", "农村低保边缘")
    assert set(canonical_values("person_status")) == {"参保缴费", "暂停缴费", "终止参保", "离退休", "死亡"}
    for kind in enumerations():
        canonical = [str(value) for value in canonical_values(kind)]
        assert values(kind, canonical) == list(canonical_values(kind))


def test_unknown_kind_is_an_error() -> None:
    with pytest.raises(KeyError, match="unknown enumeration kind"):
        normalize_enum("colour", pl.Series(["红"]))


def test_an_alias_of_two_values_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "enum_values.yaml"
    path.write_text('sex:\n  男: ["M"]\n  女: ["ｍ"]\n', encoding="utf-8")
    with pytest.raises(ValueError, match="alias of both"):
        enumerations(path)


def test_an_unquoted_alias_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "enum_values.yaml"
    path.write_text("yes_no:\n  true: [yes]\n  false: [no]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="double quotes"):
        enumerations(path)


def test_split_categories() -> None:
    raw = pl.Series(
        ["大龄、残疾", "低保，长期失业", "零就业家庭,失地;其他 残疾/大龄", "大龄、大龄、未知", "", None]
    )
    assert split_categories(raw).to_list() == [
        ["大龄", "残疾"],
        ["低保", "长期失业"],
        sorted(["零就业家庭", "失地", "其他", "残疾", "大龄"]),
        ["大龄"],
        [],
        None,
    ]
    assert split_categories(raw).dtype == pl.List(pl.String)
