"""A datastore's latest operations, a container's latest scan and a container scan's
anomalies: ``/datastores/{id}/operations``, ``/containers/{id}/scan``,
``/container-scans/{id}/anomalies`` (Qualytics' paths and shapes)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict
from pydantic import Field as PField

from ...errors import NotFound
from ...operations import service
from ...store.repo import paginate
from ...store.repositories import containers as container_repo
from ...store.repositories import datastores as datastore_repo
from ...store.repositories import operations as operation_repo
from ...store.repositories import partitions as scan_repo
from .. import responses as r
from .. import serializers as ser
from ..deps import PageDep, RunnerDep, SessionDep, page_of
from ..routing import Route

router = APIRouter(tags=["operations"], route_class=Route)

#: ``GET /datastores/{id}/operations`` keys and the operation types each is the newest of.
LATEST = {
    "latest_operation": None,
    "catalog_operation": ("sync", "catalog"),
    "profile_operation": ("profile",),
    "scan_operation": ("scan", "external_scan"),
}


@router.get("/datastores/{datastore_id}/operations", response_model=r.DatastoreLatestOperations)
def get_datastore_operations(datastore_id: int, session: SessionDep) -> dict:
    """The datastore's newest operation of any type, and its newest catalog (sync), profile
    and scan operation; each null when there is none."""
    datastore_repo.get(session, datastore_id)
    out = {}
    for key, types in LATEST.items():
        op = operation_repo.latest(session, datastore_id, types)
        out[key] = ser.operation(op, operation_repo.containers_of(session, op)) if op is not None else None
    return out


@router.get("/containers/{container_id}/scan", response_model=r.ContainerScan)
def get_container_latest_scan(container_id: int, session: SessionDep) -> dict:
    """The container's newest container scan. 404 when it was never scanned."""
    container_repo.get(session, container_id)
    cs = scan_repo.latest_container_scan(session, container_id)
    if cs is None:
        raise NotFound(f"container {container_id} has not been scanned")
    return ser.container_scan(cs)


class ExternalScanBody(BaseModel):
    """Qualytics' ``CreateExternalScan``: ``name`` (e.g. the file's name) and ``records``, a
    JSON array of objects keyed by field name, as a string (Qualytics' form) or an array."""

    model_config = ConfigDict(extra="forbid")
    name: str = PField(min_length=1, max_length=255)
    records: str | list[dict[str, Any]]


@router.post("/containers/{container_id}/scan", response_model=r.Operation)
def run_external_scan(container_id: int, body: ExternalScanBody, session: SessionDep, runner: RunnerDep) -> dict:
    """Queue an external scan: ``records`` asserted against the container's checks and recorded
    as an operation of type ``external_scan`` (poll ``GET /api/operations/{id}``). 404 for an
    unknown container; 422 naming ``records`` when they are not a non-empty JSON array of
    objects (at most 10,000) whose keys are fields of the container."""
    container = container_repo.get(session, container_id)
    op = service.queue_external_scan(session, container, body.name, body.records, runner.submit)
    return ser.operation(op, operation_repo.containers_of(session, op))


@router.get("/container-scans/{scan_id}/anomalies", response_model=r.AnomalyPage)
def list_container_scan_anomalies(scan_id: int, session: SessionDep, page: PageDep) -> dict:
    """The anomalies a container scan recorded, paged, oldest first. 404 for an unknown scan."""
    scan_repo.get_container_scan(session, scan_id)
    rows, total, pages = paginate(session, scan_repo.anomalies_of_container_scan(scan_id), page.page, page.size)
    return page_of(ser.anomalies(rows), total, page, pages)
