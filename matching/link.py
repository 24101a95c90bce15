"""Identity resolution (SPEC section 3): link every staged record of every source to one person.

What belongs here: the order of the work and the decisions. Records are first grouped into *profiles*
(one per distinct source + identity columns: ten million contribution rows collapse to about a million
profiles), and all matching happens on profiles; the links are joined back to the records at the end.

1. Persons: every valid normalized ID is a person; its reference name is the one most sources use,
   its birth date and sex are the ID's own.
2. Pairs: each valid profile with its own ID (the exact tier), plus the fuzzy tier's candidates
   (`blocking.py`) for the profiles whose ID fails validation or is valid but seen in no other source.
3. Every pair is scored on the declared comparisons (`comparisons.py`): a sum of log2 match weights.
4. People's decisions (`reviewed.py`): a rejected candidate leaves the scored pairs; after step 5 a
   confirmed one is the record's link (method `reviewed`).
5. Decisions per profile: an exact ID links unless it is somebody else's (`methods.CONFLICT_SQL`): then the person of that name, birth date and sex if the fuzzy tier
   accepts one, else review; otherwise the best candidate links at or above the accept threshold, goes
   to review in the grey zone, and stays unlinked below it; two persons within the ambiguity margin are
   a tie (review, never a pick).

What does not belong here: the levels and their SQL (`comparisons.py`), the blocking rules
(`blocking.py`), and the report (`summary.py`).
"""

import datetime as dt

import duckdb

from aidmatch.decisions.keys import create_record_key_macro, record_key_sql
from aidmatch.matching.blocking import SECOND_ID_NAMES, authority_sql, better_attested, create_candidate_pairs
from aidmatch.matching.comparisons import create_macros, create_scored_pairs
from aidmatch.matching.methods import CONFLICT_SQL, FUZZY_METHOD_SQL, NO_ID_EVIDENCE_LEVELS
from aidmatch.matching.name_features import create_pair_input
from aidmatch.matching.reviewed import apply_confirmations, apply_rejections
from aidmatch.matching.settings import LinkSettings
from aidmatch.matching.summary import LinkSummary, build_summary
from aidmatch.sources.names import name_pinyin
from aidmatch.sources.tables import SOURCE_RECORD_SQL, SOURCES, same_place_sql
from aidmatch.tables.catalog import (
    CORE_PERSON_LINKS,
    CORE_PERSONS,
    CORE_PROFILE_PERSONS,
    CORE_REVIEW_QUEUE,
    LINKED_SI_CONTRIBUTIONS,
)
from aidmatch.tables.ddl import build_table, build_view, create_table

# The identity columns of a staged record; a profile is one distinct combination of them.
PROFILE_COLUMNS = (
    "source",
    "id_norm",
    "id_valid",
    "id_issue",
    "id_prefix",
    "name",
    "name_alias",
    "sex",
    "birth_date",
    "head_id",
)
# 低保: the head's own row (与户主关系 户主/本人, or the row's name is the 户主姓名) carries the household's head
# ID — the row's 户主身份证号 when valid, else the one most of the household's rows state.
HEAD_ROW_SQL = "(relation IN ('户主', '本人') OR name = head_name)"
HOUSEHOLD_HEAD_ID_SQL = f"""CASE WHEN {HEAD_ROW_SQL} THEN coalesce(
    CASE WHEN id_is_valid(head_id_norm) THEN head_id_norm END,
    CASE WHEN household_id IS NOT NULL THEN
        mode(CASE WHEN id_is_valid(head_id_norm) THEN head_id_norm END) OVER (PARTITION BY household_id)
    END
) END"""
# What else the linker reads of a 低保 record: who heads its household (HEAD_ROW_SQL, HOUSEHOLD_HEAD_ID_SQL,
# the heads' attestations in `_create_persons`).
HEAD_COLUMNS = ("relation", "head_name", "head_id_norm", "household_id")
# Links sorted in one statement at most (`_publish_links`).
LINKS_SORTED_AT_ONCE = 2_000_000
# Sources with one row per person (registration, household member, card, insured person): two rows of one
# person there are a duplicate. Contributions have one row per person × month × insurance type.
DUPLICATE_SOURCES = ("unemployment", "dibao", "disability", "si_persons")


