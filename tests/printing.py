"""Printing workbooks as a bureau's office prints them, and reading what reached the paper.

LibreOffice (headless, a profile of its own) prints each workbook to PDF, on this machine's fonts or on a
fontconfig of our own that leaves some out — `without_fonts("*Carlito*")` is a machine without Calibri's
metric twin, as a bureau on WPS prints. poppler gives the 序号 printed on each page, each row's text and
the size of the text. `assert_printed_as_rosters(pdf, xlsx)` is the density rule of SPEC section 5
(every row printed, once, in order, whole; at least 15 rows a page but on each group's last, wherever the
rows' heights allow it; 9 pt or more): the lists' tests and the street offices' work lists' tests use it
alike.
"""

import os
import subprocess
from bisect import bisect_left
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate, pairwise
from pathlib import Path
from xml.etree import ElementTree

import openpyxl

MIN_ROWS = 15
MIN_POINTS = 9.0


def without_fonts(folder: Path, *globs: str) -> Path:
    """A fontconfig file of this machine's fonts but those matching `globs` (fontconfig globs)."""
    rejected = "".join(f"<glob>{pattern}</glob>" for pattern in globs)
    path = folder / "fonts.conf"
    path.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
        '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n'
        f"  <selectfont><rejectfont>{rejected}</rejectfont></selectfont>\n</fontconfig>\n",
        encoding="utf-8",
    )
    return path


def print_workbooks(workbooks: Sequence[Path], out: Path, fonts: Path | None = None) -> dict[str, Path]:
    """Each workbook printed to `out/<name>.pdf` by LibreOffice (with the fontconfig `fonts` if given);
    the PDFs by workbook name."""
    out.mkdir(parents=True, exist_ok=True)
    environment = dict(os.environ)
    if fonts is not None:
        environment["FONTCONFIG_FILE"] = str(fonts)
    profile = out / "profile"
    subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
         "--outdir", str(out), *map(str, workbooks)],
        capture_output=True, check=True, timeout=600, env=environment,
    )  # fmt: skip
    return {path.stem: out / f"{path.stem}.pdf" for path in workbooks}


@dataclass(frozen=True)
class PrintedPage:
    numbers: list[int]  # the 序号 printed, top to bottom
    texts: list[Counter]  # the characters printed in each of those rows' bands (`_cjk`)
    sizes: set[float]  # the size of every text printed, in points, page scaling included
    text: Counter  # every character the page prints (`_cjk`)


_LINE_SLACK = 4.0  # points: digits (DejaVu Sans) and CJK text of one line do not start at the same height


def printed_pages(pdf: Path) -> list[PrintedPage]:
    """Each page's 序号, rows and text sizes, from poppler: the words of each page with their boxes
    (`pdftotext -bbox`) — a 序号 is a word of digits below the 序号 header that ends before the next column's
    header begins, not on the footer's line (第 N 页 共 M 页); a row's band runs from its 序号 down to the next
    one — and the fonts' sizes at three times the scale (`pdftohtml -xml -zoom 3`, its largest: sizes to a
    third of a point). A page without a 序号 header (a sheet of text, a summary) has no rows."""
    words = ElementTree.fromstring(
        _poppler("pdftotext", "-bbox", pdf).replace(' xmlns="http://www.w3.org/1999/xhtml"', "")
    )
    fonts = ElementTree.fromstring(_poppler("pdftohtml", "-xml", "-i", "-zoom", "3", "-stdout", pdf).encode())
    sizes = [{int(spec.get("size")) / 3 for spec in page.iter("fontspec")} for page in fonts.iter("page")]
    pages = []
    for page, page_sizes in zip(words.iter("page"), _cumulative(sizes), strict=True):
        boxes = [
            (float(w.get("xMin")), float(w.get("yMin")), float(w.get("xMax")), w.text or "")
            for w in page.iter("word")
        ]
        whole = _cjk(text for *_, text in boxes)
        header = next((box for box in boxes if box[3] == "序号"), None)
        if header is None:
            pages.append(PrintedPage([], [], page_sizes, whole))
            continue
        x0, y0, x1, _ = header
        next_column = min(left for left, top, _, text in boxes if abs(top - y0) < 2 and left > x1)
        footer = {round(top) for _, top, _, text in boxes if text == "页"}
        body = [box for box in boxes if box[1] > y0 and round(box[1]) not in footer]
        numbers = sorted(
            (top, int(text)) for left, top, right, text in body if text.isdigit() and right < next_column
        )
        tops = [top - _LINE_SLACK for top, _ in numbers] + [float("inf")]
        texts = [
            _cjk(text for left, top, _, text in body if start <= top < end) for start, end in pairwise(tops)
        ]
        pages.append(PrintedPage([number for _, number in numbers], texts, page_sizes, whole))
    return pages


