"""Personal data at rest, least privilege: a deployment's work databases are encrypted with its key, the run
history is its owner's alone, and analysts get a UI that can look at everything and change nothing.

A night of the tiny world in a deployment `aidmatch init` laid out (its key file, its configuration naming
it), run by the `aidmatch` command; then the database file read as bytes, opened without the key, with
another key, with none named — and the read-only UI asked, as its pages ask, what it may do.
"""

import os
import stat
import sys
from pathlib import Path

import duckdb
import pytest
import requests

from aidmatch.pipelines.cli import main
from aidmatch.pipelines.deployment import KEY_NAME
from aidmatch.settings import CONFIG_ENV
from aidmatch.work_database import WorkDatabaseKeyError, open_night, open_work_database
from tests.conftest import PEOPLE, TINY_AS_OF, write_tiny_world
from tests.servers import ui_graphql

AS_OF = TINY_AS_OF.isoformat()


def _aidmatch(*args: str) -> int:
    """`aidmatch …` in this process; the environment it sets for the process is put back afterwards."""
    saved = {name: os.environ.get(name) for name in (CONFIG_ENV, "DAGSTER_HOME")}
    try:
        return main(list(args))
    finally:
        for name, value in saved.items():
            os.environ.pop(name, None) if value is None else os.environ.__setitem__(name, value)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory) -> Path:
    """A deployment laid out by `aidmatch init`, the tiny world in its input, one night run."""
    folder = tmp_path_factory.mktemp("deployment") / "srv"
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("DAGSTER_HOME", raising=False)  # the deployment's own run history
        assert _aidmatch("init", str(folder)) == 0
        write_tiny_world(folder / "input")
        assert _aidmatch("run", "--config", str(folder / "aidmatch.yaml"), "--as-of", AS_OF) == 0
    return folder


def _database(deployment: Path) -> Path:
    return deployment / "work" / AS_OF / "aidmatch.duckdb"


def test_the_work_database_holds_no_name_or_id_in_clear(deployment) -> None:
    content = _database(deployment).read_bytes()
    assert len(content) > 100_000
    for person in PEOPLE[:5]:
        assert person.id.encode() not in content and person.name.encode() not in content
    assert not list(_database(deployment).parent.glob("*.wal")), "checkpointed, and the log sealed too"


def test_the_work_database_opens_with_its_key_only(deployment) -> None:
    with pytest.raises(duckdb.Error, match="encrypted database"):
        duckdb.connect(str(_database(deployment)), read_only=True)
    with pytest.raises(WorkDatabaseKeyError, match="another key"):
        open_work_database(_database(deployment), "a-key-of-somebody-else", read_only=True)
    with open_night(AS_OF, deployment / "aidmatch.yaml") as con:  # what docs/operations.md shows analysts
        (linked,) = con.sql("SELECT count(*) FROM core_person_links WHERE person_id IS NOT NULL").fetchone()
    assert linked >= len(PEOPLE)


def _night_again(deployment: Path, capsys) -> tuple[int, str]:
    code = _aidmatch("run", "--config", str(deployment / "aidmatch.yaml"), "--as-of", AS_OF)
    return code, capsys.readouterr().err


def test_a_missing_or_wrong_key_stops_the_command_with_one_line(deployment, capsys, tmp_path) -> None:
    key = deployment / KEY_NAME
    saved = key.read_text(encoding="utf-8")
    try:
        key.write_text("another-key-of-forty-characters-or-so-123\n", encoding="utf-8")
        code, err = _night_again(deployment, capsys)
        assert code == 2 and "encrypted with another key" in err and str(_database(deployment)) in err
        key.chmod(0o644)
        code, err = _night_again(deployment, capsys)
        assert code == 2 and "may be read by others than its owner (mode 0644): chmod 600 it" in err
        key.unlink()
        code, err = _night_again(deployment, capsys)
        assert code == 2 and f"database.encryption_key_file: the file {key} cannot be read" in err
        for err_text in (err,):
            assert "Traceback" not in err_text and len(err_text.strip().splitlines()) == 1
    finally:
        key.write_text(saved, encoding="utf-8")
        key.chmod(0o600)
    no_key = tmp_path / "no_key.yaml"  # the same folders, no key named
    no_key.write_text(
        f"paths: {{input_root: {deployment / 'input'}, output_root: {deployment / 'output'}, "
        f"work_dir: {deployment / 'work'}}}\n",
        encoding="utf-8",
    )
    assert _aidmatch("run", "--config", str(no_key), "--as-of", AS_OF) == 2
    err = capsys.readouterr().err
    assert "is encrypted, and the configuration names no key" in err and "Traceback" not in err


def test_a_database_written_before_the_key_is_encrypted_when_next_opened(tmp_path) -> None:
    path = tmp_path / "aidmatch.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE staged_dibao AS SELECT '11010519491231002X' AS id_norm, '王五' AS name")
    key = "a-key-of-sixteen-or-more"
    with open_work_database(path, key) as con:
        assert con.sql("SELECT name FROM staged_dibao").fetchall() == [("王五",)]
    assert b"11010519491231002X" not in path.read_bytes()
    with pytest.raises(duckdb.Error, match="encrypted database"):
        duckdb.connect(str(path))
    with open_work_database(path, key, read_only=True) as con:
        assert con.sql("SELECT id_norm FROM staged_dibao").fetchall() == [("11010519491231002X",)]


def test_the_run_history_is_its_owners_alone(deployment) -> None:
    home = deployment / "dagster_home"
    assert list(home.rglob("*.db")), "the SQLite run and event storage"
    loose = {
        str(path.relative_to(home)): oct(stat.S_IMODE(path.lstat().st_mode))
        for path in [home, *home.rglob("*")]
        if not path.is_symlink() and stat.S_IMODE(path.lstat().st_mode) & 0o077
    }
    assert loose == {}


PERMISSIONS = "{ permissions { permission value } }"
DELETE_RUN = 'mutation { deletePipelineRun(runId: "%s") { __typename } }'


def test_the_analysts_ui_shows_the_nights_and_can_change_nothing(deployment, tmp_path) -> None:
    """`aidmatch ui --read-only` (what the analysts' systemd unit runs): the runs are listed, and the
    permissions the UI's pages ask for — launching, re-executing, deleting, schedules — are all refused."""
    log = tmp_path / "webserver.log"
    environment = os.environ | {"AIDMATCH_CONFIG": str(deployment / "aidmatch.yaml")}
    environment.pop("DAGSTER_HOME", None)
    command = [str(Path(sys.executable).with_name("aidmatch")), "ui", "--read-only"]
    with ui_graphql(command, environment, log) as url:
        runs = requests.post(
            url, json={"query": "{ runsOrError { ... on Runs { results { runId status } } } }"}
        )
        (night,) = runs.json()["data"]["runsOrError"]["results"]
        assert night["status"] == "SUCCESS"
        granted = {
            p["permission"]: p["value"]
            for p in requests.post(url, json={"query": PERMISSIONS}).json()["data"]["permissions"]
        }
        for permission in ("launch_pipeline_execution", "launch_pipeline_reexecution", "delete_pipeline_run",
                           "terminate_pipeline_execution", "start_schedule", "stop_running_schedule",
                           "wipe_assets", "launch_partition_backfill"):  # fmt: skip
            assert granted[permission] is False, permission
        refused = requests.post(url, json={"query": DELETE_RUN % night["runId"]}).json()
        assert refused["data"]["deletePipelineRun"]["__typename"] == "UnauthorizedError"
