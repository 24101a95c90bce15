"""CSV bytes: encoding detection and the streaming passes over a file (sha256, lines, transcoding).

What belongs here: everything done to a CSV file's bytes, as bytes. Every CSV is split into temporary
UTF-8 parts that DuckDB reads, several at once: DuckDB reads UTF-8 only (GB18030 would need its
`encodings` extension, a download), so a GB18030 file is transcoded on the way; the same pass hashes
the original bytes and counts its lines. Empty lines, which DuckDB skips but row numbers must count,
can be given a space in a part. Parsing CSV is `csv_reader.py`.
"""

import codecs
import hashlib
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from pathlib import Path

from aidmatch.sources.digests import FileStamp, known_sha256

HEAD_BYTES = 1 << 20  # enough for the title rows and the header of any export
CHUNK_BYTES = 1 << 24  # read, hash and decode unit
# CSV files are read by DuckDB in parts of about this size. Fewer, larger parts cost less CPU (each
# read ends in a part-filled row group); a transcoded file has parts half the size, so that reading
# starts sooner beside the transcoder (Python, one core), which is then the slower side.
PART_BYTES = 1 << 26
PIECES_AHEAD = 4  # pieces of a file being transcoded by a pool of processes at once


class DecodeFailure(Exception):
    """The file stops being valid text in its detected encoding at `line` (1-based)."""

    def __init__(self, encoding: str, line: int) -> None:
        super().__init__(f"not valid {encoding} at line {line}")
        self.encoding = encoding
        self.line = line


def detect_encoding(head: bytes) -> str | None:
    """The encoding of a CSV from its first bytes: BOM -> utf-8-sig, valid UTF-8 -> utf-8, else gb18030.

    None when it is none of these: a UTF-16/32 byte-order mark, UTF-16 without a mark (every other byte
    NUL), or bytes that are not GB18030 either. A stray NUL in a cell is text like any other control
    character: staging removes it and flags the row. The head may end inside a character; that is not an
    error.
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or looks_like_utf16(head):
        return None
    for encoding in ("utf-8", "gb18030"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(head, final=False)
        except UnicodeDecodeError:
            continue
        return encoding
    return None


def looks_like_utf16(head: bytes) -> bool:
    """UTF-16 without a byte-order mark: every other byte NUL (ASCII delimiters and digits), the others not."""
    if len(head) < 64:
        return False
    even, odd = head[0::2].count(0), head[1::2].count(0)
    half = len(head) // 2
    return (odd > 0.3 * half and even < 0.05 * half) or (even > 0.3 * half and odd < 0.05 * half)


def decode_head(head: bytes, encoding: str, complete: bool) -> str:
    """The head as text, cut after its last line break unless it is the `complete` file."""
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=complete)
    return text if complete else text[: text.rfind("\n") + 1]


@dataclass
class FileScan:
    """What one pass over a CSV file learnt: digest, size, number of lines (a last unterminated one too)
    and of double quotes (`"` is one byte in UTF-8 and GB18030, never part of another character). The
    digest is not computed again when it is `known` (`digests.py`: the file hashed tonight, unwritten since)."""

    known: str | None = None
    sha256: str = ""
    size_bytes: int = 0
    lines: int = 0
    quotes: int = 0
    _digest: "hashlib._Hash" = field(default_factory=hashlib.sha256, repr=False)
    _ends_with_newline: bool = True

    def feed(self, chunk: bytes) -> None:
        if self.known is None:
            self._digest.update(chunk)
        self.size_bytes += len(chunk)
        self.lines += chunk.count(b"\n")
        self.quotes += chunk.count(b'"')
        self._ends_with_newline = chunk.endswith(b"\n")

    def finish(self) -> "FileScan":
        self.sha256 = self.known or self._digest.hexdigest()
        self.lines += 0 if self._ends_with_newline else 1
        return self


def scan_file(path: Path) -> FileScan:
    """Hash the file and count its lines in one streaming pass."""
    scan = FileScan()
    with open(path, "rb") as source:
        while chunk := source.read(CHUNK_BYTES):
            scan.feed(chunk)
    return scan.finish()


@dataclass(frozen=True)
class CsvPart:
    """A piece of a CSV file as UTF-8: whole lines, from the start of line `first_line` (1-based) of the
    file to a line break outside quotes."""

    path: Path
    first_line: int
    lines: int


def transcode(lines: bytes, encoding: str) -> bytes:
    """Whole lines of a file in `encoding` as UTF-8. Module-level, so that a pool of processes can run it:
    Python's codecs hold the interpreter lock, so only processes decode several pieces of a file at once."""
    return lines.decode(encoding).encode("utf-8")


