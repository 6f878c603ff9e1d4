"""The operations service: the one place an operation is created or changes state on request.

Used by the operations and schedules routers, the datastores router (the sync queued on
creation) and the scheduler. Each function takes the request's (or tick's) SQLAlchemy
session; functions that hand an operation to the workers take ``submit`` (the runner's
``submit``) and commit first, so a worker thread always finds the row it is given.

Errors: ``assay.errors.NotFound`` (404), ``Conflict`` (409), ``ValidationError`` (422
naming the field).

**Abort** never waits for a worker. It ends the operation in the store at once —
``result: aborted`` with its end time, its running container scans ``aborted`` — and sets
``abort_requested``; the worker running it sees the flag within about a second, cancels
its query and stops. Until that worker has stopped (it clears the flag), the operation
cannot be claimed again: a **resume** sent meanwhile queues it, and it starts as soon as
the old worker lets go (or that worker's heartbeat is older than the heartbeat timeout).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from ..api.schemas import (
    ExportOperation,
    MaterializeOperation,
    OperationRequest,
    ProfileOperation,
    PromoteQualityCheckOperation,
    ScanOperation,
    SyncOperation,
)
from ..domain import OperationResult
from ..errors import Conflict, ValidationError
from ..store.models import Container, Datastore, Operation, Schedule, utcnow
from ..store.repo import get_or_404
from ..store.repositories import checks as check_repo
from ..store.repositories import containers as container_repo
from ..store.repositories import operations as repo
from .runner import heartbeat_timeout
from .sync import nothing_to_sync_message

Submit = Callable[[int], None]

#: Counters a queued operation starts with, per type (the jobs fill them in).
SCAN_STATUS_KEYS = (
    "total_containers",
    "containers_analyzed",
    "partitions_scanned",
    "records_processed",
    "anomalies_identified",
    "auto_resolved_anomaly_count",
)
MATERIALIZE_STATUS_KEYS = ("total_containers", "containers_analyzed", "records_processed")
PROMOTE_STATUS_KEYS = ("total_checks", "checks_created", "checks_updated", "checks_skipped", "checks_warned")
PROFILE_STATUS_KEYS = (
    "total_containers",
    "containers_analyzed",
    "partitions_analyzed",
    "records_processed",
    "fields_profiled",
    "checks_synchronized",
    "checks_added",
    "checks_updated",
)


def initial_status(op_type: str) -> dict[str, int]:
    """The ``status`` counters of a newly queued operation of ``op_type``, all 0."""
    if op_type in ("scan", "external_scan"):
        return dict.fromkeys(SCAN_STATUS_KEYS, 0)
    if op_type == "profile":
        return dict.fromkeys(PROFILE_STATUS_KEYS, 0)
    if op_type == "export":
        return {"total_containers": 0}
    if op_type == "materialize":
        return dict.fromkeys(MATERIALIZE_STATUS_KEYS, 0)
    if op_type == "promote":
        return dict.fromkeys(PROMOTE_STATUS_KEYS, 0)
    return {"total_containers": 0, "containers_analyzed": 0, "records_processed": 0}


# -- validation ---------------------------------------------------------------------------
def _scan_params(body: ScanOperation, ds: Datastore) -> dict[str, Any]:
    params = body.model_dump(mode="json")
    if params["enrichment_source_record_limit"] is None:
        params["enrichment_source_record_limit"] = ds.enrichment_source_record_limit
    if params["high_count_rollup_threshold"] is None:
        params["high_count_rollup_threshold"] = ds.high_count_rollup_threshold
    if params["remediation"] is None:
        params["remediation"] = ds.enrichment_remediation_strategy
    if params["remediation"] != "none" and ds.enrichment_datastore_id is None:
        raise ValidationError(
            ("remediation",),
            f"remediation '{params['remediation']}' needs an enrichment datastore linked to datastore {ds.id}; "
            "link one with PATCH /api/datastores/{id}/enrichment/{enrichment_id} or use 'none'",
        )
    params["container_names"] = params.get("container_names") or []
    return params


def _check_container_names(session: Session, ds: Datastore, names: list[str]) -> None:
    """Raise ValidationError on ``container_names`` listing every requested name that is
    not a live container of ``ds`` (a scan or profile never silently skips a named container)."""
    if not names:
        return
    known = container_repo.live_names(session, ds.id, names)
    missing = [n for n in dict.fromkeys(names) if n not in known]
    if missing:
        raise ValidationError(
            ("container_names",), f"no container named {', '.join(map(repr, missing))} in datastore {ds.id}"
        )


def validate(session: Session, body: OperationRequest, ds: Datastore) -> tuple[str, dict[str, Any]]:
    """(type, stored params) of a validated operation payload on ``ds``.

    A sync of an enrichment-only datastore is accepted and completes with nothing to sync
    (``operations/sync.py``), as ``qualytics config import`` syncs every datastore it imports.
    Raises ValidationError (→ 422) for any other operation on an enrichment-only datastore, remediation without
    enrichment, an export or materialize without enrichment, or unknown container names. ``container_names``
    of a scan or profile is checked here, at submission: if any requested name is not a live
    container of the datastore the whole request is a 422 on ``container_names`` whose message
    lists the missing names, and nothing is queued (rather than running the others and
    reporting the rest afterwards). A scheduled operation is checked when the schedule is
    created or replaced.
    """
    if ds.enrichment_only and not isinstance(body, SyncOperation):
        raise ValidationError(
            ("datastore_id",), f"datastore {ds.id} is enrichment-only; a {body.type} operation cannot run on it"
        )
    if isinstance(body, ScanOperation):
        params = _scan_params(body, ds)
        _check_container_names(session, ds, params["container_names"])
        return "scan", params
    if isinstance(body, ExportOperation):
        if ds.enrichment_datastore_id is None:
            raise ValidationError(
                ("datastore_id",), f"datastore {ds.id} has no enrichment datastore linked; an export writes there"
            )
        return "export", body.model_dump(mode="json")
    if isinstance(body, PromoteQualityCheckOperation):
        source = container_repo.find(session, body.container_id)
        if source is None or source.deleted_at is not None or source.datastore_id != ds.id:
            raise ValidationError(("container_id",), f"no container {body.container_id} in datastore {ds.id}")
        destination = container_repo.find(session, body.destination_container_id)
        if destination is None or destination.deleted_at is not None:
            raise ValidationError(
                ("destination_container_id",), f"container {body.destination_container_id} does not exist"
            )
        if destination.id == source.id:
            raise ValidationError(("destination_container_id",), "the destination is the source container")
        if body.check_ids:
            found = check_repo.live_ids_on_container(session, source.id, body.check_ids)
            missing = [i for i in dict.fromkeys(body.check_ids) if i not in found]
            if missing:
                raise ValidationError(
                    ("check_ids",),
                    f"no quality check {', '.join(map(str, missing))} on source container {source.id}",
                )
        params = body.model_dump(mode="json")
        params["promote_type"] = "quality_check"
        return "promote", params
    if isinstance(body, MaterializeOperation):
        if ds.enrichment_datastore_id is None:
            raise ValidationError(
                ("datastore_id",),
                f"datastore {ds.id} has no enrichment datastore linked; a materialize operation writes there",
            )
        params = body.model_dump(mode="json")
        params["container_names"] = params.get("container_names") or []
        _check_container_names(session, ds, params["container_names"])
        return "materialize", params
    if isinstance(body, ProfileOperation):
        params = body.model_dump(mode="json")
        params["container_names"] = params.get("container_names") or []
        _check_container_names(session, ds, params["container_names"])
        return "profile", params
    return "sync", body.model_dump(mode="json")


# -- queueing -----------------------------------------------------------------------------
def _queue(session: Session, submit: Submit, **values: Any) -> Operation:
    op = repo.add(session, result=OperationResult.QUEUED, **values)
    session.commit()  # before submit: the worker thread reads the row in its own session
    submit(op.id)
    session.refresh(op)
    return op


def queue(
    session: Session,
    body: OperationRequest,
    submit: Submit,
    triggered_by: str = "api",
    container_ids: list[int] | None = None,
) -> Operation:
    """Validate ``body`` (see ``validate``), store it as a queued operation and hand it to the
    workers. ``container_ids``: the containers it will work on, known before it runs (the
    operations listing's ``container`` filter finds it while queued). Raises NotFound for an
    unknown datastore, ValidationError for a bad payload."""
    ds = get_or_404(session, Datastore, body.datastore_id, "Datastore")
    op_type, params = validate(session, body, ds)
    if op_type == "sync" and ds.enrichment_only:
        return _nothing_to_sync(session, ds, params, triggered_by)
    return _queue(
        session,
        submit,
        type=op_type,
        datastore_id=ds.id,
        params=params,
        status=initial_status(op_type),
        triggered_by=triggered_by,
        container_ids=container_ids or [],
    )


def _nothing_to_sync(session: Session, ds: Datastore, params: dict[str, Any], triggered_by: str) -> Operation:
    """A sync of enrichment-only ``ds``, stored finished (success, nothing found): no worker
    needs to open it, and a client polling it (``qualytics config import``) sees the end at once."""
    from ..flows.outbox import record_operation_finished

    now = utcnow()
    op = repo.add(
        session,
        type="sync",
        datastore_id=ds.id,
        params=params,
        result=OperationResult.SUCCESS,
        status=initial_status("sync"),
        message=nothing_to_sync_message(ds),
        start_time=now,
        end_time=now,
        triggered_by=triggered_by,
        container_ids=[],
    )
    record_operation_finished(session, op.id, OperationResult.SUCCESS)
    session.commit()
    session.refresh(op)
    return op


def queue_external_scan(
    session: Session, container: Container, name: str, records: str | list, submit: Submit, triggered_by: str = "api"
) -> Operation:
    """Queue an external scan of ``container`` over ``records`` (operations/external_scan.py):
    a scan of that one container with the datastore's rollup and source-record settings, no
    remediation, no auto-resolve. Raises ValidationError (422) for an enrichment-only
    datastore or bad records."""
    from .external_scan import parse_records

    ds = container.datastore
    if ds.enrichment_only:
        raise ValidationError(("datastore_id",), f"datastore {ds.id} is enrichment-only; nothing to scan there")
    rows = parse_records(records, [f.name for f in container.fields])
    params = _scan_params(
        ScanOperation(
            type="scan",
            datastore_id=ds.id,
            name=name,
            container_names=[container.name],
            remediation="none",
            auto_resolve_passed_anomalies=False,
        ),
        ds,
    )
    params.update(container_id=container.id, records=rows)
    return _queue(
        session,
        submit,
        type="external_scan",
        datastore_id=ds.id,
        params=params,
        status=initial_status("external_scan"),
        container_ids=[container.id],
        triggered_by=triggered_by,
    )


def queue_initial_sync(session: Session, ds: Datastore, submit: Submit) -> Operation:
    """Queue the sync of a datastore just created (``trigger_sync``)."""
    body = SyncOperation(type="sync", datastore_id=ds.id)
    return _queue(
        session,
        submit,
        type="sync",
        datastore_id=ds.id,
        params=body.model_dump(mode="json"),
        status={},
        triggered_by="datastore creation",
    )


def queue_scheduled(session: Session, schedule: Schedule) -> Operation:
    """Store (not submit, not commit) the operation a schedule fires: its stored payload,
    validated when the schedule was saved. The scheduler commits, then submits."""
    return repo.add(
        session,
        type=schedule.type,
        datastore_id=schedule.datastore_id,
        result=OperationResult.QUEUED,
        params=dict(schedule.params),
        status={},
        schedule_id=schedule.id,
        triggered_by=f"schedule {schedule.id}",
    )


# -- control ------------------------------------------------------------------------------
def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def is_lost(op: Operation, now: dt.datetime | None = None) -> bool:
    """True when the operation's worker has sent no heartbeat for ASSAY_HEARTBEAT_TIMEOUT seconds."""
    if op.heartbeat is None:
        return True
    return ((now or utcnow()) - _aware(op.heartbeat)).total_seconds() > heartbeat_timeout()


def is_alive(op: Operation) -> bool:
    """Running with a recent heartbeat."""
    return op.result == OperationResult.RUNNING and not is_lost(op)


def _operation_finished(session: Session, operation_id: int, result: str) -> None:
    """Flows hook (issue 18): an operation ended here is an "operation finished" event,
    recorded in the transaction that ends it."""
    from ..flows.outbox import record_operation_finished

    record_operation_finished(session, operation_id, result)


def abort(session: Session, operation_id: int) -> Operation:
    """Stop an operation, without waiting for its worker (see the module docstring).

    A queued one ends at once as aborted ("aborted before it started"); a running one ends
    as aborted ("aborted by request", or "…its worker … had stopped responding" when its
    heartbeat is stale) and its worker stops within about a second, its query cancelled
    where the driver allows. A finished one is returned unchanged. Raises NotFound.
    """
    repo.get(session, operation_id)
    now = utcnow()
    if repo.end_if_queued(session, operation_id, OperationResult.ABORTED, "aborted before it started", now):
        _operation_finished(session, operation_id, OperationResult.ABORTED)
    session.commit()
    op = repo.reload(session, operation_id)
    if op.result == OperationResult.RUNNING:
        message = "aborted by request"
        if is_lost(op, now):
            message = f"aborted by request; its worker {op.worker or '?'} had stopped responding"
        if repo.end_if_running(session, operation_id, OperationResult.ABORTED, message, now, "aborted by request"):
            _operation_finished(session, operation_id, OperationResult.ABORTED)
        session.commit()
        op = repo.reload(session, operation_id)
    return op


def resume(session: Session, operation_id: int, submit: Submit) -> Operation:
    """Queue an aborted or failed operation again; a scan then skips the containers it already
    scanned successfully. Raises NotFound; Conflict for a queued, running or successful one."""
    op = repo.get(session, operation_id)
    if op.result not in (OperationResult.ABORTED, OperationResult.FAILURE):
        raise Conflict(f"operation {operation_id} is {op.result}; only aborted or failed operations resume")
    # ``abort_requested`` and ``worker`` stay: a worker still stopping holds the operation
    # until it has stopped, and only then may a worker claim it again (runner.claim).
    op.result, op.end_time, op.message, op.start_time = OperationResult.QUEUED, None, None, None
    session.commit()
    submit(op.id)
    session.refresh(op)
    return op


def rerun(session: Session, operation_id: int, submit: Submit) -> Operation:
    """Run a finished operation again from scratch, as a new operation with the same payload.
    Raises NotFound; Conflict while it has not finished."""
    op = repo.get(session, operation_id)
    if op.end_time is None:
        raise Conflict(f"operation {operation_id} has not finished yet")
    return _queue(
        session,
        submit,
        type=op.type,
        datastore_id=op.datastore_id,
        params=dict(op.params),
        status={k: 0 for k in (op.status or {}) if isinstance(op.status[k], int)},
        triggered_by=f"rerun of operation {op.id}",
        schedule_id=op.schedule_id,
    )


def delete(session: Session, operation_id: int) -> None:
    """Delete a finished operation's record (its anomalies stay). Raises NotFound; Conflict
    while it is queued or running."""
    op = repo.get(session, operation_id)
    if op.end_time is None:
        raise Conflict(f"operation {operation_id} is {op.result}; abort it before deleting it")
    session.delete(op)
