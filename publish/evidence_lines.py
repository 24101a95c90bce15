"""The printed evidence: one short line in Chinese of why a row is on a list, built from its reason codes
and the key facts of each reason (SPEC section 5: "a printed list is for people") — 低保（城市低保）；大龄（女46岁）.

The CSVs keep the full evidence, every reason with its records (`DIBAO: 城市低保 户编号 … [dibao/东城区.csv:12]
| AGE_4050: 女 46周岁（出生日期 …）`): what a steward checks. On paper that is a paragraph a row, and a page
holds five people; a worker at the door needs the reason and the one fact that makes it, on one line.
Each reason's phrase takes its facts from the reason's part of the evidence (the rules write them:
`rules/*.sql`); a part whose facts cannot be read gives the reason's short name alone — never a wrong
fact. Anything that prints a list row (the lists, the street offices' work lists, the employers' view)
uses these lines: `reason_line` for the rows of `proactive` and `removals`, `entitlement_line` for
`entitlements`, `household_line` for `zero_employment_households`.
"""

import re
from dataclasses import dataclass

import polars as pl

_DATE = r"(\d{4}-\d{2}-\d{2})"
_LAST_MONTH = r"(?:\d{4}-\d{2},)*(\d{4}-\d{2})"  # the last of "2026-08,2026-09,2026-10"


@dataclass(frozen=True)
class Phrase:
    """What one reason (or one part of an entitlement's evidence) prints: `template` filled with the groups
    `pattern` finds in the evidence, else `short` alone."""

    code: str  # the reason code it says (or which part of an entitlement's evidence)
    short: str  # the reason's short name: said when its facts cannot be read
    pattern: str | None = None  # its facts in the evidence: one group per {} of the template (or none)
    template: str = ""
    counts_ids: bool = False  # its one group is a list of IDs, said as how many

    def __post_init__(self) -> None:
        groups = re.compile(self.pattern).groups if self.pattern else 0
        if groups != self.template.count("{}"):
            raise ValueError(f"{self.code}: {groups} facts found but {self.template.count('{}')} printed")


# In the order of rules/codes.py: a line lists its reasons in that order.
REASON_PHRASES: tuple[Phrase, ...] = (
    Phrase("DIBAO", "低保", r"(\S+) 户编号", "低保（{}）"),
    Phrase("DISABLED", "残疾", r"残疾人证 \S+ ([^\s空]+) ([一二三四]级)", "残疾（{}{}）"),
    Phrase("AGE_4050", "大龄", r"(男|女) (\d+)周岁", "大龄（{}{}岁）"),
    Phrase("LONG_TERM_UNEMPLOYED", "长期失业", rf"失业登记日期 {_DATE}", "长期失业（{}登记）"),
    Phrase("ZERO_EMPLOYMENT_HOUSEHOLD", "零就业家庭"),
    Phrase(
        "EMPLOYED",
        "已就业",
        rf"单位职工缴费（已实缴）{_LAST_MONTH}，单位：([^、|]+?)(?:、| \||$)",
        "已就业（缴费至{}，{}）",
    ),
    Phrase("FLEXIBLY_EMPLOYED", "灵活就业", rf"灵活就业缴费（已实缴）{_LAST_MONTH}", "灵活就业（缴费至{}）"),
    Phrase("RETIRED", "已退休", rf"离退休日期 {_DATE}", "已退休（{}）"),
    Phrase("RETIREMENT_AGE", "已达退休年龄", rf"法定退休日期 {_DATE}", "已达退休年龄（{}）"),
    Phrase("DECEASED", "已死亡", rf"死亡日期 {_DATE}", "已死亡（{}）"),
    Phrase("DUPLICATE", "重复登记", rf"最早的登记 {_DATE}", "重复登记（最早{}）"),
    Phrase("NO_WORK_CAPACITY", "低保记录完全丧失劳动能力"),
    Phrase("BASIS_ENDED", "认定依据消失", r"就业困难人员类别 ([^；|]+)", "认定依据消失（原类别{}）"),
)
# An entitlement's evidence has no codes: its parts are found by their words. The recognition date, or that
# it is empty (then the period is not known: 需核实); the period's end has a column of its own.
_NO_PERIOD = Phrase("no_period", "", r"认定日期为空", "认定日期为空，需核实")
_PERIOD = (Phrase("period", "", rf"认定日期 {_DATE} \[", "{}认定"), _NO_PERIOD)
# A registered person's 低保 record says 完全丧失劳动能力 or 在校学生: the allowance is listed for review.
_CONFLICT = Phrase("conflict", "", r"需核实：低保记录 (?:劳动能力|就业状况) (\S+) \[", "需核实：低保记录为{}")
ENTITLEMENT_PHRASES: dict[str, tuple[Phrase, ...]] = {
    "SI_SUBSIDY_FLEXIBLE": (
        *_PERIOD,
        Phrase("flexible", "", rf"灵活就业缴费（已实缴）{_LAST_MONTH}", "灵活就业缴费至{}"),
    ),
    "SI_SUBSIDY_EMPLOYER": (
        *_PERIOD,
        Phrase("employer", "", r"自 (\d{4}-\d{2}) 起缴纳单位职工社保", "{}起单位缴费"),
    ),
    "TEMP_LIVING_ALLOWANCE": (
        Phrase("dibao", "", r"(\S+) 户编号 \S+ 在保", "{}在保"),
        Phrase("registered", "", rf"失业登记日期 {_DATE}", "{}登记失业"),
        _CONFLICT,
    ),
}
HOUSEHOLD_PHRASES: tuple[Phrase, ...] = (
    Phrase("dibao", "", r"^(\S+) 在保", "{}在保"),
    Phrase("not_counted", "", r"不计入：([^；]+)", "不计入{}人", counts_ids=True),
    Phrase("unlinked", "", r"未能关联的成员记录", "有未能关联的成员记录"),
)
_ID = r"\d{17}[\dX]"


