"""Readers: every extract of one source folder (and its subfolders) into one raw DuckDB table of text.

What belongs here: the entry point `read_source` (walk the folder, read every file or refuse it by name, and leave
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
from aidmatch.sources.folder import READ_TYPES, Entry, file_digest, list_source_folder
from aidmatch.sources.machine import THIS_MACHINE, MachineSettings
from aidmatch.sources.raw_table import FileReport, RawTable, SourceReadError, sql_text
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
    subfolders — read or ignored with the reason — sorted by path. Every file is read or refused on its own:
    a file that cannot be read as it is (a required column missing, a broken quote) has its rows taken out
    again and is refused by name, and the other files are still read, so that one night names every file a
    steward must fix. Raises SourceReadError, and leaves no table behind, when the folder is missing or holds
    nothing to read, or any entry was refused; the error carries the reports of every entry and names each
    refused one with its reason.
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
    reports = [*listing.ignored, *listing.refused]
    if not listing.to_read and not listing.refused:
        raise raw.error(
            f"{source}/",
            f"the folder holds no {READ_TYPES} file. Put the extracts in it, then rerun.",
            _by_file(reports),
        )
    raw.create()
    try:
        for entry in listing.to_read:
            reports.append(_read_or_refuse(raw, entry, limits, machine))
        raw.finish(reports)
    except BaseException:
        con.execute(f"DROP TABLE IF EXISTS {raw.table}")
        raise
    reports = _by_file(reports)
    refused = [report for report in reports if report.status == "refused"]
    if refused:
        con.execute(f"DROP TABLE IF EXISTS {raw.table}")
        raise _refusal(raw, refused, reports)
    return reports


def _by_file(reports: list[FileReport]) -> list[FileReport]:
    return sorted(reports, key=lambda report: report.file)


def _read_or_refuse(
    raw: RawTable, entry: Entry, limits: WorkbookLimits, machine: MachineSettings
) -> FileReport:
    """One file into the raw table, or — when it cannot be read as it is — its report as refused, with
    whatever rows it had put in the table taken out again."""
    try:
        return _read_entry(raw, entry, limits, machine)
    except SourceReadError as error:
        raw.con.execute(f"DELETE FROM {raw.table} WHERE source_file = {sql_text(entry.file)}")
        try:
            digest, size = file_digest(entry.path)
        except OSError:
            digest, size = "", 0
        return FileReport(
            entry.file, digest, size, "", status="refused", reason=error.message,
            unmapped_columns=error.headers,
        )  # fmt: skip


def _refusal(raw: RawTable, refused: list[FileReport], reports: list[FileReport]) -> SourceReadError:
    """The blocking error of a folder with refused entries: one refused file as it always read, several
    named one a line, with the rows the other files read (not used tonight: the source is read whole or
    not at all)."""
    read = [report for report in reports if report.status == "read"]
    rows = sum(report.rows_read for report in read)
    others = (
        f" The other {len(read)} file{'' if len(read) == 1 else 's'} read {rows:,} rows, not used until every "
        f"file of {raw.source}/ reads."
        if read
        else ""
    )
    if len(refused) == 1:
        return raw.error(refused[0].file, refused[0].reason + others, reports)
    listed = "".join(f"\n  {report.file}: {report.reason}" for report in refused)
    return raw.error(
        f"{raw.source}/",
        f"{len(refused)} entries refused, each named below with what to do; fix them all, then rerun."
        f"{others}{listed}",
        reports,
    )


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
