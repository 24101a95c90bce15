"""report.html in a real headless Chromium: it loads with no error, loads nothing from outside, shows
the run's own counts, and draws something.

The figures are held against the published CSV files of the same night, counted here independently.
"""

import io
import re
import shutil
from collections import Counter

import duckdb
import pytest
from browser import Browser
from conftest import read_csv, read_manifest
from PIL import Image

from aidmatch.publish.report_figures import _score_bins, list_groups
from aidmatch.tables.catalog import CORE_PERSON_LINKS, CORE_REVIEW_QUEUE
from aidmatch.tables.ddl import create_table

FIGURES = (
    "Object.fromEntries([...document.querySelectorAll('[data-figure]')]"
    ".map(e => [e.dataset.figure, e.textContent.trim()]))"
)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    browser = Browser(tmp_path_factory.mktemp("chromium"))
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def page(browser, two_nights) -> dict[str, str]:
    """The last night's report, opened: its figures by name."""
    browser.open((two_nights.last / "report.html").as_uri())
    return browser.evaluate(FIGURES)


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def _rows(two_nights, name: str) -> list[dict[str, str]]:
    return read_csv(two_nights.last / f"{name}.csv")[1]


def test_report_loads_without_errors_and_is_drawn(browser, page):
    assert browser.errors() == []
    assert page, "the page shows its figures"
    image = Image.open(io.BytesIO(browser.screenshot())).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20)
    assert len(colours) > 20, "the screenshot is a page of text and charts, not a blank"
    light = sum(n for n, rgb in colours if min(rgb) > 240)
    assert light < 0.97 * image.width * image.height, "not an almost empty page"
    svg = browser.evaluate("document.querySelectorAll('svg rect, svg path, svg circle').length")
    assert svg > 50, "the charts are drawn"


def test_the_detector_sees_an_outside_load(browser, two_nights, tmp_path):
    """Negative control: the same page asking for an image on 127.0.0.1 is refused by its own CSP, and
    the refusal is an error the test above would have seen."""
    page = tmp_path / "report.html"
    html = (two_nights.last / "report.html").read_text(encoding="utf-8")
    page.write_text(
        html.replace("<body>", '<body><img src="http://127.0.0.1:9/logo.png">', 1), encoding="utf-8"
    )
    browser.open(page.as_uri())
    assert any("Content Security Policy" in e for e in browser.errors()), browser.errors()


