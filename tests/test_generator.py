"""The sample-data generator: true IDs, every defect, truth rows that point at the right file rows."""

import csv
import re
from datetime import date, datetime
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from python_calamine import CalamineWorkbook

from aidmatch.data_samples import expected
from aidmatch.data_samples.citizen_ids import citizen_id
from aidmatch.data_samples.defects import ID_DEFECTS, NAME_DEFECTS, RARE_CHARACTERS
from aidmatch.data_samples.expected import retirement_date
from aidmatch.data_samples.generate import generate
from aidmatch.data_samples.world import World
from aidmatch.data_samples.writers import HEADERS

AS_OF = date(2026, 11, 22)
SAMPLE = Path(__file__).resolve().parents[1] / "data_samples" / "sample"
ID_HEADERS = {
    "公民身份号码",
    "身份证号码",
    "身份证号",
    "证件号码",
    "成员身份证号",
    "成员身份证号码",
    "社会保障号码",
}
FOOTER = re.compile(r"^(合计|制表人|制表日期|共\d|填报单位|\d+人$)")
NAME_HEADERS = ("姓名", "成员姓名", "人员姓名")


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("city")
    generate(2000, 3, AS_OF, out)
    return out


def extracts(city: Path, *suffixes: str) -> list[Path]:
    """The extract files of every source folder, subfolders included (the generator files one per month)."""
    return sorted(
        p for p in (city / "input").rglob("*") if p.is_file() and (not suffixes or p.suffix in suffixes)
    )


def source_of(city: Path, path: Path) -> str:
    return path.relative_to(city / "input").parts[0]


def read_rows(path: Path) -> dict[tuple[str | None, int], list]:
    """Every non-empty row of an extract keyed by (sheet, row number as Excel or an editor shows it)."""
    if path.suffix == ".xls":
        workbook = CalamineWorkbook.from_path(str(path))
        return {
            (name, number): [None if c == "" else c for c in row]
            for name in workbook.sheet_names
            for number, row in enumerate(workbook.get_sheet_by_name(name).to_python(skip_empty_area=False), 1)
            if any(c != "" for c in row)
        }
    if path.suffix == ".xlsx":
        workbook = openpyxl.load_workbook(path)
        return {
            (sheet.title, cells[0].row): [c.value for c in cells]
            for sheet in workbook
            for cells in sheet.iter_rows()
            if any(c.value is not None for c in cells)
        }
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("gb18030")
    delimiter = "\t" if path.suffix == ".txt" else ","
    lines = csv.reader(text.splitlines(), delimiter=delimiter)
    return {(None, i): row for i, row in enumerate(lines, start=1) if any(row)}


def data_rows(rows: dict[tuple[str | None, int], list], source: str) -> dict[tuple[str | None, int], list]:
    """The rows below the header row that are neither blank nor footer."""
    header = {h for _, h in HEADERS[source]}
    headers = {sheet: row for (sheet, row), cells in rows.items() if header & {str(c) for c in cells}}
    return {
        (sheet, row): cells
        for (sheet, row), cells in rows.items()
        if row > headers[sheet] and not FOOTER.match(str(cells[0] or ""))
    }


def test_citizen_id_vectors() -> None:
    frame = pl.DataFrame(
        {"region": ["110105", "440524"], "birth": [date(1949, 12, 31), date(1880, 1, 1)], "seq": [2, 1]}
    )
    ids = frame.select(citizen_id(pl.col("region"), pl.col("birth"), pl.col("seq")))["region"].to_list()
    assert ids == ["11010519491231002X", "440524188001010014"]


@pytest.mark.parametrize(
    ("birth", "scheme", "retires"),
    [
        (date(1970, 3, 31), "male", date(2031, 7, 31)),
        (date(1980, 8, 31), "female_50", date(2033, 6, 30)),
        (date(1978, 5, 10), "female_55", date(2035, 7, 10)),
        (date(1960, 6, 15), "male", date(2020, 6, 15)),
    ],
)
def test_retirement_date_vectors(birth: date, scheme: str, retires: date) -> None:
    assert retirement_date(birth, scheme) == retires


