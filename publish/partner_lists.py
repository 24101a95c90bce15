"""The partner departments' workbooks (部门联动: 民政, 残联) and the early warning's (零就业家庭预警), as people
print and work them.

- `dibao_employment.xlsx`, for 民政: the active 低保 members who work while their record does not say so,
  grouped by 区县, 街道 and household, headed as what it is — a request to update records (请核实更新就业状况；
  就业成本扣减及渐退按规定办理), never a list of people to cut off.
- `disability_employment.xlsx`, for 残联: a summary sheet of card holders per 区县 × 残疾等级 × 就业状况 with
  their 就业率 (the figure 残联 reports), then the rows street by street for its 就业需求摸排.
- `households_at_risk.xlsx`: the households one job away from zero employment, a sheet per risk, as the
  other lists are printed (`printed_lists.list_sheets`); `households_at_risk_labels` gives the same rows to a
  street office's work list (its sheet 预警家庭).

Codes become their labels in each list's own words (`rules/codes.labels_of`: EMPLOYED reads 单位就业 for
残联, not as a removal reason), the evidence and record references in Chinese (`printed_lists`); the layout
is `xlsx_files.py`'s. What does not belong here: the rows themselves (`rules/*.sql`).
"""

import duckdb
import polars as pl

from aidmatch.publish.printed_lists import (
    CONTACT_NOTE,
    PrintedList,
    area_of,
    labels_for_people,
    list_sheets,
    printed_rows,
)
from aidmatch.publish.xlsx_files import SheetColumn, TableSheet
from aidmatch.rules.codes import labels_of

GRADES = {1: "一级", 2: "二级", 3: "三级", 4: "四级"}
NO_GRADE = "等级不详"
UNKNOWN_DISTRICT = "（区县不详）"
# 残联's 就业率: the card holders of working age who work (单位就业, 灵活就业), of all of them.
WORKING_STATUSES = ("EMPLOYED", "FLEXIBLY_EMPLOYED")

# --- 民政 ----------------------------------------------------------------------------------------------

DIBAO_FILE = "dibao_employment.xlsx"
DIBAO_TITLE = "低保家庭成员就业状况核实表"
DIBAO_REQUEST = "请核实更新就业状况；就业成本扣减及渐退按规定办理"
# Widths add up to about 150 units, as the printed lists' (A4 landscape at 9 pt or more), each wide enough for
# its usual value on one line as xlsx_files measures it (an 18-digit ID takes 24, a 5-character 街道 11), so
# that a page holds 15 rows or more.
DIBAO_COLUMNS = (
    SheetColumn("row_number", "序号", 5, "number"),
    SheetColumn("district", "区县", 7),
    SheetColumn("street", "街道", 11),
    SheetColumn("household_id", "户编号", 19, "id"),
    SheetColumn("dibao_type", "保障类型", 11),
    SheetColumn("name", "姓名", 7),
    SheetColumn("relation", "与户主\n关系", 6),
    SheetColumn("person_id", "公民身份号码", 24, "id"),
    SheetColumn("recorded_status", "低保记录\n就业状况", 9),
    SheetColumn("finding", "社保缴费\n显示", 9),
    SheetColumn("employer_name", "就业单位", 13),
    SheetColumn("paid_months", "缴费月份", 19),
    SheetColumn("note", "备注", 11),
)
REGISTERED = "已登记失业"
DIBAO_NOTES = (
    "说明：以上家庭成员在社保缴费数据中，近几个月有单位职工或灵活就业缴费（已实缴），而低保记录中的就业状况不是“在业”，"
    "低保记录可能尚未更新。",
    "请核实后更新其就业状况；对已就业的成员，按规定扣减必要的就业成本、实行低保渐退，不因本表直接停止保障。",
    f"备注“{REGISTERED}”：同一人已登记失业，其失业登记因就业列入人社部门的应退出名单，人社部门将同时核实。",
    "缴费月份为回溯期内已实缴的月份；每人的缴费明细、单位和低保记录的行号见同名 CSV 文件的 evidence 列。",
    CONTACT_NOTE,
)
_DIBAO_SQL = """
    SELECT * FROM out_dibao_employment
    ORDER BY district NULLS LAST, street NULLS LAST, household_id NULLS LAST, relation, name, person_id
"""


def dibao_employment_sheets(
    con: duckdb.DuckDBPyConnection, as_of: str, area_name: str | None
) -> list[TableSheet]:
    """民政's one sheet: the members by 区县, 街道 and household, each street on its own pages."""
    frame = con.sql(_DIBAO_SQL).pl()
    rows = labels_for_people(
        frame.with_columns(
            pl.col("finding").replace_strict(labels_of("dibao_finding"), default=pl.col("finding")),
            note=pl.when("on_removal_list").then(pl.lit(REGISTERED)),
        )
    ).with_row_index("row_number", offset=1)
    households = frame["household_id"].n_unique() if frame.height else 0
    return [
        TableSheet(
            name="低保成员就业核实",
            title=f"{DIBAO_TITLE}　区域：{area_of(frame, area_name)}　数据截至：{as_of}",
            subtitle=f"{DIBAO_REQUEST}　共 {households} 户 {frame.height} 人",
            columns=DIBAO_COLUMNS,
            frame=rows,
            page_header=DIBAO_TITLE,
            as_of=as_of,
            page_break_by=("district", "street"),
            notes=DIBAO_NOTES,
        )
    ]


