"""/anomalies: list (paged, filtered), detail, status changes, archive and delete (single and bulk)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from ...store.models import Anomaly, FailedCheck, QualityCheck
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
    anomaly_type: Literal["record", "shape"] | None = None,
    tag: Annotated[list[str] | None, Query()] = None,
    rule_type: Annotated[list[str] | None, Query()] = None,
    start_date: dt.date | None = None,
    end_date: dt.date | None = None,
    archived: Literal["only", "include", "exclude"] | None = None,
    source_enriched: bool | None = None,
    sort_created: Literal["asc", "desc"] | None = None,
    sort_weight: Literal["asc", "desc"] | None = None,
) -> dict:
    """Anomalies, paged. Filters: ``datastore``, ``container``, ``quality_check``, ``tag``,
    ``rule_type`` (repeatable), ``status`` (repeatable or comma-separated), ``anomaly_type``
    (record/shape), ``start_date``/``end_date`` (on ``created``, UTC days, inclusive),
    ``source_enriched``, ``archived`` (only/include; by default archived anomalies are left
    out unless ``status`` names an archived status). Sorted by ``sort_weight`` when given,
    else by ``sort_created`` (default newest first)."""
    stmt = select(Anomaly)
    if datastore:
        stmt = stmt.where(Anomaly.datastore_id.in_(datastore))
    if container:
        stmt = stmt.where(Anomaly.container_id.in_(container))
    if quality_check:
        stmt = stmt.where(
            Anomaly.id.in_(select(FailedCheck.anomaly_id).where(FailedCheck.quality_check_id.in_(quality_check)))
        )
    if rule_type:
        stmt = stmt.where(
            Anomaly.id.in_(
                select(FailedCheck.anomaly_id)
                .join(QualityCheck, QualityCheck.id == FailedCheck.quality_check_id)
                .where(QualityCheck.rule_type.in_(rule_type))
            )
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
    if start_date:
        stmt = stmt.where(Anomaly.created >= dt.datetime.combine(start_date, dt.time(), dt.UTC))
    if end_date:
        stmt = stmt.where(Anomaly.created < dt.datetime.combine(end_date + dt.timedelta(days=1), dt.time(), dt.UTC))
    if source_enriched is not None:
        stmt = stmt.where(Anomaly.source_enriched.is_(source_enriched))
    if sort_weight:
        stmt = stmt.order_by(Anomaly.weight.asc() if sort_weight == "asc" else Anomaly.weight.desc(), Anomaly.id.desc())
    else:
        stmt = stmt.order_by(Anomaly.id.asc() if sort_created == "asc" else Anomaly.id.desc())
    if tag:
        # tags are a JSON list per anomaly: filter in Python over the matching ids (portable across stores)
        wanted = set(tag)
        ids = [a.id for a in session.scalars(stmt) if wanted & set(a.tags or [])]
        stmt = stmt.where(Anomaly.id.in_(ids))
    rows, total, pages = paginate(session, stmt, page.page, page.size)
    return page_of([ser.anomaly(a) for a in rows], total, page, pages)


@router.get("/{anomaly_id}/source-record")
def source_records(anomaly_id: int, session: SessionDep) -> list[dict]:
    """The source rows stored with the anomaly at scan time (at most the scan's
    ``enrichment_source_record_limit``): ``[{source_record: <row as a JSON string>, created}]``."""
    anomaly = get_or_404(session, Anomaly, anomaly_id, "Anomaly")
    return [
        {"source_record": json.dumps(row, sort_keys=True), "created": ser.iso(anomaly.created)}
        for row in anomaly.source_records or []
    ]


@router.get("/{anomaly_id}")
def get_anomaly(anomaly_id: int, session: SessionDep) -> dict:
    return ser.anomaly(get_or_404(session, Anomaly, anomaly_id, "Anomaly"))


OPEN = ("Active", "Acknowledged")


class AnomalyUpdate(BaseModel):
    """PUT /anomalies/{id}: an open status, and optionally tags and a description."""

    model_config = ConfigDict(extra="ignore")
    status: Literal["Active", "Acknowledged"] | None = None
    tags: list[str] | None = None
    description: str | None = None


class AnomalyBulkUpdate(AnomalyUpdate):
    id: int


class AnomalyBulkDelete(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: int
    archive: bool = True
    status: Literal["Resolved", "Duplicate", "Invalid", "Discarded"] = "Resolved"


def _apply(anomaly: Anomaly, body: AnomalyUpdate) -> None:
    if body.status is not None:
        anomaly.status = body.status
    if body.tags is not None:
        anomaly.tags = body.tags
    if body.description is not None:
        anomaly.message = body.description


@router.put("/{anomaly_id}")
def update_anomaly(anomaly_id: int, body: AnomalyUpdate, session: SessionDep) -> dict:
    """Set an open status (Active/Acknowledged), tags or description; restores an archived one."""
    anomaly = get_or_404(session, Anomaly, anomaly_id, "Anomaly")
    _apply(anomaly, body)
    session.flush()
    return ser.anomaly(anomaly)


@router.patch("")
def bulk_update_anomalies(body: list[AnomalyBulkUpdate], session: SessionDep) -> list[dict]:
    """Bulk PUT: ``[{id, status?, tags?, description?}]``; 404 if any id is unknown (nothing changes)."""
    rows = [get_or_404(session, Anomaly, item.id, "Anomaly") for item in body]
    for anomaly, item in zip(rows, body, strict=False):
        _apply(anomaly, item)
    session.flush()
    return [ser.anomaly(a) for a in rows]


def _archive_or_delete(session, anomaly: Anomaly, archive: bool, status: str) -> None:
    if archive:
        anomaly.status = status
    else:
        session.delete(anomaly)


@router.delete("/{anomaly_id}", status_code=204)
def delete_anomaly(
    anomaly_id: int,
    session: SessionDep,
    archive: bool = True,
    status: Literal["Resolved", "Duplicate", "Invalid", "Discarded"] = "Resolved",
) -> Response:
    """Archive with a terminal ``status`` (``archive=true``, default) or delete for good."""
    _archive_or_delete(session, get_or_404(session, Anomaly, anomaly_id, "Anomaly"), archive, status)
    return Response(status_code=204)


@router.delete("", status_code=204)
def bulk_delete_anomalies(body: list[AnomalyBulkDelete], session: SessionDep) -> Response:
    """Bulk archive/delete: ``[{id, archive, status}]``; 404 if any id is unknown (nothing changes)."""
    rows = [get_or_404(session, Anomaly, item.id, "Anomaly") for item in body]
    for anomaly, item in zip(rows, body, strict=False):
        _archive_or_delete(session, anomaly, item.archive, item.status)
    return Response(status_code=204)
