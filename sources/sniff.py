"""What a file really is, from its bytes: the name a department gave it is only a hint.

What belongs here: telling a workbook (xlsx, xls) from a password-protected one, another spreadsheet
format, an archive, a text export and bytes that are none of these, cheaply (the first bytes, a zip's
central directory, an OLE file's directory) and without reading any cell. Which of these a source folder
reads, ignores or refuses is `folder.py`; reading them is `workbook_reader.py` and `csv_reader.py`.
"""

import codecs
import struct
import zipfile
from enum import Enum
from pathlib import Path
from typing import BinaryIO

from aidmatch.sources.encoding import looks_like_utf16

_ZIP_MAGIC = b"PK\x03\x04"  # an .xlsx is a zip archive
_EMPTY_ZIP = b"PK\x05\x06"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, .doc, and a password-protected .xlsx
_SNIFF_BYTES = 1 << 16
# C0 control characters, NUL included, that a text export does not hold (tab, line breaks, form feed and
# the old DOS end-of-file mark it does).
_BINARY_CONTROLS = bytes(set(range(32)) - {9, 10, 12, 13, 26})
_MAGIC = (
    (b"%PDF", "pdf"),
    (b"Rar!", "archive"),
    (b"7z\xbc\xaf\x27\x1c", "archive"),
    (b"\x1f\x8b", "archive"),  # gzip
)


class Kind(Enum):
    """What the bytes of a file are."""

    EMPTY = "an empty file (0 bytes)"
    XLSX = "an Excel workbook (.xlsx)"
    XLS = "an Excel 97–2003 workbook (.xls)"
    ENCRYPTED = "a password-protected Excel workbook"
    XLSB = "an Excel binary workbook (.xlsb)"
    ODS = "an OpenDocument spreadsheet (.ods)"
    DAMAGED_WORKBOOK = "a damaged or truncated workbook"
    OFFICE_DOCUMENT = "an Office file that is not a workbook (a Word document?)"
    ZIP = "a zip archive that is not a workbook (it has no xl/workbook.xml)"
    ARCHIVE = "a compressed archive"
    PDF = "a PDF document"
    HTML = "a web page or XML spreadsheet (what some systems export as .xls)"
    TEXT = "a text export"
    BINARY = "not a spreadsheet or a text export (its bytes are neither a workbook nor text)"

    @property
    def is_workbook(self) -> bool:
        """Bytes that hold a sheet: refused, not ignored, whatever the file is named."""
        return self in (Kind.XLSX, Kind.XLS, Kind.ENCRYPTED, Kind.XLSB, Kind.ODS, Kind.DAMAGED_WORKBOOK)


def sniff(path: Path) -> Kind:
    """The kind of the file at `path`, read from its first bytes and, for zip and OLE files, their
    directory (no cell is read)."""
    with open(path, "rb") as handle:
        head = handle.read(_SNIFF_BYTES)
        if not head:
            return Kind.EMPTY
        if head.startswith((_ZIP_MAGIC, _EMPTY_ZIP)):
            return _zip_kind(handle)
        if head.startswith(_OLE_MAGIC):
            return _ole_kind(handle)
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return Kind.PDF if kind == "pdf" else Kind.ARCHIVE
    return _text_kind(head)


# What Python's zipfile raises on a damaged or unusual zip directory (a newer zip version, a cut-off record,
# a name in no encoding): each means "not a zip we can list", never a traceback.
ZIP_ERRORS = (
    zipfile.BadZipFile, NotImplementedError, OSError, ValueError, EOFError, struct.error, UnicodeDecodeError,
)  # fmt: skip


def _zip_kind(handle: BinaryIO) -> Kind:
    try:
        names = set(zipfile.ZipFile(handle).namelist())
    except ZIP_ERRORS:
        return Kind.DAMAGED_WORKBOOK  # a zip cut short: most often a workbook copied half-way
    if "xl/workbook.xml" in names:
        return Kind.XLSX
    if "xl/workbook.bin" in names:
        return Kind.XLSB
    if "content.xml" in names and "mimetype" in names:
        return Kind.ODS  # (or an OpenDocument text: either way "save it as .xlsx")
    if "word/document.xml" in names or "ppt/presentation.xml" in names:
        return Kind.OFFICE_DOCUMENT
    return Kind.ZIP


