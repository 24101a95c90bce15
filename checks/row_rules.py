"""Row rules: which staged rows go to quarantine, under which rule, with what message for the steward.

Each rule is data — a code, a SQL condition over the normalized table built by `sources.staging`, the
raw value to show, and whether the row is rejected or kept with its defect flagged. Rules over a kind
of column (every date column, every enumeration) are generated from `sources.staging.DERIVATIONS`, so
a new column gets its checks by being declared. The quarantine table is the union of all rules.

Only a row that nothing can be done with is rejected (no ID and no name); every other defect keeps the
row so that the linker can still try, and tells the steward what to fix at the source. A name holding a
生僻字 placeholder (`name_placeholder`) counts toward the blocking rate like a mistyped ID: a character of
the name is lost, which no notice may be (a notice loses nothing and makes nothing doubtful). That includes
what staging did to make a cell safe (cut to the size limit, control characters removed) and values
that would be spreadsheet formulas: each is flagged per raw column, never done in silence.

Every rule also speaks to the department that sent the row, in Chinese (the 数据质量反馈表 of
`publish/feedback.py`): its name says what is wrong (`label`, also the report's and stewards' tables'),
`field` the column it concerns and `fix` how to fix it at the source. A rule cannot be declared without them.
"""

import re
from dataclasses import dataclass

from aidmatch.sources.enums import written_values
from aidmatch.sources.names import PLACEHOLDER_PATTERN
from aidmatch.sources.raw_table import SURPLUS_COLUMN, sql_text
from aidmatch.sources.staging import DERIVATIONS, IDENTITY_VALUE_COLUMNS, RAW_KINDS
from aidmatch.sources.tables import SOURCE_COLUMNS, SOURCE_RECORD_SQL, Column
from aidmatch.sources.text import FORMULA_PREFIXES


@dataclass(frozen=True)
class RowRule:
    rule: str
    label: (
        str  # 问题: the rule's Chinese name, what is wrong with the row (stewards' tables, feedback sheets)
    )
    condition: str  # SQL over the normalized table; true means the row fails the rule
    value: str  # SQL for the value the steward sees
    message: str
    field: str  # 字段: the column the department knows, in Chinese (身份证号, 失业登记日期, 整行)
    fix: str  # 修改方法: what the department changes at the source, in Chinese
    rejects: bool = False
    # A notice loses nothing and makes nothing doubtful (a 15-digit ID converted, an exact duplicate
    # row): the row is flagged for the steward but never counts toward the rate that blocks a run.
    notice: bool = False

    @property
    def action(self) -> str:
        """quarantine.csv's `action`: rejected (not staged) or kept (staged, defect flagged)."""
        return "rejected" if self.rejects else "kept"


# Labels of the raw identity columns; every other raw column is labelled by its staged column's description.
_IDENTITY_LABELS = {"name": "姓名", "citizen_id": "身份证号", "sex": "性别", "birth_date": "出生日期"}


def column_label(column: Column) -> str:
    """The Chinese term a steward knows a column by: the first word of its description (民族, 失业登记日期)."""
    return _IDENTITY_LABELS.get(column.name) or re.split(r"[\s:：(（]", column.description, maxsplit=1)[0]


_KEPT_FOR_FUZZY = "记录保留，用于模糊比对 / kept for fuzzy matching"
# The raw name with each private-use code point (a system's own 造字, invisible in any font) shown as [U+E007].
_PRIVATE_USE_SHOWN = """list_aggregate(list_transform(string_split(name_raw, ''), lambda c: CASE
    WHEN unicode(c) BETWEEN 57344 AND 63743 OR unicode(c) >= 983040 THEN printf('[U+%X]', unicode(c)) ELSE c END
), 'string_agg', '')"""

