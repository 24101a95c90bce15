"""Readers: every `.xlsx` / `.csv` extract of one source folder into one raw DuckDB table of text.

What belongs here: the entry point `read_source` (which files of a folder are read, which are
ignored, and the table left behind only when all were read). The pieces: `column_maps.py` (which
headers mean what), `header.py` (finding the header row), `raw_table.py` (the table, the report,
blank and footer rows, `SourceReadError`), `xlsx_reader.py` and `csv_reader.py` (the formats),
`encoding.py` (CSV bytes). Every value stays text, exactly as read: normalizing IDs, names and
dates is `staging.py` and the normalizers beside it.
"""

from pathlib import Path

import duckdb

from sources.column_maps import SourceColumnMap, load_column_maps
from sources.csv_reader import read_csv
from sources.raw_table import FileReport, RawTable, SourceReadError
from sources.xlsx_reader import read_xlsx

__all__ = ["FileReport", "SourceColumnMap", "SourceReadError", "load_column_maps", "read_source"]

_READERS = {".xlsx": read_xlsx, ".csv": read_csv}
_OLD_SPREADSHEETS = (
    ".xls",
    ".xlsb",
    ".xlsm",
    ".ods",
    ".et",
)  # refused: silently skipping one would lose rows


def read_source(
    con: duckdb.DuckDBPyConnection, input_root: Path, source: str, column_map: SourceColumnMap, table: str
) -> list[FileReport]:
    """Read every `.xlsx` / `.csv` of `input_root/source/` (sorted) into the raw table `table` (replaced).

    Returns one report per entry of the folder, read or ignored (lock files, hidden files, other
    types), sorted by file. Raises SourceReadError, and leaves no table behind, when the folder is
    missing or empty or a file cannot be read as it is.
    """
    raw = RawTable(con, '"' + table.replace('"', '""') + '"', source, column_map)
    data_files, reports = _list_folder(raw, input_root)
    raw.create()
    try:
        for path in data_files:
            reports.append(_READERS[path.suffix.lower()](raw, path, f"{source}/{path.name}"))
        raw.finish(reports)
    except BaseException:
        con.execute(f"DROP TABLE IF EXISTS {raw.table}")
        raise
    return sorted(reports, key=lambda report: report.file)


def _list_folder(raw: RawTable, input_root: Path) -> tuple[list[Path], list[FileReport]]:
    """The extracts of the source folder, sorted, and reports for the entries that are ignored."""
    folder = input_root / raw.source
    if not folder.is_dir():
        raise raw.error(
            f"{raw.source}/",
            f"the folder is missing from the input directory {input_root}. Create it and put the "
            f"{raw.source} extracts (.xlsx or .csv) in it, then rerun.",
        )
    data_files: list[Path] = []
    ignored: list[FileReport] = []
    for path in sorted(folder.iterdir()):
        file = f"{raw.source}/{path.name}"
        reason = _ignore_reason(path)
        if reason is None and path.suffix.lower() in _OLD_SPREADSHEETS:
            raise raw.error(
                file,
                f"{path.suffix} files are not read. Open it in Excel or WPS, save it as .xlsx, then rerun.",
            )
        if reason is None:
            data_files.append(path)
        else:
            ignored.append(
                FileReport(file, "", path.stat().st_size if path.is_file() else 0, "", ignored=reason)
            )
    if not data_files:
        raise raw.error(
            f"{raw.source}/", "the folder holds no .xlsx or .csv file. Put the extracts in it, then rerun."
        )
    return data_files, ignored


def _ignore_reason(path: Path) -> str | None:
    """Why a folder entry is not an extract to read, or None when it is one."""
    if path.name.startswith("~$"):
        return "Office lock file (the workbook was open when copied)"
    if path.name.startswith("."):
        return "hidden file"
    if not path.is_file():
        return "not a file"
    if path.suffix.lower() not in (*_READERS, *_OLD_SPREADSHEETS):
        return f"not an extract ({path.suffix or 'no extension'}); only .xlsx and .csv files are read"
    return None
