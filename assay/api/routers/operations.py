"""/operations: run (queue), get, list, abort, resume, rerun, heartbeat, delete.

Parsing and shaping only: creating and controlling operations is
``assay.operations.service``; queries are ``assay.store.repositories.operations``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, Response

from ...domain import OperationResult
from ...errors import ValidationError
from ...operations import service
from ...store.repositories import operations as repo
from .. import responses as r
from .. import serializers as ser
from ..deps import PageDep, RunnerDep, SessionDep, page_of
from ..routing import Route
from ..schemas import OperationRequest

router = APIRouter(prefix="/operations", tags=["operations"], route_class=Route)


def _shaped(session, op) -> dict:
    return ser.operation(op, repo.containers_of(session, op))


@router.post("/run", response_model=r.Operation)
def run_operation(body: Annotated[OperationRequest, Body()], session: SessionDep, runner: RunnerDep) -> dict:
    """Queue an operation (``sync``/``catalog``, ``profile``, ``scan`` or ``export``) and return it at once.

    404 for an unknown datastore; 422 for a bad payload or an enrichment-only datastore.
    """
    return _shaped(session, service.queue(session, body, runner.submit))


@router.get("", response_model=r.OperationPage)
def list_operations(
    session: SessionDep,
    page: PageDep,
    datastore: Annotated[list[int] | None, Query()] = None,
    operation_type: str | None = None,
    result: Annotated[list[str] | None, Query()] = None,
    finished: bool | None = None,
    start_date: dt.date | None = None,
    end_date: dt.date | None = None,
    sort_created: Literal["asc", "desc"] = "desc",
    container: Annotated[list[int] | None, Query()] = None,
    tag: Annotated[list[str] | None, Query()] = None,
    timeframe: Annotated[int | None, Query(ge=1, le=36_500)] = None,
) -> dict:
    """Operations, paged; filters ``datastore``, ``container`` (operations working on that
    container; repeatable), ``tag`` (operations run for containers of any of those tags,
    ``container_tags``; repeatable), ``operation_type``, ``result`` (repeatable or
    comma-separated), ``finished``, ``start_date``/``end_date`` (on ``created``, UTC days),
    ``timeframe`` (created in the last N days: from midnight UTC N-1 days before today),
    ``sort_created`` (asc/desc, default desc). An unknown ``result`` or ``sort_created`` is a 422.
    A queued operation answers ``result: running`` (``queued: true``), so ``result=running``
    finds it too; ``result=queued`` finds only the queued ones."""
    results = [v for value in (result or []) for v in value.split(",") if v]
    if OperationResult.RUNNING in results:
        results.append(OperationResult.QUEUED)
    unknown = sorted(set(results) - {str(member) for member in OperationResult})
    if unknown:
        allowed = ", ".join(str(member) for member in OperationResult)
        raise ValidationError(("result",), f"unknown operation result {', '.join(unknown)}: one of {allowed}", "query")
    starts = [dt.datetime.combine(start_date, dt.time(), dt.UTC)] if start_date else []
    if timeframe:
        today = dt.datetime.now(dt.UTC).date()
        starts.append(dt.datetime.combine(today - dt.timedelta(days=timeframe - 1), dt.time(), dt.UTC))
    types = None
    if operation_type:
        types = ["sync", "catalog"] if operation_type in ("sync", "catalog") else [operation_type]
    stmt = repo.listing(
        datastore=datastore,
        operation_types=types,
        results=results,
        finished=finished,
        start=max(starts) if starts else None,
        end=dt.datetime.combine(end_date + dt.timedelta(days=1), dt.time(), dt.UTC) if end_date else None,
        ascending=sort_created == "asc",
        containers=container,
        tags=tag,
        session=session,
    )
    rows, total, pages = repo.page(session, stmt, page.page, page.size)
    return page_of([_shaped(session, op) for op in rows], total, page, pages)


@router.get("/{operation_id}", response_model=r.Operation)
def get_operation(operation_id: int, session: SessionDep) -> dict:
    return _shaped(session, repo.get(session, operation_id))


@router.put("/abort/{operation_id}", response_model=r.Operation)
def abort_operation(operation_id: int, session: SessionDep) -> dict:
    """Stop an operation and return it ended. A queued one ends at once as aborted; a running
    one ends as aborted at once and its worker (on any server) stops within about a second,
    its query cancelled where the driver allows; one whose worker is gone ends as aborted
    at once. A finished one is returned unchanged. This call never waits for the worker."""
    return _shaped(session, service.abort(session, operation_id))


@router.put("/run/{operation_id}", response_model=r.Operation)
def resume_operation(operation_id: int, session: SessionDep, runner: RunnerDep) -> dict:
    """Resume an aborted or failed operation: it is queued again and, for a scan, skips the
    containers it already scanned successfully (it starts once the worker of an aborted
    attempt has stopped). 409 for a queued, running or successful one."""
    return _shaped(session, service.resume(session, operation_id, runner.submit))


@router.put("/rerun/{operation_id}", response_model=r.Operation)
def rerun_operation(operation_id: int, session: SessionDep, runner: RunnerDep) -> dict:
    """Run a finished operation again from scratch, as a new operation with the same payload."""
    return _shaped(session, service.rerun(session, operation_id, runner.submit))


@router.get("/{operation_id}/heartbeat", response_model=r.Heartbeat)
def heartbeat(operation_id: int, session: SessionDep) -> dict:
    """``{id, result, heartbeat, worker, alive}``: alive while running with a recent heartbeat."""
    op = repo.get(session, operation_id)
    return {
        "id": op.id,
        "result": OperationResult.RUNNING.value if op.result == OperationResult.QUEUED else op.result,
        "heartbeat": ser.iso(op.heartbeat),
        "worker": op.worker,
        "alive": service.is_alive(op),
    }


@router.head("/{operation_id}/heartbeat", response_model=r.Heartbeat)
def heartbeat_head(operation_id: int, session: SessionDep) -> dict:
    """The heartbeat's headers only (200 or 404)."""
    return heartbeat(operation_id, session)


@router.delete("/{operation_id}", status_code=204)
def delete_operation(operation_id: int, session: SessionDep) -> Response:
    """Delete a finished operation's record (its anomalies stay). 409 while queued or running."""
    service.delete(session, operation_id)
    return Response(status_code=204)
