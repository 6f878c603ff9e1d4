"""Partitions and container scans: listings and anomaly counts."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from ..models import Anomaly, Container, ContainerScan, Partition
from ..repo import get_or_404


def get(session: Session, partition_id: int) -> Partition:
    return get_or_404(session, Partition, partition_id, "Partition")


def listing(*, container: int | None = None, datastore: int | None = None) -> Select:
    """Partitions, newest first."""
    stmt = select(Partition).order_by(Partition.id.desc())
    if container is not None:
        stmt = stmt.where(Partition.container_id == container)
    if datastore is not None:
        stmt = stmt.join(Container, Container.id == Partition.container_id).where(Container.datastore_id == datastore)
    return stmt


def anomaly_counts(session: Session, partitions: Sequence[Partition]) -> dict[tuple[int, str | None], dict[str, int]]:
    """(container id, partition name) → anomaly count per status, for ``partitions``, in one query."""
    if not partitions:
        return {}
    rows = session.execute(
        select(Anomaly.container_id, Anomaly.partition_name, Anomaly.status, func.count())
        .where(
            Anomaly.container_id.in_({p.container_id for p in partitions}),
            Anomaly.partition_name.in_({p.name for p in partitions}),
        )
        .group_by(Anomaly.container_id, Anomaly.partition_name, Anomaly.status)
    ).all()
    out: dict[tuple[int, str | None], dict[str, int]] = {}
    for container_id, name, status, n in rows:
        out.setdefault((container_id, name), {})[status] = n
    return out


def get_container_scan(session: Session, scan_id: int) -> ContainerScan:
    return get_or_404(session, ContainerScan, scan_id, "Container scan")


def container_scans(*, container: int | None = None, operation: int | None = None) -> Select:
    """Container scans, newest first."""
    stmt = select(ContainerScan).order_by(ContainerScan.id.desc())
    if container is not None:
        stmt = stmt.where(ContainerScan.container_id == container)
    if operation is not None:
        stmt = stmt.where(ContainerScan.operation_id == operation)
    return stmt


def latest_container_scan(session: Session, container_id: int) -> ContainerScan | None:
    """The newest container scan of container ``container_id``, or None."""
    return session.scalars(
        select(ContainerScan)
        .where(ContainerScan.container_id == container_id)
        .order_by(ContainerScan.id.desc())
        .limit(1)
    ).first()


def anomalies_of_container_scan(scan_id: int) -> Select:
    """The anomalies a container scan recorded, oldest first."""
    return select(Anomaly).where(Anomaly.container_scan_id == scan_id).order_by(Anomaly.id)
