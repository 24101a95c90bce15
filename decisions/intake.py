"""Reading a decisions folder: every decided row of every form found there, validated.

What belongs here: finding the files (`.xlsx` — a filled copy of a form or of a street's work list — and
`.csv` with the English headers, in subfolders too; Office lock files and hidden files ignored, anything
else reported as not read), finding each sheet's header (the row holding a form's required columns, by
name: people insert and move columns), turning cells into text, and the validation of each decided row.
A row whose 决定 (结果) is empty is undecided: counted, not a decision. A decided row that fails a rule is
quarantined with its file, row, rule and message; the others are applied (by the linker, by `keeps.py` and
by `visits.py`). What does not belong here: what a decision does.

Rules, the first that fails names the row's defect: `unknown_decision` (not a word the form accepts),
`unknown_record` (no 16-character record key), `unknown_source` / `unknown_person` (review form: a source
or a candidate ID that is no valid citizen ID; visit form: a 公民身份号码 that is no valid citizen ID — one
that names nobody tonight is found by `visits.py`), `unknown_roll` (removal form), `missing_reason` (every
decision says why; a visit only for 信息有误, which says what is wrong), `missing_expiry` (a keep needs a
real 有效期至 date; 长期 is no expiry), `missing_visit_date` (a visit needs its 走访日期, not after the as-of
date), `missing_basis` (a keep needs the 核实依据 it was made on, a visit the 走访依据),
`conflicting_decisions` (one record decided two ways, one person visited twice on one day with two
outcomes: every such row is quarantined, none guessed).
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
from aidmatch.rules.codes import CODES
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
    "unknown_person": "候选人公民身份号码 (a visit's 公民身份号码) is not a valid citizen ID, or names nobody tonight",
    "unknown_roll": "名册 is not 登记失业 or 就业困难人员",
    "missing_reason": "理由 is empty: every decision says why (a visit's 说明: 信息有误 says what is wrong)",
    "missing_expiry": "有效期至 is not a date: a keep needs an end date",
    "missing_visit_date": "走访日期 is empty, not a date, or after the as-of date",
    "missing_basis": "核实依据 (走访依据) is empty or unreadable: the row was not copied from a published form",
    "conflicting_decisions": "the record is decided two ways, or a person visited twice on a day with two outcomes",
}
# A visit's 走访依据: what the person was listed for, `<category>:<reasons>` as proactive.csv has them.
_CATEGORIES = "|".join(c.code for c in CODES if c.kind == "category")
_REASONS = "|".join(c.code for c in CODES if c.kind == "reason")
VISIT_BASIS_PATTERN = f"^({_CATEGORIES}):({_REASONS})(;({_REASONS}))*$"
# Every column a decided row carries, whichever form it came from (absent ones are empty).
ROW_COLUMNS = (
    "file",
    "row",
    "kind",
    "source",
    "record_key",
    "candidate_person_id",
    "person_id",
    "roll",
    "basis",
    "decision_text",
    "reason",
    "decided_by",
    "valid_until_text",
    "visited_on_text",
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
                "note": ""
                if forms
                else "no sheet has a decision form's header (决定 and 记录键, or 结果 and 走访依据)",
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
        positions = {f.key: header.index(name) for f in form.fields for name in f.headers if name in header}
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
                    "visited_on_text": values.get("visited_on", ""),
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
        visited_on=parse_dates(rows["visited_on_text"]),
        row=pl.col("row").cast(pl.Int64),
    )
    candidates = normalize_citizen_ids(frame["candidate_person_id"], as_of=as_of)
    persons = normalize_citizen_ids(frame["person_id"], as_of=as_of)
    frame = frame.with_columns(
        candidate_person_id=candidates["id_norm"],
        candidate_valid=candidates["id_valid"],
        person_id=persons["id_norm"],
        person_valid=persons["id_valid"],
    )
    link, keep, visit = (pl.col("kind") == kind for kind in ("link", "keep", "visit"))
    accepted = {kind: "/".join(w for w in words[kind] if not w.isascii()) for kind in words}
    checks = [
        (
            "unknown_decision",
            pl.col("decision").is_null(),
            pl.format(
                "{} '{}' is not a decision of this form: write {}",
                pl.when(visit).then(pl.lit("结果")).otherwise(pl.lit("决定")),
                "decision_text",
                pl.col("kind").replace_strict(accepted, return_dtype=pl.String),
            ),
        ),
        (
            "unknown_record",
            ~visit & ~pl.col("record_key").str.contains(f"^[0-9a-f]{{{KEY_LENGTH}}}$"),
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
        (
            "unknown_person",
            visit & ~pl.col("person_valid").fill_null(False),
            pl.lit("公民身份号码 is not a valid citizen ID: copy the row from the published 走访 sheet"),
        ),
        ("unknown_roll", keep & pl.col("roll").is_null(), pl.lit("名册 is not 登记失业 or 就业困难人员")),
        (
            "missing_reason",
            ~visit & (pl.col("reason") == ""),
            pl.lit("理由 is empty: every decision says why"),
        ),
        (
            "missing_reason",
            visit & (pl.col("decision") == "RECORD_WRONG") & (pl.col("reason") == ""),
            pl.lit("说明 is empty: 信息有误 says what is wrong, for the department that holds the record"),
        ),
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
            "missing_visit_date",
            visit & (pl.col("visited_on").is_null() | (pl.col("visited_on") == OPEN_ENDED_DATE)),
            pl.format(
                "走访日期 '{}' is not a date: write the day of the visit (2026-11-20)", "visited_on_text"
            ),
        ),
        (
            "missing_visit_date",
            visit & (pl.col("visited_on") > as_of),
            pl.format(
                "走访日期 {} is after the as-of date {}: check the year", "visited_on", pl.lit(str(as_of))
            ),
        ),
        (
            "missing_basis",
            keep & (pl.col("decision") == "keep") & (pl.col("basis") == ""),
            pl.lit("核实依据 is empty: copy the row from the published removal form"),
        ),
        (
            "missing_basis",
            visit & ~pl.col("basis").str.contains(VISIT_BASIS_PATTERN),
            pl.format(
                "走访依据 '{}' is not <category>:<reasons> (OUTREACH:DIBAO): copy the row from the published 走访 sheet",
                "basis",
            ),
        ),
    ]
    rule, message = pl.lit(None, dtype=pl.String), pl.lit(None, dtype=pl.String)
    for name, failed, text in reversed(checks):
        rule = pl.when(failed).then(pl.lit(name)).otherwise(rule)
        message = pl.when(failed).then(text).otherwise(message)
    frame = frame.with_columns(rule=rule, message=message)
    # One record decided two ways (two persons confirmed, or confirmed and rejected; kept and exited; two
    # outcomes of one person's visit on one day): quarantine every such row rather than pick one.
    subject = (
        pl.when(link)
        .then(pl.concat_str("source", "record_key"))
        .when(keep)
        .then(pl.concat_str("roll", "record_key"))
        .otherwise(pl.concat_str("person_id", pl.col("visited_on").cast(pl.String)))
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
        .then(
            pl.when(visit)
            .then(pl.lit("this person has two outcomes for one 走访日期 in the decision files: keep one row"))
            .otherwise(pl.lit("this record is decided two ways in the decision files: settle it in one row"))
        )
        .otherwise("message"),
    ).drop("_subject", "candidate_valid", "person_valid")


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
    # a keep decided both ways; a person visited on one day with two outcomes
    other = decided.filter(pl.col("kind").is_in(["keep", "visit"]))
    two_ways = other.group_by("_subject").agg(pl.col("decision").n_unique() > 1).filter(pl.col("decision"))
    bad = pl.concat(
        [
            link.filter(pl.col("_subject").is_in(two_persons.implode()) & (pl.col("decision") == "confirm")),
            link.join(
                both_ways.select("_subject", "candidate_person_id"), on=["_subject", "candidate_person_id"]
            ),
            other.filter(pl.col("_subject").is_in(two_ways["_subject"].implode())),
        ]
    )
    return bad.select(pl.struct("file", "row")).to_series()


def load_decisions(con: duckdb.DuckDBPyConnection, folder: Path, as_of: dt.date) -> Intake:
    """Read and validate `folder`; create `decisions_files` (what each file gave), `decisions_rows` (every
    decided row: its decision, `rule` and `message` when quarantined), `decisions_links` (valid confirm /
    reject rows, for the linker), `decisions_keeps` (valid keep / exit rows, for the removal list) and
    `decisions_visits` (valid visit outcomes, for the proactive list and the street work lists). Returns
    the intake report."""
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
    con.execute(
        """
        CREATE OR REPLACE TABLE decisions_visits AS
        SELECT decision_id, person_id, split_part(basis, ':', 1) AS category,
               string_split(split_part(basis, ':', 2), ';') AS reasons, decision AS outcome, visited_on,
               reason AS note, decided_by, file, "row"
        FROM decisions_rows WHERE kind = 'visit' AND rule IS NULL
        """
    )
    return intake