def test_figures_equal_the_published_counts(page, two_nights):
    for name, table in (
        ("proactive", "out_proactive"),
        ("removals", "out_removals"),
        ("zero_employment_households", "out_zero_employment_households"),
        ("entitlements", "out_entitlements"),
        ("dibao_employment", "out_dibao_employment"),
        ("disability_employment", "out_disability_employment"),
        ("households_at_risk", "out_households_at_risk"),
    ):
        assert _number(page[f"list_rows:{table}"]) == len(_rows(two_nights, name)), name
    entitled = Counter(r["entitlement"] for r in _rows(two_nights, "entitlements"))
    assert entitled, "the world holds entitlements"
    for code, n in entitled.items():  # counted by district: every row under one, the unplaced under （空）
        assert _number(page[f"district:out_entitlements:{code}:total"]) == n, code
    holders = _rows(two_nights, "disability_employment")
    assert holders, "the world holds card holders of working age"
    for district in {r["district"] for r in holders}:
        mine = [r for r in holders if r["district"] == district]
        working = sum(r["status"] in ("EMPLOYED", "FLEXIBLY_EMPLOYED") for r in mine)
        assert page[f"employment_rate:{district or '（空）'}"] == f"{working / len(mine):.1%}", district
    work = {
        r["person_id"]
        for r in _rows(two_nights, "removals")
        if r["roll"] == "unemployment" and {"EMPLOYED", "FLEXIBLY_EMPLOYED"} & set(r["reasons"].split(";"))
    }
    for name, column in (("dibao_employment", "person_id"), ("households_at_risk", "working_member_id")):
        also = sum(r[column] in work for r in _rows(two_nights, name))
        assert _number(page[f"on_removal_list:out_{name}"]) == also, name
    links = _rows(two_nights, "person_links")
    assert _number(page["records"]) == len(links)
    assert _number(page["linked"]) == sum(1 for r in links if r["person_id"])
    assert _number(page["persons"]) == len({r["person_id"] for r in links if r["person_id"]})
    assert page["link_rate"] == f"{sum(1 for r in links if r['person_id']) / len(links):.2%}"
    for (method, source), n in Counter((r["method"], r["source"]) for r in links).items():
        assert _number(page[f"method:{method}:{source}"]) == n, (method, source)
    for method, n in Counter(r["method"] for r in links).items():
        assert _number(page[f"method:{method}:total"]) == n, method
    assert _number(page["no_candidate"]) == sum(
        1 for r in links if r["method"] == "unlinked:invalid_id_no_candidate"
    )
    assert _number(page["second_id_records"]) == sum(1 for r in links if r["method"] == "fuzzy_second_id")

    review = _rows(two_nights, "review_queue")
    assert _number(page["review_rows"]) == len(review)
    method = {(r["source"], r["source_record"]): r["method"] for r in links}
    kinds = Counter(method[(r["source"], r["source_record"])] for r in review)
    assert _number(page["review_pairs"]) == sum(min(n, 8) for n in kinds.values()) > 0, (
        "8 of each kind at most"
    )

    quarantine = _rows(two_nights, "quarantine")
    assert _number(page["quarantine_rows"]) == len(quarantine)
    counted = Counter((f"{r['rule']} ({r['action']})", r["source"]) for r in quarantine)
    shown = {
        tuple(key.split(":", 1)[1].rsplit(":", 1)): _number(value)
        for key, value in page.items()
        if key.startswith("quarantine:") and not key.endswith(":total")
    }
    assert shown == dict(counted)

    changes = Counter((r["list"], r["change"]) for r in _rows(two_nights, "changes"))
    assert changes, "a registration was taken off between the two nights"
    assert {k: _number(v) for k, v in page.items() if k.startswith("change:")} == {
        f"change:{lst}:{change}": n for (lst, change), n in changes.items()
    }


def test_report_is_linked_from_the_manifest_and_trends_over_the_runs(two_nights, browser, tmp_path):
    manifest = read_manifest(two_nights.last)
    assert manifest["report"]["file"] == "report.html"
    assert manifest["outputs"]["report.html"]["bytes"] == (two_nights.last / "report.html").stat().st_size
    assert manifest["report"]["figures"]["link_rate"] > 0.9
    html = (two_nights.last / "report.html").read_text(encoding="utf-8")
    assert f"previous run {two_nights.dates[0]}" in html
    assert re.search(r"The last 2 published runs", html), "both nights in the trend"
    assert not re.search(r"\b\d{17}[\dX]\b", html), "no full citizen ID in the report"

    # A report moved elsewhere (an e-mail attachment) reads the same: it refers to nothing beside it.
    alone = tmp_path / "alone.html"
    shutil.copy(two_nights.last / "report.html", alone)
    browser.open(alone.as_uri())
    assert browser.errors() == []


