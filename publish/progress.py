"""困难群体就业精准帮扶行动进度表（月）: the monthly progress table of the 嘉兴 notice (seeds/004, 附件),
one row per 区县 and a 合计, filled from the lists for the columns the extracts support.

The month is the reporting period: from `publish.progress_period_start_day` up to the as-of date. What
happened in it is what changed between the last run published before the period began (the baseline)
and this one — the same content-keyed comparison as changes.csv (`changes.py`):
- 实现灵活就业人数 / 用人单位吸纳人数: 就业困难人员 whose registration now leaves the roll as
  FLEXIBLY_EMPLOYED / EMPLOYED and who did not have that or the other at the baseline;
- 帮扶就业困难人员就业人数: either of the two;
- 新认定就业困难人员人数: 就业困难人员 whose 认定日期 falls in the period;
- 期末仍需帮扶就业困难人员人数: 就业困难人员 registered today with no reason to leave the roll.
- 享受临时生活补贴人数: persons the entitlements list owes TEMP_LIVING_ALLOWANCE at the as-of date (SPEC
  section 4 item 4; the extracts do not say when payment started, so not "new in the period");
and, after the notice's columns, under 应享尽享（补充）, the persons owed the flexible and the employer 社保补贴.
The other columns are left blank with a note naming the data that would fill them.

A second sheet, 走访进度, counts the street offices' visits (SPEC section 6) per 区县 and 街道 for the same
period: the people on the proactive list, those visited in the period (their latest visit in it, on the list
tonight or not), each outcome, and those still to visit (on the street's 走访 sheet tonight).
"""

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from aidmatch.publish.changes import changes_sql, previous_run
from aidmatch.publish.xlsx_files import SheetColumn, TableSheet
from aidmatch.rules.codes import CODES

TITLE = "困难群体就业精准帮扶行动进度表（月）"
UNKNOWN_DISTRICT = "（区县不详）"
UNKNOWN_STREET = "（街道不详）"


@dataclass(frozen=True)
class ProgressColumn:
    key: str
    header: str
    count: str | None  # SQL aggregate over a district's rows of `progress_persons`; None: left blank
    note: str  # how it is counted, or which data would fill it
    needs_baseline: bool = False  # counted from what changed since the baseline run


COLUMNS: tuple[ProgressColumn, ...] = (
    ProgressColumn(
        "total",
        "本期帮扶困难群体就业总人数",
        None,
        "为以下各项帮扶成效之和；其中自主创业、公益性岗位安置、项目帮扶三项需业务台账，补齐后相加填写",
    ),
    ProgressColumn(
        "flexible",
        "实现灵活就业人数",
        "count(*) FILTER (gained_flexible)",
        "就业困难人员中本期新出现灵活就业社保缴费（已实缴）的人数（与上期名单比较，上期已有缴费的不计）",
        needs_baseline=True,
    ),
    ProgressColumn(
        "employer",
        "用人单位吸纳人数",
        "count(*) FILTER (gained_employer)",
        "就业困难人员中本期新出现单位职工社保缴费（已实缴）的人数（与上期名单比较，上期已有缴费的不计）",
        needs_baseline=True,
    ),
    ProgressColumn(
        "self_employed", "自主创业人数", None, "需市场监管部门的个体工商户、企业登记或创业担保贷款数据"
    ),
    ProgressColumn("public_welfare", "公益性岗位安置人数", None, "需人社部门公益性岗位安置台账"),
    ProgressColumn("project", "项目帮扶人数", None, "需人力资源服务机构合作帮扶项目的服务台账"),
    ProgressColumn(
        "living_allowance",
        "享受临时生活补贴人数",
        "count(*) FILTER (living_allowance)",
        "截至数据日期应享受临时生活补贴的人数（应享尽享名单 entitlements.csv：登记失业、低保/低保边缘家庭成员、"
        "劳动年龄内未就业）",
    ),
    ProgressColumn(
        "newly_recognized",
        "新认定就业困难人员人数",
        "count(*) FILTER (newly_recognized)",
        "登记失业数据中认定日期在本期内的就业困难人员人数",
    ),
    ProgressColumn(
        "helped_into_work",
        "帮扶就业困难人员就业人数",
        "count(*) FILTER (gained_flexible OR gained_employer)",
        "实现灵活就业与用人单位吸纳人数之和（同一人只计一次）",
        needs_baseline=True,
    ),
    ProgressColumn(
        "still_needing_help",
        "期末仍需帮扶就业困难人员人数",
        "count(*) FILTER (still_needing_help)",
        "截至数据日期仍登记失业、无任何应退出原因（重复登记除外）的就业困难人员人数",
    ),
    # Beyond the notice's columns: the subsidies the data proves (应享尽享), for the 直补快办 follow-up.
    ProgressColumn(
        "subsidy_flexible",
        "应享社保补贴（灵活就业）人数",
        "count(*) FILTER (subsidy_flexible)",
        "补充栏：截至数据日期应享受就业困难人员社保补贴（灵活就业）的人数（应享尽享名单）",
    ),
    ProgressColumn(
        "subsidy_employer",
        "应享社保补贴（单位吸纳）人数",
        "count(*) FILTER (subsidy_employer)",
        "补充栏：截至数据日期应享受就业困难人员社保补贴（单位吸纳）的人数（应享尽享名单，一人多个单位计一次）",
    ),
)
GROUPS = (
    ("帮扶成效", "flexible", "living_allowance"),
    ("应享尽享（补充）", "subsidy_flexible", "subsidy_employer"),
)