IDENTITY_RULES: tuple[RowRule, ...] = (
    RowRule(
        "no_identity",
        "无身份证号且无姓名",
        "id_issue = 'missing' AND name IS NULL",
        "NULL",
        "既无身份证号也无姓名，无法比对，记录已拒收 / no ID and no name: cannot be linked, row rejected",
        field="身份证号、姓名",
        fix="补录该行人员的姓名和18位公民身份号码；空行、小计或说明行请从导出表中删除",
        rejects=True,
    ),
    RowRule(
        "id_missing",
        "身份证号为空",
        "id_issue = 'missing' AND name IS NOT NULL",
        "id_raw",
        "身份证号为空；记录保留，按姓名+出生日期+性别比对 / ID missing: kept, matched on name, birth date and sex",
        field="身份证号",
        fix="补录该人员的18位公民身份号码",
    ),
    RowRule(
        "id_excel_numeric",
        "身份证号被Excel存成数字，末几位已丢失",
        "id_issue = 'excel_numeric'",
        "id_raw",
        "身份证号被Excel存成数字，末几位已丢失，无法恢复，请在源系统按文本重新导出；记录保留，仅在前15位+姓名+性别唯一时模糊比对"
        " / ID stored as a number by Excel: its last digits are lost and it is NOT repaired; re-export the"
        " column as text. Kept; linked only when prefix, name and sex point to exactly one person",
        field="身份证号",
        fix="在源系统中将身份证号列按文本导出后重新报送（不要用Excel打开后另存）；丢失的末几位无法推算，不要手工补位",
    ),
    RowRule(
        "id_bad_checksum",
        "身份证号校验位错误",
        "id_issue = 'bad_checksum'",
        "id_raw",
        f"身份证号校验位错误 / ID check character wrong (GB 11643-1999); {_KEPT_FOR_FUZZY}",
        field="身份证号",
        fix="对照身份证原件或户籍信息核对身份证号，更正录错的数字",
    ),
    RowRule(
        "id_bad_date",
        "身份证号中的出生日期不存在或晚于数据日期",
        "id_issue = 'bad_date'",
        "id_raw",
        f"身份证号中的出生日期不存在 / the birth date inside the ID is impossible; {_KEPT_FOR_FUZZY}",
        field="身份证号",
        fix="对照身份证原件核对身份证号第7至14位（出生年月日）并更正",
    ),
    RowRule(
        "id_bad_length",
        "身份证号位数不对（应为18位）",
        "id_issue = 'bad_length'",
        "id_raw",
        f"身份证号位数不对（应为18位或15位）/ ID has the wrong length (18 or 15 expected); {_KEPT_FOR_FUZZY}",
        field="身份证号",
        fix="对照身份证原件补全或更正为18位公民身份号码",
    ),
    RowRule(
        "id_bad_chars",
        "身份证号含数字和末位X以外的字符",
        "id_issue = 'bad_chars'",
        "id_raw",
        f"身份证号含非法字符 / ID contains characters other than digits and a final X; {_KEPT_FOR_FUZZY}",
        field="身份证号",
        fix="删除身份证号中的字母、标点、空格等字符，核对后只保留18位数字（末位可为X）",
    ),
    RowRule(
        "id_legacy_15",
        "15位旧身份证号已升位",
        "id_valid AND id_legacy",
        "id_raw",
        "15位旧身份证号，已按国标升为18位；记录保留 / legacy 15-digit ID converted to 18 digits; kept",
        field="身份证号",
        fix="更新为该人员现用的18位公民身份号码（本次已按国家标准自动升位后比对）",
        notice=True,
    ),
    RowRule(
        "id_unknown_region",
        "身份证号前6位行政区划代码未知（仅提示）",
        "id_valid AND NOT COALESCE(id_region_known, true)",
        "left(id_norm, 6)",
        "身份证号行政区划代码未知（仅提示）/ unknown region code in the ID (warning only); kept",
        field="身份证号",
        fix="核对身份证号前6位；如为已撤销或调整的旧区划代码，可不修改",
        notice=True,
    ),
    RowRule(
        "name_placeholder",
        "姓名中的生僻字被写成?、□等占位符",
        f"regexp_matches(name, '{PLACEHOLDER_PATTERN}')",
        _PRIVATE_USE_SHOWN,
        "姓名含生僻字占位符（导出系统无法显示的字被写成?、□、〇、*等，系统自造字显示为[U+编码]）；记录保留，比对时该字"
        "视为任意一字 / the name holds a placeholder for a rare character the exporting system could not encode"
        " (its own private-use code points shown as [U+E000]): kept, matched with that character taken as any one",
        field="姓名",
        fix="在源系统中录入该生僻字（字库缺字的，按统一的生僻字字库或公安部门的编码补字），按UTF-8或GB18030重新导出；"
        "姓名中确为“〇”字的，可不修改",
    ),
    RowRule(
        "id_birth_date_mismatch",
        "出生日期与身份证号不一致",
        "id_valid AND birth_date IS NOT NULL AND birth_date <> id_birth_date",
        "CAST(birth_date AS VARCHAR)",
        "出生日期与身份证号不一致 / birth date column disagrees with the ID; kept, the ID's date is not assumed",
        field="出生日期",
        fix="以身份证原件为准，更正出生日期或身份证号",
    ),
    RowRule(
        "id_sex_mismatch",
        "性别与身份证号不一致",
        "id_valid AND sex IS NOT NULL AND sex <> id_sex",
        "sex",
        "性别与身份证号不一致 / sex column disagrees with the ID; kept",
        field="性别",
        fix="以身份证原件为准，更正性别或身份证号（身份证号第17位奇数为男、偶数为女）",
    ),
)


