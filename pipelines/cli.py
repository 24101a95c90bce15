"""`aidmatch run --input DIR --output DIR [--as-of YYYY-MM-DD]`: the nightly job, once, through Dagster.

The run is the code location's `aidmatch_nightly` job (`pipelines.definitions.defs`), executed with
`dg.execute_job` against the Dagster instance under DAGSTER_HOME (default: the project's
`.dagster_home/`), in this process (the job's executor is in-process: one DuckDB writer). It is listed
under the job, for its as-of partition, like a scheduled run; the folders are in the run config of the
resource (absolute paths) and tags name the as-of, the input folder and the code version, so the UI
shows what the night read and a rerun from it reads the same folders. Exit codes:
0 success; 1 the run failed or a blocking check failed (with a paragraph saying which source, which
file, what to do), or another run holds the output or work folder (one line naming it); 2 the command
line or the configuration is wrong. The CLI takes no folder lock itself: the run does, in its resource
(`pipelines/run_guard.py`), as runs launched by the schedule or the UI do.
"""

import argparse
import datetime as dt
import os
import shlex
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg

from assets.partitions import as_of_partitions
from pipelines.console import stamped
from pipelines.explain import error_text as _error_text
from pipelines.explain import explain_events
from pipelines.run_lock import FolderBusy, Holder, lock_folder
from pipelines.settings import BUREAU_TIMEZONE, PROJECT_ROOT, ConfigError, load_settings
from sources.tables import SOURCES

DEFAULT_DAGSTER_HOME = PROJECT_ROOT / ".dagster_home"


RUN_DESCRIPTION = """\
Run the nightly job once, through Dagster: ingest and check the five source folders of INPUT, link
every record to a person, apply the policy rules and publish the lists to OUTPUT/<as-of>/. The run is
recorded in the Dagster run history under DAGSTER_HOME (default: the project's .dagster_home/).

Every line of progress starts with the time, Asia/Shanghai local time; each finished step says how
long it took."""

RUN_EPILOG = """\
exit codes:
  0  published to OUTPUT/<as-of>/
  1  the run failed, a blocking check failed (the terminal says which source, which file and what
     to do; nothing is published, the last good output stays), or another run holds the output or
     work folder (one line names it)
  2  the command line or the configuration is wrong

example:
  aidmatch run --input /srv/aidmatch/input --output /srv/aidmatch/output --as-of 2026-11-22"""


def _as_of(value: str) -> str:
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"--as-of must be a date like 2026-11-22, not {value!r}") from None


def _parser() -> argparse.ArgumentParser:
    from publish.manifest import code_version

    parser = argparse.ArgumentParser(prog="aidmatch", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"aidmatch {code_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run",
        help="run the nightly job once (ingest, link, rules, publish)",
        description=RUN_DESCRIPTION,
        epilog=RUN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("--input", required=True, type=Path, help="folder holding the five source folders")
    run.add_argument("--output", required=True, type=Path, help="lists are published to OUTPUT/<as-of>/")
    run.add_argument("--as-of", type=_as_of, help="as-of date D (default: today in Asia/Shanghai)")
    run.add_argument("--config", type=Path, help="configuration file (default: config/aidmatch.yaml)")
    run.add_argument(
        "--work-dir", type=Path, help="where the run's DuckDB database goes (default: from config)"
    )
    run.add_argument(
        "--accept-drop",
        action="append",
        default=[],
        choices=SOURCES,
        metavar="SOURCE",
        help="confirm tonight's empty or much smaller extract of SOURCE (repeatable); recorded in the manifest",
    )
    return parser


def busy_message(result: dg.JobExecutionResult | dg.ExecuteInProcessResult) -> str | None:
    """The reason the run could not start because another run holds its folders, if that is why."""
    for event in result.all_events:
        if event.event_type_value == "RESOURCE_INIT_FAILURE":
            error = event.event_specific_data.error
            if error and error.cls_name == FolderBusy.__name__:
                return _error_text(error)
    return None


def failure_explanation(result: dg.JobExecutionResult | dg.ExecuteInProcessResult) -> str:
    """One paragraph for a person: the blocking checks that failed and the steps that broke, and why."""
    return explain_events(result.all_events)


def ui_hint() -> str:
    """The command that opens the Dagster UI on this run history, wherever the package is installed:
    `dagster-webserver` (the UI only: it starts no schedule) on DAGSTER_HOME as in use now."""
    webserver = Path(sys.executable).parent / "dagster-webserver"
    found = shutil.which("dagster-webserver")
    if webserver.exists() and not (found and Path(found).resolve() == webserver.resolve()):
        command = shlex.quote(str(webserver))
    else:
        command = "dagster-webserver"
    home = os.environ.get("DAGSTER_HOME", str(DEFAULT_DAGSTER_HOME))
    return f"DAGSTER_HOME={shlex.quote(home)} {command} -m pipelines.definitions"


def say(text: str, file=None) -> None:
    """Print `text` with the time (Asia/Shanghai) before each line, as the progress lines have it."""
    print(stamped(text), file=file or sys.stdout, flush=True)


def prepare_dagster_home() -> Path:
    """DAGSTER_HOME (default `.dagster_home/` in the project) with a dagster.yaml, so runs persist.

    Telemetry is off: the bureaus' servers are offline and the run must not try to phone out.
    """
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(DEFAULT_DAGSTER_HOME)))
    home.mkdir(parents=True, exist_ok=True, mode=0o700)  # run metadata: owner only when we create it
    config = home / "dagster.yaml"
    if not config.exists():  # written whole, then moved in place: another process may be reading it
        partial = home / f".dagster.yaml.{os.getpid()}"
        partial.write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
        partial.replace(config)
    return home


