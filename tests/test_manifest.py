"""manifest.json tells the truth about the run: the folders it used, when it ran, how long each step took,
what it wrote (rows, sha256, bytes of every file) and the verdict of every check.

One real run of the tiny world through `aidmatch.pipelines.cli.main`, given relative --input/--output/--work-dir
from a tmp working directory, so the manifest must resolve them (and not echo the configuration's).
"""

import datetime as dt
import hashlib
import os
from pathlib import Path

import openpyxl
import pytest
from conftest import TINY_AS_OF, read_csv, read_manifest, run_aidmatch, write_tiny_world

from aidmatch.publish.manifest import MANIFEST_VERSION

STEPS = ("ingest", "link_persons", "facts_persons", "build_lists", "published_outputs")


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[Path, dict]:
    base = tmp_path_factory.mktemp("manifest")
    write_tiny_world(base / "elsewhere" / "in")
    before = Path.cwd()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAGSTER_HOME", str(base / "dagster_home"))
        os.chdir(base)
        try:
            code = run_aidmatch(Path("elsewhere/in"), Path("other/out"), Path("scratch/work"), TINY_AS_OF)
        finally:
            os.chdir(before)
    assert code == 0, "the tiny world publishes"
    folder = base / "other" / "out" / TINY_AS_OF.isoformat()
    return base, read_manifest(folder) | {"_folder": folder}


def test_manifest_records_the_absolute_paths_the_run_used(run):
    base, manifest = run
    expected = {
        "input_root": str((base / "elsewhere" / "in").resolve()),
        "output_root": str((base / "other" / "out").resolve()),
        "work_dir": str((base / "scratch" / "work").resolve()),
    }
    assert manifest["manifest_version"] == MANIFEST_VERSION == 2
    assert manifest["paths"] == expected
    assert all(Path(p).is_absolute() for p in manifest["paths"].values())
    for key, path in expected.items():  # the configuration echo does not contradict them
        assert manifest["config"]["paths"][key] == path, key


def test_manifest_times_and_step_seconds(run):
    _, manifest = run
    started = dt.datetime.fromisoformat(manifest["started_at"])
    published = dt.datetime.fromisoformat(manifest["published_at"])
    assert started.utcoffset() is not None and published.utcoffset() is not None, "ISO 8601 with offset"
    assert started <= published
    assert published - started < dt.timedelta(hours=1)
    steps = manifest["steps"]
    assert set(STEPS) <= set(steps), steps
    for key in STEPS:
        assert steps[key]["seconds"] >= 0, (key, steps[key])
    for key in STEPS[:-1]:
        assert steps[key]["status"] == "SUCCESS", (key, steps[key])
    assert sum(s["seconds"] for s in steps.values()) <= (published - started).total_seconds() + 0.01


def _rows_on_disk(path: Path) -> int | None:
    if path.suffix == ".csv":
        return len(read_csv(path)[1])
    if path.suffix in (".html", ".json"):  # the report and the data package: documents, no rows
        return None
    workbook = openpyxl.load_workbook(path)
    return sum(map(_data_rows, workbook.worksheets))


def _data_rows(sheet) -> int:
    """Rows below the frozen title and header rows, less the notes under the table (merged across it)."""
    first = int(sheet.freeze_panes[1:])
    notes = {r.min_row for r in sheet.merged_cells.ranges if r.min_row == r.max_row and r.min_row >= first}
    return sheet.max_row - first + 1 - len(notes)


def test_manifest_lists_every_output_file_with_rows_and_sha256(run):
    _, manifest = run
    folder = manifest["_folder"]
    on_disk = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} - {"manifest.json"}
    outputs = manifest["outputs"]
    assert set(outputs) == on_disk, "every file published is listed, and only those"
    assert any(name.endswith(".xlsx") for name in outputs) and "person_links.csv" in outputs
    assert any(name.startswith("by_street/") for name in outputs), "the street offices' work lists too"
    for name, entry in outputs.items():
        data = (folder / name).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest(), name
        assert entry["bytes"] == len(data), name
        assert entry["rows"] == _rows_on_disk(folder / name), name
    assert outputs["person_links.csv"]["rows"] > 0


def test_manifest_records_every_check_of_the_run(run):
    _, manifest = run
    checks = {(c["asset"], c["check"]): c for c in manifest["checks"]}
    for entry in manifest["checks"]:
        assert set(entry) == {"asset", "check", "passed", "severity", "description"}, entry
        assert entry["severity"] in {"ERROR", "WARN"}, entry
    complete = checks[("raw_dibao", "complete")]
    assert complete["passed"] is True, "the first night has no baseline: complete"
    quarantined = [r for r in read_csv(manifest["_folder"] / "quarantine.csv")[1] if r["source"] == "dibao"]
    row_rules = checks[("staged_dibao", "row_rules")]
    assert row_rules["passed"] is (not quarantined), row_rules
    assert "dibao" in row_rules["description"]
    sources = {"unemployment", "dibao", "disability", "si_persons", "si_contributions"}
    for source in sources:
        for asset, check in ((f"raw_{source}", "files_readable"), (f"staged_{source}", "schema")):
            assert (asset, check) in checks, (asset, check)
