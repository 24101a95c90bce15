"""A province past one node: two generated cities run as Dagster partitions (as-of × city) — `aidmatch run`
with `province.cities` set, in this process, each step in its own (the multiprocess executor) — against one run
over both cities' extracts together. The union of the two cities' lists is the one run's lists; a row
that differs is one whose person has a record that only a single run can link (a damaged ID whose
person is known only in the other city: identity resolution stays within a city, docs/scaling.md).
"""

import datetime as dt
import stat
from pathlib import Path

import duckdb
import polars as pl
import pytest

from aidmatch.data_samples.province import as_one_input, generate_province
from aidmatch.pipelines.cli import main
from aidmatch.pipelines.code_location import build_defs
from aidmatch.pipelines.province import city_partition, lists_requests
from aidmatch.province.person_index import PersonIndexMissing, attach_person_index
from aidmatch.province.settings import ProvinceSettings
from aidmatch.settings import Settings
from aidmatch.work_database import open_work_database
from tests.conftest import read_manifest, run_aidmatch

AS_OF = dt.date(2026, 6, 30)
EXPIRED_NIGHT = "2026-06-01"
KEY = "the-province-work-databases-key"
CITIES = ("石家庄市", "唐山市")
# The list rows compared, by what identifies a row and what it says.
LISTS = {
    "proactive": ["person_id", "category", "reasons"],
    "removals": ["source_record", "roll", "reasons"],
    "zero_employment_households": ["household_id", "status", "member_ids"],
}


@pytest.fixture(scope="module")
def province(tmp_path_factory) -> Path:
    """Two cities of one province, run city by city and as one; 石家庄市's 西城区 pays its contributions
    through 唐山市's agency and its 朝阳区 registers its unemployed in 唐山市, so people of each city have
    records in the other's extracts."""
    root = tmp_path_factory.mktemp("province")
    generate_province(2, persons=400, seed=5, as_of=AS_OF, out=root)
    first, second = (root / "cities" / city for city in CITIES)
    (first / "si_contributions" / "西城区.csv").rename(second / "si_contributions" / "石家庄市西城区.csv")
    (first / "unemployment" / "朝阳区.xlsx").rename(second / "unemployment" / "石家庄市朝阳区.xlsx")
    config = root / "aidmatch.yaml"
    config.write_text(
        "paths: {input_root: cities, output_root: out, work_dir: work, exchange_dir: exchange}\n"
        f"province:\n  cities: [{', '.join(CITIES)}]\nrun: {{keep_work_databases: 1}}\n"
        "database: {encryption_key_file: province.key}\n",  # each step's process opens it with the key
        encoding="utf-8",
    )
    (root / "province.key").write_text(KEY, encoding="utf-8")
    (root / "province.key").chmod(0o600)
    (root / "exchange" / EXPIRED_NIGHT / CITIES[0]).mkdir(parents=True)  # an index of a night long gone
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAGSTER_HOME", str(root / "dagster_home"))
        patch.setenv("AIDMATCH_CONFIG", "")
        assert main(["run", "--config", str(config), "--as-of", str(AS_OF)]) == 0
    as_one_input(root / "cities", root / "one")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAGSTER_HOME", str(root / "one_dagster_home"))
        patch.setenv("AIDMATCH_CONFIG", "")
        assert run_aidmatch(root / "one", root / "one_out", root / "one_work", AS_OF) == 0
    return root


def _in_one_folder(city: str, record: str) -> str:
    """A city's record as the single run names it: `unemployment/a.csv:5` -> `unemployment/<city>/a.csv:5`."""
    source, rest = record.split("/", 1)
    return f"{source}/{city}/{rest}"


def _city_outputs(root: Path, name: str) -> pl.DataFrame:
    frames = []
    for city in CITIES:
        frame = pl.read_csv(root / "out" / city / str(AS_OF) / f"{name}.csv", infer_schema=False)
        if "source_record" in frame.columns:
            frame = frame.with_columns(
                pl.col("source_record").map_elements(lambda r, c=city: _in_one_folder(c, r), pl.String)
            )
        frames.append(frame)
    return pl.concat(frames)


def _one_output(root: Path, name: str) -> pl.DataFrame:
    return pl.read_csv(root / "one_out" / str(AS_OF) / f"{name}.csv", infer_schema=False)


def test_the_union_of_the_cities_lists_is_the_one_run_but_for_records_only_it_can_link(province) -> None:
    links = _one_output(province, "person_links").join(
        _city_outputs(province, "person_links"), on="source_record", suffix="_city"
    )
    relinked = links.filter(pl.col("person_id").ne_missing(pl.col("person_id_city")))
    assert relinked.height <= 10, "identity resolution differs only for a few damaged IDs"
    assert relinked["method"].str.starts_with("fuzzy").all(), "a fuzzy link across cities, nothing else"
    assert relinked["method_city"].str.starts_with("unlinked").all()
    explained = set(relinked["person_id"].drop_nulls()) | set(relinked["person_id_city"].drop_nulls())
    for name, key in LISTS.items():
        one, cities = _one_output(province, name), _city_outputs(province, name)
        differing = set(one.select(key).iter_rows()) ^ set(cities.select(key).iter_rows())
        rows = pl.concat([one, cities]).filter(
            pl.struct(key).is_in([dict(zip(key, r, strict=True)) for r in differing])
        )
        persons = (
            rows["member_ids"].str.split(";").explode()
            if name == "zero_employment_households"
            else rows["person_id"]
        )
        assert set(persons) <= explained, f"{name}: a difference no relinked record explains"
    assert _one_output(province, "removals").height > 20 and _one_output(province, "proactive").height > 20


