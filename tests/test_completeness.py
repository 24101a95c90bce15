"""Completeness (SPEC section 2): an empty or fallen extract stops the run unless the operator accepts it.

The verdict function is tested on its own (the limit, growth, no previous run, who accepted); then the
rule end to end through `aidmatch run`: a good night D-1 (the session's tiny good output), then night D
with one source emptied, halved or trimmed by 10%, against the counts D-1's manifest recorded.
"""

import datetime as dt
import json
import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import (
    HEADERS,
    LIST_NAMES,
    SOURCES,
    TINY_AS_OF,
    read_csv,
    read_manifest,
    run_aidmatch,
    tiny_rows,
    tree_digest,
    write_csv_file,
)
from dagster import AssetKey, DagsterEventType, DagsterInstance

from aidmatch.checks.completeness import (
    PublishedRun,
    assess,
    first_lookback_month,
    last_published_run,
    newest_well_filled_month,
)
from aidmatch.pipelines.cli import failure_explanation
from aidmatch.pipelines.code_location import build_defs
from aidmatch.resources import AidmatchResource

PREVIOUS = TINY_AS_OF.isoformat()  # D-1: the tiny good output
AS_OF = TINY_AS_OF + dt.timedelta(days=1)  # D


def _verdict(rows: int, previous: int | None, limit: float = 0.2, accepted: dict[str, str] | None = None):
    published = None if previous is None else PublishedRun("2026-11-21", {"dibao": previous})
    return assess("dibao", rows, published, limit, accepted or {})


# --- the verdict ---------------------------------------------------------------------------------


@pytest.mark.parametrize("previous", [None, 0, 480])
def test_an_empty_source_blocks_whatever_came_before(previous):
    result = _verdict(0, previous)
    assert (result.verdict, result.blocking, result.accepted) == ("empty", True, False)
    assert "dibao" in result.message and "0 data rows" in result.message
    assert "--accept-drop dibao" in result.message


@pytest.mark.parametrize(
    "previous, at_limit, limit",
    [(480, 384, 0.2), (10, 7, 0.3), (1000, 900, 0.1), (7, 7, 0.0)],
)
def test_a_fall_of_exactly_the_limit_passes_and_one_row_more_blocks(previous, at_limit, limit):
    passing = _verdict(at_limit, previous, limit)
    assert (passing.verdict, passing.blocking) == ("ok", False), passing.message
    blocked = _verdict(at_limit - 1, previous, limit)
    assert (blocked.verdict, blocked.blocking) == ("dropped", True)
    for number in (str(at_limit - 1), str(previous), "2026-11-21", f"{limit:.0%}"):
        assert number in blocked.message, (number, blocked.message)


def test_growth_passes_with_a_positive_change():
    result = _verdict(528, 480)
    assert (result.verdict, result.blocking) == ("ok", False)
    assert result.change_share == pytest.approx(0.1)
    assert _verdict(5, 0).verdict == "ok", "rows after an accepted empty night are growth"


def test_without_a_previous_run_only_the_empty_rule_applies():
    result = _verdict(1, None)
    assert (result.verdict, result.previous_rows, result.change_share) == ("ok", None, None)
    no_count = assess("dibao", 1, PublishedRun("2026-11-21", {}), 0.2, {})
    assert no_count.verdict == "ok", "a manifest without the source's count gives no baseline"


def _resource(tmp_path: Path, configured: list[str], command_line: list[str]) -> AidmatchResource:
    config = tmp_path / "aidmatch.yaml"
    config.write_text(f"completeness:\n  accept_drop: {json.dumps(configured)}\n", encoding="utf-8")
    return AidmatchResource(config_file=str(config), accept_drop=command_line)


@pytest.mark.parametrize(
    "configured, command_line, who",
    [
        ([], ["dibao"], "command line"),
        (["dibao"], [], "configuration"),
        (["dibao"], ["dibao"], "command line"),
    ],
)
def test_a_drop_is_accepted_by_the_flag_or_the_configuration(tmp_path, configured, command_line, who):
    accepted = _resource(tmp_path, configured, command_line).accepted_drops
    result = _verdict(0, 480, accepted=accepted)
    assert (result.verdict, result.blocking, result.accepted, result.accepted_by) == (
        "empty",
        False,
        True,
        who,
    )
    assert who in result.message and "--accept-drop dibao (or" not in result.message
    assert _verdict(480, 480, accepted=accepted).accepted_by is None, "nothing to accept: nothing recorded"
    assert _verdict(0, 480, accepted={"si_persons": who}).blocking, "another source's acceptance"