def test_true_ids_are_unique_valid_and_match_sex_and_birth(city: Path) -> None:
    persons = pl.read_csv(city / "truth" / "persons.csv", infer_schema=False)
    assert persons["person_id"].is_unique().all()
    recomputed = persons.select(
        citizen_id(
            pl.col("person_id").str.slice(0, 6),
            pl.col("birth_date").str.to_date(),
            pl.col("person_id").str.slice(14, 3).cast(pl.Int64),
        )
    ).to_series()
    assert (recomputed == persons["person_id"]).all()
    odd = persons["person_id"].str.slice(16, 1).cast(pl.Int64) % 2 == 1
    assert ((persons["sex"] == "男") == odd).all()


def test_near_miss_pairs_are_different_people(city: Path) -> None:
    persons = pl.read_csv(city / "truth" / "persons.csv", infer_schema=False)
    twins = persons.filter(pl.col("near_miss") == "twin").sort("person_id")
    assert twins.group_by(pl.col("person_id").str.slice(0, 14)).len()["len"].max() >= 2
    for kind in ("father_son", "same_name_birth"):
        pairs = (
            persons.filter(pl.col("near_miss") == kind).group_by("name").agg(pl.col("person_id").n_unique())
        )
        assert (pairs["person_id"] >= 2).any()


def test_truth_rows_point_at_the_records(city: Path) -> None:
    """Every data row of every file has one truth row, and that row holds the record's ID and name."""
    truth = pl.read_csv(city / "truth" / "records.csv", infer_schema=False).fill_null("")
    names = dict(
        pl.read_csv(city / "truth" / "persons.csv", infer_schema=False)
        .select("person_id", "name")
        .iter_rows()
    )
    checked = 0
    for path in extracts(city):
        source = source_of(city, path)
        rows = data_rows(read_rows(path), source)
        file = path.relative_to(city / "input").as_posix()
        file_truth = truth.filter(pl.col("source_record").str.extract(r"^([^#:]+)") == file)
        located = {}
        for record, person, id_defect, name_defect in file_truth.select(
            "source_record", "true_person_id", "id_defect", "name_defect"
        ).iter_rows():
            where, row = record.rsplit(":", 1)
            sheet = where.split("#")[1] if "#" in where else None
            located[(sheet, int(row))] = (person, id_defect, name_defect)
        assert set(located) == set(rows), path
        header = next(
            cells
            for cells in read_rows(path).values()
            if {h for _, h in HEADERS[source]} & set(map(str, cells))
        )
        header = [str(h) for h in header]
        id_header = "残疾人证号" if source == "disability" else (ID_HEADERS & set(header)).pop()
        id_col = header.index(id_header)
        name_col = next(i for i, h in enumerate(header) if h in NAME_HEADERS)
        for key, (person, id_defect, name_defect) in located.items():
            cells = rows[key]
            if id_defect == "":
                assert str(cells[id_col])[:18] == person, (path, key)
            if id_defect == "excel_numeric":
                cell = cells[id_col]
                assert (
                    isinstance(cell, float)
                    if path.suffix in (".xlsx", ".xls")
                    else re.fullmatch(r"\d(\.\d+)?E\+1[79]", cell)
                )
            if name_defect == "":
                assert cells[name_col] == names[person], (path, key)
            checked += 1
    assert checked == truth.height


def test_same_seed_same_output(city: Path, tmp_path: Path) -> None:
    generate(2000, 3, AS_OF, tmp_path)
    for name in ("records.csv", "persons.csv", "expected_removals.csv"):
        assert (tmp_path / "truth" / name).read_bytes() == (city / "truth" / name).read_bytes()


