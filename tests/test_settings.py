"""The configuration file is validated once, with errors that name the key."""

from pathlib import Path

import pytest

from pipelines.settings import DEFAULT_CONFIG, ConfigError, load_settings


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "aidmatch.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_config_loads_and_env_overrides_paths():
    settings = load_settings(DEFAULT_CONFIG, environ={"AIDMATCH_INPUT_ROOT": "/data/in"})
    assert settings.paths.input_root == "/data/in"
    assert 0 < settings.validation.max_quarantine_rate <= 1


def test_unknown_key_is_named(tmp_path):
    with pytest.raises(ConfigError, match="max_quarantine_rat"):
        load_settings(_write(tmp_path, "validation:\n  max_quarantine_rat: 0.2\n"), environ={})


def test_unknown_section_is_named(tmp_path):
    with pytest.raises(ConfigError, match="rulez"):
        load_settings(_write(tmp_path, "rulez: {}\n"), environ={})


def test_wrong_type_and_range_are_errors(tmp_path):
    with pytest.raises(ConfigError, match="max_quarantine_rate"):
        load_settings(_write(tmp_path, "validation:\n  max_quarantine_rate: lots\n"), environ={})
    with pytest.raises(ConfigError, match="between 0 and 1"):
        load_settings(_write(tmp_path, "validation:\n  max_quarantine_rate: 3\n"), environ={})


def test_integer_accepted_where_float_expected(tmp_path):
    settings = load_settings(_write(tmp_path, "validation:\n  max_quarantine_rate: 1\n"), environ={})
    assert settings.validation.max_quarantine_rate == 1.0


def test_missing_or_broken_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path / "nope.yaml", environ={})
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(_write(tmp_path, "paths: [unclosed\n"), environ={})
