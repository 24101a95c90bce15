"""The as-of date: every asset is partitioned by day, and the partition key is the as-of date D.

`end_offset=1` makes today's partition exist during today, so the 02:00 (Asia/Shanghai) schedule runs
with D = the day it runs on, and `aidmatch run` without `--as-of` means today.
"""

import dagster as dg

from pipelines.settings import BUREAU_TIMEZONE

as_of_partitions = dg.DailyPartitionsDefinition(
    start_date="2020-01-01", timezone=BUREAU_TIMEZONE.key, end_offset=1
)
