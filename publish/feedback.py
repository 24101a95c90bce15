"""数据质量反馈表: one workbook per department, ready to send back with what to fix at the source.

quarantine.csv mixes five sources and speaks in rule codes; a department needs its own rows, in Chinese.
Each workbook has a summary sheet — per file of the department's extracts: rows read, rejected and to
be fixed, the share of problem rows, the problems by kind with their rows, and a verdict — and the rows
themselves: file, sheet, row (as Excel or an editor shows it), field, value, what is wrong, how to fix
it, and what this run did with the row. The words come from the rules themselves (`checks/row_rules.py`:
every rule has its field, problem and fix) through the quarantine tables.

A city's 缴费明细 can hold a hundred thousand problem rows: a workbook shows at most
`publish.feedback_max_rows` of them, chosen so that every file and every kind of problem has its first
rows shown (writing a spreadsheet cell costs some 30 µs), and says so; `feedback_<department>.csv` beside
it holds every one, in the same Chinese columns (UTF-8 with a byte-order mark, as Excel opens it).

The social-insurance agency (社保经办) sends two extracts, 参保人员 and 缴费明细: one workbook holds both.

A street office that visited a person of the proactive list and found the record wrong (结果 信息有误,
`decisions/visits.py`) tells the department through the same workbook: its 走访反馈 sheet lists, for every
such person still on the list, the record of the department that gave the row's reason (低保 and 零就业家庭:
the 低保 record; 残疾: the card; 大龄 and 长期失业: the registration), the street, the worker and the note; the
CSV holds them after the problem rows, in its own columns' words.
"""

from collections.abc import Collection
from pathlib import Path

import duckdb
import polars as pl

from aidmatch.publish.printed_lists import source_records_for_people
from aidmatch.publish.xlsx_files import SheetColumn, TableSheet
from aidmatch.rules.codes import LABELS
from aidmatch.sources.tables import SOURCE_LABELS, Department
from aidmatch.tables.catalog import FEEDBACK_TABLES, QUARANTINE

# A value longer than this is shown cut, with its length (a cell may hold 32,767 characters).
MAX_VALUE_CHARS = 200

SUMMARY_COLUMNS = (
    SheetColumn("row_number", "序号", 5, "number"),
    SheetColumn("data", "数据", 8),
    SheetColumn("file", "文件", 20),
    SheetColumn("rows_read", "读取行数", 9, "number"),
    SheetColumn("rows_rejected", "拒收行数", 8, "number"),
    SheetColumn("rows_to_fix", "需修正行数", 8, "number"),
    SheetColumn("problem_share", "问题行比例", 8, "percent"),
    SheetColumn("problems", "各类问题及行数", 46),
    SheetColumn("verdict", "结论", 32),
)
DETAIL_COLUMNS = (
    SheetColumn("row_number", "序号", 6, "number"),
    SheetColumn("data", "数据", 8),
    SheetColumn("file", "文件", 16),
    SheetColumn("sheet", "工作表", 8),
    SheetColumn("row", "行号", 7, "number"),
    SheetColumn("field", "字段", 10),
    SheetColumn("value", "原值", 23, "id"),
    SheetColumn("problem", "问题", 24),
    SheetColumn("fix", "修改方法", 34),
    SheetColumn("action", "本次处理", 8),
)


VISIT_COLUMNS = (
    SheetColumn("row_number", "序号", 5, "number"),
    SheetColumn("data", "数据", 7),
    SheetColumn("file", "文件", 14),
    SheetColumn("sheet", "工作表", 7),
    SheetColumn("row", "行号", 6, "number"),
    SheetColumn("name", "姓名", 7),
    SheetColumn("person_id", "公民身份号码", 23, "id"),
    SheetColumn("reasons", "列入原因", 12),
    SheetColumn("area", "街道、社区", 14),
    SheetColumn("visited_on", "走访日期", 13, "date"),
    SheetColumn("visited_by", "经办人", 7),
    SheetColumn("note", "走访说明（信息有误）", 34),
)
# Which department's record gave a proactive reason: (source, the facts_persons column naming the record).
_REASON_RECORDS = (
    ("dibao", "dibao_record", ("DIBAO", "ZERO_EMPLOYMENT_HOUSEHOLD")),
    ("disability", "disability_record", ("DISABLED",)),
    ("unemployment", "registration_record", ("AGE_4050", "LONG_TERM_UNEMPLOYED")),
)


