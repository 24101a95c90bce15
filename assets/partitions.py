"""The as-of date: every asset is partitioned by day, and the partition key is the as-of date D.

The first partition is the configuration's `schedule.first_as_of` (the file in force when the code
location loads: AIDMATCH_CONFIG, or the shipped default), so the UI's partition bars start with the
deployment's nights, not years before them. `end_offset=1` makes today's partition exist during today,
so the nightly schedule runs with D = the day it runs on, and `aidmatch run` without `--as-of` means today.
"""

import dagster as dg

from aidmatch.settings import BUREAU_TIMEZONE, settings_in_force

as_of_partitions = dg.DailyPartitionsDefinition(
    start_date=settings_in_force().schedule.first_as_of.isoformat(),
    timezone=BUREAU_TIMEZONE.key,
    end_offset=1,
)
