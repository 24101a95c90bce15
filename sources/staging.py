"""Staging: turn a source's raw text table into its typed, normalized `staged_<source>` table.

What belongs here: how each staged column is derived from a raw column (the `DERIVATIONS` table), and
the mechanics of applying the normalizers of this package at scale. The normalizers run in Python on
the *distinct* raw values of a column (a few thousand dates, a million names), a batch at a time, and are
joined back in DuckDB, so a 10-million-row contributions table never passes through Python row by row.

Every raw cell is made safe before any normalizer sees it: cut to the configured length (a 3 MB cell
must not reach a regular expression, a lookup table or a workbook) and stripped of control characters
(`text.CONTROL_PATTERN`). The normalized view keeps, per raw column, what was done (`_cut_<raw>`: the
original length; `_ctl_<raw>`: the value with its control characters shown escaped) for the row rules.
Every column gets this from its lookup table (distinct values, in Polars) — free text too (addresses,
phones, employers): a regular expression per cell costs more than one join on the cell's value.

What does not belong here: reading files (`readers.py`), the row rules that decide what goes to
quarantine (`checks/row_rules.py`), and the normalization logic itself (`citizen_id.py`, `names.py`,
`dates.py`, `enums.py`).
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date

import duckdb
import polars as pl

from aidmatch.sources.citizen_id import normalize_citizen_ids
from aidmatch.sources.dates import parse_dates, parse_months
from aidmatch.sources.enums import normalize_enum, split_categories
from aidmatch.sources.names import normalize_names
from aidmatch.sources.raw_table import SURPLUS_COLUMN
from aidmatch.sources.tables import IDENTITY_COLUMNS, SOURCE_COLUMNS, staged_columns
from aidmatch.sources.text import CONTROL_CHARACTERS, CONTROL_PATTERN, compact_text, escape_control


@dataclass(frozen=True)
class Derivation:
    """How one staged column comes from one raw column: `kind` names the normalizer."""

    raw: str
    kind: str  # text | number | date | month | name | enum:<kind> | categories | card_no


# Staged column -> derivation. Column names mean the same thing in every source, so one table serves all.
DERIVATIONS: dict[str, Derivation] = {
    "sex": Derivation("sex", "enum:sex"),
    "birth_date": Derivation("birth_date", "date"),
    "ethnicity": Derivation("ethnicity", "text"),
    "hukou_type": Derivation("hukou_type", "enum:hukou_type"),
    "phone": Derivation("phone", "text"),
    "address": Derivation("address", "text"),
    "street": Derivation("street", "text"),
    "community": Derivation("community", "text"),
    "registered_on": Derivation("registered_on", "date"),
    "is_difficult": Derivation("is_difficult", "enum:yes_no"),
    "difficulty_categories": Derivation("difficulty_categories", "categories"),
    "recognized_on": Derivation("recognized_on", "date"),
    "household_id": Derivation("household_id", "text"),
    "assistance_type": Derivation("assistance_type", "enum:assistance_type"),
    "head_name": Derivation("head_name", "name"),
    "head_id_norm": Derivation("head_id", "id"),
    "relation": Derivation("relation", "text"),
    "work_capacity": Derivation("work_capacity", "enum:work_capacity"),
    "employment_status": Derivation("employment_status", "enum:employment_status"),
    "assistance_status": Derivation("assistance_status", "enum:assistance_status"),
    "start_date": Derivation("start_date", "date"),
    "stop_date": Derivation("stop_date", "date"),
    "monthly_amount": Derivation("monthly_amount", "number"),
    "district": Derivation("district", "text"),
    "card_no": Derivation("card_no", "card_no"),
    "disability_category": Derivation("disability_category", "enum:disability_category"),
    "disability_grade": Derivation("disability_grade", "enum:disability_grade"),
    "issued_on": Derivation("issued_on", "date"),
    "valid_until": Derivation("valid_until", "date"),
    "card_status": Derivation("card_status", "enum:card_status"),
    "person_status": Derivation("person_status", "enum:person_status"),
    "retired_on": Derivation("retired_on", "date"),
    "died_on": Derivation("died_on", "date"),
    "insured_place": Derivation("insured_place", "text"),
    "employer_id": Derivation("employer_id", "text"),
    "employer_name": Derivation("employer_name", "text"),
    "contribution_type": Derivation("contribution_type", "enum:contribution_type"),
    "insurance_type": Derivation("insurance_type", "enum:insurance_type"),
    "period_month": Derivation("period", "month"),
    "contribution_base": Derivation("contribution_base", "number"),
    "payment_status": Derivation("payment_status", "enum:payment_status"),
}

# 残疾人证号: the holder's ID (18 characters, or a legacy 15 digits), then the category and grade digits.
CARD_PATTERN = "^([0-9]{15}|[0-9]{17}[0-9X])[0-9]{2}$"
# The disability card's last two digits: category then grade (中华人民共和国残疾人证 numbering).
CARD_CATEGORIES = {"1": "视力", "2": "听力", "3": "言语", "4": "肢体", "5": "智力", "6": "精神", "7": "多重"}

# Raw column -> the kind of value it holds: the derivations' raw columns and the identity cells.
RAW_KINDS: dict[str, str] = {
    "name": "name",
    "citizen_id": "id",
    **{d.raw: d.kind for d in DERIVATIONS.values()},
}

Lookup = Callable[[pl.Series], pl.Series]


def _parse_numbers(raw: pl.Series) -> pl.Series:
    """An amount as written (1,200 / ￥1200 / 1200元): separators, currency signs and spaces dropped; NULL
    when it is no number. A lookup like the others: a few thousand distinct amounts, not a regex per row."""
    return raw.str.replace_all(r"[,，¥￥元\s]", "").cast(pl.Float64, strict=False)


def _lookup_function(kind: str, as_of: date) -> Lookup:
    """The vectorised normalizer for a derivation kind, as raw Series -> normalized Series."""
    if kind == "date":
        return parse_dates
    if kind == "month":
        return parse_months
    if kind == "number":
        return _parse_numbers
    if kind == "categories":
        return split_categories
    if kind == "name":
        return lambda raw: normalize_names(raw)["name"]
    if kind == "id":
        return lambda raw: normalize_citizen_ids(raw, as_of=as_of)["id_norm"]
    if kind.startswith("enum:"):
        enum_kind = kind.removeprefix("enum:")
        return lambda raw: normalize_enum(enum_kind, raw)
    raise ValueError(f"no lookup normalizer for kind {kind!r}")


def _safe_cells(raw: pl.Series, max_chars: int) -> pl.DataFrame:
    """Distinct raw values -> `raw` (the lookup key), `clean` (cut to `max_chars`, control characters
    removed, trimmed, NULL when nothing is left), `cut_length` (the original length of a value that was
    cut) and `controls` (a value that held control characters, cut, with them shown escaped)."""
    controls = raw.str.contains(CONTROL_PATTERN)
    cut = raw.str.slice(0, max_chars)
    escaped = cut.clone()
    if controls.any():
        dirty = controls.fill_null(False).arg_true()
        escaped = escaped.scatter(
            dirty,
            cut.gather(dirty).str.replace_many(
                list(CONTROL_CHARACTERS), [escape_control(c) for c in CONTROL_CHARACTERS]
            ),
        )
    clean = cut.str.replace_all(CONTROL_PATTERN, "").str.strip_chars(_TRIMMED)
    length = raw.str.len_chars()
    return pl.DataFrame(
        {
            "raw": raw,
            "clean": pl.Series(clean).set(clean == "", None),
            "cut_length": length.set(length <= max_chars, None),
            "controls": escaped.set(~controls.fill_null(False), None),
        }
    )


def _card_values(clean: pl.Series) -> pl.DataFrame:
    """残疾人证号: compacted and upper-cased (the ID inside it is normalized with the ID column's values)."""
    return clean.to_frame("card").select(value=compact_text(pl.col("card")).str.to_uppercase())


# Distinct values normalized per batch: Python holds one batch of a lookup at a time, whatever the extract's
# size (a province's contributions carry ten million distinct IDs).
LOOKUP_BATCH_ROWS = 500_000


def _create_lookup(
    con: duckdb.DuckDBPyConnection,
    name: str,
    values_sql: str,
    normalize: Callable[[pl.Series], pl.DataFrame],
    max_chars: int,
) -> None:
    """Create the temporary table `name`: per distinct non-NULL value `v` of `values_sql`, `_safe_cells`'
    columns, then what `normalize` makes of the clean cell — built `LOOKUP_BATCH_ROWS` values at a time —
    and `_fails`, NULL until `NormalizedView.any_true` decides the row rules of the cell."""
    distinct = f"_distinct_{name}"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {distinct} AS "
        f"SELECT v, row_number() OVER () AS i FROM (SELECT DISTINCT v FROM ({values_sql}) WHERE v IS NOT NULL)"
    )
    ((count,),) = con.execute(f"SELECT count(*) FROM {distinct}").fetchall()
    for first in range(0, max(count, 1), LOOKUP_BATCH_ROWS):
        raw = con.sql(
            f"SELECT v FROM {distinct} WHERE i > {first} AND i <= {first + LOOKUP_BATCH_ROWS}"
        ).pl()["v"]
        cells = _safe_cells(raw, max_chars)
        frame = pl.concat([cells, normalize(cells["clean"])], how="horizontal")
        con.register("_lookup_frame", frame.with_columns(_fails=pl.lit(None, pl.Boolean)))
        if first == 0:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM _lookup_frame")
        else:
            con.execute(f"INSERT INTO {name} SELECT * FROM _lookup_frame")
        con.unregister("_lookup_frame")
    con.execute(f"DROP TABLE {distinct}")


