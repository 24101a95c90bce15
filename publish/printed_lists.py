"""The lists as people print and work them (SPEC section 5, "点对点"): what each workbook shows, in which
order, in Chinese.

Each list's workbook has one sheet per category (roll, status, entitlement), its rows grouped and sorted
by 区县, 街道 and 社区 with each street starting a new page, so a district can hand every street office its
pages (each street's own work is its work list, `street_work.py`). Cells people read are Chinese: codes become their labels (`rules/codes.py`), the evidence reads as sentences
(its codes and record references translated, one reason a line) — the CSVs keep the codes for machines.
The layout itself (title, page setup, typed cells) is `xlsx_files.py`.
"""

from dataclasses import dataclass

import duckdb
import polars as pl

from aidmatch.publish.xlsx_files import SheetColumn, TableSheet
from aidmatch.rules.codes import CODES, LABELS
from aidmatch.sources.tables import SOURCE_LABELS, SOURCES

MATCH_LABELS = {"exact": "精确", "fuzzy": "模糊"}
# Evidence parts are "CODE: text", joined by " | ". The LOCATION part (which record the contact columns
# came from) stays in the CSV: on paper its four lines a row would halve the rows a page holds.
_EVIDENCE_CODES = {c.code: c.label for c in CODES if c.kind in ("reason", "removal_reason")}
_NOT_PRINTED = "LOCATION: "
CONTACT_NOTE = "说明：区县、街道、社区、电话、地址为各部门数据中的最佳值，取自哪条记录见同名 CSV 文件 evidence 列的 LOCATION 部分。"


@dataclass(frozen=True)
class PrintedList:
    name: str  # the workbook's file name without extension, as the CSV's
    title: str  # 中文名称
    unit: str  # what a row is: 人, 条, 户
    sheet_by: str  # one sheet per value of this column (a code)
    select_sql: str  # the rows, in print order: grouped by area
    columns: tuple[SheetColumn, ...]  # what the page shows, in order; widths add up to the page
    notes: tuple[str, ...] = ()  # 说明 below each sheet's table


# Widths add up to about 150 units: A4 landscape holds 140 at 100%, so a page prints at 94% (9.4 pt) or
# more. IDs, phone numbers and dates get room for wide digits (a reader without 宋体 substitutes a wider
# font): they never break across lines.
_AREA = (
    SheetColumn("district", "区县", 7),
    SheetColumn("street", "街道", 10),
)
_PERSON = (
    *_AREA,
    SheetColumn("community", "社区", 8),
    SheetColumn("name", "姓名", 7),
    SheetColumn("person_id", "公民身份号码", 23, "id"),
)
_AREA_ORDER = "district NULLS LAST, street NULLS LAST"

PROACTIVE = PrintedList(
    "proactive",
    "主动发现名单",
    "人",
    "category",
    f"SELECT * FROM out_proactive ORDER BY category, {_AREA_ORDER}, community NULLS LAST, name, person_id",
    (
        SheetColumn("row_number", "序号", 5, "number"),
        *_PERSON,
        SheetColumn("sex", "性别", 5),
        SheetColumn("birth_date", "出生日期", 13, "date"),
        SheetColumn("phone", "联系电话", 15, "id"),
        SheetColumn("address", "居住地址", 16),
        SheetColumn("reasons", "原因", 12),
        SheetColumn("match_confidence", "比对", 5),
        SheetColumn("evidence", "依据", 24),
    ),
    (CONTACT_NOTE,),
)
REMOVALS = PrintedList(
    "removals",
    "应退出名单",
    "条",
    "roll",
    f"SELECT * FROM out_removals ORDER BY roll, {_AREA_ORDER}, community NULLS LAST, name, person_id, source_record",
    (
        SheetColumn("row_number", "序号", 5, "number"),
        *_PERSON,
        SheetColumn("phone", "联系电话", 15, "id"),
        SheetColumn("address", "居住地址", 16),
        SheetColumn("reasons", "退出原因", 12),
        SheetColumn("confidence", "可信度", 6),
        SheetColumn("source_record", "源记录", 14, "id"),
        SheetColumn("evidence", "依据", 25),
    ),
    (CONTACT_NOTE,),
)
ZERO_EMPLOYMENT_HOUSEHOLDS = PrintedList(
    "zero_employment_households",
    "零就业家庭名单",
    "户",
    "status",
    f"""SELECT *, array_to_string(list_transform(
            generate_series(1, len(ids)),
            lambda i: names[i] || CASE WHEN relations[i] <> '' THEN '（' || relations[i] || '）' ELSE '' END || ' ' || ids[i]
        ), chr(10)) AS members
    FROM (
        SELECT *, string_split(member_ids, ';') AS ids, string_split(member_names, ';') AS names,
            string_split(member_relations, ';') AS relations
        FROM out_zero_employment_households
    )
    ORDER BY status, {_AREA_ORDER}, household_id""",
    (
        SheetColumn("row_number", "序号", 5, "number"),
        *_AREA,
        SheetColumn("household_id", "户编号", 18, "id"),
        SheetColumn("working_age_members", "劳动年龄成员数", 8, "number"),
        SheetColumn("registered_unemployed_members", "登记失业成员数", 8, "number"),
        SheetColumn("members", "家庭成员（与户主关系）及身份证号", 40),
        SheetColumn("evidence", "认定依据", 52),
    ),
)
ENTITLEMENTS = PrintedList(
    "entitlements",
    "应享尽享名单",
    "条",
    "entitlement",
    f"SELECT * FROM out_entitlements ORDER BY entitlement, {_AREA_ORDER}, community NULLS LAST, name, person_id, "
    "employer_id, employer_name",
    (
        SheetColumn("row_number", "序号", 5, "number"),
        *_PERSON,
        SheetColumn("phone", "联系电话", 15, "id"),
        SheetColumn("address", "居住地址", 14),
        SheetColumn("employer_name", "吸纳单位", 12),
        SheetColumn("subsidy_until", "补贴期限至", 13, "date"),
        SheetColumn("confidence", "可信度", 6),
        SheetColumn("evidence", "依据", 25),
    ),
    (CONTACT_NOTE,),
)
PRINTED_LISTS: tuple[PrintedList, ...] = (PROACTIVE, REMOVALS, ZERO_EMPLOYMENT_HOUSEHOLDS, ENTITLEMENTS)


