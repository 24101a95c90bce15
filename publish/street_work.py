"""走访任务单: each street office's work, every run — `by_street/<区县>_<街道>.xlsx` (SPEC section 5, "Work for
each street office"; section 6, "The proactive list ends in a visit").

A street office does not work the city's lists: it gets, every night, one workbook of what it has to do —
- `说明`: what the workbook is and what to do with it, in plain Chinese;
- `走访`: the people of the proactive list to visit, each saying why they are there: 新增 (on the list since
  the period began), 待走访 (listed before, not visited yet), 复访到期 (the last outcome's review date has
  come), 情况变化 (a category or a reason the worker did not see); a person visited leaves it until then
  (`decisions/visits.py`);
- `核实退出`: the registrations of the removal list to verify (confidence review);
- `政策兑现`: the entitlements new in the period, to pay or tell the person about;
- `预警家庭`: the households one job away from zero (零就业家庭预警, `partner_lists.py`), to watch and help;
each with the person's community, name, 公民身份号码, phone and address, one short line of why, and the
columns a worker fills — 走访日期, 结果 (a drop-down), 说明, 经办人 — on a protected sheet. The 走访 and 核实退出
sheets are forms: a filled copy dropped into the decisions folder is read by the next run
(`decisions/forms.py`: the visit form, and the removal form under the street's headers 结果 and 说明); the
hidden columns marked 勿改 name what a row was about (not printed: a worker needs none of them). 政策兑现's
results stay with the office.

The period is the progress table's (`publish.progress_period_start_day`; `progress.reporting_period`): new
means not on the list the last run published before the period began (the baseline). A further sheet plugs
in as one more `WorkSheet` in `WORK_SHEETS`, its rows carrying district and street. What does not belong here: the lists' own workbooks (`printed_lists.py`), the layout
(`xlsx_files.py`).
"""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import duckdb
import polars as pl

from aidmatch.decisions.forms import REMOVAL_FORM, ROLL_LABELS, VISIT_FORM
from aidmatch.decisions.settings import VisitSettings
from aidmatch.publish.csv_files import published_csv
from aidmatch.publish.evidence_lines import reason_line, review_line
from aidmatch.publish.partner_lists import HOUSEHOLDS_AT_RISK, households_at_risk_labels
from aidmatch.publish.printed_lists import address_detail
from aidmatch.publish.progress import Period
from aidmatch.publish.xlsx_files import SheetColumn, TableSheet
from aidmatch.rules.codes import CODES, LABELS

STREETS_FOLDER = "by_street"
TITLE = "走访任务单"
VISIT_OUTCOME_LABELS = tuple(c.label for c in CODES if c.kind == "visit_outcome")
# What a street office records about a new entitlement, or a household at risk: for its own records, not
# read back.
ENTITLEMENT_RESULTS = ("已告知", "已兑现", "联系不上", "信息有误")
WATCH_RESULTS = ("已走访", "已帮扶", "联系不上", "信息有误")
# Why a person is on the 走访 sheet tonight (proactive_visits' status, or none: never visited).
WORK_STATUS_LABELS = {
    "NEW": "新增",
    "PENDING": "待走访",
    "REVISIT_DUE": "复访到期",
    "EVIDENCE_CHANGED": "情况变化",
}
CATEGORY_SHORT = {"RECOGNIZE": "认定", "OUTREACH": "上门"}
# An entitlement in few words, for a narrow column (its full name is rules/codes.py's label).
ENTITLEMENT_SHORT = {
    "SI_SUBSIDY_FLEXIBLE": "灵活就业社保补贴",
    "SI_SUBSIDY_EMPLOYER": "单位吸纳社保补贴",
    "TEMP_LIVING_ALLOWANCE": "临时生活补贴",
}


def why_line(codes: pl.Expr) -> pl.Expr:
    """Codes (`;`-joined) as their Chinese labels, joined by 、: a reason that is new, a new entitlement. A
    row's own why is the printed lists' short line (`evidence_lines`), as its list prints it."""
    return codes.str.split(";").list.eval(pl.element().replace(LABELS)).list.join("、")


