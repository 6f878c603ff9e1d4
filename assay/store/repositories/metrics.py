"""Counts behind the ``metrics`` of datastores and containers, one grouped query each."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...domain import ARCHIVED_ANOMALY_STATUSES, OPEN_ANOMALY_STATUSES, AnomalyStatus, CheckStatus, OperationResult
from ..models import (
    Anomaly,
    Container,
    ContainerProfile,
    ContainerScan,
    Field,
    FieldProfile,
    Partition,
    QualityCheck,
)

#: A check at least this heavy is "important" (Qualytics' highest rule-type weight tier).
IMPORTANT_WEIGHT = 3


#: A distinct anomaly: not a ``Duplicate`` (what a re-scan records when it finds again what an
#: open anomaly already holds, ``engine/anomalies.py``), which is the same anomaly seen again.
DISTINCT_ANOMALY = Anomaly.status != AnomalyStatus.DUPLICATE


def _grouped(session: Session, key: Any, stmt: Any) -> dict[int, int]:
    return {int(k): int(v) for k, v in session.execute(stmt.group_by(key)).all()}


def container_counts(session: Session, ids: Sequence[int]) -> dict[str, dict[int, int]]:
    """Per container id: ``fields``, ``active_checks``, ``important_checks``,
    ``passing_checks``, ``failing_checks`` (active checks whose last assertion passed /
    failed), ``anomalies`` (every distinct anomaly, archived ones too: not the ``Duplicate``
    rows re-scans add for a finding an open anomaly already holds), ``active_anomalies``
    (status ``Active``). Containers without any are absent from a map."""
    live = (
        QualityCheck.container_id.in_(ids),
        QualityCheck.deleted_at.is_(None),
        QualityCheck.status == CheckStatus.ACTIVE,
    )
    n = func.count()
    qc = QualityCheck.container_id
    return {
        "fields": _grouped(
            session, Field.container_id, select(Field.container_id, n).where(Field.container_id.in_(ids))
        ),
        "active_checks": _grouped(session, qc, select(qc, n).where(*live)),
        "important_checks": _grouped(session, qc, select(qc, n).where(*live, QualityCheck.weight >= IMPORTANT_WEIGHT)),
        "passing_checks": _grouped(session, qc, select(qc, n).where(*live, QualityCheck.is_passing.is_(True))),
        "failing_checks": _grouped(session, qc, select(qc, n).where(*live, QualityCheck.is_passing.is_(False))),
        "anomalies": _grouped(
            session,
            Anomaly.container_id,
            select(Anomaly.container_id, n).where(Anomaly.container_id.in_(ids), DISTINCT_ANOMALY),
        ),
        "active_anomalies": _grouped(
            session,
            Anomaly.container_id,
            select(Anomaly.container_id, n).where(
                Anomaly.container_id.in_(ids), Anomaly.status == AnomalyStatus.ACTIVE
            ),
        ),
    }


def latest_profiles(session: Session, ids: Sequence[int]) -> dict[int, tuple[int, dt.datetime, int]]:
    """Per container id: (profile id, created, records_count) of its latest successful profile."""
    out: dict[int, tuple[int, dt.datetime, int]] = {}
    rows = session.execute(
        select(
            ContainerProfile.container_id, ContainerProfile.id, ContainerProfile.created, ContainerProfile.records_count
        )
        .where(ContainerProfile.container_id.in_(ids), ContainerProfile.result == OperationResult.SUCCESS)
        .order_by(ContainerProfile.id)
    ).all()
    for cid, pid, created, records in rows:
        out[cid] = (pid, created, records)
    return out


def profile_completeness(session: Session, profile_ids: Sequence[int]) -> dict[int, float]:
    """Per container profile id: the mean ``completeness`` (0…1) of its field profiles that have one."""
    sums: dict[int, list[float]] = {}
    for pid, stats in session.execute(
        select(FieldProfile.container_profile_id, FieldProfile.statistics).where(
            FieldProfile.container_profile_id.in_(profile_ids)
        )
    ):
        value = (stats or {}).get("completeness")
        if isinstance(value, int | float):
            sums.setdefault(pid, []).append(float(value))
    return {pid: sum(v) / len(v) for pid, v in sums.items()}


def last_scanned(session: Session, ids: Sequence[int]) -> dict[int, dt.datetime]:
    """Per container id: the end of its latest successful container scan."""
    rows = session.execute(
        select(ContainerScan.container_id, func.max(ContainerScan.end_time))
        .where(ContainerScan.container_id.in_(ids), ContainerScan.result == OperationResult.SUCCESS)
        .group_by(ContainerScan.container_id)
    ).all()
    return {int(cid): at for cid, at in rows if cid is not None and at is not None}


def datastore_counts(session: Session, ids: Sequence[int]) -> dict[str, dict[int, int]]:
    """Per datastore id: ``containers`` (live), ``partitions``, ``quality_checks`` (live,
    not archived), ``anomalies`` (every distinct anomaly: not the ``Duplicate`` rows re-scans add
    for a finding an open anomaly already holds), ``new_anomalies`` (``Active``),
    ``open_anomalies`` (``Active`` or ``Acknowledged``), ``archived_anomalies`` (the distinct
    anomalies archived: ``anomalies`` = ``open_anomalies`` + ``archived_anomalies``)."""
    n = func.count()
    cd = Container.datastore_id
    live_containers = (Container.datastore_id.in_(ids), Container.deleted_at.is_(None))
    ad = Anomaly.datastore_id
    return {
        "containers": _grouped(session, cd, select(cd, n).where(*live_containers)),
        "partitions": _grouped(
            session, cd, select(cd, n).join(Partition, Partition.container_id == Container.id).where(*live_containers)
        ),
        "quality_checks": _grouped(
            session,
            cd,
            select(cd, n)
            .join(QualityCheck, QualityCheck.container_id == Container.id)
            .where(*live_containers, QualityCheck.deleted_at.is_(None)),
        ),
        "anomalies": _grouped(session, ad, select(ad, n).where(ad.in_(ids), DISTINCT_ANOMALY)),
        "new_anomalies": _grouped(
            session, ad, select(ad, n).where(ad.in_(ids), Anomaly.status == AnomalyStatus.ACTIVE)
        ),
        "open_anomalies": _grouped(
            session, ad, select(ad, n).where(ad.in_(ids), Anomaly.status.in_(OPEN_ANOMALY_STATUSES))
        ),
        "archived_anomalies": _grouped(
            session,
            ad,
            select(ad, n).where(ad.in_(ids), Anomaly.status.in_(ARCHIVED_ANOMALY_STATUSES), DISTINCT_ANOMALY),
        ),
    }


def datastore_records(session: Session, ids: Sequence[int]) -> dict[int, int]:
    """Per datastore id: the sum over its live containers of their latest profile's ``records_count``."""
    latest = (
        select(func.max(ContainerProfile.id))
        .join(Container, Container.id == ContainerProfile.container_id)
        .where(
            Container.datastore_id.in_(ids),
            Container.deleted_at.is_(None),
            ContainerProfile.result == OperationResult.SUCCESS,
        )
        .group_by(ContainerProfile.container_id)
    )
    rows = session.execute(
        select(Container.datastore_id, func.sum(ContainerProfile.records_count))
        .join(Container, Container.id == ContainerProfile.container_id)
        .where(ContainerProfile.id.in_(latest))
        .group_by(Container.datastore_id)
    ).all()
    return {ds: int(total or 0) for ds, total in rows}


def activity(
    *, users: Sequence[int] | None = None, start: dt.datetime | None = None, end: dt.datetime | None = None
) -> Any:
    """The activity log, newest first; ``users`` narrows to their changes, ``start``
    (inclusive) / ``end`` (exclusive) to when they were made."""
    from ..models import Activity

    stmt = select(Activity).order_by(Activity.id.desc())
    if users:
        stmt = stmt.where(Activity.user_id.in_(users))
    if start is not None:
        stmt = stmt.where(Activity.issued_at >= start)
    if end is not None:
        stmt = stmt.where(Activity.issued_at < end)
    return stmt