def link_persons(
    con: duckdb.DuckDBPyConnection, settings: LinkSettings | None = None, as_of: dt.date = dt.date.max
) -> LinkSummary:
    """Link the records of the `staged_<source>` tables present on `con`; create `core_person_links`,
    `core_review_queue`, `core_persons` and the view `core_source_duplicates`; return the match report.
    `as_of`, the night's date, judges the IDs staging did not (a 户主身份证号 born after it is invalid), as
    staging judged the others; without it, no birth date is too late."""
    settings = settings or LinkSettings()
    create_macros(con, as_of)
    _create_profiles(con)
    _create_persons(con)
    blocking_counts = _create_pairs(con)
    create_scored_pairs(con, "link_pair_input", "link_scored", settings)
    apply_rejections(con)
    _decide(con, settings)
    apply_confirmations(con)
    _publish(con)
    _drop_work_tables(con, keep=("link_records", "link_decisions"))
    _publish_links(con)
    _drop_work_tables(con)
    return build_summary(con, settings, blocking_counts)


def _publish_links(con: duckdb.DuckDBPyConnection) -> None:
    """`core_person_links`, every record with its decision, written once and in record order (it is stored
    so: person_links.csv is written without a sort), and the view `core_source_duplicates` over it.

    Built last, beside only the profiles' decisions, from `link_record_profiles` (each record's integer
    file key, row and profile), in runs of whole files of about `LINKS_SORTED_AT_ONCE` records, each sorted
    on the two integers and appended in turn. Ten million links sorted at once ran out of memory at a
    million persons (DuckDB 1.4, memory_limit 3GB); written unsorted first, then sorted on their file
    names, they were written twice (24.8 s of the link step, now about 13)."""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE link_files AS
            SELECT *, (sum(records) OVER (ORDER BY file_key) - records) // {LINKS_SORTED_AT_ONCE} AS run
            FROM (SELECT *, row_number() OVER (ORDER BY source, source_file, source_sheet NULLS FIRST) AS file_key
                  FROM (SELECT source, source_file, source_sheet, count(*) AS records
                        FROM link_records GROUP BY ALL))"""
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE link_record_profiles AS
           SELECT f.file_key, r.source_row, r.profile_id
           FROM link_records AS r JOIN link_files AS f ON f.source = r.source
                AND f.source_file = r.source_file AND f.source_sheet IS NOT DISTINCT FROM r.source_sheet"""
    )
    create_table(con, CORE_PERSON_LINKS)
    for first, last in con.sql(
        "SELECT min(file_key), max(file_key) FROM link_files GROUP BY run ORDER BY run"
    ).fetchall():
        con.execute(
            """INSERT INTO core_person_links BY NAME
               SELECT f.source, f.source_file, f.source_sheet, r.source_row, d.person_id, d.method,
                      d.score::DOUBLE AS score, d.evidence
               FROM link_record_profiles AS r
               JOIN link_decisions AS d USING (profile_id)
               JOIN link_files AS f USING (file_key)
               WHERE r.file_key BETWEEN $first AND $last
               ORDER BY r.file_key, r.source_row""",
            {"first": first, "last": last},
        )
    sources = ", ".join(f"'{source}'" for source in DUPLICATE_SOURCES)
    con.execute(
        f"""
        CREATE OR REPLACE VIEW core_source_duplicates AS
        SELECT source, person_id, list(source_record ORDER BY source_record) AS source_records
        FROM core_person_links
        WHERE person_id IS NOT NULL AND source IN ({sources})
        GROUP BY source, person_id HAVING count(*) > 1
        """
    )


def _drop_work_tables(con: duckdb.DuckDBPyConnection, keep: tuple[str, ...] = ()) -> None:
    """Drop the temporary `link_*` tables and views of a run, but those named in `keep`."""
    for name, kind in con.execute(
        """SELECT view_name, 'VIEW' FROM duckdb_views()
           WHERE temporary AND starts_with(view_name, 'link_') AND NOT list_contains($keep, view_name)
           UNION ALL
           SELECT table_name, 'TABLE' FROM duckdb_tables()
           WHERE temporary AND starts_with(table_name, 'link_') AND NOT list_contains($keep, table_name)""",
        {"keep": list(keep)},
    ).fetchall():
        con.execute(f"DROP {kind} IF EXISTS {name}")


# The sources of a group of records as the bits of a number, not as a list: DuckDB 1.4 does not spill a
# list per group, and a province's ten million persons ran out of memory in one run (memory_limit 3GB).
_SORTED_SOURCES = "[" + ", ".join(f"'{source}'" for source in sorted(SOURCES)) + "]"


