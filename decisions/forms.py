"""The decision forms, declared once: their columns (Chinese headers for people, English for systems) and
the decisions each accepts.

- **Review form** (`review_queue.xlsx`, 审核决定): one row per review-queue pair; 决定 确认 (confirm: the
  record is this candidate) or 否决 (reject: it is not — never propose this candidate for it again).
- **Removal form** (`removal_decisions.xlsx`, 退出核实决定, and the 核实退出 sheet of a street's work list,
  where 决定 is headed 结果 and 理由 说明): one row per removal (registration × roll); 保留 (keep on the roll
  until 有效期至, or until the removal's basis changes) or 退出 (the removal is confirmed; recorded, nothing
  else changes).
- **Visit form** (the 走访 sheet of a street's work list, `by_street/<区县>_<街道>.xlsx`): one row per person
  of the proactive list to visit; 结果 is the visit's outcome (SPEC section 6) — 已登记, 暂无需求, 联系不上,
  不在本辖区 or 信息有误 — with 走访日期, 说明 (what is wrong, for 信息有误) and 经办人.

A filled copy of any of them, or a CSV with the English headers (for systems that write decisions), dropped
into the decisions folder is read by the next run. The publish step writes the forms; `intake.py` reads
them back, finding each column by its header (Chinese or English, wherever people moved it). The columns a
decision needs are marked `required`; the others are there for people.
"""

from dataclasses import dataclass

from aidmatch.rules.codes import CODES


@dataclass(frozen=True)
class Field:
    key: str  # the CSV header for systems, and the column name in DuckDB
    header: str  # the xlsx header for people
    required: bool = False
    aliases: tuple[str, ...] = ()  # other headers read as this column (a street sheet's, a system's)

    @property
    def headers(self) -> tuple[str, ...]:
        """Every header this column is found under."""
        return (self.header, self.key, *self.aliases)


@dataclass(frozen=True)
class Form:
    kind: str  # link | keep
    file_name: str  # what the publish step writes (without extension)
    sheet: str
    fields: tuple[Field, ...]
    decisions: dict[str, str]  # accepted word (Chinese or English) -> decision code

    @property
    def decision_fields(self) -> tuple[str, ...]:
        """The columns people fill in."""
        return tuple(f.key for f in self.fields if f.key in DECISION_KEYS)


SOURCE = Field("source", "来源", required=True)
RECORD_KEY = Field("record_key", "记录键（勿改）", required=True)
# A street office's 核实退出 sheet heads 决定 and 理由 as its 走访 sheet does: 结果 and 说明.
DECISION = Field("decision", "决定", required=True, aliases=("结果",))
REASON = Field("reason", "理由", required=True, aliases=("说明",))
DECIDED_BY = Field("decided_by", "经办人")
VALID_UNTIL = Field("valid_until", "有效期至")
VISITED_ON = Field("visited_on", "走访日期")
DECISION_KEYS = ("decision", "reason", "decided_by", "valid_until", "visited_on")

REVIEW_FORM = Form(
    "link",
    "review_queue",
    "审核决定",
    (
        SOURCE,
        Field("source_record", "源记录"),
        Field("record_id", "记录证件号码"),
        Field("record_name", "记录姓名"),
        Field("record_sex", "记录性别"),
        Field("record_birth_date", "记录出生日期"),
        Field("candidate_person_id", "候选人公民身份号码", required=True),
        Field("candidate_name", "候选人姓名"),
        Field("score", "得分"),
        Field("evidence", "比对依据"),
        RECORD_KEY,
        DECISION,
        REASON,
        DECIDED_BY,
    ),
    {"确认": "confirm", "confirm": "confirm", "否决": "reject", "reject": "reject"},
)

REMOVAL_FORM = Form(
    "keep",
    "removal_decisions",
    "退出核实决定",
    (
        Field("roll", "名册", required=True),
        Field("person_id", "公民身份号码"),
        Field("name", "姓名"),
        Field("reasons", "原因"),
        Field("source_record", "源记录"),
        Field("evidence", "依据"),
        Field("basis", "核实依据（勿改）", required=True),
        RECORD_KEY,
        DECISION,
        REASON,
        DECIDED_BY,
        VALID_UNTIL,
    ),
    {"保留": "keep", "keep": "keep", "退出": "exit", "exit": "exit"},
)

# 结果 of a visit: the outcome's Chinese label (what the drop-down offers) or its code (a system's CSV).
VISIT_OUTCOMES: dict[str, str] = {c.label: c.code for c in CODES if c.kind == "visit_outcome"}
VISIT_FORM = Form(
    "visit",
    "by_street",
    "走访",
    (
        Field("person_id", "公民身份号码", required=True),
        # what the person was listed for when visited: <category>:<reasons> as proactive.csv has them
        Field("basis", "走访依据（勿改）", required=True),
        Field("decision", "结果", required=True, aliases=("outcome",)),
        Field("visited_on", "走访日期"),
        Field("reason", "说明", aliases=("note",)),
        Field("decided_by", "经办人", aliases=("visited_by",)),
    ),
    VISIT_OUTCOMES | {code: code for code in VISIT_OUTCOMES.values()},
)

FORMS: tuple[Form, ...] = (REVIEW_FORM, REMOVAL_FORM, VISIT_FORM)

# Labels people see for codes that a form carries, read back as the codes.
ROLL_LABELS = {"unemployment": "登记失业", "employment_difficulty": "就业困难人员"}
