"""Terminal progress for `aidmatch run`: one timed line per stage, our own messages, no tracebacks.

A Dagster logger that keeps the night shift's terminal readable: every line starts with the time
(Asia/Shanghai, what the bureau reads), steps start and finish with their duration, failed checks
are named, and what our assets and resource log *for the terminal* is shown. What is ours is marked,
not guessed: code that means a message for the operator logs it with `tell(context.log, ...)`, which
tags the record (`extra={TERMINAL: True}`; Dagster hands a record's extras on to the run's loggers).
Everything else that is not an event — Dagster's own engine messages ("did not yield…", "Dependencies
for step … Not executing.") and anything logged unmarked — stays in the run's event log under
DAGSTER_HOME and does not reach the terminal. Messages are cut to their first paragraph.
"""

import datetime as dt
import logging
import sys
import time

import dagster as dg

from aidmatch.settings import BUREAU_TIMEZONE

TERMINAL = "aidmatch_terminal"  # the record attribute that marks a message for the terminal

_EVENT_LINES = {
    "STEP_START": "▶ {step}",
    "STEP_SUCCESS": "✓ {step}{took}",
    "STEP_FAILURE": "✗ {step} failed{took}",
    "STEP_SKIPPED": "- {step} skipped (an upstream step or blocking check failed)",
}


def clock(timestamp: float | None = None) -> str:
    """`HH:MM:SS` in Asia/Shanghai for a POSIX timestamp (default: now)."""
    when = dt.datetime.fromtimestamp(time.time() if timestamp is None else timestamp, BUREAU_TIMEZONE)
    return when.strftime("%H:%M:%S")


def stamped(text: str, timestamp: float | None = None) -> str:
    """`text` with the time before each of its non-empty lines (empty lines stay empty)."""
    now = clock(timestamp)
    return "\n".join(f"{now} {line}" if line.strip() else "" for line in text.split("\n"))


def tell(log: logging.Logger, message: str, level: int = logging.INFO) -> None:
    """Log `message` to the run's event log and, marked as ours, to the operator's terminal."""
    log.log(level, message, extra={TERMINAL: True})


def _seconds(seconds: float) -> str:
    return f" ({seconds:.1f} s)" if seconds < 120 else f" ({int(seconds // 60)} min {seconds % 60:.0f} s)"


class ProgressFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__()
        self._started: dict[str, float] = {}  # step key -> record time of its STEP_START

    def _took(self, kind: str, step: str, event, created: float) -> str:
        duration_ms = getattr(event.event_specific_data, "duration_ms", None)
        if kind == "STEP_SUCCESS" and duration_ms is not None:
            return _seconds(duration_ms / 1000)
        if step in self._started:
            return _seconds(created - self._started[step])
        return ""

    def _line(self, record: logging.LogRecord) -> str:
        meta = getattr(record, "dagster_meta", {}) or {}
        event = meta.get("dagster_event")
        step = meta.get("step_key") or ""
        message = str(meta.get("orig_message") or record.getMessage())
        if event is None:  # a message, not an event: shown only when our code marked it for the terminal
            shown = getattr(record, TERMINAL, False) and record.levelno >= logging.INFO
            return f"   {message.split(chr(10) + chr(10))[0]}" if shown else ""
        kind = event.event_type_value
        if kind == "STEP_START":
            self._started[step] = record.created
        if kind in _EVENT_LINES:
            return _EVENT_LINES[kind].format(step=step, took=self._took(kind, step, event, record.created))
        if kind == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if not evaluation.passed:
                severity = evaluation.severity.value
                asset = evaluation.asset_key.to_user_string()
                return f" ! check {evaluation.check_name} on {asset}: {severity}"
        return ""

    def format(self, record: logging.LogRecord) -> str:
        line = self._line(record)
        return stamped(line, record.created) if line else ""


class _ProgressHandler(logging.StreamHandler):
    """Writes the formatted line, and nothing for the records the formatter has no line for."""

    def emit(self, record: logging.LogRecord) -> None:
        line = self.format(record)
        if line:
            self.stream.write(line + self.terminator)
            self.flush()


@dg.logger(description="Concise stage-by-stage progress for the terminal, timed in Asia/Shanghai.")
def progress_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    logger = logging.Logger("aidmatch", level=logging.DEBUG)  # step events are logged at DEBUG
    handler = _ProgressHandler(sys.stdout)
    handler.setFormatter(ProgressFormatter())
    logger.addHandler(handler)
    return logger