def _source_bit(source: str) -> str:
    """The bit of the source named by the SQL `source`."""
    return f"(1::UTINYINT << (list_position({_SORTED_SOURCES}, {source}) - 1))"


def _sources_of(bits: str) -> str:
    """The sources whose bits the SQL `bits` holds, as a sorted list."""
    return f"list_filter({_SORTED_SOURCES}, lambda s: ({bits} >> (list_position({_SORTED_SOURCES}, s) - 1)) & 1 = 1)"


def _staged_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    present = {name for (name,) in con.sql("SELECT table_name FROM duckdb_tables()").fetchall()}
    tables = [f"staged_{source}" for source in SOURCES if f"staged_{source}" in present]
    if not tables:
        raise ValueError("no staged_<source> table on this connection")
    return tables


def profile_id_sql(alias: str, head_id: str = "NULL::VARCHAR") -> str:
    """SQL: the profile_id of the staged record `alias` — a hash of its identity columns and, for a 低保
    head's row, the household's head ID (`head_id`; NULL in the other sources)."""
    return f"hash({', '.join(f'{alias}.{c}' for c in PROFILE_COLUMNS[:-1])}, {head_id})"


def link_input_digest(con: duckdb.DuckDBPyConnection, source: str) -> str:
    """A digest of what the linker reads of `staged_<source>`: each record's place and identity columns (and
    a 低保 record's household head). Two staged tables with the same digest link alike, whatever their
    other columns say: a re-sent extract whose phone numbers or statuses changed leaves the links as they
    were (`assets/linking.py` reuses them). Order-free — a sum and an exclusive or of two 64-bit hashes of
    every record, and the count — so that DuckDB computes it in parallel (0.2 s for ten million rows)."""
    columns = ("source_file", "source_sheet", "source_row", *PROFILE_COLUMNS[:-1])
    columns += HEAD_COLUMNS if source == "dibao" else ()
    listed = ", ".join(columns)
    (count, total, either) = con.execute(
        f"""SELECT count(*), coalesce(sum(hash({listed})::HUGEINT), 0), coalesce(bit_xor(hash({listed}, 1)), 0)
            FROM staged_{source}"""
    ).fetchone()
    return f"{count}:{total:x}:{either:x}"


def linked_contributions_sql(staged: str, profiles: str) -> str:
    """SQL: the contributions of the table `staged` that are linked, each with its `person_id`, found through
    `profiles` (core_profile_persons): a hash join against a million profiles, where joining the records'
    links on their `source_record` builds a table of ten million strings (and spills in a province)."""
    return (
        f"SELECT c.*, m.person_id FROM {staged} AS c "
        f"JOIN {profiles} AS m ON m.profile_id = {profile_id_sql('c')}"
    )


LINKED_CONTRIBUTIONS_SQL = linked_contributions_sql("staged_si_contributions", "core_profile_persons")


def contributions_of_persons_sql(persons: str, links: str) -> str:
    """SQL: the rows of `linked_si_contributions` of the persons in the table `persons`, found through their
    records' links (`links`, core_person_links), which are stored in record order: a few persons' links
    pick the few row groups of contributions they need, where the view's join of the profiles hashes every
    contribution's identity (a city's one person in 0.03 s where 0.4, 60,000 persons in 0.3 s where 0.5;
    not for most of a city's persons: nine million links to hash then)."""
    return f"""SELECT c.*, l.person_id FROM staged_si_contributions AS c
        JOIN (SELECT source_file, source_sheet, source_row, person_id FROM {links}
              WHERE source = 'si_contributions' AND person_id IN (SELECT person_id FROM {persons})) AS l
        ON {same_place_sql("l", "c")}"""


