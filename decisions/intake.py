"""Reading a decisions folder: every decided row of every form found there, validated.

What belongs here: finding the files (`.xlsx` — a filled copy of a form — and `.csv` with the English
headers, in subfolders too; Office lock files and hidden files ignored, anything else reported as not
read), finding each sheet's header (the row with 决定 and the record key), turning cells into text, and
the validation of each decided row. A row whose 决定 is empty is undecided: counted, not a decision. A
decided row that fails a rule is quarantined with its file, row, rule and message; the others are
applied (by the linker and by `keeps.py`). What does not belong here: what a decision does.

Rules, the first that fails names the row's defect: `unknown_decision` (not a word the form accepts),
`unknown_record` (no 16-character record key), `unknown_source` / `unknown_person` (review form: a source
or a candidate ID that is no valid citizen ID), `unknown_roll` (removal form), `missing_reason` (every
decision says why), `missing_expiry` (a keep needs a real 有效期至 date; 长期 is no expiry),
`missing_basis` (a keep needs the 核实依据 it was made on), `conflicting_decisions` (one record decided two
ways: every such row is quarantined, none guessed).
"""

import csv
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl
from python_calamine import CalamineError, CalamineWorkbook

from aidmatch.decisions.forms import FORMS, REMOVAL_FORM, ROLL_LABELS, Form
from aidmatch.decisions.keys import KEY_LENGTH
from aidmatch.sources.citizen_id import normalize_citizen_ids
from aidmatch.sources.dates import OPEN_ENDED_DATE, parse_dates
from aidmatch.sources.tables import SOURCE_LABELS, SOURCES

READ_SUFFIXES = (".xlsx", ".csv")
HEADER_SEARCH_ROWS = 10  # the header is within the first rows (a title row may stand above it)
# The rules a decided row can break (`_validated`), with what each means: the `rule` codes of
# decisions_applied.csv in the case systems' contract.
RULES: dict[str, str] = {
    "unknown_decision": "决定 is not one of the form's decisions",
    "unknown_record": "记录键 names no record: the row was not copied from a published form",
    "unknown_source": "来源 is not one of the five sources",
    "unknown_person": "候选人公民身份号码 is not a valid citizen ID",
    "unknown_roll": "名册 is not 登记失业 or 就业困难人员",
    "missing_reason": "理由 is empty: every decision says why",
    "missing_expiry": "有效期至 is not a date: a keep needs an end date",
    "missing_basis": "核实依据 is empty: the row was not copied from the published removal form",
    "conflicting_decisions": "the record is decided two ways in the decision files",
}
# Every column a decided row carries, whichever form it came from (absent ones are empty).
ROW_COLUMNS = (
    "file",
    "row",
    "kind",
    "source",
    "record_key",
    "candidate_person_id",
    "roll",
    "basis",
    "decision_text",
    "reason",
    "decided_by",
    "valid_until_text",
)


@dataclass
class Intake:
    """What a decisions folder held: the decided rows, and per file what was read (or why not)."""

    folder: Path
    rows: list[dict[str, str]] = field(default_factory=list)
    files: list[dict[str, object]] = field(default_factory=list)


def read_folder(folder: Path) -> Intake:
    """Every decided row of every form in `folder` (absent: no decisions), and the files' report."""
    intake = Intake(folder)
    if not folder.is_dir():
        return intake
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        if path.name.startswith(("~$", ".")):
            intake.files.append({"file": name, "status": "ignored", "decided_rows": 0, "undecided_rows": 0,
                                 "note": "an Office lock file or a hidden file"})  # fmt: skip
            continue
        if path.suffix.lower() not in READ_SUFFIXES:
            intake.files.append({"file": name, "status": "not read", "decided_rows": 0, "undecided_rows": 0,
                                 "note": "not a decision form: save it as .xlsx, or .csv with the English headers"})  # fmt: skip
            continue
        try:
            tables = _xlsx_tables(path) if path.suffix.lower() == ".xlsx" else [_csv_table(path)]
        except (OSError, CalamineError, UnicodeDecodeError, csv.Error) as error:
            intake.files.append({"file": name, "status": "not read", "decided_rows": 0, "undecided_rows": 0,
                                 "note": f"cannot be read: {error}"})  # fmt: skip
            continue
        decided = undecided = forms = 0
        for cells in tables:
            found = _form_rows(name, cells)
            if found is None:
                continue
            forms += 1
            rows, blank = found
            intake.rows += rows
            decided, undecided = decided + len(rows), undecided + blank
        intake.files.append(
            {
                "file": name,
                "status": "read" if forms else "not read",
                "decided_rows": decided,
                "undecided_rows": undecided,
                "note": "" if forms else "no sheet has a decision form's header (决定 and 记录键)",
            }
        )
    return intake


