"""Events over time behind the insights and metrics endpoints: each function returns
``(timestamp, value)`` pairs (or counts) of one kind of event in a time span, for some
datastores; ``insights/hub.py`` buckets them into days."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from ...domain import ASSERTED_RESULTS, AnomalyStatus, CheckResult, CheckStatus, OperationResult
from ..models import (
    Anomaly,
    Container,
    ContainerProfile,
    ContainerScan,
    Datastore,
    FailedCheck,
    FieldProfile,
    QualityCheck,
    Team,
    User,
    team_member,
)

#: Rule types that monitor an SLA (data arriving on time).
SLA_RULE_TYPES = ("freshness",)

Span = tuple[dt.datetime, dt.datetime]
Events = list[tuple[dt.datetime, int]]


def datastore_ids(session: Session, ids: Sequence[int] | None, tags: Sequence[str] | None) -> list[int]:
    """The datastores ``ids`` (all when None) that carry any of ``tags`` (any when None)."""
    stmt = select(Datastore.id, Datastore.tags).order_by(Datastore.id)
    if ids:
        stmt = stmt.where(Datastore.id.in_(ids))
    wanted = set(tags or ())
    return [i for i, t in session.execute(stmt) if not wanted or wanted & {str(x) for x in t or ()}]


def _events(session: Session, stmt: Select) -> Events:
    return [(at, int(v or 0)) for at, v in session.execute(stmt) if at is not None]


def _in_containers(column: Any, ids: Sequence[int]) -> Any:
    return column.in_(select(Container.id).where(Container.datastore_id.in_(ids)))


def users(session: Session, among: Sequence[int] | None = None) -> Events:
    """Each live user's creation (only the users ``among`` those ids when given)."""
    stmt = select(User.created, 1).where(User.deleted_at.is_(None))
    if among is not None:
        stmt = stmt.where(User.id.in_(among))
    return _events(session, stmt)


def teammate_ids(session: Session, user_id: int) -> list[int]:
    """Ids of the users sharing a team with ``user_id``, that user included. Only explicit
    memberships count: the public team, whose members are implicitly every user, would
    make everyone a teammate."""
    teams = select(team_member.c.team_id).join(Team, Team.id == team_member.c.team_id)
    teams = teams.where(team_member.c.user_id == user_id, Team.is_public.is_(False))
    mates = set(session.scalars(select(team_member.c.user_id).where(team_member.c.team_id.in_(teams))))
    return sorted(mates | {user_id})


def datastores(session: Session, ids: Sequence[int]) -> Events:
    """Each datastore's creation."""
    return _events(session, select(Datastore.created, 1).where(Datastore.id.in_(ids)))


def records_profiled(session: Session, ids: Sequence[int], span: Span) -> Events:
    """(created, records_processed) of each successful container profile in ``span``."""
    return _events(
        session,
        select(ContainerProfile.created, ContainerProfile.records_processed).where(
            _in_containers(ContainerProfile.container_id, ids),
            ContainerProfile.result == OperationResult.SUCCESS,
            ContainerProfile.created >= span[0],
            ContainerProfile.created < span[1],
        ),
    )


def fields_profiled(session: Session, ids: Sequence[int], span: Span) -> Events:
    """Each field profile created in ``span``."""
    return _events(
        session,
        select(FieldProfile.created, 1).where(
            _in_containers(FieldProfile.container_id, ids),
            FieldProfile.created >= span[0],
            FieldProfile.created < span[1],
        ),
    )


def checks(session: Session, ids: Sequence[int], *, inferred: bool | None = None, rule_types=None) -> Events:
    """The creation of each live (not archived) active check; ``inferred`` narrows to
    inferred (True) or authored (False) ones, ``rule_types`` to those types."""
    stmt = select(QualityCheck.created, 1).where(
        _in_containers(QualityCheck.container_id, ids),
        QualityCheck.deleted_at.is_(None),
        QualityCheck.status == CheckStatus.ACTIVE,
    )
    if inferred is not None:
        stmt = stmt.where(QualityCheck.inferred.is_(inferred))
    if rule_types:
        stmt = stmt.where(QualityCheck.rule_type.in_(rule_types))
    return _events(session, stmt)


def sla_violations(session: Session, ids: Sequence[int], span: Span) -> Events:
    """Each distinct anomaly (not a ``Duplicate``) created in ``span`` that an SLA check
    (freshness) failed."""
    return _events(
        session,
        select(Anomaly.created, 1).where(
            Anomaly.datastore_id.in_(ids),
            Anomaly.status != AnomalyStatus.DUPLICATE,
            Anomaly.created >= span[0],
            Anomaly.created < span[1],
            Anomaly.id.in_(
                select(FailedCheck.anomaly_id)
                .join(QualityCheck, QualityCheck.id == FailedCheck.quality_check_id)
                .where(QualityCheck.rule_type.in_(SLA_RULE_TYPES))
            ),
        ),
    )