def _create_profiles(con: duckdb.DuckDBPyConnection) -> None:
    """`link_records`: every staged record (its file, sheet and row) with its `profile_id`, a hash of its
    identity columns (and, on a 低保 head's row, the household's head ID);
    `link_profiles`: one row per distinct identity. A hash collision between two profiles is detected
    and stops the run rather than merging them."""
    profile = ", ".join(PROFILE_COLUMNS)
    identity = ", ".join(PROFILE_COLUMNS[:-1])

    def records(table: str) -> str:
        head_id = HOUSEHOLD_HEAD_ID_SQL if table == "staged_dibao" else "NULL::VARCHAR"
        return f"""SELECT source_file, source_sheet, source_row, {profile_id_sql("r", "r.head_id")} AS profile_id,
                   {profile}
            FROM (SELECT source_file, source_sheet, source_row, {identity}, {head_id} AS head_id FROM {table}) AS r"""

    def profiles(table: str) -> str:
        # Only 低保 rows have a head ID to group by: the other sources' profiles group on the identity alone.
        if table == "staged_dibao":
            return (
                f"SELECT profile_id, {profile}, count(*) AS record_count FROM ({records(table)}) GROUP BY ALL"
            )
        return f"""SELECT profile_id, {identity}, NULL::VARCHAR AS head_id, count(*) AS record_count
            FROM ({records(table)}) GROUP BY profile_id, {identity}"""

    tables = _staged_tables(con)
    con.execute(f"CREATE OR REPLACE TEMP VIEW link_records AS {' UNION ALL '.join(map(records, tables))}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE link_profiles AS {' UNION ALL '.join(map(profiles, tables))}")
    (profiles, keys) = con.sql("SELECT count(*), count(DISTINCT profile_id) FROM link_profiles").fetchall()[0]
    if profiles != keys:
        raise RuntimeError(
            f"{profiles - keys} profile hash collision(s); the link would merge different records"
        )


