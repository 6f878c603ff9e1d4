"""Operations and their container scans: lookups, the filtered listing, state changes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import CursorResult, Select, select, update
from sqlalchemy.orm import Session

from ...domain import OperationResult
from ..models import Container, ContainerScan, Operation
from ..repo import get_or_404, paginate, with_any_json_value


def get(session: Session, operation_id: int) -> Operation:
    """Operation ``operation_id``. Raises NotFound ("Operation <id> not found")."""
    return get_or_404(session, Operation, operation_id, "Operation")


def reload(session: Session, operation_id: int) -> Operation:
    """Operation ``operation_id`` read again from the store (after a conditional UPDATE)."""
    session.expire_all()
    return get(session, operation_id)


def containers_of(session: Session, op: Operation) -> list[Container]:
    """The containers an operation worked on (``op.container_ids``), by name."""
    if not op.container_ids:
        return []
    return list(session.scalars(select(Container).where(Container.id.in_(op.container_ids)).order_by(Container.name)))


def add(session: Session, **values: Any) -> Operation:
    """Insert a new operation with ``values`` (model columns) and flush it (its id is set)."""
    op = Operation(**values)
    session.add(op)
    session.flush()
    return op


def listing(
    *,
    datastore: Sequence[int] | None = None,
    operation_types: Sequence[str] | None = None,
    results: Sequence[str] | None = None,
    finished: bool | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    ascending: bool = False,
    containers: Sequence[int] | None = None,
    session: Session | None = None,
) -> Select:
    """The query of the operations listing: every filter given narrows it; ``start`` is
    inclusive and ``end`` exclusive (on ``created``); ``containers``: operations that work on
    any of them (needs ``session``); ordered by id."""
    stmt = select(Operation)
    if datastore:
        stmt = stmt.where(Operation.datastore_id.in_(datastore))
    if operation_types:
        stmt = stmt.where(Operation.type.in_(operation_types))
    if results:
        stmt = stmt.where(Operation.result.in_(results))
    if finished is not None:
        stmt = stmt.where(Operation.end_time.is_not(None) if finished else Operation.end_time.is_(None))
    if start is not None:
        stmt = stmt.where(Operation.created >= start)
    if end is not None:
        stmt = stmt.where(Operation.created < end)
    if containers and session is not None:
        stmt = with_any_json_value(session, stmt, Operation, Operation.container_ids, containers)
    return stmt.order_by(Operation.id.asc() if ascending else Operation.id.desc())


def page(session: Session, stmt: Select, page: int, size: int) -> tuple[Sequence[Operation], int, int]:
    """(operations, total, pages) of 1-based ``page`` of ``stmt``."""
    return paginate(session, stmt, page, size)


def end_if_queued(session: Session, operation_id: int, result: str, message: str, now: dt.datetime) -> bool:
    """End the operation with ``result`` if it is still queued (one conditional UPDATE, so a
    worker claiming it at the same moment either wins or loses entirely). True if it ended."""
    done = cast(
        CursorResult[Any],
        session.execute(
            update(Operation)
            .where(Operation.id == operation_id, Operation.result == OperationResult.QUEUED)
            .values(result=result, end_time=now, message=message)
        ),
    )
    return bool(done.rowcount)


def end_if_running(
    session: Session, operation_id: int, result: str, message: str, now: dt.datetime, scan_message: str
) -> bool:
    """End a running operation with ``result`` and ``message`` and flag ``abort_requested`` so
    its worker stops; its running container scans end with ``result`` and ``scan_message``.
    True if it was running."""
    done = cast(
        CursorResult[Any],
        session.execute(
            update(Operation)
            .where(Operation.id == operation_id, Operation.result == OperationResult.RUNNING)
            .values(result=result, end_time=now, message=message, abort_requested=True)
        ),
    )
    if not done.rowcount:
        return False
    session.execute(
        update(ContainerScan)
        .where(ContainerScan.operation_id == operation_id, ContainerScan.result == OperationResult.RUNNING)
        .values(result=result, end_time=now, message=scan_message)
    )
    return True


def latest(
    session: Session, datastore_id: int, types: Sequence[str] | None = None, finished: bool = False
) -> Operation | None:
    """The newest operation of datastore ``datastore_id`` (of one of ``types`` when given; only
    finished ones when ``finished``), or None."""
    stmt = select(Operation).where(Operation.datastore_id == datastore_id)
    if types:
        stmt = stmt.where(Operation.type.in_(types))
    if finished:
        stmt = stmt.where(Operation.end_time.is_not(None))
    return session.scalars(stmt.order_by(Operation.id.desc()).limit(1)).first()