def container_scans(
    session: Session, ids: Sequence[int], span: Span, containers: Sequence[int] | None = None
) -> list[tuple[dt.datetime, int, int, int, list[Any]]]:
    """(end_time, records_processed, partitions_scanned, anomaly_count, check_results) of each
    successful container scan of the datastores ``ids`` that ended in ``span``."""
    stmt = select(
        ContainerScan.end_time,
        ContainerScan.records_processed,
        ContainerScan.partitions_scanned,
        ContainerScan.anomaly_count,
        ContainerScan.check_results,
    ).where(
        _in_containers(ContainerScan.container_id, ids),
        ContainerScan.result == OperationResult.SUCCESS,
        ContainerScan.end_time >= span[0],
        ContainerScan.end_time < span[1],
    )
    if containers:
        stmt = stmt.where(ContainerScan.container_id.in_(containers))
    return [(at, int(r or 0), int(p or 0), int(a or 0), cr or []) for at, r, p, a, cr in session.execute(stmt)]


def check_assertions(
    scans: list[tuple[dt.datetime, int, int, int, list[Any]]], day_of: Callable[[dt.datetime], dt.date]
) -> tuple[Events, Events]:
    """(passing, failing) checks of ``container_scans`` rows per day (``day_of`` a scan's end):
    each check counts once a day, by its last assertion of that day (a check scanned three times
    in a day is one check, passing or failing as its latest scan said), at that scan's end."""
    latest: dict[tuple[dt.date, Any], tuple[dt.datetime, bool]] = {}
    for at, _r, _p, _a, results in scans:
        for item in results:
            if item.get("result") not in ASSERTED_RESULTS:
                continue
            key = (day_of(at), item.get("quality_check_id"))
            if key not in latest or latest[key][0] <= at:
                latest[key] = (at, item.get("result") == CheckResult.PASSED)
    passing: Events = [(at, 1) for at, passed in latest.values() if passed]
    failing: Events = [(at, 1) for at, passed in latest.values() if not passed]
    return passing, failing


def anomalies_created(
    session: Session,
    ids: Sequence[int],
    span: Span,
    *,
    statuses: Sequence[str] | None = None,
    containers: Sequence[int] | None = None,
    fields: Sequence[str] | None = None,
    rule_types: Sequence[str] | None = None,
    anomaly_type: str | None = None,
) -> Events:
    """Each distinct anomaly created in ``span`` (now in one of ``statuses`` when given): a
    ``Duplicate`` (a re-scan finding again what an open anomaly holds) is not another anomaly
    and counts only when ``statuses`` names it. Further filters: its containers, a failed check
    on any of ``fields`` or of ``rule_types``, its type."""
    stmt = select(Anomaly.created, 1).where(
        Anomaly.datastore_id.in_(ids), Anomaly.created >= span[0], Anomaly.created < span[1]
    )
    if not statuses:
        stmt = stmt.where(Anomaly.status != AnomalyStatus.DUPLICATE)
    if statuses:
        stmt = stmt.where(Anomaly.status.in_(statuses))
    if containers:
        stmt = stmt.where(Anomaly.container_id.in_(containers))
    if anomaly_type:
        stmt = stmt.where(Anomaly.type == anomaly_type)
    if rule_types:
        stmt = stmt.where(
            Anomaly.id.in_(
                select(FailedCheck.anomaly_id)
                .join(QualityCheck, QualityCheck.id == FailedCheck.quality_check_id)
                .where(QualityCheck.rule_type.in_(rule_types))
            )
        )
    rows = _events(session, stmt)
    if fields:
        wanted = set(fields)
        keep = {
            aid
            for aid, qfields in session.execute(
                select(FailedCheck.anomaly_id, QualityCheck.fields)
                .join(QualityCheck, QualityCheck.id == FailedCheck.quality_check_id)
                .join(Anomaly, Anomaly.id == FailedCheck.anomaly_id)
                .where(Anomaly.datastore_id.in_(ids), Anomaly.created >= span[0], Anomaly.created < span[1])
            )
            if wanted & {str(f) for f in qfields or ()}
        }
        stmt = stmt.where(Anomaly.id.in_(keep))
        rows = _events(session, stmt)
    return rows


def anomalies_archived(session: Session, ids: Sequence[int], span: Span, status: AnomalyStatus) -> Events:
    """Each anomaly now in ``status`` (Resolved, Invalid…) whose last change (when it got
    that status) falls in ``span``."""
    return _events(
        session,
        select(Anomaly.last_updated, 1).where(
            Anomaly.datastore_id.in_(ids),
            Anomaly.status == status,
            Anomaly.last_updated >= span[0],
            Anomaly.last_updated < span[1],
        ),
    )


def count(events: Events) -> int:
    return sum(v for _at, v in events)


def total_of(session: Session, stmt: Select) -> int:
    return int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
