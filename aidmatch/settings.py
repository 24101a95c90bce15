"""Run configuration: one commented YAML file, validated once at start-up.

The file in force is `--config FILE`, else the file named by the environment variable AIDMATCH_CONFIG
(what a deployment's services set, see `deploy/`), else the default shipped in this package
(`aidmatch.yaml` beside this module). Relative paths in a file are relative to the folder it is in —
a deployment's folder, as `aidmatch init DIR` lays it out — and those of the shipped default to the
folder the command runs in: never to the installed package.

Each section of the file is a frozen dataclass owned by the part of the product it configures; this
module only reads the file, applies environment overrides for paths, and checks every key and type so
that a typo fails the run at once with a message naming the key — not halfway through the night.
"""

import dataclasses
import datetime as dt
import grp
import os
import re
import types
import typing
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from aidmatch.decisions.settings import VisitSettings
from aidmatch.matching.settings import LinkSettings
from aidmatch.province.settings import ProvinceSettings
from aidmatch.publish.settings import PublishSettings
from aidmatch.rules.settings import RuleSettings
from aidmatch.sources.machine import MachineSettings
from aidmatch.sources.tables import SOURCES as SOURCE_NAMES

DEFAULT_CONFIG = Path(__file__).with_name("aidmatch.yaml")  # shipped in the package: the defaults
CONFIG_ENV = "AIDMATCH_CONFIG"  # names the configuration file of a deployment
# The bureau's time zone: the as-of dates, the 02:00 schedule, the terminal's and the manifest's times.
BUREAU_TIMEZONE = ZoneInfo("Asia/Shanghai")


class ConfigError(ValueError):
    """The configuration file is missing, unreadable, or has an unknown key or a wrong value."""


@dataclass(frozen=True)
class PathSettings:
    """The deployment's folders; absolute once loaded (relative ones are taken from the file's folder)."""

    input_root: str = "input"
    output_root: str = "output"
    work_dir: str = "work"
    # The Dagster run history (DAGSTER_HOME); the environment variable DAGSTER_HOME, when set, wins.
    dagster_home: str = "dagster_home"
    # A province's cities exchange their person index here (`province`): a folder every node sees.
    exchange_dir: str = "exchange"
    column_maps: str | None = None  # None: the column maps shipped in sources/
    # People's filled decision forms (SPEC section 6); None: the folder `decisions` beside the input root.
    decisions_dir: str | None = None


@dataclass(frozen=True)
class ScheduleSettings:
    """When the daemon runs the night, and the first as-of date the job has (its first partition)."""

    # Cron, in the bureau's time zone; each tick runs the as-of date of the day it falls on.
    cron: str = "0 2 * * *"
    # The first as-of date: the UI's partition bars start here, and no run may be for an earlier date.
    first_as_of: dt.date = dt.date(2026, 1, 1)

    def __post_init__(self) -> None:
        if len(self.cron.split()) != 5:
            raise ConfigError(
                f"schedule.cron: {self.cron!r} is not a cron line of five fields, e.g. '0 2 * * *'"
            )


@dataclass(frozen=True)
class ValidationSettings:
    max_quarantine_rate: float = 0.3

    def __post_init__(self) -> None:
        if not 0 <= self.max_quarantine_rate <= 1:
            raise ConfigError("validation.max_quarantine_rate must be between 0 and 1")


# A size as DuckDB takes it: a number and a unit (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB).
MEMORY_SIZE = re.compile(r"^\s*\d+(\.\d+)?\s*(B|[KMGT]i?B)\s*$", re.IGNORECASE)


# The shortest key a work database may be encrypted with (`aidmatch init` writes 43 random characters).
MIN_KEY_CHARS = 16


