"""What a source folder holds tonight, as one hash: the fingerprint of its files.

Every entry of `<input>/<source>/` as the readers see it (`folder.list_source_folder`: the files to
read, and those ignored or refused with the reason), each with its path, size and sha256, hashed
together. Two nights whose fingerprints are equal were given byte-identical folders: same paths, same
sizes, same bytes. It is the data version of the observable source asset `files_<source>`
(`assets/files.py`) and the key under which a night's raw table is reused (`aidmatch/reuse.py`).

Hashing a city's extracts costs about a second of CPU per gigabyte. A run hashes each file once: the
observation step and the ingest step of one run (one process) share the digests, each kept with the
file's identity (device, inode, size, modification and change times), which no write to the file
leaves as it was — setting the modification time back changes the change time, which no program sets.
The night keeps them in its work database (`keep_digests`), and the next night, whose database is a copy
of that one, takes them back (`recall_digests`): a file that has not been written to since is not read
again (a department's new delivery is a new file, or a file written to: another identity).
"""

import hashlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb

from aidmatch.sources.folder import list_source_folder

_DIGESTS: dict[tuple[int, ...], str] = {}  # the file's identity (os.stat) -> its sha256, for this process
_RECALLED: dict[
    tuple[int, ...], str
] = {}  # the same, as the night the work database was copied from kept them
_DIGESTS_LOCK = threading.Lock()
_IDENTITY = ("device", "inode", "size", "mtime_ns", "ctime_ns")
FILE_DIGESTS = "file_digests"  # the work database's table of them, kept by the next night's copy


@dataclass(frozen=True)
class Fingerprint:
    """A source folder's entries — (path relative to the input root, status, size, sha256, note) — and
    their hash."""

    source: str
    entries: tuple[tuple[str, str, int, str, str], ...]
    hashed: int = 0  # of the files to read, those whose bytes were read to hash them (the others were known)

    @property
    def digest(self) -> str:
        hashed = hashlib.sha256()
        for entry in self.entries:
            hashed.update("\t".join(map(str, entry)).encode("utf-8") + b"\n")
        return hashed.hexdigest()

    @property
    def files(self) -> int:
        return sum(status == "read" for _, status, *_ in self.entries)

    @property
    def size_bytes(self) -> int:
        return sum(size for _, _, size, _, _ in self.entries)


def file_sha256(path: Path) -> tuple[str, int, bool]:
    """The sha256 and size of the file at `path`, hashed once while the file stays as it was, and whether it
    was hashed now (else known)."""
    status = os.stat(path)
    identity = (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns)
    with _DIGESTS_LOCK:
        known = _DIGESTS.get(identity) or _RECALLED.get(identity)
    hashed = known is None
    if hashed:
        with open(path, "rb") as handle:
            known = hashlib.file_digest(handle, "sha256").hexdigest()
    with _DIGESTS_LOCK:
        _DIGESTS[identity] = known
    return known, status.st_size, hashed


def fingerprint(input_root: Path, source: str, workers: int = 1) -> Fingerprint | None:
    """The fingerprint of `input_root/source/`, its files hashed by `workers` threads; None when the
    folder is missing."""
    if not (input_root / source).is_dir():
        return None
    listing = list_source_folder(input_root, source)
    with ThreadPoolExecutor(max(1, workers)) as pool:  # hashlib lets go of the interpreter lock
        digests = list(pool.map(lambda entry: file_sha256(entry.path), listing.to_read))
    entries = [
        (entry.file, "read", size, digest, f"{entry.kind.value} {entry.note}".strip())
        for entry, (digest, size, _) in zip(listing.to_read, digests, strict=True)
    ]
    entries += [
        (report.file, report.status, report.size_bytes, report.sha256, report.reason)
        for report in (*listing.ignored, *listing.refused)
    ]
    return Fingerprint(source, tuple(sorted(entries)), sum(hashed for *_, hashed in digests))


def recall_digests(con: duckdb.DuckDBPyConnection) -> int:
    """Take the digests a night kept in this work database (`keep_digests`), if any; returns how many."""
    if not con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [FILE_DIGESTS]
    ).fetchone()[0]:
        return 0
    rows = con.execute(f"SELECT {', '.join(_IDENTITY)}, sha256 FROM {FILE_DIGESTS}").fetchall()
    with _DIGESTS_LOCK:
        _RECALLED.update((tuple(row[:-1]), row[-1]) for row in rows)
    return len(rows)


def keep_digests(con: duckdb.DuckDBPyConnection) -> None:
    """Keep the digests of the files this process hashed or took tonight in the work database (those only:
    a file gone since is forgotten)."""
    with _DIGESTS_LOCK:
        rows = [(*identity, digest) for identity, digest in _DIGESTS.items()]
    con.execute(
        f"CREATE OR REPLACE TABLE {FILE_DIGESTS} (device UBIGINT, inode UBIGINT, size UBIGINT, mtime_ns BIGINT, "
        "ctime_ns BIGINT, sha256 VARCHAR)"
    )
    if rows:
        con.executemany(f"INSERT INTO {FILE_DIGESTS} VALUES (?, ?, ?, ?, ?, ?)", rows)
