"""What the Dagster instance has recorded of runs: the running run's, read by the publish step for the
manifest, and the history's retention.

Only the instance's own records: the run's start, each step's start and end, and every asset check
evaluation of this run. Times are returned as epoch seconds; `publish/manifest.py` formats them.
"""

import datetime as dt
from typing import Any

import dagster as dg

_FINISHED = [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED]


def run_start_time(instance: dg.DagsterInstance, run_id: str) -> float | None:
    """When the run started (its RUN_START event), as the run storage recorded it."""
    record = instance.get_run_record_by_id(run_id)
    if record is not None and record.start_time is not None:
        return record.start_time
    return instance.get_run_stats(run_id).start_time


def step_times(instance: dg.DagsterInstance, run_id: str) -> list[tuple[str, float, float | None, str]]:
    """Each step that started: (step key, start, end or None while it runs, status), in start order."""
    stats = [s for s in instance.get_run_step_stats(run_id) if s.start_time is not None]
    return [
        (s.step_key, s.start_time, s.end_time, s.status.value if s.status else "IN_PROGRESS")
        for s in sorted(stats, key=lambda s: s.start_time)
    ]


def check_results(instance: dg.DagsterInstance, run_id: str) -> list[dict[str, Any]]:
    """Every asset check evaluated in this run, in the order evaluated."""
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
    results = []
    for record in records:
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        results.append(
            {
                "asset": evaluation.asset_key.to_user_string(),
                "check": evaluation.check_name,
                "passed": evaluation.passed,
                "severity": evaluation.severity.value,
                "description": evaluation.description,
            }
        )
    return results


def remove_runs_before(instance: dg.DagsterInstance, cutoff: dt.datetime) -> list[str]:
    """Remove the finished runs created before `cutoff` from the run history, with their event logs; their
    ids. Dagster keeps every run forever: a year of nights is retention enough (`run.keep_run_history_days`)."""
    records = instance.get_run_records(filters=dg.RunsFilter(created_before=cutoff, statuses=_FINISHED))
    for record in records:
        instance.delete_run(record.dagster_run.run_id)
    return [record.dagster_run.run_id for record in records]