def test_duplicates_are_all_removed_but_one(city: Path) -> None:
    truth = pl.read_csv(city / "truth" / "records.csv", infer_schema=False).filter(
        pl.col("source") == "unemployment"
    )
    removals = pl.read_csv(city / "truth" / "expected_removals.csv", infer_schema=False)
    duplicates = removals.filter(pl.col("reasons").str.contains("DUPLICATE"))
    assert duplicates.height == truth.height - truth["true_person_id"].n_unique()
    assert duplicates["source_record"].is_in(truth["source_record"].implode()).all()
    assert (duplicates["confidence"] == "high").all()


def test_layout_defects(city: Path) -> None:
    """Title rows, several sheets, blank rows, Excel numbers and date cells, every date format, encodings."""
    cells, sheets, gaps = [], set(), False
    for path in extracts(city, ".xlsx", ".xls"):
        rows = data_rows(read_rows(path), source_of(city, path))
        sheet_names = sorted({s for s, _ in rows})
        sheets.add(len(sheet_names))
        for name in sheet_names:
            numbers = sorted(row for s, row in rows if s == name)
            gaps |= numbers != list(range(numbers[0], numbers[0] + len(numbers)))
        if path.suffix == ".xlsx":
            cells += [
                c
                for sheet in openpyxl.load_workbook(path)
                for row in sheet.iter_rows(values_only=True)
                for c in row
            ]
    assert max(sheets) >= 2 and gaps
    assert any(isinstance(c, datetime) for c in cells)
    assert any(isinstance(c, float) and c > 1e16 for c in cells)  # an ID Excel stored as a number
    assert any(isinstance(c, int | float) and 10_000 < c < 60_000 for c in cells)  # an Excel serial date
    texts = [str(c) for c in cells]
    for csv_path in extracts(city, ".csv", ".txt"):
        texts += [cell for cells in read_rows(csv_path).values() for cell in cells]
    for pattern in (
        r"\d{4}-\d\d-\d\d",
        r"\d{4}/\d{1,2}/\d{1,2}",
        r"(19|20)\d{6}",
        r"\d{4}年\d{1,2}月\d{1,2}日",
        r"4\d{4}",
    ):
        assert any(re.fullmatch(pattern, t) for t in texts), pattern
    encodings = set()
    for csv_path in extracts(city, ".csv", ".txt"):
        raw = csv_path.read_bytes()
        try:
            raw.decode("utf-8")
            encodings.add("utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "utf-8")
        except UnicodeDecodeError:
            encodings.add("gb18030")
    assert encodings == {"utf-8", "utf-8-sig", "gb18030"}


def test_other_systems_exports_hold_every_format(city: Path) -> None:
    """The files as other departments' systems write them (SPEC section 2): headers under the shipped
    aliases, a leading 序号, columns in another order, a 备注, a grouping row of merged cells above the
    header, the footer's counts under the ID column, and every 生僻字 placeholder."""
    headers, above, footers, names = set(), [], [], set()
    shuffled = merged = False
    for path in extracts(city):
        source = source_of(city, path)
        rows = read_rows(path)
        header_at = {
            sheet: row
            for (sheet, row), cells in rows.items()
            if len({h for _, h in HEADERS[source]} & {str(c) for c in cells}) >= 2
        }
        for (sheet, row), cells in rows.items():
            texts = [str(c) for c in cells if c not in (None, "")]
            if row == header_at[sheet]:
                headers |= set(texts)
                known = [h for _, h in HEADERS[source] if h in texts]
                shuffled |= known != [h for h in texts if h in known]
                first, last = texts[0], texts[-1]
                headers |= {f"first:{first}", f"last:{last}"}
            elif row == header_at[sheet] - 1:
                above.append(texts)
            elif row > header_at[sheet] and FOOTER.match(texts[0]):
                footers.append((source, cells))
            else:
                names |= set(texts)
        if path.suffix == ".xlsx":
            merged |= any(sheet.merged_cells.ranges for sheet in openpyxl.load_workbook(path))
    for alias in (
        "人员姓名",
        "成员姓名",
        "手机号码",
        "联系方式",
        "家庭住址",
        "现居住地址",
        "出生年月日",
        "证件号码",
    ):
        assert alias in headers, alias
    assert {"first:序号", "last:备注"} <= headers and shuffled and merged
    assert ["基本信息", "登记认定情况"] in above and ["人员信息", "参保状态"] in above  # an xlsx's, a CSV's
    counts = [
        cells
        for _, cells in footers
        if str(cells[0]) == "合计" and any(re.fullmatch(r"\d+人", str(c)) for c in cells)
    ]
    assert counts and any(re.fullmatch(r"共\d+条", str(cells[0])) for _, cells in footers)
    assert any(re.fullmatch(r"共\d+户\d+人", str(cells[0])) for _, cells in footers)
    written = {
        c for name in names if len(name) <= 4 for c in name if c in "?□〇*？" or 0xE000 <= ord(c) <= 0xF8FF
    }
    assert len(written) >= 3 and any(0xE000 <= ord(c) <= 0xF8FF for c in written), written
    assert any(c in "".join(names) for c in RARE_CHARACTERS)  # a system that encodes them writes them


def test_a_world_without_export_variants_is_the_same_world(city: Path, tmp_path: Path) -> None:
    """The same seed with --no-export-variants: the same persons (but for the 生僻字 in 2% of names), the
    same records with the same defects, the same expected lists."""
    generate(2000, 3, AS_OF, tmp_path, export_variants=False)
    with_variants, plain = (
        pl.read_csv(folder / "truth" / "persons.csv", infer_schema=False) for folder in (city, tmp_path)
    )
    renamed = with_variants["name"] != plain["name"]
    assert with_variants.drop("name").equals(plain.drop("name"))
    assert 0.01 < renamed.mean() < 0.03
    assert with_variants.filter(renamed)["name"].str.contains_any(list(RARE_CHARACTERS)).all()
    record = ["source", "true_person_id", "id_defect", "row_defect", "id_recoverable"]
    truths = [
        pl.read_csv(folder / "truth" / "records.csv", infer_schema=False) for folder in (city, tmp_path)
    ]
    assert truths[0].select(record).sort(record).equals(truths[1].select(record).sort(record))
    placeholders = truths[0].filter(pl.col("name_defect") == "rare_char_placeholder")
    assert placeholders.height and "rare_char_placeholder" not in truths[1]["name_defect"].to_list()
    for name in ("expected_proactive.csv", "expected_zero_employment_households.csv"):
        assert (city / "truth" / name).read_bytes() == (tmp_path / "truth" / name).read_bytes()


@pytest.mark.skipif(not (SAMPLE / "truth" / "records.csv").exists(), reason="committed sample not generated")
def test_committed_sample_holds_every_defect() -> None:
    truth = pl.read_csv(SAMPLE / "truth" / "records.csv", infer_schema=False)
    counts = {
        column: dict(truth[column].value_counts().iter_rows())
        for column in ("id_defect", "name_defect", "row_defect")
    }
    for kind in [*ID_DEFECTS, "lowercase_x"]:
        assert counts["id_defect"].get(kind, 0) >= 3, kind
    for kind in [*NAME_DEFECTS, "rare_char_placeholder"]:
        assert counts["name_defect"].get(kind, 0) >= 3, kind
    for kind in ("exact_duplicate_row", "second_registration"):
        assert counts["row_defect"].get(kind, 0) >= 3, kind
    files = extracts(SAMPLE)
    assert {p.suffix for p in files} == {".csv", ".xlsx", ".xls", ".txt"}
    assert any(len(p.relative_to(SAMPLE / "input").parts) > 2 for p in files), "a file in a subfolder"
    records = truth["source_record"].str.extract(r"^([^#:]+)").unique().to_list()
    assert sorted(records) == sorted(p.relative_to(SAMPLE / "input").as_posix() for p in files)
    heads = {p.read_bytes()[:3] == b"\xef\xbb\xbf" for p in extracts(SAMPLE, ".csv")}
    assert heads == {True, False}


def test_expected_lists_follow_the_spec_on_a_tiny_city() -> None:
    d = date(2026, 11, 22)
    people = [
        ("P1", "男", date(1980, 1, 1)),  # registered long ago, 低保 member of a zero-employment household
        ("P2", "女", date(2008, 5, 1)),  # his daughter, a student: not counted
        ("P3", "女", date(1990, 2, 2)),  # registered twice, employed
        ("P4", "男", date(1960, 1, 1)),  # registered, retired in si
        ("P5", "女", date(1985, 3, 3)),  # not registered, valid 四级 card
        ("P6", "男", date(1975, 6, 6)),  # 就业困难 on 低保 grounds, but 低保 stopped
    ]
    persons = pl.DataFrame(people, schema=["person_id", "sex", "birth_date"], orient="row")
    dibao = pl.DataFrame(
        [
            ("P1", "H1", "城市低保", "在保", "有劳动能力", "失业"),
            ("P2", "H1", "城市低保", "在保", "完全丧失劳动能力", "在校学生"),
            ("P6", "H2", "城市低保", "停保", "有劳动能力", "失业"),
        ],
        schema=["person_id", "household_id", "assistance_type", "assistance_status", "work_capacity",
                "employment_status"],
        orient="row",
    )  # fmt: skip
    records = {
        "dibao": dibao,
        "si_contributions": pl.DataFrame(
            {
                "person_id": ["P3"],
                "period_month": ["202609"],
                "contribution_type": ["单位职工"],
                "payment_status": ["已实缴"],
            }
        ),  # fmt: skip
        "disability": pl.DataFrame(
            {
                "person_id": ["P5"],
                "card_status": ["有效"],
                "valid_until": [date(2030, 1, 1)],
                "disability_grade": ["四级"],
            }
        ),  # fmt: skip
        "si_persons": pl.DataFrame({"person_id": ["P4"], "person_status": ["离退休"]}),
    }
    registrations = pl.DataFrame(
        [
            ("u/a.csv:2", "P1", date(2025, 1, 10), "否", None),
            ("u/a.csv:3", "P3", date(2025, 6, 1), "否", None),
            ("u/a.csv:4", "P3", date(2026, 3, 1), "否", None),
            ("u/a.csv:5", "P4", date(2025, 2, 1), "否", None),
            ("u/a.csv:6", "P6", date(2026, 1, 1), "是", "低保"),
            ("u/a.csv:14", "P4", date(2025, 2, 1), "否", None),  # the same day: row 14 is the copy, not row 5
        ],
        schema=["source_record", "person_id", "registered_on", "is_difficult", "difficulty_categories"],
        orient="row",
    )
    world = World(d, persons, records)
    facts = expected.person_facts(world)
    households = expected.zero_employment_households(world, facts, registrations)
    assert households.rows() == [("H1", "CONFIRMED")]
    assert expected.proactive(world, facts, registrations, households).rows() == [
        ("P1", "RECOGNIZE", "DIBAO;LONG_TERM_UNEMPLOYED;ZERO_EMPLOYMENT_HOUSEHOLD"),
        ("P5", "OUTREACH", "DISABLED"),
    ]
    assert expected.removals(facts, registrations).rows() == [
        ("u/a.csv:14", "unemployment", "DUPLICATE;RETIRED", "high"),
        ("u/a.csv:3", "unemployment", "EMPLOYED", "high"),
        ("u/a.csv:4", "unemployment", "DUPLICATE;EMPLOYED", "high"),
        ("u/a.csv:5", "unemployment", "RETIRED", "high"),
        ("u/a.csv:6", "employment_difficulty", "BASIS_ENDED", "review"),
    ]
