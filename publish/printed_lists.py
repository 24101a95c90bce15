"""The lists as people print and work them (SPEC section 5, "点对点"): what each workbook shows, in which
order, in Chinese.

Each list's workbook has one sheet per category (roll, status, entitlement), its rows grouped and sorted
by 区县, 街道 and 社区 with each street starting a new page, so a district can hand every street office its
pages (each street's own work is its work list, `street_work.py`). A printed list is a roster: a row a
person (or household), on one or two lines — at least 15 rows an A4 page. So cells people read are Chinese
and short: codes become their labels (`rules/codes.py`), the evidence is one short line of why
(`evidence_lines.py`: 低保（城市低保）；大龄（女46岁）), the address is what follows the row's own 社区 (or 街道,
区县) in it — the CSVs keep the codes, the whole evidence and the whole address. A sheet leaves out the
columns its rows never fill (an allowance has no employer).
The layout itself (widths from the content, heights, page setup, typed cells) is `xlsx_files.py`.
"""

from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import polars as pl

from aidmatch.publish.evidence_lines import entitlement_line, household_line, reason_line
from aidmatch.publish.xlsx_files import SheetColumn, TableSheet
from aidmatch.rules.codes import CODES, LABELS
from aidmatch.sources.tables import SOURCE_LABELS, SOURCES

MATCH_LABELS = {"exact": "精确", "fuzzy": "模糊"}
# Evidence parts are "CODE: text", joined by " | ". The LOCATION part (which record the contact columns
# came from) stays in the CSV.
_EVIDENCE_CODES = {c.code: c.label for c in CODES if c.kind in ("reason", "removal_reason")}
_NOT_PRINTED = "LOCATION: "
CONTACT_NOTE = (
    "说明：区县、街道、社区、电话、地址为各部门数据中的最佳值，地址只列社区（街道）以下部分；完整地址及其取自哪条记录、"
    "完整的认定依据见同名 CSV 文件（address、evidence 列）。"
)


@dataclass(frozen=True)
class PrintedList:
    name: str  # the workbook's file name without extension, as the CSV's
    title: str  # 中文名称
    unit: str  # what a row is: 人, 条, 户
    sheet_by: str  # one sheet per value of this column (a code)
    select_sql: str  # the rows, in print order: grouped by area
    columns: tuple[SheetColumn, ...]  # what the page shows, in order (widths: the most each takes)
    why: Callable[[], pl.Expr]  # the short line of why, from the CSV's columns (evidence_lines.py)
    notes: tuple[str, ...] = ()  # 说明 below each sheet's table
    optional: tuple[str, ...] = ()  # columns left out of a sheet whose rows leave them all empty


# Declared widths are the most a column takes (Excel units, 6 pt each: a CJK character takes 1.7); the
# columns are sized to their content within an A4 landscape page at 100% (`xlsx_files.column_widths`).
_AREA = (
    SheetColumn("district", "区县", 7),
    SheetColumn("street", "街道", 10),
)
_PERSON = (
    *_AREA,
    SheetColumn("community", "社区", 9),
    SheetColumn("name", "姓名", 7),
    SheetColumn("person_id", "公民身份号码", 21, "id"),
)
_CONTACT = (
    SheetColumn("phone", "联系电话", 13, "id"),
    SheetColumn("address", "地址", 22),
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
        SheetColumn("sex", "性别", 4),
        *_CONTACT,
        SheetColumn("match_confidence", "比对", 4),
        SheetColumn("why", "原因及依据", 40),
    ),
    lambda: reason_line(pl.col("evidence")),
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
        *_CONTACT,
        SheetColumn("confidence", "可信度", 6),
        SheetColumn("why", "退出原因及依据", 40),
    ),
    lambda: reason_line(pl.col("evidence")),
    (CONTACT_NOTE,),
)
ZERO_EMPLOYMENT_HOUSEHOLDS = PrintedList(
    "zero_employment_households",
    "零就业家庭名单",
    "户",
    "status",
    # Members two to a line: 姓名（与户主关系）身份证号 (a space where the relation is not known), separated by
    # an ideographic space.
    f"""SELECT *, array_to_string(list_transform(
            generate_series(1, len(people), 2),
            lambda i: people[i] || CASE WHEN i < len(people) THEN '　' || people[i + 1] ELSE '' END
        ), chr(10)) AS members
    FROM (
        SELECT *, list_transform(
            generate_series(1, len(ids)),
            lambda i: names[i] || CASE WHEN relations[i] <> '' THEN '（' || relations[i] || '）' ELSE ' ' END || ids[i]
        ) AS people
        FROM (
            SELECT *, string_split(member_ids, ';') AS ids, string_split(member_names, ';') AS names,
                string_split(member_relations, ';') AS relations
            FROM out_zero_employment_households
        )
    )
    ORDER BY status, {_AREA_ORDER}, household_id""",
    (
        SheetColumn("row_number", "序号", 5, "number"),
        *_AREA,
        SheetColumn("household_id", "户编号", 16, "id"),
        SheetColumn("working_age_members", "劳动年龄\n成员数", 5, "number"),
        SheetColumn("registered_unemployed_members", "登记失业\n成员数", 5, "number"),
        SheetColumn("members", "家庭成员（与户主关系）及身份证号", 66),
        SheetColumn("why", "认定依据", 14),
    ),
    lambda: household_line(pl.col("evidence")),
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
        *_CONTACT,
        SheetColumn("employer_name", "吸纳单位", 16),
        SheetColumn("subsidy_until", "补贴期限至", 11, "date"),
        SheetColumn("why", "依据", 32),
    ),
    lambda: entitlement_line(pl.col("entitlement"), pl.col("evidence")),
    (CONTACT_NOTE,),
    optional=("employer_name", "subsidy_until"),
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


