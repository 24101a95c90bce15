"""Candidate generation for the fuzzy tier: blocking rules declared as data, each a SQL query.

What belongs here: which (record profile, person) pairs are worth comparing when the record's ID cannot
be trusted, or is valid but alone in its source. Each rule targets one defect of SPEC section 2 and
yields `profile_id, person_id` from `link_fuzzy_profiles` (the few profiles that need fuzzy matching:
`profile_id, source, id_norm, id_valid, id_prefix, name, name_pinyin, birth_date, sex, head_id, conflict,
own_lonely, second_id_suspect`) and `link_persons` (one row per valid ID: `person_id, name, name_pinyin,
birth_date, sex, sources, records, authority, lonely`). Keys are generated for the
fuzzy profiles only; the persons' side is computed inside the join, never stored. How many pairs each
rule generates is reported (Splink's lesson: blocking cost is what runs out of memory).
What does not belong here: comparing or scoring the pairs (`comparisons.py`).
"""

from dataclasses import dataclass

import duckdb

# Names close enough for two IDs of one region and birth date to be one person's (`p`: the person, `f`: the
# record's profile): the same, the same pinyin (同音字), one character dropped, or one character a 生僻字
# placeholder stands for. Not one character changed: 张伟 and 张强 of one region and birth date are a family's
# two children more often than one person's typo (a 形近字 with a second ID would score review at best).
# The key (region and birth date) is selective; the comparisons decide, twins included.
SECOND_ID_NAMES = """(p.name = f.name OR p.name_pinyin = f.name_pinyin
    OR (one_char_apart(p.name, f.name)
        AND (length(p.name) <> length(f.name) OR has_placeholder(p.name) OR has_placeholder(f.name))))"""


@dataclass(frozen=True)
class BlockingRule:
    name: str
    description: str
    sql: str


BLOCKING_RULES: tuple[BlockingRule, ...] = (
    BlockingRule(
        "one_substitution",
        "one mistyped digit or a wrong check character: the IDs differ in exactly one of their 18 positions",
        # Cut into three parts of six, two IDs one substitution apart share two whole parts: three keys
        # per ID instead of one per masked position (18 per person, 18 million at city scale). Only a record
        # whose ID is invalid can be one: MOD 11-2 catches every single substitution, so no valid ID is one
        # substitution (or, below, one adjacent swap) away from another valid ID, and a person's is valid.
        """
        SELECT f.profile_id, p.person_id
        FROM (SELECT profile_id, id_norm, part, id_without_part(id_norm, part) AS key
              FROM link_fuzzy_profiles, range(3) AS parts(part) WHERE length(id_norm) = 18 AND NOT id_valid) AS f
        JOIN (SELECT person_id, part, id_without_part(person_id, part) AS key
              FROM link_persons, range(3) AS parts(part)) AS p
          ON f.part = p.part AND f.key = p.key
        WHERE hamming(f.id_norm, p.person_id) = 1
        """,
    ),
    BlockingRule(
        "adjacent_swap",
        "the ID with two adjacent characters swapped back",
        """
        SELECT f.profile_id, p.person_id
        FROM (SELECT profile_id, id_norm, unnest(id_adjacent_swaps(id_norm)) AS swapped
              FROM link_fuzzy_profiles WHERE id_norm IS NOT NULL AND NOT id_valid) AS f
        JOIN link_persons AS p ON p.person_id = f.swapped
        WHERE f.swapped <> f.id_norm
        """,
    ),
    BlockingRule(
        "excel_prefix",
        "the digits Excel kept (科学计数法) start the person's ID, and the names sound alike",
        """
        SELECT f.profile_id, p.person_id
        FROM link_fuzzy_profiles AS f
        JOIN link_persons AS p
          ON p.name_pinyin = f.name_pinyin AND left(p.person_id, 6) = left(f.id_prefix, 6)
        WHERE excel_prefix_matches(f.id_prefix, p.person_id)
        """,
    ),
    BlockingRule(
        "second_id",
        "one person under two IDs: a valid ID with the person's region and birth date, and a name that is the "
        "same, sounds the same, or is one character off (a typo, a dropped character, a 生僻字 placeholder)",
        f"""
        SELECT f.profile_id, p.person_id
        FROM link_fuzzy_profiles AS f
        JOIN link_persons AS p ON left(p.person_id, 14) = left(f.id_norm, 14)
        WHERE f.id_valid AND {SECOND_ID_NAMES}
        """,
    ),
    BlockingRule(
        "household_head",
        "a 低保 head's own row whose member ID is damaged or missing: the household's 户主身份证号 (the row may "
        "lack a birth date, which every rule below needs)",
        """
        SELECT f.profile_id, p.person_id
        FROM link_fuzzy_profiles AS f
        JOIN link_persons AS p ON p.person_id = f.head_id
        """,
    ),
    BlockingRule(
        "name_birth_date_sex",
        "a lost ID: the same name, birth date and sex",
        """
        SELECT f.profile_id, p.person_id
        FROM link_fuzzy_profiles AS f
        JOIN link_persons AS p ON p.name = f.name AND p.birth_date = f.birth_date AND p.sex = f.sex
        """,
    ),
    BlockingRule(
        "unknown_char_birth_date_sex",
        "a lost or invalid ID and a 生僻字 placeholder anywhere in either name (the surname too): birth date, "
        "sex, and the names the same but where the placeholder stands",
        """
        SELECT f.profile_id, p.person_id
        FROM (SELECT * FROM link_fuzzy_profiles WHERE NOT id_valid AND has_placeholder(name)) AS f
        JOIN link_persons AS p
          ON p.birth_date = f.birth_date AND p.sex = f.sex AND length(p.name) = length(f.name)
        WHERE one_char_apart(p.name, f.name)
        UNION
        SELECT f.profile_id, p.person_id
        FROM (SELECT * FROM link_fuzzy_profiles WHERE NOT id_valid) AS f
        JOIN (SELECT * FROM link_persons WHERE has_placeholder(name)) AS p
          ON p.birth_date = f.birth_date AND p.sex = f.sex AND length(p.name) = length(f.name)
        WHERE one_char_apart(p.name, f.name)
        """,
    ),
    BlockingRule(
        "pinyin_birth_date",
        "a lost ID and a homophone typo (同音字): the same name pinyin and birth date",
        """
        SELECT f.profile_id, p.person_id
        FROM link_fuzzy_profiles AS f
        JOIN link_persons AS p ON p.name_pinyin = f.name_pinyin AND p.birth_date = f.birth_date
        WHERE p.name <> f.name
        """,
    ),
    BlockingRule(
        "surname_birth_date_sex",
        "a lost or invalid ID and a dropped or similar-shape character (形近字): surname, birth date and sex",
        """
        SELECT f.profile_id, p.person_id
        FROM link_fuzzy_profiles AS f
        JOIN link_persons AS p
          ON surname(p.name) = surname(f.name) AND p.birth_date = f.birth_date AND p.sex = f.sex
        WHERE NOT f.id_valid AND p.name <> f.name AND p.name_pinyin IS DISTINCT FROM f.name_pinyin
        """,
    ),
)


