"""The nightly schedule: 02:00 Asia/Shanghai by default (configurable), one run for that day's as-of
partition with the deployment's folders on its tags, in one process."""

import datetime as dt
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from aidmatch.pipelines.code_location import build_defs
from aidmatch.pipelines.jobs import SCHEDULE_NAME
from aidmatch.settings import DEFAULT_CONFIG, ConfigError, ScheduleSettings, Settings, load_settings

SHIPPED = load_settings(DEFAULT_CONFIG, environ={})  # the shipped configuration, whoever runs the tests


def test_nightly_schedule_runs_at_two_in_shanghai_for_that_day():
    schedule = build_defs(SHIPPED).resolve_schedule_def(SCHEDULE_NAME)
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == "Asia/Shanghai"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    tick = dt.datetime(2026, 11, 22, 2, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    with dg.instance_for_test() as instance:
        context = dg.build_schedule_context(instance=instance, scheduled_execution_time=tick)
        requests = schedule.evaluate_tick(context).run_requests
    assert [request.partition_key for request in requests] == ["2026-11-22"]
    assert requests[0].tags["aidmatch/input_root"] == SHIPPED.paths.input_root
    assert requests[0].tags["aidmatch/launched_by"] == "schedule"


def test_the_schedule_and_the_first_as_of_come_from_the_configuration():
    settings = Settings(schedule=ScheduleSettings(cron="30 3 * * 1-5", first_as_of=dt.date(2026, 9, 1)))
    built = build_defs(settings)
    assert built.resolve_schedule_def(SCHEDULE_NAME).cron_schedule == "30 3 * * 1-5"
    with pytest.raises(ConfigError, match="schedule.cron"):
        ScheduleSettings(cron="every night")
    nights = built.resolve_job_def("aidmatch_nightly").partitions_def
    assert nights.start.date() == dt.date(2026, 9, 1), "the UI's partition bars start with the deployment"


def test_job_runs_its_steps_in_one_process():
    assert build_defs(SHIPPED).resolve_job_def("aidmatch_nightly").executor_def.name == "in_process"