_TRIMMED = " \t\r\n\u3000"  # ordinary and ideographic spaces, tabs and line breaks at the ends of a cell


def _clean_text(expr: str) -> str:
    """Trim ordinary and ideographic spaces; an empty cell becomes NULL."""
    return f"NULLIF(trim({expr}, '{_TRIMMED}'), '')"


def _text_values(clean: pl.Series) -> pl.DataFrame:
    """Free text (addresses, phones, employers): the safe cell is the value."""
    return clean.alias("value").to_frame()


def _id_values(as_of: date) -> Callable[[pl.Series], pl.DataFrame]:
    """The ID normalizer's columns, and `id_legacy`: the cell, without the spaces, is 15 characters long (a
    legacy ID, converted). The spaces are SQL's `\\s` ([\\t\\n\\f\\r ]), as the row rule once read them."""

    def normalize(clean: pl.Series) -> pl.DataFrame:
        legacy = clean.str.replace_all(r"[\t\n\f\r ]", "").str.len_chars() == 15
        return normalize_citizen_ids(clean, as_of=as_of).drop("id_raw").with_columns(id_legacy=legacy)

    return normalize


_TOKEN = re.compile(r"'(?:[^']|'')*'|[A-Za-z_][A-Za-z0-9_]*")  # a string literal or an identifier
_LOOKUP_ALIAS = re.compile(r"\b(_lk_\w+)\.")
_RAW_ROW = re.compile(r"\br\.")


