"""benchmarks/pension_city.py: a contributions file thinned to its pension rows, in its own encoding."""

import pytest

from benchmarks.pension_city import pensions_only, thin

HEADER = "社会保障号码,人员姓名,险种,费款所属期\n"
ROWS = [
    "110101199001011234,张三,企业职工基本养老保险,202610",
    "110101199001011234,张三,职工基本医疗保险,202610",
    "110101199001011234,张三,工伤保险,202610",
    "110101199001011234,张三,失业保险,202610",
    "110101195001011234,李四,城乡居民基本养老保险,202610",
]
FOOTER = "合计,5条,,"


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_a_contributions_file_keeps_its_pension_rows_header_and_footer_in_its_encoding(tmp_path, encoding):
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_bytes((HEADER + "\n".join(ROWS) + "\n" + FOOTER).encode(encoding))
    assert thin(source, target) == (7, 4)
    kept = target.read_bytes().decode(encoding).split("\n")
    assert kept == [HEADER.rstrip("\n"), ROWS[0], ROWS[4], FOOTER]


def test_a_city_is_laid_out_with_its_other_sources_linked_and_its_contributions_thinned(tmp_path):
    city, out = tmp_path / "city", tmp_path / "out"
    (city / "si_persons").mkdir(parents=True)
    (city / "si_persons" / "东城区.csv").write_text("社会保障号码,姓名\n", encoding="utf-8")
    (city / "si_contributions" / "2026年11月").mkdir(parents=True)
    (city / "si_contributions" / "2026年11月" / "东城区.csv").write_bytes(
        (HEADER + "\n".join(ROWS)).encode("gb18030")
    )
    pensions_only(city, out)
    persons = out / "si_persons" / "东城区.csv"
    assert persons.stat().st_ino == (city / "si_persons" / "东城区.csv").stat().st_ino  # a link, no copy
    thinned = (out / "si_contributions" / "2026年11月" / "东城区.csv").read_bytes().decode("gb18030")
    assert thinned.split("\n") == [HEADER.rstrip("\n"), ROWS[0], ROWS[4]]
