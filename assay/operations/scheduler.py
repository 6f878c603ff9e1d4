"""Schedules: a stored operation payload plus a 5-field crontab, always in UTC.

``Scheduler.tick()`` queues one operation for every active schedule whose
``next_trigger`` has come, then moves ``next_trigger`` to the first slot strictly after
now — so after downtime a missed schedule runs once, not once per missed slot. Each
(schedule, fire time) is claimed by inserting a ``schedule_fire`` row under a unique
key: when several servers tick at once, exactly one of them queues the operation.
The clock is injectable for tests.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable

from croniter import CroniterBadDateError, croniter
from sqlalchemy.exc import IntegrityError

from ..store.db import Database
from ..store.models import Schedule, utcnow
from ..store.repositories import schedules
from . import service

log = logging.getLogger(__name__)


class CrontabError(ValueError):
    """Not a standard 5-field crontab (message says why)."""


def validate_crontab(crontab: str) -> str:
    """Return the crontab normalised (single spaces). Raises CrontabError."""
    fields = str(crontab or "").split()
    if len(fields) != 5:
        raise CrontabError(f"'{crontab}' is not a 5-field crontab (minute hour day-of-month month day-of-week)")
    text = " ".join(fields)
    if not croniter.is_valid(text):
        raise CrontabError(f"'{crontab}' is not a valid crontab")
    try:
        croniter(text, utcnow()).get_next(dt.datetime)
    except CroniterBadDateError:
        raise CrontabError(f"'{crontab}' never fires (no such date)") from None
    return text


def next_fire(crontab: str, after: dt.datetime) -> dt.datetime:
    """The first fire time of ``crontab`` strictly after ``after`` (UTC, aware)."""
    if after.tzinfo is None:
        after = after.replace(tzinfo=dt.UTC)
    return croniter(crontab, after.astimezone(dt.UTC)).get_next(dt.datetime)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


class Scheduler:
    """Turns due schedules into queued operations (see the module docstring)."""

    def __init__(self, db: Database, submit: Callable[[int], None], clock: Callable[[], dt.datetime] = utcnow):
        self.db, self.submit, self.clock = db, submit, clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> list[int]:
        """Fire every due schedule once. Returns the ids of the operations it queued."""
        now = _aware(self.clock())
        queued = []
        with self.db.session() as s:
            due = schedules.due(s, now)
        for schedule_id in due:
            op_id = self._fire(schedule_id, now)
            if op_id is not None:
                queued.append(op_id)
                self.submit(op_id)
        return queued

    def _fire(self, schedule_id: int, now: dt.datetime) -> int | None:
        try:
            with self.db.session() as s:
                schedule = s.get(Schedule, schedule_id)
                if schedule is None or schedule.deactivated or schedule.next_trigger is None:
                    return None
                slot = _aware(schedule.next_trigger)
                if slot > now:
                    return None
                op = service.queue_scheduled(s, schedule)
                schedules.record_fire(s, schedule, slot, op.id)  # another scheduler may have won
                schedule.last_triggered = now
                schedule.next_trigger = next_fire(schedule.crontab, now)
                return op.id
        except IntegrityError:
            return None

    def start(self, interval: float = 5.0) -> None:
        """Tick every ``interval`` seconds on a daemon thread until ``stop()``."""

        def loop():
            while not self._stop.wait(interval):
                try:
                    self.tick()
                except Exception:  # noqa: BLE001 - a bad tick must not stop the scheduler
                    log.exception("scheduler tick failed")

        self._thread = threading.Thread(target=loop, name="assay-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)
