"""The ingest step as Dagster runs it: all sources in one step, two at a time, and subsets of it."""

import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from aidmatch.assets.ingest import ingest_assets
from aidmatch.assets.partitions import night_partitions
from aidmatch.resources import AidmatchResource, database_config
from aidmatch.settings import Settings
from aidmatch.work_database import open_work_database

SAMPLE_INPUT = Path(__file__).parents[1] / "data_samples" / "sample" / "input"
AS_OF = "2026-06-30"
SETTINGS = Settings()  # the definitions' defaults; the resource reads its own configuration


def _materialize(
    tmp_path: Path, selection: list[str], input_root: Path = SAMPLE_INPUT
) -> dg.ExecuteInProcessResult:
    resource = AidmatchResource(
        input_root=str(input_root), output_root=str(tmp_path / "out"), work_dir=str(tmp_path)
    )
    with dg.DagsterInstance.ephemeral() as instance:
        return dg.materialize(
            ingest_assets(SETTINGS, night_partitions(SETTINGS)), selection=selection, partition_key=AS_OF, resources={"aidmatch": resource},
            instance=instance, raise_on_error=False,
        )  # fmt: skip


def _tables(tmp_path: Path) -> set[str]:
    with duckdb.connect(str(tmp_path / AS_OF / "aidmatch.duckdb"), read_only=True) as con:
        return {
            name
            for (name,) in con.sql("SELECT table_name FROM duckdb_tables() WHERE NOT temporary").fetchall()
        }


def _materialized(result: dg.ExecuteInProcessResult) -> set[str]:
    return {event.asset_key.to_user_string() for event in result.get_asset_materialization_events()}


def test_every_source_is_read_and_staged_with_its_own_assets_and_checks(tmp_path: Path) -> None:
    sources = ("unemployment", "dibao", "disability", "si_persons", "si_contributions")
    result = _materialize(tmp_path, [f"{kind}_{s}" for s in sources for kind in ("raw", "staged")])
    assert result.success
    assert _materialized(result) == {f"{kind}_{s}" for s in sources for kind in ("raw", "staged")}
    checks = {(e.asset_key.to_user_string(), e.check_name) for e in result.get_asset_check_evaluations()}
    assert checks == {
        *((f"raw_{s}", "files_readable") for s in sources),
        *((f"raw_{s}", "complete") for s in sources),
        *((f"raw_{s}", "fresh") for s in sources),
        *((f"staged_{s}", "row_rules") for s in sources),
        *((f"staged_{s}", "schema") for s in sources),
    }
    assert {f"staged_{s}" for s in sources} <= _tables(tmp_path)
    with duckdb.connect(str(tmp_path / AS_OF / "aidmatch.duckdb"), read_only=True) as con:
        files = con.sql("SELECT DISTINCT source FROM ingest_files").fetchall()
    assert {source for (source,) in files} == set(sources)


def test_a_subset_reads_only_what_was_selected(tmp_path: Path) -> None:
    assert _materialize(tmp_path, ["raw_dibao", "staged_dibao"]).success
    assert {"raw_dibao", "staged_dibao"} <= _tables(tmp_path)
    assert not {"raw_unemployment", "staged_unemployment"} & _tables(tmp_path)

    restaged = _materialize(tmp_path, ["staged_dibao"])  # re-stage from the raw table already there
    assert restaged.success and _materialized(restaged) == {"staged_dibao"}


def test_an_unreadable_source_is_not_staged_and_the_others_are(tmp_path: Path) -> None:
    shutil.copytree(SAMPLE_INPUT, tmp_path / "input")
    broken = sorted((tmp_path / "input" / "disability").glob("*.xlsx"))[0]
    broken.write_bytes(broken.read_bytes()[:200])  # a truncated workbook
    result = _materialize(tmp_path / "work", ["raw_disability", "staged_disability", "raw_dibao", "staged_dibao"],
                          input_root=tmp_path / "input")  # fmt: skip
    assert not result.success  # the blocking check failed: nothing downstream may run
    assert _materialized(result) == {"raw_disability", "raw_dibao", "staged_dibao"}
    errors = [
        (e.asset_key.to_user_string(), e.check_name)
        for e in result.get_asset_check_evaluations()
        if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR
    ]
    assert errors == [("raw_disability", "files_readable")]


@pytest.mark.parametrize("key", [None, "k" * 32], ids=["in clear", "encrypted"])
def test_the_work_database_is_written_in_the_newer_format_with_its_dictionary(
    tmp_path: Path, key: str | None
) -> None:
    """In clear as encrypted, the run's database is written in DuckDB 1.4's storage format, whose text
    dictionary (DICT_FSST) stores a city's staged contributions in less than half the bytes of the 1.0
    format and scans them twice as fast; plain FSST, which DuckDB 1.4 tries on every text column of every
    row group it writes (a quarter of the raw tables' insert), is never used."""
    path = tmp_path / "aidmatch.duckdb"
    with open_work_database(path, key, database_config(Settings(), path)) as con:
        con.execute(
            "CREATE TABLE t AS SELECT 'si_contributions/2026年11月/东城区' || (i % 20) || '.csv' AS source_file "
            "FROM range(300000) AS r(i)"
        )
        con.execute("CHECKPOINT")
        methods = {
            method
            for (method,) in con.sql(
                "SELECT DISTINCT compression FROM pragma_storage_info('t') WHERE segment_type = 'VARCHAR'"
            ).fetchall()
        }
        (tags,) = con.sql(
            "SELECT tags FROM duckdb_databases() WHERE database_name = current_database()"
        ).fetchone()
    assert methods == {"DICT_FSST"}, methods
    assert tags["storage_version"] == "v1.4.0+", tags