def _quarantine(department: Department, staged: Collection[str] | None) -> str:
    """The quarantine rows of the department's sources staged tonight (`staged`; None: all of them)."""
    empty = ", ".join(f"NULL::{c.sql_type} AS {c.name}" for c in QUARANTINE.columns)
    return " UNION ALL ".join(
        f"SELECT * FROM quarantine_{source}"
        if staged is None or source in staged
        else f"SELECT {empty} WHERE false"
        for source in department.sources
    )


def _data_label() -> str:
    return (
        "CASE source " + " ".join(f"WHEN '{s}' THEN '{label}'" for s, label in SOURCE_LABELS.items()) + " END"
    )


def summary_frame(
    con: duckdb.DuckDBPyConnection,
    department: Department,
    max_rate: float,
    staged: Collection[str] | None = None,
) -> pl.DataFrame:
    """One row per file read (or refused: a night stopped by it) of the department's sources, with its
    counts, problems and verdict; the problems of the sources in `staged` (None: all)."""
    sources = ", ".join(f"'{s}'" for s in department.sources)
    return con.sql(
        f"""
        WITH q AS ({_quarantine(department, staged)}),
        per_file AS (
            SELECT source_file,
                   count(DISTINCT source_record) FILTER (action = 'rejected') AS rows_rejected,
                   count(DISTINCT source_record) - rows_rejected AS rows_to_fix
            FROM q GROUP BY source_file
        ),
        per_problem AS (
            SELECT source_file, string_agg(problem || '：' || rows || ' 行', chr(10) ORDER BY rows DESC, problem)
                AS problems
            FROM (SELECT source_file, problem, count(DISTINCT source_record) AS rows FROM q GROUP BY ALL)
            GROUP BY source_file
        ),
        files AS (
            SELECT f.source, f.file, f.status, f.reason, coalesce(f.rows_read, 0) AS rows_read,
                   coalesce(p.rows_rejected, 0) AS rows_rejected, coalesce(p.rows_to_fix, 0) AS rows_to_fix,
                   coalesce(pp.problems, '无') AS problems
            FROM ingest_files AS f
            LEFT JOIN per_file AS p ON p.source_file = f.file
            LEFT JOIN per_problem AS pp ON pp.source_file = f.file
            WHERE f.source IN ({sources}) AND f.status IN ('read', 'refused')
        )
        SELECT
            {_data_label()} AS data,
            regexp_replace(file, '^[^/]+/', '') AS file,
            rows_read, rows_rejected, rows_to_fix,
            CASE WHEN rows_read > 0 THEN (rows_rejected + rows_to_fix) / rows_read END AS problem_share,
            problems,
            CASE
                WHEN status = 'refused' THEN '拒收，整批数据本次未使用：' || reason
                WHEN rows_read = 0 THEN '文件中没有数据行：请核对导出范围后重新报送'
                WHEN (rows_rejected + rows_to_fix) / rows_read > $max_rate THEN format(
                    '不合格：问题行占 {{:.1f}}%，超过 {{:.0f}}% 的上限（超过时整批数据不予使用）：请按问题明细修正后重新导出报送',
                    100 * (rows_rejected + rows_to_fix) / rows_read, 100 * $max_rate)
                WHEN rows_rejected > 0 THEN format(
                    '基本可用：{{}} 行既无身份证号也无姓名，本次未使用；{{}} 行需修正：请按问题明细修正后下次报送',
                    rows_rejected, rows_to_fix)
                WHEN rows_to_fix > 0 THEN format('可用：{{}} 行需修正，请按问题明细在源系统修正', rows_to_fix)
                ELSE '合格'
            END AS verdict
        FROM files
        ORDER BY list_position({list(department.sources)}, source), file
        """,
        params={"max_rate": max_rate},
    ).pl()


