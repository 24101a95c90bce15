"""The employers' view of the 单位吸纳 subsidy (直补快办): for each employer, the recognized 就业困难人员 it
hired, the months it paid for them and the subsidy period — what the bureau's letter to the employer lists,
so that the subsidy is paid without the employer applying (嘉兴 (三): "政策落地'直补快办'，确保政策应享尽享").

The rows are the SI_SUBSIDY_EMPLOYER rows of `out_entitlements`; an employer is its 单位编号, else its
单位名称, as the rule groups them. By `publish.workbook_per_employer`: one sheet in
`entitlements_by_employer.xlsx` grouped by employer — each employer's rows numbered from 1 and starting a
printed page, its 单位编号 and 单位名称 on every row (a filter picks one employer) — or one workbook per
employer under `by_employer/`, to send with each letter. Excel keeps at most 1,026 page breaks a sheet: past
`EMPLOYERS_PER_SHEET` employers the view goes on in a second sheet (单位1-1000, 单位1001-2000 …) of the same
workbook. Laid out and printed like the lists (`xlsx_files.py`), codes as their labels; the evidence stays in
entitlements.csv (the columns say the period and the months).
"""

import re

import duckdb
import polars as pl

from aidmatch.publish.printed_lists import labels_for_people
from aidmatch.publish.xlsx_files import MAX_PAGE_BREAKS, SheetColumn, TableSheet, unique_name

VIEW_FILE = "entitlements_by_employer.xlsx"
VIEW_FOLDER = "by_employer"
TITLE = "就业困难人员社会保险补贴（单位吸纳）名单"
_EMPLOYER = (
    SheetColumn("employer_id", "单位编号", 12, "id"),
    SheetColumn("employer_name", "单位名称", 16),
)
_PEOPLE = (
    SheetColumn("name", "姓名", 7),
    SheetColumn("person_id", "公民身份号码", 21, "id"),
    SheetColumn("recognized_on", "就业困难人员\n认定日期", 11, "date"),
    SheetColumn("employed_from", "本单位首次\n缴费月份", 8),
    SheetColumn("paid_months", "近期已缴费月份", 17),
    SheetColumn("subsidy_until", "补贴期限至", 11, "date"),
    SheetColumn("confidence", "可信度", 6),
    SheetColumn("phone", "联系电话", 13, "id"),
)
# The grouped view: the employer on every row; a workbook of one employer: the employer in its subtitle.
COLUMNS = (SheetColumn("row_number", "序号", 5, "number"), *_EMPLOYER, *_PEOPLE)
EMPLOYER_COLUMNS = (SheetColumn("row_number", "序号", 5, "number"), *_PEOPLE)
NOTES = (
    "说明：以上人员为本单位新招用（社保缴费明细中本单位首次缴费不早于其认定月份）、经认定的就业困难人员，"
    "按规定享受社会保险补贴（单位吸纳），政策落地“直补快办”，无需单位申请。",
    "补贴期限自认定之日起计算，距法定退休年龄不足规定年限的延至退休；可信度为“需核实”的人员认定日期为空，"
    "须先核实认定日期再兑现。认定依据及所据记录见 entitlements.csv 的 evidence 列。",
)
_ROWS_SQL = """
    SELECT * FROM out_entitlements WHERE entitlement = 'SI_SUBSIDY_EMPLOYER'
    ORDER BY employer_id NULLS LAST, employer_name, district NULLS LAST, street NULLS LAST, name, person_id
"""
_NOT_IN_FILE_NAME = re.compile(r"[^\w\u00b7-]+")
# Employers a sheet of the grouped view holds: each starts a page, and a sheet keeps 1,023 page breaks.
EMPLOYERS_PER_SHEET = 1_000
assert EMPLOYERS_PER_SHEET <= MAX_PAGE_BREAKS + 1

Employer = tuple[str | None, str | None]  # 单位编号, 单位名称


