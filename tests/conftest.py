"""Shared fixtures for the end-to-end tests: a generated world, a tiny hand-made world, and `aidmatch run`.

Every run goes through `aidmatch.pipelines.cli.main` in-process, with DAGSTER_HOME in a tmp folder, so the
runs are real Dagster runs recorded in a real (temporary) instance; inputs and outputs are real files.
The suite never reads the environment of whoever runs it (`pytest_configure`).
"""

import csv
import datetime as dt
import hashlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from aidmatch.data_samples.generate import generate
from aidmatch.pipelines.cli import main

# What a deployment sets in its environment (systemd units, an operator's shell): the configuration in force,
# its folders, the run history, the secrets. The product reads them, some at import.
DEPLOYMENT_VARIABLES = re.compile(r"^(AIDMATCH_\w+|DAGSTER_HOME)$")


def pytest_configure(config: pytest.Config) -> None:
    """Forget the caller's deployment before any test module imports the product: the tests pass the same on
    a developer's machine and on a deployed server whose operator has AIDMATCH_CONFIG (and DAGSTER_HOME, the
    database key …) set. Each test then gets its own run history (`isolated_environment`)."""
    for name in [name for name in os.environ if DEPLOYMENT_VARIABLES.match(name)]:
        del os.environ[name]


# The quick tier (`make test-quick`, `pytest -m quick`): the modules of unit and property tests — plain
# functions, SQL on in-memory DuckDB, Dagster definitions — with no night run end to end, no office suite,
# browser or webserver. Under two minutes on two cores; the whole suite (`make test`) runs them too.
QUICK_MODULES = frozenset(
    {
        "test_citizen_id", "test_citizen_id_sql", "test_column_widths", "test_comparison_levels", "test_dates", "test_enums",
        "test_fill_in_sheets", "test_freshness", "test_matching", "test_matching_recovery", "test_names",
        "test_normalizer_properties", "test_publish_atomic", "test_reader_properties", "test_readers",
        "test_retention", "test_rules_retirement", "test_run_lock", "test_schedule", "test_settings",
        "test_staging",
    }
)  # fmt: skip


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the tests of the quick tier's modules `quick`."""
    for item in items:
        if item.path.stem in QUICK_MODULES:
            item.add_marker(pytest.mark.quick)


# Dates before the day the tests run: the as-of partitions end today (Asia/Shanghai).
WORLD_AS_OF = dt.date(2026, 6, 30)
TINY_AS_OF = dt.date(2026, 6, 30)
SOURCES = ("unemployment", "dibao", "disability", "si_persons", "si_contributions")

# SPEC section 5: the columns each CSV starts with, in this order.
SPEC_COLUMNS = {
    "proactive": [
        "person_id",
        "name",
        "sex",
        "birth_date",
        "category",
        "reasons",
        "sources",
        "match_confidence",
    ],
    "removals": ["person_id", "name", "roll", "reasons", "confidence", "source_record", "evidence"],
    "zero_employment_households": [
        "household_id",
        "status",
        "working_age_members",
        "registered_unemployed_members",
        "member_ids",
    ],
    "entitlements": [
        "person_id",
        "name",
        "entitlement",
        "employer_id",
        "employer_name",
        "subsidy_until",
        "confidence",
        "evidence",
    ],
    "dibao_employment": [
        "person_id",
        "name",
        "household_id",
        "dibao_type",
        "recorded_status",
        "finding",
        "employer_id",
        "employer_name",
        "evidence",
    ],
    "disability_employment": [
        "person_id",
        "name",
        "disability_category",
        "disability_grade",
        "status",
        "evidence",
    ],
    "households_at_risk": [
        "household_id",
        "risk",
        "working_member_id",
        "working_member_name",
        "member_ids",
        "evidence",
    ],
    "person_links": ["source", "source_record", "person_id", "method", "score"],
    "review_queue": ["source", "source_record", "candidate_person_id", "score", "evidence"],
    "quarantine": ["source", "source_record", "rule", "value", "message"],
}
LIST_NAMES = ("proactive", "removals", "zero_employment_households")

# --- citizen IDs (GB 11643-1999), computed here independently of the product -------------------

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def check_char(body: str) -> str:
    return "10X98765432"[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]


def citizen_id(region: str, birth: dt.date, sequence: int) -> str:
    body = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return body + check_char(body)


def wrong_check(valid_id: str) -> str:
    """The same ID with a different (wrong) check character."""
    return valid_id[:17] + ("0" if valid_id[17] != "0" else "1")


assert citizen_id("110105", dt.date(1949, 12, 31), 2) == "11010519491231002X"  # SPEC test vector
assert citizen_id("440524", dt.date(1880, 1, 1), 1) == "440524188001010014"  # SPEC test vector