def _fill_in(result_choices: tuple[str, ...]) -> tuple[SheetColumn, ...]:
    """The columns a worker fills (SPEC section 5): 走访日期, 结果 (a drop-down), 说明, 经办人."""
    return (
        SheetColumn("visited_on", "走访日期", 10, "date", fill_in=True),
        # as wide as its longest choice (a CJK character takes 10 pt, a unit 6)
        SheetColumn(
            "result", "结果", 1 + max(map(len, result_choices)) * 5 / 3, fill_in=True, choices=result_choices
        ),
        SheetColumn("note", "说明", 12, fill_in=True),
        SheetColumn("visited_by", "经办人", 7, fill_in=True),
    )


# The phone above the address in one cell: a row is two lines tall anyway (room to write by hand), and a
# column less leaves the line of why room to stay on one or two.
_PERSON = (
    SheetColumn("row_number", "序号", 4, "number"),
    SheetColumn("community", "社区", 8),
    SheetColumn("name", "姓名", 7),
    SheetColumn("person_id", "公民身份号码", 21, "id"),
    SheetColumn("contact", "电话及地址", 15, "id"),
)


def _contact() -> pl.Expr:
    """电话及地址: the phone, then the address past the row's own 社区 (printed_lists.address_detail)."""
    return pl.concat_str(
        pl.col("phone"), address_detail(pl.col("address")), separator="\n", ignore_nulls=True
    )


_IN_PRINT_ORDER = "ORDER BY district NULLS LAST, street NULLS LAST, community NULLS LAST, name, person_id"


def _previous(period: Period, name: str, columns: str) -> str:
    """The baseline run's rows of a list (its CSV), or none when there is no baseline."""
    path = period.baseline / f"{name}.csv" if period.baseline else None
    if path is None or not path.is_file():
        return f"SELECT {', '.join(f'NULL::VARCHAR AS {c.strip()}' for c in columns.split(','))} WHERE false"
    return f"SELECT {columns} FROM {published_csv(path)}"


@dataclass(frozen=True)
class WorkSheet:
    """One sheet of every street's work list: its rows for the whole city, split by street when written."""

    name: str  # the sheet's tab
    unit: str  # what a row is: 人, 条
    rows: Callable[[Period], str]  # SQL: the city's rows, with district, street, community, in print order
    columns: tuple[SheetColumn, ...]  # what the page shows, in order; shown widths add up to about 150
    labels: Callable[[pl.DataFrame], pl.DataFrame]  # the columns people read, from the rows
    notes: tuple[str, ...] = ()


def _visit_rows(period: Period) -> str:
    """The proactive rows to visit: never visited (new since the baseline, else pending), or an outcome
    whose review date has come or whose evidence changed."""
    return f"""
    WITH previous AS ({_previous(period, "proactive", "person_id, category")})
    SELECT p.district, p.street, p.community, p.name, p.person_id, p.phone, p.address, p.category, p.reasons,
           p.evidence, p.category || ':' || p.reasons AS basis,
           CASE v.status
               WHEN 'expired' THEN 'REVISIT_DUE'
               WHEN 'evidence_changed' THEN 'EVIDENCE_CHANGED'
               ELSE CASE WHEN b.person_id IS NULL THEN 'NEW' ELSE 'PENDING' END
           END AS work_status,
           v.outcome, v.visited_on AS last_visit, v.visited_category, array_to_string(v.new_reasons, ';') AS new_reasons
    FROM out_proactive AS p
    LEFT JOIN proactive_visits AS v USING (person_id)
    LEFT JOIN previous AS b ON b.person_id = p.person_id AND b.category = p.category
    WHERE v.status IS DISTINCT FROM 'applied'
    {_IN_PRINT_ORDER}"""


