"""The nightly job — every asset for one as-of date — and the schedule the daemon runs it on.

The schedule's time is the configuration's `schedule.cron` (default 02:00, Asia/Shanghai); each tick
runs the as-of date of the day it falls on, with the deployment's folders (the configuration in force)
on the run's tags, as `aidmatch run` tags its runs.
"""

import warnings

import dagster as dg

from aidmatch.settings import BUREAU_TIMEZONE, Settings
from aidmatch.version import code_version

NIGHTLY_JOB = "aidmatch_nightly"
with warnings.catch_warnings():
    warnings.simplefilter("ignore", dg.BetaWarning)  # selecting source assets is beta in Dagster 1.13
    # the source folders too: each night observes their files first (assets/files.py)
    EVERY_ASSET = dg.AssetSelection.all(include_sources=True)
nightly_job = dg.define_asset_job(
    NIGHTLY_JOB,
    selection=EVERY_ASSET,
    # One process, one step at a time: every step writes the same DuckDB file, which takes one writer.
    executor_def=dg.in_process_executor,
    description="Ingest, validate, link, apply the rules and publish the lists for one as-of date.",
)

SCHEDULE_NAME = "aidmatch_nightly_schedule"


def run_tags(as_of: str, input_root: str, output_root: str, launched_by: str) -> dict[str, str]:
    """What the runs list shows of a night: its as-of date, its folders, the code and who launched it."""
    return {
        "dagster/partition": as_of,
        "aidmatch/as_of": as_of,
        "aidmatch/input_root": input_root,
        "aidmatch/output_root": output_root,
        "aidmatch/code_version": code_version(),
        "aidmatch/launched_by": launched_by,
    }


def nightly_schedule(settings: Settings) -> dg.ScheduleDefinition:
    """The night: at `schedule.cron` in the bureau's time zone, the as-of date of that day."""

    @dg.schedule(
        name=SCHEDULE_NAME,
        cron_schedule=settings.schedule.cron,
        execution_timezone=BUREAU_TIMEZONE.key,
        job=nightly_job,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"Runs the night at '{settings.schedule.cron}' ({BUREAU_TIMEZONE.key}) for that day's as-of date.",
    )
    def aidmatch_nightly_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        as_of = context.scheduled_execution_time.astimezone(BUREAU_TIMEZONE).date().isoformat()
        tags = run_tags(as_of, settings.paths.input_root, settings.paths.output_root, "schedule")
        return dg.RunRequest(partition_key=as_of, tags=tags)

    return aidmatch_nightly_schedule
