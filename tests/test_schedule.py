"""The nightly schedule: 02:00 Asia/Shanghai, one run for that day's as-of partition, in one process."""

import datetime as dt
from zoneinfo import ZoneInfo

import dagster as dg

from pipelines.definitions import defs


def test_nightly_schedule_runs_at_two_in_shanghai_for_that_day():
    schedule = defs.resolve_schedule_def("aidmatch_nightly_0200")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == "Asia/Shanghai"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    tick = dt.datetime(2026, 11, 22, 2, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    with dg.instance_for_test() as instance:
        context = dg.build_schedule_context(instance=instance, scheduled_execution_time=tick)
        requests = schedule.evaluate_tick(context).run_requests
    assert [request.partition_key for request in requests] == ["2026-11-22"]


def test_job_runs_its_steps_in_one_process():
    assert defs.resolve_job_def("aidmatch_nightly").executor_def.name == "in_process"
