"""/notification-rules and /notification-receiver/specifications: Qualytics' older alerting
API. Each rule runs as a flow (``assay.flows.rules``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request, Response

from ...flows import repository as repo
from ...flows.delivery import IN_APP, SPECIFICATIONS
from ...flows.rules import SOURCE, apply_rule, rule_out
from ...flows.schemas import (
    CreateNotificationRule,
    NotificationRuleOut,
    NotificationSpec,
    PageNotificationRule,
    TriggerTokens,
    UpdateMuteNotificationRule,
)
from ...flows.templating import ANOMALY, DEFAULT_MESSAGES, OPERATION, TOKENS
from ..deps import PageDep, SessionDep, page_of

router = APIRouter(tags=["notifications"])


def _key(request: Request) -> str:
    return request.app.state.settings.secret_key


@router.get("/notification-receiver/specifications", response_model=list[NotificationSpec])
def receiver_specifications() -> list[dict]:
    """The parameters of each receiver type (``secret: true`` ones are encrypted, never returned)."""
    return [{**s, "auth_supported": s["type"] == "HttpAction"} for s in SPECIFICATIONS if s["type"] != IN_APP]


@router.get("/notification-rules/tokens", response_model=list[TriggerTokens])
def rule_tokens() -> list[dict]:
    """The ``{{ token }}`` placeholders a rule's message may use, per trigger type."""
    return [
        {
            "trigger_type": t,
            "valid_message_tokens": [f"{{{{ {k} }}}}" for k in TOKENS[t]],
            "descriptions": TOKENS[t],
            "default_message": DEFAULT_MESSAGES[t],
        }
        for t in (OPERATION, ANOMALY)
    ]


@router.get("/notification-rules", response_model=PageNotificationRule)
def list_rules(request: Request, session: SessionDep, page: PageDep) -> dict:
    rules = list(session.scalars(repo.flows_query(source=SOURCE, sort=[("created", "desc")])))
    items = rules[(page.page - 1) * page.size : page.page * page.size]
    pages = max(1, -(-len(rules) // page.size))
    return page_of([rule_out(session, r, _key(request)) for r in items], len(rules), page, pages)


@router.post("/notification-rules", response_model=NotificationRuleOut)
def create_rule(request: Request, session: SessionDep, body: Annotated[CreateNotificationRule, Body()]) -> dict:
    """Create a rule: an in-app notification and one message per receiver, each time its
    trigger fires. 422 naming the field for bad receivers or unknown tokens."""
    return rule_out(session, apply_rule(session, _key(request), body), _key(request))


@router.get("/notification-rules/{rule_id}", response_model=NotificationRuleOut)
def get_rule(request: Request, session: SessionDep, rule_id: int) -> dict:
    return rule_out(session, repo.get_flow(session, rule_id, SOURCE), _key(request))


@router.put("/notification-rules/{rule_id}", response_model=NotificationRuleOut)
def update_rule(
    request: Request, session: SessionDep, rule_id: int, body: Annotated[CreateNotificationRule, Body()]
) -> dict:
    """Replace a rule; a receiver in the same position with the same type keeps its stored secrets."""
    flow = repo.get_flow(session, rule_id, SOURCE)
    return rule_out(session, apply_rule(session, _key(request), body, flow), _key(request))


@router.delete("/notification-rules/{rule_id}", status_code=204)
def delete_rule(session: SessionDep, rule_id: int) -> Response:
    session.delete(repo.get_flow(session, rule_id, SOURCE))
    return Response(status_code=204)


@router.patch("/notification-rules/{rule_id}/muted", response_model=NotificationRuleOut)
def mute_rule(
    request: Request, session: SessionDep, rule_id: int, body: Annotated[UpdateMuteNotificationRule, Body()]
) -> dict:
    """Mute (nothing is sent) or unmute a rule."""
    flow = repo.get_flow(session, rule_id, SOURCE)
    flow.deactivated = body.muted
    session.flush()
    return rule_out(session, flow, _key(request))