@dataclass(frozen=True)
class NormalizedView:
    """The view `build_normalized` made: per column, the SQL it reads (over the raw table `r` and the
    lookups), so that a test of the values of one lookup can be decided once per distinct cell."""

    con: duckdb.DuckDBPyConnection
    name: str
    raw_table: str
    columns: dict[str, str]  # column -> its SQL
    joins: list[str]

    def create(self, extra: dict[str, str] | None = None) -> None:
        """(Re)create the view, with `extra` columns (name -> SQL) after the normalized ones."""
        select = ", ".join(f"{sql} AS {name}" for name, sql in (self.columns | (extra or {})).items())
        self.con.execute(
            f"CREATE OR REPLACE TEMP VIEW {self.name} AS SELECT {select} FROM {self.raw_table} r {' '.join(self.joins)}"
        )

    def of_rows(self, name: str, rows: str) -> "NormalizedView":
        """The view `name` over the raw rows whose rowid the query `rows` returns — copied out of the raw table
        first (DuckDB applies a semi join only above the lookups' joins: every row would be normalized) —
        through the same lookups, `_raw_row` still the raw table's rowid."""
        subset = f"{name}_raw"
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE {subset} AS "
            f"SELECT *, rowid AS _raw_rowid FROM {self.raw_table} WHERE rowid IN ({rows})"
        )
        view = replace(self, name=name, raw_table=subset, columns=self.columns | {"_raw_row": "r._raw_rowid"})
        view.create()
        return view

    def drop(self) -> None:
        """Drop the view of `of_rows` and its rows."""
        self.con.execute(f"DROP VIEW IF EXISTS {self.name}")
        self.con.execute(f"DROP TABLE IF EXISTS {self.raw_table}")

    def any_true(self, conditions: list[str]) -> str:
        """SQL over the view that is true on every row where one of `conditions` is (SQL over its columns, and
        over what a query joins to it: a condition that reads no column of a lookup is tested per row).

        A condition that reads the columns of one lookup only (a date that did not parse, a cell cut or
        holding control characters, a name with a placeholder) is decided once per distinct cell, in the
        lookup, and the view recreated with a boolean per lookup: ten million contribution rows then test a
        handful of booleans, not forty conditions (which alone took 7 s on a city's 9.7 million
        contributions). The others are tested per row.
        """
        lookup_of = {name: alias for name, sql in self.columns.items() if (alias := _only_lookup(sql))}
        per_lookup: dict[str, list[str]] = {}
        per_row = []
        for condition in conditions:
            lookups = {lookup_of.get(name) for name in self._columns_in(condition)}
            if len(lookups) == 1 and None not in lookups:
                per_lookup.setdefault(lookups.pop(), []).append(condition)
            else:
                per_row.append(condition)
        tests = {
            alias: self._over_lookup(" OR ".join(f"({c})" for c in group))
            for alias, group in per_lookup.items()
        }
        for alias, test in tests.items():
            self.con.execute(f"UPDATE {alias} SET _fails = {test}")
        flags = {f"_fails{alias}": f"{alias}._fails" for alias in tests}
        if tests:  # a row whose cell is NULL joins no lookup row: the verdict on a NULL cell stands in
            nulls = " ".join(f"LEFT JOIN {alias} ON false" for alias in tests)
            on_null = self.con.execute(
                f"SELECT {', '.join(tests.values())} FROM (SELECT 1) {nulls}"
            ).fetchone()
            flags = {
                flag: sql if verdict is None else f"coalesce({sql}, {verdict})"
                for (flag, sql), verdict in zip(flags.items(), on_null or (), strict=True)
            }
        self.create(flags)
        return " OR ".join([*flags, *(f"({condition})" for condition in per_row)]) or "false"

    def _columns_in(self, sql: str) -> set[str]:
        """The view's columns `sql` names (identifiers outside string literals)."""
        return set(_TOKEN.findall(sql)) & self.columns.keys()

    def _over_lookup(self, sql: str) -> str:
        """`sql` with each view column it names replaced by the SQL the view reads it with."""
        return _TOKEN.sub(lambda t: f"({self.columns[t[0]]})" if t[0] in self.columns else t[0], sql)


