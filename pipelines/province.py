"""A province past one node (`province.cities`, docs/scaling.md): its two jobs, the schedule and the sensor.

Every asset is partitioned by as-of × city (`assets/partitions.py`); a night is two runs per city:

- `aidmatch_city_intake` — ingest, validate, link the city's records, write its person index;
- `aidmatch_city_lists` — the facts (its own records and, by the exact ID join, every other city's of
  its persons), the lists (the rows this city works) and their publication.

The schedule starts every city's intake at `schedule.cron`; the sensor starts a city's lists once every
city's index of that night is in (again when any city's intake is rerun). Both jobs run each step in
its own process (the multiprocess executor; a deployment swaps in Dagster's Kubernetes or Celery
executor and run launcher, with Postgres storage: docs/scaling.md): one city's steps follow each other,
so its DuckDB file still has one writer, and the cities' runs go wherever the run launcher puts them.
"""

from collections import defaultdict

import dagster as dg

from aidmatch.assets.province import PERSON_INDEX
from aidmatch.pipelines.jobs import run_tags
from aidmatch.province.settings import night_of
from aidmatch.settings import BUREAU_TIMEZONE, Settings

INTAKE_JOB = "aidmatch_city_intake"
LISTS_JOB = "aidmatch_city_lists"
# (the link step's tables come together: one step makes them all)
_INTAKE = dg.AssetSelection.assets(PERSON_INDEX).upstream().required_multi_asset_neighbors()
# Each step in a process of its own, one at a time: a city's steps share its DuckDB file and hold its
# folders (`run_guard`) while they run, and some have no order between them (`decisions` and `ingest`).
one_step_at_a_time = dg.multiprocess_executor.configured({"max_concurrent": 1}, name="one_step_at_a_time")

intake_job = dg.define_asset_job(
    INTAKE_JOB,
    selection=_INTAKE,
    executor_def=one_step_at_a_time,
    description="One city's night, first half: ingest and check its extracts, link its records, write its "
    "person index for the other cities.",
)
lists_job = dg.define_asset_job(
    LISTS_JOB,
    selection=dg.AssetSelection.all() - _INTAKE,
    executor_def=one_step_at_a_time,
    description="One city's night, second half (once every city's person index is in): facts with the other "
    "cities' records of its persons, the lists it works, publication.",
)


def city_partition(as_of: str, city: str) -> str:
    """The partition key of one city's night (Dagster's multi-partition key: `as_of|city`)."""
    return f"{as_of}|{city}"


def city_tags(tags: dict[str, str], as_of: str, city: str) -> dict[str, str]:
    """A night's run tags (`jobs.run_tags`) made one city's: its partition key and its name."""
    return tags | {"dagster/partition": city_partition(as_of, city), "aidmatch/city": city}


def province_schedule(settings: Settings) -> dg.ScheduleDefinition:
    """Every city's intake at `schedule.cron` in the bureau's time zone, for the as-of date of that day."""

    @dg.schedule(
        name="aidmatch_province_schedule",
        cron_schedule=settings.schedule.cron,
        execution_timezone=BUREAU_TIMEZONE.key,
        job=intake_job,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"Starts every city's intake at '{settings.schedule.cron}' ({BUREAU_TIMEZONE.key}).",
    )
    def aidmatch_province_schedule(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest]:
        as_of = context.scheduled_execution_time.astimezone(BUREAU_TIMEZONE).date().isoformat()
        tags = run_tags(as_of, settings.paths.input_root, settings.paths.output_root, "schedule")
        return [
            dg.RunRequest(partition_key=city_partition(as_of, city), tags=city_tags(tags, as_of, city))
            for city in settings.province.cities
        ]

    return aidmatch_province_schedule


def lists_requests(instance: dg.DagsterInstance, cities: tuple[str, ...]) -> list[dg.RunRequest]:
    """A lists run for every city of each night whose person index every city has written; the run key
    names the newest index of the night, so a city's intake rerun starts the lists again, once."""
    records = instance.fetch_materializations(dg.AssetKey(PERSON_INDEX), limit=50 * len(cities)).records
    newest: dict[str, int] = defaultdict(int)
    for record in records:
        as_of, _ = night_of(record.partition_key or "")
        newest[as_of] = max(newest[as_of], record.storage_id)
    written = instance.get_materialized_partitions(dg.AssetKey(PERSON_INDEX))
    return [
        dg.RunRequest(
            partition_key=city_partition(as_of, city),
            run_key=f"{city_partition(as_of, city)}@{version}",
            tags={"aidmatch/as_of": as_of, "aidmatch/city": city, "aidmatch/launched_by": "province sensor"},
        )
        for as_of, version in sorted(newest.items())
        if all(city_partition(as_of, city) in written for city in cities)
        for city in cities
    ]


def province_lists_sensor(settings: Settings) -> dg.SensorDefinition:
    @dg.sensor(
        name="aidmatch_province_lists_sensor",
        job=lists_job,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Starts each city's lists once every city's person index of the night is in.",
    )
    def aidmatch_province_lists_sensor(context: dg.SensorEvaluationContext) -> list[dg.RunRequest]:
        return lists_requests(context.instance, settings.province.cities)

    return aidmatch_province_lists_sensor
