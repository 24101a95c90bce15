"""File layout: the extracts as departments write them — xlsx, xls, CSV and text exports, subfolders, titles,
footers, sheets, encodings.

What belongs here: the reference headers and their aliases, one `FileLayout` per file of each source
(together they show every layout defect of SPEC section 2), rendering a damaged record frame into the
cells of one file (date formats, Excel numbers), writing it, and the `source_record` of every data row.
What does not: which records exist (`world.py`) or how their IDs and names are damaged (`defects.py`).
"""

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import openpyxl
import polars as pl
import xlwt

from aidmatch.data_samples.pools import CLERKS

# Reference headers per source (SPEC section 2), keyed by the column names of the record frames.
HEADERS: dict[str, tuple[tuple[str, str], ...]] = {
    "unemployment": (
        ("name", "姓名"), ("id", "公民身份号码"), ("sex", "性别"), ("birth_date", "出生日期"),
        ("ethnicity", "民族"), ("hukou_type", "户籍性质"), ("phone", "联系电话"), ("address", "居住地址"),
        ("street", "所属街道"), ("community", "所属社区"), ("registered_on", "失业登记日期"),
        ("is_difficult", "就业困难人员"), ("difficulty_categories", "就业困难人员类别"),
        ("recognized_on", "认定日期"),
    ),
    "dibao": (
        ("household_id", "户编号"), ("assistance_type", "保障类型"), ("head_name", "户主姓名"),
        ("head_id", "户主身份证号"), ("name", "成员姓名"), ("id", "成员身份证号"), ("relation", "与户主关系"),
        ("sex", "性别"), ("birth_date", "出生日期"), ("work_capacity", "劳动能力"),
        ("employment_status", "就业状况"), ("assistance_status", "保障状态"), ("start_date", "保障起始日期"),
        ("stop_date", "停保日期"), ("monthly_amount", "月保障金额"), ("district", "所属区县"),
        ("street", "所属街道"),
    ),
    "disability": (
        ("name", "姓名"), ("card_no", "残疾人证号"), ("id", "身份证号"), ("sex", "性别"),
        ("disability_category", "残疾类别"), ("disability_grade", "残疾等级"), ("issued_on", "发证日期"),
        ("valid_until", "有效期至"), ("card_status", "证件状态"), ("address", "户籍地址"),
    ),
    "si_persons": (
        ("id", "社会保障号码"), ("name", "姓名"), ("sex", "性别"), ("birth_date", "出生日期"),
        ("person_status", "个人状态"), ("retired_on", "离退休日期"), ("died_on", "死亡日期"),
        ("insured_place", "参保地"),
    ),
    "si_contributions": (
        ("id", "社会保障号码"), ("name", "姓名"), ("employer_id", "单位编号"), ("employer_name", "单位名称"),
        ("contribution_type", "缴费类型"), ("insurance_type", "险种"), ("period_month", "费款所属期"),
        ("contribution_base", "缴费基数"), ("payment_status", "缴费状态"),
    ),
}  # fmt: skip
TITLES = {
    "unemployment": ("{district}登记失业人员花名册", "制表单位：{district}就业服务中心"),
    "dibao": ("{district}城乡低保及低保边缘家庭成员名册", "制表单位：{district}民政局"),
    "disability": ("{district}持证残疾人名册", "制表单位：{district}残疾人联合会"),
    "si_persons": ("{district}社会保险参保人员名单", "制表单位：{district}社会保险事业管理中心"),
    "si_contributions": ("{district}社会保险缴费明细", "制表单位：{district}社会保险事业管理中心"),
}
# Dates that may be left empty: the ID carries the birth date; an empty 认定日期 makes an entitlement review.
OPTIONAL_DATES = ("birth_date", "recognized_on", "issued_on", "start_date")
DATE_STYLES = ("iso", "slash", "compact", "chinese", "serial", "cell")
EXCEL_EPOCH = date(1899, 12, 30)
# Rendered workbook cells that must become a number or a real date cell start with these markers.
NUMBER, DATE = "\x00n", "\x00d"
GB18030_CHUNK_ROWS = 200_000
XLS_MAX_ROWS = 65_536  # rows in an Excel 97–2003 sheet: a bigger district's .xls holds more sheets


