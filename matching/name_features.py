"""Name-pair features that SQL cannot compute well on Chinese text, over the *distinct* candidate name pairs.

What belongs here: for each distinct (record name, person name) pair that differ or hold a 生僻字
placeholder, whether their pinyin is the same (同音字), the Levenshtein distance in characters and the
RapidFuzz normalized Indel similarity (0 exactly when the names share no character) — computed vectorised
(RapidFuzz `cpdist`, the shared pinyin key of `sources.names`) and handed back to DuckDB as a table to
join. DuckDB's own `levenshtein` counts UTF-8 bytes, not characters.

A placeholder (`sources.names.PLACEHOLDER_PATTERN`: 王?伟, 王□伟) agrees with any one character: in names of
the same length, each placeholder is taken to be the other name's character at its place before the
features are computed, and `name_unknown` says so — 王?伟 and 王志伟 are "the same name, one character
unknown", 王?伟 and 汪志炜 the same pinyin. A name with fewer than `KNOWN_CHARACTERS_MIN` characters of its
own (李?) says too little to agree with anything: `name_unreadable`, compared as a missing name.
What does not belong here: what the features mean for a match (`comparisons.py`).
"""

import duckdb
import polars as pl
from rapidfuzz import process
from rapidfuzz.distance import Indel, Levenshtein

from aidmatch.sources.names import (
    KNOWN_CHARACTERS_MIN,
    PLACEHOLDER_PATTERN,
    has_placeholder,
    known_characters,
    name_pinyin,
)


def name_pair_features(pairs: pl.DataFrame) -> pl.DataFrame:
    """Features of distinct name pairs: columns `record_name`, `person_name` in; the same plus
    `same_pinyin`, `name_edits`, `name_similarity`, `name_unknown` and `name_unreadable` out."""
    resolved = resolve_placeholders(pairs)
    left = resolved["record_resolved"].to_list()
    right = resolved["person_resolved"].to_list()
    return pairs.with_columns(
        same_pinyin=name_pinyin(resolved["record_resolved"]) == name_pinyin(resolved["person_resolved"]),
        name_edits=pl.Series(
            process.cpdist(left, right, scorer=Levenshtein.distance, workers=-1), dtype=pl.Int64
        ),
        name_similarity=pl.Series(
            process.cpdist(left, right, scorer=Indel.normalized_similarity, workers=-1), dtype=pl.Float64
        ),
        name_unknown=resolved["name_unknown"],
        name_unreadable=resolved["name_unreadable"],
    )


def resolve_placeholders(pairs: pl.DataFrame) -> pl.DataFrame:
    """`record_resolved`, `person_resolved`: the names with each placeholder taken to be the other name's
    character at its place, where the names are as long as each other and every name holding a placeholder
    keeps `KNOWN_CHARACTERS_MIN` characters of its own (else as written); `name_unknown` (a placeholder was
    resolved) and `name_unreadable` (a name holds a placeholder and too few characters of its own).
    Only the pairs holding a placeholder are split into characters."""
    record, person = pl.col("record_name"), pl.col("person_name")

    def too_few(name: pl.Expr) -> pl.Expr:
        return has_placeholder(name) & (known_characters(name) < KNOWN_CHARACTERS_MIN)

    flagged = pairs.select(
        record,
        person,
        name_unreadable=(too_few(record) | too_few(person)).fill_null(False),
        resolvable=(has_placeholder(record) | has_placeholder(person))
        & (record.str.len_chars() == person.str.len_chars()),
    ).with_columns(
        name_unknown=(pl.col("resolvable") & ~pl.col("name_unreadable")).fill_null(False),
    )
    chosen = flagged.with_row_index("pair").filter("name_unknown")
    characters = chosen.select("pair", record=record.str.split(""), person=person.str.split("")).explode(
        "record", "person"
    )
    record_unknown = pl.col("record").str.contains(PLACEHOLDER_PATTERN)
    person_unknown = pl.col("person").str.contains(PLACEHOLDER_PATTERN)
    # a place unknown in both names stays a placeholder in both (the record's): they agree there too
    fixed = (
        characters.with_columns(
            record=pl.when(record_unknown & ~person_unknown).then("person").otherwise("record")
        )
        .select("pair", "record", person=pl.when(person_unknown).then("record").otherwise("person"))
        .group_by("pair", maintain_order=True)
        .agg(pl.col("record").str.join(""), pl.col("person").str.join(""))
    )
    record_resolved = flagged["record_name"].clone().scatter(fixed["pair"], fixed["record"])
    person_resolved = flagged["person_name"].clone().scatter(fixed["pair"], fixed["person"])
    return flagged.select("name_unknown", "name_unreadable").with_columns(
        record_resolved=record_resolved, person_resolved=person_resolved
    )


def create_name_features(con: duckdb.DuckDBPyConnection, pairs_table: str, target: str) -> int:
    """Create `target` with the features of the distinct non-null name pairs of `pairs_table` that differ or
    hold a placeholder (the macro of `comparisons.create_macros`); returns how many pairs there were."""
    pairs = con.sql(
        f"""SELECT DISTINCT record_name, person_name FROM {pairs_table}
            WHERE record_name <> person_name OR has_placeholder(record_name) OR has_placeholder(person_name)"""
    ).pl()
    con.register("name_pair_features_frame", name_pair_features(pairs))
    con.execute(f"CREATE OR REPLACE TEMP TABLE {target} AS SELECT * FROM name_pair_features_frame")
    con.unregister("name_pair_features_frame")
    return pairs.height


def create_pair_input(con: duckdb.DuckDBPyConnection, pairs_table: str, target: str) -> None:
    """`target`: the pairs of `pairs_table` with their name features (`create_name_features`, in
    `<target>_names`), the relation the comparisons score — the linker's, and the comparison tests'."""
    create_name_features(con, pairs_table, f"{target}_names")
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW {target} AS
            SELECT pn.*, nf.* EXCLUDE (record_name, person_name)
            FROM {pairs_table} AS pn
            LEFT JOIN {target}_names AS nf USING (record_name, person_name)"""
    )
