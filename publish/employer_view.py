"""The employers' view of the 单位吸纳 subsidy (直补快办): for each employer, the recognized 就业困难人员 it
hired, the months it paid for them and the subsidy period — what the bureau's letter to the employer lists,
so that the subsidy is paid without the employer applying (嘉兴 (三): "政策落地'直补快办'，确保政策应享尽享").

The rows are the SI_SUBSIDY_EMPLOYER rows of `out_entitlements`; an employer is its 单位编号, else its
单位名称, as the rule groups them. By `publish.workbook_per_employer`: one sheet per employer in
`entitlements_by_employer.xlsx` (`_01`, `_02` … past `EMPLOYERS_PER_FILE` employers), or one workbook per
employer under `by_employer/`, to send with each letter.
Each sheet is laid out and printed like the lists (`xlsx_files.py`), the evidence in Chinese as there
(`printed_lists.labels_for_people`).
"""

import re

import duckdb
import polars as pl

from aidmatch.publish.printed_lists import CONTACT_NOTE, labels_for_people
from aidmatch.publish.xlsx_files import SheetColumn, TableSheet

VIEW_FILE = "entitlements_by_employer.xlsx"
VIEW_FOLDER = "by_employer"
TITLE = "就业困难人员社会保险补贴（单位吸纳）名单"
# Widths add up to about 150 units, as the printed lists' (A4 landscape at 9 pt or more).
COLUMNS = (
    SheetColumn("row_number", "序号", 5, "number"),
    SheetColumn("name", "姓名", 7),
    SheetColumn("person_id", "公民身份号码", 23, "id"),
    SheetColumn("recognized_on", "就业困难人员认定日期", 13, "date"),
    SheetColumn("employed_from", "本单位首次缴费月份", 10),
    SheetColumn("paid_months", "近期已缴费月份", 14),
    SheetColumn("subsidy_until", "补贴期限至", 13, "date"),
    SheetColumn("confidence", "可信度", 6),
    SheetColumn("district", "区县", 7),
    SheetColumn("street", "街道", 10),
    SheetColumn("phone", "联系电话", 15, "id"),
    SheetColumn("evidence", "依据", 30),
)
NOTES = (
    "说明：以上人员为本单位新招用（社保缴费明细中本单位首次缴费不早于其认定月份）、经认定的就业困难人员，"
    "按规定享受社会保险补贴（单位吸纳），政策落地“直补快办”，无需单位申请。",
    "补贴期限自认定之日起计算，距法定退休年龄不足规定年限的延至退休；可信度为“需核实”的人员认定日期为空，"
    "须先核实认定日期再兑现。",
    CONTACT_NOTE,
)
_ROWS_SQL = """
    SELECT * FROM out_entitlements WHERE entitlement = 'SI_SUBSIDY_EMPLOYER'
    ORDER BY employer_id NULLS LAST, employer_name, district NULLS LAST, street NULLS LAST, name, person_id
"""
_NOT_IN_SHEET_NAME = re.compile(r"[\[\]:*?/\\]+")  # Excel refuses these in a sheet's name
_NOT_IN_FILE_NAME = re.compile(r"[^\w\u00b7-]+")
_SHEET_NAME_LENGTH = 31
# Employers (sheets) in one workbook of the view: a thousand tabs is as many as anyone pages through, and
# openpyxl checks a new sheet's name against every sheet before it — the 41,745 employers of a province in
# one workbook took minutes of that alone. Several workbooks are also written by several processes.
EMPLOYERS_PER_FILE = 1_000

Employer = tuple[str | None, str | None]  # 单位编号, 单位名称


def employer_frames(con: duckdb.DuckDBPyConnection) -> dict[Employer, pl.DataFrame]:
    """Each employer's rows as people read them (codes as labels, the evidence in Chinese, the first month
    as YYYY-MM), numbered, by employer."""
    frame = labels_for_people(con.sql(_ROWS_SQL).pl()).with_columns(
        pl.col("employed_from").dt.strftime("%Y-%m")
    )
    return {
        employer: part.with_row_index("row_number", offset=1)
        for employer, part in frame.partition_by(
            "employer_id", "employer_name", as_dict=True, maintain_order=True
        ).items()
    }


