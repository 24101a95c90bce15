"""How a record is compared with a person: the comparison levels, declared Splink-style, rendered to SQL.

What belongs here: each comparison (citizen ID, name, birth date, sex) as an ordered list of levels,
each level a SQL condition over one row of the candidate-pair relation; the first level that holds
wins, and its match weight comes from `LinkSettings`. Also the SQL macros that the conditions and the
blocking keys share. What does not belong here: which pairs are compared (`blocking.py`) and what is
decided from the score (`link.py`).

The pair relation has the record's columns `record_id` (normalized ID or NULL), `record_id_valid`,
`record_id_conflict` (the valid ID is another person's), `record_head_id` (on a 低保 head's row: the
household's 户主身份证号), `record_id_prefix` (Excel digits), `record_name`, `record_alias`, `record_birth_date`, `record_sex`, the
person's `person_id`, `person_name`, `person_alias`, `person_birth_date`, `person_sex` (the last two
from the ID), and the name-pair features of `name_features.py`: `same_pinyin`, `name_edits`
(Levenshtein distance in characters), `name_similarity` (0..1, 0 when no character is shared), computed
with each 生僻字 placeholder taken as the other name's character, and `name_unknown` (one was),
`name_unreadable` (a name of too few characters of its own besides a placeholder).
"""

import datetime as dt
import re
from dataclasses import dataclass

import duckdb

from aidmatch.matching.settings import LinkSettings
from aidmatch.sources.citizen_id import CHECK_CHARACTERS, EARLIEST_BIRTH, WEIGHTS
from aidmatch.sources.names import PLACEHOLDER_PATTERN

# Macros shared by the comparison levels and the blocking keys.
MACROS = r"""
-- The 17 IDs that differ from `id` by one swap of two adjacent characters (positions p, p+1).
CREATE OR REPLACE TEMP MACRO id_adjacent_swaps(id) AS list_transform(
    range(1, 18),
    lambda p: substr(id, 1, p - 1) || substr(id, p + 1, 1) || substr(id, p, 1) || substr(id, p + 2)
);
-- The 18-character ID without its part-th (0..2) run of six characters: the other twelve.
CREATE OR REPLACE TEMP MACRO id_without_part(id, part) AS
    CASE part WHEN 0 THEN substr(id, 7) WHEN 1 THEN left(id, 6) || substr(id, 13) ELSE left(id, 12) END;
-- Excel kept the first digits of the ID, the last of them rounded (1.10105199001011E+17).
CREATE OR REPLACE TEMP MACRO excel_prefix_matches(prefix, id) AS
    left(id, length(prefix)) = prefix
    OR (left(id, length(prefix) + 1)::HUGEINT + 5) // 10 = prefix::HUGEINT;
-- Birth date (YYYYMMDD, positions 7..14) and sex (odd 17th digit: male) that a valid ID states.
CREATE OR REPLACE TEMP MACRO id_birth_date(id) AS
    make_date(substr(id, 7, 4)::INTEGER, substr(id, 11, 2)::INTEGER, substr(id, 13, 2)::INTEGER);
CREATE OR REPLACE TEMP MACRO id_sex(id) AS
    CASE WHEN substr(id, 17, 1)::INTEGER % 2 = 1 THEN '男' ELSE '女' END;
-- The surname as blocking key: the first character (a compound surname's first, a minority name's first).
CREATE OR REPLACE TEMP MACRO surname(name) AS left(name, 1);
-- Two names one character apart — one changed, or one dropped — counted in characters (DuckDB 1.4's
-- levenshtein counts UTF-8 bytes: 王?伟 and 王喆伟 would be three apart).
CREATE OR REPLACE TEMP MACRO one_char_dropped(longer, shorter) AS length(longer) = length(shorter) + 1
    AND coalesce(list_bool_or(list_transform(range(1, length(longer) + 1),
        lambda i: left(longer, i - 1) || substr(longer, i + 1) = shorter)), false);
CREATE OR REPLACE TEMP MACRO one_char_apart(a, b) AS CASE
    WHEN length(a) = length(b)
        THEN len(list_filter(range(1, length(a) + 1), lambda i: substr(a, i, 1) <> substr(b, i, 1))) = 1
    ELSE one_char_dropped(a, b) OR one_char_dropped(b, a)
END;
""" + (
    "-- The name holds a 生僻字 placeholder (sources/names.py).\n"
    "CREATE OR REPLACE TEMP MACRO has_placeholder(name) AS "
    f"coalesce(regexp_matches(name, '{PLACEHOLDER_PATTERN}'), false);\n"
)


