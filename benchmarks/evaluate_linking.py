"""Evaluate identity resolution against a world's truth, time it, and compare it with a Splink baseline.

    python benchmarks/evaluate_linking.py synth --db w.duckdb --truth w/truth --persons 20000
    python benchmarks/evaluate_linking.py evaluate --db w.duckdb --truth w/truth [--link] [--splink] [--before old.duckdb]
        [--config aidmatch.yaml]   (a night's work database, encrypted with that configuration's key)

`synth` builds staged tables (the columns of `sources/tables.py`) and `truth/records.csv` in DuckDB SQL:
a synthetic world with the ID and name defects of SPEC section 2, twins and namesakes, at any size (the
performance target is 1M insured persons with 10 contributions each plus ~200k other records).
`evaluate` reads a DuckDB file holding the staged tables (and `core_person_links`, or `--link` to run
the linker first, timed, with peak RSS), joins the truth (`source, source_record, true_person_id,
id_defect, name_defect, row_defect, id_recoverable`) and prints per source and per defect: the share of
recoverable records linked to the right person, wrong links, review and unlinked rates; then pairwise
precision / recall / F1 and time of ours and, with `--splink`, of Splink 5 on the same staged records.
`--before` names a copy of the database linked by an earlier version: the same figures, before -> after.
What does not belong here: anything the pipeline runs.
"""

import argparse
import resource
import time
from pathlib import Path

import duckdb

from aidmatch.matching import LinkSettings, link_persons
from aidmatch.settings import load_settings
from aidmatch.sources.tables import SOURCES, staged_columns
from aidmatch.work_database import open_work_database

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红梅建国志文斌辉鹏飞宇浩然子涵梓轩欣怡雨晨思博"
# Homophone typos (同音字) the generator makes: character -> a character with the same toneless pinyin.
HOMOPHONES = {
    "丽": "莉",
    "伟": "炜",
    "军": "君",
    "静": "晶",
    "华": "化",
    "明": "铭",
    "芳": "方",
    "敏": "闽",
    "杰": "洁",
    "洋": "阳",
    "勇": "永",
    "艳": "燕",
    "娟": "鹃",
    "霞": "侠",
    "平": "萍",
    "英": "鹰",
}
REGIONS = (
    "110101",
    "110105",
    "110108",
    "310104",
    "310115",
    "320102",
    "330106",
    "370102",
    "420106",
    "440106",
    "440305",
    "500103",
    "510107",
    "610113",
    "210102",
    "230103",
    "350203",
    "430104",
    "450103",
    "530102",
)
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)

