"""Small helpers shared by jobs: finishing an operation, updating its counters."""

from __future__ import annotations

from typing import Any

from ..store.db import Database
from ..store.models import Operation, utcnow


class Aborted(Exception):
    """Raised inside a job when its operation was asked to stop."""


def update_status(db: Database, op_id: int, **counters: Any) -> None:
    """Merge ``counters`` into the operation's ``status`` object and commit (visible at once)."""
    with db.session() as s:
        op = s.get_one(Operation, op_id)
        op.status = {**(op.status or {}), **counters}
        op.heartbeat = utcnow()


def finish(db: Database, op_id: int, result: str, message: str | None = None) -> None:
    """Set the operation's end time, result (success|failure|aborted) and message."""
    with db.session() as s:
        op = s.get_one(Operation, op_id)
        op.result = result
        op.message = message
        op.end_time = utcnow()
