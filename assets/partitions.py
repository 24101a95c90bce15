"""The as-of date: every asset is partitioned by day, and the partition key is the as-of date D.

The first partition is the configuration's `schedule.first_as_of` (the file in force when the code
location loads: AIDMATCH_CONFIG, or the shipped default), so the UI's partition bars start with the
deployment's nights, not years before them. `end_offset=1` makes today's partition exist during today,
so the nightly schedule runs with D = the day it runs on, and `aidmatch run` without `--as-of` means today.
"""

import warnings

import dagster as dg

from aidmatch.settings import BUREAU_TIMEZONE, settings_in_force

as_of_partitions = dg.DailyPartitionsDefinition(
    start_date=settings_in_force().schedule.first_as_of.isoformat(),
    timezone=BUREAU_TIMEZONE.key,
    end_offset=1,
)


def as_of_check(name: str, asset: str, description: str, blocking: bool = False) -> dg.AssetCheckSpec:
    """A check of one as-of partition: evaluated for the partition the step runs, so the UI shows one
    entry per night (an unpartitioned check leaves a second, "skipped", planned entry beside it)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)  # partitioned checks are a preview in Dagster 1.13
        return dg.AssetCheckSpec(
            name, asset=asset, description=description, blocking=blocking, partitions_def=as_of_partitions
        )
