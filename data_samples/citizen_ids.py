"""Citizen ID arithmetic for the generator (GB 11643-1999), as Polars expressions.

What belongs here: building true 18-character IDs and their MOD 11-2 check character, vectorised.
What does not: the pipeline's own normalizer (`sources/citizen_id.py`) or ID defects (`defects.py`).
"""

import polars as pl

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"


def check_char(body: pl.Expr) -> pl.Expr:
    """The ISO 7064 MOD 11-2 check character of a 17-digit ID body: `"10X98765432"[Σ dᵢwᵢ mod 11]`."""
    total = body.cast(pl.Int64).map_batches(_weighted_digit_sum, return_dtype=pl.Int64)
    return (total % 11).replace_strict(dict(enumerate(CHECK_CHARS)), return_dtype=pl.String)


def _weighted_digit_sum(bodies: pl.Series) -> pl.Series:
    """Σ dᵢwᵢ over the 17 digits of each body, in numpy (the body expression is evaluated once)."""
    numbers = bodies.to_numpy()
    return pl.Series(sum(numbers // 10 ** (16 - i) % 10 * w for i, w in enumerate(WEIGHTS)))


def citizen_id(region: pl.Expr, birth_date: pl.Expr, sequence: pl.Expr) -> pl.Expr:
    """The 18-character ID: region 6 + birth date 8 + sequence 3 (odd = male) + check character."""
    body = pl.concat_str(region, birth_date.dt.strftime("%Y%m%d"), sequence.cast(pl.String).str.zfill(3))
    return pl.concat_str(body, check_char(body))
