"""File layout: the extracts as departments write them — xlsx, xls, CSV and text exports, subfolders, titles,
footers, sheets, encodings.

What belongs here: the reference headers and their aliases, one `FileLayout` per file of each source
(together they show every layout defect of SPEC section 2), the same files as other departments' systems
export them (`OTHER_SYSTEMS`: more aliases, 序号, columns in another order, 备注, a grouping row, the
footer's counts, 生僻字 placeholders), rendering a damaged record frame into the cells of one file (date
formats, Excel numbers), writing it, and the `source_record` of every data row.
What does not: which records exist (`world.py`) or how their IDs and names are damaged (`defects.py`).
"""

from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import numpy as np
import openpyxl
import polars as pl
import xlwt
from openpyxl.utils import get_column_letter

from aidmatch.data_samples.defects import RARE_CHARACTERS
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
    # What other systems' exports add (`OTHER_SYSTEMS`):
    shuffled: bool = False  # the columns in another order
    grouping_row: bool = False  # a row of merged group labels above the header (基本信息 | 就业情况)
    footer_counts: bool = False  # the footer's counts as other systems write them: 合计 | … | 15人, 共15条
    placeholder: str | None = None  # what the system writes for a 生僻字 it cannot encode (PRIVATE_USE: its
    # own code point per character); None: it encodes them

    @property
    def workbook(self) -> bool:
        return self.fmt in ("xlsx", "xls")

    @property
    def rows_above_header(self) -> int:
        return self.titles + self.grouping_row

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


PRIVATE_USE = "private use"  # a placeholder: each rare character as a code point of the system's own
# The same files as other departments' systems export them (SPEC section 2; `generate --no-export-variants`
# leaves them out): the headers under other aliases, a leading 序号, the columns in another order, a 备注, a
# row of merged group labels above the header, the footer's counts under the ID column, and a placeholder
# for each 生僻字 the system cannot encode. Per source, district -> what changes in its `LAYOUTS` entry.
OTHER_SYSTEMS: dict[str, dict[str, dict]] = {
    "unemployment": {
        "东城区": {"grouping_row": True, "footer_counts": True, "placeholder": "?",
                   "aliases": {"name": "人员姓名", "phone": "手机号码"}},
        "西城区": {"shuffled": True, "placeholder": "□",
                   "aliases": {"id": "身份证号码", "address": "家庭住址", "birth_date": "出生年月日"}},
        "朝阳区": {"serial": True},
        "海淀区": {"footer": True, "footer_counts": True,
                   "aliases": {"id": "证件号码", "phone": "联系方式", "address": "现居住地址"}},
    },
    "dibao": {
        "东城区": {"grouping_row": True, "placeholder": "□"},
        "西城区": {"shuffled": True, "placeholder": "?", "aliases": {
            "id": "成员身份证号码", "head_id": "户主身份证号码", "name": "人员姓名", "birth_date": "出生年月日"}},
        "朝阳区": {"footer": True, "footer_counts": True, "remark": True},
        "海淀区": {"aliases": {"id": "公民身份号码"}},
    },
    "disability": {
        "东城区": {"serial": True, "remark": True, "placeholder": "〇",
                   "aliases": {"name": "人员姓名", "address": "家庭住址"}},
        "西城区": {"grouping_row": True, "placeholder": "?"},
        "朝阳区": {"shuffled": True, "footer_counts": True, "aliases": {"id": "社会保障号码"}},
        "海淀区": {"aliases": {"name": "成员姓名", "id": "证件号码"}},
    },
    "si_persons": {
        "东城区": {"placeholder": PRIVATE_USE, "aliases": {"name": "人员姓名"}},
        "西城区": {"shuffled": True, "serial": True, "placeholder": "*"},
        "朝阳区": {"placeholder": "？", "aliases": {"id": "身份证号", "birth_date": "出生年月日"}},
        "海淀区": {"grouping_row": True, "footer_counts": True, "remark": True},
    },
    "si_contributions": {
        "东城区": {"placeholder": PRIVATE_USE, "aliases": {"name": "人员姓名"}},
        "西城区": {"shuffled": True},
        "朝阳区": {"footer": True, "footer_counts": True, "placeholder": "？"},
        "海淀区": {"grouping_row": True, "aliases": {"id": "证件号码", "name": "成员姓名"}},
    },
}  # fmt: skip
# The group labels of a grouping row, per source: the columns each label spans (序号 and 备注 are in none).
GROUPS: dict[str, dict[str, tuple[str, ...]]] = {
    "unemployment": {
        "基本信息": ("name", "id", "sex", "birth_date", "ethnicity", "hukou_type", "phone", "address", "street",
                     "community"),
        "登记认定情况": ("registered_on", "is_difficult", "difficulty_categories", "recognized_on"),
    },
    "dibao": {
        "家庭信息": ("household_id", "assistance_type", "head_name", "head_id"),
        "成员信息": ("name", "id", "relation", "sex", "birth_date", "work_capacity", "employment_status"),
        "保障情况": ("assistance_status", "start_date", "stop_date", "monthly_amount", "district", "street"),
    },
    "disability": {
        "持证人": ("name", "card_no", "id", "sex"),
        "残疾情况": ("disability_category", "disability_grade", "issued_on", "valid_until", "card_status"),
        "户籍": ("address",),
    },
    "si_persons": {
        "人员信息": ("id", "name", "sex", "birth_date"),
        "参保状态": ("person_status", "retired_on", "died_on", "insured_place"),
    },
    "si_contributions": {
        "人员": ("id", "name"),
        "单位": ("employer_id", "employer_name"),
        "缴费信息": ("contribution_type", "insurance_type", "period_month", "contribution_base", "payment_status"),
    },
}  # fmt: skip


