"""Repository helpers: lookups that raise ``NotFound``, paging, common queries."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from ..errors import Conflict, NotFound
from .models import Base

__all__ = ["Conflict", "NotFound", "ensure_idle", "get_or_404", "paginate"]

M = TypeVar("M", bound=Base)


def get_or_404(session: Session, model: type[M], id_: int, what: str | None = None) -> M:
    """Row ``id_`` of ``model``. Raises NotFound ("<What> <id> not found")."""
    row = session.get(model, id_)
    if row is None:
        raise NotFound(f"{what or model.__name__} {id_} not found")
    return row


def with_any_json_value(session: Session, stmt: Select, model: Any, column: Any, wanted: Sequence[Any]) -> Select:
    """``stmt`` narrowed to the rows of ``model`` whose JSON list ``column`` holds any of
    ``wanted`` (tags, container ids). The lists are read and compared in Python over the rows
    ``stmt`` already selects, so the filter is the same on every metadata database."""
    values = set(wanted)
    candidates = stmt.with_only_columns(model.id, column).order_by(None)
    ids = [row[0] for row in session.execute(candidates) if values & set(row[1] or [])]
    return stmt.where(model.id.in_(ids))


def paginate(session: Session, stmt: Select, page: int, size: int) -> tuple[Sequence[Any], int, int]:
    """Run ``stmt`` for 1-based ``page`` of ``size`` rows.

    Returns: (rows, total, pages).
    """
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = session.scalars(stmt.limit(size).offset((page - 1) * size)).all()
    return rows, total, max(1, math.ceil(total / size)) if size else 1


def ensure_idle(session: Session, datastore_id: int, doing: str) -> None:
    """Raise Conflict when an operation of the datastore is queued or running (``doing``
    says what was refused, e.g. "delete datastore 3")."""
    from .models import Operation

    busy = session.scalar(
        select(Operation.id)
        .where(Operation.datastore_id == datastore_id, Operation.result.in_(("queued", "running")))
        .order_by(Operation.id)
    )
    if busy is not None:
        raise Conflict(
            f"cannot {doing} while operation {busy} of its datastore is queued or running; "
            "wait for it or abort it (PUT /api/operations/abort/{id})"
        )
