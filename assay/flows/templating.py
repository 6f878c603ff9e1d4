"""Notification messages: ``{{ token }}`` placeholders, per trigger type.

A message is text with tokens such as ``{{ datastore_name }}`` (spaces inside the braces are
optional). :func:`render` replaces each token by its value in the event's context; a token
the trigger type does not provide is refused when the action is saved
(:func:`unknown_tokens`), so a message never goes out with a hole in it. Token names follow
Qualytics' notification tokens; the digest tokens (``anomaly_count``, ``anomaly_links``,
``rule_types``, ``containers``) describe all anomalies of one scan at once.
"""

from __future__ import annotations

import re
from typing import Any

TOKEN = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")

OPERATION, ANOMALY, MANUAL, SCHEDULE = "Operation", "Anomaly", "Manual", "Schedule"
TRIGGER_TYPES = (OPERATION, ANOMALY, MANUAL, SCHEDULE)

_COMMON = {
    "flow_name": "Name of the flow",
    "datastore_name": "Datastore the event happened on",
    "datastore_link": "Link to the datastore",
    "operation_id": "Id of the operation",
    "operation_type": "Type of the operation (catalog, profile, scan, export)",
    "operation_result": "Result of the operation (success, failure, aborted)",
    "operation_link": "Link to the operation",
    "target_link": "Link to what the event is about (the operation, or the scan's anomalies)",
}

TOKENS: dict[str, dict[str, str]] = {
    OPERATION: {
        **_COMMON,
        "operation_message": "The operation's message (warnings or the failure's reason), or empty",
        "container_names": "Comma-separated names of the containers the operation covered",
        "records_processed": "Records the operation read",
        "anomaly_count": "Anomalies the operation identified (scans)",
    },
    ANOMALY: {
        **_COMMON,
        "anomaly_count": "Anomalies of the scan that match the flow's filters",
        "container_name": "Container of the first anomaly (the digest lists the others)",
        "container_link": "Link to that container",
        "containers": "Comma-separated names of the containers with anomalies",
        "anomaly_type": "Type of the first anomaly (record or shape)",
        "anomaly_message": "Message of the first anomaly",
        "check_description": "Description of the first anomaly's failed check",
        "rule_types": "Comma-separated rule types of the failed checks",
        "anomaly_links": "One line per anomaly: its id, container, message and link",
        "max_weight": "Highest weight among the anomalies",
    },
    MANUAL: {"flow_name": "Name of the flow"},
    SCHEDULE: {"flow_name": "Name of the flow", "fire_time": "The scheduled time this run is for (UTC, ISO 8601)"},
}

DEFAULT_MESSAGES = {
    OPERATION: (
        "{{ flow_name }}: {{ operation_type }} operation {{ operation_id }} on {{ datastore_name }} "
        "ended with {{ operation_result }}. {{ operation_link }}"
    ),
    ANOMALY: (
        "{{ flow_name }}: scan {{ operation_id }} of {{ datastore_name }} found {{ anomaly_count }} "
        "anomalies in {{ containers }} (rule types: {{ rule_types }}).\n{{ anomaly_links }}"
    ),
    MANUAL: "{{ flow_name }} was run manually.",
    SCHEDULE: "{{ flow_name }}: scheduled run of {{ fire_time }}.",
}


def tokens_in(message: str) -> list[str]:
    """The token names used in ``message``, in order of first use."""
    return list(dict.fromkeys(TOKEN.findall(message or "")))


def unknown_tokens(message: str, trigger_type: str) -> list[str]:
    """Tokens of ``message`` that ``trigger_type`` does not provide."""
    valid = TOKENS.get(trigger_type, {})
    return [t for t in tokens_in(message) if t not in valid]


def render(message: str | None, trigger_type: str, context: dict[str, Any]) -> str:
    """``message`` (or the trigger type's default) with every token replaced by its value in
    ``context`` (``None`` → empty text)."""
    text = message if message else DEFAULT_MESSAGES.get(trigger_type, "")

    def value(m: re.Match) -> str:
        v = context.get(m.group(1))
        return "" if v is None else str(v)

    return TOKEN.sub(value, text)


def sample_context(trigger_type: str, flow_name: str, base_url: str) -> dict[str, Any]:
    """A made-up event of ``trigger_type`` for previews and test sends."""
    ctx: dict[str, Any] = {
        "flow_name": flow_name,
        "datastore_name": "sample_datastore",
        "datastore_link": f"{base_url}/api/datastores/1",
        "operation_id": 1,
        "operation_type": "scan",
        "operation_result": "success",
        "operation_link": f"{base_url}/api/operations/1",
        "target_link": f"{base_url}/api/operations/1",
        "operation_message": "",
        "container_names": "orders",
        "records_processed": 1000,
        "anomaly_count": 1,
    }
    if trigger_type == SCHEDULE:
        ctx["fire_time"] = "2026-01-01T06:00:00Z"
    if trigger_type == ANOMALY:
        ctx.update(
            container_name="orders",
            container_link=f"{base_url}/api/containers/1",
            containers="orders",
            anomaly_type="record",
            anomaly_message="1 record has a null in amount",
            check_description="amount is never null",
            rule_types="notNull",
            anomaly_links=f"#1 orders: 1 record has a null in amount {base_url}/api/anomalies/1",
            max_weight=1,
            target_link=f"{base_url}/api/anomalies?operation=1",
        )
    return ctx


def subject_for(parameters: dict[str, Any], trigger_type: str, context: dict[str, Any]) -> str:
    """The title of a notification: the action's ``email_subject`` (tokens filled) when it
    has one, else :func:`title_for`."""
    subject = parameters.get("email_subject")
    return render(str(subject), trigger_type, context) if subject else title_for(trigger_type, context)


def title_for(trigger_type: str, context: dict[str, Any]) -> str:
    """A one-line subject / title for channels that have one (email, Slack, Teams, PagerDuty)."""
    flow = context.get("flow_name") or "Assay flow"
    if trigger_type == OPERATION:
        return f"[Assay] {flow}: {context.get('operation_type')} on {context.get('datastore_name')} {context.get('operation_result')}"
    if trigger_type == ANOMALY:
        return f"[Assay] {flow}: {context.get('anomaly_count')} anomalies in {context.get('datastore_name')}"
    return f"[Assay] {flow}"
