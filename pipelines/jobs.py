"""The nightly job — every asset for one as-of date — and its 02:00 Asia/Shanghai schedule."""

import dagster as dg

nightly_job = dg.define_asset_job(
    "aidmatch_nightly",
    selection=dg.AssetSelection.all(),
    # One process, one step at a time: every step writes the same DuckDB file, which takes one writer.
    executor_def=dg.in_process_executor,
    description="Ingest, validate, link, apply the rules and publish the lists for one as-of date.",
)

nightly_schedule = dg.build_schedule_from_partitioned_job(
    nightly_job,
    hour_of_day=2,
    minute_of_hour=0,
    name="aidmatch_nightly_0200",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
