"""The night an asset is for: the as-of date D — and, in a province (`province.cities`), the city.

Every asset is partitioned by day, the partition key being the as-of date. The first partition is the
configuration's `schedule.first_as_of` (`night_partitions(settings)`, called by `build_defs` with the
settings it is given), so the UI's partition bars start with the deployment's nights, not years before
them. `end_offset=1` makes today's partition exist during today, so the nightly schedule runs with D =
the day it runs on, and `aidmatch run` without `--as-of` means today.

A province that outgrows one node names its cities (docs/scaling.md): then every asset is partitioned
by as-of × city (`MultiPartitionsDefinition`, keys `2026-11-22|石家庄市`), one run per city and night.
`as_of_key` gives the as-of date of either kind of key; the resource knows the city of its run.
"""

import warnings

import dagster as dg

from aidmatch.province.settings import night_of
from aidmatch.settings import BUREAU_TIMEZONE, Settings

AS_OF, CITY = "as_of", "city"


def night_partitions(settings: Settings) -> dg.PartitionsDefinition:
    """The nights of the deployment: a day each from `schedule.first_as_of`, × the cities in a province."""
    days = dg.DailyPartitionsDefinition(
        start_date=settings.schedule.first_as_of.isoformat(), timezone=BUREAU_TIMEZONE.key, end_offset=1
    )
    if not settings.province.enabled:
        return days
    return dg.MultiPartitionsDefinition(
        {AS_OF: days, CITY: dg.StaticPartitionsDefinition(list(settings.province.cities))}
    )


def as_of_key(context: dg.AssetExecutionContext) -> str:
    """The as-of date (YYYY-MM-DD) of the partition a step runs."""
    return night_of(context.partition_key)[0]


def as_of_check(
    name: str, asset: str, description: str, nights: dg.PartitionsDefinition, blocking: bool = False
) -> dg.AssetCheckSpec:
    """A check of one as-of partition: evaluated for the partition the step runs, so the UI shows one
    entry per night (an unpartitioned check leaves a second, "skipped", planned entry beside it)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)  # partitioned checks are a preview in Dagster 1.13
        return dg.AssetCheckSpec(
            name, asset=asset, description=description, blocking=blocking, partitions_def=nights
        )
