"""/operations: run (queue), get, list."""

from __future__ import annotations

import datetime as dt
import time
from typing import Annotated

from fastapi import APIRouter, Body, Query, Response
from sqlalchemy import select, update

from ...engine.rules import RuleDefinitionError
from ...operations.runner import heartbeat_timeout
from ...store.models import Container, Datastore, Operation, utcnow
from ...store.repo import Conflict, get_or_404, paginate
from .. import serializers as ser
from ..deps import PageDep, RunnerDep, SessionDep, page_of
from ..schemas import ExportOperation, OperationRequest, ProfileOperation, ScanOperation

router = APIRouter(prefix="/operations", tags=["operations"])


def _scan_params(body: ScanOperation, ds: Datastore) -> dict:
    params = body.model_dump(mode="json")
    if params["enrichment_source_record_limit"] is None:
        params["enrichment_source_record_limit"] = ds.enrichment_source_record_limit
    if params["high_count_rollup_threshold"] is None:
        params["high_count_rollup_threshold"] = ds.high_count_rollup_threshold
    if params["remediation"] is None:
        params["remediation"] = ds.enrichment_remediation_strategy
    if params["remediation"] != "none" and ds.enrichment_datastore_id is None:
        raise RuleDefinitionError(
            ("remediation",),
            f"remediation '{params['remediation']}' needs an enrichment datastore linked to datastore {ds.id}; "
            "link one with PATCH /api/datastores/{id}/enrichment/{enrichment_id} or use 'none'",
        )
    params["container_names"] = params.get("container_names") or []
    return params


def _check_container_names(session, ds: Datastore, names: list[str]) -> None:
    """Raise RuleDefinitionError on ``container_names`` listing every requested name that is
    not a live container of ``ds`` (a scan or profile never silently skips a named container)."""
    if not names:
        return
    known = set(
        session.scalars(
            select(Container.name).where(
                Container.datastore_id == ds.id, Container.deleted_at.is_(None), Container.name.in_(names)
            )
        )
    )
    missing = [n for n in dict.fromkeys(names) if n not in known]
    if missing:
        raise RuleDefinitionError(
            ("container_names",), f"no container named {', '.join(map(repr, missing))} in datastore {ds.id}"
        )


def normalise_operation(session, body, ds: Datastore) -> tuple[str, dict, dict]:
    """(type, stored params, initial status) of a validated operation payload on ``ds``.

    Raises RuleDefinitionError (→ 422) for an enrichment-only datastore, remediation without
    enrichment, an export without enrichment, or unknown container names. ``container_names``
    of a scan or profile is checked here, at submission: if any requested name is not a live
    container of the datastore the whole request is a 422 on ``container_names`` whose message
    lists the missing names, and nothing is queued (rather than running the others and
    reporting the rest afterwards). A scheduled operation is checked when the schedule is
    created or replaced.
    """
    if ds.enrichment_only:
        raise RuleDefinitionError(
            ("datastore_id",), f"datastore {ds.id} is enrichment-only; a {body.type} operation cannot run on it"
        )
    if isinstance(body, ScanOperation):
        params = _scan_params(body, ds)
        _check_container_names(session, ds, params["container_names"])
        return "scan", params, dict.fromkeys(ser.SCAN_STATUS_KEYS, 0)
    if isinstance(body, ExportOperation):
        if ds.enrichment_datastore_id is None:
            raise RuleDefinitionError(
                ("datastore_id",), f"datastore {ds.id} has no enrichment datastore linked; an export writes there"
            )
        return "export", body.model_dump(mode="json"), {"total_containers": 0}
    if isinstance(body, ProfileOperation):
        params = body.model_dump(mode="json")
        params["container_names"] = params.get("container_names") or []
        _check_container_names(session, ds, params["container_names"])
        return "profile", params, dict.fromkeys(ser.PROFILE_STATUS_KEYS, 0)
    return (
        "sync",
        body.model_dump(mode="json"),
        {"total_containers": 0, "containers_analyzed": 0, "records_processed": 0},
    )


@router.post("/run")
def run_operation(body: Annotated[OperationRequest, Body()], session: SessionDep, runner: RunnerDep) -> dict:
    """Queue an operation (``sync``/``catalog``, ``profile``, ``scan`` or ``export``) and return it at once.

    404 for an unknown datastore; 422 for a bad payload or an enrichment-only datastore.
    """
    ds = get_or_404(session, Datastore, body.datastore_id, "Datastore")
    op_type, params, status = normalise_operation(session, body, ds)
    op = Operation(type=op_type, datastore_id=ds.id, result="queued", params=params, status=status, triggered_by="api")
    session.add(op)
    session.commit()
    runner.submit(op.id)
    session.refresh(op)
    return ser.operation(op, _containers(session, op))


def _containers(session, op: Operation) -> list[Container]:
    if not op.container_ids:
        return []
    return list(session.scalars(select(Container).where(Container.id.in_(op.container_ids)).order_by(Container.name)))


