"""A failed run in words for a person: which blocking checks failed, which steps broke, and why.

Built from the run's Dagster events, so the CLI (from its run's result) and the failure e-mail
(from the instance's event log, `pipelines/alerts.py`) say the same thing. Check descriptions and step
errors only: they name sources, files and rules, never a person; and the folder of the departments'
feedback sheets a stopped night wrote (`publish/blocked_feedback.py`).
"""

import re
from collections.abc import Iterable

import dagster as dg

from aidmatch.publish.blocked_feedback import FEEDBACK_FOLDER

# The error of a step that failed only because its blocking checks failed: those checks are the problem,
# listed already (Dagster does not export the class; its name is stable across 1.x).
CHECKS_FAILED_ERROR = "DagsterAssetCheckFailedError"


def error_text(error) -> str:
    """A Dagster error record's message without the exception class before it, first paragraph only."""
    message = re.sub(rf"^[\w.]*\b{re.escape(error.cls_name or '')}: ", "", error.message.strip())
    return message.split("\n\n")[0]


def explain_events(events: Iterable[dg.DagsterEvent]) -> str:
    """One paragraph: the blocking checks that failed and the steps that broke, each problem once; then, on
    a night a blocking check stopped, where the departments' feedback sheets were written."""
    lines, feedback = [], []
    for event in events:
        if event.event_type_value == "ASSET_OBSERVATION":
            metadata = event.asset_observation_data.asset_observation.metadata
            if FEEDBACK_FOLDER in metadata:
                feedback.append(
                    f"The departments' feedback sheets (数据质量反馈表) of this night are in "
                    f"{metadata[FEEDBACK_FOLDER].value}/: send them back with what to fix."
                )
        if event.event_type_value == "RESOURCE_INIT_FAILURE" and event.event_specific_data.error:
            lines.append(f"- the run could not start: {error_text(event.event_specific_data.error)}")
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR:
                description = evaluation.description or "see the check's metadata in the Dagster UI"
                lines.append(
                    f"- {evaluation.asset_key.to_user_string()} · {evaluation.check_name}: {description}"
                )
        elif event.event_type_value == "STEP_FAILURE":
            error = event.event_specific_data.error
            cause = error.cause if error and error.cause else error
            if error and error.cls_name != CHECKS_FAILED_ERROR:
                lines.append(f"- step {event.step_key} failed: {error_text(cause or error)}")
    unique = list(dict.fromkeys(lines)) or ["- the run failed; open it in the Dagster UI for details."]
    return "\n".join([*unique, *dict.fromkeys(feedback)])
