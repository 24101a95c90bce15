"""A province past one node (`province.cities`): the person index a city's run writes for the others.

Wiring only — `province/person_index.py` does the work. `person_index` exists in a province's code
location alone; the facts of a city depend on every city's index of the same night (`rules_deps`), and
its facts and lists steps read it through `other_cities_for_rules`.
"""

import warnings

import dagster as dg
import duckdb

from aidmatch.assets.partitions import AS_OF, CITY, as_of_key
from aidmatch.console import tell
from aidmatch.province.person_index import (
    attach_person_index,
    export_person_index,
)
from aidmatch.resources import AidmatchResource
from aidmatch.settings import Settings
from aidmatch.sources.tables import SOURCES

PERSON_INDEX = "person_index"


def rules_deps(settings: Settings) -> list[dg.AssetDep]:
    """What a city's rules need besides its own tables: the index of every city of the night (nothing on
    one node)."""
    if not settings.province.enabled:
        return []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)  # multi-partition mappings are beta in Dagster 1.13
        every_city_of_the_night = dg.MultiPartitionMapping(
            {
                AS_OF: dg.DimensionPartitionMapping(AS_OF, dg.IdentityPartitionMapping()),
                CITY: dg.DimensionPartitionMapping(CITY, dg.AllPartitionMapping()),
            }
        )
    return [dg.AssetDep(PERSON_INDEX, partition_mapping=every_city_of_the_night)]


def person_index(context: dg.AssetExecutionContext, aidmatch: AidmatchResource) -> dg.MaterializeResult:
    as_of = as_of_key(context)
    folder = aidmatch.exchange_path(as_of)
    with aidmatch.connect(as_of) as con:
        written = export_person_index(con, aidmatch.city, folder)
    tell(
        context.log, f"person index of {aidmatch.city}: {sum(written.values()):,} linked records to {folder}"
    )
    return dg.MaterializeResult(
        metadata={
            "folder": dg.MetadataValue.path(str(folder / aidmatch.city)),
            **{f"records {source}": rows for source, rows in written.items()},
        }
    )


def other_cities_for_rules(con: duckdb.DuckDBPyConnection, aidmatch: AidmatchResource, as_of: str) -> None:
    """In a province, put the other cities' records of this city's persons beside its own, for the rules."""
    if aidmatch.city:
        attach_person_index(
            con, aidmatch.exchange_path(as_of), aidmatch.city, aidmatch.settings.province.cities
        )


def province_assets(settings: Settings, nights: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    """`person_index` in a province's code location; nothing on one node."""
    if not settings.province.enabled:
        return []
    return [
        dg.asset(
            name=PERSON_INDEX,
            group_name="province",
            deps=["core_person_links", *(f"staged_{s}" for s in SOURCES)],
            partitions_def=nights,
            kinds={"parquet"},
            description="This city's linked records, every staged column with the person_id, as Parquet for "
            "the other cities of the province (EXCHANGE/<as-of>/<city>/<source>.parquet).",
        )(person_index)
    ]
