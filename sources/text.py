"""Text clean-up shared by the normalizers: Unicode compatibility folding, whitespace removal, and the
control characters no cell may keep.

Only helpers that more than one normalizer needs belong here; anything specific to IDs, names,
dates or enumerations stays in that normalizer's module. The control-character class is declared once
and rendered for both engines (Polars here, DuckDB SQL in `staging.py`): the two regex dialects agree on it.
"""

import polars as pl

# Unicode whitespace (incl. U+3000 ideographic space) plus the zero-width characters that
# spreadsheets and web forms leave behind.
_WHITESPACE = r"[\s\x{200B}-\x{200D}\x{2060}\x{FEFF}]"

# Control characters removed from every cell: C0 except tab, line feed and carriage return (a line break
# typed with Alt+Enter in an address cell is legitimate; names and IDs drop all whitespace anyway), DEL,
# and the C1 block, which no one types: it comes from text decoded with the wrong code page. NUL is among
# them, and openpyxl refuses to write most of them at all.
CONTROL_RANGES: tuple[tuple[int, int], ...] = ((0x00, 0x08), (0x0B, 0x0C), (0x0E, 0x1F), (0x7F, 0x9F))
CONTROL_CHARACTERS: tuple[str, ...] = tuple(
    chr(code) for first, last in CONTROL_RANGES for code in range(first, last + 1)
)
# One character class for Polars (Rust regex) and DuckDB (RE2) alike.
CONTROL_PATTERN = (
    "[" + "".join(f"\\x{{{first:02X}}}-\\x{{{last:02X}}}" for first, last in CONTROL_RANGES) + "]"
)

# First characters that make a spreadsheet read a text as a formula (OWASP "CSV injection"): written to
# xlsx as literal text (`publish/xlsx_files.py`), flagged in names and text by the row rules.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def escape_control(character: str) -> str:
    """How a removed control character is shown to a steward: NUL -> `\\x00`."""
    return f"\\x{ord(character):02x}"


def compact_text(text: pl.Expr) -> pl.Expr:
    """NFKC-fold (full-width digits, letters and brackets become ASCII) and drop every whitespace and
    control character. Staging removes (and flags) control characters before; the normalizers drop them
    too, so that a name or ID called from anywhere never keeps a NUL."""
    return text.str.normalize("NFKC").str.replace_all(f"{_WHITESPACE}|{CONTROL_PATTERN}", "")
