"""Text clean-up shared by the normalizers: Unicode compatibility folding and whitespace removal.

Only helpers that more than one normalizer needs belong here; anything specific to IDs, names,
dates or enumerations stays in that normalizer's module.
"""

import polars as pl

# Unicode whitespace (incl. U+3000 ideographic space) plus the zero-width characters that
# spreadsheets and web forms leave behind.
_WHITESPACE = r"[\s\x{200B}-\x{200D}\x{2060}\x{FEFF}]"


def compact_text(text: pl.Expr) -> pl.Expr:
    """NFKC-fold (full-width digits, letters and brackets become ASCII) and drop every whitespace."""
    return text.str.normalize("NFKC").str.replace_all(_WHITESPACE, "")
