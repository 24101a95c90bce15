"""What the published workbooks for people look like: areas, distribution per street and per employer,
the monthly report.

One frozen dataclass, validated on construction; `aidmatch.settings` loads it from the `publish:`
section of the YAML config and the manifest echoes it.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class PublishSettings:
    # The area the bureau covers, for the title rows and the progress table's 单位 (e.g. 嘉兴市 or 南湖区);
    # null: a workbook holding one district names that district, else reads "全部区县".
    area_name: str | None = None
    # The monthly progress table (进度表) counts from this day of the month: 1 for calendar months, 26 for
    # months reported on the 25th. It compares this run with the last one published before that day; the
    # street offices' work lists (by_street/) mark new what entered the lists since that run.
    progress_period_start_day: int = 1
    # A department's feedback workbook shows at most this many problem rows (every file's and problem's
    # first ones); feedback_<department>.csv holds them all. A spreadsheet cell costs some 30 µs to write.
    feedback_max_rows: int = 5_000
    # The employers' view of the 单位吸纳 subsidy (直补快办): false, entitlements_by_employer.xlsx, one sheet
    # grouped by employer, each employer on pages of its own (past a thousand employers, a next sheet of
    # a thousand); true, one workbook per employer (by_employer/<单位编号>_<单位名称>.xlsx), each ready to
    # send with its letter.
    workbook_per_employer: bool = False

    def __post_init__(self) -> None:
        if not 1 <= self.progress_period_start_day <= 28:
            raise ValueError("progress_period_start_day must be between 1 and 28 (every month has the day)")
        if not 1 <= self.feedback_max_rows <= 1_000_000:
            raise ValueError("feedback_max_rows must be between 1 and 1000000 (a sheet holds 1048576 rows)")
        if self.area_name is not None and not self.area_name.strip():
            raise ValueError("area_name must be null or a name such as 嘉兴市")
