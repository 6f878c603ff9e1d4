"""/operations/schedule: operation payloads run on a 5-field crontab (UTC)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Response
from pydantic import BaseModel, TypeAdapter, ValidationError

from ...errors import ValidationError as InvalidInput
from ...operations import service
from ...operations.scheduler import CrontabError, next_fire, validate_crontab
from ...store.models import Datastore, Schedule, utcnow
from ...store.repo import paginate
from ...store.repositories import datastores as datastore_repo
from ...store.repositories import schedules as repo
from .. import responses as r
from .. import serializers as ser
from ..deps import PageDep, SessionDep, page_of
from ..routing import Route
from ..schemas import OperationRequest

router = APIRouter(prefix="/operations/schedule", tags=["operations"], route_class=Route)
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
        raise InvalidInput((), "the body must be a JSON object")
    body = dict(body)
    try:
        crontab = validate_crontab(body.pop("crontab", ""))
    except CrontabError as e:
        raise InvalidInput(("crontab",), str(e)) from None
    name = body.get("name")
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise InvalidInput(("name",), "a schedule's name must be a non-empty string")
    try:
        request = _payload.validate_python(body)
    except ValidationError as e:
        err = e.errors()[0]
        # list indexes stay integers, as in the 422s of POST /operations/run
        raise InvalidInput(tuple(p if isinstance(p, int) else str(p) for p in err["loc"]), err["msg"]) from None
    ds = datastore_repo.get(session, request.datastore_id)
    op_type, params = service.validate(session, request, ds)
    return name, crontab, op_type, params, ds


@router.post("", response_model=r.Schedule)
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
    return schedule_json(repo.add(session, schedule))


@router.get("", response_model=r.SchedulePage)
def list_schedules(session: SessionDep, page: PageDep, datastore: int | None = None) -> dict:
    rows, total, pages = paginate(session, repo.listing(datastore=datastore), page.page, page.size)
    return page_of([schedule_json(s) for s in rows], total, page, pages)


@router.get("/{schedule_id}", response_model=r.Schedule)
def get_schedule(schedule_id: int, session: SessionDep) -> dict:
    return schedule_json(repo.get(session, schedule_id))


@router.put("/{schedule_id}", response_model=r.Schedule)
def update_schedule(schedule_id: int, session: SessionDep, body: Any = Body(...)) -> dict:
    """Replace the schedule's payload and crontab (validated as on create)."""
    schedule = repo.get(session, schedule_id)
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


@router.patch("/{schedule_id}/deactivation", response_model=r.Schedule)
def deactivate(schedule_id: int, session: SessionDep, body: Deactivation | None = Body(None)) -> dict:
    """Pause (``deactivated: true``, or no body) or resume (``deactivated: false``) a schedule;
    resuming fires from now on only."""
    schedule = repo.get(session, schedule_id)
    deactivated = True if body is None else body.deactivated
    schedule.deactivated = deactivated
    # a paused schedule has no next trigger; resuming fires from now on only
    schedule.next_trigger = None if deactivated else next_fire(schedule.crontab, utcnow())
    return schedule_json(schedule)


@router.delete("/{schedule_id}", status_code=204)
def delete_schedule(schedule_id: int, session: SessionDep) -> Response:
    session.delete(repo.get(session, schedule_id))
    return Response(status_code=204)
