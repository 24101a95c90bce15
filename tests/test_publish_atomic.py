"""OUTPUT/<as-of>/ appears whole or not at all; a failed run leaves the last good output untouched."""

import sys
from pathlib import Path

import pytest

from aidmatch.publish.atomic import publish_atomically, recover_interrupted


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


def test_where_folders_cannot_be_exchanged_the_old_one_is_renamed_aside(tmp_path, monkeypatch):
    monkeypatch.setattr("aidmatch.publish.atomic._exchange", lambda a, b: False)
    publish_atomically(tmp_path, "2026-11-22", _writer({"a.csv": "1"}))
    target = publish_atomically(tmp_path, "2026-11-22", _writer({"a.csv": "2"}))
    assert (target / "a.csv").read_text() == "2"
    assert [p.name for p in tmp_path.iterdir()] == ["2026-11-22"]


def test_published_files_are_owner_only(tmp_path):
    target = publish_atomically(tmp_path, "2026-11-22", _writer({"a.csv": "1"}))
    assert oct(target.stat().st_mode & 0o777) == "0o700"
    assert oct((target / "a.csv").stat().st_mode & 0o777) == "0o600"


def test_recover_restores_a_publication_left_aside_and_removes_the_rest(tmp_path):
    publish_atomically(tmp_path, "2026-11-21", _writer({"a.csv": "kept"}))
    publish_atomically(tmp_path, "2026-11-22", _writer({"a.csv": "last good"}))
    (tmp_path / "2026-11-22").rename(tmp_path / ".2026-11-22.replaced-0000abcd")  # killed between renames
    (tmp_path / ".2026-11-22.incoming-0000abcd").mkdir()
    (tmp_path / ".2026-11-21.replaced-1111abcd").mkdir()  # its target is there: an old copy
    (tmp_path / ".not-ours").mkdir()
    done = recover_interrupted(tmp_path)
    assert len(done) == 3
    assert (tmp_path / "2026-11-22" / "a.csv").read_text() == "last good"
    assert (tmp_path / "2026-11-21" / "a.csv").read_text() == "kept"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".not-ours", "2026-11-21", "2026-11-22"]


@pytest.mark.skipif(sys.platform != "linux", reason="renameat2(RENAME_EXCHANGE) is Linux's")
def test_replacing_a_publication_is_one_exchange_never_two_renames(tmp_path, monkeypatch):
    publish_atomically(tmp_path, "2026-11-22", _writer({"a.csv": "1"}))

    def rename(self, target):
        raise AssertionError("renaming the old folder aside leaves a moment with no publication")

    monkeypatch.setattr(Path, "rename", rename)
    target = publish_atomically(tmp_path, "2026-11-22", _writer({"a.csv": "2"}))
    assert (target / "a.csv").read_text() == "2"
    assert [p.name for p in tmp_path.iterdir()] == ["2026-11-22"]
