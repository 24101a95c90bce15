"""The code location: `build_defs()` assembles assets, checks, job, schedule, sensor and resource.

`dagster-webserver`, `dagster-daemon` and `dagster dev` load `defs` from here (`-m
aidmatch.pipelines.definitions`, or a workspace.yaml naming it); so does `aidmatch run`, which executes
this `defs`'s job (`nightly_job_def`, reconstructable) with its folders in the run config of the resource.
What the definitions are — the first partition, the schedule's time, whether failures are e-mailed —
comes from the configuration in force when the module loads (`settings_in_force`: AIDMATCH_CONFIG or the
shipped default); tests may call `build_defs` with their own settings and resource.
"""

import dagster as dg

from aidmatch.assets.decisions import decisions
from aidmatch.assets.ingest import ingest_assets
from aidmatch.assets.linking import linked
from aidmatch.assets.lists import facts_persons, lists
from aidmatch.assets.publish import published_outputs
from aidmatch.console import progress_logger
from aidmatch.pipelines.alerts import alert_sensors
from aidmatch.pipelines.jobs import nightly_job, nightly_schedule
from aidmatch.resources import AidmatchResource
from aidmatch.settings import Settings, settings_in_force


def build_defs(
    resource_overrides: dict[str, object] | None = None, settings: Settings | None = None
) -> dg.Definitions:
    settings = settings or settings_in_force()
    resources = {"aidmatch": AidmatchResource()} | (resource_overrides or {})
    return dg.Definitions(
        assets=[*ingest_assets, decisions, linked, facts_persons, lists, published_outputs],
        jobs=[nightly_job],
        schedules=[nightly_schedule(settings)],
        sensors=alert_sensors(settings.alerts),
        resources=resources,
        loggers={"progress": progress_logger},
        # Assets materialized from the UI outside the job too: one writer for the run's DuckDB file.
        executor=dg.in_process_executor,
    )


defs = build_defs()


def nightly_job_def() -> dg.JobDefinition:
    """The code location's `aidmatch_nightly` job, for `dg.reconstructable` (`aidmatch run`)."""
    return defs.resolve_job_def("aidmatch_nightly")
