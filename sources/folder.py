"""A source folder's entries: each one is read, ignored with a note, or refused by name — never skipped.

SPEC section 2: departments drop files as they export them. This module walks `<input>/<source>/`
and its subfolders (sorted, so every night reads in the same order; a subfolder stays part of the
file's path: `unemployment/2026年11月/海淀区.csv`) and decides, from the name and the bytes (`sniff.py`):

- **read**: `.xlsx` and `.xls` workbooks (an `.xls` named `.xlsx`, or the reverse, is read as what its
  bytes are, with a note), `.csv`, `.txt` and `.tsv` text exports (read as CSV);
- **ignored, with a note** (terminal, manifest, `files_readable` check): Office lock files `~$…`,
  hidden files and folders `.…`, a second path to a file already read (a link), and files that hold no
  extract by name and bytes — documents (`.pdf`, `.doc`, `.docx`), images, notes, no extension;
- **refused, blocking** (the night stops with the file named, the reason and what to do): a link whose
  target lies outside the input root (the input root is the one place departments drop files) or does
  not exist; spreadsheets in a format we do not read (`.xlsb`, `.xlsm`, `.ods`, `.et`, …: they hold rows
  that would be lost — save as .xlsx); archives (`.zip`, `.rar`, …: unpack them); a file whose bytes are
  a workbook whatever its name; a file named as an extract whose bytes are not one (random bytes named
  `.xlsx`, a CSV named `.xlsx`, a workbook named `.csv`, a password-protected workbook).

A link inside the root is followed like the file or folder it points to; a file reached twice is read
once, by its own path rather than a link's, and a link back to a folder being walked is not followed
(no loop). What does not belong here: reading a file (`workbook_reader.py`, `csv_reader.py`).
"""

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from aidmatch.sources.raw_table import FileReport
from aidmatch.sources.sniff import Kind, sniff

WORKBOOK_SUFFIXES = (".xlsx", ".xls")
TEXT_SUFFIXES = (".csv", ".txt", ".tsv")
# Spreadsheet formats that hold rows we do not read (macro workbooks, binary workbooks, templates,
# OpenDocument, WPS, Numbers, dBase): refused rather than ignored, since ignoring one would lose rows.
OTHER_SPREADSHEETS = (".xlsm", ".xlsb", ".xltx", ".xltm", ".xlt", ".ods", ".fods", ".et", ".ett", ".numbers", ".dbf")  # fmt: skip
ARCHIVES = (".zip", ".rar", ".7z", ".gz", ".tgz", ".tar", ".bz2", ".xz")
READ_TYPES = ".xlsx, .xls, .csv or .txt"
_RERUN = "then rerun"


@dataclass(frozen=True)
class Entry:
    """A file to read: `file` is its path relative to the input root, `kind` what its bytes are."""

    path: Path
    file: str
    kind: Kind  # XLSX, XLS, TEXT or EMPTY
    note: str = ""  # what the steward may want to know about a file that is read (a misnamed .xls)


@dataclass
class Listing:
    """The folder's entries: the files to read and the reports of the entries ignored or refused."""

    to_read: list[Entry] = field(default_factory=list)
    ignored: list[FileReport] = field(default_factory=list)
    refused: list[FileReport] = field(default_factory=list)


def list_source_folder(input_root: Path, source: str) -> Listing:
    """Walk `input_root/source/` (which must exist) and decide what becomes of every entry."""
    root = input_root.resolve()
    listing = Listing()
    folder = input_root / source
    target = folder.resolve()
    if folder.is_symlink() and not target.is_relative_to(root):
        listing.refused.append(_refused(f"{source}/", _outside(target, root)))
        return listing
    candidates: list[tuple[Entry, Path, bool]] = []  # (entry, real path, reached through a link)
    _walk(folder, f"{source}/", root, [target], False, listing, candidates)
    chosen: dict[Path, Entry] = {}
    for entry, real, _ in sorted(candidates, key=lambda item: (item[2], item[0].file)):
        if real in chosen:
            note = f"the same file as {chosen[real].file} (a link to it), which is read once"
            listing.ignored.append(_ignored(entry.path, entry.file, note))
        else:
            chosen[real] = entry
    listing.to_read = sorted(chosen.values(), key=lambda entry: entry.file)
    return listing