def _utf8_pieces(
    path: Path, encoding: str, scan: FileScan, pool: Executor | None
) -> Iterator[tuple[bytes, int, int]]:
    """The file as UTF-8, piece by piece in file order, each with the file's count of `"` before it and of
    line breaks up to its end; `scan` is fed the original bytes. A UTF-8 file's pieces are its chunks.
    Another encoding is cut into pieces of whole lines (a line break is one byte in GB18030, never part
    of another character), decoded in `pool` — a few pieces in flight, so memory stays a few chunks — or
    here when there is none. Raises DecodeFailure at the first line that is not valid in `encoding`."""
    with open(path, "rb") as source:
        scan.known = known_sha256(FileStamp.of_status(os.fstat(source.fileno())))  # hashed already?
        if encoding.startswith("utf-8"):
            while chunk := source.read(CHUNK_BYTES):
                quotes = scan.quotes
                scan.feed(chunk)
                yield chunk, quotes, scan.lines
            return
        in_flight: deque[tuple[Future[bytes] | None, bytes, int, int]] = deque()

        def decoded(
            job: Future[bytes] | None, lines: bytes, lines_before: int, quotes: int
        ) -> tuple[bytes, int, int]:
            try:
                text = transcode(lines, encoding) if job is None else job.result()
            except UnicodeDecodeError as error:
                raise DecodeFailure(encoding, lines_before + lines.count(b"\n", 0, error.start) + 1) from None
            return text, quotes, lines_before + lines.count(b"\n")

        rest = b""
        while True:
            chunk = source.read(CHUNK_BYTES)
            if chunk:
                data = rest + chunk
                cut = data.rfind(b"\n") + 1
                lines, rest = data[:cut], data[cut:]
            else:
                lines, rest = rest, b""  # the file's last line, with no line break after it
            if lines:
                before, quotes = scan.lines, scan.quotes
                scan.feed(lines)
                job = pool.submit(transcode, lines, encoding) if pool else None
                in_flight.append((job, lines, before, quotes))
            while in_flight and (len(in_flight) > (PIECES_AHEAD if pool else 0) or not chunk):
                yield decoded(*in_flight.popleft())
            if not chunk:
                return


def split_into_parts(
    path: Path,
    encoding: str,
    directory: Path,
    deliver: Callable[[CsvPart], None],
    pool: Executor | None = None,
) -> FileScan:
    """Copy a CSV file as UTF-8 part files into `directory`, hashing and counting lines on the way.

    Each part holds about PART_BYTES (half that when transcoded) and ends at a line break outside quotes,
    so that the parts can be read one by one, and several at once, while the next is being written:
    `deliver` is called as each is complete. A GB18030 file is transcoded — by the processes of `pool`,
    several pieces at once, when one is given; a UTF-8 one is copied as it is. Text goes to the part
    file as it is read, so a part that grows (a quote left open keeps it from ending) takes room in
    `directory`, not in memory.
    Raises DecodeFailure at the first bytes that are not valid in `encoding`.
    """
    scan = FileScan()
    part_bytes = PART_BYTES if encoding.startswith("utf-8") else PART_BYTES // 2
    first_line, size = 1, 0  # of the part being written
    target = open(directory / "part1.csv", "wb")  # noqa: SIM115 (one part after the other; see finally)
    try:
        for text, quotes_before, lines_so_far in _utf8_pieces(path, encoding, scan, pool):
            cut = text.rfind(b"\n") + 1 if size + len(text) >= part_bytes else 0
            if cut and (quotes_before + text.count(b'"', 0, cut)) % 2 == 0:  # the cut is outside quotes
                target.write(text[:cut])
                target.close()
                # the rest of `text` holds no line break: the part ends on the last line so far
                deliver(CsvPart(Path(target.name), first_line, lines_so_far - first_line + 1))
                first_line = lines_so_far + 1
                target = open(directory / f"part{first_line}.csv", "wb")  # noqa: SIM115
                text = text[cut:]
                size = 0
            target.write(text)
            size += len(text)
    finally:
        target.close()
    scan.finish()
    deliver(CsvPart(Path(target.name), first_line, scan.lines - first_line + 1))
    return scan


def make_empty_lines_visible(part: CsvPart) -> None:
    """Put a space on every empty line of a part file.

    DuckDB's CSV reader skips empty lines, and rows are numbered by counting the rows it reads; a line
    holding a space is read as a row, which the raw table then counts as blank. Line breaks are single
    bytes in UTF-8, never part of another character. (An empty line inside a quoted multi-line cell gets
    the space too.)
    """
    text = part.path.read_bytes()
    if text.startswith((b"\n", b"\r\n")):
        text = b" " + text
    for _ in range(2):  # in a run of line breaks, the first pass marks every other line, the second the rest
        text = text.replace(b"\n\n", b"\n \n").replace(b"\n\r\n", b"\n \r\n")
    part.path.write_bytes(text)