_VALUE_FAILURES = {  # kind -> (rule, message); the rule's name and fix are `_value_advice`'s
    "date": ("bad_date", "日期无法识别 / date not recognised"),
    "month": ("bad_month", "费款所属期无法识别（应为YYYYMM）/ month not recognised (YYYYMM)"),
    "number": ("bad_number", "数值无法识别 / number not recognised"),
    "enum": ("unknown_value", "取值不在代码表中 / value not in the code list"),
    "categories": ("unknown_value", "类别均不在代码表中 / none of the categories is in the code list"),
}


def _value_advice(column: Column, kind: str) -> tuple[str, str]:
    """(label, fix) of a value that did not normalize, in the department's terms."""
    label = column_label(column)
    if kind == "date":
        return f"{label}不是可识别的日期", f"按“2024-03-05”的格式填写{label}；不详的请留空"
    if kind == "month":
        return f"{label}不是可识别的年月", f"按“202403”（年4位、月2位）的格式填写{label}"
    if kind == "number":
        return f"{label}不是数值", f"{label}只填数字（如1200.50），不带单位、文字或空格"
    kind_name = DERIVATIONS[column.name].kind.split(":", 1)[-1] if kind == "enum" else "difficulty_category"
    values = "、".join(written_values(kind_name))
    many = "（多个类别用“、”分隔）" if kind == "categories" else ""
    return f"{label}的取值不在代码表中", f"{label}改填规定取值之一：{values}{many}"


def _value_rules(source: str, columns: set[str]) -> list[RowRule]:
    """A non-empty raw value that did not normalize: an unparseable date, month or number, an unknown code.

    Generated for every declared column the source's files carry, plus sex and birth date.
    """
    rules = []
    for column in (*IDENTITY_VALUE_COLUMNS, *SOURCE_COLUMNS[source]):
        derivation = DERIVATIONS[column.name]
        raw = f"raw_{derivation.raw}"
        kind = derivation.kind.split(":")[0]
        failure = _VALUE_FAILURES.get(kind)
        if failure is None or raw not in columns:
            continue
        label, fix = _value_advice(column, kind)
        rules.append(
            RowRule(
                f"{failure[0]}:{column.name}",
                label,
                f"coalesce(len({column.name}), 0) = 0 AND {raw} IS NOT NULL AND trim({raw}) <> ''"
                if derivation.kind == "categories"
                else f"{column.name} IS NULL AND {raw} IS NOT NULL AND trim({raw}) <> ''",
                raw,
                f"{column_label(column)}：{failure[1]}；记录保留，该字段置空 / kept with this field empty",
                field=column_label(column),
                fix=fix,
            )
        )
    return rules


