"""CSV extracts: header detection on the first lines, then DuckDB `read_csv` of everything below it.

What belongs here: reading one CSV into the raw table at DuckDB speed and numbering its rows as a
text editor shows them. A thread splits the file into UTF-8 parts (`encoding.split_into_parts`,
GB18030 transcoded, by a process per core for a large file) while others (one per core, `machine.py`)
each read a part at a time on their own cursor. Each part is read
by one DuckDB thread and its rows numbered as they come (`row_number() OVER ()`), from the line the
part starts on: the number is computed, never taken from the order rows end up in the table (a
parallel insert does not keep file order). A part that yields fewer rows than it has lines has empty
lines, which DuckDB skips, or quoted fields with line breaks: it is read again with a space on its empty
lines, and each row numbered after the line breaks inside the fields of the rows before it.
"""

import csv
import io
import multiprocessing
import os
import queue
import re
import shutil
import tempfile
import threading
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from itertools import islice
from pathlib import Path

import duckdb

from aidmatch.sources.column_maps import SourceColumnMap
from aidmatch.sources.encoding import (
    CHUNK_BYTES,
    HEAD_BYTES,
    PART_BYTES,
    PIECES_AHEAD,
    CsvPart,
    DecodeFailure,
    FileScan,
    decode_head,
    detect_encoding,
    make_empty_lines_visible,
    scan_file,
    split_into_parts,
)
from aidmatch.sources.header import SCAN_ROWS, HeaderMatch, find_header
from aidmatch.sources.machine import MachineSettings
from aidmatch.sources.raw_table import FileReport, RawTable, sql_text
from aidmatch.work_database import cursor as work_cursor

_DELIMITERS = (",", "\t", ";")
# The header is found in the file's head (HEAD_BYTES); Python's csv module refuses a field past 128 kB, and
# a long cell in the first rows must not stop a night: no field of the head can be longer than the head.
csv.field_size_limit(max(csv.field_size_limit(), HEAD_BYTES))
_PARTS_AHEAD = 2  # parts written and waiting for a reader
_REEXPORT = "Re-export it as UTF-8 or GB18030 CSV, or as .xlsx."
# The longest line DuckDB reads (its default, 2 MB, fails a whole night on one 3 MB cell). A line is
# never split between parts, so a part holds at least one whole line: allowing a line as long as a part
# costs no memory a part does not already take, and a cell past `intake.max_cell_chars` is cut and its
# row quarantined in staging, with the rows around it read. Only a line longer than a part (in practice
# a quote never closed, swallowing the rest of the file) is refused.
MAX_LINE_BYTES = PART_BYTES
# DuckDB 1.4 reads a file in buffers of 16 × max_line_size unless told: 1 GiB a reader at a 64 MB line,
# four readers past a 3GB memory_limit (a 200,000-person world's contributions failed to allocate). A
# buffer as large as the longest line is all the reader needs (it carries a line across buffers).
BUFFER_BYTES = MAX_LINE_BYTES
_SCRATCH_PREFIX = "aidmatch_csv_pid"  # then the PID of the process writing the parts, "_", a random tail
_SCRATCH_NAME = re.compile(rf"^{_SCRATCH_PREFIX}(\d+)_")


@dataclass(frozen=True)
class _Layout:
    """Where a CSV's header is and how its fields are separated."""

    header: HeaderMatch
    header_line: int  # 1-based; DuckDB skips this many lines (title rows, blank lines, header)
    width: int  # fields in the header row
    delimiter: str


