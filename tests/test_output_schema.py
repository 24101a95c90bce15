"""The case systems' contract: every CSV of a run validates against the run's own data package, the
package and docs/ are what the declarations generate, and the tables in the run database are declared.

The validator is Frictionless (frictionless-py), not ours: types, required cells, codes, patterns and
the column order are checked by the reference implementation of the Table Schema the case systems use.
"""

import csv
import json
import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import read_manifest
from frictionless import Package, validate

from aidmatch.tables.catalog import CSV_TABLES, TABLES
from aidmatch.tables.contract import (
    PACKAGE_FILE,
    SCHEMA_FINGERPRINT,
    SCHEMA_VERSION,
    data_package,
    fingerprint,
    outputs_markdown,
)
from aidmatch.tables.ddl import build_table

DOCS = Path(__file__).parents[1] / "docs"


@pytest.mark.parametrize("night", [0, 1])
def test_every_csv_of_a_run_validates_against_its_package(two_nights, night):
    folder = two_nights.output / two_nights.dates[night]
    report = validate(str(folder / PACKAGE_FILE))
    errors = [(task.name, error.message) for task in report.tasks for error in task.errors]
    assert report.valid, errors[:10]
    # frictionless counts no `rows` for a file with a header only (decisions_applied.csv on a night without decisions)
    validated = {task.name: task.stats.get("rows", 0) for task in report.tasks}
    manifest = read_manifest(folder)
    assert validated == {t.csv: manifest["outputs"][f"{t.csv}.csv"]["rows"] for t in CSV_TABLES}, (
        "every row of every CSV was validated"
    )
    assert manifest["output_schema"] == {
        "version": SCHEMA_VERSION,
        "file": PACKAGE_FILE,
        "fingerprint": fingerprint(),
    }


def _with_cell(source: Path, target: Path, column: str, value: str) -> None:
    with open(source, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    rows[0][column] = value
    with open(target, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@pytest.mark.parametrize(
    "file, column, value",
    [
        ("removals", "reasons", "EMPLOYED;SOMETHING_NEW"),  # a code the contract does not list
        ("person_links", "method", "unlinked:whatever"),
        ("quarantine", "action", "dropped"),
        ("proactive", "person_id", "11010519491231002"),  # 17 characters
        ("review_queue", "score", "high"),  # not a number
        ("proactive", "category", ""),  # required
    ],
)
def test_the_contract_refuses_what_it_does_not_declare(two_nights, tmp_path, file, column, value):
    """Negative controls: each kind of constraint the package states is one the validator applies."""
    for path in two_nights.last.glob("*.*"):  # the CSVs and the package (not the folders of workbooks)
        shutil.copy(path, tmp_path / path.name)
    _with_cell(two_nights.last / f"{file}.csv", tmp_path / f"{file}.csv", column, value)
    report = validate(str(tmp_path / PACKAGE_FILE))
    assert not report.valid
    assert {task.name for task in report.tasks if not task.valid} == {file}


def test_docs_are_what_the_declarations_generate():
    """docs/outputs.md and docs/datapackage.json: rewrite with `python -m aidmatch.tables.contract docs`."""
    assert json.loads((DOCS / PACKAGE_FILE).read_text(encoding="utf-8")) == data_package()
    assert (DOCS / "outputs.md").read_text(encoding="utf-8") == outputs_markdown()
    Package(str(DOCS / PACKAGE_FILE))  # a valid data package descriptor


def test_a_changed_contract_changes_its_version():
    """A column or a code added, renamed or removed changes the fingerprint: raise SCHEMA_VERSION (minor
    for an addition, major for a rename or removal) and record the new fingerprint beside it."""
    assert fingerprint() == SCHEMA_FINGERPRINT, (
        f"the contract changed (fingerprint {fingerprint()}): raise SCHEMA_VERSION in tables/contract.py, set "
        "SCHEMA_FINGERPRINT to the new fingerprint and regenerate docs/"
    )


def test_every_code_is_documented_with_its_meaning():
    package = data_package()
    for resource in package["resources"]:
        for field in resource["schema"]["fields"]:
            for code, meaning in field.get("codes", {}).items():
                assert code and meaning.strip(), (resource["name"], field["name"], code)
    methods = next(r for r in package["resources"] if r["name"] == "person_links")["schema"]["fields"]
    assert {"exact_id", "unlinked:invalid_id_no_candidate"} <= set(
        next(f for f in methods if f["name"] == "method")["codes"]
    )


def test_the_run_database_tables_are_the_declared_ones(two_nights):
    """core_*, out_*, quarantine_<source> and the file log in a run's database have the declared
    columns, in order, with the declared types."""
    database = two_nights.work / two_nights.dates[1] / "aidmatch.duckdb"
    with duckdb.connect(str(database), read_only=True) as con:
        present = {name for (name,) in con.sql("SELECT table_name FROM duckdb_tables()").fetchall()}
        checked = 0
        for table in TABLES.values():
            names = (
                [f"quarantine_{s}" for s in ("dibao", "unemployment")]
                if table.name == "quarantine"
                else [table.name]
            )
            for name in names:
                if name not in present:
                    continue
                described = con.sql(
                    f'SELECT column_name, column_type, "null" FROM (DESCRIBE {name})'
                ).fetchall()
                assert [(n, t) for n, t, _ in described] == [(c.name, c.sql_type) for c in table.columns], (
                    name
                )
                checked += 1
    assert checked >= 10, "the staged, core, out, quarantine and file-log tables were all there"


def test_a_query_must_give_exactly_the_declared_columns():
    """The SQL that fills a table cannot forget a column (silently NULL) or add one the contract lacks."""
    table = TABLES["core_persons"]
    person = "'11010519491231002X' AS person_id, '张三' AS name, DATE '1949-12-31' AS birth_date, ['dibao'] AS sources"
    with duckdb.connect() as con:
        with pytest.raises(ValueError, match=r"lacks \['record_count'\]"):
            build_table(con, table, f"SELECT {person}, '女' AS sex")
        with pytest.raises(duckdb.ConstraintException):  # NOT NULL from the declaration
            build_table(con, table, f"SELECT {person}, NULL AS sex, 3 AS record_count")
