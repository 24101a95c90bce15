"""CSV extracts: header detection on the first lines, then DuckDB `read_csv` of everything below it.

What belongs here: reading one CSV into the raw table at DuckDB speed and numbering its rows as a
text editor shows them. UTF-8 files are read directly while a second thread hashes them; GB18030
files are transcoded in parts (`encoding.transcode_to_utf8`), each part read while the next is
written. DuckDB keeps a file's row order in the table, so the rows' `rowid`s are consecutive in file
order and give the line numbers (`_number_rows`), corrected for the blank lines DuckDB skips.

Limitation: a quoted field with a line break inside makes the numbers of the rows after it (in that
file) too small by the breaks it holds.
"""

import csv
import io
import os
import queue
import re
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import duckdb
import pyarrow as pa

from sources.column_maps import SourceColumnMap
from sources.encoding import (
    HEAD_BYTES,
    DecodeFailure,
    FileScan,
    decode_head,
    detect_encoding,
    find_blank_lines,
    scan_file,
    transcode_to_utf8,
)
from sources.header import SCAN_ROWS, HeaderMatch, find_header
from sources.raw_table import FileReport, RawTable, sql_text
from sources.xlsx_reader import ZIP_MAGIC

_DELIMITERS = (",", "\t", ";")
_MEMORY_DIR = "/dev/shm"  # a RAM file system on Linux: transcoded parts never touch the disk
_PARTS_AHEAD = 2
_REEXPORT = "Re-export it as UTF-8 or GB18030 CSV, or as .xlsx."


@dataclass(frozen=True)
class _Layout:
    """Where a CSV's header is and how its fields are separated."""

    header: HeaderMatch
    header_line: int  # 1-based; DuckDB skips this many lines (title rows, blank lines, header)
    width: int  # fields in the header row
    delimiter: str


def read_csv(raw: RawTable, path: Path, file: str) -> FileReport:
    """Read a CSV into the raw table and report it; SourceReadError when it cannot be read as it is."""
    with open(path, "rb") as handle:
        head = handle.read(HEAD_BYTES)
    if head.startswith(ZIP_MAGIC):
        raise raw.error(file, "the file is an Excel workbook named .csv. Rename it to .xlsx, then rerun.")
    encoding = detect_encoding(head)
    if encoding is None:
        raise raw.error(file, f"the file is not in a supported encoding (UTF-8 or GB18030). {_REEXPORT}")
    rows, line_numbers, delimiter, header = _first_rows(
        decode_head(head, encoding, complete=len(head) < HEAD_BYTES), raw.column_map
    )
    if header is None and not any(cell.strip() for row in rows for cell in row):
        scan = scan_file(path)  # an empty file: nothing to read
        return FileReport(file, scan.sha256, scan.size_bytes, encoding)
    hint = f"Read as {encoding}, the file may be in another encoding. {_REEXPORT} "
    header = raw.check_header(file, None, header, hint)
    layout = _Layout(header, line_numbers[header.index], len(rows[header.index]), delimiter)
    if encoding == "gb18030":
        scan, inserted = _insert_transcoded(raw, path, file, layout)
    else:
        with ThreadPoolExecutor(max_workers=1) as pool:  # hash on the second core while DuckDB reads
            scanning = pool.submit(scan_file, path)
            inserted = _insert_part(raw, path, file, layout, first_line=1)
            scan = scanning.result()
    blank_lines = []
    if inserted != scan.lines - layout.header_line:  # DuckDB skipped blank lines (or read quoted breaks)
        blank_lines = [line for line in find_blank_lines(path) if line > layout.header_line]
    _number_rows(raw, file, layout.header_line, blank_lines)
    return FileReport(
        file, scan.sha256, scan.size_bytes, encoding, header_row={"": layout.header_line},
        rows_read=inserted, rows_skipped_blank=len(blank_lines), unmapped_columns=header.unmapped,
    )  # fmt: skip


def _first_rows(
    text: str, column_map: SourceColumnMap
) -> tuple[list[list[str]], list[int], str, HeaderMatch | None]:
    """The first rows split by the delimiter that best reveals a header, their line numbers, the header."""
    best: tuple[list[list[str]], list[int], str, HeaderMatch | None] | None = None
    for delimiter in _DELIMITERS:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        rows: list[list[str]] = []
        line_numbers: list[int] = []  # the line a row ends on, blank lines counted
        for row in islice(reader, SCAN_ROWS):
            rows.append(row)
            line_numbers.append(reader.line_num)
        header = find_header(rows, column_map)
        if best is None or _rank(header, column_map) > _rank(best[3], column_map):
            best = (rows, line_numbers, delimiter, header)
    assert best is not None
    return best


def _rank(header: HeaderMatch | None, column_map: SourceColumnMap) -> tuple[bool, int]:
    """How convincing a header is: a real header first, then the number of known columns."""
    return (header is not None and header.is_header(column_map), len(header.columns) if header else 0)


class _ReadingStopped(Exception):
    """Raised in the transcoding thread when the reading side has failed and stopped taking parts."""