def _visit_labels(frame: pl.DataFrame) -> pl.DataFrame:
    """列入情形 with what changed or which outcome came due; 原因 the category and reasons in short."""
    status = pl.col("work_status").replace_strict(WORK_STATUS_LABELS, return_dtype=pl.String)
    due = pl.format("（{} {}）", pl.col("last_visit").cast(pl.String), pl.col("outcome").replace(LABELS))
    new_category = pl.col("visited_category") != pl.col("category")
    changed = (
        pl.when(new_category)
        .then(pl.format("（类别原为{}）", pl.col("visited_category").replace(LABELS)))
        .otherwise(pl.format("（新增：{}）", why_line(pl.col("new_reasons"))))
    )
    situation = (
        pl.when(pl.col("work_status") == "REVISIT_DUE")
        .then(pl.concat_str(status, due))
        .when(pl.col("work_status") == "EVIDENCE_CHANGED")
        .then(pl.concat_str(status, changed))
        .otherwise(status)
    )
    short = pl.concat_str(
        pl.col("category").replace_strict(CATEGORY_SHORT, return_dtype=pl.String),
        pl.lit("："),
        reason_line(pl.col("evidence")),
    )
    return frame.with_columns(situation=situation, why=short, contact=_contact())


_VISIT_FIELDS = {f.key: f.header for f in VISIT_FORM.fields}
VISITS = WorkSheet(
    "走访",
    "人",
    _visit_rows,
    (
        *_PERSON,
        SheetColumn("situation", "列入情形", 12),
        SheetColumn("why", "原因", 26),
        *_fill_in(VISIT_OUTCOME_LABELS),
        SheetColumn("basis", _VISIT_FIELDS["basis"], 20, "id", hidden=True),
    ),
    _visit_labels,
)


def _removal_rows(_period: Period) -> str:
    """The removals a case worker verifies (confidence review), with what names each in a decision."""
    return f"""
    SELECT r.district, r.street, r.community, r.name, r.person_id, r.phone, r.address, r.roll, r.reasons,
           r.evidence, k.record_key, k.basis
    FROM out_removals AS r JOIN decision_removal_keys AS k USING (source_record, roll)
    WHERE r.confidence = 'review'
    {_IN_PRINT_ORDER}, r.roll, r.source_record"""


def _removal_labels(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        roll_label=pl.col("roll").replace_strict(ROLL_LABELS, return_dtype=pl.String),
        why=reason_line(pl.col("evidence")),
        contact=_contact(),
        valid_until=pl.lit(None, pl.Date),
    )


_REMOVAL_FIELDS = {f.key: f.header for f in REMOVAL_FORM.fields}
REMOVALS_TO_VERIFY = WorkSheet(
    "核实退出",
    "条",
    _removal_rows,
    (
        *_PERSON,
        SheetColumn("roll_label", _REMOVAL_FIELDS["roll"], 9),
        SheetColumn("why", "原因", 22),
        *_fill_in(tuple(w for w in REMOVAL_FORM.decisions if not w.isascii())),
        SheetColumn("valid_until", _REMOVAL_FIELDS["valid_until"], 11, "date", fill_in=True),
        SheetColumn("record_key", _REMOVAL_FIELDS["record_key"], 18, "id", hidden=True),
        SheetColumn("basis", _REMOVAL_FIELDS["basis"], 18, "id", hidden=True),
    ),
    _removal_labels,
)


def _entitlement_rows(period: Period) -> str:
    """The entitlements that are new in the period: not on the baseline run's list (changes.csv's key)."""
    key = "person_id || '|' || entitlement || '|' || coalesce(employer_id, employer_name, '')"
    return f"""
    WITH previous AS ({_previous(period, "entitlements", "person_id, entitlement, employer_id, employer_name")})
    SELECT e.district, e.street, e.community, e.name, e.person_id, e.phone, e.address, e.entitlement,
           e.employer_name, e.subsidy_until, e.evidence
    FROM out_entitlements AS e
    WHERE {key} NOT IN (SELECT {key} FROM previous WHERE person_id IS NOT NULL)
    {_IN_PRINT_ORDER}, e.entitlement, e.employer_id"""


