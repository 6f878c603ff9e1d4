"""Flow definitions: validate and store them (secrets encrypted), and render them in
Qualytics' response shapes (secrets never included).

Errors: :class:`~assay.errors.ValidationError` (→ 422 naming the field) for bad
definitions, :class:`~assay.errors.NotFound` (→ 404).
"""

from __future__ import annotations

import secrets as pysecrets
import uuid as uuid_mod
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import ValidationError
from ..security import decrypt_secrets, encrypt_secrets
from ..store.models import Operation, utcnow
from . import repository as repo
from .delivery import (
    HTTP_ACTION,
    IN_APP,
    SPEC_BY_TYPE,
    WEBHOOK,
    DeliveryError,
    Message,
    check_parameters,
    deliver,
    secret_fields,
)
from .models import Flow, FlowAction, FlowActionExecution, FlowExecution, Notification
from .schemas import CreateActionNotification, CreateActionOperation, CreateFlow, TestNotification
from .settings import flow_settings
from .templating import (
    ANOMALY,
    MANUAL,
    OPERATION,
    SCHEDULE,
    TOKENS,
    render,
    sample_context,
    subject_for,
    unknown_tokens,
)

SIGNED_TYPES = (WEBHOOK, HTTP_ACTION)


def _split_secrets(body: CreateActionNotification) -> tuple[dict, dict]:
    """(plain parameters, secret values) of a notification action body."""
    hidden = secret_fields(body.notification_type)
    params = {k: v for k, v in body.parameters.items() if k not in hidden}
    secret_values = {k: v for k, v in body.parameters.items() if k in hidden and v not in (None, "")}
    if body.secret:
        secret_values["secret"] = body.secret
    return params, secret_values


def _validate_notification(
    loc: tuple, trigger_type: str, body: CreateActionNotification, params: dict, secret_values: dict
) -> None:
    bad = unknown_tokens(body.tokenized_message or "", trigger_type)
    bad_subject = unknown_tokens(str(body.parameters.get("email_subject") or ""), trigger_type)
    if bad_subject:
        raise ValidationError(
            (*loc, "parameters", "email_subject"),
            f"unknown token(s) for trigger {trigger_type}: {', '.join('{{ ' + t + ' }}' for t in bad_subject)}",
        )
    if bad:
        raise ValidationError(
            (*loc, "tokenized_message"),
            f"unknown token(s) for trigger {trigger_type}: {', '.join('{{ ' + t + ' }}' for t in bad)}; "
            f"valid: {', '.join(sorted(TOKENS[trigger_type]))}",
        )
    if body.notification_type == IN_APP:
        return
    try:
        check_parameters(body.notification_type, params, secret_values)
    except DeliveryError as e:
        raise ValidationError((*loc, "parameters"), str(e)) from None


def _is_rule(get_rule, name: str) -> bool:
    try:
        get_rule(name)
    except KeyError:
        return False
    return True