def _create_persons(con: duckdb.DuckDBPyConnection) -> None:
    """`link_persons`: one row per valid ID with its reference name (a name stated by a record whose birth
    date and sex do not contradict the ID's, before one only a housemate's mistyped row states; then one
    without a 生僻字 placeholder; then most sources, then most records), the birth date and sex the ID
    states, the name pinyin, how well the ID is attested — `sources` (the sources whose records carry it),
    `records`, `authority` (the rank of its most authoritative source, `blocking.ID_AUTHORITY`) — and
    `lonely` (seen in one source only). A valid 户主身份证号 attests its ID too, under
    its 户主姓名, once per 低保 row stating it: the head's ID is a person even when the head's own row
    mistyped it, and the head's name is the reference name when a housemate's row carries the head's ID.
    `link_fuzzy_profiles`: the profiles for the fuzzy tier — an invalid ID, a lonely valid one, a valid
    ID that may be somebody else's (`conflict`: another birth date and sex; or not the owner's name and,
    another birth date or sex, or no character in common; `methods.CONFLICT_SQL` decides), or a valid ID
    seen in several sources that may be one person's second ID (`second_id_suspect`: another, better
    attested ID of the same region and birth date under a close name, `blocking.SECOND_ID_NAMES`, and no
    source holding both — an insured person is one row of 社保, two IDs there are two people)."""
    has_dibao = "staged_dibao" in _staged_tables(con)
    head_names = "UNION SELECT head_name FROM staged_dibao" if has_dibao else ""
    names = con.sql(
        f"SELECT DISTINCT name FROM (SELECT name FROM link_profiles {head_names}) WHERE name IS NOT NULL"
    ).pl()
    con.register("link_name_pinyin", names.with_columns(name_pinyin=name_pinyin(names["name"])))
    heads = (
        """UNION ALL
        SELECT head_id_norm, head_name, NULL, 'dibao', count(*), true FROM staged_dibao
        WHERE id_is_valid(head_id_norm) GROUP BY ALL"""
        if has_dibao
        else ""
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE link_persons AS
        WITH attestations AS (
            SELECT id_norm, name, name_alias, source, record_count,
                   coalesce(birth_date = id_birth_date(id_norm), true) AND coalesce(sex = id_sex(id_norm), true)
                       AS agrees
            FROM link_profiles WHERE id_valid
            {heads}
        ),
        names AS (
            SELECT id_norm, name, name_alias, bool_or(agrees) AS agrees, NOT has_placeholder(name) AS complete,
                   bit_count(bit_or({_source_bit("source")})) AS sources, sum(record_count) AS records,
                   bit_or({_source_bit("source")}) AS source_bits
            FROM attestations GROUP BY id_norm, name, name_alias
        ),
        persons AS (
            SELECT id_norm AS person_id,
                   arg_max(name, (agrees, complete, sources, records, name)) AS name,
                   arg_max(name_alias, (agrees, sources, records, name_alias)) AS name_alias,
                   id_birth_date(id_norm) AS birth_date,
                   id_sex(id_norm) AS sex,
                   sum(records) AS records,
                   bit_or(source_bits) AS source_bits
            FROM names GROUP BY id_norm
        )
        SELECT persons.* EXCLUDE (source_bits),
               {_sources_of("source_bits")} AS sources,
               len(sources) = 1 AS lonely,
               list_min(list_transform(sources, lambda s: {authority_sql("s")})) AS authority,
               n.name_pinyin
        FROM persons LEFT JOIN link_name_pinyin AS n USING (name)
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE link_fuzzy_profiles AS
        WITH owners AS (
            SELECT f.profile_id, p.lonely,
                   (f.birth_date <> p.birth_date AND f.sex <> p.sex) OR (f.name <> p.name AND (
                       f.birth_date <> p.birth_date OR f.sex <> p.sex
                       OR NOT list_has_any(string_split(f.name, ''), string_split(p.name, ''))
                   )) AS conflict
            FROM link_profiles AS f JOIN link_persons AS p ON p.person_id = f.id_norm
            WHERE f.id_valid
        ),
        second_ids AS (
            SELECT DISTINCT f.person_id
            FROM (SELECT * FROM link_persons WHERE NOT lonely) AS f
            JOIN link_persons AS p ON left(p.person_id, 14) = left(f.person_id, 14) AND p.person_id <> f.person_id
            WHERE {SECOND_ID_NAMES} AND NOT list_has_any(p.sources, f.sources) AND {better_attested("p", "f")}
        )
        SELECT f.profile_id, f.source, f.id_norm, f.id_valid, f.id_prefix, f.name, n.name_pinyin, f.birth_date,
               f.sex, f.head_id, coalesce(o.conflict, false) AS conflict, coalesce(o.lonely, false) AS own_lonely,
               s.person_id IS NOT NULL AS second_id_suspect
        FROM link_profiles AS f
        LEFT JOIN owners AS o USING (profile_id)
        LEFT JOIN link_name_pinyin AS n USING (name)
        LEFT JOIN second_ids AS s ON s.person_id = f.id_norm AND f.id_valid
        WHERE NOT f.id_valid OR o.lonely OR o.conflict OR s.person_id IS NOT NULL
        """
    )
    con.unregister("link_name_pinyin")


def _create_pairs(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """`link_pairs`: the exact tier (each valid profile with its own ID) and the fuzzy tier's candidates;
    `link_pair_input`: each pair with the record's and the person's columns and the name-pair features.
    Returns the pairs each blocking rule generated."""
    blocking_counts = create_candidate_pairs(con, "link_fuzzy_pairs")
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE link_pairs AS
        SELECT profile_id, id_norm AS person_id, 'exact_id' AS blocked_by, false AS record_id_conflict
        FROM link_profiles WHERE id_valid
        UNION ALL SELECT * FROM link_fuzzy_pairs
        """
    )
    con.execute("DROP TABLE link_fuzzy_pairs")
    con.execute(
        """
        CREATE OR REPLACE TEMP VIEW link_pair_names AS
        SELECT pr.profile_id, pr.person_id, pr.blocked_by,
               f.id_norm AS record_id, f.id_valid AS record_id_valid,
               pr.record_id_conflict, f.head_id AS record_head_id,
               f.id_prefix AS record_id_prefix,
               f.name AS record_name, f.name_alias AS record_alias, f.birth_date AS record_birth_date,
               f.sex AS record_sex, p.name AS person_name, p.name_alias AS person_alias,
               p.birth_date AS person_birth_date, p.sex AS person_sex, p.lonely AS person_lonely
        FROM link_pairs AS pr
        JOIN link_profiles AS f USING (profile_id)
        JOIN link_persons AS p USING (person_id)
        """
    )
    create_pair_input(con, "link_pair_names", "link_pair_input")
    return blocking_counts


def _decide(con: duckdb.DuckDBPyConnection, settings: LinkSettings) -> None:
    """`link_decisions(profile_id, person_id, method, score, evidence)`, one row per profile, and
    `link_review(profile_id, candidate_person_id, score, evidence)`.

    Decided twice when the first decisions merged a second ID into its person (一人多证): that ID is then
    no person of its own but a name of theirs (`_redirect_merged_ids`); as a candidate of its own for the
    person's other records (no ID, say) it would tie with the person it was merged into and leave them
    ambiguous — and be offered to the analysts for review — or take a record the person should have."""
    _decide_profiles(con, settings)
    if _redirect_merged_ids(con):
        _decide_profiles(con, settings)
    _create_review(con)