def _entitlement_labels(frame: pl.DataFrame) -> pl.DataFrame:
    """待遇及要点: the entitlement in few words, then what paying it needs — the employer, the period's end,
    what to verify first (临时生活补贴；需核实：低保记录为完全丧失劳动能力)."""
    why = pl.concat_str(
        pl.col("entitlement").replace_strict(ENTITLEMENT_SHORT, return_dtype=pl.String),
        pl.col("employer_name"),
        pl.format("至{}", pl.col("subsidy_until").cast(pl.String)),
        review_line(pl.col("evidence")),
        separator="；",
        ignore_nulls=True,
    )
    return frame.with_columns(why=why, contact=_contact())


NEW_ENTITLEMENTS = WorkSheet(
    "政策兑现",
    "条",
    _entitlement_rows,
    (
        *_PERSON,
        SheetColumn("why", "待遇及要点", 30),
        *_fill_in(ENTITLEMENT_RESULTS),
    ),
    _entitlement_labels,
)

HOUSEHOLDS_TO_WATCH = WorkSheet(
    "预警家庭",
    "户",
    lambda _period: HOUSEHOLDS_AT_RISK.select_sql,
    (
        SheetColumn("row_number", "序号", 4, "number"),
        SheetColumn("household_id", "户编号", 18, "id"),
        SheetColumn("members", "家庭成员（与户主关系）及身份证号", 40),
        SheetColumn("summary", "预警说明", 44),
        *_fill_in(WATCH_RESULTS),
    ),
    households_at_risk_labels,
    (
        "这些低保家庭只有一名成员就业且就业不稳定，一旦失去工作即成为零就业家庭：请上门了解，提前提供岗位信息和就业服务。",
    ),
)

# The sheets every street's work list holds after its 说明, in this order.
WORK_SHEETS: tuple[WorkSheet, ...] = (VISITS, REMOVALS_TO_VERIFY, NEW_ENTITLEMENTS, HOUSEHOLDS_TO_WATCH)


def work_frames(con: duckdb.DuckDBPyConnection, period: Period) -> dict[str, pl.DataFrame]:
    """Each work sheet's rows for the whole city, in print order, labelled for people."""
    return {sheet.name: sheet.labels(con.sql(sheet.rows(period)).pl()) for sheet in WORK_SHEETS}


def streets_of(
    con: duckdb.DuckDBPyConnection, frames: dict[str, pl.DataFrame]
) -> list[tuple[str | None, str | None]]:
    """Every street with a person on the proactive list (its 走访 sheet may be empty: all visited) or a row
    on a work sheet, in order of district and street (an unplaced person's last)."""
    listed = con.sql("SELECT DISTINCT district, street FROM out_proactive").fetchall()
    keys = set(listed) | {
        key for frame in frames.values() for key in frame.select("district", "street").unique().iter_rows()
    }
    return sorted(keys, key=lambda key: (key[0] is None, key[0] or "", key[1] is None, key[1] or ""))


_UNSAFE_IN_FILE_NAME = re.compile(r"[^\w\u00b7-]+")


def street_file_name(district: str | None, street: str | None) -> str:
    """`东城区_东华门街道`: a file name from data, with nothing but word characters, · and - in it."""
    parts = [district or "区县不详", street or "街道不详"]
    return "_".join(_UNSAFE_IN_FILE_NAME.sub("_", part)[:40] for part in parts)