def apply_flow(s: Session, secret_key: str, body: CreateFlow, flow: Flow | None = None) -> tuple[Flow, dict[int, str]]:
    """Create (``flow`` None) or replace a flow from ``body``.

    Actions with an ``id`` update that stored action (its secrets kept unless given again);
    actions without one are added; stored actions missing from ``body.actions`` are removed.
    Returns (flow, {action id: signing secret generated now}) — a Webhook/HttpAction action
    saved without ``secret`` gets a random one, shown only in this answer.
    """
    missing = repo.missing_datastores(s, body.filter_datastores or [])
    if missing:
        raise ValidationError(("filter_datastores",), f"no datastore with id {', '.join(map(str, missing))}")
    if body.trigger_type != OPERATION and (body.filter_operation_type or body.filter_operation_result):
        raise ValidationError(
            ("filter_operation_type",), f"operation filters apply to trigger Operation, not {body.trigger_type}"
        )
    if body.trigger_type != ANOMALY and (body.check_rule_types or body.weight_threshold is not None):
        raise ValidationError(
            ("check_rule_types",),
            f"check_rule_types and weight_threshold apply to trigger Anomaly, not {body.trigger_type}",
        )
    crontab = None
    if body.trigger_type == SCHEDULE:
        from ..operations.scheduler import CrontabError, validate_crontab

        if not body.crontab:
            raise ValidationError(("crontab",), "trigger Schedule needs a crontab (5 fields, UTC)")
        try:
            crontab = validate_crontab(body.crontab)
        except CrontabError as e:
            raise ValidationError(("crontab",), str(e)) from None
    elif body.crontab:
        raise ValidationError(("crontab",), f"a crontab applies to trigger Schedule, not {body.trigger_type}")
    if body.check_rule_types:
        from ..engine.rules import get_rule

        unknown = [r for r in body.check_rule_types if not _is_rule(get_rule, r)]
        if unknown:
            raise ValidationError(("check_rule_types",), f"unknown rule type(s): {', '.join(unknown)}")
    if flow is None:
        flow = Flow()
        s.add(flow)
    flow.name = body.name
    flow.description = body.description
    flow.trigger_type = body.trigger_type
    flow.filter_datastores = list(dict.fromkeys(body.filter_datastores or []))
    flow.filter_operation_type = list(dict.fromkeys(body.filter_operation_type or []))
    flow.filter_operation_result = body.filter_operation_result
    flow.deactivated = bool(body.deactivated)
    flow.team_ids = list(body.team_ids or [])
    flow.tags = list(dict.fromkeys(body.tags or []))
    flow.check_rule_types = list(dict.fromkeys(body.check_rule_types or []))
    flow.weight_threshold = body.weight_threshold
    if crontab != flow.crontab or (flow.next_trigger is None) != (crontab is None):
        flow.crontab = crontab
        flow.next_trigger = next_schedule(flow)

    stored = {a.id: a for a in flow.actions} if flow.id else {}
    keep: list[FlowAction] = []
    generated: list[tuple[FlowAction, str]] = []
    for i, action_body in enumerate(body.actions or []):
        loc = ("actions", i)
        action = None
        if action_body.id is not None:
            action = stored.get(action_body.id)
            if action is None:
                owner = f"flow {flow.id}" if flow.id else "a new flow"
                raise ValidationError((*loc, "id"), f"{owner} has no action {action_body.id}")
        if action is None:
            action = FlowAction(uuid=action_body.uuid or str(uuid_mod.uuid4()))
        action.type = action_body.type
        if action_body.uuid:
            action.uuid = action_body.uuid
        action.parent_action_uuid = action_body.parent_action_uuid
        action.order_rank = action_body.order_rank if action_body.order_rank is not None else i
        if isinstance(action_body, CreateActionNotification):
            params, secret_values = _split_secrets(action_body)
            if action.secrets and action.notification_type == action_body.notification_type:
                secret_values = {**decrypt_secrets(secret_key, action.secrets), **secret_values}
            new_secret = None
            if action_body.notification_type in SIGNED_TYPES and not secret_values.get("secret"):
                new_secret = "whsec_" + pysecrets.token_urlsafe(24)
                secret_values["secret"] = new_secret
            _validate_notification(loc, flow.trigger_type, action_body, params, secret_values)
            action.notification_type = action_body.notification_type
            action.parameters = params
            action.secrets = encrypt_secrets(secret_key, secret_values)
            action.auth_type = action_body.auth_type
            action.tokenized_message = action_body.tokenized_message
            action.schedule = None
            if new_secret:
                generated.append((action, new_secret))
        else:
            _validate_operation(s, loc, action_body)
            action.notification_type = None
            action.parameters = {}
            action.secrets = None
            action.tokenized_message = None
            action.schedule = action_body.schedule.model_dump(mode="json")
        keep.append(action)
    flow.actions = keep
    s.flush()
    return flow, {a.id: secret for a, secret in generated}


def next_schedule(flow: Flow, after=None):
    """The next fire time of a Schedule flow after ``after`` (default now); None otherwise."""
    if flow.trigger_type != SCHEDULE or not flow.crontab:
        return None
    from ..operations.scheduler import next_fire

    return next_fire(flow.crontab, after or utcnow())


def _validate_operation(s: Session, loc: tuple, body: CreateActionOperation) -> None:
    from ..operations.service import validate
    from ..store.models import Datastore

    ds = s.get(Datastore, body.schedule.datastore_id)
    if ds is None:
        raise ValidationError((*loc, "schedule", "datastore_id"), f"no datastore with id {body.schedule.datastore_id}")
    try:
        validate(s, body.schedule, ds)
    except ValidationError as e:
        raise ValidationError((*loc, "schedule", *e.loc), e.message) from None


