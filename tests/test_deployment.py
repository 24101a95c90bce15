"""A deployment, as a bureau's operator makes and runs one (docs/operations.md).

The built wheel installed into a fresh environment and run from another folder, with nothing written
under site-packages; `aidmatch init`; the Dagster daemon launching the night from a schedule tick; the
UI served by `aidmatch ui` on the deployment's run history. Real processes, real files, no mocks.
"""

import datetime as dt
import json
import os
import stat
import subprocess
import sys
import sysconfig
import time
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from conftest import TINY_AS_OF, write_tiny_world
from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

from aidmatch.pipelines.cli import main
from aidmatch.pipelines.deployment import DeploymentExists, init_deployment
from aidmatch.settings import BUREAU_TIMEZONE, load_settings
from aidmatch.sources.tables import SOURCES
from tests.servers import free_port

REPOSITORY = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SAMPLE_AS_OF = "2026-11-22"


def wait_for(condition: Callable[[], object], what: str, timeout: float, process=None) -> object:
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if process is not None and process.poll() is not None:
            pytest.fail(f"{what}: the process ended with {process.returncode} first")
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)
    return result


def _tree(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under `folder` with its size and modification time."""
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file()
    }


def test_init_lays_out_a_deployment_owner_only_and_refuses_to_overwrite_one(tmp_path):
    folder = tmp_path / "srv" / "aidmatch"
    init_deployment(folder)
    settings = load_settings(folder / "aidmatch.yaml", environ={})
    assert settings.paths.input_root == str(folder / "input"), "relative paths are the deployment folder's"
    assert settings.paths.dagster_home == str(folder / "dagster_home")
    assert sorted(p.name for p in (folder / "input").iterdir()) == sorted(SOURCES)
    home = folder / "dagster_home"
    # the run history's storage is made by init: the daemon and webserver started together never race on it
    storage = (home / "history" / "runs.db", home / "schedules" / "schedules.db")
    key = folder / "aidmatch.key"  # the work databases' key, named by the configuration
    assert settings.database.encryption_key_file == str(key) and len(settings.database.encryption_key()) >= 40
    for path in (folder / "aidmatch.yaml", key, home / "dagster.yaml", folder / "work", *storage):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), f"{path}: {oct(mode)}"
    workspace = yaml.safe_load((folder / "workspace.yaml").read_text(encoding="utf-8"))
    module = workspace["load_from"][0]["python_module"]
    assert module["module_name"] == "aidmatch.pipelines.definitions"
    assert module["working_directory"] == str(folder)
    daemon = (folder / "systemd" / "aidmatch-daemon.service").read_text(encoding="utf-8")
    assert f"ExecStart={BIN}/dagster-daemon run -w {folder}/workspace.yaml" in daemon
    assert f"Environment=AIDMATCH_CONFIG={folder}/aidmatch.yaml" in daemon
    assert "@" not in daemon.replace("multi-user", ""), "every placeholder is filled in"
    analysts = (folder / "systemd" / "aidmatch-webserver-read-only.service").read_text(encoding="utf-8")
    assert (
        f"ExecStart={BIN}/dagster-webserver -w {folder}/workspace.yaml -h 127.0.0.1 -p 3001 --read-only"
        in analysts
    )
    with DagsterInstance.from_config(str(folder / "dagster_home")) as instance:  # a valid instance file
        assert instance.run_coordinator.__class__.__name__ == "QueuedRunCoordinator"
    (folder / "aidmatch.yaml").write_text("# the operator's own edits\n", encoding="utf-8")
    with pytest.raises(DeploymentExists):
        init_deployment(folder)
    assert (folder / "aidmatch.yaml").read_text(encoding="utf-8") == "# the operator's own edits\n"
    assert main(["init", str(folder)]) == 2


def test_the_wheel_claims_one_name_and_runs_anywhere_writing_nothing_in_site_packages(tmp_path):
    """`pip install` of the built wheel into a fresh environment, then init, a night and --version run from
    an unrelated folder. The dependencies come from this environment (a .pth line), aidmatch from the wheel."""
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), "."],
        cwd=REPOSITORY, check=True, capture_output=True,
    )  # fmt: skip
    [wheel] = dist.glob("aidmatch-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert {name.split("/")[0] for name in names} == {"aidmatch", wheel.name.split("-py3")[0] + ".dist-info"}
    for shipped in ("aidmatch/aidmatch.yaml", "aidmatch/rules/removals.sql", "aidmatch/deploy/dagster.yaml"):
        assert shipped in names, shipped
    assert any(name.startswith("aidmatch/data_samples/sample/input/dibao/") for name in names)

    venv = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = Path(subprocess.run(
        [venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True, capture_output=True, text=True,
    ).stdout.strip())  # fmt: skip
    (site / "_aidmatch_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n", encoding="utf-8")
    subprocess.run(
        [venv / "bin" / "python", "-m", "pip", "install", "-q", "--no-deps", str(wheel)],
        check=True,
        capture_output=True,
    )
    before = _tree(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "AIDMATCH_CONFIG", "PYTHONPATH")}

    def aidmatch(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [venv / "bin" / "aidmatch", *args],
            cwd=elsewhere,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )

    version = aidmatch("--version")
    assert version.returncode == 0 and version.stdout.strip() == "aidmatch 0.1.0", version.stdout
    assert aidmatch("init", "deployment", "--sample").returncode == 0
    copied = [p for p in (elsewhere / "deployment" / "input").rglob("*")]
    assert copied and all(stat.S_IMODE(p.stat().st_mode) in (0o600, 0o700) for p in copied), (
        "extracts: owner only"
    )
    night = aidmatch("run", "--config", "deployment/aidmatch.yaml", "--as-of", SAMPLE_AS_OF)
    assert night.returncode == 0, night.stderr
    deployment = elsewhere / "deployment"
    manifest = json.loads(
        (deployment / "output" / SAMPLE_AS_OF / "manifest.json").read_text(encoding="utf-8")
    )
    assert manifest["paths"]["input_root"] == str(deployment / "input")
    assert manifest["paths"]["work_dir"] == str(deployment / "work")
    assert manifest["code_version"] == "0.1.0"
    assert (deployment / "dagster_home" / "dagster.yaml").is_file(), "the run history is the deployment's"
    assert f"DAGSTER_HOME={deployment / 'dagster_home'} " in night.stdout
    assert _tree(site) == before, "nothing is written under site-packages"
    imported = subprocess.run(
        [venv / "bin" / "python", "-c", "import aidmatch.rules.lists as m; print(m.__file__)"],
        cwd=elsewhere, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert imported.stdout.startswith(str(site)), "aidmatch is imported from the wheel, not the checkout"


def test_the_daemon_runs_the_night_when_the_schedule_ticks(tmp_path):
    """`dagster-daemon run` on a deployment made by `aidmatch init`, its schedule set to every minute:
    the tick launches a run of the nightly job (queued, then launched by the daemon in its own process),
    which succeeds and publishes that day's lists."""
    folder = tmp_path / "deployment"
    init_deployment(folder)
    write_tiny_world(folder / "input", dt.datetime.now(BUREAU_TIMEZONE).date())  # tonight's extracts
    config = folder / "aidmatch.yaml"
    config.write_text(
        config.read_text(encoding="utf-8").replace('cron: "0 2 * * *"', 'cron: "* * * * *"'), encoding="utf-8"
    )
    env = os.environ | {"DAGSTER_HOME": str(folder / "dagster_home"), "AIDMATCH_CONFIG": str(config)}
    log = open(tmp_path / "daemon.log", "wb")  # noqa: SIM115 - closed below, after the process
    daemon = subprocess.Popen(
        [BIN / "dagster-daemon", "run", "-w", str(folder / "workspace.yaml")],
        cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip

    def finished_run():
        with DagsterInstance.from_config(str(folder / "dagster_home")) as instance:
            runs = instance.get_runs(
                RunsFilter(job_name="aidmatch_nightly", tags={"aidmatch/launched_by": "schedule"})
            )
            done = [r for r in runs if r.status in (DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE)]
            return done[0] if done else None

    try:
        run = wait_for(finished_run, "a run launched by the schedule's tick", timeout=300, process=daemon)
    finally:
        os.killpg(daemon.pid, 15)
        daemon.wait(timeout=60)
        log.close()
    assert run.status == DagsterRunStatus.SUCCESS, (tmp_path / "daemon.log").read_text(errors="replace")[
        -3000:
    ]
    as_of = run.tags["dagster/partition"]
    assert run.tags["aidmatch/input_root"] == str(folder / "input")
    assert (folder / "output" / as_of / "manifest.json").is_file()


def test_aidmatch_ui_serves_the_deployments_run_history(tmp_path):
    """`aidmatch ui --config …` starts the Dagster webserver on the deployment's history: the night run
    before it is listed by its GraphQL API."""
    folder = tmp_path / "deployment"
    init_deployment(folder)
    write_tiny_world(folder / "input")
    config = str(folder / "aidmatch.yaml")
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "AIDMATCH_CONFIG")}
    night = subprocess.run(
        [BIN / "aidmatch", "run", "--config", config, "--as-of", TINY_AS_OF.isoformat()],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert night.returncode == 0, night.stderr
    port = free_port()
    server = subprocess.Popen(
        [BIN / "aidmatch", "ui", "--config", config, "--port", str(port)],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip

    def runs():
        query = json.dumps({"query": "{ runsOrError { ... on Runs { results { runId jobName status } } } }"})
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/graphql",
            data=query.encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return json.load(response)["data"]["runsOrError"]["results"]
        except OSError:
            return None

    try:
        listed = wait_for(runs, "the webserver to answer", timeout=120, process=server)
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=60)
    assert [(r["jobName"], r["status"]) for r in listed] == [("aidmatch_nightly", "SUCCESS")]


def test_runs_past_the_retention_leave_the_history_and_running_ones_stay(tmp_path):
    import datetime as dt

    from dagster import instance_for_test
    from dagster._core.test_utils import create_run_for_test

    from aidmatch.run_record import remove_runs_before

    with instance_for_test() as instance:
        old = create_run_for_test(instance, job_name="aidmatch_nightly", status=DagsterRunStatus.SUCCESS)
        failed = create_run_for_test(instance, job_name="aidmatch_nightly", status=DagsterRunStatus.FAILURE)
        running = create_run_for_test(instance, job_name="aidmatch_nightly", status=DagsterRunStatus.STARTED)
        assert remove_runs_before(instance, dt.datetime.now(dt.UTC) - dt.timedelta(days=1)) == []
        removed = remove_runs_before(instance, dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1))
        assert sorted(removed) == sorted([old.run_id, failed.run_id])
        assert [run.run_id for run in instance.get_runs()] == [running.run_id], (
            "a running run is never removed"
        )
