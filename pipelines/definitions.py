"""The code location: `build_defs()` assembles assets, checks, job, schedule, sensor and resource.

`dagster dev` loads `defs` from here (see workspace.yaml). `aidmatch run` executes this `defs`'s job
(`nightly_job_def`, reconstructable) with its folders in the run config of the resource, so the run is
under the job in the UI and a rerun from there reads the same folders; tests may call `build_defs` with
their own resource. The failure e-mail sensor is there only
when the configuration's `alerts.to` names someone (read once, at import, for `defs`).
"""

import dagster as dg

from assets.ingest import ingest_assets
from assets.linking import linked
from assets.lists import facts_persons, lists
from assets.publish import published_outputs
from pipelines.alerts import failure_email_sensor
from pipelines.console import progress_logger
from pipelines.jobs import nightly_job, nightly_schedule
from pipelines.resources import AidmatchResource
from pipelines.settings import AlertSettings, load_settings


def build_defs(
    resource_overrides: dict[str, object] | None = None, alerts: AlertSettings | None = None
) -> dg.Definitions:
    resources = {"aidmatch": AidmatchResource()} | (resource_overrides or {})
    sensors = [failure_email_sensor(alerts)] if alerts is not None and alerts.enabled else []
    return dg.Definitions(
        assets=[*ingest_assets, linked, facts_persons, lists, published_outputs],
        jobs=[nightly_job],
        schedules=[nightly_schedule],
        sensors=sensors,
        resources=resources,
        loggers={"progress": progress_logger},
        # Assets materialized from the UI outside the job too: one writer for the run's DuckDB file.
        executor=dg.in_process_executor,
    )


defs = build_defs(alerts=load_settings().alerts)


def nightly_job_def() -> dg.JobDefinition:
    """The code location's `aidmatch_nightly` job, for `dg.reconstructable` (`aidmatch run`)."""
    return defs.resolve_job_def("aidmatch_nightly")