@contextmanager
def open_instance(as_of: str) -> Iterator[dg.DagsterInstance]:
    """The Dagster instance under DAGSTER_HOME, opened holding DAGSTER_HOME's lock for a moment: two
    processes creating its SQLite storage at once fail (both stamp the schema version)."""
    home = prepare_dagster_home()
    lock = lock_folder(home, Holder.this_process("(opening the run history)", as_of), 120, lambda _: None)
    try:
        instance = dg.DagsterInstance.get()
    finally:
        lock.release()
    with instance:
        yield instance


def run(args: argparse.Namespace) -> int:
    try:
        settings = load_settings(args.config)
    except ConfigError as error:
        print(f"aidmatch: configuration error: {error}", file=sys.stderr)
        return 2
    if not args.input.is_dir():
        print(
            f"aidmatch: the input folder {args.input} does not exist. It must hold the source folders "
            "unemployment/, dibao/, disability/, si_persons/ and si_contributions/.",
            file=sys.stderr,
        )
        return 2
    today = dt.datetime.now(BUREAU_TIMEZONE).date()
    as_of = args.as_of or today.isoformat()
    first = as_of_partitions.start.date()
    if not first <= dt.date.fromisoformat(as_of) <= today:
        print(
            f"aidmatch: --as-of {as_of} is outside the dates a run can be for: {first} to today ({today}).",
            file=sys.stderr,
        )
        return 2

    from pipelines.definitions import nightly_job_def
    from publish.manifest import code_version

    input_root = args.input.resolve()
    output_root = args.output.resolve()
    resource_config = {
        "config_file": str(args.config.resolve()) if args.config else "",
        "input_root": str(input_root),
        "output_root": str(output_root),
        "work_dir": str(Path(args.work_dir or settings.paths.work_dir).resolve()),
        "accept_drop": sorted(set(args.accept_drop)),
    }
    tags = {
        "dagster/partition": as_of,
        "aidmatch/as_of": as_of,
        "aidmatch/input_root": str(input_root),
        "aidmatch/output_root": str(output_root),
        "aidmatch/code_version": code_version(),
        "aidmatch/launched_by": "aidmatch run",
    }
    say(f"aidmatch: as-of {as_of}, input {args.input}, output {args.output}")
    with open_instance(as_of) as instance:
        result = dg.execute_job(
            dg.reconstructable(nightly_job_def),
            instance=instance,
            run_config={"resources": {"aidmatch": {"config": resource_config}}, "loggers": {"progress": {}}},
            tags=tags,
            raise_on_error=False,
        )
    if not result.success and (busy := busy_message(result)):
        say(f"aidmatch: {busy}", sys.stderr)
        return 1
    if not result.success:
        say(f"\naidmatch: the run for {as_of} failed (run id {result.run_id}):", sys.stderr)
        print(failure_explanation(result), file=sys.stderr)
        print(
            "Nothing was published for this as-of date; the last good output is untouched. "
            f"The quarantine rows and check details are in the Dagster UI: {ui_hint()}",
            file=sys.stderr,
        )
        return 1
    say(
        f"\naidmatch: done. Lists in {args.output / as_of}/ ; run {result.run_id} is in the Dagster UI: {ui_hint()}"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