def printed_sizes(pdf: Path) -> set[float]:
    """The size of every text the PDF prints, in points (a sheet without 序号 too, as a summary table)."""
    fonts = ElementTree.fromstring(_poppler("pdftohtml", "-xml", "-i", "-zoom", "3", "-stdout", pdf).encode())
    return {int(spec.get("size")) / 3 for spec in fonts.iter("fontspec")}


def _poppler(tool: str, *arguments: object) -> str:
    command = [tool, *map(str, arguments), *(["-"] if tool == "pdftotext" else [])]
    return subprocess.run(command, capture_output=True, check=True, text=True).stdout


def _cumulative(sizes: list[set[float]]) -> list[set[float]]:
    """pdftohtml declares each font once, on the page it first appears: the sizes in use up to each page."""
    seen: set[float] = set()
    return [seen := seen | page for page in sizes]


@dataclass(frozen=True)
class Row:
    """A data row of a workbook, as it must print: its 序号, the group whose pages it is on (its sheet and
    the stretch between two manual page breaks: a street, an employer), its height and the height its
    sheet's pages have for rows (A4 landscape less the margins and the repeated title rows)."""

    number: int
    group: tuple[str, int]
    height: float
    page: float
    text: Counter  # the characters its cells print (`_cjk`)


@dataclass(frozen=True)
class Workbook:
    rows: list[Row]  # every data row of every sheet, in print order
    sheets: list[str]  # the sheets, in print order
    once: dict[str, Counter]  # each sheet's CJK characters printed once: its rows and notes
    each_page: dict[str, Counter]  # and those on every page: title rows, page header and footer


A4_LANDSCAPE_HEIGHT = 595.3


def read_workbook(path: Path) -> Workbook:
    """What a workbook must print: its data rows (below the repeated title rows, holding a 序号; the notes
    below the table do not) and its text — a hidden column's (a form's key for reading back) not."""
    rows, once, each_page = [], {}, {}
    book = openpyxl.load_workbook(path)
    for sheet in book:
        assert (sheet.page_setup.paperSize, sheet.page_setup.orientation) == (9, "landscape")
        repeated = int(sheet.print_title_rows.split(":")[-1].lstrip("$"))
        margins = (sheet.page_margins.top + sheet.page_margins.bottom) * 72
        page = A4_LANDSCAPE_HEIGHT - margins - sum(_height(sheet, row) for row in range(1, repeated + 1))
        breaks = sorted(b.id for b in sheet.row_breaks.brk)
        hidden = {  # a dimension stands for columns min to max (adjacent columns alike are written once)
            column
            for dimension in sheet.column_dimensions.values()
            if dimension.hidden
            for column in range(dimension.min, dimension.max + 1)
        }
        shown = [column not in hidden for column in range(1, sheet.max_column + 1)]
        values = [
            [value for value, printed in zip(row, shown, strict=False) if printed]
            for row in sheet.iter_rows(values_only=True)
        ]
        for number, (first, *cells) in enumerate(values[repeated:], repeated + 1):
            if not isinstance(first, int):
                break  # the notes below the table
            group = (sheet.title, bisect_left(breaks, number))
            text = _cjk(cell for cell in cells if isinstance(cell, str))
            rows.append(Row(first, group, _height(sheet, number), page, text))
        texts = [[v for v in row if isinstance(v, str)] for row in values]
        margins_text = [sheet.oddHeader.left.text, sheet.oddHeader.right.text, sheet.oddFooter.center.text]
        each_page[sheet.title] = _cjk(
            [*(t for row in texts[:repeated] for t in row), *filter(None, margins_text)]
        )
        once[sheet.title] = _cjk(t for row in texts[repeated:] for t in row)
    return Workbook(rows, book.sheetnames, once, each_page)


