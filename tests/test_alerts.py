"""The failure e-mail: a real failed night on a tmp instance, the sensor's real tick, a real SMTP server."""

import datetime as dt
import email
import email.policy
import os
import shutil
from collections.abc import Iterator
from dataclasses import replace

import dagster as dg
import pytest
from aiosmtpd.controller import Controller

from aidmatch.pipelines.alerts import (
    LATE_SENSOR_NAME,
    SENSOR_NAME,
    failure_email_sensor,
    late_extract_email_sensor,
)
from aidmatch.pipelines.code_location import build_defs
from aidmatch.settings import AlertSettings, Settings
from tests.conftest import TINY_AS_OF, run_aidmatch, write_tiny_world
from tests.servers import free_port


class Inbox:
    """An aiosmtpd handler keeping every message it is given."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 OK"


@pytest.fixture
def relay() -> Iterator[tuple[Inbox, AlertSettings]]:
    """A plain SMTP relay on 127.0.0.1 (no TLS, no login, as a bureau's relay on port 25) and alerts to it."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        settings = AlertSettings(
            to=("night-ops@example.org", "duty@example.org"),
            sender="aidmatch@example.org",
            smtp_host="127.0.0.1",
            smtp_port=controller.port,
            timeout_seconds=5,
        )
        yield inbox, settings
    finally:
        controller.stop()


def _tick(sensor: dg.SensorDefinition, instance: dg.DagsterInstance, cursor: str | None):
    """One tick of the sensor as the daemon evaluates it; returns the new cursor."""
    data = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=cursor))
    return data.cursor


def _night(
    tmp_path,
    settings: AlertSettings,
    drop_source: str | None,
    sensor: dg.SensorDefinition | None = None,
    stale_days: int = 0,
) -> tuple[str, int]:
    """A tiny night with the sensor ticking before and after it, on the instance under DAGSTER_HOME; its
    dibao extract last modified `stale_days` before the as-of date when given."""
    root = write_tiny_world(tmp_path / "input")
    if drop_source:
        shutil.rmtree(root / drop_source)
    if stale_days:
        stale = dt.datetime.combine(TINY_AS_OF - dt.timedelta(days=stale_days), dt.time(12)).timestamp()
        os.utime(root / "dibao" / "东城区.csv", (stale, stale))
    sensor = sensor or failure_email_sensor(settings)
    run_aidmatch(root, tmp_path / "out", tmp_path / "work", TINY_AS_OF)  # creates the instance's storage
    with dg.DagsterInstance.get() as instance:
        cursor = _tick(sensor, instance, None)  # the first tick starts after every run so far
    code = run_aidmatch(root, tmp_path / "out", tmp_path / "work", TINY_AS_OF)
    with dg.DagsterInstance.get() as instance:
        _tick(sensor, instance, cursor)
        runs = instance.get_runs(limit=1)
    return runs[0].run_id, code


def test_a_failed_night_is_emailed_with_job_as_of_run_id_and_explanation(tmp_path, dagster_home, relay):
    inbox, settings = relay
    run_id, code = _night(tmp_path, settings, drop_source="dibao")
    assert code == 1
    assert len(inbox.messages) == 1
    sender, recipients, message = inbox.messages[0]
    assert sender == "aidmatch@example.org"
    assert recipients == ["night-ops@example.org", "duty@example.org"]
    assert message["Subject"] == f"aidmatch: aidmatch_nightly failed for as-of {TINY_AS_OF} (run {run_id})"
    body = message.get_content()
    assert "raw_dibao · files_readable" in body  # the blocking check that stopped the night, as the CLI says
    assert "dibao" in body and "Nothing was published" in body
    feedback = tmp_path / "out" / f"{TINY_AS_OF}.feedback"  # the departments' sheets of the stopped night
    assert f"feedback sheets (数据质量反馈表) of this night are in {feedback}/" in body
    assert "110101" not in body  # no citizen ID (nor any row) of the tiny world


def test_a_successful_night_sends_nothing(tmp_path, dagster_home, relay):
    inbox, settings = relay
    _, code = _night(tmp_path, settings, drop_source=None)
    assert code == 0
    assert inbox.messages == []


def test_a_night_published_on_a_late_extract_names_it_and_links_the_run(tmp_path, dagster_home, relay):
    """The dibao extract last modified 50 days before the as-of date: the lists are published (exit 0) and
    the operator is told which extract to chase, with a link to the run in the UI."""
    inbox, settings = relay
    settings = replace(settings, ui_url="http://aidmatch.example.gov.cn:3000/")
    sensor = late_extract_email_sensor(settings)
    run_id, code = _night(tmp_path, settings, drop_source=None, sensor=sensor, stale_days=50)
    assert code == 0
    [(_, _, message)] = inbox.messages
    assert message["Subject"] == f"aidmatch: 1 late extract(s) for as-of {TINY_AS_OF} (run {run_id})"
    body = message.get_content()
    assert "WARN: dibao: the newest file, dibao/东城区.csv" in body and "50 days" in body
    assert f"http://aidmatch.example.gov.cn:3000/runs/{run_id}" in body
    assert "110101" not in body


def test_a_night_on_fresh_extracts_sends_no_late_extract_mail(tmp_path, dagster_home, relay):
    inbox, settings = relay
    _, code = _night(tmp_path, settings, drop_source=None, sensor=late_extract_email_sensor(settings))
    assert code == 0
    assert inbox.messages == []


def test_the_sensor_is_defined_only_when_alerts_name_someone():
    assert not list(build_defs(Settings()).sensors or [])
    enabled = build_defs(Settings(alerts=replace(AlertSettings(), to=("ops@example.org",))))
    assert [s.name for s in enabled.sensors] == [SENSOR_NAME, LATE_SENSOR_NAME]
