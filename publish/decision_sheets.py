"""The decision forms people fill in (SPEC section 6): `review_queue.xlsx` and `removal_decisions.xlsx`.

Each row carries what a person needs to decide (the record's values, the candidate or the removal with
its evidence), the content key that names the record in any later extract (记录键, and for a removal the
basis it rests on, 核实依据: both marked 勿改, do not edit), and empty decision columns — 决定, 理由, 经办人
(and 有效期至 for a keep). A filled copy dropped into the decisions folder is read by the next run
(`decisions/intake.py`, which finds the header below the title row); the columns are declared in
`decisions/forms.py`. The sheets are laid out like every workbook for people (`xlsx_files.py`: title,
header on every printed page, typed cells, no data ever a formula). What does not belong here: the lists'
own workbooks (`printed_lists.py`).
"""

import duckdb
import polars as pl

from aidmatch.decisions.forms import REMOVAL_FORM, REVIEW_FORM, ROLL_LABELS, Form
from aidmatch.publish.printed_lists import labels_for_people
from aidmatch.publish.xlsx_files import SheetColumn, TableSheet
from aidmatch.sources.tables import SOURCE_LABELS

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


# Columns shown as the printed lists show them and never read back: reasons and evidence in Chinese,
# records named as a steward says them (a removal's evidence reads as on removals.xlsx). The link
# evidence (comparison levels) stays as the analyst's tools print it.
_FOR_PEOPLE = {"link": ("source_record",), "keep": ("reasons", "source_record", "evidence")}


def _form_frame(con: duckdb.DuckDBPyConnection, form: Form) -> pl.DataFrame:
    """The form's rows with codes shown as people read them and its decision columns empty."""
    frame = con.sql(_FORM_ROWS[form.kind]).pl()
    frame = frame.with_columns(
        [pl.col("source").replace(SOURCE_LABELS)] if "source" in frame.columns else []
    ).with_columns([pl.col("roll").replace(ROLL_LABELS)] if "roll" in frame.columns else [])
    frame = frame.with_columns(labels_for_people(frame.select(_FOR_PEOPLE[form.kind])))
    empty = [pl.lit("").alias(key) for key in form.decision_fields]
    return frame.with_columns(empty).select(f.key for f in form.fields)


# Widths of the forms' columns (Excel units; a CJK character takes about 2), and their cell kinds.
_WIDTHS = {"evidence": 40, "basis": 24, "reasons": 16, "source_record": 24, "reason": 20}
_WIDTHS |= dict.fromkeys(("person_id", "candidate_person_id", "record_id", "record_key"), 21)  # on one line
_KINDS = {
    "record_id": "id",
    "candidate_person_id": "id",
    "person_id": "id",
    "record_key": "id",
    "record_birth_date": "date",
}


def _columns(form: Form) -> tuple[SheetColumn, ...]:
    return tuple(
        SheetColumn(
            f.key, f.header, _WIDTHS.get(f.key, max(10, 2 * len(f.header) + 2)), _KINDS.get(f.key, "text")
        )
        for f in form.fields
    )


def decision_form_workbooks(con: duckdb.DuckDBPyConnection, as_of: str) -> list[tuple[str, TableSheet]]:
    """Both forms as (file name, sheet), their rows read from the run database."""
    return [
        (
            f"{form.file_name}.xlsx",
            TableSheet(
                name=form.sheet,
                title=f"{form.sheet}　数据截至：{as_of}　填写“决定”“理由”“经办人”后放入决定文件夹，下次运行生效",
                columns=_columns(form),
                frame=_form_frame(con, form),
                page_header=form.sheet,
                as_of=as_of,
            ),
        )
        for form in (REVIEW_FORM, REMOVAL_FORM)
    ]