def _only_lookup(sql: str) -> str | None:
    """The one lookup the column SQL reads, None when it reads the raw table or several lookups."""
    aliases = set(_LOOKUP_ALIAS.findall(sql))
    return aliases.pop() if len(aliases) == 1 and not _RAW_ROW.search(sql) else None


def build_normalized(
    con: duckdb.DuckDBPyConnection,
    source: str,
    raw_table: str,
    target: str,
    *,
    as_of: date,
    max_cell_chars: int,
) -> NormalizedView:
    """Create the view `target`: every raw row with its (safe) raw values and the normalized staged columns.

    A view over the raw table and lookup tables (one per raw column, distinct values only, keyed on the
    cell as it was read so that a row costs one hash probe per column and nothing else), not a table: the
    staged table reads it once, and a 10-million-row intermediate never has to sit in memory.
    `drop_normalized` removes it and its lookups.

    Raw columns keep their names prefixed `raw_` (cut, control characters removed, trimmed), so the row
    rules can compare what came in with what came out (a non-empty date that did not parse, an enum value
    nobody knows) and report the raw value; `_cut_<c>` and `_ctl_<c>` say what making the cell safe did.
    An ID's birth date is judged against `as_of`, so a re-run of an old night gives the same verdicts.
    """
    raw_cols = [r[0] for r in con.sql(f"DESCRIBE {raw_table}").fetchall()]
    has = set(raw_cols).__contains__
    joins: list[str] = []
    columns = {c: f"r.{c}" for c in _RECORD_COLUMNS} | {"_raw_row": "r.rowid"}
    looked_up: dict[str, str] = {}  # raw column -> the lookup table alias that holds its safe cells

    def lookup(
        column: str, alias: str, key: str, normalize: Callable[[pl.Series], pl.DataFrame], via: str = ""
    ) -> str:
        """Create the lookup `alias` of the distinct values of `key` (SQL over the raw table `r`, and the
        joins `via` when it needs them), normalized from their safe cells by `normalize`; join it on `key`."""
        _create_lookup(con, alias, f"SELECT {key} AS v FROM {raw_table} r {via}", normalize, max_cell_chars)
        joins.append(f"LEFT JOIN {alias} ON {alias}.raw = {key}")
        if column:
            looked_up[column] = alias
        return alias

    def text_lookup(column: str) -> str:
        """The lookup of a raw column's cells as they are (keyed on the cell: no per-row work), made once."""
        if column not in looked_up:
            lookup(column, f"_lk_{target}_{column}", f"r.{column}", _text_values)
        return looked_up[column]

    # Identity. The disability card number is the holder's ID (18, or a legacy 15) followed by the category
    # and grade digits; it gives the ID when the ID column is blank.
    card = "NULL"
    if has("card_no"):
        card = f"{lookup('card_no', f'_lk_{target}_card', 'r.card_no', _card_values)}.value"
    # A card that is not "ID + two digits" (say, Excel turned it into 1.10105199001011E+19) goes to the ID
    # normalizer whole, which says what is wrong with it (and keeps the digits that survived).
    card_id = (
        f"CASE WHEN regexp_matches({card}, '{CARD_PATTERN}') "
        f"THEN left({card}, length({card}) - 2) ELSE {card} END"
    )
    id_input = "r.citizen_id" if has("citizen_id") else "NULL"
    id_key = f"COALESCE({_clean_text(id_input)}, {card_id})" if has("card_no") else id_input
    lid = lookup(
        "citizen_id" if has("citizen_id") else "",
        f"_lk_{target}_id",
        id_key,
        _id_values(as_of),
        via=" ".join(joins),
    )
    columns |= {
        "id_raw": f"{lid}.clean",
        "id_norm": f"{lid}.id_norm",
        "id_valid": f"COALESCE({lid}.id_valid, false)",
        "id_issue": f"CASE WHEN {lid}.clean IS NULL THEN 'missing' ELSE {lid}.id_issue END",
        **{c: f"{lid}.{c}" for c in ("id_prefix", "id_birth_date", "id_sex", "id_region_known", "id_legacy")},
    }

    if has("name"):
        lname = lookup(
            "name", f"_lk_{target}_name", "r.name", lambda clean: normalize_names(clean).drop("name_raw")
        )
        columns |= {
            "name_raw": f"{lname}.clean",
            "name": f"{lname}.name",
            "name_alias": f"{lname}.name_alias",
        }
    else:
        columns |= {"name_raw": "NULL", "name": "NULL", "name_alias": "NULL"}

    for column in SOURCE_COLUMNS[source] + IDENTITY_VALUE_COLUMNS:
        derivation = DERIVATIONS[column.name]
        if not has(derivation.raw):
            columns[column.name] = f"CAST(NULL AS {column.sql_type})"
        elif derivation.kind == "text":
            columns[column.name] = f"{text_lookup(derivation.raw)}.value"
        elif derivation.kind == "card_no":
            columns[column.name] = f"NULLIF({card}, '')"
        else:
            normalizer = _lookup_function(derivation.kind, as_of)
            alias = lookup(
                derivation.raw,
                f"_lk_{target}_{column.name}",
                f"r.{derivation.raw}",
                lambda clean, normalizer=normalizer: normalizer(clean).alias("value").to_frame(),
            )
            columns[column.name] = f"CAST({alias}.value AS {column.sql_type})"

    if has(SURPLUS_COLUMN):  # the first field too many, made safe like every cell (the steward sees it)
        columns[SURPLUS_COLUMN] = f"{text_lookup(SURPLUS_COLUMN)}.clean"
    # Every raw column once more, made safe, with what making it safe did (columns no derivation reads, too).
    for c in raw_cols:
        if c not in (*_RECORD_COLUMNS, SURPLUS_COLUMN):
            alias = text_lookup(c)
            columns |= {
                f"raw_{c}": f"{alias}.clean",
                f"_cut_{c}": f"{alias}.cut_length",
                f"_ctl_{c}": f"{alias}.controls",
            }
    view = NormalizedView(con, target, raw_table, columns, joins)
    view.create()
    return view