def _insert_transcoded(raw: RawTable, path: Path, file: str, layout: _Layout) -> tuple[FileScan, int]:
    """Transcode a GB18030 file on a second thread; read each UTF-8 part as soon as it is written.

    The parts go to memory (`/dev/shm`) where the system has it, else to the temporary directory; at most
    `_PARTS_AHEAD` wait to be read, so a slow reader never lets the whole file pile up there.
    """
    parts: queue.Queue[tuple[Path, int] | None] = queue.Queue(maxsize=_PARTS_AHEAD)
    stopped = threading.Event()  # the reader failed: the transcoder stops instead of waiting on a full queue

    def offer(item: tuple[Path, int] | None) -> None:
        while not stopped.is_set():
            try:
                return parts.put(item, timeout=0.1)
            except queue.Full:
                continue
        if item is not None:
            raise _ReadingStopped

    def transcode(directory: Path) -> FileScan:
        try:
            return transcode_to_utf8(path, "gb18030", directory, lambda part, line: offer((part, line)))
        finally:
            offer(None)

    inserted = 0
    scratch = _MEMORY_DIR if os.access(_MEMORY_DIR, os.W_OK) else None
    with (
        tempfile.TemporaryDirectory(prefix="aidmatch_csv_", dir=scratch) as directory,
        ThreadPoolExecutor(1) as pool,
    ):
        transcoding = pool.submit(transcode, Path(directory))
        try:
            while (part := parts.get()) is not None:
                inserted += _insert_part(raw, part[0], file, layout, first_line=part[1])
                part[0].unlink()
        except BaseException:
            stopped.set()
            raise
        try:
            return transcoding.result(), inserted
        except DecodeFailure as failure:
            raise raw.error(
                file,
                f"the file is not valid GB18030 from line {failure.line} (mixed encodings?). {_REEXPORT}",
            ) from None


def _insert_part(raw: RawTable, path: Path, file: str, layout: _Layout, first_line: int) -> int:
    """Insert the rows of a file, or of the part of a file starting at `first_line`; `source_row` NULL."""
    skip = max(0, layout.header_line - first_line + 1)  # the title rows and header in this part
    types = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(layout.width))

    # DuckDB's serial CSV reader: the parallel one does not keep file order through an INSERT (seen on
    # files of a few hundred thousand rows), and the row numbers are taken from that order. It also
    # reads quoted line breaks, which the parallel reader refuses.
    relation = (
        f"read_csv({sql_text(str(path))}, header = false, skip = {skip}, delim = {sql_text(layout.delimiter)}, "
        f"quote = '\"', escape = '\"', columns = {{{types}}}, auto_detect = false, null_padding = true, "
        "strict_mode = false, parallel = false)"
    )
    try:
        return raw.insert_rows(relation, file, None, layout.header, layout.width, "NULL")
    except duckdb.Error as error:
        raise _as_read_error(raw, error, file, first_line) from None


def _as_read_error(raw: RawTable, error: duckdb.Error, file: str, first_line: int) -> Exception:
    """A DuckDB CSV error as a SourceReadError; any other DuckDB error (a bug of ours) as it is."""
    message = str(error)
    if "CSV Error" not in message and "Invalid unicode" not in message:
        return error
    return raw.error(file, _problem(message, first_line))


def _problem(duckdb_message: str, first_line: int) -> str:
    """A steward's account of a DuckDB CSV error, without the line content DuckDB quotes."""
    line = re.search(r"CSV Error on Line: (\d+)", duckdb_message)
    where = f" near line {int(line.group(1)) + first_line - 1}" if line else ""
    if "Invalid unicode" in duckdb_message:
        return f"the file is not valid UTF-8{where} (mixed encodings?). {_REEXPORT}"
    return f"the file cannot be parsed as CSV{where} (broken quoting?). {_REEXPORT}"


def _number_rows(raw: RawTable, file: str, header_line: int, blank_lines: list[int]) -> None:
    """Give the rows just inserted their line numbers: from the line after the header, blank lines counted.

    The j-th blank line (0-based) `b` comes before every row whose line, not counting blank lines,
    is at least `b - j`; an ASOF join finds how many come before each row.
    """
    con, table = raw.con, raw.table
    con.execute(
        f"UPDATE {table} SET source_row = (rowid - (SELECT min(rowid) FROM {table} WHERE source_row IS NULL) "
        f"+ {header_line + 1})::INTEGER WHERE source_row IS NULL"
    )
    if not blank_lines:
        return
    shift_from = {line - j: j + 1 for j, line in enumerate(blank_lines)}  # consecutive blanks: the last wins
    con.register(
        "_blank_shifts", pa.table({"threshold": list(shift_from), "shift": list(shift_from.values())})
    )
    try:
        con.execute(
            f"UPDATE {table} SET source_row = {table}.source_row + s.shift FROM ("
            f"  SELECT r.rowid AS row_id, b.shift FROM {table} AS r"
            f"  ASOF JOIN _blank_shifts AS b ON r.source_row >= b.threshold"
            f"  WHERE r.source_file = {sql_text(file)}"
            f") AS s WHERE {table}.rowid = s.row_id"
        )
    finally:
        con.unregister("_blank_shifts")
