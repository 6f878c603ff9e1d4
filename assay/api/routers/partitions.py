"""/partitions and /container-scans: what scans read, partition by partition."""

from __future__ import annotations

from fastapi import APIRouter, Response
from sqlalchemy import func, select

from ...store.models import Anomaly, Container, ContainerScan, Partition
from ...store.repo import get_or_404, paginate
from .. import serializers as ser
from ..deps import PageDep, SessionDep, page_of

router = APIRouter(tags=["partitions"])


def _anomaly_counts(session, partitions: list[Partition]) -> dict[tuple[int, str], dict[str, int]]:
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
    out: dict[tuple[int, str], dict[str, int]] = {}
    for container_id, name, status, n in rows:
        out.setdefault((container_id, name), {})[status] = n
    return out


def _partition(p: Partition, counts: dict[str, int]) -> dict:
    return {
        "id": p.id,
        "created": ser.iso(p.created),
        "last_updated": ser.iso(p.last_updated),
        "name": p.name,
        "location": p.location,
        "container": ser.container_stub(p.container),
        "min_offset": p.min_offset,
        "max_offset": p.max_offset,
        "min_time": ser.iso(p.min_time),
        "max_time": ser.iso(p.max_time),
        "partition_size": p.partition_size,
        "num_active": counts.get("Active", 0),
        "num_acknowledged": counts.get("Acknowledged", 0),
        "num_resolved": counts.get("Resolved", 0),
        "num_invalid": counts.get("Invalid", 0),
    }


@router.get("/partitions")
def list_partitions(
    session: SessionDep, page: PageDep, container: int | None = None, datastore: int | None = None
) -> dict:
    """Partitions that scans have read, newest first; filter by ``container`` or ``datastore`` id."""
    stmt = select(Partition).order_by(Partition.id.desc())
    if container is not None:
        stmt = stmt.where(Partition.container_id == container)
    if datastore is not None:
        stmt = stmt.join(Container, Container.id == Partition.container_id).where(Container.datastore_id == datastore)
    rows, total, pages = paginate(session, stmt, page.page, page.size)
    counts = _anomaly_counts(session, rows)
    return page_of([_partition(p, counts.get((p.container_id, p.name), {})) for p in rows], total, page, pages)


@router.get("/partitions/{partition_id}")
def get_partition(partition_id: int, session: SessionDep) -> dict:
    """One partition: name, location, identifier range, size and anomaly counts per status. 404 if unknown."""
    p = get_or_404(session, Partition, partition_id, "Partition")
    return _partition(p, _anomaly_counts(session, [p]).get((p.container_id, p.name), {}))


def _container_scan(cs: ContainerScan) -> dict:
    return {
        **ser.container_scan(cs),
        "operation_id": cs.operation_id,
        "partition_scans": [
            {
                "id": ps.id,
                "partition": ps.partition,
                "partition_id": ps.partition_id,
                "records_processed": ps.records_processed,
                "result": ps.result,
                "anomalies": list(ps.anomaly_ids or []),
            }
            for ps in cs.partition_scans
        ],
    }


@router.get("/container-scans")
def list_container_scans(
    session: SessionDep, page: PageDep, container: int | None = None, operation: int | None = None
) -> dict:
    """Container scans, newest first; filter by ``container`` or ``operation`` id."""
    stmt = select(ContainerScan).order_by(ContainerScan.id.desc())
    if container is not None:
        stmt = stmt.where(ContainerScan.container_id == container)
    if operation is not None:
        stmt = stmt.where(ContainerScan.operation_id == operation)
    rows, total, pages = paginate(session, stmt, page.page, page.size)
    return page_of([_container_scan(cs) for cs in rows], total, page, pages)


@router.get("/container-scans/{scan_id}")
def get_container_scan(scan_id: int, session: SessionDep) -> dict:
    """One container scan with its ``partition_scans`` (partition, records_processed, result, anomalies)."""
    return _container_scan(get_or_404(session, ContainerScan, scan_id, "Container scan"))


@router.delete("/container-scans/{scan_id}", status_code=204)
def delete_container_scan(scan_id: int, session: SessionDep) -> Response:
    """Delete a container scan with its partition scans (its anomalies stay). 404 if unknown."""
    session.delete(get_or_404(session, ContainerScan, scan_id, "Container scan"))
    return Response(status_code=204)
