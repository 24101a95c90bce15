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
"""

import hashlib
import json
from pathlib import Path

from aidmatch.publish.written import FileEntry, file_entry
from aidmatch.reuse import Built

LINKED_VERSION_KEY = (
    "linked_data_version"  # manifest.json: the data version person_links.csv was written from
)
_CHUNK = 1 << 20


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


def carry_verified(source: Path, target: Path, recorded: FileEntry) -> FileEntry | None:
    """`source` at `target`, hashed; the entry when it is what was `recorded`, else None with no `target`
    left. The same file, hard-linked, where the file system allows it — a city's person_links.csv is 1.7
    GB, 4.4 s to copy and as much disk again every night — else a copy, hashed while copying. Sharing the
    bytes is safe: no published file is written again after its night (a night publishes a new folder)."""
    try:
        try:
            target.hardlink_to(source)
        except OSError:  # another file system, or one without hard links
            carried = _copy_hashing(source, target, recorded.rows)
        else:
            carried = file_entry(target, recorded.rows)
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
