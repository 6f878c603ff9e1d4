"""/partitions and /container-scans: what scans read, partition by partition."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from ...domain import AnomalyStatus
from ...store.models import Partition
from ...store.repo import paginate
from ...store.repositories import anomalies as anomaly_repo
from ...store.repositories import comments as comment_repo
from ...store.repositories import partitions as repo
from .. import responses as r
from .. import serializers as ser
from ..deps import PageDep, SessionDep, page_of
from ..limits import Tags
from ..routing import Route

router = APIRouter(tags=["partitions"], route_class=Route)


class PartitionUpdate(BaseModel):
    """PUT /partitions/{id} (Qualytics' ``UpdatePartition``): ``tags`` replaces the partition's tags."""

    model_config = ConfigDict(extra="ignore")
    tags: Tags | None = None


def _partition(p: Partition, counts: dict[str, int], comments: list[dict] | None = None) -> dict:
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
        "global_tags": ser.tags(p.tags),
        "comments": comments or [],
        "num_active": counts.get("Active", 0),
        "num_acknowledged": counts.get("Acknowledged", 0),
        "num_resolved": counts.get("Resolved", 0),
        "num_invalid": counts.get("Invalid", 0),
    }


@router.get("/partitions", response_model=r.PartitionPage)
def list_partitions(
    session: SessionDep, page: PageDep, container: int | None = None, datastore: int | None = None
) -> dict:
    """Partitions that scans have read, newest first; filter by ``container`` or ``datastore`` id."""
    rows, total, pages = paginate(session, repo.listing(container=container, datastore=datastore), page.page, page.size)
    counts = repo.anomaly_counts(session, rows)
    comments = comment_repo.of_partitions(session, [p.id for p in rows])
    items = [
        _partition(p, counts.get((p.container_id, p.name), {}), [ser.comment(c) for c in comments.get(p.id, [])])
        for p in rows
    ]
    return page_of(items, total, page, pages)


@router.get("/partitions/{partition_id}", response_model=r.Partition)
def get_partition(partition_id: int, session: SessionDep) -> dict:
    """One partition: name, location, identifier range, size and anomaly counts per status. 404 if unknown."""
    return _detail(session, repo.get(session, partition_id))


def _detail(session: Session, p: Partition) -> dict:
    """One partition with its anomaly counts and its comments (oldest first)."""
    comments = [ser.comment(c) for c in comment_repo.of_partitions(session, [p.id]).get(p.id, [])]
    return _partition(p, repo.anomaly_counts(session, [p]).get((p.container_id, p.name), {}), comments)


@router.put("/partitions/{partition_id}", response_model=r.Partition)
def update_partition(partition_id: int, body: PartitionUpdate, session: SessionDep) -> dict:
    """Replace the partition's ``tags`` (the only thing a client may change: scans keep the
    rest up to date). 404 if unknown."""
    p = repo.get(session, partition_id)
    if body.tags is not None:
        p.tags = list(body.tags)
    session.flush()
    return _detail(session, p)


@router.put("/partitions/{partition_id}/anomalies/{new_status}", response_model=r.Partition)
def triage_partition_anomalies(partition_id: int, new_status: AnomalyStatus, session: SessionDep) -> dict:
    """Give every open (Active, Acknowledged) anomaly found in the partition ``new_status``, as
    ``PUT``/``DELETE /anomalies/{id}`` would one by one: Active/Acknowledged keep it open,
    Resolved/Duplicate/Invalid/Discarded archive it. Answers the partition with its new counts;
    404 if unknown, 422 naming ``new_status`` for an unknown status."""
    p = repo.get(session, partition_id)
    for anomaly in anomaly_repo.open_of_partition(session, p.container_id, p.name):
        anomaly_repo.set_status(anomaly, new_status)
    session.flush()
    return _detail(session, p)


@router.get("/container-scans", response_model=r.ContainerScanPage)
def list_container_scans(
    session: SessionDep, page: PageDep, container: int | None = None, operation: int | None = None
) -> dict:
    """Container scans, newest first; filter by ``container`` or ``operation`` id."""
    stmt = repo.container_scans(container=container, operation=operation)
    rows, total, pages = paginate(session, stmt, page.page, page.size)
    return page_of(ser.container_scans(list(rows)), total, page, pages)


@router.get("/container-scans/{scan_id}", response_model=r.ContainerScanDetail)
def get_container_scan(scan_id: int, session: SessionDep) -> dict:
    """One container scan with its ``partition_scans`` (partition, records_processed, result, anomalies)."""
    return ser.container_scan(repo.get_container_scan(session, scan_id))


@router.delete("/container-scans/{scan_id}", status_code=204)
def delete_container_scan(scan_id: int, session: SessionDep) -> Response:
    """Delete a container scan with its partition scans (its anomalies stay). 404 if unknown."""
    session.delete(repo.get_container_scan(session, scan_id))
    return Response(status_code=204)
