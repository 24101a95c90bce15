"""Every code the lists emit, with its Chinese label for people (the xlsx export) — one table.

Codes are the stable, machine-readable contract with the case systems (SPEC section 5); labels may
be reworded freely. A removal reason also carries its confidence: a removal row is `high` when any of
its reasons is. A code may belong to several lists (EMPLOYED is a removal reason, 民政's finding and
残联's status) under a label of each: `LABELS` holds the label of its first list, `labels_of(kind)` a
list's own.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Code:
    code: str
    # category | reason | removal_reason | roll | household_status | entitlement | confidence |
    # dibao_finding | disability_status | household_risk | visit_outcome
    kind: str
    label: str  # 中文名称, for headers and cells people read
    confidence: str | None = None  # removal reasons only: high | review


CODES: tuple[Code, ...] = (
    Code("RECOGNIZE", "category", "应认定就业困难人员"),
    Code("OUTREACH", "category", "主动上门服务对象"),
    Code("DIBAO", "reason", "低保/低保边缘家庭成员"),
    Code("DISABLED", "reason", "持证残疾人"),
    Code("AGE_4050", "reason", "大龄（“4050”人员）"),
    Code("LONG_TERM_UNEMPLOYED", "reason", "长期失业人员"),
    Code("ZERO_EMPLOYMENT_HOUSEHOLD", "reason", "零就业家庭成员"),
    Code("EMPLOYED", "removal_reason", "已就业（单位职工参保缴费）", "high"),
    Code("FLEXIBLY_EMPLOYED", "removal_reason", "灵活就业缴费（需核实）", "review"),
    Code("RETIRED", "removal_reason", "已办理退休", "high"),
    Code("RETIREMENT_AGE", "removal_reason", "已达法定退休年龄（未见领取养老金）", "review"),
    Code("DECEASED", "removal_reason", "已死亡", "high"),
    Code("DUPLICATE", "removal_reason", "重复登记", "high"),
    Code("NO_WORK_CAPACITY", "removal_reason", "完全丧失劳动能力", "review"),
    Code("BASIS_ENDED", "removal_reason", "就业困难认定依据已消失（低保/残疾）", "review"),
    Code("unemployment", "roll", "登记失业人员名册"),
    Code("employment_difficulty", "roll", "就业困难人员名册"),
    Code("CONFIRMED", "household_status", "零就业家庭（已有成员登记失业）"),
    Code("POTENTIAL", "household_status", "疑似零就业家庭（待引导登记）"),
    Code("SI_SUBSIDY_FLEXIBLE", "entitlement", "就业困难人员社保补贴（灵活就业）"),
    Code("SI_SUBSIDY_EMPLOYER", "entitlement", "就业困难人员社保补贴（单位吸纳）"),
    Code("TEMP_LIVING_ALLOWANCE", "entitlement", "临时生活补贴"),
    Code("EMPLOYED", "dibao_finding", "单位就业"),
    Code("FLEXIBLY_EMPLOYED", "dibao_finding", "灵活就业"),
    Code("EMPLOYED", "disability_status", "单位就业"),
    Code("FLEXIBLY_EMPLOYED", "disability_status", "灵活就业"),
    Code("REGISTERED_UNEMPLOYED", "disability_status", "登记失业"),
    Code("RETIRED", "disability_status", "已退休"),
    Code("NOT_WORKING", "disability_status", "未就业"),
    Code("FLEXIBLE_ONLY", "household_risk", "唯一就业成员仅灵活就业"),
    Code("CONTRIBUTIONS_STOPPED", "household_risk", "唯一就业成员单位缴费已中断"),
    Code("high", "confidence", "高"),
    Code("review", "confidence", "需核实"),
    # A street office's visit to a person of the proactive list (SPEC section 6), as its 走访 sheet says it.
    Code("REGISTERED", "visit_outcome", "已登记"),
    Code("NO_NEED_NOW", "visit_outcome", "暂无需求"),
    Code("UNREACHABLE", "visit_outcome", "联系不上"),
    Code("MOVED_AWAY", "visit_outcome", "不在本辖区"),
    Code("RECORD_WRONG", "visit_outcome", "信息有误"),
)

# Each code's label in the first list that declares it (EMPLOYED reads as the removal reason).
LABELS: dict[str, str] = {c.code: c.label for c in reversed(CODES)}


def labels_of(kind: str) -> dict[str, str]:
    """The codes of one list (a `kind`), in declared order, with that list's labels."""
    return {c.code: c.label for c in CODES if c.kind == kind}


HIGH_CONFIDENCE_REMOVAL_REASONS: tuple[str, ...] = tuple(c.code for c in CODES if c.confidence == "high")