def other_systems(source: str, layout: FileLayout) -> FileLayout:
    """The file as another department's system exports it (`OTHER_SYSTEMS`): its aliases added to the
    layout's own."""
    changes = dict(OTHER_SYSTEMS[source].get(layout.district, {}))
    aliases = {**layout.aliases, **changes.pop("aliases", {})}
    return replace(layout, aliases=aliases, **changes)


def write_source(
    records: pl.DataFrame,
    source: str,
    out: Path,
    rng: np.random.Generator,
    as_of: date,
    variants: np.random.Generator | None = None,
) -> pl.DataFrame:
    """Write a source's files under `out/<source>/`; return its records with `source_record` added, and
    the optional dates the file leaves empty emptied (the expected lists must see what the file says).

    `variants`: write the files as other systems export them (`OTHER_SYSTEMS`), drawing what they add
    (a column order, a 备注 a layout did not have) from this stream, so that the world and every draw of
    `rng` are those of the same world written without them (None)."""
    written = []
    for classic in LAYOUTS[source]:
        layout = classic if variants is None else other_systems(source, classic)
        part = _place_rows(records.filter(pl.col("district") == layout.district), layout, rng)
        part = _write_placeholders(part, layout.placeholder)
        added = variants if variants is not None else rng
        table = render(
            part, source, layout, rng, remarks=rng if classic.remark else added,
            order=added if layout.shuffled else None,
        )  # fmt: skip
        part = part.with_columns(
            pl.when(table[layout.aliases.get(key, header)].is_not_null()).then(key).alias(key)
            for key, header in HEADERS[source]
            if key in OPTIONAL_DATES and part.schema[key] == pl.Date
        )
        titles = [t.format(district=layout.district) for t in TITLES[source][: layout.titles]]
        above = [[title] for title in titles]
        if layout.grouping_row:
            above.append(_grouping_row(source, layout, table.columns))
        footer = Footer(source, layout, as_of, table.columns) if layout.footer else None
        file = f"{source}/{layout.file_path(as_of)}"
        (out / file).parent.mkdir(parents=True, exist_ok=True)
        if layout.workbook:
            _write_workbook(out / file, layout.fmt, table, part, above, footer)
        else:
            delimiter = "\t" if layout.fmt == "txt" else ","
            _write_csv(out / file, table, layout.encoding, delimiter, above, footer)
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
            layout.rows_above_header
            + 2
            + pl.int_range(pl.len()).over("sheet")
            + (pl.col("blank_after").cum_sum() - pl.col("blank_after")).over("sheet").cast(pl.Int64)
        )
    )