def _text(value: object) -> str:
    """A cell as text: dates as YYYY-MM-DD, whole numbers without '.0'."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _xlsx_tables(path: Path) -> list[list[list[str]]]:
    workbook = CalamineWorkbook.from_path(str(path))
    return [
        [[_text(v) for v in row] for row in workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)]
        for name in workbook.sheet_names
    ]


def _csv_table(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("gb18030")
    return [[cell.strip() for cell in row] for row in csv.reader(text.splitlines())]


def _form_of(header: list[str]) -> tuple[Form, dict[str, int]] | None:
    """The form whose columns this header row holds, and where each of its fields is."""
    for form in FORMS:
        positions = {
            f.key: header.index(name) for f in form.fields for name in (f.header, f.key) if name in header
        }
        if all(f.key in positions for f in form.fields if f.required):
            return form, positions
    return None


def _form_rows(file: str, cells: list[list[str]]) -> tuple[list[dict[str, str]], int] | None:
    """The decided rows of one sheet (or CSV) and the number of undecided ones; None: no form here."""
    for index, header in enumerate(cells[:HEADER_SEARCH_ROWS]):
        found = _form_of(header)
        if found is None:
            continue
        form, positions = found
        rows, undecided = [], 0
        for number, row in enumerate(cells[index + 1 :], start=index + 2):
            values = {key: row[at] if at < len(row) else "" for key, at in positions.items()}
            if not any(values.values()):
                continue  # a blank row
            if not values.get("decision"):
                undecided += 1
                continue
            rows.append(
                {column: "" for column in ROW_COLUMNS}
                | {k: v for k, v in values.items() if k in ROW_COLUMNS}
                | {
                    "file": file,
                    "row": str(number),
                    "kind": form.kind,
                    "decision_text": values["decision"],
                    "valid_until_text": values.get("valid_until", ""),
                    "source": "unemployment" if form is REMOVAL_FORM else values.get("source", ""),
                }
            )
        return rows, undecided
    return None


def _validated(rows: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    """Each decided row with its decision code, normalized values, and `rule` / `message` when quarantined."""
    sources = {s: s for s in SOURCES} | {label: s for s, label in SOURCE_LABELS.items()}
    rolls = {r: r for r in ROLL_LABELS} | {label: r for r, label in ROLL_LABELS.items()}
    words = {form.kind: form.decisions for form in FORMS}
    frame = rows.with_columns(
        decision=pl.concat_str("kind", pl.lit(":"), "decision_text").replace_strict(
            {f"{kind}:{word}": code for kind, accepted in words.items() for word, code in accepted.items()},
            default=None,
            return_dtype=pl.String,
        ),
        source=pl.col("source").replace_strict(sources, default=None, return_dtype=pl.String),
        roll=pl.col("roll").replace_strict(rolls, default=None, return_dtype=pl.String),
        record_key=pl.col("record_key").str.to_lowercase(),
        valid_until=parse_dates(rows["valid_until_text"]),
        row=pl.col("row").cast(pl.Int64),
    )
    ids = normalize_citizen_ids(frame["candidate_person_id"], as_of=as_of)
    frame = frame.with_columns(candidate_person_id=ids["id_norm"], candidate_valid=ids["id_valid"])
    link, keep = pl.col("kind") == "link", pl.col("kind") == "keep"
    accepted = {kind: "/".join(w for w in words[kind] if not w.isascii()) for kind in words}
    checks = [
        (
            "unknown_decision",
            pl.col("decision").is_null(),
            pl.format(
                "决定 '{}' is not a decision of this form: write {}",
                "decision_text",
                pl.when(link).then(pl.lit(accepted["link"])).otherwise(pl.lit(accepted["keep"])),
            ),
        ),
        (
            "unknown_record",
            ~pl.col("record_key").str.contains(f"^[0-9a-f]{{{KEY_LENGTH}}}$"),
            pl.format(
                "记录键 '{}' names no record: copy the row with its key from the published form", "record_key"
            ),
        ),
        ("unknown_source", link & pl.col("source").is_null(), pl.lit("来源 is not one of the five sources")),
        (
            "unknown_person",
            link & ~pl.col("candidate_valid").fill_null(False),
            pl.lit("候选人公民身份号码 is not a valid citizen ID"),
        ),
        ("unknown_roll", keep & pl.col("roll").is_null(), pl.lit("名册 is not 登记失业 or 就业困难人员")),
        ("missing_reason", pl.col("reason") == "", pl.lit("理由 is empty: every decision says why")),
        (
            "missing_expiry",
            keep
            & (pl.col("decision") == "keep")
            & (pl.col("valid_until").is_null() | (pl.col("valid_until") == OPEN_ENDED_DATE)),
            pl.format(
                "有效期至 '{}' is not a date: a keep needs an end date (2026-12-31)", "valid_until_text"
            ),
        ),
        (
            "missing_basis",
            keep & (pl.col("decision") == "keep") & (pl.col("basis") == ""),
            pl.lit("核实依据 is empty: copy the row from the published removal form"),
        ),
    ]
    rule, message = pl.lit(None, dtype=pl.String), pl.lit(None, dtype=pl.String)
    for name, failed, text in reversed(checks):
        rule = pl.when(failed).then(pl.lit(name)).otherwise(rule)
        message = pl.when(failed).then(text).otherwise(message)
    frame = frame.with_columns(rule=rule, message=message)
    # One record decided two ways (two persons confirmed, or confirmed and rejected; kept and exited):
    # quarantine every such row rather than pick one.
    subject = (
        pl.when(link)
        .then(pl.concat_str("source", "record_key"))
        .otherwise(pl.concat_str("roll", "record_key"))
    )
    valid = pl.col("rule").is_null()
    frame = frame.with_columns(_subject=subject)
    decided = frame.filter(valid)
    conflicts = _conflicting(decided)
    return frame.with_columns(
        rule=pl.when(valid & pl.struct("file", "row").is_in(conflicts.implode()))
        .then(pl.lit("conflicting_decisions"))
        .otherwise("rule"),
        message=pl.when(valid & pl.struct("file", "row").is_in(conflicts.implode()))
        .then(pl.lit("this record is decided two ways in the decision files: settle it in one row"))
        .otherwise("message"),
    ).drop("_subject", "candidate_valid")


def _conflicting(decided: pl.DataFrame) -> pl.Series:
    """(file, row) of the valid rows whose record is decided two ways."""
    link = decided.filter(pl.col("kind") == "link")
    confirmed = link.filter(pl.col("decision") == "confirm")
    two_persons = (
        confirmed.group_by("_subject")
        .agg(pl.col("candidate_person_id").n_unique() > 1)
        .filter(pl.col("candidate_person_id"))["_subject"]
    )
    both_ways = (
        link.group_by("_subject", "candidate_person_id")
        .agg(pl.col("decision").n_unique() > 1)
        .filter(pl.col("decision"))
    )
    keep = decided.filter(pl.col("kind") == "keep")
    keep_ways = keep.group_by("_subject").agg(pl.col("decision").n_unique() > 1).filter(pl.col("decision"))
    bad = pl.concat(
        [
            link.filter(pl.col("_subject").is_in(two_persons.implode()) & (pl.col("decision") == "confirm")),
            link.join(
                both_ways.select("_subject", "candidate_person_id"), on=["_subject", "candidate_person_id"]
            ),
            keep.filter(pl.col("_subject").is_in(keep_ways["_subject"].implode())),
        ]
    )
    return bad.select(pl.struct("file", "row")).to_series()


def load_decisions(con: duckdb.DuckDBPyConnection, folder: Path, as_of: dt.date) -> Intake:
    """Read and validate `folder`; create `decisions_files` (what each file gave), `decisions_rows` (every
    decided row: its decision, `rule` and `message` when quarantined), `decisions_links` (valid confirm / reject rows, for the linker) and
    `decisions_keeps` (valid keep / exit rows, for the removal list). Returns the intake report."""
    intake = read_folder(folder)
    schema = dict.fromkeys(ROW_COLUMNS, pl.String)
    rows = _validated(pl.DataFrame(intake.rows, schema=schema), as_of).with_columns(
        decision_id=pl.int_range(1, pl.len() + 1)
    )
    con.register("decisions_frame", rows)
    con.execute(
        "CREATE OR REPLACE TABLE decisions_rows AS SELECT * FROM decisions_frame ORDER BY decision_id"
    )
    con.unregister("decisions_frame")
    files = pl.DataFrame(
        intake.files,
        schema={"file": pl.String, "status": pl.String, "decided_rows": pl.Int64, "undecided_rows": pl.Int64,
                "note": pl.String},
    )  # fmt: skip
    con.register("decisions_files_frame", files)
    con.execute("CREATE OR REPLACE TABLE decisions_files AS SELECT * FROM decisions_files_frame")
    con.unregister("decisions_files_frame")
    con.execute(
        """
        CREATE OR REPLACE TABLE decisions_links AS
        SELECT decision_id, source, record_key, candidate_person_id AS person_id, decision, reason, decided_by,
               file, "row"
        FROM decisions_rows WHERE kind = 'link' AND rule IS NULL
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TABLE decisions_keeps AS
        SELECT decision_id, record_key, roll, basis, decision, valid_until, reason, decided_by, file, "row"
        FROM decisions_rows WHERE kind = 'keep' AND rule IS NULL
        """
    )
    return intake