# One row per 就业困难人员 (a registration says 是) and per person owed an entitlement (the allowance goes to
# registered unemployed 低保 members, recognized or not) with what the table counts about them.
_PROGRESS_PERSONS = """
WITH baseline_changes AS ({changes}),
gained AS (
    SELECT
        person_id,
        list_contains(string_split(detail, ';'), 'FLEXIBLY_EMPLOYED') AS flexible,
        list_contains(string_split(detail, ';'), 'EMPLOYED') AS employer
    FROM baseline_changes
    WHERE list = 'removals' AND change IN ('entered', 'changed') AND key = person_id || '|unemployment'
        AND NOT list_has_any(string_split(coalesce(previous_detail, ''), ';'), ['EMPLOYED', 'FLEXIBLY_EMPLOYED'])
),
leaving AS (
    SELECT DISTINCT person_id FROM out_removals
    WHERE len(list_filter(string_split(reasons, ';'), lambda r: r <> 'DUPLICATE')) > 0
),
entitled AS (
    SELECT
        person_id,
        bool_or(entitlement = 'TEMP_LIVING_ALLOWANCE') AS living_allowance,
        bool_or(entitlement = 'SI_SUBSIDY_FLEXIBLE') AS subsidy_flexible,
        bool_or(entitlement = 'SI_SUBSIDY_EMPLOYER') AS subsidy_employer
    FROM out_entitlements
    GROUP BY person_id
)
SELECT
    coalesce(loc.district, '{unknown}') AS district,
    f.is_difficult AND coalesce(g.flexible, false) AS gained_flexible,
    f.is_difficult AND coalesce(g.employer, false) AS gained_employer,
    f.is_difficult AND coalesce(f.recognized_on BETWEEN $period_start AND $as_of, false) AS newly_recognized,
    f.is_difficult AND f.registered AND leaving.person_id IS NULL AS still_needing_help,
    coalesce(e.living_allowance, false) AS living_allowance,
    coalesce(e.subsidy_flexible, false) AS subsidy_flexible,
    coalesce(e.subsidy_employer, false) AS subsidy_employer
FROM facts_persons AS f
LEFT JOIN gained AS g USING (person_id)
LEFT JOIN leaving USING (person_id)
LEFT JOIN entitled AS e USING (person_id)
LEFT JOIN facts_locations AS loc USING (person_id)
WHERE f.is_difficult OR e.person_id IS NOT NULL
"""


@dataclass(frozen=True)
class Period:
    start: dt.date
    as_of: dt.date
    baseline: Path | None  # the last published run before `start`


def reporting_period(output_root: Path, as_of: dt.date, start_day: int) -> Period:
    """The period holding `as_of` that starts on `start_day` of a month, and its baseline run."""
    start = as_of.replace(day=start_day)
    if start > as_of:
        start = (start.replace(day=1) - dt.timedelta(days=1)).replace(day=start_day)
    return Period(start, as_of, previous_run(output_root, start.isoformat()))


def progress_frame(
    con: duckdb.DuckDBPyConnection, period: Period, current_lists: dict[str, str]
) -> pl.DataFrame:
    """The table's rows: one per district (sorted, the unplaced last), then 合计; a blank column is None."""
    counted = [c for c in COLUMNS if c.count is not None and (period.baseline or not c.needs_baseline)]
    persons = _PROGRESS_PERSONS.format(
        changes=changes_sql(current_lists, period.baseline), unknown=UNKNOWN_DISTRICT
    )
    counts = ", ".join(f"{c.count} AS {c.key}" for c in counted)
    rows = con.sql(
        f"SELECT district AS item, {counts} FROM ({persons}) GROUP BY district "
        f"ORDER BY district = '{UNKNOWN_DISTRICT}', district",
        params={"period_start": period.start, "as_of": period.as_of},
    ).pl()
    total = rows.select(pl.lit("合计").alias("item"), *(pl.col(c.key).sum() for c in counted))
    table = pl.concat([rows, total]) if rows.height else total
    return table.with_columns(
        pl.lit(None, pl.Int64).alias(c.key) for c in COLUMNS if c not in counted
    ).select("item", *(pl.col(c.key).cast(pl.Int64) for c in COLUMNS))


