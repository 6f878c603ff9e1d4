"""Quality scores and insights: ``/datastores/{id}/score-settings``, ``/datastores/{id}/quality-scores``,
``/insights``, ``/metrics``, ``/scan-metrics`` (definitions: docs/quality-score.md, insights/hub.py)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from ...errors import ValidationError
from ...insights import hub
from ...insights import service as insights
from ...store.repo import paginate
from ...store.repositories import containers as container_repo
from ...store.repositories import datastores as datastore_repo
from ...store.repositories import metrics as metrics_repo
from .. import responses as r
from ..auth import CurrentUser
from ..deps import PageDep, SessionDep, page_of
from ..routing import Route
from ..schemas import QualityScoreSettingsUpdate

router = APIRouter(tags=["insights"], route_class=Route)


@router.get("/datastores/{datastore_id}/score-settings", response_model=r.QualityScoreSettings)
def get_score_settings(datastore_id: int, session: SessionDep) -> dict:
    """The datastore's quality score settings; a weight never set is null (the default, 1.0 applies)."""
    datastore_repo.get(session, datastore_id)
    return insights.get_settings(session, datastore_id)


@router.put("/datastores/{datastore_id}/score-settings", response_model=r.QualityScoreSettings)
def update_score_settings(datastore_id: int, body: QualityScoreSettingsUpdate, session: SessionDep) -> dict:
    """Partial update of the score settings (only the keys sent change); scores use them at once."""
    datastore_repo.get(session, datastore_id)
    return insights.update_settings(session, datastore_id, body.model_dump(exclude_unset=True))


@router.get("/datastores/{datastore_id}/quality-scores", response_model=list[r.DatedQualityScore])
def list_quality_scores(
    datastore_id: int,
    session: SessionDep,
    start_date: dt.date,
    end_date: dt.date,
    container: int | None = None,
) -> list[dict]:
    """The datastore's (or one of its containers') quality score per day, from ``start_date``
    to ``end_date`` (UTC, both included, at most 366 days), each as of the end of its day."""
    datastore_repo.get(session, datastore_id)
    if container is not None and container_repo.get(session, container).datastore_id != datastore_id:
        raise ValidationError("container", f"container {container} is not in datastore {datastore_id}", part="query")
    return insights.quality_scores(session, datastore_id, start_date, end_date, container)


@router.get("/insights", response_model=r.Insights)
def get_insights(
    session: SessionDep,
    user: CurrentUser,
    report_date: dt.date | None = None,
    timeframe: Literal["week", "month", "quarter", "year"] = "week",
    offset: Annotated[int, Query(ge=-24 * 60, le=24 * 60, description="minutes, UTC − local time")] = 0,
    datastore: Annotated[list[int] | None, Query()] = None,
    tag: Annotated[list[str] | None, Query()] = None,
) -> dict:
    """Totals, trends and per-day counts of profiling, checks, scans and anomalies (see
    ``insights.hub.insights``). ``total_users`` counts every user for a Manager or Admin
    (who may list them all); for a Member only the users sharing one of their teams, them
    included (the public team, every user's, does not count)."""
    return hub.insights(
        session,
        report_date=report_date,
        timeframe=timeframe,
        offset=offset,
        datastores=datastore,
        tags=tag,
        users_among=hub.users_counted_for(session, user),
    )


@router.get("/metrics", response_model=r.HubMetrics)
def get_metrics(
    session: SessionDep,
    timeframe: Annotated[int, Query(ge=1, le=hub.MAX_DAYS, description="days, today included")],
    datastore: int | None = None,
    container: Annotated[list[int] | None, Query()] = None,
    field: Annotated[list[str] | None, Query()] = None,
    rule_type: Annotated[list[str] | None, Query()] = None,
    status: Annotated[list[str] | None, Query()] = None,
    anomaly_type: Literal["record", "shape"] | None = None,
) -> dict:
    """Records scanned and anomalies caught over the last ``timeframe`` days, in total and per day."""
    if datastore is not None:
        datastore_repo.get(session, datastore)
    return hub.hub_metrics(
        session,
        timeframe=timeframe,
        datastore=datastore,
        containers=container,
        fields=field,
        rule_types=rule_type,
        statuses=status,
        anomaly_type=anomaly_type,
    )


@router.get("/scan-metrics", response_model=r.ScanMetrics)
def get_scan_metrics(session: SessionDep, datastore: int, start_date: dt.date, end_date: dt.date) -> dict:
    """A datastore's partitions scanned, records scanned and anomalies caught per day."""
    datastore_repo.get(session, datastore)
    return hub.scan_metrics(session, datastore=datastore, start_date=start_date, end_date=end_date)


def _activity(a) -> dict:
    u = a.user
    return {
        "transaction": {
            "id": a.id,
            "issued_at": insights.iso(a.issued_at),
            "user": {
                "id": u.id,
                "created": insights.iso(u.created),
                "user_id": str(u.id),
                "email": u.email,
                "name": u.name,
                "role": u.role,
            }
            if u is not None
            else None,
        },
        "verb": a.verb,
        "object_type": a.object_type,
        "object_id": a.object_id,
    }


@router.get("/activity", response_model=r.ActivityPage)
def get_activity_log(
    session: SessionDep,
    page: PageDep,
    users: Annotated[list[int] | None, Query()] = None,
    start_date: dt.date | None = None,
    end_date: dt.date | None = None,
) -> dict:
    """The changes users made through the API, newest first, paged: filters ``users``
    (repeatable user ids) and ``start_date`` / ``end_date`` (UTC days, inclusive)."""
    hub.check_date("start_date", start_date)
    hub.check_date("end_date", end_date)
    stmt = metrics_repo.activity(
        users=users,
        start=dt.datetime.combine(start_date, dt.time(), dt.UTC) if start_date else None,
        end=dt.datetime.combine(end_date + dt.timedelta(days=1), dt.time(), dt.UTC) if end_date else None,
    )
    rows, total, pages = paginate(session, stmt, page.page, page.size)
    return page_of([_activity(a) for a in rows], total, page, pages)
