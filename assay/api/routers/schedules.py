"""/operations/schedule: operation payloads run on a 5-field crontab (UTC)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Response
from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy import select

from ...engine.rules import RuleDefinitionError
from ...operations.scheduler import CrontabError, next_fire, validate_crontab
from ...store.models import Datastore, Schedule, utcnow
from ...store.repo import get_or_404, paginate
from .. import serializers as ser
from ..deps import PageDep, SessionDep, page_of
from ..schemas import OperationRequest
from .operations import normalise_operation

router = APIRouter(prefix="/operations/schedule", tags=["operations"])
_payload = TypeAdapter(OperationRequest)


def schedule_json(s: Schedule) -> dict:
    return {
        "id": s.id,
        "created": ser.iso(s.created),
        "name": s.name,
        "type": s.type,
        "crontab": s.crontab,
        "next_trigger": ser.iso(s.next_trigger),
        "last_triggered": ser.iso(s.last_triggered),
        "deactivated": s.deactivated,
        "trigger_type": "operation",
        "datastore": ser.datastore_stub(s.datastore),
        "containers": [{"name": n} for n in s.params.get("container_names") or []],
        **{k: v for k, v in s.params.items() if k not in ("type", "name")},
    }


def _parse(session, body: dict[str, Any]) -> tuple[str | None, str, str, dict, Datastore]:
    """(name, crontab, type, normalised params, datastore) of a schedule body. 422/404 as for run."""
    if not isinstance(body, dict):
        raise RuleDefinitionError((), "the body must be a JSON object")
    body = dict(body)
    try:
        crontab = validate_crontab(body.pop("crontab", ""))
    except CrontabError as e:
        raise RuleDefinitionError(("crontab",), str(e)) from None
    name = body.get("name")
    try:
        request = _payload.validate_python(body)
    except ValidationError as e:
        err = e.errors()[0]
        # list indexes stay integers, as in the 422s of POST /operations/run
        raise RuleDefinitionError(tuple(p if isinstance(p, int) else str(p) for p in err["loc"]), err["msg"]) from None
    ds = get_or_404(session, Datastore, request.datastore_id, "Datastore")
    op_type, params, _status = normalise_operation(session, request, ds)
    return name, crontab, op_type, params, ds


@router.post("")
def create_schedule(session: SessionDep, body: Any = Body(...)) -> dict:
    """Schedule any operation payload: the body is that payload plus ``name`` and ``crontab``."""
    name, crontab, op_type, params, ds = _parse(session, body)
    schedule = Schedule(
        name=name,
        type=op_type,
        crontab=crontab,
        datastore_id=ds.id,
        params=params,
        next_trigger=next_fire(crontab, utcnow()),
    )
    session.add(schedule)
    session.flush()
    return schedule_json(schedule)


@router.get("")
def list_schedules(session: SessionDep, page: PageDep, datastore: int | None = None) -> dict:
    stmt = select(Schedule).order_by(Schedule.id)
    if datastore is not None:
        stmt = stmt.where(Schedule.datastore_id == datastore)
    rows, total, pages = paginate(session, stmt, page.page, page.size)
    return page_of([schedule_json(s) for s in rows], total, page, pages)


@router.get("/{schedule_id}")
def get_schedule(schedule_id: int, session: SessionDep) -> dict:
    return schedule_json(get_or_404(session, Schedule, schedule_id, "Schedule"))


@router.put("/{schedule_id}")
def update_schedule(schedule_id: int, session: SessionDep, body: Any = Body(...)) -> dict:
    """Replace the schedule's payload and crontab (validated as on create)."""
    schedule = get_or_404(session, Schedule, schedule_id, "Schedule")
    name, crontab, op_type, params, ds = _parse(session, body)
    schedule.name, schedule.crontab, schedule.type, schedule.params, schedule.datastore_id = (
        name,
        crontab,
        op_type,
        params,
        ds.id,
    )
    schedule.next_trigger = next_fire(crontab, utcnow())
    session.flush()
    session.refresh(schedule)
    return schedule_json(schedule)


class Deactivation(BaseModel):
    deactivated: bool


@router.patch("/{schedule_id}/deactivation")
def deactivate(schedule_id: int, session: SessionDep, body: Deactivation | None = Body(None)) -> dict:
    """Pause (``deactivated: true``, or no body) or resume (``deactivated: false``) a schedule;
    resuming fires from now on only."""
    schedule = get_or_404(session, Schedule, schedule_id, "Schedule")
    deactivated = True if body is None else body.deactivated
    schedule.deactivated = deactivated
    # a paused schedule has no next trigger; resuming fires from now on only
    schedule.next_trigger = None if deactivated else next_fire(schedule.crontab, utcnow())
    return schedule_json(schedule)


@router.delete("/{schedule_id}", status_code=204)
def delete_schedule(schedule_id: int, session: SessionDep) -> Response:
    session.delete(get_or_404(session, Schedule, schedule_id, "Schedule"))
    return Response(status_code=204)
