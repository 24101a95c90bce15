"""What the night operator sees from `aidmatch run`: timed lines, step durations, --version, --help."""

import re
import sys
from importlib import metadata
from pathlib import Path

import pytest
from conftest import TINY_AS_OF, run_aidmatch, write_tiny_world

from aidmatch.pipelines.cli import main

TIME = re.compile(r"^\d{2}:\d{2}:\d{2} ")
STEPS = ("ingest", "link_persons", "facts_persons", "build_lists", "published_outputs")


def test_a_good_run_times_every_line_and_each_step(tmp_path, dagster_home, capsys):
    code = run_aidmatch(write_tiny_world(tmp_path / "input"), tmp_path / "out", tmp_path / "work", TINY_AS_OF)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    lines = [line for line in captured.out.splitlines() if line.strip()]
    untimed = [line for line in lines if not TIME.match(line)]
    assert lines and not untimed, f"lines without a time: {untimed}"
    for step in STEPS:
        assert any(re.fullmatch(rf"\d\d:\d\d:\d\d ▶ {step}", line) for line in lines), step
        done = [line for line in lines if re.match(rf"\d\d:\d\d:\d\d ✓ {step}\b", line)]
        assert len(done) == 1 and re.search(r"\(\d+(\.\d)? s\)$|\d+ min \d+ s\)$", done[0]), done
    assert any(re.search(r"published \d+ csv files", line) for line in lines), (
        "the assets' own messages are shown"
    )
    hint = lines[-1].split("Dagster UI: ", 1)[1]
    assert hint == f"DAGSTER_HOME={dagster_home} {Path(sys.executable).parent / 'aidmatch'} ui", hint
    assert "make ui" not in captured.out


def test_version_prints_the_package_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith(f"aidmatch {metadata.version('aidmatch')}"), out


def test_run_help_shows_the_exit_codes_and_an_example(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "exit codes:" in out
    for code in ("0  published", "1  the run failed", "2  the command line or the configuration"):
        assert code in out
    assert "aidmatch run --input /srv/aidmatch/input --output /srv/aidmatch/output --as-of 2026-11-22" in out
    assert "Asia/Shanghai" in out