@dataclass(frozen=True)
class DatabaseSettings:
    # DuckDB's memory ceiling for a run; beyond it DuckDB spills to disk instead of growing.
    memory_limit: str = "3GB"
    # The work databases' encryption key (aidmatch/work_database.py): a file holding it, owner-only
    # (relative to the configuration's folder; `aidmatch init` writes one), or the environment variable
    # holding it — at most one. Neither: the work databases are not encrypted.
    encryption_key_file: str | None = None
    encryption_key_env: str | None = None

    def __post_init__(self) -> None:
        if not MEMORY_SIZE.match(self.memory_limit):
            raise ConfigError(
                f"database.memory_limit: {self.memory_limit!r} is not a size such as 3GB, 512MB or 2GiB"
            )
        if self.encryption_key_file and self.encryption_key_env:
            raise ConfigError(
                "database: name the encryption key once, in encryption_key_file or in encryption_key_env"
            )

    def encryption_key(self, environ: typing.Mapping[str, str] | None = None) -> str | None:
        """The work databases' key, None when the configuration names none; ConfigError when the named file
        or variable is missing, empty, too short, or the file is readable by others than its owner."""
        environ = os.environ if environ is None else environ
        if self.encryption_key_env:
            where = f"database.encryption_key_env: the environment variable {self.encryption_key_env}"
            key = environ.get(self.encryption_key_env, "").strip()
            if not key:
                raise ConfigError(f"{where} is not set: set it to the work databases' key")
        elif self.encryption_key_file:
            where = f"database.encryption_key_file: the file {self.encryption_key_file}"
            path = Path(self.encryption_key_file)
            try:
                mode = path.stat().st_mode
                key = path.read_text(encoding="utf-8").strip()
            except OSError as error:
                raise ConfigError(f"{where} cannot be read ({error.strerror})") from None
            if mode & 0o077:
                raise ConfigError(
                    f"{where} may be read by others than its owner (mode {mode & 0o777:04o}): chmod 600 it"
                )
        else:
            return None
        if len(key) < MIN_KEY_CHARS:
            raise ConfigError(f"{where} holds a key of fewer than {MIN_KEY_CHARS} characters")
        return key


@dataclass(frozen=True)
class IntakeSettings:
    """Limits on what one extract may hold: past them a row is cut and quarantined, or a file refused,
    instead of failing the night or exhausting the machine."""

    # A cell longer than this (characters; Excel's own limit) is cut to it and its row quarantined.
    max_cell_chars: int = 32767
    # An xlsx whose parts unpack to more than this many bytes is refused (a zip bomb, or no extract).
    max_xlsx_uncompressed_bytes: int = 2_000_000_000
    # An xlsx sheet with more cells than this (rows x columns) is refused.
    max_xlsx_cells: int = 50_000_000

    def __post_init__(self) -> None:
        for name in ("max_cell_chars", "max_xlsx_uncompressed_bytes", "max_xlsx_cells"):
            if getattr(self, name) < 1:
                raise ConfigError(f"intake.{name} must be a positive number")


@dataclass(frozen=True)
class CompletenessSettings:
    """SPEC section 2 "Completeness": decisions that rest on the absence of a record need a whole extract."""

    # A source whose rows fall by more than this share against the last published run stops the run.
    max_row_drop: float = 0.2
    # Sources whose drop (or empty extract) the operator has confirmed for the nights this file is in
    # force; `aidmatch run --accept-drop SOURCE` confirms one night. Recorded in the manifest.
    accept_drop: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not 0 <= self.max_row_drop < 1:
            raise ConfigError("completeness.max_row_drop must be at least 0 and below 1")
        unknown = sorted(set(self.accept_drop) - set(SOURCE_NAMES))
        if unknown:
            raise ConfigError(
                f"completeness.accept_drop: unknown source(s) {', '.join(unknown)}; known: {', '.join(SOURCE_NAMES)}"
            )


@dataclass(frozen=True)
class RunSettings:
    """One run at a time, and what a run keeps: the safety of what is written (SPEC section 5)."""

    # A second run on the same output or work folder waits this long for the running one, then exits 1.
    lock_wait_seconds: float = 0.0
    # Work databases (a full copy of every extract) are kept for this many as-of dates, newest first.
    keep_work_databases: int = 7
    # Finished runs older than this many days are removed from the Dagster run history at a run's start.
    keep_run_history_days: int = 400
    # A group that may read the outputs (files 0640, folders 0750); null: owner only (0600 / 0700).
    output_group: str | None = None

    def __post_init__(self) -> None:
        if self.lock_wait_seconds < 0:
            raise ConfigError("run.lock_wait_seconds must not be negative")
        if self.keep_work_databases < 1:
            raise ConfigError("run.keep_work_databases must be at least 1")
        if self.keep_run_history_days < 1:
            raise ConfigError("run.keep_run_history_days must be at least 1")
        if self.output_group is not None:
            _check_group(self.output_group)


@dataclass(frozen=True)
class FreshnessSettings:
    """How old the newest file of a source may be at the as-of date's end (`checks/freshness.py`)."""

    warn_days: int = 35  # monthly extracts: older than this is a WARN naming the file
    error_days: int = 60  # older than this an ERROR (not blocking: a stale extract may still be whole)

    def __post_init__(self) -> None:
        if self.warn_days < 1:
            raise ConfigError("freshness.warn_days must be at least 1")
        if self.error_days <= self.warn_days:
            raise ConfigError("freshness.error_days must be greater than freshness.warn_days")


