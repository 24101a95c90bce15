"""The suite does not depend on who runs it: on a deployed server, where the operator's shell has the
deployment's AIDMATCH_CONFIG, its folders, DAGSTER_HOME and the database key set, the tests see none of
them (`conftest.pytest_configure`) and pass as on a developer's machine."""

import os
import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]


def test_a_deployments_environment_does_not_reach_the_tests(tmp_path: Path) -> None:
    deployed = tmp_path / "aidmatch.yaml"  # another first night, another cron, folders that do not exist
    deployed.write_text(
        "paths: {input_root: /nonexistent/input, output_root: /nonexistent/output}\n"
        'schedule: {cron: "15 4 * * 1-5", first_as_of: 2026-09-01}\n'
        "database: {encryption_key_env: AIDMATCH_DATABASE_KEY}\n",
        encoding="utf-8",
    )
    environment = os.environ | {
        "AIDMATCH_CONFIG": str(deployed),
        "AIDMATCH_INPUT_ROOT": "/nonexistent/input",
        "AIDMATCH_WORK_DIR": "/nonexistent/work",
        "DAGSTER_HOME": str(tmp_path / "server_dagster_home"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", "tests/test_schedule.py", "tests/test_settings.py"],
        cwd=REPOSITORY, env=environment, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert not (tmp_path / "server_dagster_home").exists(), "nothing written to the server's run history"
