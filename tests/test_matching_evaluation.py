"""The linking benchmark on a small synthetic world: the generator, the truth join and the pairwise scores."""

from pathlib import Path

import duckdb

from aidmatch.matching import LinkSettings, link_persons
from benchmarks.evaluate_linking import load_truth, pairwise_scores, synthesize


def test_synthetic_world_links_with_high_precision_and_recall(tmp_path: Path):
    con = duckdb.connect(str(tmp_path / "world.duckdb"))
    synthesize(con, tmp_path / "truth", persons=3000, si_share=0.9, contributions=2)
    summary = link_persons(con, LinkSettings())
    load_truth(con, tmp_path / "truth")
    (records, defective, wrong, recoverable_right) = con.sql(
        """SELECT count(*), count(*) FILTER (id_defect NOT IN ('none', 'legacy_15')),
                  count(*) FILTER (is_wrong),
                  avg(is_right::INTEGER) FILTER (recoverable AND id_defect <> 'missing')
           FROM eval_records"""
    ).fetchall()[0]
    assert records == summary.records and defective > 50
    assert wrong == 0 and recoverable_right > 0.98
    con.execute(
        "CREATE VIEW ours AS SELECT source_record, person_id AS cluster_id FROM core_person_links "
        "WHERE person_id IS NOT NULL"
    )
    precision, recall, f1 = pairwise_scores(con, "ours")
    assert precision > 0.999 and recall > 0.98 and f1 > 0.99
