"""The `aidmatch` command: `run` a night through Dagster, `init` a deployment, open the `ui`.

`aidmatch run` runs the code location's `aidmatch_nightly` job, defined by the configuration it is given
(`--config`, else the file in force), in this process (`pipelines/night_run.py`; the job's executor is
in-process: one DuckDB writer), against the Dagster instance under DAGSTER_HOME (the environment's, else
the configuration's `paths.dagster_home`). The run is created from the code location `aidmatch`, so the
UI lists it under the job and its as-of partition, as a scheduled night; the folders are in
the run config of the resource (absolute paths) and tags name the as-of, the input folder and the code
version, so the UI shows what the night read and a rerun from it reads the same folders. Exit codes:
0 success; 1 the run failed or a blocking check failed (with a paragraph saying which source, which
file, what to do), or another run holds the output or work folder (one line naming it); 2 the command
line or the configuration is wrong. The CLI takes no folder lock itself: the run does, in its resource
(`aidmatch/run_guard.py`), as runs launched by the schedule or the UI do.
"""

import argparse
import datetime as dt
import getpass
import os
import shlex
import shutil
import socket
import sys
from pathlib import Path

import dagster as dg

from aidmatch.console import stamped
from aidmatch.pipelines.deployment import (
    CONFIG_NAME,
    KEY_NAME,
    SERVICES,
    DeploymentExists,
    init_deployment,
    open_instance,
    prepare_dagster_home,
    ui_workspace,
)
from aidmatch.pipelines.explain import error_text as _error_text
from aidmatch.pipelines.explain import explain_events
from aidmatch.pipelines.jobs import NIGHTLY_JOB, run_tags
from aidmatch.pipelines.night_run import run_job
from aidmatch.pipelines.province import INTAKE_JOB, LISTS_JOB, city_tags
from aidmatch.run_lock import FolderBusy
from aidmatch.settings import BUREAU_TIMEZONE, CONFIG_ENV, ConfigError, Settings, config_path, load_settings
from aidmatch.sources.tables import SOURCES
from aidmatch.version import code_version
from aidmatch.work_database import check_work_databases

RUN_DESCRIPTION = """\
Run the nightly job once, through Dagster: ingest and check the five source folders of INPUT, link
every record to a person, apply the policy rules and publish the lists to OUTPUT/<as-of>/. The run is
recorded in the Dagster run history under DAGSTER_HOME (default: the configuration's
paths.dagster_home). The configuration is --config FILE, else the file AIDMATCH_CONFIG names, else the
defaults shipped with aidmatch; --input and --output override its folders.

Every line of progress starts with the time, Asia/Shanghai local time; each finished step says how
long it took.

A source whose files are byte-identical to those of the last successful night (and read by the same code
and configuration) is not read again: its raw and staged tables are taken from that night's work
database, and when no source and no review decision changed, so are the linked tables; the terminal says
what was reused, built on which night. --full builds everything again."""

RUN_EPILOG = """\
exit codes:
  0  published to OUTPUT/<as-of>/
  1  the run failed, a blocking check failed (the terminal says which source, which file and what
     to do; nothing is published, the last good output stays), or another run holds the output or
     work folder (one line names it)
  2  the command line or the configuration is wrong, or the work database's key: missing, or not the
     one the database was encrypted with

examples:
  aidmatch run --input /srv/aidmatch/input --output /srv/aidmatch/output --as-of 2026-11-22
  aidmatch run --config /srv/aidmatch/aidmatch.yaml          (a deployment made by aidmatch init)"""

INIT_DESCRIPTION = """\
Lay out a new deployment in DIR: a commented configuration (aidmatch.yaml), the five source folders
under input/, output/, work/, the Dagster run history (dagster_home/ with its dagster.yaml), the
workspace the Dagster daemon and webserver load, and their systemd units (systemd/), with DIR's paths
filled in. Changes nothing when DIR already holds an aidmatch.yaml (exit 2)."""


def _as_of(value: str) -> str:
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"--as-of must be a date like 2026-11-22, not {value!r}") from None