def address_detail(address: pl.Expr) -> pl.Expr:
    """What an address says past the row's own 社区 (else 街道, else 区县), which its columns print beside it:
    北京市海淀区中关村街道第一社区23号楼6单元952室 -> 23号楼6单元952室. The whole address where it names none."""
    detail = address
    for area in ("district", "street", "community"):  # the narrowest area found wins
        parts = address.str.split(pl.col(area))
        rest = parts.list.slice(1).list.join(pl.col(area))
        detail = (
            pl.when(pl.col(area).is_not_null() & (parts.list.len() > 1) & (rest != ""))
            .then(rest)
            .otherwise(detail)
        )
    return detail


def printed_rows(printed: PrintedList, frame: pl.DataFrame) -> pl.DataFrame:
    """A list's rows as its workbook prints them: the short line of why, codes as labels (the sheet's
    code kept as a code, to order the sheets by), the address past the row's area. Computed once per list:
    a street's workbook takes its rows from here."""
    rows = frame.with_columns(why=printed.why())
    if "address" in rows.columns:
        rows = rows.with_columns(address=address_detail(pl.col("address")))
    return labels_for_people(rows.drop("evidence", printed.sheet_by)).with_columns(rows[printed.sheet_by])


def list_sheets(
    printed: PrintedList, rows: pl.DataFrame, as_of: str, area_name: str | None
) -> list[TableSheet]:
    """The sheets of one list's workbook (its `printed_rows`): one per category, in the order
    `rules/codes.py` lists them, each street on its own pages. An empty list still gets one sheet, saying so."""
    codes = [c.code for c in CODES]
    parts = dict(
        sorted(
            rows.partition_by(printed.sheet_by, as_dict=True, maintain_order=True).items(),
            key=lambda item: codes.index(item[0][0]) if item[0][0] in codes else len(codes),
        )
    ) or {("（无）",): rows}
    sheets = []
    for (code,), part in parts.items():
        label = LABELS.get(code, code)
        title = (
            f"{printed.title}·{label}　区域：{area_of(part, area_name)}　数据截至：{as_of}"
            f"　共 {part.height} {printed.unit}"
        )
        columns = tuple(
            c
            for c in printed.columns
            if c.key not in printed.optional or part[c.key].null_count() < part.height
        )
        sheets.append(
            TableSheet(
                name=label,
                title=title,
                columns=columns,
                frame=part.with_row_index("row_number", offset=1),
                page_header=f"{printed.title}·{label}",
                as_of=as_of,
                page_break_by=("district", "street"),
                notes=printed.notes,
            )
        )
    return sheets


def list_frames(con: duckdb.DuckDBPyConnection) -> dict[str, pl.DataFrame]:
    """Each printed list's rows in print order, as printed (`printed_rows`)."""
    return {
        printed.name: printed_rows(printed, con.sql(printed.select_sql).pl()) for printed in PRINTED_LISTS
    }
