"""Small helpers shared by jobs: finishing an operation, updating its counters."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..domain import OperationResult
from ..store.db import Database
from ..store.models import Operation, utcnow


class Aborted(Exception):
    """Raised inside a job when its operation was asked to stop."""


def update_status(db: Database, op_id: int, **counters: Any) -> None:
    """Merge ``counters`` into the operation's ``status`` object and commit (visible at once)."""
    with db.session() as s:
        op = s.get(Operation, op_id)
        if op is None:  # deleted while its worker was stopping
            return
        op.status = {**(op.status or {}), **counters}
        op.heartbeat = utcnow()


def finish(
    db: Database, op_id: int, result: str, message: str | None = None, started: dt.datetime | None = None
) -> None:
    """Record that the worker has stopped running the operation.

    A running operation gets its end time, ``result`` (success|failure|aborted) and
    ``message``. One that was already ended while its worker ran (aborted through the API,
    or ended by the reaper) or queued again meanwhile (resumed) keeps what it says; either
    way ``abort_requested`` is cleared, which lets a resumed operation be claimed again.
    A deleted operation, or one claimed again by another attempt since (its ``start_time``
    is not ``started``, when given), is left alone.
    """
    with db.session() as s:
        op = s.get(Operation, op_id)
        if op is None or (started is not None and op.start_time is not None and op.start_time != started):
            return
        if op.result == OperationResult.RUNNING:
            op.result = result
            op.message = message
            op.end_time = utcnow()
            # flows hook (issue 18): the "operation finished" event commits with the finish itself
            from ..flows.outbox import record_operation_finished

            record_operation_finished(s, op_id, result)
        op.abort_requested = False