def _parser() -> argparse.ArgumentParser:
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
    run.add_argument(
        "--input", type=Path, help="folder holding the five source folders (default: from config)"
    )
    run.add_argument(
        "--output", type=Path, help="lists are published to OUTPUT/<as-of>/ (default: from config)"
    )
    run.add_argument("--as-of", type=_as_of, help="as-of date D (default: today in Asia/Shanghai)")
    run.add_argument(
        "--config", type=Path, help=f"configuration file (default: ${CONFIG_ENV}, else the shipped one)"
    )
    run.add_argument(
        "--work-dir", type=Path, help="where the run's DuckDB database goes (default: from config)"
    )
    run.add_argument(
        "--decisions",
        type=Path,
        help="folder of filled decision forms (default: from config, else 'decisions' beside the input folder)",
    )
    run.add_argument(
        "--accept-drop",
        action="append",
        default=[],
        choices=SOURCES,
        metavar="SOURCE",
        help="confirm tonight's empty, much smaller or out-of-date extract of SOURCE (repeatable); recorded in "
        "the manifest",
    )
    run.add_argument(
        "--full",
        action="store_true",
        help="a full night: read, stage and link every source again, reusing nothing from an earlier night",
    )
    init = commands.add_parser(
        "init", help="lay out a new deployment in a folder", description=INIT_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    init.add_argument("folder", type=Path, metavar="DIR", help="the deployment's folder (created if missing)")
    init.add_argument(
        "--sample",
        action="store_true",
        help="copy the bundled sample extracts into DIR/input, to try a night",
    )
    ui = commands.add_parser(
        "ui", help="open the Dagster UI on the run history (the webserver only; the daemon runs the schedule)"
    )
    ui.add_argument(
        "--config", type=Path, help=f"configuration file (default: ${CONFIG_ENV}, else the shipped one)"
    )
    ui.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    ui.add_argument("--port", type=int, default=3000, help="port to listen on (default: 3000)")
    ui.add_argument(
        "--read-only",
        action="store_true",
        help="show everything, change nothing: no launching, re-executing or deleting runs, no schedule on/off "
        "(for analysts; docs/operations.md)",
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


def _command(name: str) -> str:
    """`name` as the user can type it: bare when the shell finds this installation's, else its full path."""
    here = Path(sys.executable).parent / name
    found = shutil.which(name)
    if here.exists() and not (found and Path(found).resolve() == here.resolve()):
        return shlex.quote(str(here))
    return name


def ui_hint(settings_file: Path | None) -> str:
    """The command that opens the Dagster UI on the run history in use, wherever aidmatch is installed."""
    home = os.environ["DAGSTER_HOME"]
    config = f" --config {shlex.quote(str(settings_file.resolve()))}" if settings_file else ""
    return f"DAGSTER_HOME={shlex.quote(home)} {_command('aidmatch')} ui{config}"


def _launched_by() -> dict[str, str]:
    """Dagster's `user` tag: the runs list shows who started a night from the shell (not 'Manually launched')."""
    return {"user": f"{getpass.getuser()}@{socket.gethostname()}"}


def say(text: str, file=None) -> None:
    """Print `text` with the time (Asia/Shanghai) before each line, as the progress lines have it."""
    print(stamped(text), file=file or sys.stdout, flush=True)


def _load(config: Path | None) -> Settings | None:
    """The configuration in force, or None after saying why it cannot be used."""
    try:
        return load_settings(config)
    except ConfigError as error:
        print(f"aidmatch: configuration error: {error}", file=sys.stderr)
        return None


def run(args: argparse.Namespace) -> int:
    settings = _load(args.config)
    if settings is None:
        return 2
    input_root = (args.input or Path(settings.paths.input_root)).resolve()
    output_root = (args.output or Path(settings.paths.output_root)).resolve()
    if not input_root.is_dir():
        holds = (
            f"a folder per city ({', '.join(settings.province.cities)}), each holding"
            if settings.province.enabled
            else "the source folders"
        )
        print(
            f"aidmatch: the input folder {input_root} does not exist. It must hold {holds} "
            "unemployment/, dibao/, disability/, si_persons/ and si_contributions/.",
            file=sys.stderr,
        )
        return 2
    today = dt.datetime.now(BUREAU_TIMEZONE).date()
    as_of = args.as_of or today.isoformat()
    first = settings.schedule.first_as_of
    if not first <= dt.date.fromisoformat(as_of) <= today:
        print(
            f"aidmatch: --as-of {as_of} is outside the dates a run can be for: {first} "
            f"(schedule.first_as_of) to today ({today}).",
            file=sys.stderr,
        )
        return 2
    resource_config = {
        "config_file": str(args.config.resolve()) if args.config else "",
        "input_root": str(input_root),
        "output_root": str(output_root),
        "work_dir": str(Path(args.work_dir or settings.paths.work_dir).resolve()),
        "accept_drop": sorted(set(args.accept_drop)),
        "full": args.full,
        "decisions_dir": str(
            (
                args.decisions or Path(settings.paths.decisions_dir or input_root.parent / "decisions")
            ).resolve()
        ),
    }
    if problem := check_work_databases(settings, Path(str(resource_config["work_dir"])), as_of):
        print(f"aidmatch: {problem}", file=sys.stderr)
        return 2
    say(f"aidmatch: as-of {as_of}, input {input_root}, output {output_root}")
    tags = run_tags(as_of, str(input_root), str(output_root), "aidmatch run") | _launched_by()
    if settings.province.enabled:
        return _run_province(settings, as_of, resource_config, tags, output_root, args.config)
    with open_instance(settings, as_of) as instance:
        result = _execute(NIGHTLY_JOB, args.config, instance, resource_config, tags)
    if not result.success:
        return _failed(result, f"the run for {as_of}", args.config)
    say(
        f"\naidmatch: done. Lists in {output_root / as_of}/ ; run {result.run_id} is in the Dagster UI: "
        f"{ui_hint(args.config)}"
    )
    return 0


def _execute(
    job_name: str,
    config: Path | None,
    instance: dg.DagsterInstance,
    resource_config: dict[str, object],
    tags: dict[str, str],
) -> dg.JobExecutionResult:
    """Run a job of the code location, defined by the configuration in force, with the folders in the
    resource's run config and the progress lines on the terminal."""
    return run_job(
        job_name,
        config_path(config),
        instance,
        run_config={"resources": {"aidmatch": {"config": resource_config}}, "loggers": {"progress": {}}},
        tags=tags,
    )


def _failed(result: dg.JobExecutionResult, what: str, config: Path | None) -> int:
    """Say why a run did not succeed (another run holds its folders, or what failed and what to do); 1."""
    if busy := busy_message(result):
        say(f"aidmatch: {busy}", sys.stderr)
        return 1
    say(f"\naidmatch: {what} failed (run id {result.run_id}):", sys.stderr)
    print(failure_explanation(result), file=sys.stderr)
    print(
        "Nothing was published for this as-of date; the last good output is untouched. "
        f"The quarantine rows and check details are in the Dagster UI: {ui_hint(config)}",
        file=sys.stderr,
    )
    return 1


def _run_province(
    settings: Settings,
    as_of: str,
    resource_config: dict[str, object],
    tags: dict[str, str],
    output_root: Path,
    config: Path | None,
) -> int:
    """A province's night on this machine: every city's intake, then — every city's person index being
    in — every city's lists, one run after the other (the schedule and sensor do the same through the
    daemon, wherever the run launcher puts the runs)."""
    with open_instance(settings, as_of) as instance:
        for half, job_name in (("intake", INTAKE_JOB), ("lists", LISTS_JOB)):
            for city in settings.province.cities:
                say(f"aidmatch: {city}, {half}")
                result = _execute(job_name, config, instance, resource_config, city_tags(tags, as_of, city))
                if not result.success:
                    return _failed(result, f"the {half} of {city} for {as_of}", config)
    say(
        f"\naidmatch: done. Lists in {output_root}/<city>/{as_of}/ for {', '.join(settings.province.cities)}; "
        f"the runs are in the Dagster UI: {ui_hint(config)}"
    )
    return 0


def init(args: argparse.Namespace) -> int:
    try:
        init_deployment(args.folder, with_sample=args.sample)
    except DeploymentExists as error:
        print(f"aidmatch: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"aidmatch: cannot lay out {args.folder}: {error}", file=sys.stderr)
        return 2
    folder = args.folder.resolve()
    config = shlex.quote(str(folder / CONFIG_NAME))
    sample = " (the bundled sample is in input/)" if args.sample else ""
    print(
        f"aidmatch: a deployment is laid out in {folder}:\n"
        f"  {CONFIG_NAME}        the configuration: read it, set alerts.to, schedule.first_as_of\n"
        f"  {KEY_NAME}         the work databases' encryption key: keep it, back it up apart (0600)\n"
        f"  input/<source>/      where the departments' extracts go{sample}\n"
        "  output/, work/       the published lists, the runs' DuckDB files\n"
        "  dagster_home/        the Dagster run history\n"
        "  workspace.yaml, systemd/  what the Dagster daemon and webserver run with\n"
        "Next:\n"
        f"  one night now:    {_command('aidmatch')} run --config {config}"
        f"{' --as-of 2026-11-22' if args.sample else ''}\n"
        f"  the UI:           {_command('aidmatch')} ui --config {config}\n"
        f"  every night:      install systemd/{SERVICES[0]} and systemd/{SERVICES[1]}; for analysts, "
        f"systemd/{SERVICES[2]} (a read-only UI; docs/operations.md)"
    )
    return 0


def ui(args: argparse.Namespace) -> int:
    """Replace this process with `dagster-webserver` on the run history and code location in use."""
    settings = _load(args.config)
    if settings is None:
        return 2
    home = prepare_dagster_home(settings)
    webserver = Path(sys.executable).parent / "dagster-webserver"
    command = [str(webserver), "-w", str(ui_workspace(home)), "-h", args.host, "-p", str(args.port)]
    command += ["--read-only"] if args.read_only else []
    print(
        f"aidmatch: the Dagster UI on {home}: http://{args.host}:{args.port}  (Ctrl-C stops it)", flush=True
    )
    # The code location (aidmatch.pipelines.definitions) is defined by the same configuration file.
    environment = os.environ | {CONFIG_ENV: str(config_path(args.config).resolve())}
    os.execve(command[0], command, environment)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # What a command creates — the run history's SQLite files, the webserver's — is its owner's alone.
    previous_umask = os.umask(0o077)
    try:
        return {"run": run, "init": init, "ui": ui}[args.command](args)
    finally:
        os.umask(previous_umask)


if __name__ == "__main__":
    sys.exit(main())
