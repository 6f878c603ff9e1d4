"""Datastores: lookups, the filtered listing, name checks."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ..models import Datastore
from ..repo import get_or_404


def get(session: Session, datastore_id: int, what: str = "Datastore") -> Datastore:
    """Datastore ``datastore_id``. Raises NotFound ("<what> <id> not found")."""
    return get_or_404(session, Datastore, datastore_id, what)


def listing(
    *,
    name: str | None = None,
    enrichment_only: bool | None = None,
    search: str | None = None,
    types: Sequence[str] | None = None,
    sort: str | None = None,
) -> Select:
    """Datastores; ``name`` and ``search`` each a case-insensitive substring of the name (as
    Qualytics' ``name`` filter), ``types`` the engine types (``duckdb``, ``postgresql`` …); ordered by ``sort`` (``id``,
    ``name``, ``created``; a leading ``-`` for descending; default ``id``), then by id."""
    key = (sort or "id").lstrip("-")
    column = {"id": Datastore.id, "name": Datastore.name, "created": Datastore.created}[key]
    order = column.desc() if (sort or "").startswith("-") else column.asc()
    stmt = select(Datastore).order_by(order, Datastore.id)
    if name:
        stmt = stmt.where(Datastore.name.icontains(name, autoescape=True))
    if enrichment_only is not None:
        stmt = stmt.where(Datastore.enrichment_only.is_(enrichment_only))
    if search:
        stmt = stmt.where(Datastore.name.ilike(f"%{search}%"))
    if types:
        stmt = stmt.where(Datastore.type.in_(types))
    return stmt


def name_taken(session: Session, name: str, *, other_than: int | None = None) -> bool:
    """Whether a datastore (other than ``other_than``) is named ``name`` (read without flushing
    the session's pending changes)."""
    stmt = select(Datastore.id).where(Datastore.name == name)
    if other_than is not None:
        stmt = stmt.where(Datastore.id != other_than)
    with session.no_autoflush:
        return session.scalar(stmt) is not None


def add(session: Session, datastore: Datastore) -> Datastore:
    """Insert ``datastore`` and flush (its id is set)."""
    session.add(datastore)
    session.flush()
    return datastore


def delete(session: Session, datastore: Datastore) -> None:
    """Delete a datastore (containers, checks and anomalies go with it); datastores that
    used it as their enrichment datastore lose the link."""
    for other in session.scalars(select(Datastore).where(Datastore.enrichment_datastore_id == datastore.id)):
        other.enrichment_datastore_id = None
    session.delete(datastore)


def names_using_connection(session: Session, connection_id: int) -> list[str]:
    """Names of the datastores that use shared connection ``connection_id``."""
    return list(session.scalars(select(Datastore.name).where(Datastore.connection_id == connection_id)))


def using_connection(session: Session, connection_id: int) -> list[Datastore]:
    """The datastores that use shared connection ``connection_id``, by id."""
    return list(
        session.scalars(select(Datastore).where(Datastore.connection_id == connection_id).order_by(Datastore.id))
    )


def linked_to(session: Session, enrichment_id: int) -> list[Datastore]:
    """The source datastores whose enrichment datastore is ``enrichment_id``, by id."""
    return list(
        session.scalars(
            select(Datastore).where(Datastore.enrichment_datastore_id == enrichment_id).order_by(Datastore.id)
        )
    )
