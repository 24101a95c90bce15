"""E-mail to the night operator when a run fails or an extract is late, through the bureau's relay.

Dagster's `make_email_on_run_failure_sensor` only speaks SSL or STARTTLS with a login; a bureau relay on
port 25 takes plain SMTP without either, so this is our own `run_failure_sensor` over `smtplib`
(STARTTLS and a login when `alerts` asks for them). It watches every run of the instance
(`monitor_all_code_locations`): runs started by `aidmatch run` are executed in-process and carry no
code location, and they must page the operator as scheduled ones do.

A second sensor watches the nights that succeed: when a source's `fresh` check failed (its newest file
older than `freshness.warn_days`), the operator is told which department's extract is late, so it is
chased before the month's lists are worked from a stale extract. A night that fails says the same in
its failure e-mail (an ERROR-severity `fresh` is part of the explanation).

The sensors run in the Dagster daemon (`dagster-daemon run`, see docs/operations.md); they are only
defined when `alerts.to` names someone. A message holds the job, the as-of date, the run id, a link to
the run in the UI when `alerts.ui_url` is set, and the explanation `aidmatch run` prints
(`pipelines/explain.py`): check descriptions and step errors, never a person's data. A relay that
refuses the message fails the sensor's tick, which the UI shows under the sensor.
"""

import os
import smtplib
import ssl
from email.message import EmailMessage

import dagster as dg

from aidmatch.pipelines.explain import explain_events
from aidmatch.settings import SMTP_PASSWORD_ENV, AlertSettings

SENSOR_NAME = "aidmatch_failure_email"
LATE_SENSOR_NAME = "aidmatch_late_extract_email"


def _events(run: dg.DagsterRun, instance: dg.DagsterInstance) -> list[dg.DagsterEvent]:
    return [entry.dagster_event for entry in instance.all_logs(run.run_id) if entry.dagster_event]


def _message(run: dg.DagsterRun, settings: AlertSettings, subject: str, body: str) -> EmailMessage:
    """An e-mail about `run` to `alerts.to`, ending with where to look in the UI."""
    where = f"{settings.ui_url.rstrip('/')}/runs/{run.run_id}" if settings.ui_url else f"run {run.run_id}"
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.sender
    message["To"] = ", ".join(settings.to)
    message.set_content(f"{body}\nThe check details are in the Dagster UI: {where}\n")
    return message


def failure_message(
    run: dg.DagsterRun, instance: dg.DagsterInstance, settings: AlertSettings
) -> EmailMessage:
    """The e-mail for one failed run, built from its events in the instance's event log."""
    as_of = run.tags.get("dagster/partition", "(no as-of date)")
    return _message(
        run,
        settings,
        f"aidmatch: {run.job_name} failed for as-of {as_of} (run {run.run_id})",
        f"The run {run.run_id} of {run.job_name} for the as-of date {as_of} failed:\n\n"
        f"{explain_events(_events(run, instance))}\n\n"
        "Nothing was published for this as-of date; the last good output is untouched.\n",
    )


def late_extracts(events: list[dg.DagsterEvent]) -> list[str]:
    """What each failed `fresh` check of a run said: one line per late source, naming its newest file."""
    return [
        f"- {event.event_specific_data.severity.value}: {event.event_specific_data.description}"
        for event in events
        if event.event_type_value == "ASSET_CHECK_EVALUATION"
        and event.event_specific_data.check_name == "fresh"
        and not event.event_specific_data.passed
    ]


def late_extract_message(
    run: dg.DagsterRun, instance: dg.DagsterInstance, settings: AlertSettings
) -> EmailMessage | None:
    """The e-mail naming the late extracts a published night read, or None when every extract was fresh."""
    late = late_extracts(_events(run, instance))
    if not late:
        return None
    as_of = run.tags.get("dagster/partition", "(no as-of date)")
    return _message(
        run,
        settings,
        f"aidmatch: {len(late)} late extract(s) for as-of {as_of} (run {run.run_id})",
        f"The lists for the as-of date {as_of} were published, but some extracts look late:\n\n"
        + "\n".join(late)
        + "\n\nDecisions that rest on a record's absence are only as good as these extracts: ask the "
        "departments for this month's delivery.\n",
    )


def send(message: EmailMessage, settings: AlertSettings) -> None:
    """Hand the message to the relay: plain SMTP, or STARTTLS (and a login) when configured."""
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.timeout_seconds) as server:
        if settings.starttls:
            server.starttls(context=ssl.create_default_context())
        if settings.smtp_user is not None:
            server.login(settings.smtp_user, os.environ.get(SMTP_PASSWORD_ENV, ""))
        server.send_message(message)


def failure_email_sensor(settings: AlertSettings) -> dg.SensorDefinition:
    """The run-failure sensor e-mailing `settings.to`."""

    @dg.run_failure_sensor(
        name=SENSOR_NAME,
        monitor_all_code_locations=True,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"E-mails {', '.join(settings.to)} through {settings.smtp_host} when a run fails.",
    )
    def aidmatch_failure_email(context: dg.RunFailureSensorContext) -> None:
        send(failure_message(context.dagster_run, context.instance, settings), settings)
        context.log.info(f"failure of run {context.dagster_run.run_id} e-mailed to {', '.join(settings.to)}")

    return aidmatch_failure_email


def late_extract_email_sensor(settings: AlertSettings) -> dg.SensorDefinition:
    """The sensor e-mailing `settings.to` when a night succeeded on a late extract."""

    @dg.run_status_sensor(
        run_status=dg.DagsterRunStatus.SUCCESS,
        name=LATE_SENSOR_NAME,
        monitor_all_code_locations=True,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"E-mails {', '.join(settings.to)} when a published night read a late extract (check fresh).",
    )
    def aidmatch_late_extract_email(context: dg.RunStatusSensorContext) -> None:
        message = late_extract_message(context.dagster_run, context.instance, settings)
        if message is not None:
            send(message, settings)
            context.log.info(f"late extracts of run {context.dagster_run.run_id} e-mailed")

    return aidmatch_late_extract_email


def alert_sensors(settings: AlertSettings) -> list[dg.SensorDefinition]:
    """The e-mail sensors, when `alerts.to` names someone."""
    return [failure_email_sensor(settings), late_extract_email_sensor(settings)] if settings.enabled else []