def read_csv(
    raw: RawTable, path: Path, file: str, machine: MachineSettings, may_be_notes: bool = False
) -> FileReport:
    """Read a CSV into the raw table and report it; SourceReadError when it cannot be read as it is.

    `machine` says how many parts are read at once and where they are written.

    `may_be_notes`: the file is a `.txt`, which may hold notes rather than an export; one with no header
    and no delimited table in its first lines is reported as ignored, like a sheet of notes.
    """
    with open(path, "rb") as handle:
        head = handle.read(HEAD_BYTES)
    encoding = detect_encoding(head)
    if encoding is None:
        raise raw.error(file, f"the file is not in a supported encoding (UTF-8 or GB18030). {_REEXPORT}")
    rows, line_numbers, delimiter, header = _first_rows(
        decode_head(head, encoding, complete=len(head) < HEAD_BYTES), raw.column_map
    )
    if header is None and not any(cell.strip() for row in rows for cell in row):
        scan = scan_file(path)  # an empty file: nothing to read
        return FileReport(file, scan.sha256, scan.size_bytes, encoding)
    if may_be_notes and not (header and header.is_header(raw.column_map)) and not _tabular(rows):
        scan = scan_file(path)
        note = "a text file with no header and no table in its first lines (notes?)"
        return FileReport(file, scan.sha256, scan.size_bytes, "", status="ignored", reason=note)
    hint = f"Read as {encoding}, the file may be in another encoding. {_REEXPORT} "
    header = raw.check_header(file, None, header, hint)
    layout = _Layout(header, line_numbers[header.index], len(rows[header.index]), delimiter)
    scan, inserted = _insert_parts(raw, path, file, encoding, layout, machine)
    if scan.quotes % 2:
        _check_quotes_closed(raw, file)
    return FileReport(
        file, scan.sha256, scan.size_bytes, encoding, header_row={"": layout.header_line},
        rows_read=inserted, unmapped_columns=header.unmapped,
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


def _tabular(rows: list[list[str]]) -> bool:
    """Some row has two or more non-empty fields: the file holds a table, not notes."""
    return any(sum(1 for cell in row if cell.strip()) >= 2 for row in rows)


def _rank(header: HeaderMatch | None, column_map: SourceColumnMap) -> tuple[bool, int]:
    """How convincing a header is: a real header first, then the number of known columns."""
    return (header is not None and header.is_header(column_map), len(header.columns) if header else 0)


class _ReadingStopped(Exception):
    """Raised in the splitting thread when a reader has failed and the parts are no longer taken."""


def _insert_parts(
    raw: RawTable, path: Path, file: str, encoding: str, layout: _Layout, machine: MachineSettings
) -> tuple[FileScan, int]:
    """Split the file into parts on one thread; insert each part as soon as it is written, one per core.

    The parts go to memory (`machine.memory_dir`) where it has room, else to the temporary directory;
    at most `_PARTS_AHEAD` wait to be read, so slow readers never let the whole file pile up there. When a
    reader fails, the other reader and the splitter stop.
    """
    parts: queue.Queue[CsvPart | None] = queue.Queue(maxsize=_PARTS_AHEAD)
    stopped = threading.Event()  # a reader failed: the others stop instead of waiting on the queue

    def offer(item: CsvPart | None) -> None:
        while not stopped.is_set():
            try:
                return parts.put(item, timeout=0.1)
            except queue.Full:
                continue
        if item is not None:
            raise _ReadingStopped

    def take() -> CsvPart | None:
        """The next part; None when the parts are done or a reader has failed."""
        while not stopped.is_set():
            try:
                return parts.get(timeout=0.1)
            except queue.Empty:
                continue
        return None

    def split(directory: Path) -> FileScan:
        try:
            with _transcoders(encoding, path.stat().st_size, readers) as pool:
                return split_into_parts(path, encoding, directory, offer, pool)
        finally:
            for _ in range(readers):
                offer(None)

    def read_parts() -> int:
        inserted = 0
        cursor = work_cursor(raw.con)  # on the work database, encrypted or not
        try:
            reader = replace(raw, con=cursor)
            while (part := take()) is not None:
                inserted += _insert_part(reader, part, file, layout)
                part.path.unlink()
        except BaseException:
            stopped.set()
            raise
        finally:
            cursor.close()
        return inserted

    readers = machine.workers
    with (
        tempfile.TemporaryDirectory(
            prefix=f"{_SCRATCH_PREFIX}{os.getpid()}_", dir=_scratch_dir(machine.memory_dir, readers)
        ) as directory,
        ThreadPoolExecutor(1 + readers) as pool,
    ):
        splitting = pool.submit(split, Path(directory))
        reading = [pool.submit(read_parts) for _ in range(readers)]
        inserted = sum(reader.result() for reader in reading)
        try:
            return splitting.result(), inserted
        except DecodeFailure as failure:
            raise raw.error(
                file,
                f"the file is not valid GB18030 from line {failure.line} (mixed encodings?). {_REEXPORT}",
            ) from None


def _transcoders(encoding: str, size: int, cores: int) -> AbstractContextManager[Executor | None]:
    """Processes that decode the pieces of a large GB18030 file in parallel, one per core: Python's codec
    holds the interpreter lock, so threads would decode one piece at a time (and stall the normalizers of
    the other source being staged). None for UTF-8, a file of a few pieces, or one core."""
    if encoding.startswith("utf-8") or size <= PIECES_AHEAD * CHUNK_BYTES or cores < 2:
        return nullcontext()
    # Forked: the workers run the codec and nothing else, so the threads of this process are no concern,
    # whereas a spawned worker would first run the main module of whatever program reads the file.
    return ProcessPoolExecutor(cores, mp_context=multiprocessing.get_context("fork"))


def remove_abandoned_parts(memory_dir: str | None) -> list[str]:
    """Remove the part folders of processes that are gone (killed while reading); their names, one each.

    A part folder is named after the process that writes it, so a folder whose process no longer
    exists on this machine is nobody's: the parts are copies of an extract's rows. A folder gone between
    the listing and the look (its reader done, another night's start removing it) is passed over.
    """
    removed = []
    for root in {memory_dir or tempfile.gettempdir(), tempfile.gettempdir()}:
        for folder in Path(root).glob(f"{_SCRATCH_PREFIX}*"):
            writer = _SCRATCH_NAME.match(folder.name)
            try:
                owner = folder.lstat().st_uid
            except FileNotFoundError:
                continue
            if writer and owner == os.getuid() and not _process_exists(int(writer[1])):
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder.name)
    return removed


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _scratch_dir(memory_dir: str | None, readers: int) -> str | None:
    """`memory_dir` when it is there, writable and roomy enough; else None (the system's temporary directory).

    Roomy enough: the parts of two files being read at once fit (each: those being read, those waiting,
    the one being written). A container's /dev/shm is often 64 MB.
    """
    if memory_dir is None or not os.access(memory_dir, os.W_OK):
        return None
    needed = 2 * (readers + _PARTS_AHEAD + 1) * PART_BYTES
    return memory_dir if shutil.disk_usage(memory_dir).free >= needed else None