def detail_frame(
    con: duckdb.DuckDBPyConnection, department: Department, staged: Collection[str] | None = None
) -> pl.DataFrame:
    """Every quarantine row of the department's sources, file by file, row by row. A duplicate's value, the
    record it copies, is named as the steward says it (社保缴费 东城区.csv 第267行). `pick` orders the rows
    for a workbook that cannot show them all: every file's and problem's first row, then their second, …
    Only the sources in `staged` (None: all) have rows: a night stopped early staged some of them."""
    rows = con.sql(
        f"""
        SELECT
            row_number() OVER (
                ORDER BY nth, list_position({list(department.sources)}, source), source_file, source_sheet,
                    source_row, field, problem, rule
            ) AS pick,
            rule,
            {_data_label()} AS data,
            regexp_replace(source_file, '^[^/]+/', '') AS file,
            source_sheet AS sheet,
            source_row AS row,
            field,
            CASE WHEN length(value) > {MAX_VALUE_CHARS}
                THEN left(value, {MAX_VALUE_CHARS}) || format('…（共 {{}} 个字符）', length(value)) ELSE value END
                AS value,
            problem,
            fix,
            CASE action WHEN 'rejected' THEN '已拒收' ELSE '已采用' END AS action
        FROM (
            SELECT *, row_number() OVER (
                PARTITION BY source, source_file, problem ORDER BY source_sheet, source_row, field, rule
            ) AS nth
            FROM ({_quarantine(department, staged)})
        )
        ORDER BY list_position({list(department.sources)}, source), source_file, source_sheet NULLS FIRST,
            source_row, field, problem, rule
        """
    ).pl()
    duplicate = pl.col("rule") == "duplicate_row"
    return rows.with_columns(
        pl.when(duplicate)
        .then(source_records_for_people(pl.col("value")))
        .otherwise(pl.col("value"))
        .alias("value")
    ).drop("rule")


def visit_frame(con: duckdb.DuckDBPyConnection, department: Department) -> pl.DataFrame:
    """The 信息有误 outcomes of persons still on the proactive list whose reasons rest on a record of the
    department's sources: one row per outcome and record, in file and row order."""
    parts = [
        f"""SELECT '{source}' AS source, f.{column} AS source_record, v.*
            FROM proactive_visits AS v JOIN facts_persons AS f USING (person_id)
            WHERE list_has_any(string_split(v.visited_reasons, ';'), {list(reasons)})"""
        for source, column, reasons in _REASON_RECORDS
        if source in department.sources
    ]
    if not parts:
        return no_visits()
    staged = " UNION ALL ".join(
        f"SELECT source_record, source_file, source_sheet, source_row FROM staged_{source}"
        for source, _, _ in _REASON_RECORDS
        if source in department.sources
    )
    frame = con.sql(
        f"""
        WITH wrong AS ({" UNION ALL ".join(parts)})
        SELECT {_data_label()} AS data, regexp_replace(s.source_file, '^[^/]+/', '') AS file,
               s.source_sheet AS sheet, s.source_row AS row, p.name, w.person_id, w.visited_reasons AS reasons,
               concat_ws(' ', p.district, p.street, p.community) AS area, w.visited_on, w.decided_by AS visited_by,
               w.note
        FROM wrong AS w
        JOIN out_proactive AS p USING (person_id)
        JOIN ({staged}) AS s USING (source_record)
        WHERE w.outcome = 'RECORD_WRONG'
        ORDER BY file, sheet NULLS FIRST, row, w.person_id, w.visited_on, visited_by, w.note, reasons
        """
    ).pl()
    return frame.with_columns(
        pl.col("reasons").str.split(";").list.eval(pl.element().replace(LABELS)).list.join("、")
    )


def no_visits() -> pl.DataFrame:
    """The 走访反馈 rows of a department no proactive reason rests on, or of a night stopped before the lists."""
    types = {"row": pl.Int64, "visited_on": pl.Date}
    return pl.DataFrame(
        schema={c.key: types.get(c.key, pl.String) for c in VISIT_COLUMNS if c.key != "row_number"}
    )


