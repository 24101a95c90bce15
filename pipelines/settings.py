"""Run configuration: one commented YAML file (`config/aidmatch.yaml`), validated once at start-up.

Each section of the file is a frozen dataclass owned by the part of the product it configures; this
module only reads the file, applies environment overrides for paths, and checks every key and type so
that a typo fails the run at once with a message naming the key — not halfway through the night.
"""

import dataclasses
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from matching.settings import LinkSettings
from rules.settings import RuleSettings

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = PROJECT_ROOT / "config" / "aidmatch.yaml"


class ConfigError(ValueError):
    """The configuration file is missing, unreadable, or has an unknown key or a wrong value."""


@dataclass(frozen=True)
class PathSettings:
    input_root: str = "data_samples/sample/input"
    output_root: str = "out"
    work_dir: str = ".work"
    column_maps: str | None = None  # None: the column maps shipped in sources/


@dataclass(frozen=True)
class ValidationSettings:
    max_quarantine_rate: float = 0.3

    def __post_init__(self) -> None:
        if not 0 <= self.max_quarantine_rate <= 1:
            raise ConfigError("validation.max_quarantine_rate must be between 0 and 1")


@dataclass(frozen=True)
class DatabaseSettings:
    # DuckDB's memory ceiling for a run; beyond it DuckDB spills to disk instead of growing.
    memory_limit: str = "3GB"


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
    linking: LinkSettings = field(default_factory=LinkSettings)
    rules: RuleSettings = field(default_factory=RuleSettings)

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
    except (TypeError, ValueError) as error:
        raise ConfigError(f"section '{name}': {error}") from None


def load_settings(path: Path | None = None, environ: typing.Mapping[str, str] | None = None) -> Settings:
    """Read and validate the configuration file; environment variables override the paths."""
    path = path or DEFAULT_CONFIG
    environ = os.environ if environ is None else environ
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as error:
        raise ConfigError(f"cannot read configuration file {path}: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"configuration file {path} is not valid YAML: {error}") from None
    sections = {f.name: f.type for f in dataclasses.fields(Settings)}
    hints = typing.get_type_hints(Settings)
    unknown = sorted(set(document) - set(sections))
    if unknown:
        raise ConfigError(f"unknown section(s) in {path}: {', '.join(unknown)}; known: {', '.join(sections)}")
    settings = Settings(**{name: _section(hints[name], name, document.get(name)) for name in sections})
    overrides = {key: environ[var] for key, var in ENV_OVERRIDES.items() if environ.get(var)}
    return dataclasses.replace(settings, paths=dataclasses.replace(settings.paths, **overrides))
