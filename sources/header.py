"""Header-row detection: which of a sheet's first rows is the header, and what each column means.

What belongs here: scoring rows against a source's column map and choosing the header row. The
column map itself is `column_maps.py`; reading cells from files is `readers.py`.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import islice

from aidmatch.sources.column_maps import SourceColumnMap

SCAN_ROWS = 30  # the header must be within the first rows of a sheet or file


@dataclass(frozen=True)
class HeaderMatch:
    """One row read as a header: `index` is its 0-based position among the rows scanned."""

    index: int
    columns: dict[str, int]  # canonical key -> 0-based column position
    headers: list[str]  # the non-empty header texts, as found
    unmapped: list[str]  # header texts that are not read: extra columns, or a second column for a key
    duplicates: dict[str, list[str]]  # key -> header texts, when columns under one alias mean the same key

    def is_header(self, column_map: SourceColumnMap) -> bool:
        """At least two known columns, one of them required: a title row or a data row is not a header."""
        return len(self.columns) >= 2 and bool(column_map.required_keys.intersection(self.columns))


def match_row(index: int, cells: Sequence[str | None], column_map: SourceColumnMap) -> HeaderMatch:
    """Read one row as if it were the header.

    When several columns mean one key (联系电话 and 手机号码), the one whose header comes first in the
    column map's list is read and the others are reported as not read; columns under the same alias
    (two 姓名) are a duplicate the steward must resolve.
    """
    headers: list[str] = []
    unmapped: list[str] = []
    candidates: dict[str, list[tuple[int, int, str]]] = {}  # key -> (alias place, position, text)
    for position, cell in enumerate(cells):
        text = (cell or "").strip()
        if not text:
            continue
        headers.append(text)
        match = column_map.match(text)
        if match is None:
            unmapped.append(text)
            continue
        candidates.setdefault(match[0], []).append((match[1], position, text))
    columns: dict[str, int] = {}
    duplicates: dict[str, list[str]] = {}
    for key, found in candidates.items():
        rank, position, chosen = min(found)
        columns[key] = position
        tied = [text for place, _, text in found if place == rank]
        if len(tied) > 1:
            duplicates[key] = tied
        unmapped += [f"{text} (also {key}: {chosen} is read)" for place, _, text in found if place != rank]
    return HeaderMatch(index, columns, headers, unmapped, duplicates)


def find_header(rows: Iterable[Sequence[str | None]], column_map: SourceColumnMap) -> HeaderMatch | None:
    """The header among the first `SCAN_ROWS` rows: the first row with the most known columns.

    When no row qualifies as a header (`HeaderMatch.is_header`), the best partial match is returned
    so that the caller can say which required columns are missing; None when no cell matched at all.
    """
    best: HeaderMatch | None = None
    for index, cells in enumerate(islice(rows, SCAN_ROWS)):
        candidate = match_row(index, cells, column_map)
        if not candidate.columns:
            continue
        rank = (candidate.is_header(column_map), len(candidate.columns))
        if best is None or rank > (best.is_header(column_map), len(best.columns)):
            best = candidate
    return best
