"""/flows: flow definitions, their actions, executions, test sends and message previews.

Thin: validation and storage live in ``assay.flows.service``, queries in
``assay.flows.repository``; delivery happens in the flow dispatcher, never in a request
(except the explicit test sends).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, Request, Response
from sqlalchemy.orm import Session

from ...errors import Conflict
from ...flows import repository as repo
from ...flows import service
from ...flows.delivery import SPECIFICATIONS
from ...flows.models import Flow
from ...flows.schemas import (
    ActionNotificationTest,
    ActionOut,
    CreateFlow,
    EntityHistory,
    FlowExecutionOut,
    FlowOut,
    FlowStub,
    MessagePreview,
    NotificationSpec,
    PageAction,
    PageFlow,
    PageFlowExecution,
    TestNotification,
    TriggerTokens,
    UpdateDeactivateFlow,
    UpdateMuteActionNotification,
)
from ...flows.templating import DEFAULT_MESSAGES, TOKENS
from ...store.repo import paginate
from ..auth import CurrentUser
from ..deps import PageDep, SessionDep, page_of

router = APIRouter(prefix="/flows", tags=["flows"])
Sort = Literal["asc", "desc"]


def _key(request: Request) -> str:
    return request.app.state.settings.secret_key


def _split(values: list[str] | None) -> list[str]:
    return [v for value in values or [] for v in value.split(",") if v]


# -- static paths first (before /{id}) -------------------------------------------------------------


@router.get("/listing", response_model=list[FlowStub])
def flow_listing(session: SessionDep, deactivated: bool | None = None) -> list[dict]:
    """Every flow as a stub (no paging); ``deactivated`` filters."""
    return [service.flow_stub(f) for f in session.scalars(repo.flows_query(deactivated=deactivated))]


@router.get("/actions/notification/specifications", response_model=list[NotificationSpec])
def notification_specifications() -> list[dict]:
    """The parameters each notification type takes (``secret: true`` ones are stored
    encrypted and never returned)."""
    return SPECIFICATIONS


@router.get("/actions/notification/tokens", response_model=list[TriggerTokens])
def notification_tokens() -> list[dict]:
    """The ``{{ token }}`` placeholders a message may use, per trigger type, and the
    message used when an action has none."""
    return [
        {
            "trigger_type": trigger,
            "valid_message_tokens": [f"{{{{ {t} }}}}" for t in tokens],
            "descriptions": tokens,
            "default_message": DEFAULT_MESSAGES[trigger],
        }
        for trigger, tokens in TOKENS.items()
    ]


@router.post("/actions/notifications/test", response_model=ActionNotificationTest)
def test_notification(
    request: Request, session: SessionDep, user: CurrentUser, body: Annotated[TestNotification, Body()]
) -> dict:
    """Send a sample message (tokens filled from a made-up event of ``trigger_type``) to
    the notification described by the body, now. ``success`` false and the reason in
    ``delivery_response`` when the channel refused it."""
    return service.send_test(session, user.id, body, None, _key(request))


@router.post("/actions/notifications/preview", response_model=MessagePreview)
def preview_notification(body: Annotated[TestNotification, Body()]) -> dict:
    """Assay: the title and text the notification would carry for a sample event of
    ``trigger_type`` (nothing is sent). ``unknown_tokens`` lists tokens the trigger lacks."""
    return service.preview(body)


@router.post("/actions/notifications/{action_id}/test", response_model=ActionNotificationTest)
def test_stored_notification(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    action_id: int,
    body: Annotated[TestNotification | None, Body()] = None,
) -> dict:
    """Send a sample message through stored notification action ``action_id`` (its stored
    secrets included); fields of the body override the stored ones."""
    action = repo.get_action(session, action_id, "notification")
    return service.send_test(session, user.id, body or TestNotification(), action, _key(request))


@router.patch("/actions/notification/{action_id}/muted", response_model=ActionOut)
def mute_action(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    action_id: int,
    body: Annotated[UpdateMuteActionNotification, Body()],
) -> dict:
    """Mute or unmute a notification action: a muted action is recorded as ``skipped`` in
    executions instead of sending."""
    action = repo.get_action(session, action_id, "notification")
    before = service.definition(action.flow)
    action.muted = body.muted
    service.record_version(session, action.flow, before, user.id)
    return service.action_out(action, _key(request))


@router.get("/actions/{flow_id}", response_model=PageAction)
def flow_actions(request: Request, session: SessionDep, flow_id: int, page: PageDep) -> dict:
    """The actions of flow ``flow_id``, paged."""
    flow = repo.get_flow(session, flow_id)
    items = flow.actions[(page.page - 1) * page.size : page.page * page.size]
    pages = max(1, -(-len(flow.actions) // page.size))
    return page_of([service.action_out(a, _key(request)) for a in items], len(flow.actions), page, pages)


@router.get("/executions", response_model=PageFlowExecution)
def list_executions(
    request: Request,
    session: SessionDep,
    page: PageDep,
    flow: Annotated[list[int] | None, Query()] = None,
    search: str | None = None,
    created: dt.date | None = None,
    trigger_type: Annotated[list[str] | None, Query()] = None,
    result: Annotated[list[str] | None, Query()] = None,
    sort_created: Sort | None = None,
    sort_duration: Sort | None = None,
) -> dict:
    """Flow executions, newest first; filters ``flow`` (ids), ``search`` (an execution id),
    ``created`` (a UTC day), ``trigger_type``, ``result`` (repeatable or comma-separated)."""
    stmt = repo.executions_query(
        flows=flow,
        search=search,
        created=created,
        trigger_types=_split(trigger_type),
        results=_split(result),
        sort_created=sort_created,
        sort_duration=sort_duration,
    )
    rows, total, pages = paginate(session, stmt, page.page, page.size)
    return page_of([service.execution_out(session, e, _key(request), detail=False) for e in rows], total, page, pages)


@router.get("/executions/{execution_id}", response_model=FlowExecutionOut)
def get_execution(request: Request, session: SessionDep, execution_id: int) -> dict:
    """One execution with its action executions and every delivery attempt (result, error)."""
    return service.execution_out(session, repo.get_execution(session, execution_id), _key(request), detail=True)


@router.delete("/executions/{execution_id}", status_code=204)
def delete_execution(session: SessionDep, execution_id: int) -> Response:
    """Delete an ended execution (409 while it is running: abort it first)."""
    ex = repo.get_execution(session, execution_id)
    if ex.result == "running":
        raise Conflict(f"flow execution {execution_id} is running; abort it first")
    session.delete(ex)
    return Response(status_code=204)


@router.post("/executions/{execution_id}/abort", response_model=FlowExecutionOut)
def abort_execution(request: Request, session: SessionDep, execution_id: int) -> dict:
    """Stop a running execution: its pending actions become ``aborted`` (a delivery already
    under way finishes)."""
    from ...store.models import utcnow

    ex = repo.get_execution(session, execution_id)
    if ex.result != "running":
        raise Conflict(f"flow execution {execution_id} has ended ({ex.result})")
    for ae in ex.action_executions:
        if ae.result == "pending":
            ae.result, ae.message = "aborted", "aborted by request"
    ex.result, ex.end_time, ex.message = "aborted", utcnow(), "aborted by request"
    session.flush()
    return service.execution_out(session, ex, _key(request), detail=True)


# -- flows -----------------------------------------------------------------------------------------------


@router.get("", response_model=PageFlow)
def list_flows(
    request: Request,
    session: SessionDep,
    page: PageDep,
    id: int | None = None,
    name: str | None = None,
    search: str | None = None,
    datastore: Annotated[list[int] | None, Query()] = None,
    sort_created: Sort | None = None,
    sort_name: Sort | None = None,
    sort_last_triggered: Sort | None = None,
) -> dict:
    """Flows, paged; ``datastore`` keeps flows whose ``filter_datastores`` name one of them
    (or that have no datastore filter)."""
    sort = [
        (k, v)
        for k, v in (("created", sort_created), ("name", sort_name), ("last_triggered", sort_last_triggered))
        if v
    ]
    flows = list(session.scalars(repo.flows_query(id_=id, name=name, search=search, sort=sort)))
    if datastore:
        wanted = set(datastore)
        flows = [f for f in flows if not f.filter_datastores or wanted & set(f.filter_datastores)]
    total = len(flows)
    items = flows[(page.page - 1) * page.size : page.page * page.size]
    pages = max(1, -(-total // page.size))
    return page_of([service.flow_out(session, f, _key(request)) for f in items], total, page, pages)


@router.post("", response_model=FlowOut)
def create_flow(request: Request, session: SessionDep, user: CurrentUser, body: Annotated[CreateFlow, Body()]) -> dict:
    """Create a flow (``CreateFlow``). 422 naming the field for an unknown datastore, rule
    type or message token, filters that do not fit the trigger, or action parameters that
    cannot work (no recipient, a URL that is not the service's)."""
    flow, generated = service.apply_flow(session, _key(request), body)
    service.record_version(session, flow, None, user.id)
    return service.flow_out(session, flow, _key(request), generated)


def _flow(session: Session, flow_id: int) -> Flow:
    return repo.get_flow(session, flow_id)


@router.get("/{flow_id}", response_model=FlowOut)
def get_flow(request: Request, session: SessionDep, flow_id: int) -> dict:
    return service.flow_out(session, _flow(session, flow_id), _key(request))


@router.put("/{flow_id}", response_model=FlowOut)
def update_flow(
    request: Request, session: SessionDep, user: CurrentUser, flow_id: int, body: Annotated[CreateFlow, Body()]
) -> dict:
    """Replace a flow (``UpdateFlow``): actions with ``id`` are updated (stored secrets kept
    unless sent again), others added, missing ones removed."""
    flow = _flow(session, flow_id)
    before = service.definition(flow)
    flow, generated = service.apply_flow(session, _key(request), body, flow)
    service.record_version(session, flow, before, user.id)
    return service.flow_out(session, flow, _key(request), generated)


@router.delete("/{flow_id}", status_code=204)
def delete_flow(session: SessionDep, flow_id: int) -> Response:
    """Delete a flow with its actions and execution history."""
    session.delete(_flow(session, flow_id))
    return Response(status_code=204)


@router.get("/{flow_id}/history", response_model=EntityHistory)
def flow_history(session: SessionDep, flow_id: int) -> dict:
    """Every change of the flow's definition (``GetEntityHistory``): per version the
    changed fields as ``[old, new]``, when, and by whom. Secret values are never part of it."""
    return service.history_out(session, _flow(session, flow_id))


@router.patch("/{flow_id}/deactivated", response_model=FlowOut)
def deactivate_flow(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    flow_id: int,
    body: Annotated[UpdateDeactivateFlow, Body()],
) -> dict:
    """Deactivate (events no longer start it) or reactivate a flow."""
    flow = _flow(session, flow_id)
    before = service.definition(flow)
    if flow.deactivated and not body.deactivated:  # a reactivated schedule resumes from now
        flow.next_trigger = service.next_schedule(flow)
    flow.deactivated = body.deactivated
    service.record_version(session, flow, before, user.id)
    return service.flow_out(session, flow, _key(request))


@router.post("/{flow_id}/execute", response_model=FlowExecutionOut)
def execute_flow(request: Request, session: SessionDep, flow_id: int) -> dict:
    """Run the flow's actions now (trigger ``Manual``), whatever its trigger type; the
    dispatcher delivers them. 409 for a deactivated flow."""
    flow = _flow(session, flow_id)
    if flow.deactivated:
        raise Conflict(f"flow {flow_id} is deactivated")
    ex = service.start_execution(session, flow, trigger_type="Manual", context=service.manual_context(flow))
    session.flush()
    session.refresh(ex)
    return service.execution_out(session, ex, _key(request), detail=True)
