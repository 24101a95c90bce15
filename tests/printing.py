"""Printing workbooks as a bureau's office prints them, and reading what reached the paper.

LibreOffice (headless, a profile of its own) prints each workbook to PDF, on this machine's fonts or on a
fontconfig of our own that leaves some out — `without_fonts("*Carlito*")` is a machine without Calibri's
metric twin, as a bureau on WPS prints. poppler gives the 序号 printed on each
page and the size of the text. `assert_printed_as_rosters` is the density rule of SPEC section 5
(every row printed, once, in order; at least 15 rows a page but on each group's last, wherever the rows'
heights allow it; 9 pt or more): the lists' tests and the street offices' work lists' tests use it alike.
"""

import os
import subprocess
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate
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
    sizes: set[float]  # the size of every text printed, in points, page scaling included


def printed_pages(pdf: Path) -> list[PrintedPage]:
    """Each page's 序号 and text sizes, from poppler: the words of each page with their boxes (`pdftotext
    -bbox`) — a 序号 is a word of digits below the 序号 header that ends before the next column's header
    begins — and the fonts' sizes at three times the scale (`pdftohtml -xml -zoom 3`, its largest: sizes to
    a third of a point)."""
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
        x0, y0, x1, _ = next(box for box in boxes if box[3] == "序号")
        next_column = min(left for left, top, _, text in boxes if abs(top - y0) < 2 and left > x1)
        numbers = sorted(
            (top, int(text))
            for left, top, right, text in boxes
            if text.isdigit() and top > y0 and right < next_column
        )
        pages.append(PrintedPage([number for _, number in numbers], page_sizes))
    return pages


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


A4_LANDSCAPE_HEIGHT = 595.3


def workbook_rows(path: Path) -> list[Row]:
    """Every data row of every sheet, in print order (the rows below the repeated title rows that hold a
    序号; the notes below the table do not)."""
    rows = []
    for sheet in openpyxl.load_workbook(path):
        assert (sheet.page_setup.paperSize, sheet.page_setup.orientation) == (9, "landscape")
        repeated = int(sheet.print_title_rows.split(":")[-1].lstrip("$"))
        margins = (sheet.page_margins.top + sheet.page_margins.bottom) * 72
        page = A4_LANDSCAPE_HEIGHT - margins - sum(_height(sheet, row) for row in range(1, repeated + 1))
        breaks = sorted(b.id for b in sheet.row_breaks.brk)
        for number, (first, *_) in enumerate(
            sheet.iter_rows(min_row=repeated + 1, values_only=True), repeated + 1
        ):
            if not isinstance(first, int):
                break  # the notes below the table
            group = (sheet.title, bisect_left(breaks, number))
            rows.append(Row(first, group, _height(sheet, number), page))
    return rows


def _height(sheet, row: int) -> float:
    return sheet.row_dimensions[row].height or 15.0


def assert_printed_as_rosters(
    pdf: Path, rows: Sequence[Row], min_rows: int = MIN_ROWS, min_points: float = MIN_POINTS
) -> list[int]:
    """Every row printed once, in order; no page holds two groups (a street's, an employer's rows start a
    page); every page but a group's last holds at least `min_rows` rows, or as many as its rows' heights
    let the page hold; every text at `min_points` or more. Returns the rows of each page."""
    pages = printed_pages(pdf)
    printed = [number for page in pages for number in page.numbers]
    assert printed == [row.number for row in rows], f"{pdf.name}: rows missing, repeated or out of order"
    first = 0
    for index, page in enumerate(pages):
        count = len(page.numbers)
        groups = {row.group for row in rows[first : first + count]}
        assert len(groups) <= 1, (
            f"{pdf.name} page {index + 1}: rows of {sorted(groups)}: a group starts a page"
        )
        ends_group = first + count == len(rows) or {rows[first + count].group} != groups
        heights = list(accumulate(row.height for row in rows[first : first + min_rows]))
        room = sum(total <= rows[first].page + 1 for total in heights)  # the rows that fit a page from here
        assert ends_group or count >= min(min_rows, room), (
            f"{pdf.name} page {index + 1}: {count} rows of {groups}, which goes on on the next page"
        )
        first += count
    sizes = set().union(*(page.sizes for page in pages))
    assert min(sizes) >= min_points, f"{pdf.name}: printed at {sorted(sizes)} pt"
    return [len(page.numbers) for page in pages]