def test_a_list_with_a_district_is_broken_down_by_it():
    """Once a list carries `district` (the door-to-door columns), the report counts its reasons by district."""
    with duckdb.connect() as con:
        con.execute(
            "CREATE TABLE out_proactive AS SELECT * FROM (VALUES ('RECOGNIZE', 'DIBAO;AGE_4050', '东城区'), "
            "('OUTREACH', 'DIBAO', '西城区'), ('OUTREACH', 'DIBAO', NULL)) t(category, reasons, district)"
        )
        con.execute("CREATE TABLE out_removals (roll VARCHAR, reasons VARCHAR)")
        con.execute("CREATE TABLE out_zero_employment_households AS SELECT 'CONFIRMED' AS status")
        con.execute(
            "CREATE TABLE out_entitlements AS SELECT * FROM (VALUES ('TEMP_LIVING_ALLOWANCE', '东城区'), "
            "('TEMP_LIVING_ALLOWANCE', '东城区'), ('SI_SUBSIDY_EMPLOYER', NULL)) t(entitlement, district)"
        )
        con.execute("CREATE TABLE out_dibao_employment AS SELECT 'EMPLOYED' AS finding, '西城区' AS district")
        con.execute("CREATE TABLE out_households_at_risk (risk VARCHAR, district VARCHAR)")
        con.execute(
            "CREATE TABLE out_disability_employment AS SELECT 'RETIRED' AS status, NULL::VARCHAR AS district"
        )
        groups = {(g["list"], g["group"], g["district"], g["reason"]): g["rows"] for g in list_groups(con)}
    assert groups == {
        ("out_proactive", "OUTREACH", "", "DIBAO"): 1,
        ("out_proactive", "OUTREACH", "西城区", "DIBAO"): 1,
        ("out_proactive", "RECOGNIZE", "东城区", "AGE_4050"): 1,
        ("out_proactive", "RECOGNIZE", "东城区", "DIBAO"): 1,
        ("out_zero_employment_households", "CONFIRMED", "", ""): 1,
        ("out_entitlements", "SI_SUBSIDY_EMPLOYER", "", ""): 1,
        ("out_entitlements", "TEMP_LIVING_ALLOWANCE", "东城区", ""): 2,
        ("out_dibao_employment", "EMPLOYED", "西城区", ""): 1,
        ("out_disability_employment", "RETIRED", "", ""): 1,
    }


def test_the_score_bins_count_each_scored_record_once_at_its_outcome() -> None:
    """The report's match histogram: a record not linked by its own ID counts at its score as linked, in
    review or unlinked; a record linked by its own ID counts only when it is in the review queue all the
    same (at its candidate's score, in review); a record of another file with the same row number as a
    queued one is not taken for it."""
    con = duckdb.connect()
    create_table(con, CORE_PERSON_LINKS)
    create_table(con, CORE_REVIEW_QUEUE)
    con.execute(
        """INSERT INTO core_person_links BY NAME
           SELECT * FROM (VALUES
               ('dibao', 'dibao/a.csv', NULL, 2, 'P1', 'fuzzy', 13.0),          -- linked, bin 12
               ('dibao', 'dibao/a.csv', NULL, 3, NULL, 'unlinked:review', 9.0), -- in review, bin 8
               ('dibao', 'dibao/a.csv', NULL, 4, NULL, 'unlinked:none', 1.0),   -- unlinked, bin 0
               ('dibao', 'dibao/a.csv', NULL, 5, 'P2', 'exact_id', NULL),       -- queued all the same
               ('dibao', 'dibao/b.csv', NULL, 5, 'P3', 'exact_id', NULL),       -- same row, other file
               ('dibao', 'dibao/a.csv', NULL, 6, 'P4', 'exact_id', NULL)        -- not scored
           ) AS t(source, source_file, source_sheet, source_row, person_id, method, score)"""
    )
    con.execute(
        """INSERT INTO core_review_queue BY NAME
           SELECT *, '' AS evidence, '' AS record_key FROM (VALUES
               ('dibao', 'dibao/a.csv:3', 'P9', 9.0),
               ('dibao', 'dibao/a.csv:5', 'P8', 5.0),
               ('dibao', 'dibao/a.csv:5', 'P7', 6.5)
           ) AS t(source, source_record, candidate_person_id, score)"""
    )
    bins = dict(_score_bins(con))
    # bins of SCORE_BIN_BITS (2) bits; the queued exact link at its best candidate's score, 6.5
    assert bins == {0.0: {"unlinked": 1}, 6.0: {"review": 1}, 8.0: {"review": 1}, 12.0: {"linked": 1}}