def _publish(output_root: Path, as_of: str, rows_read: dict[str, int] | None) -> None:
    folder = output_root / as_of
    folder.mkdir(parents=True)
    for name in LIST_NAMES:
        (folder / f"{name}.csv").write_text("person_id\n", encoding="utf-8")
    if rows_read is not None:
        inputs = {source: {"rows_read": n} for source, n in rows_read.items()}
        (folder / "manifest.json").write_text(json.dumps({"inputs": inputs}), encoding="utf-8")


def test_the_last_published_run_is_the_newest_before_the_as_of(tmp_path):
    _publish(tmp_path, "2026-11-19", {"dibao": 470})
    _publish(tmp_path, "2026-11-21", {"dibao": 480})
    _publish(tmp_path, "2026-11-22", {"dibao": 0})  # a re-run of 11-22 is not compared with itself
    _publish(tmp_path, "2026-11-25", {"dibao": 1})  # nor an old as-of with a later run
    assert last_published_run(tmp_path, "2026-11-22") == PublishedRun("2026-11-21", {"dibao": 480})
    assert last_published_run(tmp_path, "2026-11-20") == PublishedRun("2026-11-19", {"dibao": 470})
    assert last_published_run(tmp_path, "2026-11-19") is None
    _publish(tmp_path, "2026-11-28", None)  # published folder without a readable manifest
    assert last_published_run(tmp_path, "2026-11-30") == PublishedRun("2026-11-28", {})


@pytest.mark.parametrize(
    "as_of, months, first",
    [
        (dt.date(2026, 11, 22), 3, "2026-08"),
        (dt.date(2026, 1, 31), 3, "2025-10"),
        (dt.date(2026, 3, 1), 12, "2025-03"),
    ],
)
def test_the_first_lookback_month_counts_calendar_months_back(as_of, months, first):
    assert first_lookback_month(as_of, months) == first


def test_the_newest_well_filled_month_ignores_a_trickle_of_late_postings(tmp_path):
    """Months written as departments write them; a month with a few rows is not a month covered."""
    con = duckdb.connect(str(tmp_path / "months.duckdb"))
    cells = ["202606"] * 40 + ["2026-07"] * 30 + ["2026年8月"] * 25 + ["2026/9"] * 3 + ["", "不详"]
    con.execute("CREATE TABLE raw_si_contributions (period VARCHAR)")
    con.executemany("INSERT INTO raw_si_contributions VALUES (?)", [[c or None] for c in cells])
    assert newest_well_filled_month(con, "raw_si_contributions") == "2026-08"
    con.execute("DELETE FROM raw_si_contributions WHERE period NOT IN ('不详')")
    assert newest_well_filled_month(con, "raw_si_contributions") is None


def test_contributions_that_stop_before_the_lookback_months_block_until_accepted():
    def verdict(newest: str, accepted: dict[str, str] | None = None):
        return assess("si_contributions", 900, None, 0.2, accepted or {}, (newest, "2026-08"))

    assert (verdict("2026-08").verdict, verdict("2026-10").blocking) == ("ok", False)
    stale = verdict("2026-07")
    assert (stale.verdict, stale.blocking, stale.accepted) == ("stale", True, False)
    assert "2026-07" in stale.message and "2026-08" in stale.message
    assert "--accept-drop si_contributions" in stale.message
    confirmed = verdict("2026-07", {"si_contributions": "command line"})
    assert (confirmed.verdict, confirmed.blocking, confirmed.accepted) == ("stale", False, True)


# --- end to end ----------------------------------------------------------------------------------


class Night:
    """Night D's input (the tiny world at D), OUTPUT holding the good D-1, and the Dagster instance."""

    def __init__(self, base: Path, tiny_good_output: Path, home: Path) -> None:
        self.input, self.output, self.work, self.home = base / "input", base / "output", base / "work", home
        shutil.copytree(tiny_good_output, self.output)
        self.previous = read_manifest(self.output / PREVIOUS)
        self.before = tree_digest(self.output / PREVIOUS)
        for source in SOURCES:
            self.write(source, tiny_rows(source, AS_OF))

    def write(self, source: str, rows: list[list[str]]) -> None:
        write_csv_file(self.input / source / "东城区.csv", HEADERS[source], rows)

    def run(self, *extra: str) -> int:
        return run_aidmatch(self.input, self.output, self.work, AS_OF, *extra)

    @property
    def folder(self) -> Path:
        return self.output / AS_OF.isoformat()

    def previous_rows(self, source: str) -> int:
        return self.previous["inputs"][source]["rows_read"]

    def assert_previous_untouched(self) -> None:
        assert tree_digest(self.output / PREVIOUS) == self.before, "the last good output changed"

    def latest_evaluation(self, source: str):
        """The `complete` check evaluation of raw_<source> in the latest run of the instance."""
        with DagsterInstance.get() as instance:
            run = instance.get_runs(limit=1)[0]
            records = instance.get_records_for_run(
                run.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION
            ).records
        evaluations = [r.event_log_entry.dagster_event.event_specific_data for r in records]
        return run, next(
            e for e in evaluations if e.asset_key == AssetKey(f"raw_{source}") and e.check_name == "complete"
        )


