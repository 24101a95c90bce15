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
from pathlib import Path

import duckdb

FILE_DIGESTS = "file_digests"  # the work database's table of them, which the next night's copy keeps
_IDENTITY = ("device", "inode", "size", "mtime_ns", "ctime_ns")
_DIGESTS: dict[tuple[int, ...], str] = {}  # identity -> sha256: what this process hashed or took
_RECALLED: dict[tuple[int, ...], str] = {}  # the same, as the night before kept them
_LOCK = threading.Lock()


def _identity(status: os.stat_result) -> tuple[int, ...]:
    return (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns)


def known_sha256(status: os.stat_result) -> str | None:
    """The sha256 of the file whose `os.stat` (or `os.fstat` of an open handle) is `status`, when known;
    taken as this run's."""
    identity = _identity(status)
    with _LOCK:
        known = _DIGESTS.get(identity) or _RECALLED.get(identity)
        if known is not None:
            _DIGESTS[identity] = known
    return known


def remember_sha256(status: os.stat_result, sha256: str) -> None:
    """The file whose stat is `status` (taken before its bytes were read) has the digest `sha256`."""
    with _LOCK:
        _DIGESTS[_identity(status)] = sha256


def file_sha256(path: Path) -> tuple[str, int, bool]:
    """The sha256 and size of the file at `path`, and whether it was hashed now (else known)."""
    status = os.stat(path)
    known = known_sha256(status)
    if known is not None:
        return known, status.st_size, False
    with open(path, "rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    remember_sha256(status, digest)
    return digest, status.st_size, True


def recall_digests(con: duckdb.DuckDBPyConnection) -> int:
    """Take the digests a night kept in this work database (`keep_digests`), if any; returns how many."""
    if not con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [FILE_DIGESTS]
    ).fetchone()[0]:
        return 0
    rows = con.execute(f"SELECT {', '.join(_IDENTITY)}, sha256 FROM {FILE_DIGESTS}").fetchall()
    with _LOCK:
        _RECALLED.update((tuple(row[:-1]), row[-1]) for row in rows)
    return len(rows)


def keep_digests(con: duckdb.DuckDBPyConnection) -> None:
    """Keep the digests of the files this process hashed or took tonight in the work database (those only:
    a file gone since is forgotten)."""
    with _LOCK:
        rows = [(*identity, digest) for identity, digest in _DIGESTS.items()]
    con.execute(
        f"CREATE OR REPLACE TABLE {FILE_DIGESTS} (device UBIGINT, inode UBIGINT, size UBIGINT, "
        "mtime_ns BIGINT, ctime_ns BIGINT, sha256 VARCHAR)"
    )
    if rows:
        con.executemany(f"INSERT INTO {FILE_DIGESTS} VALUES (?, ?, ?, ?, ?, ?)", rows)