def source_records_for_people(text: pl.Expr) -> pl.Expr:
    """`dibao/东城区.xlsx#Sheet2:15` -> `低保 东城区.xlsx 工作表Sheet2 第15行`, wherever it occurs in the text."""
    for folder in SOURCES:
        label = SOURCE_LABELS[folder]
        text = text.str.replace_all(
            rf"{folder}/([^\[\]、；|#:]+)#([^\[\]、；|:]+):(\d+)", f"{label} ${{1}} 工作表${{2}} 第${{3}}行"
        ).str.replace_all(rf"{folder}/([^\[\]、；|#:]+):(\d+)", f"{label} ${{1}} 第${{2}}行")
    return text


def evidence_for_people(text: pl.Expr) -> pl.Expr:
    """The evidence in Chinese: "DIBAO: …" -> "低保/低保边缘家庭成员：…", one reason a line, records named
    as a steward says them, the contact columns' provenance left to the CSV. The codes stay in the CSV."""
    codes = sorted(_EVIDENCE_CODES, key=len, reverse=True)
    text = (
        text.str.split(" | ")
        .list.eval(pl.element().filter(~pl.element().str.starts_with(_NOT_PRINTED)))
        .list.join("\n")
        .str.replace_many([f"{code}: " for code in codes], [f"{_EVIDENCE_CODES[c]}：" for c in codes])
    )
    return source_records_for_people(text)


def labels_for_people(frame: pl.DataFrame) -> pl.DataFrame:
    """Codes replaced by their Chinese labels (several codes in a cell joined by 、), evidence and record
    references in Chinese, for the columns the frame has."""
    labels = LABELS | SOURCE_LABELS | MATCH_LABELS

    def relabel(column: str) -> pl.Expr:
        return (
            pl.col(column)
            .cast(pl.String)
            .str.split(";")
            .list.eval(pl.element().replace(labels))
            .list.join("、")
        )

    coded = [
        c for c in ("category", "reasons", "roll", "confidence", "status", "sources", "match_confidence")
    ]
    return frame.with_columns(
        *(relabel(c) for c in coded if c in frame.columns),
        *(evidence_for_people(pl.col(c)) for c in ("evidence",) if c in frame.columns),
        *(source_records_for_people(pl.col(c)) for c in ("source_record",) if c in frame.columns),
    )


def area_of(frame: pl.DataFrame, area_name: str | None) -> str:
    """The area a set of rows covers, for a title: one district (and street) names itself, else the
    configured area, else "全部区县"."""
    districts = frame["district"].unique().to_list() if frame.height else []
    if len(districts) == 1 and districts[0] is not None:
        streets = frame["street"].unique().to_list() if "street" in frame.columns else []
        return " ".join([districts[0], *(streets if len(streets) == 1 and streets[0] is not None else [])])
    return area_name or "全部区县"


def list_sheets(
    printed: PrintedList, frame: pl.DataFrame, as_of: str, area_name: str | None
) -> list[TableSheet]:
    """The sheets of one list's workbook: one per category, in the order `rules/codes.py` lists them, each
    street on its own pages. An empty list still gets one sheet, saying so."""
    codes = [c.code for c in CODES]
    parts = dict(
        sorted(
            frame.partition_by(printed.sheet_by, as_dict=True, maintain_order=True).items(),
            key=lambda item: codes.index(item[0][0]) if item[0][0] in codes else len(codes),
        )
    ) or {("（无）",): frame}
    sheets = []
    for (code,), part in parts.items():
        label = LABELS.get(code, code)
        rows = labels_for_people(part).with_row_index("row_number", offset=1)
        title = (
            f"{printed.title}·{label}　区域：{area_of(part, area_name)}　数据截至：{as_of}"
            f"　共 {part.height} {printed.unit}"
        )
        sheets.append(
            TableSheet(
                name=label,
                title=title,
                columns=printed.columns,
                frame=rows,
                page_header=f"{printed.title}·{label}",
                as_of=as_of,
                page_break_by=("district", "street"),
                notes=printed.notes,
            )
        )
    return sheets


def list_frames(con: duckdb.DuckDBPyConnection) -> dict[str, pl.DataFrame]:
    """Each printed list's rows in print order, with the codes still as codes."""
    return {printed.name: con.sql(printed.select_sql).pl() for printed in PRINTED_LISTS}