def test_people_who_work_in_the_other_city_are_found_by_the_exact_id_join(province) -> None:
    """石家庄市's 西城区 contributions are in 唐山市's extracts: its registered unemployed who work are on
    石家庄市's removal list all the same, from 唐山市's person index — as in the single run."""
    database = province / "work" / CITIES[0] / str(AS_OF) / "aidmatch.duckdb"
    with open_work_database(database, KEY, read_only=True) as con:
        found_elsewhere = con.sql(
            """SELECT person_id, source_record, reasons FROM out_removals
               WHERE regexp_matches(reasons, 'EMPLOYED') AND person_id NOT IN (
                   SELECT person_id FROM core_person_links WHERE source = 'si_contributions' AND person_id IS NOT NULL)"""
        ).fetchall()
    assert found_elsewhere, "someone working only in the other city's extracts"
    one = _one_output(province, "removals").select("source_record", "reasons").rows()
    assert all((_in_one_folder(CITIES[0], record), reasons) in one for _, record, reasons in found_elsewhere)


def test_each_city_publishes_the_rows_it_works_and_the_index_is_owner_only(province) -> None:
    for city in CITIES:
        folder = province / "out" / city / str(AS_OF)
        assert (folder / "manifest.json").is_file()
        removals = pl.read_csv(folder / "removals.csv", infer_schema=False)
        assert removals["source_record"].str.starts_with("unemployment/").all()  # its own registrations
        index = province / "exchange" / str(AS_OF) / city
        assert sorted(p.name for p in index.iterdir()) == sorted(
            f"{s}.parquet" for s in ("unemployment", "dibao", "disability", "si_persons", "si_contributions")
        )
        assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in index.iterdir())
    households = [
        set(
            pl.read_csv(
                province / "out" / city / str(AS_OF) / "zero_employment_households.csv", infer_schema=False
            )["household_id"]
        )
        for city in CITIES
    ]
    assert households[0] and households[1] and not households[0] & households[1]


def test_the_sensor_starts_the_lists_once_every_city_has_its_index(province) -> None:
    import dagster as dg

    with dg.DagsterInstance.from_config(str(province / "dagster_home")) as instance:
        requests = lists_requests(instance, CITIES)
        assert sorted(r.partition_key for r in requests) == sorted(
            city_partition(str(AS_OF), c) for c in CITIES
        )
        assert len({r.run_key for r in requests}) == 2
        assert lists_requests(instance, (*CITIES, "邯郸市")) == [], (
            "a city whose index is not in holds them back"
        )


def test_a_city_cannot_reach_its_rules_before_the_others_index(tmp_path) -> None:
    con = duckdb.connect()
    with pytest.raises(PersonIndexMissing, match="唐山市"):
        attach_person_index(con, tmp_path, CITIES[0], CITIES)


@pytest.mark.parametrize("cities", [("石家庄市", "石家庄市"), ("a/b",), (".hidden",), ("a|b",), (" 唐山市",)])
def test_city_names_are_folders_and_partition_keys(cities) -> None:
    with pytest.raises(ValueError):
        ProvinceSettings(cities=cities)


def test_a_citys_night_is_two_jobs_holding_every_asset_once() -> None:
    """The link step's tables come whole into the intake (one step makes them all), the rest into the lists."""
    defs = build_defs(Settings(province=ProvinceSettings(cities=CITIES)))
    intake, lists = (
        defs.resolve_job_def(name).asset_layer.selected_asset_keys
        for name in ("aidmatch_city_intake", "aidmatch_city_lists")
    )
    assert not intake & lists
    assert intake | lists == set(defs.resolve_asset_graph().get_all_asset_keys())
    assert {key.to_user_string() for key in intake} >= {
        "core_person_links",
        "linked_si_contributions",
        "person_index",
    }


def test_a_city_prunes_its_person_index_as_its_work_databases_and_says_so(province) -> None:
    """The exchanged index holds names and IDs: kept for `run.keep_work_databases` nights (here 1), as the
    work databases, each city removing its own; the manifest names the nights that went."""
    manifests = {city: read_manifest(province / "out" / city / str(AS_OF)) for city in CITIES}
    assert manifests[CITIES[0]]["person_indexes_removed"] == [EXPIRED_NIGHT]
    assert manifests[CITIES[1]]["person_indexes_removed"] == []
    assert not (province / "exchange" / EXPIRED_NIGHT).exists()
    assert {p.name for p in (province / "exchange" / str(AS_OF)).iterdir()} == set(CITIES)