# Whose ID to believe when two lone valid IDs may be one person and both are carried by as many records:
# the social-insurance number is by law the citizen ID and is checked at enrolment; the other registers
# copy it from documents.
ID_AUTHORITY: tuple[str, ...] = ("si_persons", "si_contributions", "unemployment", "dibao", "disability")


def authority_sql(source_sql: str) -> str:
    """SQL: the rank of a source in ID_AUTHORITY, lower is more authoritative."""
    whens = " ".join(f"WHEN '{source}' THEN {rank}" for rank, source in enumerate(ID_AUTHORITY))
    return f"(CASE {source_sql} {whens} ELSE {len(ID_AUTHORITY)} END)"


def better_attested(person: str, other: str) -> str:
    """SQL: the `link_persons` row `person` is the better attested ID than `other` — seen in more sources,
    else carried by more records, else by a more authoritative source (`ID_AUTHORITY`)."""
    return (
        f"(len({person}.sources), {person}.records, -{person}.authority) "
        f"> (len({other}.sources), {other}.records, -{other}.authority)"
    )


def create_candidate_pairs(con: duckdb.DuckDBPyConnection, target: str) -> dict[str, int]:
    """Create `target(profile_id, person_id, blocked_by, record_id_conflict)`: the distinct candidate pairs
    of every rule (and whether the record's own valid ID is somebody else's),
    never the record's own ID. Two valid IDs may be one person under two IDs; a record with a valid ID of
    its own goes to the other ID only if that ID is the better attested (`better_attested`: seen in more
    sources, else carried by more records, else by a more authoritative source) — never both ways, which
    would swap them. A record whose valid ID is somebody else's (`conflict`) may go to anyone but the
    ID's owner. Returns the pairs each rule generated."""
    union = " UNION ALL ".join(
        f"SELECT *, '{rule.name}' AS blocked_by FROM ({rule.sql})" for rule in BLOCKING_RULES
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE link_blocked_pairs AS {union}")
    counts = dict(con.sql("SELECT blocked_by, count(*) FROM link_blocked_pairs GROUP BY ALL").fetchall())
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {target} AS
        SELECT b.profile_id, b.person_id, min(b.blocked_by) AS blocked_by,
               any_value(f.conflict) AS record_id_conflict
        FROM link_blocked_pairs AS b
        JOIN link_fuzzy_profiles AS f USING (profile_id)
        JOIN link_persons AS p USING (person_id)
        LEFT JOIN link_persons AS own ON own.person_id = CASE WHEN f.id_valid THEN f.id_norm END
        WHERE b.person_id IS DISTINCT FROM f.id_norm
          AND NOT (f.id_valid AND NOT f.conflict AND NOT {better_attested("p", "own")})
        GROUP BY b.profile_id, b.person_id
        """
    )
    con.execute("DROP TABLE link_blocked_pairs")
    return {rule.name: counts.get(rule.name, 0) for rule in BLOCKING_RULES}
