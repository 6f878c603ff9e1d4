"""Queries of the flow tables (the routers and the dispatcher call these, never SQL of their own)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Select, and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from ..errors import NotFound
from ..store.models import (
    Anomaly,
    Datastore,
    FailedCheck,
    GlobalTag,
    Operation,
    QualityCheck,
    Team,
    User,
    team_datastore,
    team_member,
)
from .models import (
    Flow,
    FlowAction,
    FlowActionExecution,
    FlowEvent,
    FlowExecution,
    Notification,
    UserNotification,
)

ENDED = ("success", "failure", "aborted")


def _rowcount(result: Any) -> int:
    """Rows an UPDATE changed (``s.execute`` of an UPDATE returns a CursorResult)."""
    return cast(CursorResult, result).rowcount or 0


def get_flow(s: Session, flow_id: int, source: str = "flow") -> Flow:
    """Flow ``flow_id`` (``source`` "notification_rule": a notification rule). Raises NotFound."""
    flow = s.get(Flow, flow_id)
    if flow is None or flow.source != source:
        raise NotFound(f"{'Notification rule' if source == 'notification_rule' else 'Flow'} {flow_id} not found")
    return flow


def get_action(s: Session, action_id: int, type_: str | None = None) -> FlowAction:
    action = s.get(FlowAction, action_id)
    if action is None or (type_ and action.type != type_):
        raise NotFound(f"Action {action_id} not found")
    return action


def get_execution(s: Session, execution_id: int) -> FlowExecution:
    ex = s.get(FlowExecution, execution_id)
    if ex is None:
        raise NotFound(f"Flow execution {execution_id} not found")
    return ex


def flows_query(
    *,
    id_: int | None = None,
    name: str | None = None,
    search: str | None = None,
    deactivated: bool | None = None,
    sort: Sequence[tuple[str, str]] | None = None,
    source: str = "flow",
) -> Select:
    stmt = select(Flow).where(Flow.source == source)
    if id_ is not None:
        stmt = stmt.where(Flow.id == id_)
    if name:
        stmt = stmt.where(Flow.name == name)
    if search:
        cond: ColumnElement[bool] = Flow.name.ilike(f"%{search}%")
        if search.isdigit():
            cond = or_(cond, Flow.id == int(search))
        stmt = stmt.where(cond)
    if deactivated is not None:
        stmt = stmt.where(Flow.deactivated.is_(deactivated))
    order = []
    columns = {"created": Flow.created, "name": Flow.name, "last_triggered": Flow.last_triggered}
    for key, direction in sort or []:
        col = columns[key]
        order.append(col.asc() if direction == "asc" else col.desc())
    stmt = stmt.order_by(*order, Flow.id.desc())
    return stmt


def versions_of(s: Session, flow_id: int) -> list:
    from .models import FlowVersion

    return list(s.scalars(select(FlowVersion).where(FlowVersion.flow_id == flow_id).order_by(FlowVersion.id)))


def datastores_by_id(s: Session, ids: Sequence[int]) -> dict[int, Datastore]:
    if not ids:
        return {}
    return {d.id: d for d in s.scalars(select(Datastore).where(Datastore.id.in_(list(ids))))}


def missing_datastores(s: Session, ids: Sequence[int]) -> list[int]:
    found = set(datastores_by_id(s, ids))
    return [i for i in dict.fromkeys(ids) if i not in found]


def global_tags(s: Session, names: Sequence[str]) -> list[GlobalTag]:
    if not names:
        return []
    return list(s.scalars(select(GlobalTag).where(GlobalTag.name.in_(list(names))).order_by(GlobalTag.name)))


def active_flows(s: Session, trigger_type: str) -> list[Flow]:
    return list(
        s.scalars(select(Flow).where(Flow.trigger_type == trigger_type, Flow.deactivated.is_(False)).order_by(Flow.id))
    )


def has_active_flows(s: Session, trigger_type: str) -> bool:
    return (
        s.scalar(select(Flow.id).where(Flow.trigger_type == trigger_type, Flow.deactivated.is_(False)).limit(1))
        is not None
    )


def anomaly_event_of(s: Session, operation_id: int) -> int | None:
    return s.scalar(
        select(FlowEvent.id).where(FlowEvent.kind == "anomaly", FlowEvent.operation_id == operation_id).limit(1)
    )


# -- dispatcher: the outbox -------------------------------------------------------------------------


def ready_events(s: Session, limit: int) -> list[int]:
    """Unprocessed events that may fan out now, oldest first, locked with SKIP LOCKED on
    PostgreSQL. An anomaly digest is ready once its scan has ended."""
    stmt = (
        select(FlowEvent.id)
        .outerjoin(Operation, Operation.id == FlowEvent.operation_id)
        .where(
            FlowEvent.processed_at.is_(None),
            or_(FlowEvent.kind != "anomaly", Operation.id.is_(None), Operation.result.in_(ENDED)),
        )
        .order_by(FlowEvent.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=FlowEvent)
    )
    return list(s.scalars(stmt))


def claim_event(s: Session, event_id: int, now: dt.datetime) -> bool:
    """Mark ``event_id`` processed if nobody has; True when this session did (it then owns
    the fan-out, committed together with this mark)."""
    done = s.execute(
        update(FlowEvent)
        .where(FlowEvent.id == event_id, FlowEvent.processed_at.is_(None))
        .values(processed_at=now)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(done) == 1


def scan_anomalies(s: Session, operation_id: int) -> list[Anomaly]:
    """The anomalies a scan recorded that are still open, with their failed checks."""
    return list(
        s.scalars(
            select(Anomaly)
            .where(Anomaly.operation_id == operation_id, Anomaly.status.in_(("Active", "Acknowledged")))
            .order_by(Anomaly.id)
        )
    )


def rule_types_of(s: Session, anomaly_ids: Sequence[int]) -> dict[int, list[tuple[str, str | None]]]:
    """anomaly id → [(rule type, check description)] of its failed checks."""
    out: dict[int, list[tuple[str, str | None]]] = {}
    if not anomaly_ids:
        return out
    rows = s.execute(
        select(FailedCheck.anomaly_id, QualityCheck.rule_type, QualityCheck.description)
        .join(QualityCheck, QualityCheck.id == FailedCheck.quality_check_id)
        .where(FailedCheck.anomaly_id.in_(list(anomaly_ids)))
        .order_by(FailedCheck.id)
    ).all()
    for aid, rule, desc in rows:
        out.setdefault(aid, []).append((rule, desc))
    return out


# -- dispatcher: deliveries -------------------------------------------------------------------------


def due_schedules(s: Session, now: dt.datetime) -> list[tuple[int, dt.datetime]]:
    """(flow id, next_trigger) of active Schedule flows due at ``now``."""
    rows = s.execute(
        select(Flow.id, Flow.next_trigger).where(
            Flow.trigger_type == "Schedule", Flow.deactivated.is_(False), Flow.next_trigger <= now
        )
    ).all()
    return [(i, t) for i, t in rows if t is not None]


def advance_schedule(s: Session, flow_id: int, due: dt.datetime, following: dt.datetime) -> bool:
    """Move flow ``flow_id``'s next_trigger from ``due`` to ``following`` if nobody has;
    True when this session did (it then owns this fire, committed with the move)."""
    done = s.execute(
        update(Flow)
        .where(Flow.id == flow_id, Flow.next_trigger == due)
        .values(next_trigger=following)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(done) == 1


def prune_events(s: Session, before: dt.datetime) -> None:
    """Delete outbox events processed before ``before``."""
    s.execute(delete(FlowEvent).where(FlowEvent.processed_at < before).execution_options(synchronize_session=False))


def due_deliveries(s: Session, now: dt.datetime, limit: int) -> list[int]:
    """Action executions to attempt now: pending and due, or running with an expired lease
    (their worker was lost mid-delivery)."""
    stmt = (
        select(FlowActionExecution.id)
        .where(
            or_(
                and_(FlowActionExecution.result == "pending", FlowActionExecution.next_attempt_at <= now),
                and_(FlowActionExecution.result == "running", FlowActionExecution.lease_until < now),
            )
        )
        .order_by(FlowActionExecution.next_attempt_at, FlowActionExecution.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(s.scalars(stmt))


def claim_delivery(s: Session, ae_id: int, worker: str, now: dt.datetime, lease_until: dt.datetime) -> bool:
    """Take action execution ``ae_id`` for one attempt (a conditional UPDATE: exactly one
    claimant wins however many race)."""
    done = s.execute(
        update(FlowActionExecution)
        .where(
            FlowActionExecution.id == ae_id,
            or_(
                and_(FlowActionExecution.result == "pending", FlowActionExecution.next_attempt_at <= now),
                and_(FlowActionExecution.result == "running", FlowActionExecution.lease_until < now),
            ),
        )
        .values(
            result="running",
            claimed_by=worker,
            lease_until=lease_until,
            attempts=FlowActionExecution.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    return _rowcount(done) == 1


def lock_execution(s: Session, execution_id: int) -> None:
    """Row-lock flow execution ``execution_id`` until the transaction ends (PostgreSQL; on
    SQLite the transaction already holds the database's write lock)."""
    s.execute(select(FlowExecution.id).where(FlowExecution.id == execution_id).with_for_update())


def open_action_results(s: Session, execution_id: int) -> list[str]:
    return list(
        s.scalars(select(FlowActionExecution.result).where(FlowActionExecution.flow_execution_id == execution_id))
    )


def recipients(s: Session, datastore_id: int | None = None) -> list[int]:
    """Users who receive an in-app notification, by id: the active users who may see
    ``datastore_id`` — Admins, and the members of a team holding it (every user when the
    public team holds it). Without a datastore (a flow run by hand) every active user."""
    active = select(User.id).where(User.deleted_at.is_(None)).order_by(User.id)
    if datastore_id is None:
        return list(s.scalars(active))
    holders = select(team_datastore.c.team_id).where(team_datastore.c.datastore_id == datastore_id)
    public_holds = select(Team.id).where(Team.id.in_(holders), Team.is_public.is_(True)).exists()
    member = select(team_member.c.user_id).where(team_member.c.team_id.in_(holders))
    return list(s.scalars(active.where(or_(User.role == "Admin", public_holds, User.id.in_(member)))))


# -- executions listing -------------------------------------------------------------------------------


def executions_query(
    *,
    flows: list[int] | None = None,
    search: str | None = None,
    created: dt.date | None = None,
    trigger_types: list[str] | None = None,
    results: list[str] | None = None,
    sort_created: str | None = None,
    sort_duration: str | None = None,
) -> Select:
    stmt = select(FlowExecution)
    if flows:
        stmt = stmt.where(FlowExecution.flow_id.in_(flows))
    if search:
        if not search.isdigit():
            return stmt.where(FlowExecution.id == -1)
        stmt = stmt.where(FlowExecution.id == int(search))
    if created:
        start = dt.datetime.combine(created, dt.time(), tzinfo=dt.UTC)
        stmt = stmt.where(FlowExecution.created >= start, FlowExecution.created < start + dt.timedelta(days=1))
    if trigger_types:
        stmt = stmt.where(FlowExecution.trigger_type.in_(trigger_types))
    if results:
        stmt = stmt.where(FlowExecution.result.in_(results))
    order: list[Any] = []
    if sort_duration:
        duration = func.coalesce(FlowExecution.end_time, FlowExecution.start_time)
        order.append(duration.asc() if sort_duration == "asc" else duration.desc())
    order.append(FlowExecution.id.asc() if sort_created == "asc" else FlowExecution.id.desc())
    return stmt.order_by(*order)


def user_notifications_query(user_id: int, include_acknowledged: bool) -> Select:
    stmt = select(UserNotification).where(UserNotification.user_id == user_id)
    if not include_acknowledged:
        stmt = stmt.where(UserNotification.acknowledged.is_(False))
    return stmt.order_by(UserNotification.id.desc())


def user_notification(s: Session, user_id: int, un_id: int) -> UserNotification:
    row = s.get(UserNotification, un_id)
    if row is None or row.user_id != user_id:
        raise NotFound(f"User notification {un_id} not found")
    return row


def acknowledge(s: Session, user_id: int, ids: Sequence[int]) -> int:
    """Acknowledge the user's notifications ``ids``; returns how many changed."""
    if not ids:
        return 0
    done = s.execute(
        update(UserNotification)
        .where(
            UserNotification.user_id == user_id,
            UserNotification.id.in_(list(ids)),
            UserNotification.acknowledged.is_(False),
        )
        .values(acknowledged=True)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(done)


def notification_of(s: Session, ae_id: int) -> Notification | None:
    return s.scalar(select(Notification).where(Notification.action_execution_id == ae_id))