def _unique(name: str, taken: set[str], limit: int) -> str:
    """`name` cut to `limit` characters, with ~2, ~3 … when it is taken (compared case-insensitively)."""
    candidate, number = name[:limit], 1
    while candidate.casefold() in taken:
        number += 1
        suffix = f"~{number}"
        candidate = name[: limit - len(suffix)] + suffix
    taken.add(candidate.casefold())
    return candidate


def sheet_names(employers: list[Employer]) -> list[str]:
    """A sheet name per employer: `<单位编号> <单位名称>` without the characters Excel refuses, 31 at most, unique."""
    taken: set[str] = set()
    names = []
    for employer_id, employer_name in employers:
        text = " ".join(part for part in (employer_id, employer_name) if part) or "单位不详"
        names.append(_unique(_NOT_IN_SHEET_NAME.sub("_", text), taken, _SHEET_NAME_LENGTH))
    return names


def file_names(employers: list[Employer]) -> list[str]:
    """A file name per employer: `<单位编号>_<单位名称>.xlsx`, nothing but word characters, · and - from the
    data, unique."""
    taken: set[str] = set()
    names = []
    for employer_id, employer_name in employers:
        parts = [_NOT_IN_FILE_NAME.sub("_", part)[:40] for part in (employer_id, employer_name) if part]
        names.append(_unique("_".join(parts) or "单位不详", taken, 80) + ".xlsx")
    return names


def view_files(parts: int) -> list[str]:
    """The view's file names: `entitlements_by_employer.xlsx` when it is one workbook, else numbered from
    `_01` (as many digits as the last number needs), in the employers' order."""
    if parts == 1:
        return [VIEW_FILE]
    stem, digits = VIEW_FILE.removesuffix(".xlsx"), max(2, len(str(parts)))
    return [f"{stem}_{number:0{digits}d}.xlsx" for number in range(1, parts + 1)]


def _sheet(name: str, employer: Employer, frame: pl.DataFrame, as_of: str) -> TableSheet:
    employer_id, employer_name = employer
    unit = (
        f"单位：{employer_name or '名称不详'}　单位编号：{employer_id or '无'}"
        if employer != (None, None)
        else ""
    )
    return TableSheet(
        name=name,
        title=TITLE,
        subtitle=f"{unit}{'　' if unit else ''}数据截至：{as_of}　共 {frame.height} 人",
        columns=COLUMNS,
        frame=frame,
        page_header=f"{TITLE}·{employer_name or employer_id or ''}",
        as_of=as_of,
        notes=NOTES,
    )


def employer_workbooks(
    frames: dict[Employer, pl.DataFrame], as_of: str, workbook_per_employer: bool
) -> list[tuple[str, list[TableSheet]]]:
    """(path in the published folder, sheets) of the employers' view: workbooks holding a sheet per
    employer, `EMPLOYERS_PER_FILE` at most each (a sheet saying none when no employer subsidy is owed), or
    one workbook per employer."""
    employers = list(frames)
    if not workbook_per_employer:
        sheets = [
            _sheet(name, employer, frames[employer], as_of)
            for name, employer in zip(sheet_names(employers), employers, strict=True)
        ]
        if not sheets:
            empty = pl.DataFrame(schema={c.key: pl.String for c in COLUMNS})
            return [(VIEW_FILE, [_sheet("（无）", (None, None), empty, as_of)])]
        parts = [
            sheets[start : start + EMPLOYERS_PER_FILE] for start in range(0, len(sheets), EMPLOYERS_PER_FILE)
        ]
        return list(zip(view_files(len(parts)), parts, strict=True))
    return [
        (f"{VIEW_FOLDER}/{file}", [_sheet("单位吸纳社保补贴", employer, frames[employer], as_of)])
        for file, employer in zip(file_names(employers), employers, strict=True)
    ]
