"""姓名: normalization of person names, their pinyin for the linker, and masking for logs.

What belongs here: turning a raw name cell into the comparable name (NFKC, no spaces, one middle dot,
simplified characters, bracketed note split off as an alias), the pinyin key that makes homophone
typos (同音字: 王丽 / 王莉) meet, and the placeholders a system writes for a rare character it cannot encode
(生僻字: 王?伟, 李□), kept as written and recognised by one pattern. Everything runs over Series; OpenCC and pypinyin, which only work on
Python strings, are called once per distinct character and per name that needs them, never per row.
What does not belong here: deciding whether two names agree (the linker's comparisons).
"""

import opencc
import polars as pl

from aidmatch.sources.text import compact_text

MIDDLE_DOT = "\u00b7"
# Middle-dot look-alikes typed in minority names (阿依·古丽), as they stand after NFKC (which already folds
# U+FF0E ． and U+FE52 to ".", U+FF65 to U+30FB, U+0387 to U+00B7, U+318D to U+119E): full stop, middle
# dot, bullet, hyphenation point, katakana middle dot, bullet operator, dot operator, sinological dot,
# word separator middle dot, Hangul araea (both code points), runic punctuation, ideographic full stop.
_DOT_RUN = "[.\u00b7\u2022\u2027\u30fb\u2219\u22c5\ua78f\u2e31\u119e\u318d\u16eb\u3002]+"
# A note in brackets, after NFKC: (…), […], 【…】, 〔…〕, 〖…〗; a note cut off at the end of the cell counts.
_NOTE = r"[(\[【〔〖]([^)\]】〕〗]*)(?:[)\]】〕〗]|$)"
_ALIAS_PREFIX = r"^(?:曾用名|原名|又名|别名)[:：]?"

_T2S = opencc.OpenCC("t2s")

# 生僻字 placeholders: what an exporting system writes for a rare character it cannot encode (SPEC section 2),
# as they stand after NFKC (which folds ？ to ? and ＊ to *): ?, *, □, 〇, the replacement character a decoder
# writes for bytes it could not read, and private-use code points (a system's own 造字). A placeholder agrees
# with any one character when names are compared (`matching/name_features.py`) and flags the record for the
# department (row rule `name_placeholder`). 〇 is also a character (the zero of 二〇二四): in a name it is
# taken as a placeholder — a name really holding 〇 still agrees with itself, weighted a little below an
# exact name, and its department is asked to check it once; addresses and other text are not names.
PLACEHOLDERS = "?*□〇\ufffd"
_PRIVATE_USE = ((0xE000, 0xF8FF), (0xF0000, 0xFFFFD), (0x100000, 0x10FFFD))
# One character class for Polars (Rust regex) and DuckDB (RE2) alike.
PLACEHOLDER_PATTERN = (
    "["
    + "".join(f"\\x{{{ord(c):X}}}" for c in PLACEHOLDERS)
    + "".join(f"\\x{{{first:X}}}-\\x{{{last:X}}}" for first, last in _PRIVATE_USE)
    + "]"
)
# A name needs this many characters of its own for a placeholder in it to agree with anything: 李? says
# little more than the surname, and is compared as a name that is not there.
KNOWN_CHARACTERS_MIN = 2


def _convert(texts: list[str]) -> list[str]:
    """OpenCC t2s in one call; the texts hold no line breaks (whitespace is removed before)."""
    if not texts:
        return []
    return _T2S.convert("\n".join(texts)).split("\n")


def _to_simplified(values: pl.Series) -> pl.Series:
    """Traditional -> simplified (OpenCC t2s, phrase-aware: 王乾坤 keeps its 乾).

    Only values holding a character that t2s changes on its own are converted, in one batched call:
    the distinct characters are checked first, so a million simplified names cost a fraction of a second.
    """
    characters = values.str.split("").explode().unique().drop_nulls().to_list()
    traditional = [
        c for c, simplified in zip(characters, _convert(characters), strict=True) if c != simplified
    ]
    if not traditional:
        return values
    to_convert = values.str.contains_any(traditional).fill_null(False).arg_true()
    return values.clone().scatter(to_convert, _convert(values.gather(to_convert).to_list()))


def _tidy(name: pl.Expr) -> pl.Expr:
    """NFKC once more (removing a space or a note can leave a letter next to a combining mark that NFKC
    joins: "A´" -> "A" + U+0301 -> "Á"), so a normalized name normalizes to itself; every run of middle-dot
    look-alikes becomes one U+00B7; dots at the ends go; empty becomes NULL."""
    tidy = name.str.normalize("NFKC").str.replace_all(_DOT_RUN, MIDDLE_DOT).str.strip_chars(MIDDLE_DOT)
    return pl.when(tidy != "").then(tidy)


def normalize_names(raw: pl.Series) -> pl.DataFrame:
    """Normalize raw names; one output row per input value, in the same order.

    Columns: `name_raw` (the input), `name` (NFKC, no whitespace, U+00B7 middle dot, simplified, note
    removed), `name_alias` (the bracketed note, normalized the same way; after 曾用名/原名/又名/别名 just
    the name that follows: 张三（曾用名張珊） -> 张三, 张珊).
    """
    raw = raw.cast(pl.String).rename("name_raw")
    compacted = raw.to_frame().select(compact_text(pl.col("name_raw"))).to_series()
    simplified = _to_simplified(compacted).rename("text")
    return pl.DataFrame([raw, simplified]).select(
        "name_raw",
        name=_tidy(pl.col("text").str.replace_all(_NOTE, "")),
        name_alias=_tidy(pl.col("text").str.extract(_NOTE, 1).str.replace(_ALIAS_PREFIX, "")),
    )


def name_pinyin(names: pl.Series) -> pl.Series:
    """Toneless pinyin of normalized names, syllables joined, middle dot dropped: 王丽, 王莉 -> wangli.

    Each distinct character gets its default reading (pypinyin, heteronyms not guessed from context), so
    a character reads the same in every name, which is what homophone matching needs.
    """
    # Imported here: pypinyin loads its phrase dictionary on import (0.24 s), and of the processes that
    # import this module — every Dagster step's, the command's — only the linker's reads pinyin.
    from pypinyin import lazy_pinyin

    names = names.cast(pl.String).str.replace_all(MIDDLE_DOT, "", literal=True)
    characters = names.drop_nulls().unique().str.split("").explode().unique().drop_nulls()
    characters = characters.filter(characters != "").to_list()
    if not characters:  # nothing to read (all empty or null): replace_many refuses an empty pattern list
        return names.str.to_lowercase().rename("name_pinyin")
    readings = ["".join(lazy_pinyin(character)) for character in characters]
    return names.str.replace_many(characters, readings).str.to_lowercase().rename("name_pinyin")


def has_placeholder(name: pl.Expr) -> pl.Expr:
    """The name holds a 生僻字 placeholder."""
    return name.str.contains(PLACEHOLDER_PATTERN)


def known_characters(name: pl.Expr) -> pl.Expr:
    """How many characters of the name are not placeholders."""
    return name.str.replace_all(PLACEHOLDER_PATTERN, "").str.len_chars()


def mask_name(name: str | None) -> str:
    """A name fit for logs: the first character and one * per other character, e.g. 张三 -> 张*."""
    if not name:
        return ""
    return name[0] + "*" * (len(name) - 1)