def next_birth_date(con: duckdb.DuckDBPyConnection, target: str, as_of: date) -> date | None:
    """The first date after `as_of` that is the birth date inside an ID of the normalized view `target`
    (its ID and 户主身份证号 lookups): from that night on the ID is no longer impossible and would be staged
    otherwise. The staging of `as_of` holds, unchanged, for every night before it; None: for every night."""
    lookups = {f"_lk_{target}_id": "id_norm"} | {
        f"_lk_{target}_{name}": "value" for name, derivation in DERIVATIONS.items() if derivation.kind == "id"
    }
    present = {
        name for (name,) in con.sql("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()
    }
    ids = " UNION ALL ".join(
        f"SELECT {column} AS id FROM {name}" for name, column in lookups.items() if name in present
    )
    if not ids:
        return None
    ((first,),) = con.execute(
        f"SELECT min(birth) FROM (SELECT try_strptime(substr(id, 7, 8), '%Y%m%d')::DATE AS birth FROM ({ids})) "
        "WHERE birth > ?",
        [as_of],
    ).fetchall()
    return first


def drop_normalized(con: duckdb.DuckDBPyConnection, target: str) -> None:
    """Drop the view `build_normalized` made and its lookup tables."""
    con.execute(f"DROP VIEW IF EXISTS {target}")
    lookups = con.sql(
        f"SELECT table_name FROM duckdb_tables() WHERE temporary AND starts_with(table_name, '_lk_{target}_')"
    ).fetchall()
    for (name,) in lookups:
        con.execute(f"DROP TABLE {name}")


def staged_columns_sql(source: str) -> str:
    """The SELECT list that projects normalized rows onto the stored staged columns, in order (not the
    virtual `source_record`).

    Birth date and sex are the source's own columns only (NULL where it has none): what the ID says is
    the ID's evidence, and the linker must not count it twice. The disability category and grade fall
    back to the card number's last two digits (after an 18- or 15-character ID).
    """
    fallbacks = {
        "disability_category": f"COALESCE(disability_category, {_card_digit_case(CARD_CATEGORIES)})",
        "disability_grade": f"COALESCE(disability_grade, TRY_CAST({_CARD_GRADE_DIGIT} AS INTEGER))",
    }
    return ", ".join(
        f"CAST({fallbacks.get(c.name, c.name)} AS {c.sql_type}) AS {c.name}"
        for c in staged_columns(source)
        if c.name != "source_record"
    )


def _card_digit_case(labels: dict[str, str]) -> str:
    whens = " ".join(f"WHEN '{digit}' THEN '{label}'" for digit, label in labels.items())
    return f"CASE {_CARD_CATEGORY_DIGIT} {whens} END"


_CARD_HAS_DIGITS = f"regexp_matches(card_no, '{CARD_PATTERN}')"
_CARD_CATEGORY_DIGIT = f"CASE WHEN {_CARD_HAS_DIGITS} THEN substr(card_no, length(card_no) - 1, 1) END"
_CARD_GRADE_DIGIT = f"CASE WHEN {_CARD_HAS_DIGITS} THEN right(card_no, 1) END"


_RECORD_COLUMNS = ("source", "source_file", "source_sheet", "source_row", "source_record")
# Identity columns that a source may carry itself (else they come from the ID).
IDENTITY_VALUE_COLUMNS = tuple(c for c in IDENTITY_COLUMNS if c.name in ("sex", "birth_date"))
