"""Every file accounted for, end to end: a file moved into a subfolder or renamed .txt is read as before.

The bug this guards against: a subfolder was listed as "not a file" and its 44–48 registrations were
silently not read, so the lists changed without a word. Real generated extracts, real `aidmatch run`s.
"""

import re
import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import HEADERS, LIST_NAMES, WORLD_AS_OF, read_manifest, run_aidmatch, tiny_rows, write_csv_file

from aidmatch.checks.source_checks import files_readable_result
from aidmatch.settings import IntakeSettings
from aidmatch.sources.column_maps import load_column_maps
from aidmatch.sources.readers import SourceReadError, read_source

AS_OF = WORLD_AS_OF.isoformat()
# old path -> new path, relative to the input root
MOVES = {
    "unemployment/西城区.csv": "unemployment/补报/西城区.csv",
    "unemployment/2026年6月/海淀区.csv": "unemployment/2026年6月/海淀区.txt",
}


def _run(base: Path, input_dir: Path, capsys) -> tuple[Path, str]:
    assert run_aidmatch(input_dir, base / "output", base / "work", AS_OF) == 0, capsys.readouterr().err
    return base / "output" / AS_OF, capsys.readouterr().out


def _list_text(folder: Path, name: str, renames: dict[str, str]) -> str:
    text = (folder / f"{name}.csv").read_text(encoding="utf-8")
    for new, old in renames.items():
        text = text.replace(new, old)
    if name == "person_links":  # a row per record, in no declared order: the rows, whatever their order
        header, *rows = text.splitlines(keepends=True)
        text = header + "".join(sorted(rows))
    return text


def test_moved_and_renamed_files_give_the_same_lists_and_are_listed(
    world: Path, tmp_path: Path, dagster_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before, _ = _run(tmp_path / "before", world / "input", capsys)

    moved = tmp_path / "moved_input"
    shutil.copytree(world / "input", moved)
    for old, new in MOVES.items():
        (moved / new).parent.mkdir(parents=True, exist_ok=True)
        (moved / old).rename(moved / new)
    (moved / "unemployment" / "~$东城区.xlsx").write_bytes(b"\x00lock")
    (moved / "unemployment" / "说明.pdf").write_bytes(b"%PDF-1.4 notes")
    after, terminal = _run(tmp_path / "after", moved, capsys)

    for name in (*LIST_NAMES, "person_links", "quarantine"):
        assert _list_text(after, name, {v: k for k, v in MOVES.items()}) == _list_text(before, name, {}), name

    read_before = {entry["file"]: entry for entry in read_manifest(before)["inputs"]["unemployment"]["files"]}
    files = {entry["file"]: entry for entry in read_manifest(after)["inputs"]["unemployment"]["files"]}
    for old, new in MOVES.items():
        assert files[new]["status"] == "read" and files[new]["rows_read"] == read_before[old]["rows_read"] > 0
    assert files["unemployment/~$东城区.xlsx"]["status"] == "ignored"
    assert "Office lock file" in files["unemployment/~$东城区.xlsx"]["reason"]
    assert "not an extract" in files["unemployment/说明.pdf"]["reason"]

    line = next(line for line in terminal.splitlines() if "unemployment: read" in line)
    assert re.search(r"unemployment: read [\d,]+ rows from 4 files \(2 in a subfolder\), ignored 2 \(", line)
    assert "~$东城区.xlsx: Office lock file" in line and "说明.pdf: not an extract" in line


def _entries(root: Path) -> tuple[list | None, SourceReadError | None]:
    con = duckdb.connect()
    try:
        return read_source(
            con, root, "dibao", load_column_maps()["dibao"], "raw", limits=IntakeSettings()
        ), None
    except SourceReadError as error:
        return None, error


def test_files_readable_counts_every_entry_as_numbers_and_lists_it(tmp_path: Path) -> None:
    folder = tmp_path / "dibao"
    write_csv_file(folder / "2026年6月" / "东城区.csv", HEADERS["dibao"], tiny_rows("dibao"))
    write_csv_file(folder / "西城区.txt", HEADERS["dibao"], tiny_rows("dibao")[:2])
    (folder / "~$西城区.xlsx").write_bytes(b"lock")
    reports, _ = _entries(tmp_path)
    result = files_readable_result("dibao", reports=reports)
    tables = ("per_file", "headers no column map knows")
    metadata = {key: value.value for key, value in result.metadata.items() if key not in tables}
    assert result.passed and metadata == {
        "files_read": 2,
        "files_ignored": 1,
        "files_refused": 0,
        "files_without_rows": 0,
        "rows_read": 7,
    }
    table = result.metadata["per_file"].value.records
    assert [(r.data["file"], r.data["status"]) for r in table] == [
        ("dibao/2026年6月/东城区.csv", "read"),
        ("dibao/~$西城区.xlsx", "ignored"),
        ("dibao/西城区.txt", "read"),
    ]
    assert result.description == (
        "dibao: read 7 rows from 2 files (1 in a subfolder), ignored 1 "
        "(~$西城区.xlsx: Office lock file (the workbook was open when copied))"
    )

    # A district's export that failed: a file with a header at most. Read, and named: the source's total
    # may still pass the completeness rule.
    (folder / "朝阳区.csv").write_bytes(b"")
    write_csv_file(folder / "海淀区.csv", HEADERS["dibao"], [])
    reports, _ = _entries(tmp_path)
    warned = files_readable_result("dibao", reports=reports)
    assert (warned.passed, warned.severity.value, warned.metadata["files_without_rows"].value) == (
        False,
        "WARN",
        2,
    )
    assert warned.description.endswith("; no data rows in 朝阳区.csv, 海淀区.csv (an export that failed?)")
    (folder / "朝阳区.csv").unlink()
    (folder / "海淀区.csv").unlink()

    (folder / "西城区.xlsb").write_bytes(b"x")
    _, error = _entries(tmp_path)
    failed = files_readable_result("dibao", error=error)
    assert not failed.passed and failed.metadata["blocking"].value is True
    assert (failed.metadata["files_refused"].value, failed.metadata["files_ignored"].value) == (1, 1)
    refused = [r.data for r in failed.metadata["per_file"].value.records if r.data["status"] == "refused"]
    assert [r["file"] for r in refused] == ["dibao/西城区.xlsb"] and "save it as .xlsx" in refused[0][
        "reason"
    ]
    assert tiny_rows("dibao")[0][2] not in str(failed.metadata)  # no name in metadata
