"""The output files of a run: file name and the SQL that selects its rows, from the tables' declarations.

The publish asset writes exactly these CSV files for the case systems — each table's published columns
in their declared order (`aidmatch.tables.catalog`: SPEC section 5's columns first, `evidence` and the like
after them) — the lists again as xlsx for people (one sheet per category, Chinese headers and labels),
and the manifest counts their rows.
"""

from dataclasses import dataclass

import polars as pl

from aidmatch.rules.codes import LABELS
from aidmatch.sources.tables import SOURCES
from aidmatch.tables.catalog import (
    CORE_PERSON_LINKS,
    CORE_REVIEW_QUEUE,
    OUT_ENTITLEMENTS,
    OUT_PROACTIVE,
    OUT_REMOVALS,
    OUT_ZERO_EMPLOYMENT_HOUSEHOLDS,
    QUARANTINE,
    Table,
)


@dataclass(frozen=True)
class OutputFile:
    name: str  # file name without extension
    select_sql: str
    sheet_by: str | None = None  # a list: also written as xlsx, one sheet per value of this column


def _union(tables: str) -> str:
    return " UNION ALL ".join(f"SELECT * FROM {tables.format(source=s)}" for s in SOURCES)


def csv_select(table: Table, rows: str | None = None) -> str:
    """The SELECT of a table's CSV file: its published columns in declared order, its rows in `csv_order`
    (from `rows`, a relation, when the table is not one table of the run database)."""
    columns = ", ".join(c.name for c in table.published)
    order = f" ORDER BY {table.csv_order}" if table.csv_order else ""
    return f"SELECT {columns} FROM {rows or table.name}{order}"


PROACTIVE = OutputFile("proactive", csv_select(OUT_PROACTIVE), sheet_by="category")
REMOVALS = OutputFile("removals", csv_select(OUT_REMOVALS), sheet_by="roll")
ZERO_EMPLOYMENT_HOUSEHOLDS = OutputFile(
    "zero_employment_households", csv_select(OUT_ZERO_EMPLOYMENT_HOUSEHOLDS), sheet_by="status"
)
ENTITLEMENTS = OutputFile("entitlements", csv_select(OUT_ENTITLEMENTS), sheet_by="entitlement")
PERSON_LINKS = OutputFile("person_links", csv_select(CORE_PERSON_LINKS))
REVIEW_QUEUE = OutputFile("review_queue", csv_select(CORE_REVIEW_QUEUE))
QUARANTINE_FILE = OutputFile("quarantine", csv_select(QUARANTINE, f"({_union('quarantine_{source}')})"))

LISTS: tuple[OutputFile, ...] = (PROACTIVE, REMOVALS, ZERO_EMPLOYMENT_HOUSEHOLDS, ENTITLEMENTS)
OUTPUT_FILES: tuple[OutputFile, ...] = (*LISTS, PERSON_LINKS, REVIEW_QUEUE, QUARANTINE_FILE)

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