SYNTH_SQL = """
CREATE OR REPLACE TEMP MACRO check_char(f17) AS substr('10X98765432', 1 + (list_sum(list_transform(
    range(17), lambda i: substr(f17, i + 1, 1)::INTEGER * {weights}[i + 1])) % 11)::INTEGER, 1);
CREATE OR REPLACE TEMP MACRO pick(chars, h) AS substr(chars, 1 + (h % length(chars))::INTEGER, 1);

-- Persons: every 5000th is the twin of the one before (same region and birth date, next sequence number).
CREATE OR REPLACE TABLE synth_persons AS
WITH base AS (
    SELECT i AS pid, CASE WHEN i % 5000 = 1 THEN i - 1 ELSE i END AS root FROM range({persons}) AS t(i)
), attrs AS (
    SELECT pid,
           {regions}[1 + (hash(root, 'r') % {region_count})::INTEGER] AS region,
           DATE '1960-01-01' + (hash(root, 'b') % 16000)::INTEGER AS birth,
           lpad(((hash(root, 's') % 998) + (pid - root))::VARCHAR, 3, '0') AS seq,
           pick('{surnames}', hash(root, 'n1')) || pick('{given}', hash(pid, 'n2'))
               || CASE WHEN hash(pid, 'n3') % 3 > 0 THEN pick('{given}', hash(pid, 'n4')) ELSE '' END AS name
    FROM base
), ids AS (
    SELECT *, region || strftime(birth, '%Y%m%d') || seq AS first17 FROM attrs
)
SELECT pid, first17 || check_char(first17) AS person_id, name, birth,
       CASE WHEN substr(seq, 3, 1)::INTEGER % 2 = 1 THEN '男' ELSE '女' END AS sex
FROM ids QUALIFY row_number() OVER (PARTITION BY first17 ORDER BY pid) = 1;

-- Records: insured persons (pid < si_persons) with their contributions; the unemployed, 低保 members and
-- card holders drawn from everybody; 1 in 200 unemployment registrations made twice.
CREATE OR REPLACE TABLE synth_records AS
WITH members AS (
    SELECT 'si_persons' AS source, pid, 0 AS copy FROM synth_persons WHERE pid < {si_persons}
    UNION ALL SELECT 'si_contributions', pid, k FROM synth_persons, range({contributions}) AS t(k)
        WHERE pid < {si_persons}
    UNION ALL SELECT 'unemployment', pid, 0 FROM synth_persons WHERE hash(pid, 'u') % 100 < 7
    UNION ALL SELECT 'unemployment', pid, 1 FROM synth_persons
        WHERE hash(pid, 'u') % 100 < 7 AND hash(pid, 'u2') % 200 = 0
    UNION ALL SELECT 'dibao', pid, 0 FROM synth_persons WHERE hash(pid, 'd') % 100 < 7
    UNION ALL SELECT 'disability', pid, 0 FROM synth_persons WHERE hash(pid, 'c') % 100 < 4
), drawn AS (
    SELECT m.*, p.person_id, p.name, p.birth, p.sex,
           -- one draw per record; contributions share their person's draw (the ID is keyed once)
           hash(m.source, m.pid, CASE WHEN m.source = 'si_contributions' THEN 0 ELSE m.copy END) % 1000 AS h,
           hash(m.source, m.pid, 'name') % 1000 AS hn,
           hash(m.pid, 'pos') AS hp
    FROM members AS m JOIN synth_persons AS p USING (pid)
)
SELECT source, pid, copy, person_id AS true_person_id, birth, sex, name AS true_name,
       CASE WHEN h < 8 THEN 'typo_digit' WHEN h < 14 THEN 'swapped_digits' WHEN h < 20 THEN 'bad_check'
            WHEN h < 24 THEN 'excel_numeric' WHEN h < 28 THEN 'missing' WHEN h < 30 THEN 'legacy_15'
            ELSE '' END AS id_defect,
       CASE WHEN source = 'si_contributions' THEN ''
            WHEN hn < 10 AND regexp_matches(name, '[{homophone_chars}]') THEN 'homophone'
            WHEN hn < 15 AND length(name) = 3 THEN 'dropped_char' ELSE '' END AS name_defect,
       CASE WHEN copy = 1 AND source = 'unemployment' THEN 'duplicate_person' ELSE '' END AS row_defect,
       1 + (hp % 16)::INTEGER AS pos
FROM drawn;

CREATE OR REPLACE TABLE synth_staged AS
WITH ided AS (
    SELECT *, CASE id_defect
        WHEN 'typo_digit' THEN substr(true_person_id, 1, pos - 1)
            || ((substr(true_person_id, pos, 1)::INTEGER + 1 + pos % 8) % 10)::VARCHAR
            || substr(true_person_id, pos + 1)
        WHEN 'swapped_digits' THEN substr(true_person_id, 1, pos - 1) || substr(true_person_id, pos + 1, 1)
            || substr(true_person_id, pos, 1) || substr(true_person_id, pos + 2)
        WHEN 'bad_check' THEN left(true_person_id, 17)
            || CASE WHEN right(true_person_id, 1) = '0' THEN '1' ELSE '0' END
        WHEN 'excel_numeric' THEN NULL WHEN 'missing' THEN NULL
        ELSE true_person_id END AS id_norm
    FROM synth_records
)
SELECT source,
       source || '/synthetic.csv:'
           || (1 + row_number() OVER (PARTITION BY source ORDER BY pid, copy))::VARCHAR
           AS source_record,
       true_person_id, id_defect, name_defect, row_defect,
       id_norm,
       id_norm IS NOT NULL AND regexp_matches(id_norm, '^[0-9]{{17}}[0-9X]$')
           AND try_strptime(substr(id_norm, 7, 8), '%Y%m%d') IS NOT NULL
           AND check_char(left(id_norm, 17)) = right(id_norm, 1) AS id_valid,
       CASE WHEN id_defect = 'excel_numeric' THEN ((left(true_person_id, 16)::BIGINT + 5) // 10)::VARCHAR END
           AS id_prefix,
       CASE name_defect
           WHEN 'homophone' THEN translate(true_name, '{homophone_chars}', '{homophone_targets}')
           WHEN 'dropped_char' THEN left(true_name, 2) ELSE true_name END AS name,
       CASE WHEN source = 'si_contributions' THEN NULL ELSE sex END AS source_sex,
       CASE WHEN source = 'si_contributions' THEN NULL ELSE birth END AS source_birth
FROM ided;
"""