def render(
    part: pl.DataFrame,
    source: str,
    layout: FileLayout,
    rng: np.random.Generator,
    remarks: np.random.Generator | None = None,
    order: np.random.Generator | None = None,
) -> pl.DataFrame:
    """The cells of one file as text columns under their headers (xlsx numbers and dates carry a marker).
    `remarks` draws the 备注 (default `rng`); `order`, when given, draws the order of the columns between
    序号 and 备注."""
    k = part.height
    cells: dict[str, pl.Expr] = {}
    for key, header in HEADERS[source]:
        cells[layout.aliases.get(key, header)] = _cell(part, source, key, layout, rng).cast(pl.String)
    if order is not None:
        cells = {header: cells[header] for header in order.permutation(list(cells))}
    if layout.serial:
        number = pl.lit(NUMBER if layout.workbook else "")
        cells = {"序号": pl.concat_str(number, pl.int_range(1, pl.len() + 1)), **cells}
    if layout.remark:
        draw = remarks or rng
        notes = np.where(
            draw.random(k) < 0.1, np.asarray(["已核实", "新增", "变更"])[draw.integers(0, 3, k)], ""
        )
        cells["备注"] = pl.lit(pl.Series(notes, dtype=pl.String))
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


def _write_placeholders(part: pl.DataFrame, placeholder: str | None) -> pl.DataFrame:
    """The names as a system that cannot encode a 生僻字 writes them: each rare character as `placeholder`
    (or, for PRIVATE_USE, as a code point of the system's own), in the name and the 户主姓名; a name so
    written and otherwise undamaged has name_defect `rare_char_placeholder` in the truth."""
    if placeholder is None:
        return part
    rare = list(RARE_CHARACTERS)
    written = (
        [chr(0xE000 + i) for i in range(len(rare))]
        if placeholder == PRIVATE_USE
        else [placeholder] * len(rare)
    )
    part = part.with_columns(
        name_defect=pl.when((pl.col("name_defect") == "") & pl.col("name_text").str.contains_any(rare))
        .then(pl.lit("rare_char_placeholder"))
        .otherwise("name_defect")
    )
    names = [column for column in ("name_text", "head_name") if column in part.columns]
    return part.with_columns(pl.col(names).str.replace_many(rare, written))


@dataclass(frozen=True)
class Merge:
    """A label whose cell is merged with the `span - 1` cells to its right (in a workbook)."""

    text: str
    span: int

    def __str__(self) -> str:
        return self.text


def _grouping_row(source: str, layout: FileLayout, headers: list[str]) -> list[str | Merge]:
    """The group labels above the header: each over the first column of its run, the run merged."""
    label_of = {
        layout.aliases.get(key, header): label
        for label, keys in GROUPS[source].items()
        for key, header in HEADERS[source]
        if key in keys
    }
    labels = [label_of.get(header, "") for header in headers]
    row: list[str | Merge] = []
    for position, label in enumerate(labels):
        starts = label and (position == 0 or labels[position - 1] != label)
        span = 1
        while starts and position + span < len(labels) and labels[position + span] == label:
            span += 1
        row.append(Merge(label, span) if starts else "")
    return row


@dataclass(frozen=True)
class Footer:
    """The rows below a file's (or sheet's) data: 合计, 制表人, 制表日期 — and, as other systems write them
    (`footer_counts`), the count under the ID column, 共N人/条/户, 审核人 and 填报单位."""

    source: str
    layout: FileLayout
    as_of: date
    headers: list[str]

    def rows(self, count: int, households: int) -> list[list[str]]:
        clerk = CLERKS[count % len(CLERKS)]
        day = f"制表日期：{self.as_of.year}年{self.as_of.month}月{self.as_of.day}日"
        if not self.layout.footer_counts:
            return [[f"合计：{count}人"], [f"制表人：{clerk}"], [day]]
        id_key = "card_no" if self.source == "disability" else "id"
        id_header = self.layout.aliases.get(id_key, dict(HEADERS[self.source])[id_key])
        total = [""] * len(self.headers)
        at = self.headers.index(id_header)
        total[1 if at == 0 else 0] = "合计"  # the count under the ID column, the label before it or next
        total[at] = f"{count}人"
        unit = {"si_contributions": f"共{count}条", "dibao": f"共{households}户{count}人"}
        return [
            total,
            [unit.get(self.source, f"共{count}人")],
            [f"制表人：{clerk}", "", f"审核人：{CLERKS[(count + 1) % len(CLERKS)]}"],
            [TITLES[self.source][1].format(district=self.layout.district).replace("制表单位", "填报单位")],
            [day],
        ]


