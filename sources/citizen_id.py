"""公民身份号码: normalization and validation of Chinese citizen IDs (GB 11643-1999, SPEC section 3).

What belongs here: turning raw ID text into the normalized 18-character ID and saying whether it can be
trusted (`id_valid`) and, when not, why (`id_issue`), plus what a valid ID tells (birth date, sex).
The work is one vectorised Polars pass over a Series of raw values; the scalar helpers wrap it.
What does not belong here: fuzzy matching of untrusted IDs (the linker) and deciding what goes to
quarantine (the row rules).
"""

from datetime import date

import polars as pl

from aidmatch.sources.text import compact_text

WEIGHTS: tuple[int, ...] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"  # indexed by (Σ digit × weight) mod 11 — ISO 7064 MOD 11-2
# GB/T 2260 province-level codes (the first two digits).
PROVINCE_CODES: tuple[str, ...] = tuple(
    str(code)
    for code in (
        *range(11, 16),
        *range(21, 24),
        *range(31, 38),
        *range(41, 47),
        *range(50, 55),
        *range(61, 66),
    )
) + ("71", "81", "82")
# GB 11643-1999's own example 440524188001010014 is born in 1880: IDs of the 1800s are well-formed.
EARLIEST_BIRTH = date(1800, 1, 1)

# A number as Excel writes it once it has stored an ID as a number: scientific notation
# (1.10105199001011E+17) or a float (110105199001011000.0). Only Excel's 15 significant digits survive.
# Exponents up to 19 cover a 20-digit disability card number (ID + two digits) stored as a number.
_SCIENTIFIC = r"^([1-9])\.([0-9]+)E\+?1[4-9]$"
_FLOAT = r"^[1-9][0-9]{14,19}\.[0-9]+$"
_EXCEL_DIGITS = 15


def _check_character(first17: pl.Expr) -> pl.Expr:
    """The MOD 11-2 check character of a column of 17-digit strings (NULL where the input is NULL)."""
    total = pl.sum_horizontal(
        first17.str.slice(i, 1).cast(pl.Int32) * weight for i, weight in enumerate(WEIGHTS)
    )
    return pl.when(first17.is_not_null()).then(pl.lit(CHECK_CHARACTERS).str.slice(total % 11, 1))


def normalize_citizen_ids(raw: pl.Series, *, as_of: date) -> pl.DataFrame:
    """Normalize and validate raw IDs; one output row per input value, in the same order.

    A birth date after `as_of` (the night being matched, not the day the code runs) is impossible: a
    re-run of an old night gives the verdicts that night gave.

    Columns: `id_raw` (the input), `id_norm` (18 characters, or NULL when missing or unrecoverable),
    `id_valid`, `id_issue` (NULL when valid; missing | excel_numeric | bad_chars | bad_length |
    bad_date | bad_checksum, the first that applies), `id_prefix` (the digits that survived when Excel
    stored the ID as a number — never a repaired ID), and, for valid IDs only, `id_birth_date` and
    `id_sex` (男 / 女); `id_region_known` says whether an 18-character ID starts with a known province
    code (an unknown one is a warning, not a defect).
    """
    # A leading apostrophe is Excel's "store as text" marker, exported along with the digits.
    text = compact_text(pl.col("id_raw")).str.to_uppercase().str.strip_chars_start("'‘’`")
    legacy = pl.col("text").str.contains(r"^[0-9]{15}$")
    # 15 -> 18: insert the century "19" before the two-digit year; the check character is appended below.
    first17 = (
        pl.when(legacy)
        .then(pl.col("text").str.slice(0, 6) + "19" + pl.col("text").str.slice(6, 9))
        .when(pl.col("text").str.contains(r"^[0-9]{17}[0-9X]$"))
        .then(pl.col("text").str.slice(0, 17))
    )
    scientific = pl.col("text").str.extract_groups(_SCIENTIFIC)
    excel_digits = pl.coalesce(
        scientific.struct.field("1") + scientific.struct.field("2"),
        pl.when(pl.col("text").str.contains(_FLOAT)).then(pl.col("text").str.extract(r"^([0-9]+)")),
    ).str.slice(0, _EXCEL_DIGITS)
    birth = pl.col("id_norm").str.slice(6, 8).str.to_date("%Y%m%d", strict=False)
    issue = (
        pl.when(pl.col("text").fill_null("") == "")
        .then(pl.lit("missing"))
        .when(pl.col("id_prefix").is_not_null())
        .then(pl.lit("excel_numeric"))
        .when(~pl.col("text").str.contains(r"^[0-9]*X?$"))
        .then(pl.lit("bad_chars"))
        .when(pl.col("id_norm").is_null())
        .then(pl.lit("bad_length"))
        .when(birth.is_null() | (birth < EARLIEST_BIRTH) | (birth > as_of))
        .then(pl.lit("bad_date"))
        .when(pl.col("id_norm").str.slice(17, 1) != pl.col("check"))
        .then(pl.lit("bad_checksum"))
    )
    valid = pl.col("id_issue").is_null()
    odd_sequence = pl.col("id_norm").str.slice(16, 1).cast(pl.Int32) % 2 == 1
    return (
        raw.cast(pl.String)
        .rename("id_raw")
        .to_frame()
        .lazy()
        .with_columns(text=text)
        .with_columns(first17=first17, id_prefix=excel_digits)
        .with_columns(check=_check_character(pl.col("first17")))
        .with_columns(
            id_norm=pl.when(legacy)
            .then(pl.col("first17") + pl.col("check"))
            .otherwise(pl.when(pl.col("first17").is_not_null()).then(pl.col("text")))
        )
        .with_columns(id_issue=issue)
        .select(
            "id_raw",
            "id_norm",
            id_valid=valid,
            id_issue="id_issue",
            id_prefix="id_prefix",
            id_birth_date=pl.when(valid).then(birth),
            id_sex=pl.when(valid & odd_sequence).then(pl.lit("男")).when(valid).then(pl.lit("女")),
            id_region_known=pl.when(pl.col("id_norm").is_not_null()).then(
                pl.col("id_norm").str.slice(0, 2).is_in(PROVINCE_CODES)
            ),
        )
        .collect()
    )


def check_character(first17: str) -> str:
    """The GB 11643-1999 check character for the first 17 digits of an ID: `11010519491231002` -> `X`."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError(f"expected 17 ASCII digits, got {first17!r}")
    return pl.select(_check_character(pl.lit(first17))).item()


def normalize_citizen_id(raw: str | None) -> str | None:
    """The normalized 18-character ID of one raw value, or None; says nothing of validity (see `id_valid`),
    so no as-of date matters (the latest one is passed)."""
    return normalize_citizen_ids(pl.Series([raw], dtype=pl.String), as_of=date.max)["id_norm"].item()


def mask_citizen_id(value: str | None) -> str:
    """An ID fit for logs: the region (first 6) and the last 4 characters, e.g. `110105********123X`."""
    if not value:
        return ""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]
