"""Schedules and their fires: lookups, listing, due schedules."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ..models import Schedule, ScheduleFire
from ..repo import get_or_404


def get(session: Session, schedule_id: int) -> Schedule:
    """Schedule ``schedule_id``. Raises NotFound ("Schedule <id> not found")."""
    return get_or_404(session, Schedule, schedule_id, "Schedule")


def listing(*, datastore: int | None = None) -> Select:
    stmt = select(Schedule).order_by(Schedule.id)
    if datastore is not None:
        stmt = stmt.where(Schedule.datastore_id == datastore)
    return stmt


def add(session: Session, schedule: Schedule) -> Schedule:
    session.add(schedule)
    session.flush()
    return schedule


def due(session: Session, now: dt.datetime) -> list[int]:
    """Ids of the active schedules whose next trigger has come."""
    return list(
        session.scalars(select(Schedule.id).where(Schedule.deactivated.is_(False), Schedule.next_trigger <= now))
    )


def record_fire(session: Session, schedule: Schedule, fire_time: dt.datetime, operation_id: int) -> None:
    """Claim (schedule, fire time) for ``operation_id``; flushes, so a fire another scheduler
    already claimed raises IntegrityError (the unique key decides who queues it)."""
    session.add(ScheduleFire(schedule_id=schedule.id, fire_time=fire_time, operation_id=operation_id))
    session.flush()
