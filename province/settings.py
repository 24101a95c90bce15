"""The `province` section: off (one run reads the whole input folder) until it names the cities.

With cities, every night runs as one run per city (Dagster partitions as-of × city): each city's extracts
are `<input_root>/<city>/<source>/...`, its lists go to `<output_root>/<city>/<as-of>/` and its work
database to `<work_dir>/<city>/<as-of>/`; the cities exchange their person index under
`paths.exchange_dir` (docs/scaling.md).
"""

import re
from dataclasses import dataclass

# A city's name is a folder name and a Dagster partition key: no separators, no leading dot, no spaces
# at its ends (Dagster refuses , [ ] * | and the like in keys; a folder cannot hold /).
_CITY_NAME = re.compile(r"^[^\s./\\|,\[\]*?:\"'<>][^/\\|,\[\]*?:\"'<>]*(?<!\s)$")


@dataclass(frozen=True)
class ProvinceSettings:
    # The cities, each with its own input folder under input_root; empty: no province, one run per night.
    cities: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for city in self.cities:
            if not isinstance(city, str) or not _CITY_NAME.match(city):
                raise ValueError(
                    f"{city!r} is not a city name that can be a folder and a partition key "
                    "(no / \\ | , [ ] * ? : quotes or <>, no leading dot, no spaces at its ends)"
                )
        repeated = sorted({city for city in self.cities if self.cities.count(city) > 1})
        if repeated:
            raise ValueError(f"cities named twice: {', '.join(repeated)}")

    @property
    def enabled(self) -> bool:
        return bool(self.cities)


def night_of(partition_key: str) -> tuple[str, str | None]:
    """(as-of date, city) of a run's partition key: `2026-11-22` on one node, `2026-11-22|石家庄市` in a
    province (Dagster joins a multi-partition key's dimensions by `|`, in the order of their names:
    `as_of`, then `city`; a city's name holds no `|`)."""
    as_of, _, city = partition_key.partition("|")
    return as_of, city or None
