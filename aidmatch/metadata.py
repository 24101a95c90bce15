"""Small tables for the Dagster UI's asset and check metadata.

Metadata is stored per event, so it carries heads and counts, never whole tables (the full rows are
in the run's DuckDB database and the published files) and never unmasked personal data.
"""

from collections.abc import Sequence
from typing import Any

import dagster as dg

_KINDS = {bool: "bool", int: "int", float: "float"}


def metadata_table(
    rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None
) -> dg.TableMetadataValue:
    """A table from dict rows; column types are taken from the first row (text when unknown)."""
    names = list(columns or (rows[0].keys() if rows else ["(none)"]))
    first = rows[0] if rows else {}
    schema = dg.TableSchema(
        columns=[dg.TableColumn(name, _KINDS.get(type(first.get(name)), "string")) for name in names]
    )
    records = [
        dg.TableRecord(
            {
                n: v if isinstance(v, bool | int | float) else ("" if v is None else str(v))
                for n, v in row.items()
            }
        )
        for row in rows
    ]
    return dg.MetadataValue.table(records=records, schema=schema)