def synthesize(
    con: duckdb.DuckDBPyConnection, truth_dir: Path, persons: int, si_share: float, contributions: int
):
    """Create the five staged tables and write `truth_dir/records.csv` for a synthetic world."""
    con.execute(
        SYNTH_SQL.format(
            weights=list(WEIGHTS),
            persons=persons,
            si_persons=int(persons * si_share),
            contributions=contributions,
            regions=list(REGIONS),
            region_count=len(REGIONS),
            surnames=SURNAMES,
            given=GIVEN,
            homophone_chars="".join(HOMOPHONES),
            homophone_targets="".join(HOMOPHONES.values()),
        )
    )
    for source in SOURCES:
        columns = ", ".join(f"{c.name} {c.sql_type}" for c in staged_columns(source))
        con.execute(f"CREATE OR REPLACE TABLE staged_{source} ({columns})")
        con.execute(
            f"""
            INSERT INTO staged_{source} BY NAME
            SELECT source, source_record, source || '/synthetic.csv' AS source_file,
                   split_part(source_record, ':', 2)::INTEGER AS source_row,
                   id_norm AS id_raw, id_norm, id_valid,
                   CASE WHEN id_valid THEN NULL WHEN id_defect = 'missing' THEN 'missing'
                        WHEN id_defect = 'excel_numeric' THEN 'excel_numeric'
                        WHEN try_strptime(substr(id_norm, 7, 8), '%Y%m%d') IS NULL THEN 'bad_date'
                        ELSE 'bad_checksum' END AS id_issue,
                   id_prefix, name AS name_raw, name,
                   coalesce(source_sex, CASE WHEN id_valid THEN
                       CASE WHEN substr(id_norm, 17, 1)::INTEGER % 2 = 1 THEN '男' ELSE '女' END END) AS sex,
                   coalesce(source_birth,
                            CASE WHEN id_valid THEN strptime(substr(id_norm, 7, 8), '%Y%m%d')::DATE END)
                       AS birth_date
            FROM synth_staged WHERE source = '{source}'
            """
        )
    truth_dir.mkdir(parents=True, exist_ok=True)
    # Recoverable: the true person shows a valid ID somewhere, and a lost ID leaves a birth date to go by.
    con.execute(
        f"""
        COPY (
            SELECT source, source_record, true_person_id, id_defect, name_defect, row_defect,
                   true_person_id IN (SELECT true_person_id FROM synth_staged WHERE id_valid)
                   AND NOT (id_defect = 'missing' AND source = 'si_contributions') AS id_recoverable
            FROM synth_staged
        ) TO '{truth_dir / "records.csv"}' (HEADER)
        """
    )
    con.execute("DROP TABLE synth_persons; DROP TABLE synth_records; DROP TABLE synth_staged")