def _guide(area: str, period: Period, visits: VisitSettings) -> list[str]:
    """The 说明 sheet's lines: what the workbook is and what to do with it."""
    months = {LABELS[code]: n for code, n in visits.months().items()}
    review = "、".join(f"{label} {n} 个月后" for label, n in months.items())
    return [
        f"本工作簿是{area}本期（{period.start} 至 {period.as_of}）的走访任务单，由就业援助大数据比对每晚生成，"
        "供街道、社区逐户走访（点对点）。每次生成的都是最新任务，请以最新一份为准。",
        "“走访”表：主动发现名单中本街道需要走访的人员。列入情形：新增——本期新列入名单；待走访——以前已列入、尚未走访；"
        "复访到期——上次走访结果的复访日期已到；情况变化——上次走访后名单类别或原因有了变化。原因中“认定”为已登记失业、"
        "可申请认定就业困难人员的人员，“上门”为未登记失业、需上门了解就业需求的人员。",
        "走访后在黄色各列填写：走访日期；结果，从下拉列表选择 已登记（已办理失业登记或已申请认定）、暂无需求、联系不上、"
        "不在本辖区、信息有误；说明，选“信息有误”时必须写明哪里有误；经办人。",
        f"填写的结果在下次运行时生效：已走访的人员离开“走访”表，{review}重新列入；"
        "在此之前名单类别或原因有变化的，立即重新列入并注明“情况变化”。“信息有误”及其说明将反馈给提供该记录的部门核实更正。",
        "“核实退出”表：应退出名单中需要核实的登记。核实后在“结果”选择 保留（仍在求职等，须填写有效期至）或 退出，"
        "并在“说明”中写明理由。保留的登记在有效期内、且退出依据不变时不再列入应退出名单。",
        "“政策兑现”表：本期新出现的应享待遇（直补快办）：请告知本人或协助兑现；此表结果供街道留存，系统不读取。",
        "“预警家庭”表：只有一名成员就业、且就业不稳定的城市低保家庭（零就业家庭预警）：请跟踪了解，提前帮扶稳定就业；"
        "此表结果供街道留存，系统不读取。",
        "填好后将本工作簿交回区县人社部门，放入决定文件夹（文件名可改）；请勿修改表头和标有“勿改”的列，"
        "系统按表头名称读取，插入的列不影响读取。有问题的行（如结果不在下拉列表中、缺少走访日期、身份证号对不上任何人）"
        "不生效，在当晚的 decisions_applied.csv 中列明原因，改正后再交即可。",
        "各表已保护，只能在黄色列中填写；联系电话、地址为各部门数据中的最佳值，如有出入请在“说明”中注明。",
    ]


def street_work_workbooks(
    frames: dict[str, pl.DataFrame],
    streets: list[tuple[str | None, str | None]],
    period: Period,
    visits: VisitSettings,
) -> Iterator[tuple[str, list[TableSheet]]]:
    """(path under the published folder, sheets) of each street's work list."""
    as_of = period.as_of.isoformat()
    by_street = {
        name: frame.partition_by("district", "street", as_dict=True, maintain_order=True)
        for name, frame in frames.items()
    }
    for district, street in streets:
        area = " ".join(part for part in (district or "区县不详", street or "街道不详"))
        heading = f"{TITLE}·{{}}　{area}　本期：{period.start} 至 {as_of}　数据截至：{as_of}"
        # Paragraphs numbered in their text: the guide is to read, not a roster of rows.
        lines = [f"{number}. {line}" for number, line in enumerate(_guide(area, period, visits), start=1)]
        sheets = [
            TableSheet(
                name="说明",
                title=heading.format("说明"),
                columns=(SheetColumn("line", "说明", 150),),
                frame=pl.DataFrame({"line": lines}),
                page_header=f"{TITLE}·说明　{area}",
                as_of=as_of,
            )
        ]
        for sheet in WORK_SHEETS:
            empty = frames[sheet.name].clear()
            rows = by_street[sheet.name].get((district, street), empty).with_row_index("row_number", offset=1)
            sheets.append(
                TableSheet(
                    name=sheet.name,
                    title=f"{heading.format(sheet.name)}　共 {rows.height} {sheet.unit}",
                    columns=sheet.columns,
                    frame=rows.with_columns(
                        pl.lit(None, pl.String).alias(c.key)
                        for c in sheet.columns
                        if c.fill_in and c.key not in rows.columns
                    ),
                    page_header=f"{TITLE}·{sheet.name}　{area}",
                    as_of=as_of,
                    notes=sheet.notes if rows.height else ("本期无此项任务。", *sheet.notes),
                    protected=True,
                )
            )
        yield f"{STREETS_FOLDER}/{street_file_name(district, street)}.xlsx", sheets
