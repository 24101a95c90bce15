"""Freshness of a source's extract: the newest file's modification time against the as-of date's end."""

import datetime as dt
import os
from pathlib import Path

import dagster as dg

from aidmatch.assets.ingest import ingest_assets
from aidmatch.assets.partitions import night_partitions
from aidmatch.checks.freshness import assess_freshness
from aidmatch.checks.source_checks import fresh_result
from aidmatch.resources import AidmatchResource
from aidmatch.settings import BUREAU_TIMEZONE, Settings
from tests.conftest import SOURCES, TINY_AS_OF, write_tiny_world

AS_OF = dt.date(2026, 6, 30)
SETTINGS = Settings()  # the definitions' defaults; the resource reads its own configuration


def _touch(path: Path, when: dt.datetime) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text("x", encoding="utf-8")
    os.utime(path, (when.timestamp(), when.timestamp()))
    return path


def _at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), BUREAU_TIMEZONE)


def _assess(root: Path, files: list[str], as_of: dt.date = AS_OF):
    return assess_freshness("dibao", root, files, as_of, warn_days=35, error_days=60)


def test_a_recent_file_passes(tmp_path):
    _touch(tmp_path / "dibao" / "东城区.csv", _at(AS_OF - dt.timedelta(days=10)))
    result = fresh_result(_assess(tmp_path, ["dibao/东城区.csv"]))
    assert result.passed
    assert result.metadata["newest_file"].value == "dibao/东城区.csv"
    assert 10 <= result.metadata["age_days"].value <= 11


def test_older_than_warn_days_is_a_warn_naming_the_file_and_its_date(tmp_path):
    _touch(tmp_path / "dibao" / "东城区.csv", _at(dt.date(2026, 5, 15)))
    result = fresh_result(_assess(tmp_path, ["dibao/东城区.csv"]))
    assert not result.passed and result.severity == dg.AssetCheckSeverity.WARN
    assert "dibao/东城区.csv" in result.description and "2026-05-15" in result.description
    assert result.metadata["age_days"].value > 35


def test_older_than_error_days_is_an_error(tmp_path):
    _touch(tmp_path / "dibao" / "东城区.csv", _at(dt.date(2026, 3, 1)))
    result = fresh_result(_assess(tmp_path, ["dibao/东城区.csv"]))
    assert not result.passed and result.severity == dg.AssetCheckSeverity.ERROR
    assert "2026-03-01" in result.description


def test_the_newest_file_counts_subfolders_included(tmp_path):
    _touch(tmp_path / "dibao" / "东城区.csv", _at(dt.date(2026, 1, 1)))
    _touch(tmp_path / "dibao" / "2026年6月" / "海淀区.csv", _at(dt.date(2026, 6, 20)))
    result = _assess(tmp_path, ["dibao/东城区.csv", "dibao/2026年6月/海淀区.csv"])
    assert result.verdict == "fresh" and result.newest_file == "dibao/2026年6月/海淀区.csv"


def test_age_is_judged_at_the_as_of_dates_end_not_the_wall_clock(tmp_path):
    # Delivered 2026-05-20: fresh on the night of 2026-06-23 (34 days), and still so when that night is
    # re-run today; stale for the as-of 2026-06-30 whenever it runs.
    _touch(tmp_path / "dibao" / "东城区.csv", _at(dt.date(2026, 5, 20), hour=0))
    assert _assess(tmp_path, ["dibao/东城区.csv"], dt.date(2026, 6, 23)).verdict == "fresh"
    assert _assess(tmp_path, ["dibao/东城区.csv"], dt.date(2026, 6, 25)).verdict == "stale"
    # The boundary is the end of the as-of day in Asia/Shanghai: 35 days to the midnight after it.
    _touch(tmp_path / "dibao" / "东城区.csv", dt.datetime(2026, 5, 27, 0, 0, 1, tzinfo=BUREAU_TIMEZONE))
    assert _assess(tmp_path, ["dibao/东城区.csv"], dt.date(2026, 6, 30)).verdict == "fresh"
    # A file modified after the as-of date (a later delivery a re-run reads) is fresh, age 0.
    _touch(tmp_path / "dibao" / "东城区.csv", _at(dt.date(2026, 8, 1)))
    assert _assess(tmp_path, ["dibao/东城区.csv"]).age_days == 0


def test_no_file_read_passes_with_no_age(tmp_path):
    result = fresh_result(_assess(tmp_path, []))
    assert result.passed and "age_days" not in result.metadata


def test_a_stale_source_warns_in_the_ingest_step_and_does_not_block(tmp_path):
    root = write_tiny_world(tmp_path / "input")
    _touch(root / "dibao" / "东城区.csv", _at(TINY_AS_OF - dt.timedelta(days=45)))
    _touch(root / "disability" / "东城区.csv", _at(TINY_AS_OF - dt.timedelta(days=90)))
    resource = AidmatchResource(
        input_root=str(root), output_root=str(tmp_path / "out"), work_dir=str(tmp_path)
    )
    selection = [f"{kind}_{s}" for s in SOURCES for kind in ("raw", "staged")]
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize(
            ingest_assets(SETTINGS, night_partitions(SETTINGS)), selection=selection, partition_key=TINY_AS_OF.isoformat(),
            resources={"aidmatch": resource}, instance=instance, raise_on_error=False,
        )  # fmt: skip
    assert result.success  # not blocking: every source is staged
    fresh = {
        e.asset_key.to_user_string(): e
        for e in result.get_asset_check_evaluations()
        if e.check_name == "fresh"
    }
    assert set(fresh) == {f"raw_{s}" for s in SOURCES}
    assert fresh["raw_unemployment"].passed
    assert fresh["raw_dibao"].severity == dg.AssetCheckSeverity.WARN and not fresh["raw_dibao"].passed
    assert fresh["raw_disability"].severity == dg.AssetCheckSeverity.ERROR
    assert fresh["raw_disability"].metadata["newest_file"].value == "disability/东城区.csv"
