"""Nights that reuse what did not change, and the same extracts giving the same bytes.

Two chains of real `aidmatch run` nights on the small generated world, each with its own output, work
folder and Dagster run history:
- `reusing`: day D, then D+1 on the same files (everything reused), then D+2 with one si_persons file
  changed (that source read and staged again, linking done again, the other sources reused);
- `full`: the same three nights with `--full`.
Every published file of one chain is compared with the other's, byte for byte (the manifest aside: it
holds the run id and the times; the report's run id line aside). Day D of both chains is two full nights
on the same extracts.
"""

import contextlib
import datetime as dt
import errno
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from aidmatch.checks.stage_source import stage_source
from aidmatch.code_versions import code_version, module_files
from aidmatch.matching.link import HEAD_COLUMNS, PROFILE_COLUMNS, link_input_digest, link_persons
from aidmatch.publish.carried import (
    LINKED_VERSION_KEY,
    carried_from,
    carry_verified,
    record_stamp,
    recorded_stamp,
    still_stamped,
)
from aidmatch.publish.written import file_entry
from aidmatch.resources import database_config
from aidmatch.reuse import Built, decide, forget, record, seed_work_database
from aidmatch.settings import Settings
from aidmatch.work_database import STORAGE_VERSION, WorkDatabaseOutdated, open_work_database, storage_version
from tests.conftest import TINY_AS_OF, WORLD_AS_OF, citizen_id, run_aidmatch, write_tiny_world
from tests.test_row_safety import raw_table

NIGHTS = [WORLD_AS_OF + dt.timedelta(days=n) for n in range(3)]
CHANGED_FILE = "si_persons"  # the folder of the file changed on the third night
SOURCES = ("unemployment", "dibao", "disability", "si_persons", "si_contributions")


@dataclass
class Chain:
    base: Path
    terminal: list[str]

    @property
    def output(self) -> Path:
        return self.base / "output"

    def manifest(self, night: dt.date) -> dict:
        return json.loads((self.output / night.isoformat() / "manifest.json").read_text(encoding="utf-8"))

    def data_versions(self, asset: str) -> list[str]:
        """The data version of each materialization (observation, for a source asset) of `asset`, oldest first."""
        with dg.DagsterInstance.from_config(str(self.base / "dagster_home")) as instance:
            kind = dg.DagsterEventType.ASSET_OBSERVATION if asset.startswith("files_") else None
            records = instance.fetch_observations(dg.AssetKey(asset), limit=20).records if kind else (
                instance.fetch_materializations(dg.AssetKey(asset), limit=20).records
            )  # fmt: skip
            events = [r.asset_observation if kind else r.asset_materialization for r in records]
        return [event.tags["dagster/data_version"] for event in reversed(events)]

    def check_metadata(self, asset: str, check: str) -> list[dict]:
        """The metadata of each evaluation of the check `check` of `asset`, oldest first."""
        key = dg.AssetCheckKey(dg.AssetKey(asset), check)
        with dg.DagsterInstance.from_config(str(self.base / "dagster_home")) as instance:
            records = instance.event_log_storage.get_asset_check_execution_history(key, limit=20)
            evaluations = [
                record.event.dagster_event.event_specific_data for record in records if record.event
            ]
        return [{name: value.value for name, value in e.metadata.items()} for e in reversed(evaluations)]


