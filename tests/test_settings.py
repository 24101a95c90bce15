"""The configuration file is validated once, with errors that name the key."""

import datetime as dt
from pathlib import Path

import pytest

from aidmatch.settings import DEFAULT_CONFIG, ConfigError, load_settings


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


def test_memory_size_must_be_a_size(tmp_path):
    with pytest.raises(ConfigError, match=r"database.memory_limit: 'lots' is not a size"):
        load_settings(_write(tmp_path, "database:\n  memory_limit: lots\n"), environ={})
    assert load_settings(_write(tmp_path, "database:\n  memory_limit: 512 MiB\n"), environ={})


def test_named_column_maps_file_must_exist(tmp_path):
    with pytest.raises(ConfigError, match="paths.column_maps: the file .*missing.yaml does not exist"):
        load_settings(_write(tmp_path, f"paths:\n  column_maps: {tmp_path / 'missing.yaml'}\n"), environ={})


def test_duplicate_yaml_key_is_refused_with_its_line(tmp_path):
    text = "validation:\n  max_quarantine_rate: 0.2\n  max_quarantine_rate: 0.9\n"
    with pytest.raises(ConfigError, match=r"'max_quarantine_rate' is given twice.*line 3"):
        load_settings(_write(tmp_path, text), environ={})


def test_new_sections_are_validated(tmp_path):
    with pytest.raises(ConfigError, match="accept_drop: unknown source"):
        load_settings(_write(tmp_path, "completeness:\n  accept_drop: [dibaoo]\n"), environ={})
    with pytest.raises(ConfigError, match="max_row_drop"):
        load_settings(_write(tmp_path, "completeness:\n  max_row_drop: 1.5\n"), environ={})
    with pytest.raises(ConfigError, match="keep_work_databases"):
        load_settings(_write(tmp_path, "run:\n  keep_work_databases: 0\n"), environ={})
    settings = load_settings(_write(tmp_path, "completeness:\n  accept_drop: [dibao]\n"), environ={})
    assert settings.completeness.accept_drop == ("dibao",)


def test_config_errors_exit_2_with_one_line_before_the_run(tmp_path, capsys, dagster_home):
    from aidmatch.pipelines.cli import main

    config = _write(tmp_path, "database:\n  memory_limit: lots\n")
    code = main(["run", "--input", str(tmp_path), "--output", str(tmp_path / "out"), "--config", str(config)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.count("\n") == 0 and "memory_limit" in err and "Traceback" not in err


def test_alerts_are_off_by_default_and_validated(tmp_path):
    assert not load_settings(DEFAULT_CONFIG, environ={}).alerts.enabled
    text = "alerts:\n  to: [ops@example.org]\n  smtp_host: relay.example.org\n  smtp_port: 25\n"
    alerts = load_settings(_write(tmp_path, text), environ={}).alerts
    assert alerts.enabled and alerts.to == ("ops@example.org",) and not alerts.starttls
    with pytest.raises(ConfigError, match="not an e-mail address"):
        load_settings(_write(tmp_path, "alerts:\n  to: [night operator]\n"), environ={})
    with pytest.raises(ConfigError, match="smtp_port"):
        load_settings(_write(tmp_path, "alerts:\n  to: [ops@example.org]\n  smtp_port: 0\n"), environ={})
    with pytest.raises(ConfigError, match="needs alerts.starttls"):
        load_settings(_write(tmp_path, "alerts:\n  to: [a@b.org]\n  smtp_user: aidmatch\n"), environ={})
    with pytest.raises(ConfigError, match="alerts.ui_url"):
        load_settings(_write(tmp_path, "alerts:\n  ui_url: aidmatch:3000\n"), environ={})


def test_freshness_limits_are_validated(tmp_path):
    settings = load_settings(DEFAULT_CONFIG, environ={})
    assert (settings.freshness.warn_days, settings.freshness.error_days) == (35, 60)
    with pytest.raises(ConfigError, match="greater than freshness.warn_days"):
        load_settings(_write(tmp_path, "freshness:\n  warn_days: 40\n  error_days: 30\n"), environ={})


def test_relative_paths_are_the_configuration_files_folder_and_the_environment_wins(tmp_path, monkeypatch):
    """A deployment's file names its folders relative to itself, wherever the command runs from; the
    shipped defaults relative to the folder the command runs in; AIDMATCH_CONFIG names the file."""
    deployment = tmp_path / "srv"
    deployment.mkdir()
    config = _write(deployment, "paths:\n  input_root: extracts\n  work_dir: /var/tmp/aidmatch\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    settings = load_settings(config, environ={})
    assert settings.paths.input_root == str(deployment / "extracts")
    assert settings.paths.output_root == str(deployment / "output")
    assert settings.paths.work_dir == "/var/tmp/aidmatch"
    assert load_settings(environ={"AIDMATCH_CONFIG": str(config)}).paths.input_root == str(
        deployment / "extracts"
    )
    assert load_settings(environ={}).paths.input_root == str(elsewhere / "input")
    overridden = load_settings(config, environ={"AIDMATCH_INPUT_ROOT": "here"})
    assert overridden.paths.input_root == str(elsewhere / "here")


def test_the_first_as_of_is_a_date(tmp_path):
    assert load_settings(DEFAULT_CONFIG, environ={}).schedule.first_as_of == dt.date(2026, 1, 1)
    quoted = load_settings(_write(tmp_path, "schedule:\n  first_as_of: '2026-03-01'\n"), environ={})
    assert quoted.schedule.first_as_of == dt.date(2026, 3, 1)
    with pytest.raises(ConfigError, match="first_as_of"):
        load_settings(_write(tmp_path, "schedule:\n  first_as_of: soon\n"), environ={})
