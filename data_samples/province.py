"""Command line: generate a synthetic province — several cities, each with its own five extracts.

    python -m aidmatch.data_samples.province --cities 10 --persons 1000000 --seed 11 --as-of YYYY-MM-DD --out DIR

writes `DIR/cities/<city>/<source>/...` (each city's extracts as its bureau drops them: the input folder
of that city's run in the partitioned job) and, with `--truth`, `DIR/truth/<city>/`. City k is the world of seed
`seed + k`; nobody in it holds an ID of an earlier city, and its 户编号 carry its number, so the cities
are one province's people and households.
`as_one_input(DIR/cities, TARGET)` lays the same files out as one input folder, `TARGET/<source>/<city>/...`
(hard links, no copy), for a single run over the whole province. Cities are generated one after the
other, so memory is that of one city.
What belongs here: the province's layout; a city is `generate.py`'s.
"""

import argparse
import os
import shutil
import time
from datetime import date
from pathlib import Path

import polars as pl

from aidmatch.data_samples.generate import write_world
from aidmatch.data_samples.world import CityOfProvince, build_world
from aidmatch.sources.tables import SOURCES

# The cities of a province (河北省's, in its own order): folder names and partition keys.
CITY_NAMES = (
    "石家庄市", "唐山市", "秦皇岛市", "邯郸市", "邢台市", "保定市", "张家口市", "承德市", "沧州市", "廊坊市", "衡水市",
)  # fmt: skip


def generate_province(
    cities: int, persons: int, seed: int, as_of: date, out: Path, truth: bool = False
) -> dict[str, dict[str, int]]:
    """Write `cities` cities of about `persons` people each under `out/cities/<city>/`; return the data
    rows written per city and source."""
    if not 1 <= cities <= len(CITY_NAMES):
        raise ValueError(f"a province of 1 to {len(CITY_NAMES)} cities, not {cities}")
    taken = pl.Series("person_id", [], pl.String)
    counts = {}
    for index, city in enumerate(CITY_NAMES[:cities]):
        world = build_world(persons, seed + index, as_of, CityOfProvince(index + 1, taken))
        scratch = out / f".{city}"
        counts[city] = write_world(world, seed + index, scratch, truth=truth)
        for folder, written in (("cities", "input"), ("truth", "truth")):
            shutil.rmtree(out / folder / city, ignore_errors=True)
            if (scratch / written).is_dir():
                (out / folder).mkdir(parents=True, exist_ok=True)
                (scratch / written).rename(out / folder / city)
        shutil.rmtree(scratch)
        taken = pl.concat([taken, world.persons["person_id"]])
    return counts


def as_one_input(cities_folder: Path, target: Path) -> list[str]:
    """Hard-link every city's extracts (`cities_folder/<city>/<source>/...`) into one input folder,
    `target/<source>/<city>/...` (a city's files in a subfolder of each source folder, as a single run over
    the province reads them); return the cities."""
    cities = sorted(p.name for p in cities_folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    for city in cities:
        for source in SOURCES:
            folder = cities_folder / city / source
            for path in sorted(folder.rglob("*")):
                linked = target / source / city / path.relative_to(folder)
                if path.is_dir():
                    linked.mkdir(parents=True, exist_ok=True)
                else:
                    linked.parent.mkdir(parents=True, exist_ok=True)
                    os.link(path, linked)
    return cities


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cities", type=int, required=True)
    parser.add_argument("--persons", type=int, required=True, help="people per city")
    parser.add_argument("--seed", type=int, default=11, help="the first city's seed; city k has seed + k")
    parser.add_argument("--as-of", type=date.fromisoformat, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--truth", action="store_true", help="also write each city's truth/")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    counts = generate_province(args.cities, args.persons, args.seed, args.as_of, args.out, args.truth)
    for city, rows in counts.items():
        print(f"{city}: " + ", ".join(f"{source} {count:,}" for source, count in rows.items()))
    print(f"elapsed {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