# --- running aidmatch ------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str
    output_root: Path
    as_of: str

    @property
    def folder(self) -> Path:
        return self.output_root / self.as_of


def run_aidmatch(
    input_dir: Path,
    output_root: Path,
    work_dir: Path,
    as_of: dt.date | str,
    *extra: str,
) -> int:
    """`aidmatch run` in this process. The command sets DAGSTER_HOME for the process (Dagster finds its
    instance there); it is put back afterwards, so a module's or a session's fixture that runs a night
    leaves no run history to the modules that follow it (whichever order, whichever worker, they run in)."""
    saved = os.environ.get("DAGSTER_HOME")
    try:
        return main(
            ["run", "--input", str(input_dir), "--output", str(output_root), "--as-of", str(as_of),
             "--work-dir", str(work_dir), *extra]
        )  # fmt: skip
    finally:
        if saved is None:
            os.environ.pop("DAGSTER_HOME", None)
        else:
            os.environ["DAGSTER_HOME"] = saved


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path, monkeypatch) -> None:
    """Each test's own run history, and no deployment's configuration (the caller's AIDMATCH_CONFIG):
    `aidmatch run` sets DAGSTER_HOME for the process; it must not outlive the test that ran it."""
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.setenv("AIDMATCH_CONFIG", "")  # empty: unset, and restored to unset afterwards


@pytest.fixture
def dagster_home(tmp_path) -> Path:
    return tmp_path / "dagster_home"


# --- reading outputs --------------------------------------------------------------------------


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def read_manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