def _facts(evidence: pl.Expr, pattern: str, phrase: Phrase) -> pl.Expr:
    """The phrase filled with the facts `pattern` (holding the phrase's groups) finds; null where it does
    not match."""
    groups = re.compile(pattern).groups
    if not groups:
        return pl.when(evidence.str.contains(pattern)).then(pl.lit(phrase.template))
    found = evidence.str.extract_groups(pattern)
    facts = [found.struct.field(str(index)) for index in range(1, groups + 1)]
    if phrase.counts_ids:
        facts = [facts[0].str.count_matches(_ID).cast(pl.String)]
    return pl.format(phrase.template, *facts)


def _line(phrases: list[pl.Expr]) -> pl.Expr:
    """The phrases that apply, joined by ；, null when none does."""
    joined = pl.concat_str(phrases, separator="；", ignore_nulls=True)
    return pl.when(joined != "").then(joined)


def reason_line(evidence: pl.Expr) -> pl.Expr:
    """`DIBAO: 城市低保 户编号 … | AGE_4050: 女 46周岁…` -> 低保（城市低保）；大龄（女46岁）: a phrase for each
    reason of the evidence, in the order of rules/codes.py (proactive and removal rows)."""
    phrases = []
    for phrase in REASON_PHRASES:
        part = rf"(?:^|\| ){phrase.code}: "
        facts = _facts(evidence, part + r"[^|]*?" + phrase.pattern, phrase) if phrase.pattern else None
        said = pl.coalesce(facts, pl.lit(phrase.short)) if facts is not None else pl.lit(phrase.short)
        phrases.append(pl.when(evidence.str.contains(part)).then(said))
    return _line(phrases)


def entitlement_line(entitlement: pl.Expr, evidence: pl.Expr) -> pl.Expr:
    """An entitlement row's period and what it rests on: 2024-03-15认定，补贴至2027-03-14；2026-09起单位缴费."""
    phrases = []
    for code, parts in ENTITLEMENT_PHRASES.items():
        found = [_facts(evidence, phrase.pattern, phrase) for phrase in parts if phrase.pattern]
        phrases.append(pl.when(entitlement == code).then(_line(found)))
    return pl.coalesce(phrases)


def review_line(evidence: pl.Expr) -> pl.Expr:
    """What an entitlement listed for review must be checked for: 需核实：低保记录为完全丧失劳动能力, or
    认定日期为空，需核实; null for a row of high confidence."""
    return _line([_facts(evidence, phrase.pattern, phrase) for phrase in (_CONFLICT, _NO_PERIOD)])


def household_line(evidence: pl.Expr) -> pl.Expr:
    """A household's 低保 and who is not counted: 城市低保在保；不计入2人."""
    return _line([_facts(evidence, phrase.pattern, phrase) for phrase in HOUSEHOLD_PHRASES if phrase.pattern])
