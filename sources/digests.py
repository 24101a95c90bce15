"""The sha256 of the input files, known by the file's identity so that a file is read to hash it once.

A file's identity is its device, inode, size, modification and change times (`os.stat`): no write to the
file leaves it as it was — setting the modification time back changes the change time, which no program
sets. One run's steps share the digests (the observation of a folder hashes its files, the reader of a
file then takes the digest rather than hashing the bytes it reads again), and a night keeps them in its
work database (`keep_digests`), whose copy the next night takes them back from (`recall_digests`): a file
not written to since is not read to hash it (a department's new delivery is a new file, or a file written
to: another identity). `--full` takes none back. Hashing costs about a second of CPU per gigabyte.
"""

import hashlib
import os
import threading
from dataclasses import astuple, dataclass, fields
from pathlib import Path

import duckdb

from aidmatch.tables.ddl import has_table


@dataclass(frozen=True)
class FileStamp:
    """A file's identity, which tells its bytes unchanged without reading them (see the module's docstring);
    the published person_links.csv is taken by its stamp too (`publish/carried.py`)."""

    device: int
    inode: int
    size: int
    mtime_ns: int
    ctime_ns: int

    @classmethod
    def of_status(cls, status: os.stat_result) -> "FileStamp":
        """From `os.stat` of a path, or `os.fstat` of an open handle."""
        return cls(status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns)

    @classmethod
    def of(cls, path: Path) -> "FileStamp":
        return cls.of_status(os.stat(path))


# The columns a table of stamps keeps one in, in FileStamp's order.
STAMP_COLUMNS = "device UBIGINT, inode UBIGINT, size UBIGINT, mtime_ns BIGINT, ctime_ns BIGINT"
STAMP_NAMES = ", ".join(field.name for field in fields(FileStamp))
FILE_DIGESTS = "file_digests"  # the work database's table of them, which the next night's copy keeps
_DIGESTS: dict[FileStamp, str] = {}  # what this process hashed or took
_RECALLED: dict[FileStamp, str] = {}  # the same, as the night before kept them
_LOCK = threading.Lock()


def known_sha256(stamp: FileStamp) -> str | None:
    """The sha256 of the file whose stamp is `stamp`, when known; taken as this run's."""
    with _LOCK:
        known = _DIGESTS.get(stamp) or _RECALLED.get(stamp)
        if known is not None:
            _DIGESTS[stamp] = known
    return known


def remember_sha256(stamp: FileStamp, sha256: str) -> None:
    """The file whose stamp is `stamp` (taken before its bytes were read) has the digest `sha256`."""
    with _LOCK:
        _DIGESTS[stamp] = sha256


def file_sha256(path: Path) -> tuple[str, int, bool]:
    """The sha256 and size of the file at `path`, and whether it was hashed now (else known)."""
    stamp = FileStamp.of(path)
    known = known_sha256(stamp)
    if known is not None:
        return known, stamp.size, False
    with open(path, "rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    remember_sha256(stamp, digest)
    return digest, stamp.size, True


def recall_digests(con: duckdb.DuckDBPyConnection) -> int:
    """Take the digests a night kept in this work database (`keep_digests`), if any; returns how many."""
    if not has_table(con, FILE_DIGESTS):
        return 0
    rows = con.execute(f"SELECT {STAMP_NAMES}, sha256 FROM {FILE_DIGESTS}").fetchall()
    with _LOCK:
        _RECALLED.update((FileStamp(*row[:-1]), row[-1]) for row in rows)
    return len(rows)


def keep_digests(con: duckdb.DuckDBPyConnection) -> None:
    """Keep the digests of the files this process hashed or took tonight in the work database (those only:
    a file gone since is forgotten)."""
    with _LOCK:
        rows = [(*astuple(stamp), digest) for stamp, digest in _DIGESTS.items()]
    con.execute(f"CREATE OR REPLACE TABLE {FILE_DIGESTS} ({STAMP_COLUMNS}, sha256 VARCHAR)")
    if rows:
        con.executemany(f"INSERT INTO {FILE_DIGESTS} VALUES (?, ?, ?, ?, ?, ?)", rows)
