"""Shared connections: lookups, listing, name checks."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ..models import Connection
from ..repo import get_or_404


def get(session: Session, connection_id: int) -> Connection:
    """Connection ``connection_id``. Raises NotFound."""
    return get_or_404(session, Connection, connection_id, "Connection")


def listing(*, name: str | None = None, type_: str | None = None, types: Sequence[str] | None = None) -> Select:
    """Connections by id; ``name`` exact, ``type_`` one type, ``types`` any of those types."""
    stmt = select(Connection).order_by(Connection.id)
    if name:
        stmt = stmt.where(Connection.name == name)
    if type_:
        stmt = stmt.where(Connection.type == type_)
    if types is not None:
        stmt = stmt.where(Connection.type.in_(list(types)))
    return stmt


def name_taken(session: Session, name: str) -> bool:
    return session.scalar(select(Connection.id).where(Connection.name == name)) is not None


def add(session: Session, connection: Connection) -> Connection:
    session.add(connection)
    session.flush()
    return connection


def free_name(session: Session, wanted: str) -> str:
    """``wanted`` when no connection has that name, else ``wanted (2)``, ``wanted (3)`` …
    (at most 255 characters): the name of a connection a datastore creates for itself."""
    base = wanted[:240]
    name, n = base, 1
    while name_taken(session, name):
        n += 1
        name = f"{base} ({n})"
    return name
