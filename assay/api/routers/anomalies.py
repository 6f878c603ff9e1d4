"""/anomalies: list (paged, filtered), detail, status changes, archive and delete (single and bulk)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict

from ...domain import AnomalyStatus
from ...errors import ValidationError
from ...store.models import Anomaly
from ...store.repo import paginate
from ...store.repositories import anomalies as repo
from ...store.repositories import users as user_repo
from .. import responses as r
from .. import serializers as ser
from ..deps import PageDep, SessionDep, page_of
from ..routing import Route

router = APIRouter(prefix="/anomalies", tags=["anomalies"], route_class=Route)

ARCHIVED = repo.ARCHIVED


def _start(start_date: dt.date | None, timeframe: int | None) -> dt.datetime | None:
    """The later of ``start_date`` and the first day of the last ``timeframe`` days (UTC)."""
    starts = []
    if start_date:
        starts.append(dt.datetime.combine(start_date, dt.time(), dt.UTC))
    if timeframe:
        today = dt.datetime.now(dt.UTC).date()
        starts.append(dt.datetime.combine(today - dt.timedelta(days=timeframe - 1), dt.time(), dt.UTC))
    return max(starts) if starts else None


@router.get("", response_model=r.AnomalyPage)
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
    timeframe: Annotated[int | None, Query(ge=1, le=36_500)] = None,
    archived: Literal["only", "include", "exclude"] | None = None,
    source_enriched: bool | None = None,
    sort_created: Literal["asc", "desc"] | None = None,
    sort_weight: Literal["asc", "desc"] | None = None,
    operation: int | None = None,
    container_scan: int | None = None,
) -> dict:
    """Anomalies, paged. Filters: ``operation`` (found by that scan operation),
    ``container_scan`` (found by that container scan), ``datastore``, ``container``, ``quality_check``, ``tag``,
    ``rule_type`` (repeatable), ``status`` (repeatable or comma-separated), ``anomaly_type``
    (record/shape), ``start_date``/``end_date`` (on ``created``, UTC days, inclusive),
    ``timeframe`` (created in the last N days: from midnight UTC N-1 days before today),
    ``source_enriched``, ``archived`` (only/include; by default archived anomalies are left
    out unless ``status`` names an archived status). Sorted by ``sort_weight`` when given,
    else by ``sort_created`` (default newest first); an unknown ``status`` is a 422."""
    statuses = [v for value in (status or []) for v in value.split(",") if v]
    unknown = sorted(set(statuses) - {str(member) for member in AnomalyStatus})
    if unknown:
        allowed = ", ".join(str(member) for member in AnomalyStatus)
        raise ValidationError(("status",), f"unknown anomaly status {', '.join(unknown)}: one of {allowed}", "query")
    stmt = repo.listing(
        session,
        datastores=datastore,
        containers=container,
        quality_checks=quality_check,
        rule_types=rule_type,
        statuses=statuses,
        archived=archived,
        anomaly_type=anomaly_type,
        start=_start(start_date, timeframe),
        end=dt.datetime.combine(end_date + dt.timedelta(days=1), dt.time(), dt.UTC) if end_date else None,
        source_enriched=source_enriched,
        tags=tag,
        sort_weight=sort_weight,
        sort_created=sort_created,
        operation=operation,
        container_scan=container_scan,
    )
    rows, total, pages = paginate(session, stmt, page.page, page.size)
    return page_of(ser.anomalies(rows), total, page, pages)


@router.get("/{anomaly_id}/source-record", response_model=list[r.SourceRecord])
def source_records(anomaly_id: int, session: SessionDep) -> list[dict]:
    """The source rows stored with the anomaly at scan time (at most the scan's
    ``enrichment_source_record_limit``): ``[{source_record: <row as a JSON string>, created}]``."""
    anomaly = repo.get(session, anomaly_id)
    return [
        {"source_record": json.dumps(row, sort_keys=True), "created": ser.iso(anomaly.created)}
        for row in anomaly.source_records or []
    ]


@router.get("/{anomaly_id}", response_model=r.Anomaly)
def get_anomaly(anomaly_id: int, session: SessionDep) -> dict:
    return ser.anomaly(repo.get(session, anomaly_id))


OPEN = ("Active", "Acknowledged")


class AnomalyUpdate(BaseModel):
    """PUT /anomalies/{id}: an open status, and optionally tags, a description (user-editable
    text; the scan's ``message`` never changes) and the assignees (``assignee_ids``: user ids,
    ``[]`` unassigns everyone)."""

    model_config = ConfigDict(extra="ignore")
    status: Literal["Active", "Acknowledged"] | None = None
    tags: list[str] | None = None
    description: str | None = None
    assignee_ids: list[int] | None = None


class AnomalyBulkUpdate(AnomalyUpdate):
    id: int


class AnomalyBulkDelete(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: int
    archive: bool = True
    status: Literal["Resolved", "Duplicate", "Invalid", "Discarded"] = "Resolved"


def _check_assignees(session, body: AnomalyUpdate, loc: tuple[str | int, ...]) -> None:
    """422 at ``(*loc, "assignee_ids")`` naming an unknown user id."""
    if body.assignee_ids:
        user_repo.existing_users(session, list(dict.fromkeys(body.assignee_ids)), (*loc, "assignee_ids"))


def _apply(anomaly: Anomaly, body: AnomalyUpdate) -> None:
    if body.status is not None:
        repo.set_status(anomaly, body.status)
    if body.tags is not None:
        anomaly.tags = body.tags
    if "description" in body.model_fields_set:
        anomaly.description = body.description
    if body.assignee_ids is not None:
        anomaly.assignee_ids = list(dict.fromkeys(body.assignee_ids))


@router.put("/{anomaly_id}", response_model=r.Anomaly)
def update_anomaly(anomaly_id: int, body: AnomalyUpdate, session: SessionDep) -> dict:
    """Set an open status (Active/Acknowledged), tags, description or assignees; restores an
    archived one. 422 naming ``assignee_ids`` for an unknown user id."""
    anomaly = repo.get(session, anomaly_id)
    _check_assignees(session, body, ())
    _apply(anomaly, body)
    session.flush()
    return ser.anomaly(anomaly)


@router.patch("", response_model=list[r.Anomaly])
def bulk_update_anomalies(body: list[AnomalyBulkUpdate], session: SessionDep) -> list[dict]:
    """Bulk PUT: ``[{id, status?, tags?, description?, assignee_ids?}]``; 404 if any id is
    unknown, 422 naming ``[i, "assignee_ids"]`` for an unknown user (nothing changes either way)."""
    rows = repo.get_all(session, [item.id for item in body])
    for i, item in enumerate(body):
        _check_assignees(session, item, (i,))
    for anomaly, item in zip(rows, body, strict=False):
        _apply(anomaly, item)
    session.flush()
    return ser.anomalies(rows)


@router.put("", response_model=list[r.Anomaly])
def bulk_update_anomalies_put(body: list[AnomalyBulkUpdate], session: SessionDep) -> list[dict]:
    """The older bulk form of Qualytics' API (``PUT /api/anomalies``), the same as ``PATCH /api/anomalies``."""
    return bulk_update_anomalies(body, session)


def _archive_or_delete(session, anomaly: Anomaly, archive: bool, status: str) -> None:
    if archive:
        repo.set_status(anomaly, status)
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
    _archive_or_delete(session, repo.get(session, anomaly_id), archive, status)
    return Response(status_code=204)


@router.delete("", status_code=204)
def bulk_delete_anomalies(body: list[AnomalyBulkDelete], session: SessionDep) -> Response:
    """Bulk archive/delete: ``[{id, archive, status}]``; 404 if any id is unknown (nothing changes)."""
    rows = repo.get_all(session, [item.id for item in body])
    for anomaly, item in zip(rows, body, strict=False):
        _archive_or_delete(session, anomaly, item.archive, item.status)
    return Response(status_code=204)
