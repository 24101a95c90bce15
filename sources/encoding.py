"""CSV bytes: encoding detection and the one streaming pass over a file (sha256, blank lines, transcode).

What belongs here: everything done to a CSV file's bytes before DuckDB reads it. DuckDB reads UTF-8
only (GB18030 would need its `encodings` extension, a download), so a GB18030 file is transcoded to
a temporary UTF-8 file in large chunks; the same pass hashes the original bytes and notes the blank
lines, which DuckDB skips and which row numbers must still count. Parsing CSV is `readers.py`.
"""

import codecs
import hashlib
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

HEAD_BYTES = 1 << 20  # enough for the title rows and the header of any export
CHUNK_BYTES = 1 << 24

# utf-8-sig: UTF-8 with a byte-order mark; DuckDB skips the mark itself.
SUPPORTED = ("utf-8-sig", "utf-8", "gb18030")


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


@dataclass
class _LineCounter:
    """Counts lines over chunks and records the empty ones ("" or "\\r" between two line breaks)."""

    newlines: int = 0
    blank_lines: list[int] = field(default_factory=list)
    _tail: bytes = b""  # the last bytes of the previous chunk: a blank line may straddle chunks

    def feed(self, chunk: bytes) -> None:
        buffer = self._tail + chunk
        newlines_before_buffer = self.newlines - self._tail.count(b"\n")
        starts: list[int] = []
        for pattern in (b"\n\n", b"\n\r\n"):
            position = buffer.find(pattern)
            while position != -1:
                if position + len(pattern) > len(self._tail):  # not already seen in the previous chunk
                    starts.append(position)
                position = buffer.find(pattern, position + 1)
        counted_to, counted = 0, newlines_before_buffer
        for position in sorted(starts):
            counted += buffer.count(b"\n", counted_to, position + 1)
            counted_to = position + 1
            self.blank_lines.append(counted + 1)
        self.newlines += chunk.count(b"\n")
        self._tail = buffer[-2:]


@dataclass(frozen=True)
class FileScan:
    """What one pass over a CSV file learnt: its digest, size and blank line numbers (1-based)."""

    sha256: str
    size_bytes: int
    blank_lines: list[int]


def scan_file(path: Path, encoding: str, utf8_copy: Path | None = None) -> FileScan:
    """Hash the file and find its blank lines; when `utf8_copy` is given, also transcode it there.

    Raises DecodeFailure when transcoding meets bytes that are not valid in `encoding`.
    """
    digest = hashlib.sha256()
    lines = _LineCounter()
    decoder = codecs.getincrementaldecoder(encoding)()
    size = 0
    with open(path, "rb") as source, open(utf8_copy, "wb") if utf8_copy else nullcontext() as target:
        while chunk := source.read(CHUNK_BYTES):
            digest.update(chunk)
            if utf8_copy is not None:
                try:
                    target.write(decoder.decode(chunk).encode("utf-8"))  # type: ignore[union-attr]
                except UnicodeDecodeError as error:
                    raise DecodeFailure(
                        encoding, lines.newlines + chunk.count(b"\n", 0, error.start) + 1
                    ) from None
            lines.feed(chunk)
            size += len(chunk)
        if utf8_copy is not None:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                raise DecodeFailure(encoding, lines.newlines + 1) from None
    return FileScan(digest.hexdigest(), size, lines.blank_lines)
