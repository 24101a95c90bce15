"""E-mail to the night operator when a run fails: a run-failure sensor sending through the bureau's relay.

Dagster's `make_email_on_run_failure_sensor` only speaks SSL or STARTTLS with a login; a bureau relay on
port 25 takes plain SMTP without either, so this is our own `run_failure_sensor` over `smtplib`
(STARTTLS and a login when `alerts` asks for them). It watches every run of the instance
(`monitor_all_code_locations`): runs started by `aidmatch run` are executed in-process and carry no
code location, and they must page the operator as scheduled ones do.

The sensor runs in the Dagster daemon (`dagster-daemon run`, see docs/operations.md); it is only defined when
`alerts.to` names someone. The message holds the job, the as-of date, the run id and the explanation
`aidmatch run` prints (`pipelines/explain.py`): check descriptions and step errors, never a person's data.
A relay that refuses the message fails the sensor's tick, which the UI shows under the sensor.
"""

import os
import smtplib
import ssl
from email.message import EmailMessage

import dagster as dg

from aidmatch.pipelines.explain import explain_events
from aidmatch.settings import SMTP_PASSWORD_ENV, AlertSettings

SENSOR_NAME = "aidmatch_failure_email"


def failure_message(
    run: dg.DagsterRun, instance: dg.DagsterInstance, settings: AlertSettings
) -> EmailMessage:
    """The e-mail for one failed run, built from its events in the instance's event log."""
    as_of = run.tags.get("dagster/partition", "(no as-of date)")
    events = [entry.dagster_event for entry in instance.all_logs(run.run_id) if entry.dagster_event]
    message = EmailMessage()
    message["Subject"] = f"aidmatch: {run.job_name} failed for as-of {as_of} (run {run.run_id})"
    message["From"] = settings.sender
    message["To"] = ", ".join(settings.to)
    message.set_content(
        f"The run {run.run_id} of {run.job_name} for the as-of date {as_of} failed:\n\n"
        f"{explain_events(events)}\n\n"
        "Nothing was published for this as-of date; the last good output is untouched.\n"
        f"The quarantine rows and check details are in the Dagster UI, run {run.run_id}.\n"
    )
    return message


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