def _duplicate_row_rule() -> RowRule:
    """An exact copy of an earlier row of the same source: kept (the roll really holds it twice), flagged.

    Reads the `duplicates` relation of `duplicates_sql`: the copy number of a row among identical rows.
    """
    return RowRule(
        "duplicate_row",
        "与另一行完全相同的重复行（原值为首次出现的位置）",
        "copy_number > 1",
        "first_copy",
        "与该行（值为首次出现的位置）完全相同的重复行；记录保留 / exact copy of the row named in value; kept"
        " (the roll holds this person twice)",
        field="整行",
        fix="核对是否重复录入：重复的删除，只保留一行",
        notice=True,
    )


def _surplus_fields_rule() -> RowRule:
    """A CSV row with more fields than its header: a value with an unquoted comma (an address, say) pushed
    every value after it one column on. Kept (its ID and name usually come first), flagged, and counted
    toward the blocking rate: the values past the comma may sit in the wrong columns."""
    return RowRule(
        "surplus_fields",
        "字段数多于表头（含未加引号的逗号？），其后的值可能错位",
        f"{SURPLUS_COLUMN} IS NOT NULL",
        f"left({SURPLUS_COLUMN}, 100)",
        "该行字段数多于表头（某个值含未加引号的逗号？），其后的值可能错列；值为多出的第一个字段；记录保留 / more "
        "fields than the header (a value with an unquoted comma?): the values after it may be in the wrong "
        "columns; value is the first field too many; kept",
        field="整行",
        fix="含逗号的值（如地址）请加英文双引号，或删除多余的逗号；也可重新导出为 xlsx",
    )


def _raw_labels(source: str) -> dict[str, str]:
    """Raw column -> the Chinese term a steward knows it by (the first word of its column's description)."""
    labels = dict(_IDENTITY_LABELS)
    for column in SOURCE_COLUMNS[source]:
        labels[DERIVATIONS[column.name].raw] = column_label(column)
    return labels


# A value that a spreadsheet would run as a formula (the raw values are trimmed, so a leading tab or line
# break is gone; what follows it counts). Names never start with these characters. In other text a
# leading + or - may be a telephone number (+86…) or a placeholder (-): only one followed by something
# other than digits, spaces, brackets and signs is flagged there.
_FORMULA_CODES = ", ".join(str(ord(c)) for c in FORMULA_PREFIXES if not c.isspace())
_FORMULA_CONDITIONS = {
    "name": "ascii({raw}) IN ({codes})",
    "text": "ascii({raw}) IN ({codes}) AND NOT regexp_matches({raw}, '^[-+][0-9\\s()+-]*$')",
}


def _cell_rules(source: str, columns: set[str], max_cell_chars: int) -> list[RowRule]:
    """What making a cell safe did, per raw column the source's files carry: `cell_too_long:<raw>` (cut to
    `max_cell_chars`; the value is the original length), `control_characters:<raw>` (removed; the value
    shows them escaped, e.g. \\x00), and on name and text columns `formula_like:<raw>` (kept as it is)."""
    rules = []
    for raw, label in _raw_labels(source).items():
        if f"_cut_{raw}" not in columns:
            continue
        rules.append(
            RowRule(
                f"cell_too_long:{raw}",
                f"{label}超过{max_cell_chars}个字符，已截断（原值为原长度）",
                f"_cut_{raw} IS NOT NULL",
                f"_cut_{raw}",
                f"{label}：单元格超过{max_cell_chars}个字符（值为原长度），已截断至该长度；记录保留"
                f" / cell longer than {max_cell_chars} characters (value: its length): cut to that length, row kept",
                field=label,
                fix=f"核对该单元格，删除误粘贴的多余内容，使其不超过{max_cell_chars}个字符",
            )
        )
        rules.append(
            RowRule(
                f"control_characters:{raw}",
                f"{label}含不可见的控制字符（原值中以\\x..显示）",
                f"_ctl_{raw} IS NOT NULL",
                f"_ctl_{raw}",
                f"{label}：含控制字符（值中以\\x..显示），已删除；记录保留"
                f" / control characters (shown as \\x.. in value) removed from the cell, row kept",
                field=label,
                fix="删除单元格中不可见的控制字符（多因从其他系统复制粘贴带入），重新导出",
                notice=True,
            )
        )
        condition = _FORMULA_CONDITIONS.get(RAW_KINDS.get(raw, ""))
        if condition is not None:
            rules.append(
                RowRule(
                    f"formula_like:{raw}",
                    f"{label}以 = + - @ 开头，像电子表格公式",
                    condition.format(raw=f"raw_{raw}", codes=_FORMULA_CODES),
                    f"raw_{raw}",
                    f"{label}：以 = + - @ 开头，像电子表格公式；记录保留，原值不变，xlsx中按文本写出，请在源系统核对"
                    f" / starts like a spreadsheet formula (= + - @): kept unchanged, written to xlsx as"
                    f" literal text; check it at the source",
                    field=label,
                    fix=f"核对{label}是否录错；确属正确的可不修改（本系统一律按文本处理）",
                    notice=True,
                )
            )
    return rules


