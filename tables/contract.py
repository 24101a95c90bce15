"""The case systems' contract, generated from the declarations: a Frictionless data package and docs/outputs.md.

Every published CSV gets a Table Schema (frictionlessdata.io): its columns in order, types, which are
required, and for a coded column every code with its meaning — a single code as an `enum`, codes joined
by `;` as a `pattern` over them — so `frictionless validate datapackage.json` in a run's folder checks
every file against the contract. Each run writes `datapackage.json` beside its CSVs and names its
version in manifest.json (`output_schema`); `docs/` holds the same package and a readable page.

`SCHEMA_VERSION` is the contract's version: raise its minor number when a column or a code is added, its
major number when one is renamed or removed; `SCHEMA_FINGERPRINT` is a digest of the contract, so a
changed declaration fails `tests/test_output_schema.py` until the version is raised with it.

Run `python -m aidmatch.tables.contract docs` to rewrite the files under docs/.
"""

import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

from aidmatch.sources.tables import Column
from aidmatch.tables.catalog import CSV_TABLES, Table
from aidmatch.tables.codes import code_list

SCHEMA_VERSION = "1.7.0"
SCHEMA_FINGERPRINT = "141d56b11a13d569"
PACKAGE_FILE = "datapackage.json"
TYPES = {"VARCHAR": "string", "INTEGER": "integer", "BIGINT": "integer", "DOUBLE": "number", "DATE": "date"}


def _field(column: Column) -> dict[str, Any]:
    field: dict[str, Any] = {
        "name": column.name,
        "type": TYPES[column.sql_type],
        "description": column.description,
        "constraints": {"required": not column.nullable},
    }
    values = code_list(column.codes) if column.codes else None
    one = "|".join(map(re.escape, values)) if values else column.pattern
    if values and column.separator is None:
        field["constraints"]["enum"] = list(values)
    elif one is not None:
        separator = re.escape(column.separator) if column.separator else None
        field["constraints"]["pattern"] = f"({one})({separator}({one}))*" if separator else one
    if column.separator:
        field["separator"] = column.separator  # a property of ours: values joined by it
    if values:
        field["codes"] = values  # a property of ours: every code with its meaning
    return field


def table_schema(table: Table) -> dict[str, Any]:
    """The Table Schema of a table's CSV file: its published columns in order."""
    return {"fields": [_field(c) for c in table.published], "missingValues": [""]}


def data_package() -> dict[str, Any]:
    """Every published CSV as a resource of one data package, versioned."""
    return {
        "name": "aidmatch-outputs",
        "title": "就业援助大数据比对 — published lists and records",
        "version": SCHEMA_VERSION,
        "resources": [
            {
                "name": table.csv,
                "path": f"{table.csv}.csv",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "description": f"One row per {table.grain}. {table.description}",
                "schema": table_schema(table),
            }
            for table in CSV_TABLES
        ],
    }


def fingerprint() -> str:
    """A digest of the contract without its version: what changes when a column or a code changes."""
    package = {k: v for k, v in data_package().items() if k != "version"}
    return hashlib.sha256(json.dumps(package, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:16]


def write_package(folder: Path) -> Path:
    path = folder / PACKAGE_FILE
    path.write_text(json.dumps(data_package(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def _cell(text: str) -> str:
    """Plain text in a Markdown table cell: `<folder>` shown, not taken for an HTML tag."""
    return text.replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|").replace("\n", " ")


def outputs_markdown() -> str:
    """docs/outputs.md: every CSV, its columns and every code, for the case-system team."""
    lines = [
        "# The published files — the contract the case systems import",
        "",
        "Generated from the table declarations (`aidmatch.tables`) by "
        "`python -m aidmatch.tables.contract docs`: do not edit by hand.",
        f"Contract version **{SCHEMA_VERSION}**; each run's `manifest.json` names it (`output_schema`), and "
        f"its folder holds `{PACKAGE_FILE}` (a Frictionless data package: `frictionless validate "
        f"{PACKAGE_FILE}` checks every CSV against it).",
        "",
        'All files are UTF-8 CSV with a header row, comma-separated, `"`-quoted. An empty cell is NULL. '
        "Columns may be added at the end in a minor version; none is renamed or removed without a major one.",
    ]
    coded: dict[str, Column] = {}
    for table in CSV_TABLES:
        lines += ["", f"## `{table.csv}.csv`", "", f"One row per {table.grain}. {table.description}", ""]
        lines += ["| # | column | type | required | description |", "|---|---|---|---|---|"]
        for i, column in enumerate(table.published, start=1):
            note = _cell(column.description)
            if column.codes:
                note += f" — codes: [{column.codes}](#codes-{column.codes.replace('_', '-')})"
                coded.setdefault(column.codes, column)
            if column.separator:
                note += f"; several joined by `{column.separator}`"
            if column.pattern:
                note += f"; matches `{column.pattern}`"
            required = "no" if column.nullable else "yes"
            lines.append(f"| {i} | `{column.name}` | {TYPES[column.sql_type]} | {required} | {note} |")
    lines += ["", "## Codes"]
    for name in coded:
        lines += ["", f'<a id="codes-{name.replace("_", "-")}"></a>', f"### {name}", ""]
        lines += ["| code | meaning |", "|---|---|"]
        lines += [f"| `{code}` | {_cell(meaning)} |" for code, meaning in code_list(name).items()]
    return "\n".join(lines) + "\n"


def write_docs(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    write_package(folder)
    (folder / "outputs.md").write_text(outputs_markdown(), encoding="utf-8")


if __name__ == "__main__":
    write_docs(Path(sys.argv[1] if len(sys.argv) > 1 else "docs"))
    print(f"contract {SCHEMA_VERSION}, fingerprint {fingerprint()}")
