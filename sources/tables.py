"""The staged tables: one place that declares every column of every source after normalization.

Readers produce raw text columns under these canonical names; normalizers turn them into the
typed columns below; the staging asset creates the DuckDB tables from these declarations; the
Pandera schemas and asset checks in `checks/` are generated from them. Declare a column here once.

Conventions that every stage relies on:
- `source_record` is `<folder>/<file>[#<sheet>]:<row>` (SPEC section 5), the row as a spreadsheet
  or text editor shows it, header and title rows counted.
- `id_norm` is the normalized 18-character citizen ID when the raw value could be normalized to
  18 characters (NFKC, spaces dropped, X upper-cased, 15→18 converted), even when its check digit
  or date is wrong; `id_valid` says whether it passes GB 11643-1999; `id_issue` says why not.
- `birth_date` / `sex` come from the source's own columns only (NULL where the source has none): the
  linker compares them with the person's ID as evidence independent of the record's own ID.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    """One column, declared once: the DDL, the Pandera and Dagster schemas, the CSV column order and the
    case systems' schema (`aidmatch.tables`) are generated from these fields."""

    name: str
    sql_type: str
    description: str
    nullable: bool = True
    codes: str | None = None  # the code list its values come from (`aidmatch.tables.codes`)
    separator: str | None = None  # several values in one cell, joined by this (reasons: ";")
    pattern: str | None = None  # a regular expression every whole value (each joined value) matches
    generated: str | None = None  # SQL of a virtual column computed from the table's other columns
    published: bool = True  # written to the CSV file of its table, if it has one


# Patterns a whole value (each joined value) matches, anchored implicitly as Table Schema's are.
PERSON_ID_PATTERN = r"\d{17}[\dX]"
SOURCE_RECORD_PATTERN = r"[^/]+/[^:#]+(#[^:]+)?:\d+"

IDENTITY_COLUMNS: tuple[Column, ...] = (
    Column(
        "source",
        "VARCHAR",
        "source folder: unemployment, dibao, disability, si_persons, si_contributions",
        False,
    ),
    Column(
        "source_record",
        "VARCHAR",
        "<folder>/<file>[#<sheet>]:<row>, for stewards to find the row",
        False,
        pattern=SOURCE_RECORD_PATTERN,
    ),
    Column("source_file", "VARCHAR", "file path relative to the input root, e.g. dibao/东城区.xlsx", False),
    Column("source_sheet", "VARCHAR", "sheet name for xlsx, NULL for csv"),
    Column("source_row", "INTEGER", "1-based row/line number as shown by Excel or an editor", False),
    Column(
        "id_raw", "VARCHAR", "the ID as read (text): trimmed, cut to the cell limit, no control characters"
    ),
    Column("id_norm", "VARCHAR", "normalized 18-char ID, NULL when missing or unrecoverable"),
    Column("id_valid", "BOOLEAN", "id_norm passes length, date and MOD 11-2 check", False),
    Column(
        "id_issue",
        "VARCHAR",
        "NULL when valid; else missing | excel_numeric | bad_chars | bad_length | bad_date | bad_checksum",
    ),
    Column("id_prefix", "VARCHAR", "for excel_numeric IDs: the digits that survived (never a repaired ID)"),
    Column("name_raw", "VARCHAR", "the name as read: trimmed, cut to the cell limit, no control characters"),
    Column(
        "name", "VARCHAR", "normalized name: NFKC, no spaces, U+00B7 middle dot, simplified, note removed"
    ),
    Column("name_alias", "VARCHAR", "a bracketed note from the name (e.g. 曾用名张珊), normalized"),
    Column("sex", "VARCHAR", "男 or 女, from the source's column"),
    Column("birth_date", "DATE", "from the source's column"),
)