@pytest.fixture
def night(tmp_path, dagster_home, tiny_good_output) -> Night:
    return Night(tmp_path, tiny_good_output, dagster_home)


def _failed(capsys, code: int) -> str:
    captured = capsys.readouterr()
    assert code == 1, f"exit code {code}; stderr:\n{captured.err}"
    assert "Traceback" not in captured.out + captured.err
    return captured.err


def _entry(folder: Path, source: str) -> dict:
    return read_manifest(folder)["completeness"]["sources"][source]


def test_an_empty_source_stops_the_run_until_the_operator_accepts_it(night, capsys):
    previous = night.previous_rows("dibao")
    households_before = read_csv(night.output / PREVIOUS / "zero_employment_households.csv")[1]
    assert previous > 0 and households_before, "D-1 read 低保 rows and found zero-employment households"
    night.write("dibao", [])  # one header-only CSV

    err = _failed(capsys, night.run())
    assert f"dibao: 0 data rows tonight against {previous} in the run published for {PREVIOUS}" in err
    assert "--accept-drop dibao" in err
    assert not night.folder.exists(), "nothing published for D"
    stopped = f"{AS_OF.isoformat()}.feedback"  # the departments' feedback of the stopped night, beside it
    assert sorted(p.name for p in night.output.iterdir()) == [PREVIOUS, stopped]
    assert "The departments' feedback sheets" in err and stopped in err
    night.assert_previous_untouched()

    run, evaluation = night.latest_evaluation("dibao")
    assert not run.is_success and not evaluation.passed
    assert evaluation.severity.value == "ERROR" and evaluation.blocking
    metadata = {key: value.value for key, value in evaluation.metadata.items()}
    assert (metadata["rows"], metadata["previous_rows"]) == (0, previous)
    assert (metadata["change_share"], metadata["accepted"]) == (-1.0, False)

    assert night.run("--accept-drop", "dibao") == 0, capsys.readouterr().err
    entry = _entry(night.folder, "dibao")
    assert entry["accepted_by"] == "command line" and entry["accepted"]
    assert (entry["verdict"], entry["rows"], entry["previous_rows"]) == ("empty", 0, previous)
    assert entry["previous_as_of"] == PREVIOUS
    assert read_manifest(night.folder)["completeness"]["accepted_drops"] == ["dibao"]
    assert read_csv(night.folder / "zero_employment_households.csv")[1] == [], "the lists reflect it"
    night.assert_previous_untouched()


def test_a_blocked_run_explains_itself_once_and_hides_dagsters_internals(night, capsys):
    """The explanation once (not as a log line and again at the end, nor as the check and the step
    failure it causes); Dagster's engine messages stay in the run's event log, out of the terminal."""
    night.write("dibao", [])
    code = night.run()
    captured = capsys.readouterr()
    assert code == 1, captured.err
    terminal = captured.out + captured.err
    assert terminal.count("dibao: 0 data rows tonight") == 1, terminal
    assert captured.err.count("\n- ") == 1, "one problem, listed once"
    for internal in ("did not yield", "Dependencies for step", "Not executing"):
        assert internal not in terminal, internal
    assert "✗ ingest failed" in captured.out and "check complete on raw_dibao: ERROR" in captured.out
    with DagsterInstance.get() as instance:
        run = instance.get_runs(limit=1)[0]
        logged = [entry.user_message for entry in instance.all_logs(run.run_id)]
    assert any("Not executing" in message for message in logged), "the engine's messages are recorded"
    assert any("dibao: 0 data rows tonight" in message for message in logged), "and ours"


