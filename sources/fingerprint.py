"""What a source folder holds tonight, as one hash: the fingerprint of its files.

Every entry of `<input>/<source>/` as the readers see it (`folder.list_source_folder`: the files to
read, and those ignored or refused with the reason), each with its path, size and sha256, hashed
together. Two nights whose fingerprints are equal were given byte-identical folders: same paths, same
sizes, same bytes. It is the data version of the observable source asset `files_<source>`
(`assets/files.py`) and the key under which a night's raw table is reused (`aidmatch/reuse.py`).

Each file is hashed once while it is not written to (`digests.py`).
"""

import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from aidmatch.sources.digests import file_sha256
from aidmatch.sources.folder import list_source_folder


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