def queue_operation(s: Session, schedule: dict, flow_id: int, ae_id: int) -> Operation:
    """Store (not commit, not submit) the operation an operation action describes,
    re-validated now: the datastore may have changed since the flow was saved. Raises
    ValidationError."""
    from pydantic import TypeAdapter
    from pydantic import ValidationError as PydanticError

    from ..api.schemas import OperationRequest
    from ..operations.service import initial_status, validate
    from ..store.models import Datastore
    from ..store.repositories import operations as op_repo

    try:
        body = TypeAdapter(OperationRequest).validate_python(schedule)
    except PydanticError as e:
        raise ValidationError(("schedule",), str(e)) from None
    ds = s.get(Datastore, body.datastore_id)
    if ds is None:
        raise ValidationError(("schedule", "datastore_id"), f"no datastore with id {body.datastore_id}")
    op_type, params = validate(s, body, ds)
    return op_repo.add(
        s,
        type=op_type,
        datastore_id=ds.id,
        result="queued",
        params=params,
        status=initial_status(op_type),
        triggered_by=f"flow {flow_id} (action execution {ae_id})",
    )


# -- definition history ------------------------------------------------------------------------------

_DEFINITION_FIELDS = (
    "name",
    "description",
    "trigger_type",
    "filter_datastores",
    "filter_operation_type",
    "filter_operation_result",
    "tags",
    "check_rule_types",
    "weight_threshold",
    "team_ids",
    "deactivated",
    "crontab",
)


def definition(flow: Flow) -> dict[str, Any]:
    """The flow's definition as plain JSON values (actions without secret values)."""
    out: dict[str, Any] = {f: getattr(flow, f) for f in _DEFINITION_FIELDS}
    out["deactivated"] = bool(flow.deactivated)
    out["actions"] = [
        {
            "id": a.id,
            "type": a.type,
            "notification_type": a.notification_type,
            "parameters": dict(a.parameters or {}),
            "tokenized_message": a.tokenized_message,
            "muted": bool(a.muted),
            "schedule": a.schedule,
        }
        for a in flow.actions
    ]
    return out


def record_version(s: Session, flow: Flow, before: dict[str, Any] | None, user_id: int | None) -> None:
    """Record what changed in ``flow`` since ``before`` (None: it was just created)."""
    from .models import FlowVersion

    s.flush()
    after = definition(flow)
    changes = {k: [None if before is None else before.get(k), v] for k, v in after.items()}
    changes = {k: pair for k, pair in changes.items() if before is None or pair[0] != pair[1]}
    if changes:
        s.add(
            FlowVersion(flow_id=flow.id, user_id=user_id, operation_type=0 if before is None else 1, changeset=changes)
        )


def history_out(s: Session, flow: Flow) -> dict[str, Any]:
    """``GetEntityHistory``: every recorded version of the flow, oldest first."""
    from ..store.models import User

    versions = repo.versions_of(s, flow.id)
    users = {u.id: u for u in s.scalars(select(User).where(User.id.in_({v.user_id for v in versions if v.user_id})))}
    return {
        "created": flow.created,
        "id": flow.id,
        "versions": [
            {
                "changeset": v.changeset,
                "transaction": {
                    "id": v.id,
                    "issued_at": v.issued_at,
                    "user": ({"id": u.id, "name": u.name, "email": u.email} if (u := users.get(v.user_id)) else None),
                },
                "operation_type": v.operation_type,
                "operation": "insert" if v.operation_type == 0 else "update",
            }
            for v in versions
        ],
    }


# -- rendering ------------------------------------------------------------------------------------


def action_out(a: FlowAction, secret_key: str, generated: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "created": a.created,
        "id": a.id,
        "type": a.type,
        "flow_id": a.flow_id,
        "uuid": a.uuid,
        "parent_action_uuid": a.parent_action_uuid,
        "order_rank": a.order_rank,
        "muted": bool(a.muted),
    }
    if a.type == "notification":
        stored = sorted(k for k in decrypt_secrets(secret_key, a.secrets) if k != "secret") if a.secrets else []
        spec = SPEC_BY_TYPE.get(a.notification_type or "", {})
        out.update(
            display_name=spec.get("display_name", a.notification_type),
            notification_type=a.notification_type,
            auth_type=a.auth_type,
            parameters=dict(a.parameters or {}),
            tokenized_message=a.tokenized_message or "",
            secret_parameters=stored,
        )
        if generated:
            out["secret"] = generated
    else:
        out["schedule"] = a.schedule
    return out


