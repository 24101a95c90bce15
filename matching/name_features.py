"""Name-pair features that SQL cannot compute well on Chinese text, over the *distinct* candidate name pairs.

What belongs here: for each distinct (record name, person name) pair that differ, whether their pinyin
is the same (同音字), the Levenshtein distance in characters and the RapidFuzz normalized Indel
similarity (0 exactly when the names share no character) — computed vectorised (RapidFuzz `cpdist`, the
shared pinyin key of
`sources.names`) and handed back to DuckDB as a table to join. DuckDB's own `levenshtein` counts UTF-8
bytes, not characters. What does not belong here: what the features mean for a match (`comparisons.py`).
"""

import duckdb
import polars as pl
from rapidfuzz import process
from rapidfuzz.distance import Indel, Levenshtein

from aidmatch.sources.names import name_pinyin


def name_pair_features(pairs: pl.DataFrame) -> pl.DataFrame:
    """Features of distinct name pairs: columns `record_name`, `person_name` in; the same plus
    `same_pinyin`, `name_edits`, `name_similarity` out."""
    left = pairs["record_name"].to_list()
    right = pairs["person_name"].to_list()
    return pairs.with_columns(
        same_pinyin=name_pinyin(pairs["record_name"]) == name_pinyin(pairs["person_name"]),
        name_edits=pl.Series(
            process.cpdist(left, right, scorer=Levenshtein.distance, workers=-1), dtype=pl.Int64
        ),
        name_similarity=pl.Series(
            process.cpdist(left, right, scorer=Indel.normalized_similarity, workers=-1), dtype=pl.Float64
        ),
    )


def create_name_features(con: duckdb.DuckDBPyConnection, pairs_table: str, target: str) -> int:
    """Create `target` with the features of the distinct differing non-null name pairs of `pairs_table`;
    returns how many pairs there were."""
    pairs = con.sql(
        f"""SELECT DISTINCT record_name, person_name FROM {pairs_table}
            WHERE record_name <> person_name"""
    ).pl()
    con.register("name_pair_features_frame", name_pair_features(pairs))
    con.execute(f"CREATE OR REPLACE TEMP TABLE {target} AS SELECT * FROM name_pair_features_frame")
    con.unregister("name_pair_features_frame")
    return pairs.height