def test_a_halved_source_stops_the_run_until_the_configuration_accepts_it(night, capsys, tmp_path):
    rows = tiny_rows("dibao", AS_OF)
    half = rows[: len(rows) // 2]
    night.write("dibao", half)
    previous = night.previous_rows("dibao")

    err = _failed(capsys, night.run())
    assert f"dibao: {len(half)} data rows tonight against {previous}" in err
    assert not night.folder.exists()
    night.assert_previous_untouched()

    config = tmp_path / "accept.yaml"
    config.write_text("completeness:\n  accept_drop: [dibao]\n", encoding="utf-8")
    assert night.run("--config", str(config)) == 0, capsys.readouterr().err
    entry = _entry(night.folder, "dibao")
    assert (entry["verdict"], entry["accepted_by"]) == ("dropped", "configuration")
    assert (entry["rows"], entry["previous_rows"]) == (len(half), previous)
    assert entry["change_share"] == round((len(half) - previous) / previous, 4)
    _, evaluation = night.latest_evaluation("dibao")
    assert evaluation.severity.value == "WARN" and evaluation.metadata["accepted"].value is True


def test_a_fall_of_ten_percent_passes_unflagged_with_its_numbers(night, capsys):
    rows = tiny_rows("si_persons", AS_OF)
    kept = rows[: len(rows) - len(rows) // 10]
    night.write("si_persons", kept)
    previous = night.previous_rows("si_persons")

    assert night.run() == 0, capsys.readouterr().err
    run, evaluation = night.latest_evaluation("si_persons")
    assert run.is_success and evaluation.passed
    metadata = {key: value.value for key, value in evaluation.metadata.items()}
    assert (metadata["rows"], metadata["previous_rows"]) == (len(kept), previous)
    assert metadata["change_share"] == pytest.approx((len(kept) - previous) / previous, abs=1e-4)
    assert metadata["accepted"] is False
    assert all(isinstance(metadata[k], int | float) for k in ("rows", "previous_rows", "change_share"))
    completeness = read_manifest(night.folder)["completeness"]
    assert completeness["accepted_drops"] == []
    assert {s: e["verdict"] for s, e in completeness["sources"].items()} == dict.fromkeys(SOURCES, "ok")
    with DagsterInstance.get() as instance:
        records = instance.get_records_for_run(run.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION)
        raw = next(
            r.event_log_entry.asset_materialization
            for r in records.records
            if r.event_log_entry.asset_materialization.asset_key == AssetKey("raw_si_persons")
        )
    assert raw.metadata["dagster/row_count"].value == len(kept)


def test_a_blocked_source_staged_again_from_the_ui_still_publishes_nothing(night, capsys):
    """The UI can materialize staged_dibao and everything after it without raw_dibao's check: the
    publish step refuses while the recorded verdict of the source is blocking."""
    night.write("dibao", [])
    _failed(capsys, night.run())
    resource = AidmatchResource(
        input_root=str(night.input), output_root=str(night.output), work_dir=str(night.work)
    )
    job = build_defs(resource.settings, {"aidmatch": resource}).resolve_job_def("aidmatch_nightly")
    downstream = [key for key in job.asset_layer.selected_asset_keys if not key.path[0].startswith("raw_")]
    with DagsterInstance.get() as instance:
        result = job.execute_in_process(
            partition_key=AS_OF.isoformat(),
            instance=instance,
            raise_on_error=False,
            asset_selection=downstream,
        )
    assert not result.success
    assert "dibao: 0 data rows tonight" in failure_explanation(result)
    assert not night.folder.exists()
    night.assert_previous_untouched()


def test_an_out_of_date_contribution_extract_stops_the_run_until_accepted(night, capsys):
    """Every row of tonight's contributions four months old: as many rows as the night before, and not a
    month of the look-back window: the EMPLOYED removals would all vanish."""
    old = AS_OF.replace(day=1) - dt.timedelta(days=100)
    night.write("si_contributions", tiny_rows("si_contributions", old))
    first = first_lookback_month(AS_OF, 3)

    err = _failed(capsys, night.run())
    assert "si_contributions: the newest month with contributions in it (费款所属期) is " in err
    assert f"before {first}, the first month the rules look back to" in err
    assert not night.folder.exists()
    night.assert_previous_untouched()

    assert night.run("--accept-drop", "si_contributions") == 0, capsys.readouterr().err
    entry = _entry(night.folder, "si_contributions")
    assert (entry["verdict"], entry["accepted_by"], entry["first_lookback_month"]) == (
        "stale",
        "command line",
        first,
    )
    assert entry["newest_month"] < first