def flow_out(s: Session, flow: Flow, secret_key: str, generated: dict[int, str] | None = None) -> dict[str, Any]:
    stores = repo.datastores_by_id(s, flow.filter_datastores or [])
    tags = {t.name: t for t in repo.global_tags(s, flow.tags or [])}
    return {
        "created": flow.created,
        "id": flow.id,
        "name": flow.name,
        "description": flow.description,
        "deactivated": bool(flow.deactivated),
        "trigger_type": flow.trigger_type,
        "filter_datastores": [
            {"id": d.id, "name": d.name, "store_type": d.store_type, "type": d.type}
            for i in flow.filter_datastores or []
            if (d := stores.get(i)) is not None
        ],
        "filter_operation_type": list(flow.filter_operation_type or []),
        "filter_operation_result": flow.filter_operation_result,
        "actions": [action_out(a, secret_key, (generated or {}).get(a.id)) for a in flow.actions],
        "teams": [],
        "global_tags": [
            {"name": n, **({"color": t.color, "description": t.description} if (t := tags.get(n)) else {})}
            for n in flow.tags or []
        ],
        "weight_threshold": flow.weight_threshold,
        "check_rule_types": list(flow.check_rule_types or []),
        "last_triggered": flow.last_triggered,
        "user_can_manage": True,
        "crontab": flow.crontab,
        "next_trigger": flow.next_trigger,
    }


def flow_stub(flow: Flow) -> dict[str, Any]:
    return {
        "created": flow.created,
        "id": flow.id,
        "name": flow.name,
        "description": flow.description,
        "deactivated": bool(flow.deactivated),
        "global_tags": [{"name": n} for n in flow.tags or []],
        "user_can_manage": True,
    }


def _target_url(ex: FlowExecution) -> str | None:
    return ex.context.get("target_link") if ex.context else None


def execution_out(s: Session, ex: FlowExecution, secret_key: str, *, detail: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "created": ex.created,
        "id": ex.id,
        "flow": flow_stub(ex.flow),
        "start_time": ex.start_time,
        "end_time": ex.end_time,
        "result": ex.result,
        "message": ex.message,
        "trigger_id": ex.trigger_id,
        "trigger_type": ex.trigger_type,
        "target_url": _target_url(ex),
    }
    if detail:
        out["action_executions"] = [action_execution_out(s, ae, secret_key) for ae in ex.action_executions]
    return out


def action_execution_out(s: Session, ae: FlowActionExecution, secret_key: str) -> dict[str, Any]:
    from ..api.serializers import datastore_stub

    out: dict[str, Any] = {
        "created": ae.created,
        "id": ae.id,
        "flow_execution_id": ae.flow_execution_id,
        "action": action_out(ae.action, secret_key) if ae.action else None,
        "result": ae.result,
        "message": ae.message,
        "operation": None,
        "notification": None,
        "next_attempt_at": ae.next_attempt_at if ae.result == "pending" else None,
        "attempts": [
            {
                "attempt": a.attempt,
                "worker": a.worker,
                "start_time": a.start_time,
                "end_time": a.end_time,
                "result": a.result,
                "message": a.message,
            }
            for a in ae.attempt_rows
        ],
    }
    if ae.rendered_message is not None:
        out["notification"] = {
            "created": ae.created,
            "id": ae.id,
            "message": ae.rendered_message,
            "target_uri": ae.target_uri or "",
            "target_url": ae.target_url or "",
        }
    if ae.operation_id is not None:
        op = s.get(Operation, ae.operation_id)
        if op is not None:
            out["operation"] = {
                "created": op.created,
                "id": op.id,
                "type": op.type,
                "start_time": op.start_time,
                "end_time": op.end_time,
                "result": op.result,
                "message": op.message,
                "triggered_by": op.triggered_by,
                "datastore": datastore_stub(op.datastore),
            }
    return out


# -- manual runs, tests and previews -------------------------------------------------------------