EMAIL_ADDRESS = re.compile(r"^[^@\s<>,]+@[^@\s<>,]+$")
SMTP_PASSWORD_ENV = "AIDMATCH_SMTP_PASSWORD"


@dataclass(frozen=True)
class AlertSettings:
    """E-mail to the night operator when a run fails or an extract is late (`pipelines/alerts.py`), through
    the bureau's relay.

    Off while `to` is empty (the default). The password, when `smtp_user` is set, is read from the
    environment variable AIDMATCH_SMTP_PASSWORD at sending time: it never sits in this file.
    """

    to: tuple[str, ...] = ()
    sender: str = "aidmatch@localhost"
    smtp_host: str = "localhost"
    smtp_port: int = 25
    starttls: bool = False  # STARTTLS before sending (and before logging in)
    smtp_user: str | None = None  # log in as this user; only over STARTTLS
    timeout_seconds: float = 30.0
    ui_url: str | None = None  # the Dagster UI as the operator opens it: the e-mail links to the run there

    def __post_init__(self) -> None:
        for address in (*self.to, self.sender):
            if not EMAIL_ADDRESS.match(address):
                raise ConfigError(f"alerts: {address!r} is not an e-mail address such as ops@example.org")
        if not self.smtp_host.strip():
            raise ConfigError("alerts.smtp_host must not be empty")
        if not 1 <= self.smtp_port <= 65535:
            raise ConfigError("alerts.smtp_port must be between 1 and 65535")
        if self.smtp_user is not None and not self.starttls:
            raise ConfigError("alerts.smtp_user needs alerts.starttls: true (no password over plain SMTP)")
        if self.timeout_seconds <= 0:
            raise ConfigError("alerts.timeout_seconds must be positive")
        if self.ui_url is not None and not re.match(r"^https?://[^\s/]+", self.ui_url):
            raise ConfigError(
                f"alerts.ui_url: {self.ui_url!r} is not an address such as http://aidmatch.example:3000"
            )

    @property
    def enabled(self) -> bool:
        return bool(self.to)


def _check_group(name: str) -> None:
    """The outputs can be given to a group only if it exists and this user may give files to it."""
    try:
        gid = grp.getgrnam(name).gr_gid
    except KeyError:
        raise ConfigError(f"run.output_group: there is no group {name!r} on this machine") from None
    if os.geteuid() != 0 and gid != os.getegid() and gid not in os.getgroups():
        raise ConfigError(
            f"run.output_group: this user is not a member of group {name!r}, so cannot give it the outputs"
        )


ENV_OVERRIDES = {
    "input_root": "AIDMATCH_INPUT_ROOT",
    "output_root": "AIDMATCH_OUTPUT_ROOT",
    "work_dir": "AIDMATCH_WORK_DIR",
}