@dataclass(frozen=True)
class FileLayout:
    """How one department's file for one district looks."""

    district: str
    fmt: str  # xlsx | xls | csv | txt (a tab-separated text export)
    encoding: str = "utf-8"  # csv, txt: gb18030 | utf-8-sig | utf-8
    titles: int = 0  # title rows above the header (0, 1 or 2)
    footer: bool = False  # 合计 / 制表人 / 制表日期 rows below the data
    sheets: int = 1  # workbooks: the rows are split over this many sheets (at least)
    blank_rate: float = 0.0  # workbooks: share of data rows followed by a blank row
    serial: bool = False  # a 序号 column first
    remark: bool = False  # a 备注 column last
    aliases: dict[str, str] = field(
        default_factory=dict
    )  # column key -> header used instead of the reference
    date_style: str = "iso"  # the file's usual date format; about a quarter of dates use the others
    farm_words: bool = False  # 户籍性质 as 非农业/农业 instead of 城镇/农村
    month_folder: bool = False  # filed in a subfolder per month: 2026年11月/<district>.<fmt>

    @property
    def workbook(self) -> bool:
        return self.fmt in ("xlsx", "xls")

    def file_path(self, as_of: date) -> str:
        """The file's path within its source folder."""
        folder = f"{as_of.year}年{as_of.month}月/" if self.month_folder else ""
        return f"{folder}{self.district}.{self.fmt}"


LAYOUTS: dict[str, tuple[FileLayout, ...]] = {
    "unemployment": (
        FileLayout("东城区", "xlsx", titles=2, footer=True, sheets=2, blank_rate=0.02, serial=True,
                   date_style="chinese"),
        FileLayout("西城区", "csv", "gb18030", titles=1, footer=True, aliases={"id": "身份证号码"},
                   date_style="slash", farm_words=True),
        FileLayout("朝阳区", "xlsx", titles=1, blank_rate=0.02, remark=True, aliases={"id": "身份证号"},
                   date_style="serial"),
        FileLayout("海淀区", "csv", "utf-8-sig", aliases={"id": "证件号码"}, date_style="compact",
                   month_folder=True),
    ),
    "dibao": (
        FileLayout("东城区", "xlsx", titles=2, footer=True, sheets=2, date_style="cell"),
        FileLayout("西城区", "csv", "utf-8", aliases={"id": "成员身份证号码", "head_id": "户主身份证号码"}),
        FileLayout("朝阳区", "csv", "gb18030", serial=True, date_style="chinese"),
        FileLayout("海淀区", "xlsx", titles=1, blank_rate=0.02, remark=True, date_style="serial"),
    ),
    "disability": (
        FileLayout("东城区", "csv", "utf-8-sig"),
        FileLayout("西城区", "xls", titles=2, footer=True, blank_rate=0.02, aliases={"id": "身份证号码"},
                   date_style="cell"),
        FileLayout("朝阳区", "csv", "gb18030", titles=1, footer=True, date_style="compact"),
        FileLayout("海淀区", "xlsx", sheets=2, serial=True, date_style="slash"),
    ),
    "si_persons": (
        FileLayout("东城区", "csv", "gb18030", aliases={"id": "公民身份号码"}, date_style="compact"),
        FileLayout("西城区", "csv", "utf-8-sig"),
        FileLayout("朝阳区", "txt", "utf-8", date_style="slash"),
        FileLayout("海淀区", "csv", "utf-8-sig", titles=1, footer=True, date_style="chinese"),
    ),
    "si_contributions": (
        FileLayout("东城区", "csv", "gb18030"),
        FileLayout("西城区", "csv", "utf-8"),
        FileLayout("朝阳区", "csv", "utf-8-sig", remark=True),
        FileLayout("海淀区", "csv", "utf-8", serial=True),
    ),
}  # fmt: skip


def write_source(
    records: pl.DataFrame, source: str, out: Path, rng: np.random.Generator, as_of: date
) -> pl.DataFrame:
    """Write a source's files under `out/<source>/`; return its records with `source_record` added, and
    the optional dates the file leaves empty emptied (the expected lists must see what the file says)."""
    written = []
    for layout in LAYOUTS[source]:
        part = _place_rows(records.filter(pl.col("district") == layout.district), layout, rng)
        table = render(part, source, layout, rng)
        part = part.with_columns(
            pl.when(table[layout.aliases.get(key, header)].is_not_null()).then(key).alias(key)
            for key, header in HEADERS[source]
            if key in OPTIONAL_DATES and part.schema[key] == pl.Date
        )
        footer_date = as_of if layout.footer else None
        titles = [t.format(district=layout.district) for t in TITLES[source][: layout.titles]]
        file = f"{source}/{layout.file_path(as_of)}"
        (out / file).parent.mkdir(parents=True, exist_ok=True)
        if layout.workbook:
            _write_workbook(out / file, layout.fmt, table, part, titles, footer_date)
        else:
            delimiter = "\t" if layout.fmt == "txt" else ","
            _write_csv(out / file, table, layout.encoding, delimiter, titles, footer_date)
        sheet = pl.concat_str(pl.lit("#"), "sheet") if layout.workbook else pl.lit("")
        written.append(
            part.with_columns(source_record=pl.concat_str(pl.lit(file), sheet, pl.lit(":"), "row"))
        )
    return pl.concat(written).drop("sheet", "row", "blank_after")


