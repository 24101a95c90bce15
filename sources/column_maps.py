"""Column maps: which header texts mean which canonical raw column, per source (`column_maps.yaml`).

What belongs here: loading and validating the YAML once, and the forgiving comparison of a header
cell with the aliases (`normalize_header`, `SourceColumnMap.key_for`). Finding the header row in a
sheet is `header.py`; reading files is `readers.py`.
"""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import yaml
from rapidfuzz.distance import Indel

DEFAULT_PATH = Path(__file__).with_name("column_maps.yaml")

# Identity columns: a row with a value in any of them is a record, never a footer.
IDENTITY_KEYS = ("name", "citizen_id", "card_no")

# How alike a header must be to an alias to be named as the likely column ("人员类别" is no 人员状态: 0.5).
RESEMBLANCE_MIN = 0.6

_MARKERS = re.compile(r"[\s*※]")
_TRAILING_NOTE = re.compile(r"(\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】)$")


def normalize_header(text: str) -> str:
    """NFKC-fold, drop all whitespace and the `*`/`※` markers: "*性 别\\n" -> "性别"."""
    return _MARKERS.sub("", unicodedata.normalize("NFKC", text))


def _without_note(header: str) -> str:
    """A normalized header without its trailing bracketed note: "出生日期(必填)" -> "出生日期"."""
    return _TRAILING_NOTE.sub("", header)


@dataclass(frozen=True)
class SourceColumnMap:
    """One source's map: canonical key -> header aliases, and the required keys.

    `required` holds groups: every group needs at least one of its keys (most groups have one key;
    disability needs name and one of card_no / citizen_id).
    """

    source: str
    columns: dict[str, tuple[str, ...]]
    required: tuple[tuple[str, ...], ...]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self.columns)

    @property
    def required_keys(self) -> frozenset[str]:
        return frozenset(key for group in self.required for key in group)

    def key_for(self, header: str) -> str | None:
        """The canonical key a header cell means, or None."""
        match = self.match(header)
        return match[0] if match else None

    def match(self, header: str) -> tuple[str, int] | None:
        """The canonical key a header cell means and the place of its alias in the key's list (0: the
        reference header), or None; the exact alias wins over a note-less one."""
        normalized = normalize_header(header)
        if not normalized:
            return None
        return self._lookup.get(normalized) or self._lookup.get(_without_note(normalized))

    @cached_property
    def _lookup(self) -> dict[str, tuple[str, int]]:
        """Normalized alias -> (key, place of the alias in the key's list)."""
        return {
            normalize_header(alias): (key, rank)
            for key, aliases in self.columns.items()
            for rank, alias in enumerate(aliases)
        }

    def unknown(self, headers: Iterable[str]) -> list[str]:
        """The header texts this map does not know (extra columns, or a column under a new name)."""
        return [header for header in headers if self.match(header) is None]

    def resembling(self, key: str, headers: Iterable[str]) -> tuple[str, str] | None:
        """The header that most resembles one of `key`'s aliases, with that alias — ("人员姓名", "姓名") — or
        None when none comes close: the hint a steward needs to add a department's name for a column.

        An alias inside the header or the header inside an alias (参保人员姓名, 姓名) resembles it most;
        otherwise the normalized Indel similarity of the two texts, from `RESEMBLANCE_MIN`.
        """
        best: tuple[float, str, str] | None = None
        for header in headers:
            text = normalize_header(header)
            for alias in self.columns[key]:
                target = normalize_header(alias)
                contained = len(min(text, target, key=len)) >= 2 and (target in text or text in target)
                score = 1.0 if contained else Indel.normalized_similarity(text, target)
                if score >= RESEMBLANCE_MIN and (best is None or score > best[0]):
                    best = (score, header, alias)
        return best and (best[1], best[2])

    def missing_required(self, found: set[str]) -> list[str]:
        """Required groups with no key in `found`, each shown as its reference header(s) and key(s)."""
        return [
            " / ".join(f"{self.columns[key][0]} ({key})" for key in group)
            for group in self.required
            if not found.intersection(group)
        ]


def _parse_source(source: str, spec: dict) -> SourceColumnMap:
    """Validate one source's YAML entry; raise ValueError naming the source and the problem."""
    if not isinstance(spec, dict) or not isinstance(spec.get("columns"), dict):
        raise ValueError(f"column map {source}: needs a 'columns' mapping")
    columns: dict[str, tuple[str, ...]] = {}
    owner: dict[str, str] = {}
    for key, aliases in spec["columns"].items():
        if not isinstance(aliases, list) or not aliases or not all(isinstance(a, str) for a in aliases):
            raise ValueError(f"column map {source}.{key}: give a non-empty list of header texts")
        columns[key] = tuple(aliases)
        for alias in aliases:
            normalized = normalize_header(alias)
            if owner.setdefault(normalized, key) != key:
                raise ValueError(
                    f"column map {source}: header {alias!r} is under both {owner[normalized]} and {key}"
                )
    required = tuple(
        tuple(group) if isinstance(group, list) else (group,) for group in spec.get("required", [])
    )
    unknown = sorted({key for group in required for key in group} - set(columns))
    if unknown:
        raise ValueError(f"column map {source}: required columns {unknown} are not in its 'columns'")
    return SourceColumnMap(source, columns, required)


def load_column_maps(path: Path | None = None) -> dict[str, SourceColumnMap]:
    """Load and validate the column maps (default: `sources/column_maps.yaml`), keyed by source folder."""
    with open(path or DEFAULT_PATH, encoding="utf-8") as handle:
        document = yaml.safe_load(handle)
    if not isinstance(document, dict):
        raise ValueError(f"column maps {path or DEFAULT_PATH}: expected one mapping per source")
    return {source: _parse_source(source, spec) for source, spec in document.items()}
