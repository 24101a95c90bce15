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
"""

from pathlib import Path

import duckdb
import polars as pl

from aidmatch.publish.printed_lists import source_records_for_people
from aidmatch.publish.xlsx_files import SheetColumn, TableSheet
from aidmatch.sources.tables import SOURCE_LABELS, Department
from aidmatch.tables.catalog import FEEDBACK_TABLES

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


def _quarantine(department: Department) -> str:
    return " UNION ALL ".join(f"SELECT * FROM quarantine_{source}" for source in department.sources)


def _data_label() -> str:
    return (
        "CASE source " + " ".join(f"WHEN '{s}' THEN '{label}'" for s, label in SOURCE_LABELS.items()) + " END"
    )


def summary_frame(con: duckdb.DuckDBPyConnection, department: Department, max_rate: float) -> pl.DataFrame:
    """One row per file read of the department's sources, with its counts, problems and verdict."""
    sources = ", ".join(f"'{s}'" for s in department.sources)
    return con.sql(
        f"""
        WITH q AS ({_quarantine(department)}),
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
            SELECT f.source, f.file, f.rows_read,
                   coalesce(p.rows_rejected, 0) AS rows_rejected, coalesce(p.rows_to_fix, 0) AS rows_to_fix,
                   coalesce(pp.problems, '无') AS problems
            FROM ingest_files AS f
            LEFT JOIN per_file AS p ON p.source_file = f.file
            LEFT JOIN per_problem AS pp ON pp.source_file = f.file
            WHERE f.source IN ({sources}) AND f.status = 'read'
        )
        SELECT
            {_data_label()} AS data,
            regexp_replace(file, '^[^/]+/', '') AS file,
            rows_read, rows_rejected, rows_to_fix,
            CASE WHEN rows_read > 0 THEN (rows_rejected + rows_to_fix) / rows_read END AS problem_share,
            problems,
            CASE
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


def detail_frame(con: duckdb.DuckDBPyConnection, department: Department) -> pl.DataFrame:
    """Every quarantine row of the department's sources, file by file, row by row. A duplicate's value, the
    record it copies, is named as the steward says it (社保缴费 东城区.csv 第267行). `pick` orders the rows
    for a workbook that cannot show them all: every file's and problem's first row, then their second, …"""
    rows = con.sql(
        f"""
        SELECT
            row_number() OVER (
                ORDER BY nth, list_position({list(department.sources)}, source), source_file, source_sheet,
                    source_row, field, problem
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
            SELECT *, row_number() OVER (PARTITION BY source, source_file, problem ORDER BY source_sheet, source_row)
                AS nth
            FROM ({_quarantine(department)})
        )
        ORDER BY list_position({list(department.sources)}, source), source_file, source_sheet NULLS FIRST,
            source_row, field, problem
        """
    ).pl()
    duplicate = pl.col("rule") == "duplicate_row"
    return rows.with_columns(
        pl.when(duplicate)
        .then(source_records_for_people(pl.col("value")))
        .otherwise(pl.col("value"))
        .alias("value")
    ).drop("rule")


_NOTES = (
    "说明：",
    "1. 行号即在Excel或文本编辑器中看到的行号（标题行、表头计入），工作表为空的是CSV文件，可按“文件、工作表、行号”直接找到该行。",
    "2. 本次处理：“已拒收”的行本次未使用；“已采用”的行本次已使用（有问题的字段不采用），请在源系统修正，下次导出即可消除。",
    "3. 一个文件中问题行（拒收与需修正）的比例超过上限时，该数据整批不予使用，请优先修正。",
)


def feedback_sheets(
    department: Department, summary: pl.DataFrame, details: pl.DataFrame, as_of: str, max_rows: int
) -> list[TableSheet]:
    """The summary sheet, then the problem rows: all of them, or the `max_rows` first by `pick`, saying so."""
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
    ]


def write_feedback_csv(details: pl.DataFrame, department: Department, path: Path) -> int:
    """Every problem row in the workbook's Chinese columns, in the order its table declares
    (`aidmatch.tables.catalog`); returns the rows written."""
    named = details.rename({c.key: c.header for c in DETAIL_COLUMNS if c.key in details.columns})
    table = FEEDBACK_TABLES[department.name]
    named.select(c.name for c in table.published).write_csv(path, include_bom=True)
    return details.height
