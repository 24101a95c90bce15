"""A night run by `aidmatch run`: a run of the code location's job, listed under it as a scheduled night is,
executed in this process.

The UI lists a job's runs by the code location they were created from (the run's `remote_job_origin`,
stored as its `.dagster/repository` tag `__repository__@aidmatch`): the daemon creates a scheduled night
from the workspace's code location, and so does `run_job` — the run names the code location
`aidmatch` as workspace.yaml loads it (`aidmatch.pipelines.definitions`), with the job, its snapshot
and execution plan built from the configuration file `aidmatch run` was given, and the tags the job
gives its partition (`dagster/partition`, `dagster/partition_set`). Then the run executes here, not
through the instance's run launcher: the steps' progress lines reach this terminal as they happen, the
result is at hand for the failure explanation and the exit code, and the job's own executor runs the
steps (in this process on one node: one DuckDB writer). Every process that rebuilds the job (a
province's step processes) rebuilds it from the same file (`job_from_config`), never from the
environment.
"""

import sys
from pathlib import Path

import dagster as dg

# Dagster's own: what `dagster job launch` and the daemon create a run with (no public equivalent takes an
# origin), and the in-process execution `dagster api execute_run` does in a launched run's process.
from dagster._core.definitions.repository_definition import SINGLETON_REPOSITORY_NAME
from dagster._core.execution.api import execute_run
from dagster._core.remote_origin import (
    ManagedGrpcPythonEnvCodeLocationOrigin,
    RemoteJobOrigin,
    RemoteRepositoryOrigin,
)
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

from aidmatch.pipelines.code_location import LOCATION_NAME, build_defs
from aidmatch.settings import load_settings

DEFINITIONS_MODULE = "aidmatch.pipelines.definitions"  # what workspace.yaml loads


def job_from_config(config_file: str, job_name: str) -> dg.JobDefinition:
    """The code location's job `job_name`, defined by the configuration file `config_file`."""
    return build_defs(load_settings(Path(config_file))).resolve_job_def(job_name)


def code_location_origin() -> ManagedGrpcPythonEnvCodeLocationOrigin:
    """The code location as the webserver and the daemon load it from workspace.yaml."""
    return ManagedGrpcPythonEnvCodeLocationOrigin(
        LoadableTargetOrigin(executable_path=sys.executable, module_name=DEFINITIONS_MODULE),
        location_name=LOCATION_NAME,
    )


def run_job(
    job_name: str,
    config_file: Path,
    instance: dg.DagsterInstance,
    run_config: dict[str, object],
    tags: dict[str, str],
) -> dg.JobExecutionResult:
    """Create a run of the code location's `job_name` for the partition on `tags`, then execute it here.

    `config_file` is the configuration the definitions are built from (`aidmatch run --config`, else
    the file in force); the job's exceptions end up in the result's events, never raised."""
    job = dg.build_reconstructable_job(
        __name__, job_from_config.__name__, reconstructable_args=(str(config_file.resolve()), job_name)
    )
    job_def = job.get_definition()
    partition = tags["dagster/partition"]
    run = instance.create_run_for_job(
        job_def,
        run_config=run_config,
        tags={**job_def.tags, **tags, **job_def.get_tags_for_partition_key(partition, None)},
        remote_job_origin=RemoteJobOrigin(
            RemoteRepositoryOrigin(code_location_origin(), SINGLETON_REPOSITORY_NAME), job_name
        ),
        job_code_origin=job.get_python_origin(),
    )
    return execute_run(job, run, instance)