def _sheet_of(page: PrintedPage, current: str | None, expected: Workbook, rest: list[Row]) -> str:
    """The sheet a page without rows belongs to: the next sheet of no rows still to print whose title rows
    it prints (an empty sheet, a sheet of text), else the current sheet (its notes run on to this page)."""
    to_come = {row.group[0] for row in rest}
    start = expected.sheets.index(current) + 1 if current is not None else 0
    for sheet in expected.sheets[start:]:
        if sheet in to_come:
            break
        if not expected.each_page[sheet] - page.text:
            return sheet
    assert current is not None, f"a page of no sheet: {page.text}"
    return current


def _cjk(texts) -> Counter:
    """The characters past ASCII in `texts` (what pdftotext gives back as written), spaces not counted."""
    return Counter(c for text in texts for c in text if ord(c) > 127 and not c.isspace())


def _height(sheet, row: int) -> float:
    return sheet.row_dimensions[row].height or 15.0


def assert_printed_as_rosters(
    pdf: Path, workbook: Path, min_rows: int = MIN_ROWS, min_points: float = MIN_POINTS
) -> list[int]:
    """What `workbook` printed to `pdf` must be: every row printed once, in order, each row's text within
    its row (none cut off by a row too short: LibreOffice still writes a cut-off line to the PDF, below the
    row, where the next row's band holds it) and nothing else printed; no page holding two groups (a street's, an employer's
    rows start a page); every page but a group's last holding at least `min_rows` rows, or as many as its
    rows' heights let the page hold; every text at `min_points` or more. Returns the rows of each page."""
    expected = read_workbook(workbook)
    rows = expected.rows
    pages = printed_pages(pdf)
    printed = [number for page in pages for number in page.numbers]
    assert printed == [row.number for row in rows], f"{pdf.name}: rows missing, repeated or out of order"
    first, sheet, text = 0, None, Counter()
    for index, page in enumerate(pages):
        count = len(page.numbers)
        groups = {row.group for row in rows[first : first + count]}
        assert len(groups) <= 1, (
            f"{pdf.name} page {index + 1}: rows of {sorted(groups)}: a group starts a page"
        )
        ends_group = first + count == len(rows) or {rows[first + count].group} != groups
        heights = list(accumulate(row.height for row in rows[first : first + min_rows]))
        # the rows that fit a page from here, with a point to spare (LibreOffice rounds heights to twips)
        room = sum(total <= rows[first].page - 1 for total in heights)
        assert ends_group or count >= min(min_rows, room), (
            f"{pdf.name} page {index + 1}: {count} rows of {groups}, which goes on on the next page"
        )
        for at, (row, band) in enumerate(zip(rows[first : first + count], page.texts, strict=True)):
            # A row's text in its band: all of it (none cut off by a row too short, nor printed below it);
            # the page's last row's band also holds what follows it (the notes).
            missing, extra = row.text - band, band - row.text
            assert not missing and (not extra or at == count - 1), (
                f"{pdf.name} page {index + 1}, 序号 {row.number}: not in its row {missing}, not its own {extra}"
            )
        sheet = rows[first].group[0] if count else _sheet_of(page, sheet, expected, rows[first:])
        text += expected.each_page[sheet]
        first += count
    for characters in expected.once.values():
        text += characters
    shown = _cjk([_poppler("pdftotext", "-raw", pdf)])
    assert shown == text, f"{pdf.name}: not printed {text - shown}, printed and not written {shown - text}"
    sizes = set().union(*(page.sizes for page in pages))
    assert min(sizes) >= min_points, f"{pdf.name}: printed at {sorted(sizes)} pt"
    return [len(page.numbers) for page in pages]
