"""A deployment's folder: `aidmatch init DIR` lays it out, and every command finds its run history there.

A deployment is one folder holding its configuration (`aidmatch.yaml`, a commented copy of the shipped
default), the five source folders departments drop extracts into (`input/`), the published lists
(`output/`), people's filled decision forms (`decisions/`), the runs' DuckDB files (`work/`), the
Dagster run history (`dagster_home/`, with the instance file from `deploy/dagster.yaml`), the
workspace the daemon and the webserver load (`workspace.yaml`) and the systemd units that run them
(`systemd/`), their paths filled in. Nothing is ever written inside the installed package.
"""

import contextlib
import os
import secrets
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import dagster as dg

from aidmatch.publish.permissions import OWNER_ONLY
from aidmatch.run_lock import Holder, lock_folder
from aidmatch.settings import DEFAULT_CONFIG, Settings
from aidmatch.sources.tables import SOURCES

CONFIG_NAME = "aidmatch.yaml"
KEY_NAME = "aidmatch.key"  # the work databases' encryption key (aidmatch/work_database.py)
# The daemon, the operators' UI, the analysts' read-only UI.
SERVICES = ("aidmatch-daemon.service", "aidmatch-webserver.service", "aidmatch-webserver-read-only.service")


class DeploymentExists(Exception):
    """The folder already holds a deployment's configuration: `init` changes nothing there."""


def _template(name: str, folder: Path) -> str:
    """A file of `deploy/` with the deployment's folder and this installation's commands filled in."""
    text = resources.files("aidmatch.deploy").joinpath(name).read_text(encoding="utf-8")
    return text.replace("@DEPLOYMENT@", str(folder)).replace("@BIN@", str(Path(sys.executable).parent))


def _write(path: Path, text: str, written: list[Path]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    written.append(path)


def init_deployment(folder: Path, with_sample: bool = False) -> list[Path]:
    """Lay out a new deployment in `folder` (created if missing); the files and folders made, in order.

    `with_sample` copies the bundled sample extracts into `input/`, for a first night to try.
    DeploymentExists when `folder` already has an `aidmatch.yaml`: nothing is changed then.
    """
    folder = folder.resolve()
    if (folder / CONFIG_NAME).exists():
        raise DeploymentExists(
            f"{folder / CONFIG_NAME} exists already: {folder} is a deployment; nothing changed."
        )
    previous_umask = os.umask(0o077)  # extracts, lists and run history: owner only
    try:
        written: list[Path] = []
        # The work databases are encrypted with a key of their own, in a file beside the configuration.
        _write(folder / KEY_NAME, secrets.token_urlsafe(32) + "\n", written)
        configuration = DEFAULT_CONFIG.read_text(encoding="utf-8").replace(
            f"encryption_key_file: null                # e.g. {KEY_NAME}",
            f"encryption_key_file: {KEY_NAME}        # written by aidmatch init, 0600;",
        )
        _write(folder / CONFIG_NAME, configuration, written)
        _write(folder / "workspace.yaml", _template("workspace.yaml", folder), written)
        _write(folder / "dagster_home" / "dagster.yaml", _template("dagster.yaml", folder), written)
        # The run history's SQLite storage made now: the daemon and the webserver, started together by
        # systemd, would otherwise both create it and both stamp its schema version (alembic then finds
        # two heads and neither starts).
        with dg.DagsterInstance.from_config(str(folder / "dagster_home")):
            pass
        for service in SERVICES:
            _write(folder / "systemd" / service, _template(f"systemd/{service}", folder), written)
        for sub in ("output", "work", "decisions", *(f"input/{source}" for source in SOURCES)):
            (folder / sub).mkdir(parents=True, exist_ok=True, mode=0o700)
            written.append(folder / sub)
        if with_sample:
            sample = resources.files("aidmatch.data_samples").joinpath("sample", "input")
            with resources.as_file(sample) as sample_input:
                shutil.copytree(sample_input, folder / "input", dirs_exist_ok=True)
            OWNER_ONLY.apply_tree(folder / "input")  # copytree copies the package's modes
        return written
    finally:
        os.umask(previous_umask)


def dagster_home(settings: Settings) -> Path:
    """The run history in use: DAGSTER_HOME from the environment, else the configuration's."""
    return Path(os.environ.get("DAGSTER_HOME") or settings.paths.dagster_home)


def prepare_dagster_home(settings: Settings) -> Path:
    """DAGSTER_HOME (set in the environment for Dagster) with a dagster.yaml, so runs persist.

    A home that has no dagster.yaml gets the one of `deploy/` (telemetry off: the bureaus' servers are
    offline and a run must not try to phone out; one run at a time; tick retention).
    """
    home = dagster_home(settings)
    os.environ["DAGSTER_HOME"] = str(home)
    home.mkdir(parents=True, exist_ok=True, mode=0o700)  # run metadata: owner only when we create it
    config = home / "dagster.yaml"
    if not config.exists():  # written whole, then moved in place: another process may be reading it
        partial = home / f".dagster.yaml.{os.getpid()}"
        partial.write_text(_template("dagster.yaml", home.parent), encoding="utf-8")
        partial.replace(config)
    _owner_only(home)
    return home


def ui_workspace(home: Path) -> Path:
    """The workspace `aidmatch ui` starts the webserver with, beside the run history: the code location
    named `aidmatch`, as a deployment's workspace.yaml names it (`-m` would name it after the module)."""
    path = home / "workspace.yaml"
    partial = home / f".workspace.yaml.{os.getpid()}"  # written whole, then moved in place
    partial.write_text(_template("workspace.yaml", home.parent), encoding="utf-8")
    partial.replace(path)
    return path


def _owner_only(home: Path) -> None:
    """DAGSTER_HOME's files 0600 and folders 0700 — its SQLite run, event and schedule storage holds file
    names, run configs and masked heads — also those an earlier version or `dagster dev` left readable
    (aidmatch's commands and units create them under umask 077)."""
    for path in [home, *home.rglob("*")]:
        with contextlib.suppress(FileNotFoundError):  # a daemon's file may come and go meanwhile
            OWNER_ONLY.apply(path)


@contextmanager
def open_instance(settings: Settings, as_of: str) -> Iterator[dg.DagsterInstance]:
    """The Dagster instance under DAGSTER_HOME, opened holding DAGSTER_HOME's lock for a moment: two
    processes creating its SQLite storage at once fail (both stamp the schema version)."""
    home = prepare_dagster_home(settings)
    lock = lock_folder(home, Holder.this_process("(opening the run history)", as_of), 120, lambda _: None)
    try:
        instance = dg.DagsterInstance.get()
    finally:
        lock.release()
    with instance:
        yield instance