# ID defects that leave the true ID readable after normalization.
CLEAN_IDS = "('none', 'lowercase_x', 'fullwidth', 'inner_space', 'legacy_15')"


def load_truth(
    con: duckdb.DuckDBPyConnection, truth_dir: Path, database: str = "", target: str = "eval_records"
) -> None:
    """`target` (`eval_records`): every truth record with its link (from the tables of the attached
    `database`, else this one); `right` means linked to the person most records of its true person went
    to (so opaque truth keys work as well as IDs)."""
    links = f"{database}.core_person_links" if database else "core_person_links"
    review = f"{database}.core_review_queue" if database else "core_review_queue"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {target} AS
        WITH joined AS (
            SELECT t.source, t.source_record, t.true_person_id,
                   coalesce(nullif(t.id_defect, ''), 'none') AS id_defect,
                   coalesce(nullif(t.name_defect, ''), 'none') AS name_defect,
                   lower(t.id_recoverable) = 'true' AS recoverable, l.person_id, l.method
            FROM read_csv('{truth_dir / "records.csv"}', header = true, all_varchar = true) AS t
            JOIN {links} AS l USING (source, source_record)
        ),
        -- the person most of the true person's records link to (ties: the true ID, then the smallest):
        -- any one consistent person is right, so two records of one person under two IDs count once
        modal AS (
            SELECT true_person_id,
                   first(person_id ORDER BY records DESC, person_id = true_person_id DESC, person_id) AS modal_id
            FROM (SELECT true_person_id, person_id, count(*) AS records FROM joined
                  WHERE person_id IS NOT NULL GROUP BY ALL)
            GROUP BY true_person_id
        )
        SELECT joined.*,
               -- anchored: another record of the same person carries the true ID readably, so there is a
               -- person to link to (a defective ID whose owner appears nowhere else cannot be linked)
               recoverable AND count(*) FILTER (id_defect IN {CLEAN_IDS}) OVER person
                   > (id_defect IN {CLEAN_IDS})::INTEGER AS anchored,
               person_id IS NOT NULL AND person_id = modal_id AS is_right,
               person_id IS NOT NULL AND person_id <> modal_id AS is_wrong,
               source_record IN (SELECT source_record FROM {review}) AS in_review
        FROM joined LEFT JOIN modal USING (true_person_id) WINDOW person AS (PARTITION BY true_person_id)
        """
    )


GROUPS = (("all", "'all'"), ("source", "source"), ("id_defect", "id_defect"), ("name_defect", "name_defect"))


def print_rates(con: duckdb.DuckDBPyConnection) -> None:
    """Per source and per defect: records, recoverable, right (of recoverable), anchored and right of those,
    wrong, review, unlinked."""
    print(
        f"{'group':<34}{'records':>10}{'recov.':>9}{'right%':>9}{'anchor.':>9}{'right%':>9}"
        f"{'wrong%':>9}{'review%':>9}{'unlinked%':>10}"
    )
    for label, key in GROUPS:
        rows = con.sql(
            f"""SELECT {key} AS g, count(*), count(*) FILTER (recoverable),
                       100 * avg(is_right::INTEGER) FILTER (recoverable), count(*) FILTER (anchored),
                       100 * avg(is_right::INTEGER) FILTER (anchored), 100 * avg(is_wrong::INTEGER),
                       100 * avg(in_review::INTEGER), 100 * avg((person_id IS NULL)::INTEGER)
                FROM eval_records GROUP BY g ORDER BY g"""
        ).fetchall()
        for group, records, recoverable, right, anchored, right_anchored, wrong, review, unlinked in rows:
            print(
                f"{label + ':' + group:<34}{records:>10}{recoverable:>9}{right or 0:>9.2f}{anchored:>9}"
                f"{right_anchored or 0:>9.2f}{wrong:>9.3f}{review:>9.3f}{unlinked:>10.3f}"
            )


def print_comparison(con: duckdb.DuckDBPyConnection) -> None:
    """Per source and defect, before (`eval_records_before`) → after (`eval_records`): right % of the
    recoverable records, wrong %, review %, unlinked % — the figures a change of the linker moves."""
    print(
        f"\n{'before -> after':<30}{'records':>9}{'right% of recov.':>22}{'wrong%':>18}{'review%':>18}"
        f"{'unlinked%':>18}"
    )
    figures = """count(*), 100 * avg(is_right::INTEGER) FILTER (recoverable), 100 * avg(is_wrong::INTEGER),
                 100 * avg(in_review::INTEGER), 100 * avg((person_id IS NULL)::INTEGER)"""
    for label, key in GROUPS:
        rows = con.sql(
            f"""SELECT a.g, a.n, b.ok, a.ok, b.wrong, a.wrong, b.review, a.review, b.unlinked, a.unlinked
                FROM (SELECT {key} AS g, {figures} FROM eval_records GROUP BY g) AS a(g, n, ok, wrong, review, unlinked)
                JOIN (SELECT {key} AS g, {figures} FROM eval_records_before GROUP BY g)
                    AS b(g, n, ok, wrong, review, unlinked) USING (g)
                ORDER BY a.g"""
        ).fetchall()
        for group, records, *pairs in rows:
            cells = "".join(
                f"{(before or 0):>8.3f} ->{(after or 0):>7.3f} "
                for before, after in zip(pairs[::2], pairs[1::2], strict=True)
            )
            print(f"{label + ':' + group:<30}{records:>9}{cells}")


def pairwise_scores(
    con: duckdb.DuckDBPyConnection, clusters: str, records: str = "eval_records"
) -> tuple[float, float, float]:
    """Pairwise precision, recall, F1 of `clusters(source_record, cluster_id)` against the truth; an
    unclustered record is alone. Counted from cluster sizes, never by listing pairs."""
    (true_positive, predicted, actual) = con.sql(
        f"""
        WITH c AS (
            SELECT e.source_record, e.true_person_id,
                   coalesce(c.cluster_id::VARCHAR, e.source_record) AS cluster
            FROM {records} AS e LEFT JOIN {clusters} AS c USING (source_record)
        )
        SELECT (SELECT sum(n * (n - 1) / 2)
                FROM (SELECT count(*) AS n FROM c GROUP BY cluster, true_person_id)),
               (SELECT sum(n * (n - 1) / 2) FROM (SELECT count(*) AS n FROM c GROUP BY cluster)),
               (SELECT sum(n * (n - 1) / 2) FROM (SELECT count(*) AS n FROM c GROUP BY true_person_id))
        """
    ).fetchall()[0]
    precision, recall = true_positive / predicted, true_positive / actual
    return precision, recall, 2 * precision * recall / (precision + recall)


def run_splink(con: duckdb.DuckDBPyConnection, input_sql: str | None = None) -> float:
    """Splink 5 (DuckDB backend) on the staged identity columns — or on `input_sql`'s rows (`unique_id,
    id_norm, name, birth_date, sex`) —; `splink_clusters(source_record, cluster_id)` (`source_record` being
    the `unique_id`) at match probability 0.9. Returns seconds."""
    import splink.comparison_library as cl
    from splink import Linker, SettingsCreator, block_on
    from splink.backends.duckdb import DuckDBAPI

    started = time.perf_counter()
    union = " UNION ALL ".join(
        f"SELECT source_record AS unique_id, id_norm, name, birth_date, sex FROM staged_{s}" for s in SOURCES
    )
    con.execute(f"CREATE OR REPLACE TABLE splink_input AS {input_sql or union}")
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.LevenshteinAtThresholds("id_norm", [1, 2]),
            cl.ExactMatch("name"),
            cl.ExactMatch("birth_date"),
            cl.ExactMatch("sex"),
        ],
        blocking_rules_to_generate_predictions=[block_on("id_norm"), block_on("name", "birth_date")],
    )
    linker = Linker(DuckDBAPI(connection=con).register("splink_input"), settings, log_level="WARNING")
    linker.training.estimate_probability_two_random_records_match([block_on("id_norm")], recall=0.95)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("birth_date"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("name"))
    predictions = linker.inference.predict(threshold_match_probability=0.5, warning_mode="never")
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, 0.9)
    con.execute(
        f"CREATE OR REPLACE TABLE splink_clusters AS SELECT unique_id AS source_record, cluster_id "
        f"FROM {clusters.physical_name}"
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    synth = commands.add_parser("synth", help="build a synthetic staged DuckDB and its truth")
    synth.add_argument("--db", type=Path, required=True)
    synth.add_argument("--truth", type=Path, required=True)
    synth.add_argument("--persons", type=int, default=20_000)
    synth.add_argument("--si-share", type=float, default=0.9, help="share of persons that are insured")
    synth.add_argument("--contributions", type=int, default=10, help="contribution rows per insured person")
    evaluate = commands.add_parser("evaluate", help="link (optionally), then score against the truth")
    evaluate.add_argument("--db", type=Path, required=True)
    evaluate.add_argument("--truth", type=Path, required=True)
    evaluate.add_argument(
        "--config", type=Path, help="the configuration whose key opens an encrypted work database (--db)"
    )
    evaluate.add_argument("--link", action="store_true", help="run link_persons first (timed)")
    evaluate.add_argument("--splink", action="store_true", help="also run the Splink 5 baseline")
    evaluate.add_argument(
        "--before",
        type=Path,
        help="a database linked by an earlier version (same staged records): print before -> after",
    )
    args = parser.parse_args()

    config = getattr(args, "config", None)
    key = load_settings(config).database.encryption_key() if config else None
    con = open_work_database(args.db, key)
    if args.command == "synth":
        started = time.perf_counter()
        synthesize(con, args.truth, args.persons, args.si_share, args.contributions)
        print(f"synthetic world written in {time.perf_counter() - started:.1f} s")
        return
    ours_seconds = None
    if args.link:
        started = time.perf_counter()
        summary = link_persons(con, LinkSettings())
        ours_seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
        print(f"link_persons: {summary.records} records in {ours_seconds:.1f} s, peak RSS {peak:.2f} GiB")
        print(f"methods: {summary.by_method}\nblocking pairs: {summary.blocking_pairs}")
    load_truth(con, args.truth)
    print_rates(con)
    con.execute(
        "CREATE OR REPLACE TEMP VIEW ours_clusters AS SELECT source_record, person_id AS cluster_id "
        "FROM core_person_links WHERE person_id IS NOT NULL"
    )
    precision, recall, f1 = pairwise_scores(con, "ours_clusters")
    timing = f"{ours_seconds:.1f} s" if ours_seconds is not None else "-"
    if args.before:
        con.execute(f"ATTACH '{args.before}' AS before (READ_ONLY)")
        load_truth(con, args.truth, "before", "eval_records_before")
        print_comparison(con)
        con.execute(
            "CREATE OR REPLACE TEMP VIEW before_clusters AS SELECT source_record, person_id AS cluster_id "
            "FROM before.core_person_links WHERE person_id IS NOT NULL"
        )
        before = pairwise_scores(con, "before_clusters", "eval_records_before")
    print(f"\n{'linker':<10}{'precision':>11}{'recall':>9}{'F1':>9}{'time':>9}")
    if args.before:
        print(f"{'before':<10}{before[0]:>11.5f}{before[1]:>9.5f}{before[2]:>9.5f}{'-':>9}")
    print(f"{'aidmatch':<10}{precision:>11.5f}{recall:>9.5f}{f1:>9.5f}{timing:>9}")
    if args.splink:
        seconds = run_splink(con)
        precision, recall, f1 = pairwise_scores(con, "splink_clusters")
        print(f"{'splink':<10}{precision:>11.5f}{recall:>9.5f}{f1:>9.5f}{seconds:>8.1f}s")


if __name__ == "__main__":
    main()
