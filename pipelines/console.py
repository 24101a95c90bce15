"""Terminal progress for `aidmatch run`: one line per stage, the assets' own messages, no tracebacks.

A Dagster logger that keeps the night shift's terminal readable: step start/finish with timings,
failed checks with their human description, and what our assets log. Errors are cut to their first
paragraph (the full record, stack trace included, stays in the run history under DAGSTER_HOME).
"""

import logging
import sys

import dagster as dg

_EVENT_LINES = {
    "STEP_START": "▶ {step}",
    "STEP_SUCCESS": "✓ {step}",
    "STEP_FAILURE": "✗ {step} failed",
    "STEP_SKIPPED": "- {step} skipped (an upstream step or blocking check failed)",
}


class ProgressFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        meta = getattr(record, "dagster_meta", {}) or {}
        event = meta.get("dagster_event")
        step = meta.get("step_key") or ""
        message = str(meta.get("orig_message") or record.getMessage())
        if event is None:  # an asset's or our resource's own message; Dagster's chatter comes at DEBUG
            shown = (step or meta.get("resource_name")) and record.levelno >= logging.INFO
            return f"    {message.split(chr(10) + chr(10))[0]}" if shown else ""
        kind = event.event_type_value
        if kind in _EVENT_LINES:
            return _EVENT_LINES[kind].format(step=step)
        if kind == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if not evaluation.passed:
                severity = evaluation.severity.value
                asset = evaluation.asset_key.to_user_string()
                return f"  ! check {evaluation.check_name} on {asset}: {severity}"
        return ""


class _ProgressHandler(logging.StreamHandler):
    """Writes the formatted line, and nothing for the records the formatter has no line for."""

    def emit(self, record: logging.LogRecord) -> None:
        line = self.format(record)
        if line:
            self.stream.write(line + self.terminator)
            self.flush()


@dg.logger(description="Concise stage-by-stage progress for the terminal.")
def progress_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    logger = logging.Logger("aidmatch", level=logging.DEBUG)  # step events are logged at DEBUG
    handler = _ProgressHandler(sys.stdout)
    handler.setFormatter(ProgressFormatter())
    logger.addHandler(handler)
    return logger