SOURCE_COLUMNS: dict[str, tuple[Column, ...]] = {
    "unemployment": (
        Column("ethnicity", "VARCHAR", "民族"),
        Column("hukou_type", "VARCHAR", "户籍性质 normalized to 城镇 / 农村"),
        Column("phone", "VARCHAR", "联系电话"),
        Column("address", "VARCHAR", "居住地址"),
        Column("street", "VARCHAR", "所属街道"),
        Column("community", "VARCHAR", "所属社区"),
        Column("registered_on", "DATE", "失业登记日期"),
        Column("is_difficult", "BOOLEAN", "就业困难人员 是/否"),
        Column(
            "difficulty_categories",
            "VARCHAR[]",
            "就业困难人员类别 split on 、，, ; values 大龄 残疾 低保 长期失业 零就业家庭 失地 其他",
        ),
        Column("recognized_on", "DATE", "认定日期"),
    ),
    "dibao": (
        Column("household_id", "VARCHAR", "户编号"),
        Column("assistance_type", "VARCHAR", "保障类型: 城市低保 农村低保 城市低保边缘 农村低保边缘"),
        Column("head_name", "VARCHAR", "户主姓名 (normalized like name)"),
        Column("head_id_norm", "VARCHAR", "户主身份证号 normalized"),
        Column("relation", "VARCHAR", "与户主关系"),
        Column("work_capacity", "VARCHAR", "劳动能力: 有劳动能力 部分丧失劳动能力 完全丧失劳动能力"),
        Column("employment_status", "VARCHAR", "就业状况: 在业 失业 在校学生 退休 其他"),
        Column("assistance_status", "VARCHAR", "保障状态: 在保 停保"),
        Column("start_date", "DATE", "保障起始日期"),
        Column("stop_date", "DATE", "停保日期"),
        Column("monthly_amount", "DOUBLE", "月保障金额"),
        Column("district", "VARCHAR", "所属区县"),
        Column("street", "VARCHAR", "所属街道"),
    ),
    "disability": (
        Column("card_no", "VARCHAR", "残疾人证号 normalized (20 chars: ID + category digit + grade digit)"),
        Column("disability_category", "VARCHAR", "残疾类别: 视力 听力 言语 肢体 智力 精神 多重"),
        Column("disability_grade", "INTEGER", "残疾等级 1..4 (一级..四级)"),
        Column("issued_on", "DATE", "发证日期"),
        Column("valid_until", "DATE", "有效期至"),
        Column("card_status", "VARCHAR", "证件状态: 有效 注销 过期"),
        Column("address", "VARCHAR", "户籍地址"),
    ),
    "si_persons": (
        Column("person_status", "VARCHAR", "个人状态: 参保缴费 暂停缴费 终止参保 离退休 死亡"),
        Column("retired_on", "DATE", "离退休日期"),
        Column("died_on", "DATE", "死亡日期"),
        Column("insured_place", "VARCHAR", "参保地"),
    ),
    "si_contributions": (
        Column("employer_id", "VARCHAR", "单位编号"),
        Column("employer_name", "VARCHAR", "单位名称"),
        Column("contribution_type", "VARCHAR", "缴费类型: 单位职工 灵活就业 城乡居民"),
        Column("insurance_type", "VARCHAR", "险种"),
        Column("period_month", "DATE", "费款所属期 YYYYMM as the first day of that month"),
        Column("contribution_base", "DOUBLE", "缴费基数"),
        Column("payment_status", "VARCHAR", "缴费状态: 已实缴 欠费"),
    ),
}

SOURCES: tuple[str, ...] = tuple(SOURCE_COLUMNS)
# Each source as its department's people name it, in messages and workbooks for people.
SOURCE_LABELS: dict[str, str] = {
    "unemployment": "登记失业",
    "dibao": "低保",
    "disability": "残联",
    "si_persons": "社保参保",
    "si_contributions": "社保缴费",
}


@dataclass(frozen=True)
class Department:
    """A department that sends extracts, as its data-quality feedback (数据质量反馈表) is addressed."""

    name: str  # feedback_<name>.xlsx and .csv
    label: str  # the department and its extract, as the title names them
    sources: tuple[str, ...]


DEPARTMENTS: tuple[Department, ...] = (
    Department("unemployment", "人社部门·登记失业人员", ("unemployment",)),
    Department("dibao", "民政部门·最低生活保障（低保、低保边缘）", ("dibao",)),
    Department("disability", "残联·持证残疾人", ("disability",)),
    Department("social_insurance", "社保经办机构·参保人员与缴费明细", ("si_persons", "si_contributions")),
)
assert sorted(s for d in DEPARTMENTS for s in d.sources) == sorted(SOURCES), "every source has one department"

# `source_record` from its parts. Tables of ten million rows (raw, staged, links) store the parts and
# declare `source_record` as a virtual column of this expression: the unique strings are costly to write.
# One `concat` (which skips the NULL of a CSV's sheet) builds each string once, where a chain of `||` built
# three on the way: person_links.csv written in 7.7–11.9 CPU-s where 9.7–15.6 (three alternating runs).
SOURCE_RECORD_SQL = "concat(source_file, '#' || source_sheet, ':', source_row)"
SOURCE_RECORD_COLUMN = f"source_record VARCHAR GENERATED ALWAYS AS ({SOURCE_RECORD_SQL}) VIRTUAL"
# A record's place: file, sheet (NULL in a CSV), row — what joins a record's rows of two tables.
RECORD_PLACE_COLUMNS = ("source_file", "source_sheet", "source_row")


def same_place_sql(left: str, right: str) -> str:
    """SQL: the rows aliased `left` and `right` are of the same record's place, on its stored parts rather
    than the computed `source_record`. A CSV's sheet is NULL in both; the file and row never are, and their
    equality lets DuckDB narrow a scan to the row groups of the rows a join finds (a city's contributions of
    60,000 persons joined in 0.08 s, where 0.18 with `IS NOT DISTINCT FROM` on all three)."""
    return (
        f"{left}.source_file = {right}.source_file AND {left}.source_row = {right}.source_row "
        f"AND {left}.source_sheet IS NOT DISTINCT FROM {right}.source_sheet"
    )


# The row number of a `source_record` (`…:<row>`), for ordering records as a steward reads the file.
SOURCE_ROW_SQL = "TRY_CAST(regexp_extract(source_record, ':(\\d+)$', 1) AS INTEGER)"


def staged_columns(source: str) -> tuple[Column, ...]:
    """All columns of `staged_<source>`, identity columns first."""
    return IDENTITY_COLUMNS + SOURCE_COLUMNS[source]


def staged_table_sql(source: str) -> str:
    """The column definitions of `staged_<source>`; `source_record` is virtual (SOURCE_RECORD_SQL)."""
    return ", ".join(
        SOURCE_RECORD_COLUMN if c.name == "source_record" else f"{c.name} {c.sql_type}"
        for c in staged_columns(source)
    )
