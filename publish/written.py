"""An output file as the manifest lists it — its rows, sha256 and size — recorded by what writes it.

Its own small module: the workbook writer (`xlsx_files`) records it without importing the manifest's module,
which reaches the settings and through them the matching engine."""

import hashlib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class FileEntry:
    rows: int | None  # None for a file of no rows (the report, the contract)
    sha256: str
    bytes: int


def file_entry(path: Path, rows: int | None) -> FileEntry:
    """The entry of a file written by another program (DuckDB's CSVs, the report): hashed, streaming."""
    with open(path, "rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    return FileEntry(rows, digest, path.stat().st_size)