def _ole_kind(handle: BinaryIO) -> Kind:
    """An OLE (compound) file: a real .xls holds a `Workbook` (or BIFF5 `Book`) stream; an encrypted
    xlsx holds `EncryptedPackage`; a Word or PowerPoint file holds neither."""
    names = _ole_stream_names(handle)
    if "EncryptedPackage" in names:
        return Kind.ENCRYPTED
    if names & {"Workbook", "Book"}:
        return Kind.XLS
    return Kind.OFFICE_DOCUMENT if names else Kind.DAMAGED_WORKBOOK


def _ole_stream_names(handle: BinaryIO) -> set[str]:
    """The names in an OLE compound file's directory (MS-CFB); empty when the directory cannot be read.

    Follows the directory's sector chain through the FAT; the FAT sectors are listed in the header and,
    in files over about 7 MB, in the DIFAT chain. Every chain is bounded, so a damaged file cannot loop.
    """
    try:
        handle.seek(0)
        header = handle.read(512)
        size = 1 << struct.unpack_from("<H", header, 0x1E)[0]
        if size not in (512, 4096):
            return set()
        per_sector = size // 4
        fat_sectors = [s for s in struct.unpack_from("<109I", header, 0x4C) if s < 0xFFFFFFFA]
        difat, difat_count = struct.unpack_from("<II", header, 0x44)
        for _ in range(min(difat_count, 1 << 16)):
            if difat >= 0xFFFFFFFA:
                break
            entries = struct.unpack(f"<{per_sector}I", _sector(handle, difat, size))
            fat_sectors += [s for s in entries[:-1] if s < 0xFFFFFFFA]
            difat = entries[-1]

        def next_sector(sector: int) -> int:
            fat = fat_sectors[sector // per_sector]
            handle.seek((fat + 1) * size + (sector % per_sector) * 4)
            return struct.unpack("<I", handle.read(4))[0]

        names: set[str] = set()
        sector, seen = struct.unpack_from("<I", header, 0x30)[0], set()
        while sector < 0xFFFFFFFA and sector not in seen and len(seen) < 1 << 16:
            seen.add(sector)
            data = _sector(handle, sector, size)
            for offset in range(0, size, 128):
                length, kind = struct.unpack_from("<HB", data, offset + 64)
                if kind in (1, 2) and 2 <= length <= 64:  # a storage or a stream
                    names.add(data[offset : offset + length - 2].decode("utf-16-le", errors="replace"))
            sector = next_sector(sector)
        return names
    except (struct.error, IndexError, OSError):
        return set()


def _sector(handle: BinaryIO, sector: int, size: int) -> bytes:
    handle.seek((sector + 1) * size)
    data = handle.read(size)
    if len(data) < size:
        raise IndexError("sector past the end of the file")
    return data


def _text_kind(head: bytes) -> Kind:
    """A text export (in any encoding: the CSV reader says which it reads), HTML, or binary bytes."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or looks_like_utf16(head):
        return Kind.TEXT  # the CSV reader says which encodings it reads
    controls = len(head) - len(head.translate(None, _BINARY_CONTROLS))
    # Random bytes: about one in ten. A text export: a stray one or a few (a NUL in a name), even in a
    # file of a hundred bytes; staging removes them and flags their rows.
    if controls > max(16, len(head) // 100):
        return Kind.BINARY
    start = head.lstrip(codecs.BOM_UTF8 + b" \t\r\n")[:512].lower()
    if start.startswith((b"<html", b"<!doctype html", b"<table", b"<?xml")) or b"<html" in start:
        return Kind.HTML
    return Kind.TEXT