# --- 残联 ----------------------------------------------------------------------------------------------

DISABILITY_FILE = "disability_employment.xlsx"
DISABILITY_TITLE = "持证残疾人就业状况"
_STATUS_LABELS = labels_of("disability_status")
SUMMARY_COLUMNS = (
    SheetColumn("district", "区县", 14),
    SheetColumn("grade", "残疾等级", 10),
    *(
        SheetColumn(code, label, 13 if len(label) > 4 else 10, "number")
        for code, label in _STATUS_LABELS.items()
    ),
    SheetColumn("total", "合计", 10, "number"),
    SheetColumn("working", "就业人数", 10, "number"),
    SheetColumn("employment_rate", "就业率", 10, "percent"),
)
SUMMARY_NOTES = (
    "说明：统计劳动年龄内、持有效残疾人证（有效期至不早于数据日期）且未死亡的人员。就业状况按以下顺序取第一项："
    "单位就业（近几个月有单位职工社保缴费）、灵活就业（仅有灵活就业社保缴费）、登记失业、已退休（社保显示离退休）、未就业。",
    "就业人数为单位就业与灵活就业之和，就业率为就业人数占合计的比例。",
)
DETAIL_COLUMNS = (
    SheetColumn("row_number", "序号", 6, "number"),
    SheetColumn("district", "区县", 7),
    SheetColumn("street", "街道", 11),
    SheetColumn("community", "社区", 9),
    SheetColumn("name", "姓名", 7),
    SheetColumn("sex", "性别", 4),
    SheetColumn("age", "年龄", 5, "number"),
    SheetColumn("person_id", "公民身份号码", 24, "id"),
    SheetColumn("disability_category", "残疾类别", 6),
    SheetColumn("grade", "残疾等级", 6),
    SheetColumn("status", "就业状况", 9),
    SheetColumn("employer_name", "就业单位", 15),
    SheetColumn("phone", "联系电话", 15, "id"),
    SheetColumn("summary", "说明", 26),
)
_DISABILITY_SQL = """
    SELECT * FROM out_disability_employment
    ORDER BY district NULLS LAST, street NULLS LAST, community NULLS LAST, name, person_id
"""


_FULL_EVIDENCE = "说明列为简要依据；残疾人证、缴费、登记等记录及其行号见同名 CSV 文件的 evidence 列。"


def _grade_label() -> pl.Expr:
    return pl.col("disability_grade").replace_strict(GRADES, default=NO_GRADE, return_dtype=pl.String)


def disability_summary(frame: pl.DataFrame) -> pl.DataFrame:
    """Card holders per 区县 × 残疾等级 with the count of each status, the total, those working and the 就业率;
    a 小计 row per district, then the 全部 rows per grade and their 合计."""
    counted = frame.select(
        pl.col("district").fill_null(UNKNOWN_DISTRICT),
        pl.col("disability_grade").fill_null(0).alias("grade_order"),
        _grade_label().alias("grade"),
        "status",
    )
    everywhere = counted.with_columns(district=pl.lit("全部"))
    parts = []
    for part, district_order in ((counted, 0), (everywhere, 1)):
        by_grade = part.group_by("district", "grade_order", "grade").agg(
            *(pl.col("status").eq(code).sum().alias(code) for code in _STATUS_LABELS)
        )
        subtotal = part.group_by("district").agg(
            pl.lit(9).alias("grade_order"),
            pl.lit("小计" if district_order == 0 else "合计").alias("grade"),
            *(pl.col("status").eq(code).sum().alias(code) for code in _STATUS_LABELS),
        )
        parts.append(
            pl.concat([by_grade, subtotal], how="vertical_relaxed").with_columns(order=pl.lit(district_order))
        )
    codes = list(_STATUS_LABELS)
    summary = pl.concat(parts, how="vertical_relaxed").with_columns(
        total=pl.sum_horizontal(codes), working=pl.sum_horizontal(WORKING_STATUSES)
    )
    return summary.with_columns(
        # rounded: a cell's height is measured on its text, and 1/3 has sixteen digits
        employment_rate=pl.when(pl.col("total") > 0).then((pl.col("working") / pl.col("total")).round(4))
    ).sort("order", pl.col("district") == UNKNOWN_DISTRICT, "district", "grade_order")