def id_validity_macro(as_of: dt.date) -> str:
    """The macro `id_is_valid(id)`: whether a normalized ID is valid on the night `as_of`, for the columns
    staging does not validate (户主身份证号). It is staging's verdict (`sources/citizen_id.py`), made of the
    same constants — 17 digits and a check character, a real birth date from EARLIEST_BIRTH to the as-of
    date, the MOD 11-2 check — and tests/test_citizen_id_sql.py holds the two together on random IDs."""
    weights = ", ".join(str(weight) for weight in WEIGHTS)
    return f"""
CREATE OR REPLACE TEMP MACRO id_is_valid(id) AS coalesce(
    regexp_full_match(id, '[0-9]{{17}}[0-9X]')
    AND try_strptime(substr(id, 7, 8), '%Y%m%d')::DATE
        BETWEEN DATE '{EARLIEST_BIRTH.isoformat()}' AND DATE '{as_of.isoformat()}'
    AND substr('{CHECK_CHARACTERS}', 1 + (list_sum(list_transform(range(17), lambda i:
        TRY_CAST(substr(id, i + 1, 1) AS INTEGER) * [{weights}][i + 1]
    )) % 11)::INTEGER, 1) = right(id, 1),
    false
);"""


@dataclass(frozen=True)
class Level:
    """One comparison level: `name` holds when `sql` (a condition on one pair) holds."""

    name: str
    sql: str


@dataclass(frozen=True)
class Comparison:
    """A field compared in ordered levels; `missing` (weight 0) when `missing_sql` holds, the last level
    is the catch-all."""

    name: str
    missing_sql: str
    levels: tuple[Level, ...]
    # Left out of the evidence text when missing: a comparison that only some sources can make.
    quiet_when_missing: bool = False

    @property
    def level_names(self) -> tuple[str, ...]:
        """Every level `level_sql` can name: `missing`, then the levels in order."""
        return ("missing", *(level.name for level in self.levels))

    def level_sql(self, settings: LinkSettings) -> str:
        """A CASE expression naming the level of one pair."""
        whens = " ".join(
            f"WHEN {level.sql} THEN '{level.name}'".format(name_similarity_min=settings.name_similarity_min)
            for level in self.levels[:-1]
        )
        return f"CASE WHEN {self.missing_sql} THEN 'missing' {whens} ELSE '{self.levels[-1].name}' END"

    def weight_sql(self, settings: LinkSettings, level_column: str) -> str:
        """A CASE expression giving the match weight of the level held in `level_column`."""
        whens = " ".join(
            f"WHEN '{level.name}' THEN {settings.weight(self.name, level.name):.4f}" for level in self.levels
        )
        return f"CASE {level_column} {whens} ELSE 0.0 END"

    def evidence_sql(self) -> str:
        """The comparison's part of the evidence text: `name=level(+w.w)`, with a leading space but the first's."""
        part = f"'{self.name}=' || {self.name}_level || printf('(%+.1f)', {self.name}_weight)"
        if self.quiet_when_missing:
            return f"CASE WHEN {self.name}_level = 'missing' THEN '' ELSE ' ' || {part} END"
        return part


CITIZEN_ID = Comparison(
    "id",
    "record_id IS NULL AND record_id_prefix IS NULL",
    (
        Level("exact", "record_id = person_id"),
        Level("checksum_only", "left(record_id, 17) = left(person_id, 17)"),
        Level("one_substitution", "hamming(record_id, person_id) = 1"),
        Level("adjacent_swap", "list_contains(id_adjacent_swaps(record_id), person_id)"),
        Level("excel_prefix", "excel_prefix_matches(record_id_prefix, person_id)"),
        # The record's valid ID belongs to somebody else (a housemate's typed by mistake: another name,
        # or another birth date): it says nothing about this candidate either way.
        Level("another_persons_id", "record_id_conflict"),
        # Twins: the same region and birth date, registered together, numbered one after the other (+1 or
        # +2: the 17th digit's parity is the sex), under names that are not the same — twins' names often
        # sound alike (梓涵, 梓晗) or differ in one character. A little against: the name, birth date and sex
        # decide, and a homophone, a dropped or an unknown character is no link. (Nobody names twins
        # alike: under the same name, numbers one apart are one person's second ID, the next level.)
        Level(
            "adjacent_sequence",
            "record_id_valid AND left(record_id, 14) = left(person_id, 14)"
            " AND abs(substr(record_id, 15, 3)::INTEGER - substr(person_id, 15, 3)::INTEGER) <= 2"
            " AND record_name IS DISTINCT FROM person_name",
        ),
        # One person under two IDs (SPEC section 2): a second valid ID with the same region and birth date.
        Level("same_region_birth_date", "record_id_valid AND left(record_id, 14) = left(person_id, 14)"),
        Level("both_valid_different", "record_id_valid"),
        Level("different", "true"),
    ),
)