def _redirect_merged_ids(con: duckdb.DuckDBPyConnection) -> int:
    """Make each valid ID that the decisions merged into another person — every record carrying it went to
    that one person — a name of that person in the fuzzy tier's scored pairs: its candidates become that
    person's (the better of two scores where a record had both), so a record that went to the merged ID
    (its ID one typo away, or its name, birth date and sex) follows it, and no record is torn between one
    person and the second ID merged into them. Return how many IDs were merged."""
    ((merged,),) = con.execute(
        """
        CREATE OR REPLACE TEMP TABLE link_merged_ids AS
        SELECT f.id_norm AS person_id, any_value(d.person_id) AS merged_into
        FROM link_profiles AS f JOIN link_decisions AS d USING (profile_id)
        WHERE f.id_valid
        GROUP BY f.id_norm
        HAVING bool_and(d.person_id IS NOT NULL AND d.person_id <> f.id_norm) AND count(DISTINCT d.person_id) = 1;
        SELECT count(*) FROM link_merged_ids
        """
    ).fetchall()
    if merged:
        con.execute(
            """
            UPDATE link_scored AS s SET person_id = m.merged_into
            FROM link_merged_ids AS m
            WHERE s.blocked_by <> 'exact_id' AND s.person_id = m.person_id;
            DELETE FROM link_scored WHERE blocked_by <> 'exact_id' AND rowid NOT IN (
                SELECT arg_max(rowid, score) FROM link_scored WHERE blocked_by <> 'exact_id'
                GROUP BY profile_id, person_id
            )
            """
        )
    con.execute("DROP TABLE link_merged_ids")
    return merged


