"""Every table of a run, declared once — PUDL's metadata package is the model.

`catalog.py` declares the tables past staging (core_*, out_*, quarantine, the file log, changes) and
gathers them with the staged tables of `sources/tables.py`; `codes.py` holds the code lists their
columns draw on; `ddl.py` creates and fills the DuckDB tables from the declarations; `contract.py` writes
the case systems' schema (docs/outputs.md and a Frictionless data package) from them. Adding a column is
one `Column(...)` in its table's declaration; adding a table, one `Table(...)` in `catalog.py`.
"""
