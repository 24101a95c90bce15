"""The lists print like rosters (SPEC section 5, "a printed list is for people"): a generated city of
40,000 persons published by `aidmatch run`, and every list, the employers' view, a department's
feedback sheets and one street office's work list (its 说明, 走访, 核实退出, 政策兑现, 预警家庭) printed through LibreOffice — on this
machine's fonts and on a machine without Carlito (Calibri's metric twin), as a bureau on WPS prints.

On paper: every row, once, in order, its text whole within it (no row too short for its text); 15 rows or
more a page but on a street's (an employer's, a file's) last page, wherever the rows' heights allow it; 9 pt
or more; and the same pages with the fonts or without (`tests/printing.py` reads the PDFs).
"""

import datetime as dt
from pathlib import Path

import pytest
from conftest import run_aidmatch
from printing import MIN_ROWS, assert_printed_as_rosters, print_workbooks, without_fonts

from aidmatch.data_samples.generate import generate

AS_OF = dt.date(2026, 6, 30)
PERSONS = 40_000  # the smallest city whose streets run to several pages on every list
LISTS = ("proactive", "removals", "zero_employment_households", "entitlements")
WORKBOOKS = (*LISTS, "entitlements_by_employer", "feedback_unemployment")


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> Path:
    """The city's published folder; its busiest street's workbook copied in as `street.xlsx`."""
    base = tmp_path_factory.mktemp("city")
    generate(persons=PERSONS, seed=7, as_of=AS_OF, out=base / "world")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAGSTER_HOME", str(base / "dagster_home"))
        code = run_aidmatch(base / "world" / "input", base / "output", base / "work", AS_OF)
    assert code == 0
    return base / "output" / AS_OF.isoformat()


def _street(city: Path) -> Path:
    return max((city / "by_street").iterdir(), key=lambda path: path.stat().st_size)


@pytest.fixture(scope="module")
def printed(city, tmp_path_factory) -> dict[str, dict[str, Path]]:
    """Every workbook printed twice: on this machine's fonts, and without Carlito."""
    base = tmp_path_factory.mktemp("printed")
    paths = [*(city / f"{name}.xlsx" for name in WORKBOOKS), _street(city)]
    return {
        "this machine's fonts": print_workbooks(paths, base / "fonts"),
        "without Carlito": print_workbooks(paths, base / "no_carlito", without_fonts(base, "*Carlito*")),
    }


@pytest.mark.parametrize("name", [*WORKBOOKS, "street"])
def test_every_row_printed_15_rows_a_page_at_9_points_with_the_fonts_or_without(city, printed, name):
    path = _street(city) if name == "street" else city / f"{name}.xlsx"
    pages = {fonts: assert_printed_as_rosters(pdfs[path.stem], path) for fonts, pdfs in printed.items()}
    assert len({tuple(counts) for counts in pages.values()}) == 1, f"the pages depend on the fonts: {pages}"
    if name in (*LISTS, "street"):
        assert max(pages["without Carlito"]) >= MIN_ROWS, "pages of 15 rows and more, not only short streets"
