"""CSV bytes: encoding detection and the streaming passes over a file (sha256, lines, transcoding).

What belongs here: everything done to a CSV file's bytes, as bytes. DuckDB reads UTF-8 only (GB18030
would need its `encodings` extension, a download), so a GB18030 file is transcoded to temporary
UTF-8 parts in large chunks; the same pass hashes the original bytes and counts its lines. Blank
lines, which DuckDB skips but row numbers must count, are located only in a file that has them.
Parsing CSV is `csv_reader.py`.
"""

import codecs
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

HEAD_BYTES = 1 << 20  # enough for the title rows and the header of any export
CHUNK_BYTES = 1 << 24  # read, hash and decode unit
PART_BYTES = 1 << 25  # transcoded GB18030 files are read by DuckDB in parts of about this size


class DecodeFailure(Exception):
    """The file stops being valid text in its detected encoding at `line` (1-based)."""

    def __init__(self, encoding: str, line: int) -> None:
        super().__init__(f"not valid {encoding} at line {line}")
        self.encoding = encoding
        self.line = line


def detect_encoding(head: bytes) -> str | None:
    """The encoding of a CSV from its first bytes: BOM -> utf-8-sig, valid UTF-8 -> utf-8, else gb18030.

    None when it is none of these: a UTF-16/32 byte-order mark or NUL bytes (UTF-16 without a mark),
    or bytes that are not GB18030 either. The head may end inside a character; that is not an error.
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in head:
        return None
    for encoding in ("utf-8", "gb18030"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(head, final=False)
        except UnicodeDecodeError:
            continue
        return encoding
    return None


def decode_head(head: bytes, encoding: str, complete: bool) -> str:
    """The head as text, cut after its last line break unless it is the `complete` file."""
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=complete)
    return text if complete else text[: text.rfind("\n") + 1]


def find_blank_lines(path: Path) -> list[int]:
    """The 1-based numbers of the empty lines ("" or "\\r" between line breaks) of a file.

    A second pass, made only when a file has fewer rows than lines. Line breaks are single bytes in
    UTF-8 and in GB18030, never part of a multi-byte character, so the raw bytes tell.
    """
    blank_lines: list[int] = []
    newlines = 0  # before `chunk`
    tail = b""  # the last bytes of the previous chunk: a blank line may straddle two chunks
    with open(path, "rb") as source:
        while chunk := source.read(CHUNK_BYTES):
            buffer = tail + chunk
            starts = sorted(
                position
                for pattern in (b"\n\n", b"\n\r\n")
                for position in _occurrences(buffer, pattern)
                if position + len(pattern) > len(tail)  # not already seen in the previous chunk
            )
            counted_to, counted = 0, newlines - tail.count(b"\n")
            for position in starts:
                counted += buffer.count(b"\n", counted_to, position + 1)
                counted_to = position + 1
                blank_lines.append(counted + 1)
            newlines += chunk.count(b"\n")
            tail = buffer[-2:]
    return blank_lines


def _occurrences(buffer: bytes, pattern: bytes) -> Iterator[int]:
    position = buffer.find(pattern)
    while position != -1:
        yield position
        position = buffer.find(pattern, position + 1)


@dataclass
class FileScan:
    """What one pass over a CSV file learnt: digest, size, and number of lines (a last unterminated one too)."""

    sha256: str = ""
    size_bytes: int = 0
    lines: int = 0
    _digest: "hashlib._Hash" = field(default_factory=hashlib.sha256, repr=False)
    _ends_with_newline: bool = True

    def feed(self, chunk: bytes) -> None:
        self._digest.update(chunk)
        self.size_bytes += len(chunk)
        self.lines += chunk.count(b"\n")
        self._ends_with_newline = chunk.endswith(b"\n")

    def finish(self) -> "FileScan":
        self.sha256 = self._digest.hexdigest()
        self.lines += 0 if self._ends_with_newline else 1
        return self


def scan_file(path: Path) -> FileScan:
    """Hash the file and count its lines in one streaming pass."""
    scan = FileScan()
    with open(path, "rb") as source:
        while chunk := source.read(CHUNK_BYTES):
            scan.feed(chunk)
    return scan.finish()


def transcode_to_utf8(
    path: Path, encoding: str, directory: Path, deliver: Callable[[Path, int], None]
) -> FileScan:
    """Stream-transcode a file to UTF-8 part files in `directory`, hashing and counting lines on the way.

    Each part (about PART_BYTES) ends at a line break outside quotes, so that DuckDB can read the parts
    one by one while the next is being written: `deliver(part, first_line)` is called as each is
    complete, `first_line` being the 1-based line of the file where the part starts.
    Raises DecodeFailure at the first bytes that are not valid in `encoding`.
    """
    scan = FileScan()
    decoder = codecs.getincrementaldecoder(encoding)()
    pieces: list[bytes] = []  # UTF-8 text of the part being assembled
    first_line, size, quotes = 1, 0, 0  # of that part
    with open(path, "rb") as source:
        while chunk := source.read(CHUNK_BYTES):
            try:
                text = decoder.decode(chunk).encode("utf-8")
            except UnicodeDecodeError as error:
                raise DecodeFailure(encoding, scan.lines + chunk.count(b"\n", 0, error.start) + 1) from None
            scan.feed(chunk)
            cut = text.rfind(b"\n") + 1 if size + len(text) >= PART_BYTES else 0
            if cut and (quotes + text.count(b'"', 0, cut)) % 2 == 0:  # the cut is outside quotes
                deliver(_write_part(directory, first_line, [*pieces, text[:cut]]), first_line)
                first_line = scan.lines + 1  # the rest of `text` holds no line break
                text = text[cut:]
                pieces, size, quotes = [], 0, 0
            pieces.append(text)
            size += len(text)
            quotes += text.count(b'"')
    try:
        pieces.append(decoder.decode(b"", final=True).encode("utf-8"))
    except UnicodeDecodeError:
        raise DecodeFailure(encoding, scan.lines + 1) from None
    deliver(_write_part(directory, first_line, pieces), first_line)
    return scan.finish()


def _write_part(directory: Path, first_line: int, pieces: list[bytes]) -> Path:
    part = directory / f"part{first_line}.csv"
    with open(part, "wb") as target:
        target.writelines(pieces)
    return part