def disability_employment_sheets(
    con: duckdb.DuckDBPyConnection, as_of: str, area_name: str | None
) -> list[TableSheet]:
    """残联's summary sheet (its 就业率 by district and grade), then the card holders street by street."""
    frame = con.sql(_DISABILITY_SQL).pl()
    area = area_of(frame, area_name)
    rows = labels_for_people(
        frame.with_columns(
            pl.col("status").replace_strict(_STATUS_LABELS, default=pl.col("status")), grade=_grade_label()
        )
    ).with_row_index("row_number", offset=1)
    return [
        TableSheet(
            name="汇总",
            # the date and the count on a line of their own: the summary's columns are narrow numbers, and
            # the title on one line was cut at the table's edge
            title=f"{DISABILITY_TITLE}汇总表　区域：{area}",
            subtitle=f"数据截至：{as_of}　共 {frame.height} 人",
            columns=SUMMARY_COLUMNS,
            frame=disability_summary(frame),
            page_header=f"{DISABILITY_TITLE}·汇总",
            as_of=as_of,
            notes=SUMMARY_NOTES,
        ),
        TableSheet(
            name="明细",
            title=f"{DISABILITY_TITLE}明细（就业需求摸排）　区域：{area}　数据截至：{as_of}　共 {frame.height} 人",
            columns=DETAIL_COLUMNS,
            frame=rows,
            page_header=f"{DISABILITY_TITLE}·明细",
            as_of=as_of,
            page_break_by=("district", "street"),
            notes=(_FULL_EVIDENCE, CONTACT_NOTE),
        ),
    ]


# --- 零就业家庭预警 ---------------------------------------------------------------------------------------

HOUSEHOLDS_AT_RISK = PrintedList(
    "households_at_risk",
    "零就业家庭预警名单",
    "户",
    "risk",
    # each member a line: name, （relation）, ID, in the order of member_ids
    """SELECT *, array_to_string(list_transform(
            generate_series(1, len(ids)),
            lambda i: names[i] || CASE WHEN relations[i] <> '' THEN '（' || relations[i] || '）' ELSE '' END || ' ' || ids[i]
        ), chr(10)) AS members,
        trim(coalesce(working_member_name, '') || ' ' || working_member_id) AS working_member
    FROM (
        SELECT *, string_split(member_ids, ';') AS ids, string_split(member_names, ';') AS names,
            string_split(member_relations, ';') AS relations
        FROM out_households_at_risk
    )
    ORDER BY risk, district NULLS LAST, street NULLS LAST, household_id""",
    (
        SheetColumn("row_number", "序号", 5, "number"),
        SheetColumn("district", "区县", 7),
        SheetColumn("street", "街道", 11),
        SheetColumn("household_id", "户编号", 19, "id"),
        SheetColumn("members", "家庭成员（与户主关系）及身份证号", 50),
        SheetColumn("why", "预警说明", 58),
    ),
    lambda: pl.col("summary"),
    (
        "说明：以上城市低保（低保边缘）家庭中，计入的劳动年龄成员只有一人就业，且其就业不稳定（仅有灵活就业缴费，或单位职工缴费"
        "在最近一个月已中断），一旦失去工作即成为零就业家庭。请跟踪了解，提前提供岗位信息和就业服务（预警监测、动态清零）。",
        "计入与不计入的成员、缴费月份及记录行号见同名 CSV 文件的 evidence 列。",
    ),
)


def households_at_risk_labels(frame: pl.DataFrame) -> pl.DataFrame:
    """The households at risk (rows of `HOUSEHOLDS_AT_RISK.select_sql`) as a street office prints them:
    `district`, `street`, `household_id`, `members` (a line each: name, relation, ID), `working_member` (name
    and ID), `risk` (the code: one sheet each) and `risk_label`, `summary` (one short line: who works, how,
    since when it stopped) and the full `evidence` — for this list's workbook and a street's work list
    (sheet 预警家庭, `street_work.py`)."""
    return frame.with_columns(
        risk_label=pl.col("risk").replace_strict(labels_of("household_risk"), default=pl.col("risk")),
    ).select(
        "district",
        "street",
        "household_id",
        "members",
        "working_member",
        "risk",
        "risk_label",
        "summary",
        "evidence",
    )


def partner_workbooks(
    con: duckdb.DuckDBPyConnection, as_of: str, area_name: str | None
) -> list[tuple[str, list[TableSheet]]]:
    """(file name, sheets) of 民政's, 残联's and the early warning's workbooks."""
    return [
        (DIBAO_FILE, dibao_employment_sheets(con, as_of, area_name)),
        (DISABILITY_FILE, disability_employment_sheets(con, as_of, area_name)),
        (
            f"{HOUSEHOLDS_AT_RISK.name}.xlsx",
            list_sheets(
                HOUSEHOLDS_AT_RISK,
                printed_rows(HOUSEHOLDS_AT_RISK, con.sql(HOUSEHOLDS_AT_RISK.select_sql).pl()),
                as_of,
                area_name,
            ),
        ),
    ]