def employer_rows(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The view's rows as people read them (codes as labels, the first month as YYYY-MM, the paid months
    joined by 、 so that they wrap), grouped by employer, numbered from 1 within each."""
    frame = con.sql(_ROWS_SQL).pl()
    frame = labels_for_people(frame.drop("evidence")).with_columns(
        pl.col("employed_from").dt.strftime("%Y-%m"),
        pl.col("paid_months").str.replace_all(",", "、"),
    )
    return frame.with_columns(
        row_number=pl.int_range(1, pl.len() + 1).over("employer_id", "employer_name", order_by=None)
    )


def file_names(employers: list[Employer]) -> list[str]:
    """A file name per employer: `<单位编号>_<单位名称>.xlsx`, nothing but word characters, · and - from the
    data, unique."""
    taken: set[str] = set()
    names = []
    for employer_id, employer_name in employers:
        parts = [_NOT_IN_FILE_NAME.sub("_", part)[:40] for part in (employer_id, employer_name) if part]
        names.append(unique_name("_".join(parts) or "单位不详", taken, 80) + ".xlsx")
    return names


# On every page of the grouped view (the title rows repeat): each employer's pages go out with its letter.
_EVERY_PAGE = (
    "所列人员为本单位新招用的就业困难人员，按规定享受社会保险补贴（单位吸纳），“直补快办”，无需单位申请。"
)


def _subtitle(frame: pl.DataFrame, as_of: str, employer: Employer | None = None) -> str:
    if employer is None:
        employers = (
            frame.select(pl.struct("employer_id", "employer_name").n_unique()).item() if frame.height else 0
        )
        return f"{_EVERY_PAGE}数据截至：{as_of}　共 {employers} 家单位 {frame.height} 人"
    employer_id, employer_name = employer
    return f"单位：{employer_name or '名称不详'}　单位编号：{employer_id or '无'}　数据截至：{as_of}　共 {frame.height} 人"


def employer_workbooks(
    rows: pl.DataFrame, as_of: str, workbook_per_employer: bool
) -> list[tuple[str, list[TableSheet]]]:
    """(path in the published folder, sheets) of the employers' view: one workbook of the employers grouped
    (a sheet per `EMPLOYERS_PER_SHEET`; one sheet saying none when no employer subsidy is owed), or one
    workbook per employer."""
    if workbook_per_employer:
        parts = rows.partition_by("employer_id", "employer_name", as_dict=True, maintain_order=True)
        return [
            (
                f"{VIEW_FOLDER}/{file}",
                [
                    TableSheet(
                        name="单位吸纳社保补贴",
                        title=TITLE,
                        subtitle=_subtitle(frame, as_of, employer),
                        columns=EMPLOYER_COLUMNS,
                        frame=frame,
                        page_header=f"{TITLE}·{employer[1] or employer[0] or ''}",
                        as_of=as_of,
                        notes=NOTES,
                    )
                ],
            )
            for file, (employer, frame) in zip(file_names(list(parts)), parts.items(), strict=True)
        ]
    return [(VIEW_FILE, _grouped_sheets(rows, as_of))]


def _grouped_sheets(rows: pl.DataFrame, as_of: str) -> list[TableSheet]:
    """The grouped view's sheets: `EMPLOYERS_PER_SHEET` employers each, a page break before each employer."""
    employer = rows.select(pl.struct("employer_id", "employer_name").rle_id()).to_series()
    employers = int(employer.max()) + 1 if rows.height else 0
    count = max(1, -(-employers // EMPLOYERS_PER_SHEET))
    sheets = []
    for number in range(count):
        first, last = number * EMPLOYERS_PER_SHEET, min(employers, (number + 1) * EMPLOYERS_PER_SHEET)
        part = rows.filter((employer >= first) & (employer < last)) if rows.height else rows
        sheets.append(
            TableSheet(
                name="单位吸纳社保补贴" if count == 1 else f"单位{first + 1}-{last}",
                title=TITLE,
                subtitle=_subtitle(part, as_of),
                columns=COLUMNS,
                frame=part,
                page_header=TITLE,
                as_of=as_of,
                page_break_by=("employer_id", "employer_name"),
                notes=NOTES,
            )
        )
    return sheets
