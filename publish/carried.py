"""person_links.csv carried over from the night the linked tables came from, instead of written again.

On a night whose extracts did not change the linked tables are the last night's (`aidmatch/reuse.py`), so
person_links.csv — every record of every source, 355 MB at 200,000 persons — is that night's file byte for
byte, and writing it again from DuckDB costs 1.7 s of CPU for nothing. It is carried over when that
night's manifest says its person_links.csv was written from these very tables (the linked tables' data
version, `LINKED_VERSION_KEY`) by the same code, with the same columns; the file (hard-linked where the
file system allows it, else copied) is hashed and taken only when its bytes and sha256 are what that
manifest recorded — a file edited or damaged since is written again from the work database. Anything
else (a full night, the tables linked tonight, a night that published no manifest of them) writes the
file as every other CSV is written.

Hashing it costs 2.6 s of CPU a night on a city (1.7 GB), ten times that in a province. After a night
publishes, the work database keeps its person_links.csv's stamp (`FileStamp`: device, inode, size and the
modification and change times in ns, taken once the folder is in place). The next night, whose work
database is a copy of that one, takes the file without reading it when its stamp is still that: any
writing to a file changes its change time (ctime), which no program can set back — setting the
modification time back changes it too. Any other stamp (the folder replaced by a re-run, the file edited,
copied or touched) and it is hashed as before.
"""

import hashlib
import json
from dataclasses import astuple
from pathlib import Path

import duckdb

from aidmatch.publish.written import FileEntry, file_entry
from aidmatch.reuse import PUBLISHED_STAMPS as _STAMPS
from aidmatch.reuse import Built
from aidmatch.sources.digests import STAMP_COLUMNS, STAMP_NAMES, FileStamp
from aidmatch.tables.ddl import has_table

LINKED_VERSION_KEY = (
    "linked_data_version"  # manifest.json: the data version person_links.csv was written from
)
_CHUNK = 1 << 20


def record_stamp(con: duckdb.DuckDBPyConnection, as_of: str, path: Path) -> None:
    """Keep the stamp of `path`, published on `as_of`, in the work database (replacing any other)."""
    con.execute(f"CREATE OR REPLACE TABLE {_STAMPS} (as_of VARCHAR, name VARCHAR, {STAMP_COLUMNS})")
    con.execute(
        f"INSERT INTO {_STAMPS} VALUES (?, ?, ?, ?, ?, ?, ?)",
        [as_of, path.name, *astuple(FileStamp.of(path))],
    )


def recorded_stamp(con: duckdb.DuckDBPyConnection, as_of: str, name: str) -> FileStamp | None:
    """The stamp the night `as_of` kept of its published file `name` in this work database, if any."""
    if not has_table(con, _STAMPS):
        return None
    row = con.execute(
        f"SELECT {STAMP_NAMES} FROM {_STAMPS} WHERE as_of = ? AND name = ?",
        [as_of, name],
    ).fetchone()
    return FileStamp(*row) if row else None


def carried_from(
    linked: Built | None, output_root: Path, code_version: str, schema_fingerprint: str
) -> tuple[Path, FileEntry] | None:
    """The published person_links.csv of the night tonight's linked tables were copied from, with its
    manifest entry — when that night wrote it from the same tables with the same code and published
    columns (`tables/contract.py`'s fingerprint); else None."""
    if linked is None or linked.copied_from is None:
        return None
    folder = output_root / linked.copied_from
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        entry = manifest["outputs"]["person_links.csv"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if (
        manifest.get(LINKED_VERSION_KEY) != linked.data_version
        or manifest.get("code_version") != code_version
        or (manifest.get("output_schema") or {}).get("fingerprint") != schema_fingerprint
    ):
        return None
    return folder / "person_links.csv", FileEntry(entry["rows"], entry["sha256"], entry["bytes"])


def still_stamped(path: Path, stamp: FileStamp | None) -> bool:
    """Whether `path` still has the `stamp` its night kept: its bytes are those that night hashed."""
    try:
        return stamp is not None and FileStamp.of(path) == stamp
    except OSError:
        return False


def carry_verified(
    source: Path, target: Path, recorded: FileEntry, stamped: bool = False
) -> FileEntry | None:
    """`source` at `target`, hashed unless it is `stamped` (`still_stamped`); the entry when it is what was
    `recorded`, else None with no `target` left. The same file, hard-linked, where the file system allows it
    — a city's person_links.csv is 1.7 GB, 4.4 s to copy and as much disk again every night — else a copy,
    hashed while copying. Sharing the bytes is safe: no published file is written again after its night (a
    night publishes a new folder)."""
    try:
        try:
            target.hardlink_to(source)
        except OSError:  # another file system, or one without hard links
            carried = _copy_hashing(source, target, recorded.rows)
        else:
            carried = recorded if stamped else file_entry(target, recorded.rows)
    except OSError:
        target.unlink(missing_ok=True)
        return None
    if carried != recorded:
        target.unlink(missing_ok=True)
        return None
    return recorded


def _copy_hashing(source: Path, target: Path, rows: int | None) -> FileEntry:
    digest, size = hashlib.sha256(), 0
    with open(source, "rb") as reading, open(target, "wb") as writing:
        while chunk := reading.read(_CHUNK):
            digest.update(chunk)
            writing.write(chunk)
            size += len(chunk)
    return FileEntry(rows, digest.hexdigest(), size)