@dataclass(frozen=True)
class Settings:
    paths: PathSettings = field(default_factory=PathSettings)
    validation: ValidationSettings = field(default_factory=ValidationSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    intake: IntakeSettings = field(default_factory=IntakeSettings)
    completeness: CompletenessSettings = field(default_factory=CompletenessSettings)
    run: RunSettings = field(default_factory=RunSettings)
    freshness: FreshnessSettings = field(default_factory=FreshnessSettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    machine: MachineSettings = field(default_factory=MachineSettings)
    province: ProvinceSettings = field(default_factory=ProvinceSettings)
    linking: LinkSettings = field(default_factory=LinkSettings)
    rules: RuleSettings = field(default_factory=RuleSettings)
    publish: PublishSettings = field(default_factory=PublishSettings)
    visits: VisitSettings = field(default_factory=VisitSettings)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _coerce(section: str, key: str, annotation: Any, value: Any) -> Any:
    """Check one value against its dataclass annotation; ints are accepted where floats are."""
    allowed = typing.get_args(annotation) if isinstance(annotation, types.UnionType) else (annotation,)
    if value is None and type(None) in allowed:
        return None
    origin = [typing.get_origin(a) or a for a in allowed]
    if float in origin and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tuple in origin and isinstance(value, list):
        return tuple(value)
    if dt.date in origin and isinstance(value, str):  # quoted in the file: '2026-01-01'
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise ConfigError(f"{section}.{key}: {value!r} is not a date such as 2026-01-01") from None
    if any(isinstance(value, t) for t in origin if isinstance(t, type)) and not (
        isinstance(value, bool) and bool not in origin
    ):
        return value
    raise ConfigError(f"{section}.{key}: {value!r} is not a valid {annotation}")


def _section(cls: type, name: str, values: Any) -> Any:
    if values is None:
        return cls()
    if not isinstance(values, dict):
        raise ConfigError(f"section '{name}' must be a mapping of keys to values")
    hints = typing.get_type_hints(cls)
    unknown = sorted(set(values) - set(hints))
    if unknown:
        raise ConfigError(
            f"unknown key(s) in section '{name}': {', '.join(unknown)}; known: {', '.join(hints)}"
        )
    try:
        return cls(**{key: _coerce(name, key, hints[key], value) for key, value in values.items()})
    except ConfigError:
        raise
    except (TypeError, ValueError) as error:
        raise ConfigError(f"section '{name}': {error}") from None


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses a key given twice in one mapping (plain YAML keeps the last silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is given twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def config_path(path: Path | None = None, environ: typing.Mapping[str, str] | None = None) -> Path:
    """The configuration file in force: `path` (--config), else AIDMATCH_CONFIG, else the shipped default."""
    environ = os.environ if environ is None else environ
    if path is not None:
        return path
    return Path(environ[CONFIG_ENV]) if environ.get(CONFIG_ENV) else DEFAULT_CONFIG


def _absolute_paths(paths: PathSettings, base: Path, overrides: dict[str, str]) -> PathSettings:
    """The folders as absolute paths: the file's relative to `base`, the environment's to the current folder."""
    values = {
        f.name: getattr(paths, f.name)
        for f in dataclasses.fields(paths)
        if getattr(paths, f.name) is not None
    }
    absolute = {key: str((base / value).resolve()) for key, value in values.items()}
    absolute |= {key: str(Path(value).resolve()) for key, value in overrides.items()}
    return dataclasses.replace(paths, **absolute)


def _check_paths(settings: Settings, path: Path, environ: typing.Mapping[str, str]) -> None:
    """Files the configuration names must exist now, not when a step reaches for them mid-run; the work
    databases' key too."""
    column_maps = settings.paths.column_maps
    if column_maps is not None and not Path(column_maps).is_file():
        raise ConfigError(f"paths.column_maps: the file {column_maps} does not exist (named in {path})")
    settings.database.encryption_key(environ)


def load_settings(path: Path | None = None, environ: typing.Mapping[str, str] | None = None) -> Settings:
    """Read and validate the configuration file in force (`config_path`); the environment overrides paths.

    Every folder comes back absolute: relative paths are taken from the file's own folder (from the
    current folder for the shipped default and for the environment's overrides).
    """
    environ = os.environ if environ is None else environ
    path = config_path(path, environ)
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader) or {}
    except OSError as error:
        raise ConfigError(f"cannot read configuration file {path}: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise ConfigError(
            f"configuration file {path} is not valid YAML: {' '.join(str(error).split())}"
        ) from None
    if not isinstance(document, dict):
        raise ConfigError(
            f"configuration file {path} must be a mapping of sections, not {type(document).__name__}"
        )
    sections = {f.name: f.type for f in dataclasses.fields(Settings)}
    hints = typing.get_type_hints(Settings)
    unknown = sorted(set(document) - set(sections))
    if unknown:
        raise ConfigError(f"unknown section(s) in {path}: {', '.join(unknown)}; known: {', '.join(sections)}")
    settings = Settings(**{name: _section(hints[name], name, document.get(name)) for name in sections})
    overrides = {key: environ[var] for key, var in ENV_OVERRIDES.items() if environ.get(var)}
    base = Path.cwd() if path.resolve() == DEFAULT_CONFIG.resolve() else path.resolve().parent
    settings = dataclasses.replace(settings, paths=_absolute_paths(settings.paths, base, overrides))
    if settings.database.encryption_key_file:  # relative to the file's folder, as the paths
        key_file = str((base / settings.database.encryption_key_file).resolve())
        settings = dataclasses.replace(
            settings, database=dataclasses.replace(settings.database, encryption_key_file=key_file)
        )
    _check_paths(settings, path, environ)
    return settings


@cache
def settings_in_force() -> Settings:
    """The configuration the code location is defined with, read once per process: AIDMATCH_CONFIG's file,
    else the shipped default. It decides what the definitions are (the first partition, the schedule,
    the failure e-mail); a run's own folders come from its resource's run config."""
    return load_settings()