def progress_sheet(frame: pl.DataFrame, period: Period, unit: str) -> TableSheet:
    """The table as the notice's 附件 lays it out, with a note under it for every column."""
    baseline = (
        f"与 {period.baseline.name} 发布的名单比较"
        if period.baseline
        else f"{period.start} 前无已发布的名单，本期变化无法计算"
    )
    notes = ["说明：以上人数由就业援助大数据比对结果生成；空白栏为本系统数据无法支持的项目。"]
    for column in COLUMNS:
        note = column.note
        if column.needs_baseline and column.count is not None and period.baseline is None:
            note = f"{column.note}。{baseline}，本栏空白"
        notes.append(f"{column.header}：{note}")
    # widths add up to about 150 units, as the lists' (A4 landscape at 9 pt or more)
    columns = (
        SheetColumn("item", "项目", 14),
        *(SheetColumn(c.key, c.header, 11, "number") for c in COLUMNS),
    )
    return TableSheet(
        name="进度表",
        title=TITLE,
        subtitle=f"单位：{unit}　　时间：{period.start} 至 {period.as_of}（{baseline}）",
        columns=columns,
        frame=frame,
        page_header=TITLE,
        as_of=period.as_of.isoformat(),
        groups=GROUPS,
        notes=tuple(notes),
    )


# 走访进度: what each street's visits came to in the period, one column per outcome between visited and to visit.
VISIT_OUTCOMES = tuple(c for c in CODES if c.kind == "visit_outcome")
VISIT_PROGRESS_COLUMNS = (
    SheetColumn("district", "区县", 12),
    SheetColumn("street", "街道", 16),
    SheetColumn("listed", "名单人数", 11, "number"),
    SheetColumn("visited", "本期已走访", 11, "number"),
    *(SheetColumn(c.code, c.label, 11, "number") for c in VISIT_OUTCOMES),
    SheetColumn("to_visit", "待走访", 11, "number"),
)
_VISIT_PROGRESS = f"""
WITH visited AS (
    -- each person's latest valid visit in the period (a later visit of the period replaces an earlier one)
    SELECT v.person_id, arg_max(v.outcome, (v.visited_on, v.file, v."row")) AS outcome
    FROM decisions_visits AS v JOIN decisions_visit_outcomes AS o USING (decision_id)
    WHERE o.status <> 'quarantined' AND v.visited_on BETWEEN $period_start AND $as_of
    GROUP BY v.person_id
),
listed AS (
    SELECT p.person_id, w.status IS DISTINCT FROM 'applied' AS to_visit
    FROM out_proactive AS p LEFT JOIN proactive_visits AS w USING (person_id)
)
SELECT * FROM (
    SELECT coalesce(loc.district, '{UNKNOWN_DISTRICT}') AS district, coalesce(loc.street, '{UNKNOWN_STREET}') AS street,
           count(l.person_id) AS listed, count(v.person_id) AS visited,
           {", ".join(f"count(*) FILTER (v.outcome = '{c.code}') AS {c.code}" for c in VISIT_OUTCOMES)},
           count(*) FILTER (l.to_visit) AS to_visit
    FROM listed AS l
    FULL OUTER JOIN visited AS v USING (person_id)
    LEFT JOIN facts_locations AS loc USING (person_id)
    GROUP BY 1, 2
)
ORDER BY district = '{UNKNOWN_DISTRICT}', district, street = '{UNKNOWN_STREET}', street
"""


def visit_progress_frame(con: duckdb.DuckDBPyConnection, period: Period) -> pl.DataFrame:
    """One row per 区县 and 街道 with people on the proactive list or visited in the period, then 合计."""
    rows = con.sql(_VISIT_PROGRESS, params={"period_start": period.start, "as_of": period.as_of}).pl()
    counts = [c.key for c in VISIT_PROGRESS_COLUMNS[2:]]
    total = rows.select(
        pl.lit("合计").alias("district"), pl.lit("").alias("street"), *(pl.col(c).sum() for c in counts)
    )
    return pl.concat([rows, total], how="vertical_relaxed").with_columns(pl.col(counts).cast(pl.Int64))


def visit_progress_sheet(frame: pl.DataFrame, period: Period, unit: str) -> TableSheet:
    """走访进度 beside the notice's table: the street offices' visits in the period."""
    return TableSheet(
        name="走访进度",
        title="主动发现名单走访进度表",
        subtitle=f"单位：{unit}　　时间：{period.start} 至 {period.as_of}",
        columns=VISIT_PROGRESS_COLUMNS,
        frame=frame,
        page_header="主动发现名单走访进度表",
        as_of=period.as_of.isoformat(),
        notes=(
            "说明：名单人数为数据日期主动发现名单上的人数；本期已走访为本期内有走访结果（以最后一次为准）的人数，"
            "含已不在名单上的人员，各结果人数之和等于已走访人数；待走访为当前各街道走访任务单“走访”表上的人数"
            "（新增、待走访、复访到期、情况变化）。结果由街道交回的走访任务单读取，见 decisions_applied.csv。",
        ),
    )