def start_execution(
    s: Session,
    flow: Flow,
    *,
    trigger_type: str,
    context: dict[str, Any],
    event_id: int | None = None,
    trigger_id: int | None = None,
) -> FlowExecution:
    """One execution of ``flow`` with a pending action execution per action (muted ones
    ``skipped``); the dispatcher delivers them. Written in the caller's transaction."""
    now = utcnow()
    ex = FlowExecution(
        flow_id=flow.id,
        event_id=event_id,
        trigger_type=trigger_type,
        trigger_id=trigger_id,
        context={**context, "flow_name": flow.name},
        start_time=now,
        result="running",
    )
    s.add(ex)
    s.flush()
    for action in flow.actions:
        muted = action.type == "notification" and action.muted
        s.add(
            FlowActionExecution(
                flow_execution_id=ex.id,
                action_id=action.id,
                result="skipped" if muted else "pending",
                message="muted" if muted else None,
                next_attempt_at=now,
            )
        )
    flow.last_triggered = now
    s.flush()
    if not flow.actions or all(a.type == "notification" and a.muted for a in flow.actions):
        ex.result, ex.end_time = "success", now
        ex.message = "no action to run" if not flow.actions else "every action is muted"
    return ex


def manual_context(flow: Flow) -> dict[str, Any]:
    return {"flow_name": flow.name, "target_link": f"{flow_settings().public_url}/api/flows/{flow.id}"}


def _test_message(body: TestNotification) -> tuple[str, str, dict]:
    kind = body.notification_type or body.type or ""
    if kind not in SPEC_BY_TYPE:
        raise ValidationError(
            ("notification_type",), f"'{kind}' is not a notification type: one of {', '.join(SPEC_BY_TYPE)}"
        )
    return kind, body.trigger_type, sample_context(body.trigger_type, body.flow_name, flow_settings().public_url)


def preview(body: TestNotification) -> dict[str, Any]:
    kind, trigger, ctx = _test_message(body)
    return {
        "notification_type": kind,
        "trigger_type": trigger,
        "title": subject_for(body.parameters, trigger, ctx),
        "message": render(body.tokenized_message, trigger, ctx),
        "unknown_tokens": unknown_tokens(body.tokenized_message or "", trigger),
    }


def send_test(
    s: Session, user_id: int, body: TestNotification, stored: FlowAction | None, secret_key: str
) -> dict[str, Any]:
    """Send a sample notification now (not through the outbox). Stored ``secrets`` of
    ``stored`` fill what ``body`` leaves out. Returns GetActionNotificationTest."""
    if stored is not None and body.notification_type is None and body.type in (None, "notification"):
        body.notification_type = stored.notification_type  # type: ignore[assignment]
    kind, trigger, ctx = _test_message(body)
    hidden = secret_fields(kind)
    params = {k: v for k, v in body.parameters.items() if k not in hidden}
    secret_values = {k: v for k, v in body.parameters.items() if k in hidden and v not in (None, "")}
    message = body.tokenized_message
    auth_type: str | None = body.auth_type
    if stored is not None:
        params = {**(stored.parameters or {}), **params}
        secret_values = {**decrypt_secrets(secret_key, stored.secrets), **secret_values}
        message = message or stored.tokenized_message
        auth_type = auth_type or stored.auth_type
        if stored.flow is not None:  # sample the stored flow's own trigger
            trigger = stored.flow.trigger_type
            ctx = sample_context(trigger, stored.flow.name, flow_settings().public_url)
    if body.secret:
        secret_values["secret"] = body.secret
    text = render(message, trigger, ctx)
    if kind == IN_APP:
        note = Notification(message=text, target_uri="", target_url=str(ctx.get("target_link") or ""))
        s.add(note)
        s.flush()
        from .models import UserNotification

        s.add(UserNotification(user_id=user_id, notification_id=note.id))
        return {"delivery_response": f"in-app notification {note.id} created for you", "success": True}
    try:
        check_parameters(kind, params, secret_values)
        answer = deliver(
            Message(
                notification_type=kind,
                parameters=params,
                secrets=secret_values,
                text=text,
                title=subject_for(params, trigger, ctx),
                trigger_type=trigger,
                delivery_id=f"test-{uuid_mod.uuid4().hex}",
                flow={"id": None, "name": ctx.get("flow_name")},
                context=ctx,
                auth_type=auth_type,
                link=str(ctx.get("target_link") or "") or None,
            )
        )
    except DeliveryError as e:
        return {"delivery_response": str(e), "success": False}
    return {"delivery_response": answer, "success": True}


__all__ = ["MANUAL", "apply_flow", "flow_out", "execution_out", "start_execution", "send_test", "preview"]