def visit_feedback_rows(visits: pl.DataFrame) -> pl.DataFrame:
    """The 信息有误 outcomes in the feedback CSV's columns (after the problem rows): the record, the note as
    the problem, the street and worker in what to do."""
    return visits.select(
        "data",
        "file",
        "sheet",
        "row",
        field=pl.lit("整行"),
        value=pl.col("name"),
        problem=pl.format("街道走访反馈：信息有误——{}", "note"),
        fix=pl.format(
            "请核实此记录（{}，列入原因：{}），在源系统更正后下次报送；{} {} 走访，经办人 {}",
            "person_id",
            "reasons",
            "area",
            pl.col("visited_on").cast(pl.String),
            pl.col("visited_by").fill_null(""),
        ),
        action=pl.lit("已采用，待核实"),
    )


_NOTES = (
    "说明：",
    "1. 行号即在Excel或文本编辑器中看到的行号（标题行、表头计入），工作表为空的是CSV文件，可按“文件、工作表、行号”直接找到该行。",
    "2. 本次处理：“已拒收”的行本次未使用；“已采用”的行本次已使用（有问题的字段不采用），请在源系统修正，下次导出即可消除。",
    "3. 一个文件中问题行（拒收与需修正）的比例超过上限时，该数据整批不予使用，请优先修正。",
)


def feedback_sheets(
    department: Department,
    summary: pl.DataFrame,
    details: pl.DataFrame,
    visits: pl.DataFrame,
    as_of: str,
    max_rows: int,
    stopped: tuple[str, ...] = (),
) -> list[TableSheet]:
    """The summary sheet, the problem rows — all of them, or the `max_rows` first by `pick`, saying so — and
    the street offices' 信息有误 outcomes about the department's records. `stopped`: why the night stopped
    at the department's extracts, on a night a blocking check stopped (the summary says it first)."""
    title = f"数据质量反馈表　{department.label}　数据截至：{as_of}"
    shown = details.filter(pl.col("pick") <= max_rows).drop("pick").with_row_index("row_number", offset=1)
    if not details.height:
        count = "本期无问题行"
    elif shown.height < details.height:
        count = (
            f"问题行共 {details.height} 条，本表列出其中 {shown.height} 条（每个文件的每类问题都有），"
            f"全部见同一目录下的 feedback_{department.name}.csv"
        )
    else:
        count = f"问题行 {details.height} 条"
    return [
        TableSheet(
            name="汇总",
            title=title,
            subtitle="本次运行因本部门数据停止，名单未发布：" + "；".join(stopped) if stopped else None,
            columns=SUMMARY_COLUMNS,
            frame=summary.with_row_index("row_number", offset=1),
            page_header=f"数据质量反馈表·{department.label}",
            as_of=as_of,
            notes=(*_NOTES, f"4. {count}。"),
        ),
        TableSheet(
            name="问题明细",
            title=title,
            subtitle=count,
            columns=DETAIL_COLUMNS,
            frame=shown,
            page_header=f"数据质量反馈表·{department.label}·问题明细",
            as_of=as_of,
            page_break_by=("file",),
        ),
        TableSheet(
            name="走访反馈",
            title=title,
            subtitle=f"街道走访核实为信息有误的记录 {visits.height} 条"
            if visits.height
            else "本期无街道走访反馈",
            columns=VISIT_COLUMNS,
            frame=visits.with_row_index("row_number", offset=1),
            page_header=f"数据质量反馈表·{department.label}·走访反馈",
            as_of=as_of,
            notes=(
                "说明：街道、社区走访主动发现名单中的人员时，认为以上记录有误（如本人不在此居住、低保或残疾信息已过时），"
                "“走访说明”为经办人所写。请核实后在源系统更正，下次导出即可消除；该人员仍在名单上时本表每次都会列出。",
            ),
        ),
    ]


def write_feedback_csv(
    details: pl.DataFrame, visits: pl.DataFrame, department: Department, path: Path
) -> int:
    """Every problem row, then every 信息有误 outcome, in the workbook's Chinese columns, in the order its table
    declares (`aidmatch.tables.catalog`); returns the rows written."""
    rows = pl.concat([details.drop("pick"), visit_feedback_rows(visits)], how="diagonal_relaxed")
    named = rows.rename({c.key: c.header for c in DETAIL_COLUMNS if c.key in rows.columns})
    table = FEEDBACK_TABLES[department.name]
    named.select(c.name for c in table.published).write_csv(path, include_bom=True)
    return rows.height
