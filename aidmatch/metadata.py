"""Small tables for the Dagster UI's asset and check metadata.

Metadata is stored per event, so it carries heads and counts, never whole tables (the full rows are
in the run's DuckDB database and the published files) and never unmasked personal data.
"""

from collections.abc import Sequence
from typing import Any

import dagster as dg

from aidmatch.sources.tables import Column

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


def column_schema(columns: Sequence[Column]) -> dg.TableSchema:
    """`dagster/column_schema` from a table's declared columns: type, description, nullability, and its
    code list, separator, pattern or formula as further constraints."""
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                c.name,
                c.sql_type,
                # the UI renders descriptions as Markdown: `<folder>` would be taken for an HTML tag
                description=c.description.replace("<", "&lt;").replace(">", "&gt;"),
                constraints=dg.TableColumnConstraints(
                    nullable=c.nullable,
                    other=[
                        text
                        for text in (
                            c.codes and f"codes: {c.codes}",
                            c.separator and f"several joined by '{c.separator}'",
                            c.pattern and f"matches {c.pattern}",
                            c.generated and f"computed: {c.generated}",
                        )
                        if text
                    ],
                ),
            )
            for c in columns
        ]
    )


# Who answers for each layer (Dagster owners: `team:<name>` or an e-mail): the data stewards for what the
# departments sent, the analysts for what the matching and the rules made of it, the case-system team
# for what is published.
OWNERS = {
    "raw": ["team:data_stewards"],
    "staged": ["team:data_stewards"],
    "core": ["team:analysts"],
    "facts": ["team:analysts"],
    "out": ["team:analysts"],
    "publish": ["team:case_systems"],
    "decisions": ["team:analysts", "team:case_workers"],
}


def table_tags(layer: str, personal_data: bool, source: str | None = None) -> dict[str, str]:
    """Tags of an asset: its layer, whether it holds personal data (names, citizen IDs), its source."""
    tags = {"layer": layer, "personal_data": "yes" if personal_data else "no"}
    return tags | ({"source": source} if source else {})