def rules_for(source: str, normalized_columns: list[str], max_cell_chars: int) -> list[RowRule]:
    columns = set(normalized_columns)
    return [
        *IDENTITY_RULES,
        *_value_rules(source, columns),
        *_cell_rules(source, columns, max_cell_chars),
        _duplicate_row_rule(),
        *([_surplus_fields_rule()] if SURPLUS_COLUMN in columns else []),
    ]


def duplicates_sql(raw_table: str, normalized_columns: list[str]) -> str:
    """A relation `duplicates(_raw_row, copy_number, first_copy)` of the rows that have an exact copy.

    Rows are hashed from the raw table's columns (read directly, not through the normalizing joins),
    and only the groups that occur more than once are ordered; `_raw_row` is the raw table's rowid.
    """
    raw_columns = ", ".join(c.removeprefix("raw_") for c in normalized_columns if c.startswith("raw_"))
    order = "source_file, source_sheet, source_row"
    return f"""(
        WITH hashed AS (SELECT rowid AS _raw_row, {order}, hash({raw_columns}) AS row_hash FROM {raw_table}),
        repeated AS (
            SELECT * FROM hashed
            WHERE row_hash IN (SELECT row_hash FROM hashed GROUP BY row_hash HAVING count(*) > 1)
        )
        SELECT _raw_row, row_number() OVER copies AS copy_number,
               first_value({SOURCE_RECORD_SQL}) OVER copies AS first_copy
        FROM repeated
        WINDOW copies AS (PARTITION BY row_hash ORDER BY {order})
    )"""


def failures_sql(rules: list[RowRule]) -> str:
    """SQL for the list of `{rule, value}` a row fails (empty when it fails none), over the normalized
    columns and `duplicates`: evaluated on the rows a rule may fail only (checks/stage_source.py)."""
    checks = ", ".join(
        f"CASE WHEN {rule.condition} THEN {{'rule': {sql_text(rule.rule)}, 'value': CAST({rule.value} AS VARCHAR)}} END"
        for rule in rules
    )
    return f"list_filter([{checks}], lambda f: f IS NOT NULL)"


def quarantine_sql(table: str, failures_column: str, rules: list[RowRule]) -> str:
    """The quarantine rows from a table whose `failures_column` holds `failures_sql`'s lists: quarantine.csv's
    columns (source, source_record, rule, value, message, action, source_file), then what the department's
    feedback sheet shows (source_sheet, source_row, field, problem, fix)."""
    catalogue = ", ".join(
        f"({sql_text(rule.rule)}, {sql_text(rule.message)}, '{rule.action}', "
        f"{sql_text(rule.field)}, {sql_text(rule.label)}, {sql_text(rule.fix)})"
        for rule in rules
    )
    return f"""
        WITH failures AS (
            SELECT source, source_record, source_file, source_sheet, source_row, unnest({failures_column}) AS failure
            FROM {table} WHERE {failures_column} IS NOT NULL
        )
        SELECT source, source_record, failure.rule AS rule, failure.value AS value, r.message, r.action, source_file,
               source_sheet, source_row, r.field, r.problem, r.fix
        FROM failures
        JOIN (VALUES {catalogue}) AS r(rule, message, action, field, problem, fix) ON r.rule = failure.rule
    """