# A 生僻字 placeholder agrees with any one character (`name_features.py` resolves it before the features are
# computed): names equal but for it are "the same name, one character unknown", below an exact name; a name
# of too few characters of its own besides a placeholder (李?) is compared as missing.
NAME = Comparison(
    "name",
    "record_name IS NULL OR person_name IS NULL OR coalesce(name_unreadable, false)",
    (
        Level("exact", "record_name = person_name AND NOT coalesce(name_unknown, false)"),
        Level(
            "alias",
            "record_alias = person_name OR record_name = person_alias OR record_alias = person_alias",
        ),
        Level("unknown_char", "name_unknown AND name_edits = 0"),
        Level("same_pinyin", "same_pinyin"),
        Level("dropped_char", "name_edits = 1 AND length(record_name) <> length(person_name)"),
        Level("one_char_differs", "name_edits = 1"),
        Level("similar", "name_similarity >= {name_similarity_min}"),
        Level("different", "name_similarity = 0"),
        Level("partial", "true"),
    ),
)

BIRTH_DATE = Comparison(
    "birth_date",
    "record_birth_date IS NULL OR person_birth_date IS NULL",
    (
        Level("exact", "record_birth_date = person_birth_date"),
        Level(
            "one_component",
            "(year(record_birth_date) = year(person_birth_date))::INTEGER"
            " + (month(record_birth_date) = month(person_birth_date))::INTEGER"
            " + (day(record_birth_date) = day(person_birth_date))::INTEGER = 2",
        ),
        Level("different", "true"),
    ),
)

SEX = Comparison(
    "sex",
    "record_sex IS NULL OR person_sex IS NULL",
    (Level("agree", "record_sex = person_sex"), Level("disagree", "true")),
)

# 低保: a household head's row states the head's ID twice, in 成员身份证号 and 户主身份证号 (or the household's
# other rows do): `record_head_id` is that ID on the head's own row, NULL on every other record.
HOUSEHOLD_HEAD = Comparison(
    "household_head",
    "record_head_id IS NULL",
    (Level("agree", "record_head_id = person_id"), Level("disagree", "true")),
    quiet_when_missing=True,
)

COMPARISONS: tuple[Comparison, ...] = (CITIZEN_ID, NAME, BIRTH_DATE, SEX, HOUSEHOLD_HEAD)


def create_macros(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> None:
    """Define the shared SQL macros on this connection, ID validity as of the night `as_of`."""
    con.execute(MACROS + id_validity_macro(as_of))


def create_scored_pairs(
    con: duckdb.DuckDBPyConnection, pairs: str, target: str, settings: LinkSettings
) -> None:
    """Create `target`: every row of the pair relation `pairs` with one `<comparison>_level` column per
    comparison, `score` (the summed match weights) and a readable `evidence` string, e.g.
    `id=one_substitution(+10.0) name=exact(+9.7) birth_date=missing(+0.0) sex=agree(+1.0)`.
    Weights and evidence are computed once per combination of levels (Splink's agreement patterns: every
    comparison's levels crossed, a few hundred) and joined to the pairs as their levels are computed, so
    the pairs are written once (written twice, levels then scores, they took a province 41 s where 34)."""
    levels = ", ".join(f"{c.level_sql(settings)} AS {c.name}_level" for c in COMPARISONS)
    level_columns = ", ".join(f"{c.name}_level" for c in COMPARISONS)
    weights = ", ".join(
        f"{c.weight_sql(settings, f'{c.name}_level')} AS {c.name}_weight" for c in COMPARISONS
    )
    score = " + ".join(f"{c.name}_weight" for c in COMPARISONS)
    evidence = " || ".join(
        c.evidence_sql() if c.quiet_when_missing or i == 0 else f"' ' || {c.evidence_sql()}"
        for i, c in enumerate(COMPARISONS)
    )
    every_level = " CROSS JOIN ".join(
        f"(VALUES {', '.join(f'({name!r})' for name in c.level_names)}) AS {c.name}({c.name}_level)"
        for c in COMPARISONS
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE link_patterns AS
        SELECT {level_columns}, round({score}, 2) AS score, {evidence} AS evidence
        FROM (SELECT *, {weights} FROM {every_level})
        """
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {target} AS "
        f"SELECT * FROM (SELECT *, {levels} FROM {pairs}) JOIN link_patterns USING ({level_columns})"
    )
    con.execute("DROP TABLE link_patterns")


_EVIDENCE_PART = re.compile(r"(\w+)=(\w+)\(([+-][\d.]+)\)")


def parse_evidence(evidence: str | None) -> list[tuple[str, str, float]]:
    """(comparison, level, weight as printed) of each part of an evidence string written by
    `create_scored_pairs`: `id=one_substitution(+10.0) name=exact(+9.7)` → [("id", "one_substitution", 10.0), …]."""
    return [(c, level, float(w)) for c, level, w in _EVIDENCE_PART.findall(evidence or "")]
