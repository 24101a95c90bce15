"""The employers' view of the 单位吸纳 subsidy (直补快办): for each employer, the recognized 就业困难人员 it
hired, the months it paid for them and the subsidy period — what the bureau's letter to the employer lists,
so that the subsidy is paid without the employer applying (嘉兴 (三): "政策落地'直补快办'，确保政策应享尽享").

The rows are the SI_SUBSIDY_EMPLOYER rows of `out_entitlements`; an employer is its 单位编号, else its
单位名称, as the rule groups them. By `publish.workbook_per_employer`: one sheet per employer in
`entitlements_by_employer.xlsx`, or one workbook per employer under `by_employer/`, to send with each letter.
"""

import re
from pathlib import Path

import duckdb
import polars as pl

from aidmatch.publish.xlsx_files import write_workbook
from aidmatch.rules.codes import LABELS

VIEW_FILE = "entitlements_by_employer.xlsx"
VIEW_FOLDER = "by_employer"
HEADERS = {
    "employer_id": "单位编号",
    "employer_name": "单位名称",
    "person_id": "公民身份号码",
    "name": "姓名",
    "recognized_on": "就业困难人员认定日期",
    "employed_from": "本单位首次缴费月份",
    "paid_months": "近期已缴费月份",
    "subsidy_until": "补贴期限至",
    "confidence": "可信度",
    "evidence": "比对依据",
}
_ROWS_SQL = f"""
    SELECT {", ".join(HEADERS)}
    FROM out_entitlements WHERE entitlement = 'SI_SUBSIDY_EMPLOYER'
    ORDER BY employer_id NULLS LAST, employer_name, person_id
"""
_NOT_IN_SHEET_NAME = re.compile(r"[\[\]:*?/\\]+")  # Excel refuses these in a sheet's name
_NOT_IN_FILE_NAME = re.compile(r"[^\w\u00b7-]+")
_SHEET_NAME_LENGTH = 31

Employer = tuple[str | None, str | None]  # 单位编号, 单位名称


def employer_frames(con: duckdb.DuckDBPyConnection) -> dict[Employer, pl.DataFrame]:
    """Each employer's rows as people read them (codes as labels, months as YYYY-MM), by employer."""
    frame = (
        con.sql(_ROWS_SQL)
        .pl()
        .with_columns(
            pl.col("employed_from").dt.strftime("%Y-%m"),
            pl.col("confidence").replace(LABELS),
        )
    )
    return {
        (employer_id, employer_name): part
        for (employer_id, employer_name), part in frame.partition_by(
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


def write_employer_view(
    frames: dict[Employer, pl.DataFrame], folder: Path, workbook_per_employer: bool
) -> dict[str, int]:
    """Write the employers' view into `folder` (no database needed: a worker thread may do it); return
    each file's data rows by its path in the folder (for the manifest)."""
    employers = list(frames)
    if not workbook_per_employer:
        sheets = dict(zip(sheet_names(employers), frames.values(), strict=True))
        empty = pl.DataFrame(schema={column: pl.String for column in HEADERS})
        write_workbook(folder / VIEW_FILE, sheets or {"（无）": empty}, HEADERS)
        return {VIEW_FILE: sum(frame.height for frame in frames.values())}
    written = {}
    if employers:
        (folder / VIEW_FOLDER).mkdir()
    for name, frame in zip(file_names(employers), frames.values(), strict=True):
        write_workbook(folder / VIEW_FOLDER / name, {"单位吸纳社保补贴": frame}, HEADERS)
        written[f"{VIEW_FOLDER}/{name}"] = frame.height
    return written
