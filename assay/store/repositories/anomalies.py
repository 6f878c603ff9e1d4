"""Anomalies: lookups and the filtered listing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from ...domain import ARCHIVED_ANOMALY_STATUSES
from ..models import Anomaly, FailedCheck, QualityCheck
from ..repo import get_or_404

#: Statuses of an archived anomaly.
ARCHIVED = ARCHIVED_ANOMALY_STATUSES


def get(session: Session, anomaly_id: int) -> Anomaly:
    """Anomaly ``anomaly_id``. Raises NotFound ("Anomaly <id> not found")."""
    return get_or_404(session, Anomaly, anomaly_id, "Anomaly")


def get_all(session: Session, anomaly_ids: Sequence[int]) -> list[Anomaly]:
    """The anomalies ``anomaly_ids``, in that order. Raises NotFound on the first unknown id."""
    return [get(session, i) for i in anomaly_ids]


def listing(
    session: Session,
    *,
    datastores: Sequence[int] | None = None,
    containers: Sequence[int] | None = None,
    quality_checks: Sequence[int] | None = None,
    rule_types: Sequence[str] | None = None,
    statuses: Sequence[str] | None = None,
    archived: str | None = None,
    anomaly_type: str | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    source_enriched: bool | None = None,
    tags: Sequence[str] | None = None,
    sort_weight: str | None = None,
    sort_created: str | None = None,
) -> Select:
    """The query of the anomalies listing. Without ``statuses``, archived anomalies are left
    out unless ``archived`` is ``only`` or ``include``. ``start`` inclusive, ``end``
    exclusive (on ``created``). Sorted by weight when ``sort_weight`` is given, else by
    creation (newest first unless ``sort_created`` is ``asc``). ``tags``: any of them."""
    stmt = select(Anomaly).options(selectinload(Anomaly.comments))  # every answer lists them
    if datastores:
        stmt = stmt.where(Anomaly.datastore_id.in_(datastores))
    if containers:
        stmt = stmt.where(Anomaly.container_id.in_(containers))
    if quality_checks:
        stmt = stmt.where(
            Anomaly.id.in_(select(FailedCheck.anomaly_id).where(FailedCheck.quality_check_id.in_(quality_checks)))
        )
    if rule_types:
        stmt = stmt.where(
            Anomaly.id.in_(
                select(FailedCheck.anomaly_id)
                .join(QualityCheck, QualityCheck.id == FailedCheck.quality_check_id)
                .where(QualityCheck.rule_type.in_(rule_types))
            )
        )
    if statuses:
        stmt = stmt.where(Anomaly.status.in_(statuses))
    elif archived == "only":
        stmt = stmt.where(Anomaly.status.in_(ARCHIVED))
    elif archived != "include":
        stmt = stmt.where(Anomaly.status.not_in(ARCHIVED))
    if anomaly_type:
        stmt = stmt.where(Anomaly.type == anomaly_type)
    if start is not None:
        stmt = stmt.where(Anomaly.created >= start)
    if end is not None:
        stmt = stmt.where(Anomaly.created < end)
    if source_enriched is not None:
        stmt = stmt.where(Anomaly.source_enriched.is_(source_enriched))
    if sort_weight:
        stmt = stmt.order_by(Anomaly.weight.asc() if sort_weight == "asc" else Anomaly.weight.desc(), Anomaly.id.desc())
    else:
        stmt = stmt.order_by(Anomaly.id.asc() if sort_created == "asc" else Anomaly.id.desc())
    if tags:
        # tags are a JSON list per anomaly: filter in Python over the matching ids (portable across stores)
        wanted = set(tags)
        ids = [a.id for a in session.scalars(stmt) if wanted & set(a.tags or [])]
        stmt = stmt.where(Anomaly.id.in_(ids))
    return stmt


def status_counts_by_container_scan(session: Session, scan_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """{container scan id: {anomaly status: count}} of the anomalies those container scans raised."""
    if not scan_ids:
        return {}
    rows = session.execute(
        select(Anomaly.container_scan_id, Anomaly.status, func.count())
        .where(Anomaly.container_scan_id.in_(list(scan_ids)))
        .group_by(Anomaly.container_scan_id, Anomaly.status)
    )
    out: dict[int, dict[str, int]] = {}
    for scan_id, status, n in rows:
        if scan_id is not None:
            out.setdefault(scan_id, {})[status] = n
    return out


def set_status(anomaly: Anomaly, status: str) -> None:
    """Triage ``anomaly``: an open status (Active, Acknowledged) reopens it, an archived one
    (Resolved, Duplicate, Invalid, Discarded) archives it. The one place a status is set
    through the API (anomaly PUT/DELETE, their bulk forms, a partition's bulk triage)."""
    anomaly.status = status


def open_of_partition(session: Session, container_id: int, partition_name: str) -> list[Anomaly]:
    """The open (Active, Acknowledged) anomalies scans found in partition ``partition_name``
    of container ``container_id``, oldest first."""
    return list(
        session.scalars(
            select(Anomaly)
            .where(
                Anomaly.container_id == container_id,
                Anomaly.partition_name == partition_name,
                Anomaly.status.not_in(ARCHIVED),
            )
            .order_by(Anomaly.id)
        )
    )
