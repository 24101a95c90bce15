"""The code location `aidmatch`: `build_defs(settings)` assembles its assets, checks, jobs, schedule, sensors
and resource from the settings it is given.

The settings decide what the definitions are: the first partition (`schedule.first_as_of`), one node or
a province (`province.cities`: the partitions × city, `person_index`, the two jobs per city and night of
`pipelines/province.py`, their schedule and sensor), the schedule's time, the checks' thresholds, the raw
tables' columns (the column maps) and whether failures are e-mailed. Nothing here reads the
configuration itself: `definitions.py` builds the `defs` the webserver and the daemon load from the file
in force, `aidmatch run` builds its own from the file it is given (`pipelines/night_run.py`), tests
from theirs.
"""

import dagster as dg

from aidmatch.assets.decisions import decisions_asset
from aidmatch.assets.files import files_assets
from aidmatch.assets.ingest import ingest_assets
from aidmatch.assets.linking import linked_assets
from aidmatch.assets.lists import facts_asset, lists_asset
from aidmatch.assets.partitions import night_partitions
from aidmatch.assets.province import province_assets
from aidmatch.assets.publish import published_outputs_asset
from aidmatch.console import progress_logger
from aidmatch.pipelines.alerts import alert_sensors
from aidmatch.pipelines.jobs import nightly_job, nightly_schedule
from aidmatch.pipelines.province import intake_job, lists_job, province_lists_sensor, province_schedule
from aidmatch.resources import AidmatchResource
from aidmatch.settings import Settings

LOCATION_NAME = "aidmatch"  # as workspace.yaml names it: the UI's Deployment › Code locations


def build_defs(settings: Settings, resource_overrides: dict[str, object] | None = None) -> dg.Definitions:
    nights = night_partitions(settings)
    resources = {"aidmatch": AidmatchResource()} | (resource_overrides or {})
    jobs, schedules, sensors = [nightly_job], [nightly_schedule(settings)], alert_sensors(settings.alerts)
    if settings.province.enabled:  # a province: two runs per city and night (pipelines/province.py)
        jobs, schedules = [intake_job, lists_job], [province_schedule(settings)]
        sensors = [*sensors, province_lists_sensor(settings)]
    return dg.Definitions(
        assets=[
            *([] if settings.province.enabled else files_assets()),
            *ingest_assets(settings, nights),
            decisions_asset(nights),
            linked_assets(settings, nights),
            *province_assets(settings, nights),
            facts_asset(settings, nights),
            lists_asset(settings, nights),
            published_outputs_asset(nights),
        ],
        jobs=jobs,
        schedules=schedules,
        sensors=sensors,
        resources=resources,
        loggers={"progress": progress_logger},
        # Assets materialized from the UI outside the job too: one writer for the run's DuckDB file.
        executor=dg.in_process_executor,
    )