def _write_csv(
    path: Path,
    table: pl.DataFrame,
    encoding: str,
    delimiter: str,
    above: list[list],
    footer: Footer | None,
) -> None:
    """Titles (and a grouping row), header, rows, footer; GB18030 encoded chunk by chunk, UTF-8 written by
    Polars directly."""

    def lines(rows: list[list]) -> str:
        return "".join(delimiter.join(map(str, row + [""] * (table.width - len(row)))) + "\n" for row in rows)

    with path.open("wb") as file:
        file.write(lines(above).encode(encoding))  # utf-8-sig: the BOM comes first
        if encoding == "gb18030":
            file.write(table.head(0).write_csv(separator=delimiter).encode(encoding))
            for chunk in table.iter_slices(GB18030_CHUNK_ROWS):
                file.write(chunk.write_csv(include_header=False, separator=delimiter).encode(encoding))
        else:
            table.write_csv(file, separator=delimiter)
        if footer is not None:
            rows = footer.rows(table.height, _households(table))
            file.write(lines(rows).encode("gb18030" if encoding == "gb18030" else "utf-8"))


def _households(table: pl.DataFrame) -> int:
    """How many households the rows hold (低保: its 户编号), else 0."""
    return table["户编号"].n_unique() if "户编号" in table.columns else 0


def _write_workbook(
    path: Path, fmt: str, table: pl.DataFrame, part: pl.DataFrame, above: list[list], footer: Footer | None
) -> None:
    """One workbook, rows split over sheets, titles (and a grouping row of merged cells) above and footer
    below each sheet, blank rows between."""
    workbook = openpyxl.Workbook(write_only=True) if fmt == "xlsx" else _XlsWorkbook()
    sheets = part.select("sheet", "blank_after").with_row_index()
    for (name,), rows in sheets.group_by("sheet", maintain_order=True):
        sheet = workbook.create_sheet(name)
        for line, cells in enumerate(above, start=1):
            sheet.append([str(cell) or None for cell in cells])
            for column, cell in enumerate(cells, start=1):
                if isinstance(cell, Merge) and cell.span > 1:
                    _merge(sheet, line, column, column + cell.span - 1)
        sheet.append(table.columns)
        blanks = rows["blank_after"].to_list()
        for values, blank in zip(table[rows["index"]].iter_rows(), blanks, strict=True):
            sheet.append([_xlsx_value(v) for v in values])
            if blank:
                sheet.append([])
        if footer is not None:
            sheet.append([])
            for line in footer.rows(rows.height, _households(table[rows["index"]])):
                sheet.append([cell or None for cell in line])
    if not part.height:
        workbook.create_sheet("Sheet1").append(table.columns)
    workbook.save(path)


def _merge(
    sheet: "openpyxl.worksheet._write_only.WriteOnlyWorksheet | _XlsSheet", row: int, first: int, last: int
) -> None:
    """Merge the cells of `row` from column `first` to `last` (1-based), as the grouping row's labels are."""
    if isinstance(sheet, _XlsSheet):
        sheet.merge(row, first, last)
    else:  # a write-only sheet writes its merged ranges when it is saved
        sheet.merged_cells.add(f"{get_column_letter(first)}{row}:{get_column_letter(last)}{row}")


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

    def merge(self, row: int, first: int, last: int) -> None:
        self._sheet.merge(row - 1, row - 1, first - 1, last - 1)


def _xlsx_value(text: str | None) -> str | float | date | None:
    """A rendered cell as a workbook holds it: marked numbers and dates typed, empty text as no value."""
    if not text:
        return None
    if text.startswith(NUMBER):
        return float(text[len(NUMBER) :])
    if text.startswith(DATE):
        return date.fromisoformat(text[len(DATE) :])
    return text