def _decide_profiles(con: duckdb.DuckDBPyConnection, settings: LinkSettings) -> None:
    """`link_candidates` (the fuzzy tier's pairs ranked per profile) and `link_decisions`."""
    accept, review, margin = settings.accept_threshold, settings.review_threshold, settings.ambiguity_margin
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE link_candidates AS
        WITH ranked AS (
            SELECT profile_id, person_id, score, evidence, id_level, name_level, household_head_level,
                   CASE WHEN id_level IN {NO_ID_EVIDENCE_LEVELS} THEN {settings.review_threshold_without_id}
                        ELSE {review} END AS review_from,
                   row_number() OVER (PARTITION BY profile_id ORDER BY score DESC, person_id) AS rank,
                   max(score) OVER (PARTITION BY profile_id) AS best_score
            FROM link_scored WHERE blocked_by <> 'exact_id'
        )
        SELECT *, score >= best_score - {margin} AS contender,
               count(*) FILTER (score >= best_score - {margin}) OVER (PARTITION BY profile_id) > 1 AS tie
        FROM ranked
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE link_decisions AS
        WITH exact AS (
            SELECT *, {CONFLICT_SQL} AS conflict FROM link_scored WHERE blocked_by = 'exact_id'
        ),
        fuzzy AS (
            SELECT profile_id, score, evidence,
                   CASE WHEN score >= {accept} AND NOT tie THEN person_id END AS person_id,
                   CASE WHEN score < review_from THEN 'unlinked:below_threshold'
                        WHEN tie THEN 'unlinked:ambiguous'
                        WHEN score < {accept} THEN 'unlinked:review'
                        ELSE {FUZZY_METHOD_SQL} END AS method
            FROM link_candidates WHERE rank = 1
        )
        SELECT profile_id, decision.*
        FROM (
            SELECT profile_id, CASE
                -- another person's ID: the person it is about, found by name, birth date and sex, or nobody
                WHEN e.conflict AND o.person_id IS NOT NULL THEN {{
                    'person_id': o.person_id, 'method': o.method, 'score': o.score, 'evidence': o.evidence
                }}
                WHEN e.conflict THEN {{
                    'person_id': NULL, 'method': 'unlinked:id_name_conflict',
                    'score': e.score, 'evidence': e.evidence
                }}
                -- its own valid ID, unless the fuzzy tier accepted another person: for an ID seen in one
                -- source only, any; for one seen in several, the better attested ID it is a second ID of
                WHEN e.profile_id IS NOT NULL AND (
                    o.person_id IS NULL OR (NOT e.person_lonely AND o.method <> 'fuzzy_second_id')
                ) THEN {{
                    'person_id': e.person_id, 'method': 'exact_id', 'score': e.score, 'evidence': e.evidence
                }}
                WHEN o.profile_id IS NOT NULL THEN {{
                    'person_id': o.person_id, 'method': o.method, 'score': o.score, 'evidence': o.evidence
                }}
                ELSE {{
                    'person_id': NULL, 'method': 'unlinked:invalid_id_no_candidate',
                    'score': NULL, 'evidence': NULL
                }}
            END AS decision
            FROM link_profiles AS f
            LEFT JOIN exact AS e USING (profile_id)
            LEFT JOIN fuzzy AS o USING (profile_id)
        )
        """
    )


def _create_review(con: duckdb.DuckDBPyConnection) -> None:
    """`link_review`: an exact ID that is somebody else's (its owner, and any grey-zone candidate found by
    name, birth date and sex), the grey zone or a tie of the fuzzy tier, and a lonely valid ID (or a second
    ID suspect) kept as it is but with a candidate person in the grey zone."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE link_review AS
        SELECT e.profile_id, e.person_id AS candidate_person_id, e.score, e.evidence
        FROM link_scored AS e JOIN link_decisions AS d USING (profile_id)
        WHERE e.blocked_by = 'exact_id' AND d.method = 'unlinked:id_name_conflict'
        UNION ALL
        SELECT c.profile_id, c.person_id, c.score, c.evidence
        FROM link_candidates AS c JOIN link_decisions AS d USING (profile_id)
        WHERE d.method IN ('unlinked:review', 'unlinked:ambiguous', 'unlinked:id_name_conflict')
          AND c.contender AND c.score >= c.review_from
        UNION ALL
        -- A valid ID alone in its source (or a second ID suspect), kept, with another person in the grey
        -- zone: maybe one person under two IDs. The link stands; an analyst decides.
        SELECT c.profile_id, c.person_id, c.score, c.evidence
        FROM link_candidates AS c JOIN link_decisions AS d USING (profile_id)
        JOIN link_fuzzy_profiles AS ff
          ON ff.profile_id = c.profile_id AND (ff.own_lonely OR ff.second_id_suspect)
        WHERE d.method = 'exact_id' AND c.rank = 1 AND c.score >= c.review_from
        """
    )


def _publish(con: duckdb.DuckDBPyConnection) -> None:
    """Join the profile decisions back to the records and create the `core_*` tables and views but the
    links (`_publish_links`, once the work tables are gone). The review queue carries what the review form
    shows: the record's key and identity values, the candidate's name."""
    create_record_key_macro(con)
    build_table(
        con,
        CORE_REVIEW_QUEUE,
        f"""SELECT rp.source, {SOURCE_RECORD_SQL} AS source_record, v.candidate_person_id,
                   v.score::DOUBLE AS score, v.evidence, {record_key_sql("f")} AS record_key,
                   coalesce(f.id_norm, f.id_prefix) AS record_id, f.name AS record_name, f.sex AS record_sex,
                   f.birth_date AS record_birth_date, p.name AS candidate_name
            FROM link_records AS rp
            JOIN link_review AS v USING (profile_id)
            JOIN link_profiles AS f USING (profile_id)
            LEFT JOIN link_persons AS p ON p.person_id = v.candidate_person_id
            ORDER BY rp.source, source_record, v.score DESC""",
    )
    build_table(
        con,
        CORE_PROFILE_PERSONS,
        "SELECT profile_id, person_id FROM link_decisions WHERE person_id IS NOT NULL",
    )
    if "staged_si_contributions" in _staged_tables(con):
        build_view(con, LINKED_SI_CONTRIBUTIONS, LINKED_CONTRIBUTIONS_SQL)
    build_table(
        con,
        CORE_PERSONS,
        f"""WITH names AS (
            SELECT d.person_id, p.name, bit_or({_source_bit("p.source")}) AS source_bits,
                   sum(p.record_count) AS records
            FROM link_decisions AS d JOIN link_profiles AS p USING (profile_id)
            WHERE d.person_id IS NOT NULL GROUP BY ALL
        )
        SELECT person_id,
               arg_max(name, (NOT has_placeholder(name), bit_count(source_bits), records, name)) AS name,
               id_sex(person_id) AS sex,
               id_birth_date(person_id) AS birth_date,
               {_sources_of("bit_or(source_bits)")} AS sources,
               sum(records)::BIGINT AS record_count
        FROM names GROUP BY person_id""",
    )
