"""/anomalies: list (paged, filtered) and detail."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from ...store.models import Anomaly, FailedCheck
from ...store.repo import get_or_404, paginate
from .. import serializers as ser
from ..deps import PageDep, SessionDep, page_of

router = APIRouter(prefix="/anomalies", tags=["anomalies"])

ARCHIVED = ("Resolved", "Duplicate", "Invalid", "Discarded")


@router.get("")
def list_anomalies(
    session: SessionDep,
    page: PageDep,
    datastore: Annotated[list[int] | None, Query()] = None,
    container: Annotated[list[int] | None, Query()] = None,
    quality_check: Annotated[list[int] | None, Query()] = None,
    status: Annotated[list[str] | None, Query()] = None,
    anomaly_type: str | None = None,
    archived: str | None = None,
    sort_created: str | None = None,
) -> dict:
    """Anomalies, paged; filters ``datastore``, ``container``, ``quality_check``,
    ``status`` (repeatable or comma-separated), ``anomaly_type`` (record/shape),
    ``archived`` (only/include; by default archived ones are left out unless ``status``
    names an archived status), ``sort_created`` (asc/desc)."""
    stmt = select(Anomaly)
    if datastore:
        stmt = stmt.where(Anomaly.datastore_id.in_(datastore))
    if container:
        stmt = stmt.where(Anomaly.container_id.in_(container))
    if quality_check:
        stmt = stmt.where(
            Anomaly.id.in_(select(FailedCheck.anomaly_id).where(FailedCheck.quality_check_id.in_(quality_check)))
        )
    statuses = [s for value in (status or []) for s in value.split(",") if s]
    if statuses:
        stmt = stmt.where(Anomaly.status.in_(statuses))
    elif archived == "only":
        stmt = stmt.where(Anomaly.status.in_(ARCHIVED))
    elif archived != "include":
        stmt = stmt.where(Anomaly.status.not_in(ARCHIVED))
    if anomaly_type:
        stmt = stmt.where(Anomaly.type == anomaly_type)
    stmt = stmt.order_by(Anomaly.id.asc() if sort_created == "asc" else Anomaly.id.desc())
    rows, total, pages = paginate(session, stmt, page.page, page.size)
    return page_of([ser.anomaly(a) for a in rows], total, page, pages)


@router.get("/{anomaly_id}")
def get_anomaly(anomaly_id: int, session: SessionDep) -> dict:
    return ser.anomaly(get_or_404(session, Anomaly, anomaly_id, "Anomaly"))