def _changed_input(world: Path, base: Path) -> Path:
    """The world's input with one row of one si_persons file changed (a birth date one day on)."""
    changed = base / "input_changed"
    shutil.copytree(world / "input", changed)
    date = re.compile(rb",(19[5-9][0-9])-([01][0-9])-([0-2][0-9]),")
    path = next(p for p in sorted((changed / CHANGED_FILE).glob("*.csv")) if date.search(p.read_bytes()))
    text = path.read_bytes()
    dates = date.findall(text)
    year, month, day = dates[len(dates) // 2]
    old = b"," + b"-".join((year, month, day)) + b","
    new = b"," + b"-".join((year, month, b"%02d" % (int(day) % 27 + 1))) + b","
    path.write_bytes(text.replace(old, new, 1))
    assert path.read_bytes() != (world / "input" / path.relative_to(changed)).read_bytes()
    return changed


def _night(base: Path, folder: Path, night: dt.date, *extra: str) -> str:
    """A night on the extracts of `folder` in `base` (its output, work folder and Dagster run history);
    its terminal. It must end well."""
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(io.StringIO()) as terminal:
        patch.setenv("DAGSTER_HOME", str(base / "dagster_home"))
        code = run_aidmatch(folder, base / "output", base / "work", night, *extra)
    assert code == 0, terminal.getvalue()[-3000:]
    return terminal.getvalue()


def _chain(base: Path, world: Path, changed: Path, *extra: str) -> Chain:
    """The three nights, each night's terminal kept."""
    folders = (world / "input", world / "input", changed)
    return Chain(
        base, [_night(base, folder, night, *extra) for night, folder in zip(NIGHTS, folders, strict=True)]
    )


@pytest.fixture(scope="module")
def chains(world, tmp_path_factory) -> tuple[Chain, Chain]:
    base = tmp_path_factory.mktemp("reuse")
    changed = _changed_input(world, base)
    return _chain(base / "reusing", world, changed), _chain(base / "full", world, changed, "--full")


def _published(folder: Path) -> dict[str, bytes]:
    """Every published file but the manifest, the report's run id line taken out."""
    files = {}
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if path.is_file() and name != "manifest.json":
            content = path.read_bytes()
            if name == "report.html":
                content = re.sub(rb'<p class="meta">run [0-9a-f-]+', b'<p class="meta">run', content)
            files[name] = content
    return files


def _assert_same_files(left: Path, right: Path) -> None:
    mine, theirs = _published(left), _published(right)
    assert sorted(mine) == sorted(theirs)
    assert any(name.endswith(".csv") for name in mine)
    different = [name for name in mine if mine[name] != theirs[name]]
    assert not different, f"{left.name}: not the same bytes as a full night: {different}"


def test_two_full_nights_on_the_same_extracts_give_the_same_bytes(chains):
    reusing, full = chains
    _assert_same_files(reusing.output / NIGHTS[0].isoformat(), full.output / NIGHTS[0].isoformat())


@pytest.mark.parametrize("night", NIGHTS[1:], ids=["unchanged", "one_source_changed"])
def test_a_reusing_night_publishes_what_a_full_night_does(chains, night):
    reusing, full = chains
    _assert_same_files(reusing.output / night.isoformat(), full.output / night.isoformat())


def test_an_unchanged_night_reuses_every_table_and_says_so(chains):
    reusing, _ = chains
    terminal = reusing.terminal[1]
    day = NIGHTS[0].isoformat()
    assert f"the work database starts as a copy of {day}'s" in terminal
    for source in SOURCES:
        assert f"{source} unchanged since {day}: raw and staged tables reused" in terminal
    assert f"unchanged since {day}: linked tables reused" in terminal
    # the facts of the records too; the look-back's contributions are of another month (June, then July)
    assert f"facts_records: reused, built {day}" in terminal
    for unit in ("facts_work", "facts_employers"):
        assert f"{unit}: built (the look-back moved with the as-of month (built for 2026-06))" in terminal
    assert f"facts_persons: built (its inputs, code or configuration changed since {day})" in terminal
    reused = reusing.manifest(NIGHTS[1])["reused"]
    units = {*(f"raw_{s}" for s in SOURCES), *(f"staged_{s}" for s in SOURCES), "linked", "facts_records"}
    assert reused == dict.fromkeys(units, {"built_as_of": day, "copied_from": day})


def test_a_night_of_the_same_month_takes_the_look_back_s_contributions_from_the_night_before(
    chains, tmp_path
):
    """The chain's third night (2 July) built every facts unit again (its linked tables changed); a fourth
    on the same files, in the same month, takes both from it — and writes person_links.csv again from its
    work database where the third night's file, damaged since, is not what that night recorded — and
    publishes what a full night of that date does, file for file (facts_persons kept and brought a day on)."""
    reusing, full = chains
    base = tmp_path / "reusing"
    shutil.copytree(reusing.base, base)
    night, day = NIGHTS[2] + dt.timedelta(days=1), NIGHTS[2].isoformat()
    links = base / "output" / day / "person_links.csv"
    links.write_bytes(links.read_bytes().replace(b",", b";", 1))
    # what validating staged_dibao found, as its ledger row keeps it: reported again, not validated again
    database = base / "work" / day / "aidmatch.duckdb"
    with open_work_database(database, None, database_config(Settings(), database)) as con:
        con.execute(
            "UPDATE reusable_tables SET summary = json_merge_patch(summary, "
            """'{"schema": {"rows_validated": 424242}}') WHERE unit = 'staged_dibao'"""
        )
    changed = reusing.base.parent / "input_changed"
    said = _night(base, changed, night)
    assert f"facts_records: reused, built {day}" in said
    assert f"facts_work: reused, built {day}" in said
    assert f"facts_employers: reused, built {day}" in said
    # and facts_persons of the night before, brought a day on (rules/persons_moved.sql)
    kept = f"facts_persons: kept (built {day}, copied from the work database of {day}); the rows of "
    assert kept in said
    assert "person_links.csv taken" not in said
    written = (base / "output" / night.isoformat() / "person_links.csv").read_bytes()
    assert written == (reusing.output / day / "person_links.csv").read_bytes()
    reused = Chain(base, []).manifest(night)["reused"]
    assert reused["facts_work"] == reused["facts_records"] == {"built_as_of": day, "copied_from": day}
    assert Chain(base, []).check_metadata("staged_dibao", "schema")[-1]["rows_validated"] == 424242
    full_base = tmp_path / "full"
    shutil.copytree(full.base, full_base)
    _night(full_base, changed, night, "--full")
    _assert_same_files(base / "output" / night.isoformat(), full_base / "output" / night.isoformat())


def _resent(changed: Path, published: Path, folder: Path) -> tuple[bytes, bytes]:
    """`folder`: `changed` with one unemployment row re-sent with another mobile number, one that
    `published` (a night's output) shows; nothing else changed. Returns the old number and the new."""
    shutil.copytree(changed, folder)
    shown = b"".join(path.read_bytes() for path in published.glob("*.csv"))
    phone = re.compile(rb",(1[3-9][0-9]{9}),")
    for path in sorted((folder / "unemployment").rglob("*.csv")):
        text = path.read_bytes()
        for old in (m.group(1) for m in phone.finditer(text)):
            if old in shown and text.count(old) == 1:
                new = old[:3] + b"%08d" % ((int(old[3:]) + 1) % 10**8)
                path.write_bytes(text.replace(b"," + old + b",", b"," + new + b",", 1))
                return old, new
    raise AssertionError("no mobile number of the unemployment CSVs is published")


def test_a_source_re_sent_with_other_phone_numbers_is_staged_again_and_links_as_it_did(chains, tmp_path):
    """The records' identities are what the linker reads: a re-sent extract whose rows say the same
    persons leaves the linked tables as they were (and person_links.csv with them), while the facts and
    lists that read its other columns are made again — and the night publishes what a full one does."""
    reusing, full = chains
    night, day = NIGHTS[2] + dt.timedelta(days=1), NIGHTS[2].isoformat()
    resent = tmp_path / "input_resent"
    old, new = _resent(reusing.base.parent / "input_changed", reusing.output / day, resent)
    outputs = {}
    for chain, extra in ((reusing, ()), (full, ("--full",))):
        base = tmp_path / chain.base.name
        shutil.copytree(chain.base, base)
        outputs[chain.base.name] = (base / "output" / night.isoformat(), _night(base, resent, night, *extra))
    folder, said = outputs[reusing.base.name]
    assert "unemployment unchanged since" not in said  # read and staged again
    assert f"unchanged since {day}: linked tables reused" in said
    assert f"person_links.csv taken from {day}: the same linked tables" in said
    # the facts of the person of the one changed row made again, the others' kept
    assert re.search(
        rf"facts_records: kept \(built {day}.*\); the rows of 1 persons of staged_unemployment", said
    )
    assert f"facts_work: reused, built {day}" in said  # the look-back's contributions: not re-sent
    assert re.search(r"facts_employers: kept \(.*\); the rows of 1 persons of facts_records made", said)
    assert "persons the date moved or whose records changed made again" in said
    reused = Chain(tmp_path / reusing.base.name, []).manifest(night)["reused"]
    assert "linked" in reused and "staged_unemployment" not in reused
    _assert_same_files(folder, outputs[full.base.name][0])
    shown = b"".join(path.read_bytes() for path in folder.glob("*.csv"))
    assert new in shown and old not in shown


def test_the_linker_reads_of_a_staged_table_only_what_its_digest_holds(chains, tmp_path):
    """Linked tables are reused while `link_input_digest` holds: with every other column of every staged
    table emptied, the digests are the same and the linker links every record as it did — a column the
    linker began to read without the digest holding it would fail here."""
    reusing, _ = chains
    database = tmp_path / "aidmatch.duckdb"
    shutil.copy(reusing.base / "work" / NIGHTS[0].isoformat() / "aidmatch.duckdb", database)
    linked = ("core_person_links", "core_persons", "core_review_queue", "core_profile_persons")
    with open_work_database(database, None, database_config(Settings(), database)) as con:
        before = {table: con.sql(f"SELECT * FROM {table} ORDER BY ALL").fetchall() for table in linked}
        digests = {source: link_input_digest(con, source) for source in SOURCES}
        for source in SOURCES:
            read = {"source_record", "source_file", "source_sheet", "source_row", *PROFILE_COLUMNS}
            read |= set(HEAD_COLUMNS) if source == "dibao" else set()
            others = [
                name
                for (name,) in con.execute(
                    "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND is_nullable",
                    [f"staged_{source}"],
                ).fetchall()
                if name not in read
            ]
            assert others, source
            con.execute(f"UPDATE staged_{source} SET {', '.join(f'{name} = NULL' for name in others)}")
        assert {source: link_input_digest(con, source) for source in SOURCES} == digests
        link_persons(con, Settings().linking, NIGHTS[0])
        after = {table: con.sql(f"SELECT * FROM {table} ORDER BY ALL").fetchall() for table in linked}
    assert after == before


def test_a_night_in_a_new_process_hashes_only_the_files_written_to_since(tmp_path):
    """A night keeps the digests of the files it read, by their identity, in its work database
    (sources/digests.py); the next night — another process — takes them and reads only the files
    written to since: one written again with the very same bytes has another change time, and is hashed."""
    folder = write_tiny_world(tmp_path / "input")
    output, work, home = tmp_path / "output", tmp_path / "work", tmp_path / "dagster_home"
    _night(tmp_path, folder, TINY_AS_OF)
    rewritten = folder / "dibao" / "东城区.csv"
    rewritten.write_bytes(rewritten.read_bytes())
    night = TINY_AS_OF + dt.timedelta(days=1)
    command = [sys.executable, "-m", "aidmatch.pipelines.cli", "run", "--input", str(folder), "--output"]
    command += [str(output), "--work-dir", str(work), "--as-of", night.isoformat()]
    done = subprocess.run(
        command, env=os.environ | {"DAGSTER_HOME": str(home)}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert "dibao unchanged since" in done.stdout  # the same bytes: its tables reused all the same
    with dg.DagsterInstance.from_config(str(home)) as instance:
        hashed = {
            source: [
                record.asset_observation.metadata["files hashed"].value
                for record in reversed(
                    instance.fetch_observations(dg.AssetKey(f"files_{source}"), limit=5).records
                )
            ]
            for source in SOURCES
        }
    assert hashed == {source: [1, 1 if source == "dibao" else 0] for source in SOURCES}


def test_a_table_built_again_takes_the_room_of_the_one_it_replaces(tmp_path):
    """A night's work database is a copy of the night before's, and the next night copies it whole: the
    tables a night builds again are dropped when their unit is forgotten, so that the new ones are written
    into their room rather than beside them (replaced in place, the file would grow by each)."""
    path = tmp_path / "work.duckdb"
    rows = "SELECT range AS i, md5((range + {0})::VARCHAR) AS s FROM range(1000000)"
    with duckdb.connect(str(path)) as con:
        con.execute(f"CREATE TABLE contributions AS {rows.format(0)}")
        record(con, "staged_x", "v1", "2026-11-22", ["contributions"], {})
        con.execute("CHECKPOINT")
        before = path.stat().st_size
        forget(con, ["staged_x"])
        con.execute(f"CREATE OR REPLACE TABLE contributions AS {rows.format(1)}")
        con.execute("CHECKPOINT")
    assert path.stat().st_size < 1.2 * before


def test_one_changed_source_is_read_again_and_linking_done_again(chains):
    reusing, _ = chains
    terminal = reusing.terminal[2]
    for source in SOURCES:
        said = f"{source} unchanged since {NIGHTS[0].isoformat()}: raw and staged tables reused"
        assert (said in terminal) == (source != CHANGED_FILE), source
    assert "linked tables reused" not in terminal
    reused = reusing.manifest(NIGHTS[2])["reused"]
    assert CHANGED_FILE not in {unit.removeprefix("raw_").removeprefix("staged_") for unit in reused}
    assert "linked" not in reused
    assert reused["raw_dibao"] == {"built_as_of": NIGHTS[0].isoformat(), "copied_from": NIGHTS[1].isoformat()}


def test_an_unchanged_night_takes_person_links_csv_from_the_night_its_linked_tables_come_from(chains):
    reusing, full = chains
    day = NIGHTS[0].isoformat()
    taken = f"person_links.csv taken from {day}: the same linked tables"
    # not even read: the file still has the stamp its night kept in the work database tonight's copies
    assert f"{taken} (its file unchanged since, by its stamp: not read again)" in reusing.terminal[1]
    # linked again (a source changed), or a full night: written from the work database
    assert "person_links.csv taken" not in reusing.terminal[0] + reusing.terminal[2] + "".join(full.terminal)
    linked = [reusing.manifest(night)[LINKED_VERSION_KEY] for night in NIGHTS]
    assert linked[0] == linked[1] != linked[2]
    # and it is the file a full night writes (also checked with every other file above)
    name = "person_links.csv"
    assert (reusing.output / NIGHTS[1].isoformat() / name).read_bytes() == (
        full.output / NIGHTS[1].isoformat() / name
    ).read_bytes()


def _published_links(folder: Path, data_version: str) -> Path:
    """A published night holding a person_links.csv and the manifest recording it."""
    folder.mkdir(parents=True)
    (folder / "person_links.csv").write_text(
        "source,source_record,person_id\ndibao,a#1:2,P1\n", encoding="utf-8"
    )
    entry = file_entry(folder / "person_links.csv", 1)
    manifest = {
        "code_version": "v1",
        "output_schema": {"fingerprint": "f1"},
        LINKED_VERSION_KEY: data_version,
        "outputs": {"person_links.csv": {"rows": 1, "sha256": entry.sha256, "bytes": entry.bytes}},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def test_person_links_csv_is_carried_only_from_the_same_tables_code_and_columns_and_only_unchanged(tmp_path):
    output = tmp_path / "output"
    _published_links(output / "2026-11-21", "dv1")
    linked = Built("linked", "v", "dv1", "2026-11-21", None, ("core_person_links",), {}, "2026-11-21")
    found = carried_from(linked, output, "v1", "f1")
    assert found is not None and found[0] == output / "2026-11-21" / "person_links.csv"
    # linked tonight, other tables, other code, other columns, no such night: not carried
    assert carried_from(replace(linked, copied_from=None), output, "v1", "f1") is None
    assert carried_from(replace(linked, data_version="dv2"), output, "v1", "f1") is None
    assert carried_from(linked, output, "v2", "f1") is None
    assert carried_from(linked, output, "v1", "f2") is None
    assert carried_from(linked, tmp_path / "elsewhere", "v1", "f1") is None
    # the copy is taken when it is what the manifest recorded; a file edited since is not, nothing left
    source, recorded = found
    target = tmp_path / "tonight.csv"
    assert carry_verified(source, target, recorded) == recorded
    assert target.read_bytes() == source.read_bytes()
    assert target.stat().st_ino == source.stat().st_ino  # one file's bytes, not a second copy
    target.unlink()
    source.write_bytes(source.read_bytes().replace(b"P1", b"P2"))
    assert carry_verified(source, target, recorded) is None
    assert not target.exists()


def test_a_published_file_is_taken_unread_only_while_its_stamp_holds(tmp_path):
    path = tmp_path / "person_links.csv"
    path.write_bytes(b"source,source_record\nsi_persons,P1\n")
    with duckdb.connect() as con:
        record_stamp(con, "2026-11-21", path)
        stamp = recorded_stamp(con, "2026-11-21", "person_links.csv")
        assert recorded_stamp(con, "2026-11-22", "person_links.csv") is None
    assert still_stamped(path, stamp)
    assert not still_stamped(path, None) and not still_stamped(tmp_path / "gone.csv", stamp)
    before = path.stat()
    time.sleep(0.05)  # past the clock tick the kernel stamps change times with
    path.write_bytes(b"source,source_record\nsi_persons,P2\n")  # edited in place, the same size ...
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # ... its modification time set back
    assert path.stat().st_mtime_ns == before.st_mtime_ns and path.stat().st_size == before.st_size
    assert not still_stamped(path, stamp)


def test_person_links_csv_is_copied_where_it_cannot_be_linked(tmp_path, monkeypatch):
    source = _published_links(tmp_path / "2026-11-21", "dv1") / "person_links.csv"
    recorded = file_entry(source, 1)

    def cross_device(self, target):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(Path, "hardlink_to", cross_device)
    target = tmp_path / "tonight.csv"
    assert carry_verified(source, target, recorded) == recorded
    assert target.read_bytes() == source.read_bytes()
    assert target.stat().st_ino != source.stat().st_ino


def test_a_full_night_reuses_nothing(chains):
    _, full = chains
    for night in NIGHTS[1:]:
        assert full.manifest(night)["reused"] == {}
    assert "reused" not in "".join(full.terminal)


def test_dagster_records_the_folders_versions_and_the_reused_tables_data_versions(chains):
    reusing, full = chains
    # the folder of the changed file: one version on the first two nights, another on the third
    first, second, third = reusing.data_versions(f"files_{CHANGED_FILE}")
    assert first == second != third
    assert len(set(reusing.data_versions("files_dibao"))) == 1
    # a reused table keeps the data version of the night that built it; one built again gets a new one
    assert len(set(reusing.data_versions("staged_dibao"))) == 1
    assert len(set(reusing.data_versions(f"staged_{CHANGED_FILE}"))) == 2
    assert len(set(reusing.data_versions("core_person_links"))) == 2
    assert len(set(reusing.data_versions("facts_person_records"))) == 2  # with the linked tables
    assert len(set(reusing.data_versions("facts_person_work"))) == 3  # June's, July's, the new links'
    # a full night builds every night anew
    assert len(set(full.data_versions("staged_dibao"))) == 3


# --- the pieces ------------------------------------------------------------------------------------


def test_staging_holds_until_an_id_s_birth_date_is_no_longer_after_the_as_of_date():
    """An ID born the day after the as-of is impossible tonight and valid tomorrow: the staging of tonight
    says it holds until then, and tomorrow's differs."""
    as_of = dt.date(2026, 6, 30)
    born = citizen_id("110101", as_of + dt.timedelta(days=1), 11)
    verdicts = []
    for night in (as_of, as_of + dt.timedelta(days=1)):
        with duckdb.connect() as con:
            raw_table(
                con, "unemployment", ["name", "citizen_id"], [("张三", born), ("李四", "11010519491231002X")]
            )
            result = stage_source(con, "unemployment", as_of=night, max_cell_chars=32767)
            verdicts.append(con.sql("SELECT rule FROM quarantine_unemployment ORDER BY ALL").fetchall())
            if night == as_of:
                assert result.valid_until == as_of + dt.timedelta(days=1)
            else:
                assert result.valid_until is None
    assert verdicts[0] != verdicts[1], "the ID's verdict changes on the day of its birth date"


def test_a_unit_of_facts_is_made_from_the_units_whose_tables_its_sql_reads():
    """The linked tables hold while the records' identities do: a fact is versioned by the staged tables it
    reads too — through the linker's view of the contributions as well — and by the facts it reads."""
    from aidmatch.assets.linking import LINKED_TABLES, LINKED_UNIT
    from aidmatch.assets.lists import NIGHT_FACTS, _inputs
    from aidmatch.rules.facts import FACTS_UNITS, PERSON_EMPLOYERS, PERSON_WORK
    from aidmatch.tables.catalog import FACTS_PERSONS

    units = {f"staged_{s}": (f"staged_{s}", f"quarantine_{s}") for s in SOURCES}
    units |= {f"raw_{s}": (f"raw_{s}",) for s in SOURCES}
    units |= {LINKED_UNIT: LINKED_TABLES, NIGHT_FACTS: (FACTS_PERSONS.name,)}
    units |= {unit.name: tuple(table.name for table in unit.tables) for unit in FACTS_UNITS}
    built = {
        unit: Built(unit, "v", f"{unit}@1", "2026-07-01", None, tables, {}) for unit, tables in units.items()
    }
    read = {unit: {entry.split("=")[0] for entry in _inputs(built, unit, tables)} for unit, tables in (
        (PERSON_WORK.name, PERSON_WORK.tables),
        (PERSON_EMPLOYERS.name, PERSON_EMPLOYERS.tables),
        (NIGHT_FACTS, (FACTS_PERSONS,)),
    )}  # fmt: skip
    assert read[PERSON_WORK.name] == {LINKED_UNIT, "staged_si_contributions"}
    assert read[PERSON_EMPLOYERS.name] == {LINKED_UNIT, "staged_si_contributions", "facts_records"}
    assert read[NIGHT_FACTS] == {LINKED_UNIT, "facts_records", "facts_work", "staged_disability"}


def test_the_ledger_reuses_a_unit_only_at_its_version_and_within_its_nights():
    with duckdb.connect() as con:
        con.execute("CREATE TABLE staged_x (a INTEGER)")
        record(con, "staged_x", "v1", "2026-06-30", ["staged_x"], {"rows": 1}, dt.date(2026, 7, 5))
        assert decide(con, "staged_x", "v1", "2026-07-04").reused.summary == {"rows": 1}
        assert "changed" in decide(con, "staged_x", "v2", "2026-07-04").why
        assert "birth date" in decide(con, "staged_x", "v1", "2026-07-05").why
        assert "later night" in decide(con, "staged_x", "v1", "2026-06-29").why
        assert decide(con, "staged_x", "v1", "2026-07-01", "a full night").reused is None
        con.execute("DROP TABLE staged_x")
        assert "missing" in decide(con, "staged_x", "v1", "2026-07-01").why


def test_a_code_version_follows_the_modules_imported_and_the_configuration():
    staging = [path.as_posix() for path in module_files(["aidmatch.checks.stage_source"])]
    assert any(path.endswith("sources/enum_values.yaml") for path in staging)  # data named beside a module
    assert any(path.endswith("sources/citizen_id.py") for path in staging)  # imported through staging.py
    assert not any("/rules/" in path or "/matching/" in path for path in staging)  # not the lists' SQL
    assert code_version(["aidmatch.checks.stage_source"], 100) != code_version(
        ["aidmatch.checks.stage_source"], 200
    )
    assert code_version(["aidmatch.checks.stage_source"], 100) == code_version(
        ["aidmatch.checks.stage_source"], 100
    )


def test_a_night_does_not_start_from_a_work_database_in_an_older_storage_format(tmp_path):
    """A file keeps the storage format it was created in: a night seeded from an earlier version's work
    database (DuckDB's 1.0 format) would write every later night's tables in that format too. It starts
    empty instead, and says why; a database in tonight's format is taken."""

    def night_database(folder: Path, config: dict) -> Path:
        path = folder / "aidmatch.duckdb"
        folder.mkdir(parents=True)
        with duckdb.connect(str(path), config=config) as con:
            con.execute("CREATE TABLE staged_dibao AS SELECT 1 AS x")
            record(con, "staged_dibao", "v", "2026-11-21", ["staged_dibao"], {})
        return path

    def open_tonight(path: Path) -> duckdb.DuckDBPyConnection:
        return open_work_database(path, None, database_config(Settings(), path))

    older = night_database(tmp_path / "older", {})
    tonight = tmp_path / "tonight" / "aidmatch.duckdb"
    with pytest.raises(WorkDatabaseOutdated, match=r"older storage format \(v1\.0\.0\+\)"):
        seed_work_database(("2026-11-21", older), tonight, open_tonight)
    assert not tonight.exists()

    current = night_database(tmp_path / "current", {"storage_compatibility_version": STORAGE_VERSION})
    units, _, _ = seed_work_database(("2026-11-21", current), tonight, open_tonight)
    assert units == ["staged_dibao"]
    with open_tonight(tonight) as con:
        assert storage_version(con).startswith(STORAGE_VERSION)
