"""The decision forms people fill in (SPEC section 6): `review_queue.xlsx` and `removal_decisions.xlsx`.

Each row carries what a person needs to decide (the record's values, the candidate or the removal with
its evidence), the content key that names the record in any later extract (记录键, and for a removal the
basis it rests on, 核实依据: both marked 勿改, do not edit), and empty decision columns — 决定, 理由, 经办人
(and 有效期至 for a keep). A filled copy dropped into the decisions folder is read by the next run
(`decisions/intake.py`); the columns are declared in `decisions/forms.py`. Cells are made by the one
cell writer of `xlsx_files.py`, so no data becomes a formula. What does not belong here: the lists'
own workbooks (`xlsx_files.py`, `outputs.py`).
"""

from pathlib import Path

import duckdb
import polars as pl

from aidmatch.decisions.forms import REMOVAL_FORM, REVIEW_FORM, ROLL_LABELS, Form
from aidmatch.publish.outputs import SOURCE_LABELS
from aidmatch.publish.xlsx_files import write_workbook

_FORM_ROWS = {
    "link": """
        SELECT source, source_record, record_id, record_name, record_sex, record_birth_date,
               candidate_person_id, candidate_name, score, evidence, record_key
        FROM core_review_queue ORDER BY score DESC, source, source_record, candidate_person_id""",
    "keep": """
        SELECT r.roll, r.person_id, r.name, r.reasons, r.source_record, r.evidence, k.basis, k.record_key
        FROM out_removals AS r JOIN decision_removal_keys AS k USING (source_record, roll)
        ORDER BY r.roll, r.person_id, r.source_record""",
}


def _form_frame(con: duckdb.DuckDBPyConnection, form: Form) -> pl.DataFrame:
    """The form's rows with codes shown as people read them and its decision columns empty."""
    frame = con.sql(_FORM_ROWS[form.kind]).pl()
    frame = frame.with_columns(
        [pl.col("source").replace(SOURCE_LABELS)] if "source" in frame.columns else []
    ).with_columns([pl.col("roll").replace(ROLL_LABELS)] if "roll" in frame.columns else [])
    empty = [pl.lit("").alias(key) for key in form.decision_fields]
    return frame.with_columns(empty).select(f.key for f in form.fields)


def decision_form_frames(con: duckdb.DuckDBPyConnection) -> list[tuple[Form, pl.DataFrame]]:
    """Both forms' rows, read from the run database (in the thread that owns the connection)."""
    return [(form, _form_frame(con, form)) for form in (REVIEW_FORM, REMOVAL_FORM)]


def write_decision_forms(frames: list[tuple[Form, pl.DataFrame]], folder: Path) -> dict[str, int]:
    """Write both forms into `folder` (no database needed: a worker thread may do it); return each
    file's data rows (for the manifest)."""
    for form, frame in frames:
        headers = {f.key: f.header for f in form.fields}
        write_workbook(folder / f"{form.file_name}.xlsx", {form.sheet: frame}, headers)
    return {f"{form.file_name}.xlsx": frame.height for form, frame in frames}