def _place_rows(part: pl.DataFrame, layout: FileLayout, rng: np.random.Generator) -> pl.DataFrame:
    """Give each data row its sheet, whether a blank row follows it, and its row number as Excel shows it."""
    k = part.height
    sheets = layout.sheets
    if layout.fmt == "xls":  # room for the titles, header, blank rows and footer in each sheet
        sheets = max(sheets, -(-k // (XLS_MAX_ROWS * 9 // 10)))
    sheet_index = np.arange(k) * sheets // max(k, 1)
    blank_after = rng.random(k) < layout.blank_rate if layout.workbook else np.zeros(k, dtype=bool)
    return part.with_columns(
        # built as text even for a district with no rows (an empty object column would not stack)
        sheet=pl.concat_str(
            pl.lit("Sheet"), pl.lit(pl.Series(sheet_index + 1, dtype=pl.Int64)).cast(pl.String)
        ),
        blank_after=pl.Series(blank_after),
    ).with_columns(
        row=(
            layout.titles
            + 2
            + pl.int_range(pl.len()).over("sheet")
            + (pl.col("blank_after").cum_sum() - pl.col("blank_after")).over("sheet").cast(pl.Int64)
        )
    )


def render(part: pl.DataFrame, source: str, layout: FileLayout, rng: np.random.Generator) -> pl.DataFrame:
    """The cells of one file as text columns under their headers (xlsx numbers and dates carry a marker)."""
    k = part.height
    cells: dict[str, pl.Expr] = {}
    for key, header in HEADERS[source]:
        cells[layout.aliases.get(key, header)] = _cell(part, source, key, layout, rng).cast(pl.String)
    if layout.serial:
        number = pl.lit(NUMBER if layout.workbook else "")
        cells = {"序号": pl.concat_str(number, pl.int_range(1, pl.len() + 1)), **cells}
    if layout.remark:
        remarks = np.where(
            rng.random(k) < 0.1, np.asarray(["已核实", "新增", "变更"])[rng.integers(0, 3, k)], ""
        )
        cells["备注"] = pl.lit(pl.Series(remarks, dtype=pl.String))
    table = part.select(**cells)
    if layout.workbook:
        return table
    return table.with_columns(pl.all().replace("", None))


def _cell(part: pl.DataFrame, source: str, key: str, layout: FileLayout, rng: np.random.Generator) -> pl.Expr:
    """One column's cells: damaged IDs and names, dates in mixed formats, 户籍性质 words."""
    xlsx = layout.workbook
    id_key = "card_no" if source == "disability" else "id"
    if key == id_key:
        excel = pl.col("id_defect") == "excel_numeric"
        return (
            pl.when(excel & pl.lit(xlsx)).then(pl.concat_str(pl.lit(NUMBER), "id_text")).otherwise("id_text")
        )
    if key == "id":  # disability 身份证号: often blank, the clean ID otherwise
        return pl.when(pl.col("id_column_filled") & (pl.col("id_defect") == "")).then("person_id")
    if key == "name":
        return pl.col("name_text")
    if key == "hukou_type" and layout.farm_words:
        return pl.col(key).replace({"城镇": "非农业", "农村": "农业"})
    if part.schema[key] == pl.Date:
        return _dates(pl.col(key), _date_styles(part.height, layout, key in OPTIONAL_DATES, rng), xlsx)
    return pl.col(key)


def _date_styles(k: int, layout: FileLayout, optional: bool, rng: np.random.Generator) -> pl.Series:
    """Each cell's date format: the file's usual one for about 3 in 4 cells, any other for the rest."""
    styles = np.where(
        rng.random(k) < 0.75, layout.date_style, np.asarray(DATE_STYLES, dtype=object)[rng.integers(0, 6, k)]
    )
    if optional:
        styles = np.where(rng.random(k) < 0.05, "empty", styles)
    return pl.Series(styles, dtype=pl.String)


def _dates(column: pl.Expr, style: pl.Series, xlsx: bool) -> pl.Expr:
    """Dates as 2024-03-05, 2024/3/5, 20240305, 2024年3月5日, an Excel serial, a real date cell, or empty."""
    year, month, day = (
        part.cast(pl.String) for part in (column.dt.year(), column.dt.month(), column.dt.day())
    )
    iso = column.dt.strftime("%Y-%m-%d")
    serial = (column - EXCEL_EPOCH).dt.total_days().cast(pl.String)
    forms = {
        "iso": iso,
        "slash": pl.concat_str(year, pl.lit("/"), month, pl.lit("/"), day),
        "compact": column.dt.strftime("%Y%m%d"),
        "chinese": pl.concat_str(year, pl.lit("年"), month, pl.lit("月"), day, pl.lit("日")),
        "serial": pl.concat_str(pl.lit(NUMBER), serial) if xlsx else serial,
        "cell": pl.concat_str(pl.lit(DATE), iso) if xlsx else iso,
    }
    text = pl.lit(None, dtype=pl.String)
    for name, form in forms.items():
        text = pl.when(style == name).then(form).otherwise(text)
    return text


def _footer(count: int, as_of: date | None) -> list[str]:
    """合计 / 制表人 / 制表日期 rows below the data (none when the layout has no footer)."""
    if as_of is None:
        return []
    return [
        f"合计：{count}人",
        f"制表人：{CLERKS[count % len(CLERKS)]}",
        f"制表日期：{as_of.year}年{as_of.month}月{as_of.day}日",
    ]


def _write_csv(
    path: Path,
    table: pl.DataFrame,
    encoding: str,
    delimiter: str,
    titles: list[str],
    footer_date: date | None,
) -> None:
    """Titles, header, rows, footer; GB18030 encoded chunk by chunk, UTF-8 written by Polars directly."""
    pad = delimiter * (table.width - 1)
    with path.open("wb") as file:
        file.write("".join(f"{t}{pad}\n" for t in titles).encode(encoding))  # utf-8-sig: the BOM comes first
        if encoding == "gb18030":
            file.write(table.head(0).write_csv(separator=delimiter).encode(encoding))
            for chunk in table.iter_slices(GB18030_CHUNK_ROWS):
                file.write(chunk.write_csv(include_header=False, separator=delimiter).encode(encoding))
        else:
            table.write_csv(file, separator=delimiter)
        file.write(
            "".join(f"{line}{pad}\n" for line in _footer(table.height, footer_date)).encode(
                "gb18030" if encoding == "gb18030" else "utf-8"
            )
        )


def _write_workbook(
    path: Path, fmt: str, table: pl.DataFrame, part: pl.DataFrame, titles: list[str], footer_date: date | None
) -> None:
    """One workbook, rows split over sheets, titles above and footer below each sheet, blank rows between."""
    workbook = openpyxl.Workbook(write_only=True) if fmt == "xlsx" else _XlsWorkbook()
    sheets = part.select("sheet", "blank_after").with_row_index()
    for (name,), rows in sheets.group_by("sheet", maintain_order=True):
        sheet = workbook.create_sheet(name)
        for title in titles:
            sheet.append([title])
        sheet.append(table.columns)
        blanks = rows["blank_after"].to_list()
        for values, blank in zip(table[rows["index"]].iter_rows(), blanks, strict=True):
            sheet.append([_xlsx_value(v) for v in values])
            if blank:
                sheet.append([])
        if footer_date:
            sheet.append([])
            for line in _footer(rows.height, footer_date):
                sheet.append([line])
    if not part.height:
        workbook.create_sheet("Sheet1").append(table.columns)
    workbook.save(path)


class _XlsWorkbook:
    """An Excel 97–2003 workbook (xlwt) behind the calls `_write_workbook` makes on openpyxl's."""

    def __init__(self) -> None:
        self._book = xlwt.Workbook(encoding="utf-8")
        self._date = xlwt.easyxf(num_format_str="YYYY-MM-DD")  # a real date cell, as Excel shows one

    def create_sheet(self, name: str) -> "_XlsSheet":
        return _XlsSheet(self._book.add_sheet(name), self._date)

    def save(self, path: Path) -> None:
        self._book.save(str(path))


class _XlsSheet:
    def __init__(self, sheet: xlwt.Worksheet, date_style: xlwt.XFStyle) -> None:
        self._sheet, self._date, self._row = sheet, date_style, 0

    def append(self, values: list[str | float | date | None]) -> None:
        for column, value in enumerate(values):
            if isinstance(value, date):
                self._sheet.write(self._row, column, value, self._date)
            elif value is not None:
                self._sheet.write(self._row, column, value)
        self._row += 1


def _xlsx_value(text: str | None) -> str | float | date | None:
    """A rendered cell as a workbook holds it: marked numbers and dates typed, empty text as no value."""
    if not text:
        return None
    if text.startswith(NUMBER):
        return float(text[len(NUMBER) :])
    if text.startswith(DATE):
        return date.fromisoformat(text[len(DATE) :])
    return text
