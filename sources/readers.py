"""Readers: every extract of one source folder (and its subfolders) into one raw DuckDB table of text.

What belongs here: the entry point `read_source` (walk the folder, read what is to be read, and leave
the table behind only when every entry was read or ignored with a note). The pieces: `folder.py`
(which entries are read, ignored or refused), `sniff.py` (what a file's bytes are), `column_maps.py`
(which headers mean what), `header.py` (finding the header row), `raw_table.py` (the table, the
report, blank and footer rows, `SourceReadError`), `workbook_reader.py` (.xlsx and .xls) and
`csv_reader.py` (.csv, .txt), `encoding.py` (CSV bytes). Every value stays text, exactly as read:
normalizing IDs, names and dates is `staging.py` and the normalizers beside it.
"""

from pathlib import Path

import duckdb

from aidmatch.sources.column_maps import SourceColumnMap, load_column_maps
from aidmatch.sources.csv_reader import read_csv
from aidmatch.sources.folder import READ_TYPES, Entry, list_source_folder
from aidmatch.sources.machine import THIS_MACHINE, MachineSettings
from aidmatch.sources.raw_table import FileReport, RawTable, SourceReadError
from aidmatch.sources.sniff import Kind
from aidmatch.sources.workbook_reader import WorkbookLimits, read_workbook

__all__ = ["FileReport", "SourceColumnMap", "SourceReadError", "load_column_maps", "read_source"]


def read_source(
    con: duckdb.DuckDBPyConnection,
    input_root: Path,
    source: str,
    column_map: SourceColumnMap,
    table: str,
    *,
    limits: WorkbookLimits,
    machine: MachineSettings = THIS_MACHINE,
) -> list[FileReport]:
    """Read every extract under `input_root/source/` into the raw table `table` (replaced).

    `limits` are the run's `intake` settings, `machine` its `machine` settings. Returns one report per entry of the folder and its
    subfolders — read or ignored with the reason — sorted by path. Raises SourceReadError, and leaves no
    table behind, when the folder is missing or holds nothing to read, an entry is refused, or a file
    cannot be read as it is; the error carries the reports of every entry accounted for until then.
    """
    raw = RawTable(con, '"' + table.replace('"', '""') + '"', source, column_map)
    folder = input_root / source
    if not folder.is_dir():
        raise raw.error(
            f"{source}/",
            f"the folder is missing from the input directory {input_root}. Create it and put the "
            f"{source} extracts ({READ_TYPES}) in it, then rerun.",
        )
    listing = list_source_folder(input_root, source)
    reports = sorted([*listing.ignored, *listing.refused], key=lambda report: report.file)
    if listing.refused:
        first, *others = sorted(listing.refused, key=lambda report: report.file)
        more = (
            f" Also refused: {', '.join(r.file for r in others)} (see the files_readable check)."
            if others
            else ""
        )
        raise raw.error(first.file, first.reason + more, reports)
    if not listing.to_read:
        raise raw.error(
            f"{source}/",
            f"the folder holds no {READ_TYPES} file. Put the extracts in it, then rerun.",
            reports,
        )
    raw.create()
    try:
        for entry in listing.to_read:
            reports.append(_read_entry(raw, entry, limits, machine))
        raw.finish(reports)
    except SourceReadError as error:
        con.execute(f"DROP TABLE IF EXISTS {raw.table}")
        error.reports = sorted([*reports, _failed(error)], key=lambda report: report.file)
        raise
    except BaseException:
        con.execute(f"DROP TABLE IF EXISTS {raw.table}")
        raise
    return sorted(reports, key=lambda report: report.file)


def _read_entry(raw: RawTable, entry: Entry, limits: WorkbookLimits, machine: MachineSettings) -> FileReport:
    """One file into the raw table; a file that vanished or cannot be opened meanwhile is a read error."""
    try:
        if entry.kind in (Kind.XLSX, Kind.XLS):
            return read_workbook(raw, entry, limits)
        return read_csv(
            raw, entry.path, entry.file, machine, may_be_notes=entry.path.suffix.lower() == ".txt"
        )
    except OSError as error:
        raise raw.error(
            entry.file,
            f"the file cannot be read ({error.strerror}). Check it is in place and readable, then rerun.",
        ) from None


def _failed(error: SourceReadError) -> FileReport:
    """The report of the file a read error is about."""
    return FileReport(error.file, "", 0, "", status="refused", reason=error.message)
