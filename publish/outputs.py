"""The output files of a run, declared once: file name, the SQL that selects its rows, in SPEC order.

The publish asset writes exactly these CSV files for the case systems (SPEC section 5's columns
first, in its order; `evidence` and the like after them), the lists again as xlsx for people (one
sheet per category, Chinese headers and labels), and the manifest counts their rows.
"""

from dataclasses import dataclass

import polars as pl

from aidmatch.rules.codes import LABELS
from aidmatch.sources.tables import SOURCES


@dataclass(frozen=True)
class OutputFile:
    name: str  # file name without extension
    select_sql: str
    sheet_by: str | None = None  # a list: also written as xlsx, one sheet per value of this column


def _union(tables: str) -> str:
    return " UNION ALL ".join(f"SELECT * FROM {tables.format(source=s)}" for s in SOURCES)


_ROW = "TRY_CAST(regexp_extract(source_record, ':(\\d+)$', 1) AS INTEGER)"

PROACTIVE = OutputFile(
    "proactive",
    "SELECT person_id, name, sex, birth_date, category, reasons, sources, match_confidence, evidence "
    "FROM out_proactive ORDER BY category, person_id",
    sheet_by="category",
)
REMOVALS = OutputFile(
    "removals",
    "SELECT person_id, name, roll, reasons, confidence, source_record, evidence "
    "FROM out_removals ORDER BY roll, confidence, person_id, source_record",
    sheet_by="roll",
)
ZERO_EMPLOYMENT_HOUSEHOLDS = OutputFile(
    "zero_employment_households",
    "SELECT household_id, status, working_age_members, registered_unemployed_members, member_ids, evidence "
    "FROM out_zero_employment_households ORDER BY status, household_id",
    sheet_by="status",
)
ENTITLEMENTS = OutputFile(
    "entitlements",
    "SELECT person_id, name, entitlement, employer_id, employer_name, subsidy_until, confidence, evidence "
    "FROM out_entitlements ORDER BY entitlement, person_id, employer_id",
    sheet_by="entitlement",
)
PERSON_LINKS = OutputFile(
    "person_links",
    "SELECT source, source_record, person_id, method, score, evidence FROM core_person_links",
)
REVIEW_QUEUE = OutputFile(
    "review_queue",
    "SELECT source, source_record, candidate_person_id, score, evidence FROM core_review_queue "
    "ORDER BY score DESC, source, source_record",
)
QUARANTINE = OutputFile(
    "quarantine",
    "SELECT source, source_record, rule, value, message, action, source_file "
    f"FROM ({_union('quarantine_{source}')}) ORDER BY source, source_file, {_ROW}, source_record, rule",
)

LISTS: tuple[OutputFile, ...] = (PROACTIVE, REMOVALS, ZERO_EMPLOYMENT_HOUSEHOLDS, ENTITLEMENTS)
OUTPUT_FILES: tuple[OutputFile, ...] = (*LISTS, PERSON_LINKS, REVIEW_QUEUE, QUARANTINE)

# Chinese headers of the xlsx lists.
HEADERS: dict[str, str] = {
    "person_id": "公民身份号码",
    "name": "姓名",
    "sex": "性别",
    "birth_date": "出生日期",
    "category": "类别",
    "reasons": "原因",
    "sources": "数据来源",
    "match_confidence": "比对方式",
    "evidence": "比对依据",
    "roll": "名册",
    "confidence": "可信度",
    "source_record": "源记录（文件#工作表:行）",
    "household_id": "户编号",
    "status": "状态",
    "working_age_members": "劳动年龄成员数",
    "registered_unemployed_members": "登记失业成员数",
    "member_ids": "成员身份证号",
    "entitlement": "应享政策",
    "employer_id": "单位编号",
    "employer_name": "单位名称",
    "subsidy_until": "补贴期限至",
}

SOURCE_LABELS = {
    "unemployment": "登记失业",
    "dibao": "低保",
    "disability": "残联",
    "si_persons": "社保参保",
    "si_contributions": "社保缴费",
}
_CODE_COLUMNS = ("category", "reasons", "roll", "confidence", "status", "entitlement")


def labelled_for_people(frame: pl.DataFrame) -> pl.DataFrame:
    """Replace codes by their Chinese labels (multi-code cells joined by 、) for the xlsx lists."""
    labels = LABELS | SOURCE_LABELS | {"exact": "身份证号精确比对", "fuzzy": "含模糊比对"}

    def relabel(column: str) -> pl.Expr:
        return (
            pl.col(column)
            .cast(pl.String)
            .str.split(";")
            .list.eval(pl.element().replace(labels))
            .list.join("、")
        )

    columns = [c for c in (*_CODE_COLUMNS, "sources", "match_confidence") if c in frame.columns]
    return frame.with_columns(relabel(c) for c in columns)
