"""OUTPUT/<as-of>/ appears whole or not at all; a failed run leaves the last good output untouched."""

import pytest

from publish.atomic import publish_atomically


def _writer(files: dict[str, str]):
    def write(folder):
        for name, text in files.items():
            (folder / name).write_text(text)

    return write


def test_publish_then_replace_whole(tmp_path):
    target = publish_atomically(tmp_path, "2026-11-22", _writer({"a.csv": "1", "old.csv": "x"}))
    assert sorted(p.name for p in target.iterdir()) == ["a.csv", "old.csv"]
    publish_atomically(tmp_path, "2026-11-22", _writer({"a.csv": "2"}))
    assert sorted(p.name for p in target.iterdir()) == ["a.csv"]
    assert (target / "a.csv").read_text() == "2"
    assert [p.name for p in tmp_path.iterdir()] == ["2026-11-22"]


def test_failed_write_keeps_last_good_output(tmp_path):
    publish_atomically(tmp_path, "2026-11-22", _writer({"a.csv": "good"}))

    def failing(folder):
        (folder / "a.csv").write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        publish_atomically(tmp_path, "2026-11-22", failing)
    assert (tmp_path / "2026-11-22" / "a.csv").read_text() == "good"
    assert [p.name for p in tmp_path.iterdir()] == ["2026-11-22"]