def _walk(
    folder: Path,
    prefix: str,
    root: Path,
    ancestors: list[Path],
    via_link: bool,
    listing: Listing,
    candidates: list[tuple[Entry, Path, bool]],
) -> None:
    try:
        paths = sorted(folder.iterdir(), key=lambda p: p.name)
    except OSError as error:
        note = (
            f"the folder cannot be opened ({error.strerror}). Give the pipeline read access to it, {_RERUN}."
        )
        listing.refused.append(_refused(prefix, note))
        return
    for path in paths:
        name = prefix + path.name
        is_dir = path.is_dir()
        if not _is_utf8(path.name):
            shown = name.encode("utf-8", "replace").decode("utf-8")
            note = f"the name is not valid UTF-8 (copied from a GBK system without conversion?). Rename it, {_RERUN}."
            listing.refused.append(_refused(shown + "/" * is_dir, note))
        elif path.name.startswith("~$"):
            listing.ignored.append(
                _ignored(path, name, "Office lock file (the workbook was open when copied)")
            )
        elif path.name.startswith("."):
            kind = "hidden folder (nothing in it is read)" if is_dir else "hidden file"
            listing.ignored.append(_ignored(path, name + "/" * is_dir, kind))
        elif path.is_symlink() and not path.resolve().is_relative_to(root):
            listing.refused.append(_refused(name + "/" * is_dir, _outside(path.resolve(), root)))
        elif path.is_symlink() and not path.exists():
            listing.refused.append(
                _refused(
                    name,
                    f"a link to {path.resolve()}, which does not exist. Put the file itself here, {_RERUN}.",
                )
            )
        elif is_dir and path.resolve() in ancestors:
            note = "a link to a folder it is in (following it would loop): not followed"
            listing.ignored.append(_ignored(path, name + "/", note))
        elif is_dir:
            real = path.resolve()
            _walk(
                path, name + "/", root, [*ancestors, real], via_link or path.is_symlink(), listing, candidates
            )
        elif path.is_file():
            decision = _decide(path, name)
            if isinstance(decision, Entry):
                candidates.append((decision, path.resolve(), via_link or path.is_symlink()))
            elif decision[0] == "ignored":
                listing.ignored.append(_ignored(path, name, decision[1]))
            else:
                listing.refused.append(_refused(name, decision[1]))
        else:
            listing.ignored.append(_ignored(path, name, "not a file or a folder (a device or a pipe)"))


def _is_utf8(name: str) -> bool:
    """A file name the system could not decode holds surrogates, which no table or manifest can store."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _decide(path: Path, name: str) -> Entry | tuple[str, str]:
    """A file to read, or ("ignored" | "refused", the reason and what to do)."""
    suffix = path.suffix.lower()
    try:
        kind = sniff(path)
    except OSError as error:
        return (
            "refused",
            f"the file cannot be opened ({error.strerror}). Give the pipeline read access to it, {_RERUN}.",
        )
    described = f"the file is {kind.value}"
    if suffix in WORKBOOK_SUFFIXES:
        if kind in (Kind.XLSX, Kind.XLS):
            real = ".xlsx" if kind is Kind.XLSX else ".xls"
            note = "" if real == suffix else f"{kind.value} named {suffix}: read as {real}"
            return Entry(path, name, kind, note)
        return "refused", f"{described}. {_WORKBOOK_ADVICE.get(kind, _REEXPORT)}"
    if suffix in TEXT_SUFFIXES:
        if kind in (Kind.TEXT, Kind.EMPTY):
            return Entry(path, name, kind)
        if kind in (Kind.XLSX, Kind.XLS):
            real = ".xlsx" if kind is Kind.XLSX else ".xls"
            return "refused", f"the file is an Excel workbook named {suffix}. Rename it to {real}, {_RERUN}."
        return "refused", f"{described}. {_REEXPORT}"
    if suffix in OTHER_SPREADSHEETS:
        return "refused", f"{suffix} files are not read. Open it in Excel or WPS, save it as .xlsx, {_RERUN}."
    if suffix in ARCHIVES or kind in (Kind.ZIP, Kind.ARCHIVE):
        return (
            "refused",
            f"an archive: files inside an archive are not read. Unpack it into the folder and remove the archive, {_RERUN}.",
        )
    if kind.is_workbook:
        return "refused", f"{described}, named {suffix or 'with no extension'}. Save it as .xlsx, {_RERUN}."
    what = kind.value if kind in (Kind.PDF, Kind.OFFICE_DOCUMENT, Kind.HTML) else suffix or "no extension"
    return "ignored", f"not an extract ({what}); only {READ_TYPES} files are read"


_REEXPORT = f"Copy or export it again (as .xlsx or .csv), check that it opens, {_RERUN}."
_WORKBOOK_ADVICE = {
    Kind.TEXT: f"If it is a CSV export, rename it to .csv, {_RERUN}.",
    Kind.ENCRYPTED: f"Open it in Excel or WPS, remove the password, save it as .xlsx, {_RERUN}.",
    Kind.XLSB: f"Open it in Excel or WPS, save it as .xlsx, {_RERUN}.",
    Kind.ODS: f"Open it in Excel, WPS or LibreOffice, save it as .xlsx, {_RERUN}.",
    Kind.HTML: f"Open it in Excel or WPS, save it as .xlsx, {_RERUN}.",
    Kind.ZIP: f"If it holds extracts, unpack them into the folder, {_RERUN}.",
}


def _outside(target: Path, root: Path) -> str:
    return (
        f"a link to {target}, outside the input directory {root}. The input directory is the one place "
        f"extracts are dropped: copy the file itself (not a link) into the folder, {_RERUN}."
    )


def _ignored(path: Path, file: str, reason: str) -> FileReport:
    """The report of an ignored entry: a file's sha256 and size are kept, so the manifest shows what was there."""
    if file.endswith("/") or not path.is_file():
        return FileReport(file, "", 0, "", status="ignored", reason=reason)
    try:
        digest, size = file_digest(path)
    except OSError as error:
        digest, size, reason = "", os.path.getsize(path), f"{reason} (cannot be opened: {error.strerror})"
    return FileReport(file, digest, size, "", status="ignored", reason=reason)


def file_digest(path: Path) -> tuple[str, int]:
    """A file's sha256 and size in bytes, for the manifest of a file that is not read (ignored, refused)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest(), os.fstat(handle.fileno()).st_size


def _refused(file: str, reason: str) -> FileReport:
    return FileReport(file, "", 0, "", status="refused", reason=reason)