def _insert_part(raw: RawTable, part: CsvPart, file: str, layout: _Layout) -> int:
    """Insert the rows of a part of a file, each with its line number; return how many were inserted."""
    skip = max(0, layout.header_line - part.first_line + 1)  # the title rows and header in this part
    inserted = _insert_rows(raw, part, file, layout, skip, count_breaks=False)
    if inserted < part.lines - skip:  # DuckDB skipped empty lines, or read quoted line breaks
        first_row = part.first_line + skip
        raw.con.execute(
            f"DELETE FROM {raw.table} WHERE source_file = {sql_text(file)} AND source_row >= {first_row} "
            f"AND source_row < {part.first_line + part.lines}"
        )
        make_empty_lines_visible(part)
        inserted = _insert_rows(raw, part, file, layout, skip, count_breaks=True)
    return inserted


def _insert_rows(
    raw: RawTable, part: CsvPart, file: str, layout: _Layout, skip: int, count_breaks: bool
) -> int:
    # One column past the header's: a row with more fields fills it (the rest is dropped), and says so.
    types = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(layout.width + 1))
    # One DuckDB thread reads the part (`parallel = false`), so `row_number()` follows the file. It also
    # reads quoted line breaks, which the parallel reader refuses.
    rows = (
        f"SELECT row_number() OVER () AS _n, * FROM read_csv({sql_text(str(part.path))}, header = false, "
        f"skip = {skip}, delim = {sql_text(layout.delimiter)}, quote = '\"', escape = '\"', "
        f"columns = {{{types}}}, auto_detect = false, null_padding = true, strict_mode = false, "
        f"max_line_size = {MAX_LINE_BYTES}, buffer_size = {BUFFER_BYTES}, parallel = false)"
    )
    line = "_n"  # of the row within the part's data lines
    if count_breaks:  # ... pushed down by the line breaks inside the fields of the rows above it
        breaks = " + ".join(
            f"coalesce(length(c{i}) - length(replace(c{i}, chr(10), '')), 0)" for i in range(layout.width)
        )
        line = (
            f"_n + coalesce(sum({breaks}) OVER (ORDER BY _n ROWS UNBOUNDED PRECEDING EXCLUDE CURRENT ROW), 0)"
        )
    relation = f"(SELECT *, {line} AS _line FROM ({rows}))"
    source_row = f"(_line + {part.first_line + skip - 1})::INTEGER"
    try:
        return raw.insert_rows(
            relation, file, None, layout.header, layout.width, source_row, surplus=f"c{layout.width}"
        )
    except duckdb.Error as error:
        raise _as_read_error(raw, error, file, part.first_line) from None
    except UnicodeDecodeError:  # DuckDB 1.4 quotes a line past max_line_size cut inside a character
        raise raw.error(file, _problem("Maximum line size", part.first_line)) from None


def _check_quotes_closed(raw: RawTable, file: str) -> None:
    """The file has an odd number of double quotes. A stray one inside a field is read as it is; one that
    opens a field and is never closed makes DuckDB read the rest of the file into that field, which then
    holds line breaks: that is refused, naming the row, rather than losing the rows after it."""
    has_break = " OR ".join(f'contains("{key}", chr(10))' for key in raw.column_map.keys)
    (row,) = raw.con.execute(
        f"SELECT max(source_row) FROM {raw.table} WHERE source_file = {sql_text(file)} AND ({has_break})"
    ).fetchall()[0]
    if row is not None:
        raise raw.error(
            file,
            f'a quoted field on line {row} is never closed (the file holds an odd number of "), so the '
            f"rows after it would be read into that field. Close or remove that quote, then rerun.",
        )


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
    if "Maximum line size" in duckdb_message:
        return (
            f"a line{where} is longer than {MAX_LINE_BYTES >> 20} MB (a quote never closed, reading the rest "
            f"of the file into one field?). Close or remove that quote, or split the file, then rerun."
        )
    return f"the file cannot be parsed as CSV{where} (broken quoting?). {_REEXPORT}"
