"""Notification rules (``/api/notification-rules``, Qualytics' older alerting API) run as
flows: a rule is a flow (``source`` ``notification_rule``, hidden from ``/api/flows``) with
the rule's trigger, an in-app notification and one notification action per receiver, all
carrying the rule's message. Muting a rule deactivates its flow. Its executions are listed
with the other flow executions."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from .delivery import IN_APP, SPEC_BY_TYPE
from .models import Flow
from .schemas import CreateActionNotification, CreateActionOperation, CreateFlow, CreateNotificationRule
from .service import action_out, apply_flow, flow_out

SOURCE = "notification_rule"


def apply_rule(s: Session, secret_key: str, body: CreateNotificationRule, flow: Flow | None = None) -> Flow:
    """Create or replace the flow of a notification rule. A receiver at the same position
    and of the same type as before keeps its stored secrets unless they are sent again.
    Raises ValidationError (locations as in the flow: ``actions.<n>``; n = receiver + 1)."""
    old = [a for a in flow.actions if a.notification_type != IN_APP] if flow is not None else []
    actions: list[CreateActionNotification | CreateActionOperation] = [
        CreateActionNotification(notification_type=IN_APP, tokenized_message=body.tokenized_message)
    ]
    if flow is not None:
        in_app = [a for a in flow.actions if a.notification_type == IN_APP]
        if in_app:
            actions[0].id = in_app[0].id
    for i, r in enumerate(body.receivers):
        same = old[i] if i < len(old) and old[i].notification_type == r.type else None
        actions.append(
            CreateActionNotification(
                id=same.id if same else None,
                notification_type=r.type,
                parameters=r.parameters,
                secret=r.secret,
                auth_type=r.auth_type,
                tokenized_message=body.tokenized_message,
            )
        )
    flow_body = CreateFlow(
        name=body.name,
        description=body.description,
        trigger_type=body.trigger_type,
        team_ids=body.team_ids,
        tags=body.tags,
        deactivated=bool(flow.deactivated) if flow is not None else False,
        actions=actions,
    )
    flow, _generated = apply_flow(s, secret_key, flow_body, flow)
    flow.source = SOURCE
    s.flush()
    return flow


def rule_out(s: Session, flow: Flow, secret_key: str) -> dict[str, Any]:
    out = flow_out(s, flow, secret_key)
    receivers = []
    for a in flow.actions:
        if a.notification_type == IN_APP:
            continue
        action = action_out(a, secret_key)
        receivers.append(
            {
                "id": a.id,
                "created": a.created,
                "display_name": SPEC_BY_TYPE[a.notification_type or ""]["display_name"],
                "type": a.notification_type,
                "parameters": action["parameters"],
                "secret_parameters": action["secret_parameters"],
            }
        )
    message = next((a.tokenized_message for a in flow.actions if a.notification_type == IN_APP), None)
    return {
        "id": flow.id,
        "created": flow.created,
        "name": flow.name,
        "description": flow.description,
        "muted": bool(flow.deactivated),
        "trigger_type": flow.trigger_type,
        "tokenized_message": message,
        "receivers": receivers,
        "teams": [],
        "global_tags": out["global_tags"],
    }