def tree_digest(folder: Path) -> dict[str, str]:
    """relative path -> sha256 of every file under `folder` (to prove a folder was left untouched)."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# --- the generated world (session-wide, generated once) ----------------------------------------


@pytest.fixture(scope="session")
def world(tmp_path_factory) -> Path:
    """A small generated city with every defect of SPEC section 2: `world/input`, `world/truth`."""
    out = tmp_path_factory.mktemp("world")
    generate(persons=500, seed=7, as_of=WORLD_AS_OF, out=out)
    return out


# --- a tiny hand-made world: five UTF-8 CSVs with the SPEC reference headers ------------------

HEADERS = {
    "unemployment": [
        "姓名", "公民身份号码", "性别", "出生日期", "民族", "户籍性质", "联系电话", "居住地址", "所属街道",
        "所属社区", "失业登记日期", "就业困难人员", "就业困难人员类别", "认定日期",
    ],
    "dibao": [
        "户编号", "保障类型", "户主姓名", "户主身份证号", "成员姓名", "成员身份证号", "与户主关系", "性别",
        "出生日期", "劳动能力", "就业状况", "保障状态", "保障起始日期", "停保日期", "月保障金额", "所属区县",
        "所属街道",
    ],
    "disability": [
        "姓名", "残疾人证号", "身份证号", "性别", "残疾类别", "残疾等级", "发证日期", "有效期至", "证件状态",
        "户籍地址",
    ],
    "si_persons": ["社会保障号码", "姓名", "性别", "出生日期", "个人状态", "离退休日期", "死亡日期", "参保地"],
    "si_contributions": [
        "社会保障号码", "姓名", "单位编号", "单位名称", "缴费类型", "险种", "费款所属期", "缴费基数", "缴费状态",
    ],
}  # fmt: skip

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = ["伟", "芳", "娜", "敏", "静", "丽强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超"]


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    sex: str
    birth: dt.date


def tiny_people(count: int = 40) -> list[Person]:
    people = []
    for i in range(count):
        birth = dt.date(1970 + i % 30, i % 12 + 1, i % 27 + 1)
        male = i % 2 == 0
        sequence = 100 + 2 * i + (1 if male else 0)
        name = _SURNAMES[i % len(_SURNAMES)] + _GIVEN[i % len(_GIVEN)] + ("华" if i >= 20 else "")
        people.append(Person(citizen_id("110101", birth, sequence), name, "男" if male else "女", birth))
    return people


PEOPLE = tiny_people()
UNEMPLOYED = PEOPLE[0:10]
DIBAO_MEMBERS = PEOPLE[10:15]
DISABLED = PEOPLE[15:20]
EMPLOYED = PEOPLE[20:40]


def _months_before(as_of: dt.date, count: int) -> list[str]:
    months, year, month = [], as_of.year, as_of.month
    for _ in range(count):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        months.append(f"{year}{month:02d}")
    return months


def tiny_rows(source: str, as_of: dt.date = TINY_AS_OF) -> list[list[str]]:
    """The data rows of one source of the tiny world, in the order of `HEADERS[source]`."""
    if source == "unemployment":
        return [
            [p.name, p.id, p.sex, p.birth.isoformat(), "汉族", "城镇", "13800000000", "北京市东城区某街1号",
             "东华门街道", "多福巷社区", f"2025-{i % 12 + 1:02d}-15", "否", "", ""]
            for i, p in enumerate(UNEMPLOYED)
        ]  # fmt: skip
    if source == "dibao":
        head_a, head_b = DIBAO_MEMBERS[0], DIBAO_MEMBERS[3]
        households = [
            ("11010100000001", head_a, DIBAO_MEMBERS[0:3]),
            ("11010100000002", head_b, DIBAO_MEMBERS[3:5]),
        ]
        return [
            [household, "城市低保", head.name, head.id, p.name, p.id, "本人" if p is head else "子女", p.sex,
             p.birth.isoformat(), "有劳动能力", "失业", "在保", "2024-01-01", "", "1200", "东城区", "东华门街道"]
            for household, head, members in households
            for p in members
        ]  # fmt: skip
    if source == "disability":
        return [
            [p.name, f"{p.id}{i % 7 + 1}{i % 4 + 1}", p.id, p.sex, "肢体", "一二三四"[i % 4] + "级",
             "2020-01-01", "2030-12-31", "有效", "北京市东城区某街2号"]
            for i, p in enumerate(DISABLED)
        ]  # fmt: skip
    if source == "si_persons":
        return [[p.id, p.name, p.sex, p.birth.isoformat(), "参保缴费", "", "", "东城区"] for p in PEOPLE]
    if source == "si_contributions":
        return [
            [p.id, p.name, "U0001", "长安机械有限责任公司", "单位职工", "企业职工基本养老保险", month, "6000", "已实缴"]
            for p in EMPLOYED
            for month in _months_before(as_of, 3)
        ]  # fmt: skip
    raise ValueError(source)


def write_csv_file(path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_tiny_world(root: Path, as_of: dt.date = TINY_AS_OF) -> Path:
    """`root/<source>/东城区.csv` for the five sources, extracted on `as_of`; returns root."""
    for source in SOURCES:
        write_csv_file(root / source / "东城区.csv", HEADERS[source], tiny_rows(source, as_of))
    return root


@pytest.fixture(scope="session")
def tiny_good_output(tmp_path_factory) -> Iterator[Path]:
    """A published good output of the tiny world (OUTPUT root), to check failing runs leave it alone."""
    base = tmp_path_factory.mktemp("tiny_good")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAGSTER_HOME", str(base / "dagster_home"))
        code = run_aidmatch(write_tiny_world(base / "input"), base / "output", base / "work", TINY_AS_OF)
    assert code == 0, "the tiny world itself must run cleanly"
    yield base / "output"


# --- two published nights of the generated world, shared by the report, schema and UI tests -----


@dataclass(frozen=True)
class Nights:
    """The generated world run for the night before WORLD_AS_OF and for WORLD_AS_OF itself, in one
    Dagster instance (`home`); between the two, one registration line of a CSV extract is blanked, so
    the second night has changes."""

    input: Path
    output: Path
    work: Path
    home: Path
    dates: tuple[str, str]

    @property
    def last(self) -> Path:
        return self.output / self.dates[-1]


def blank_csv_line(path: Path, line: int) -> None:
    """Empty one line of a CSV in place (encoding untouched): the rows after it keep their numbers."""
    lines = path.read_bytes().splitlines(keepends=True)
    content = lines[line - 1]
    lines[line - 1] = content[len(content.rstrip(b"\r\n")) :]
    path.write_bytes(b"".join(lines))


@pytest.fixture(scope="session")
def two_nights(tmp_path_factory, world) -> Nights:
    import shutil

    base = tmp_path_factory.mktemp("two_nights")
    shutil.copytree(world / "input", base / "input")
    dates = ((WORLD_AS_OF - dt.timedelta(days=1)).isoformat(), WORLD_AS_OF.isoformat())
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAGSTER_HOME", str(base / "dagster_home"))
        patch.setenv("AIDMATCH_CONFIG", "")
        assert run_aidmatch(base / "input", base / "output", base / "work", dates[0]) == 0
        _, removals = read_csv(base / "output" / dates[0] / "removals.csv")
        record = next(
            r["source_record"]
            for r in removals
            if re.match(r"^unemployment/[^#]+\.csv:\d+$", r["source_record"])
        )
        file, line = record.rsplit(":", 1)
        blank_csv_line(base / "input" / file, int(line))  # a registration leaves the roll
        assert run_aidmatch(base / "input", base / "output", base / "work", dates[1]) == 0
    return Nights(base / "input", base / "output", base / "work", base / "dagster_home", dates)
