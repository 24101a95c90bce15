"""Staging: turn a source's raw text table into its typed, normalized `staged_<source>` table.

What belongs here: how each staged column is derived from a raw column (the `DERIVATIONS` table), and
the mechanics of applying the normalizers of this package at scale. The normalizers run in Python on
the *distinct* raw values of a column (a few thousand dates, a million names at most) and are joined
back in DuckDB, so a 10-million-row contributions table never passes through Python row by row.

What does not belong here: reading files (`readers.py`), the row rules that decide what goes to
quarantine (`checks/row_rules.py`), and the normalization logic itself (`citizen_id.py`, `names.py`,
`dates.py`, `enums.py`).
"""

from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import polars as pl

from sources.citizen_id import normalize_citizen_ids
from sources.dates import parse_dates, parse_months
from sources.enums import normalize_enum, split_categories
from sources.names import normalize_names
from sources.tables import IDENTITY_COLUMNS, SOURCE_COLUMNS, staged_columns
from sources.text import compact_text


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

Lookup = Callable[[pl.Series], pl.Series]


def _lookup_function(kind: str) -> Lookup:
    """The vectorised normalizer for a derivation kind, as raw Series -> normalized Series."""
    if kind == "date":
        return parse_dates
    if kind == "month":
        return parse_months
    if kind == "categories":
        return split_categories
    if kind == "name":
        return lambda raw: normalize_names(raw)["name"]
    if kind == "id":
        return lambda raw: normalize_citizen_ids(raw)["id_norm"]
    if kind.startswith("enum:"):
        enum_kind = kind.removeprefix("enum:")
        return lambda raw: normalize_enum(enum_kind, raw)
    raise ValueError(f"no lookup normalizer for kind {kind!r}")


def _register_lookup(con: duckdb.DuckDBPyConnection, name: str, raw: pl.Series, values: pl.DataFrame) -> None:
    """Store a raw -> normalized lookup as the temporary table `name`, column `raw` first."""
    con.register("_lookup_frame", pl.concat([raw.alias("raw").to_frame(), values], how="horizontal"))
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM _lookup_frame")
    con.unregister("_lookup_frame")


def _distinct(con: duckdb.DuckDBPyConnection, sql: str) -> pl.Series:
    return con.sql(f"SELECT DISTINCT v FROM ({sql}) WHERE v IS NOT NULL").pl()["v"]


def _clean_text(expr: str) -> str:
    """Trim ordinary and ideographic spaces; an empty cell becomes NULL."""
    return f"NULLIF(trim({expr}, ' \t\r\n\u3000'), '')"


def build_normalized(con: duckdb.DuckDBPyConnection, source: str, raw_table: str, target: str) -> None:
    """Create the view `target`: every raw row with its raw values and the normalized staged columns.

    A view over the raw table and small lookup tables (one per normalized column, distinct values
    only), not a table: the quarantine and the staged table each read it once, and a 10-million-row
    intermediate never has to sit in memory. `drop_normalized` removes it and its lookups.

    Raw columns keep their names prefixed `raw_`, so the row rules can compare what came in with what
    came out (a non-empty date that did not parse, an enum value nobody knows) and report the raw value.
    """
    raw_cols = [r[0] for r in con.sql(f"DESCRIBE {raw_table}").fetchall()]
    has = set(raw_cols).__contains__
    joins: list[str] = []
    selects: list[str] = [f"r.{c} AS raw_{c}" for c in raw_cols if c not in _RECORD_COLUMNS]
    selects += [f"r.{c}" for c in _RECORD_COLUMNS] + ["r.rowid AS _raw_row"]

    # Identity. The disability card number is the holder's ID (18, or a legacy 15) followed by the category
    # and grade digits; it gives the ID when the ID column is blank.
    card = "NULL"
    if has("card_no"):
        cards_raw = _distinct(con, f"SELECT {_clean_text('card_no')} AS v FROM {raw_table}")
        cards = cards_raw.to_frame("raw").select(
            compact_text(pl.col("raw")).str.to_uppercase().alias("value")
        )
        _register_lookup(con, f"_lk_{target}_card", cards_raw, cards)
        joins.append(f"LEFT JOIN _lk_{target}_card lcard ON lcard.raw = {_clean_text('r.card_no')}")
        card = "lcard.value"
    id_input = _clean_text("r.citizen_id") if has("citizen_id") else "NULL"
    # A card that is not "ID + two digits" (say, Excel turned it into 1.10105199001011E+19) goes to the ID
    # normalizer whole, which says what is wrong with it (and keeps the digits that survived).
    card_id = (
        f"CASE WHEN regexp_matches({card}, '{CARD_PATTERN}') "
        f"THEN left({card}, length({card}) - 2) ELSE {card} END"
    )
    id_expr = f"COALESCE({id_input}, {card_id})" if has("card_no") else id_input
    ids_raw = _distinct(con, f"SELECT {id_expr} AS v FROM {raw_table} r {' '.join(joins)}")
    _register_lookup(con, f"_lk_{target}_id", ids_raw, normalize_citizen_ids(ids_raw).drop("id_raw"))
    joins.append(f"LEFT JOIN _lk_{target}_id lid ON lid.raw = {id_expr}")
    selects += [
        f"{id_expr} AS id_raw",
        "lid.id_norm",
        "COALESCE(lid.id_valid, false) AS id_valid",
        f"CASE WHEN {id_expr} IS NULL THEN 'missing' ELSE lid.id_issue END AS id_issue",
        "lid.id_prefix",
        "lid.id_birth_date",
        "lid.id_sex",
        "lid.id_region_known",
    ]

    names_raw = _distinct(con, f"SELECT {_clean_text('name')} AS v FROM {raw_table}") if has("name") else None
    if names_raw is not None:
        _register_lookup(con, f"_lk_{target}_name", names_raw, normalize_names(names_raw).drop("name_raw"))
        joins.append(f"LEFT JOIN _lk_{target}_name lname ON lname.raw = {_clean_text('r.name')}")
        selects += [f"{_clean_text('r.name')} AS name_raw", "lname.name", "lname.name_alias"]
    else:
        selects += ["NULL AS name_raw", "NULL AS name", "NULL AS name_alias"]

    for column in SOURCE_COLUMNS[source] + IDENTITY_VALUE_COLUMNS:
        derivation = DERIVATIONS[column.name]
        if not has(derivation.raw):
            selects.append(f"CAST(NULL AS {column.sql_type}) AS {column.name}")
            continue
        value = _clean_text(f"r.{derivation.raw}")
        if derivation.kind == "text":
            selects.append(f"{value} AS {column.name}")
        elif derivation.kind == "number":
            selects.append(
                f"TRY_CAST(regexp_replace({value}, '[,，¥￥元\\s]', '', 'g') AS DOUBLE) AS {column.name}"
            )
        elif derivation.kind == "card_no":
            selects.append(f"NULLIF({card}, '') AS {column.name}")
        else:
            alias = f"_lk_{target}_{column.name}"
            raw_values = _distinct(con, f"SELECT {_clean_text(derivation.raw)} AS v FROM {raw_table}")
            normalized = _lookup_function(derivation.kind)(raw_values).alias("value").to_frame()
            _register_lookup(con, alias, raw_values, normalized)
            joins.append(f"LEFT JOIN {alias} ON {alias}.raw = {value}")
            selects.append(f"CAST({alias}.value AS {column.sql_type}) AS {column.name}")
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {target} AS SELECT {', '.join(selects)} FROM {raw_table} r {' '.join(joins)}"
    )


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