@router.get("")
def list_operations(
    session: SessionDep,
    page: PageDep,
    datastore: Annotated[list[int] | None, Query()] = None,
    operation_type: str | None = None,
    result: Annotated[list[str] | None, Query()] = None,
    finished: bool | None = None,
    start_date: dt.date | None = None,
    end_date: dt.date | None = None,
    sort_created: str = "desc",
) -> dict:
    """Operations, paged; filters ``datastore``, ``operation_type``, ``result`` (repeatable
    or comma-separated), ``finished``, ``start_date``/``end_date`` (on ``created``, UTC days),
    ``sort_created`` (asc/desc, default desc)."""
    stmt = select(Operation)
    if datastore:
        stmt = stmt.where(Operation.datastore_id.in_(datastore))
    if operation_type:
        types = ["sync", "catalog"] if operation_type in ("sync", "catalog") else [operation_type]
        stmt = stmt.where(Operation.type.in_(types))
    results = [r for value in (result or []) for r in value.split(",") if r]
    if results:
        stmt = stmt.where(Operation.result.in_(results))
    if finished is not None:
        stmt = stmt.where(Operation.end_time.is_not(None) if finished else Operation.end_time.is_(None))
    if start_date:
        stmt = stmt.where(Operation.created >= dt.datetime.combine(start_date, dt.time(), dt.UTC))
    if end_date:
        stmt = stmt.where(Operation.created < dt.datetime.combine(end_date + dt.timedelta(days=1), dt.time(), dt.UTC))
    stmt = stmt.order_by(Operation.id.asc() if sort_created == "asc" else Operation.id.desc())
    rows, total, pages = paginate(session, stmt, page.page, page.size)
    return page_of([ser.operation(op, _containers(session, op)) for op in rows], total, page, pages)


@router.get("/{operation_id}")
def get_operation(operation_id: int, session: SessionDep) -> dict:
    op = get_or_404(session, Operation, operation_id, "Operation")
    return ser.operation(op, _containers(session, op))


def _lost(op: Operation) -> bool:
    """True when a running operation's worker has stopped sending heartbeats."""
    beat = op.heartbeat if op.heartbeat is None or op.heartbeat.tzinfo else op.heartbeat.replace(tzinfo=dt.UTC)
    return beat is None or (utcnow() - beat).total_seconds() > heartbeat_timeout()


@router.put("/abort/{operation_id}")
def abort_operation(operation_id: int, session: SessionDep, runner: RunnerDep) -> dict:
    """Ask an operation to stop. A queued one ends at once as aborted; a running one stops
    within seconds on whichever worker runs it (its query is cancelled where the driver
    allows; this call waits up to 5 s); one whose worker is gone ends as aborted at once.
    A finished one is returned unchanged."""
    op = get_or_404(session, Operation, operation_id, "Operation")
    session.execute(
        update(Operation)
        .where(Operation.id == operation_id, Operation.result == "queued")
        .values(result="aborted", end_time=utcnow(), message="aborted before it started")
    )
    session.commit()
    session.expire_all()
    op = session.get(Operation, operation_id)
    if op.result == "running" and _lost(op):
        op.result, op.end_time = "aborted", utcnow()
        op.message = f"aborted by request; its worker {op.worker or '?'} had stopped responding"
        session.commit()
    elif op.result == "running":
        runner.request_abort(operation_id)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            session.expire_all()
            if session.get(Operation, operation_id).result != "running":
                break
            time.sleep(0.1)
    session.expire_all()
    op = session.get(Operation, operation_id)
    return ser.operation(op, _containers(session, op))


@router.put("/run/{operation_id}")
def resume_operation(operation_id: int, session: SessionDep, runner: RunnerDep) -> dict:
    """Resume an aborted or failed operation: it is queued again and, for a scan, skips the
    containers it already scanned successfully. 409 for a queued, running or successful one."""
    op = get_or_404(session, Operation, operation_id, "Operation")
    if op.result not in ("aborted", "failure"):
        raise Conflict(f"operation {operation_id} is {op.result}; only aborted or failed operations resume")
    op.result, op.end_time, op.message, op.abort_requested, op.worker = "queued", None, None, False, None
    op.start_time = None
    session.commit()
    runner.submit(op.id)
    session.refresh(op)
    return ser.operation(op, _containers(session, op))


@router.put("/rerun/{operation_id}")
def rerun_operation(operation_id: int, session: SessionDep, runner: RunnerDep) -> dict:
    """Run a finished operation again from scratch, as a new operation with the same payload."""
    op = get_or_404(session, Operation, operation_id, "Operation")
    if op.end_time is None:
        raise Conflict(f"operation {operation_id} has not finished yet")
    again = Operation(
        type=op.type,
        datastore_id=op.datastore_id,
        result="queued",
        params=dict(op.params),
        status={k: 0 for k in (op.status or {}) if isinstance(op.status[k], int)},
        triggered_by=f"rerun of operation {op.id}",
        schedule_id=op.schedule_id,
    )
    session.add(again)
    session.commit()
    runner.submit(again.id)
    session.refresh(again)
    return ser.operation(again, _containers(session, again))


@router.api_route("/{operation_id}/heartbeat", methods=["GET", "HEAD"])
def heartbeat(operation_id: int, session: SessionDep) -> dict:
    """``{id, result, heartbeat, alive}``: alive while running with a recent heartbeat."""
    op = get_or_404(session, Operation, operation_id, "Operation")
    return {
        "id": op.id,
        "result": op.result,
        "heartbeat": ser.iso(op.heartbeat),
        "worker": op.worker,
        "alive": op.result == "running" and not _lost(op),
    }


@router.delete("/{operation_id}", status_code=204)
def delete_operation(operation_id: int, session: SessionDep) -> Response:
    """Delete a finished operation's record (its anomalies stay). 409 while queued or running."""
    op = get_or_404(session, Operation, operation_id, "Operation")
    if op.end_time is None:
        raise Conflict(f"operation {operation_id} is {op.result}; abort it before deleting it")
    session.delete(op)
    return Response(status_code=204)
