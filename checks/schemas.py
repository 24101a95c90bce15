"""Pandera (polars) schemas of the staged tables, generated from the declarations in `sources/tables.py`.

A column is declared once; its dtype, nullability and value checks here follow from the declaration
and from the code lists the normalizers use, so the schema cannot drift from what staging produces.
The staged-table asset checks validate each staged table against its schema and report the failure
cases per column and check (see `checks/source_checks.py`).
"""

import pandera.polars as pa
import polars as pl

from aidmatch.sources.enums import canonical_values
from aidmatch.sources.staging import DERIVATIONS
from aidmatch.sources.tables import Column, staged_columns

POLARS_TYPES: dict[str, pl.DataType] = {
    "VARCHAR": pl.String(),
    "DATE": pl.Date(),
    "BOOLEAN": pl.Boolean(),
    "INTEGER": pl.Int32(),
    "DOUBLE": pl.Float64(),
    "VARCHAR[]": pl.List(pl.String()),
}


def _checks(column: Column) -> list[pa.Check]:
    """Value checks that follow from what a column is: its code list, or the ID and record formats."""
    if column.pattern is not None:
        return [pa.Check.str_matches(f"^{column.pattern}$")]
    if column.name in ("id_norm", "head_id_norm"):
        return [pa.Check.str_length(18, 18)]
    if column.name == "sex":
        return [pa.Check.isin(["男", "女"])]
    if column.name == "source_row":
        return [pa.Check.ge(1)]
    derivation = DERIVATIONS.get(column.name)
    if derivation and derivation.kind.startswith("enum:") and column.sql_type == "VARCHAR":
        return [pa.Check.isin(canonical_values(derivation.kind.removeprefix("enum:")))]
    return []


def staged_schema(source: str) -> pa.DataFrameSchema:
    """The schema `staged_<source>` must satisfy."""
    return pa.DataFrameSchema(
        {
            column.name: pa.Column(
                POLARS_TYPES[column.sql_type],
                checks=_checks(column),
                nullable=column.nullable,
                description=column.description,
            )
            for column in staged_columns(source)
        },
        name=f"staged_{source}",
        strict=True,
        ordered=True,
    )
