"""/containers: list, listing, detail, fields."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from ...store.models import Container, Datastore
from ...store.repo import get_or_404, paginate
from .. import serializers as ser
from ..deps import PageDep, SessionDep, page_of

router = APIRouter(prefix="/containers", tags=["containers"])


@router.get("")
def list_containers(
    session: SessionDep,
    page: PageDep,
    datastore: Annotated[list[int] | None, Query()] = None,
    container_type: Annotated[list[str] | None, Query()] = None,
    name: str | None = None,
    search: str | None = None,
    archived: str | None = None,
) -> dict:
    """Containers, paged; filters ``datastore`` (repeatable), ``container_type``, ``name``,
    ``search``, ``archived`` (``only`` / ``include``; default: live containers only)."""
    stmt = select(Container).order_by(Container.id)
    if datastore:
        stmt = stmt.where(Container.datastore_id.in_(datastore))
    if container_type:
        stmt = stmt.where(Container.container_type.in_(container_type))
    if name:
        stmt = stmt.where(Container.name == name)
    if search:
        stmt = stmt.where(Container.name.ilike(f"%{search}%"))
    if archived == "only":
        stmt = stmt.where(Container.deleted_at.is_not(None))
    elif archived != "include":
        stmt = stmt.where(Container.deleted_at.is_(None))
    rows, total, pages = paginate(session, stmt, page.page, page.size)
    return page_of([ser.container(c) for c in rows], total, page, pages)


@router.get("/listing")
def listing(session: SessionDep, datastore: Annotated[list[int] | None, Query()] = None) -> list[dict]:
    """A bare list of ``{id, name, container_type}`` of live containers (what the CLI resolves names with)."""
    stmt = select(Container).where(Container.deleted_at.is_(None)).order_by(Container.name)
    if datastore:
        for ds_id in datastore:
            get_or_404(session, Datastore, ds_id, "Datastore")
        stmt = stmt.where(Container.datastore_id.in_(datastore))
    return [{"id": c.id, "name": c.name, "container_type": c.container_type} for c in session.scalars(stmt)]


@router.get("/{container_id}")
def get_container(container_id: int, session: SessionDep) -> dict:
    return ser.container(get_or_404(session, Container, container_id, "Container"))


@router.get("/{container_id}/fields")
def list_fields(container_id: int, session: SessionDep, page: PageDep) -> dict:
    """The container's fields in column order, paged."""
    container = get_or_404(session, Container, container_id, "Container")
    fields = container.fields
    start = (page.page - 1) * page.size
    pages = max(1, -(-len(fields) // page.size))
    return page_of([ser.field(f) for f in fields[start : start + page.size]], len(fields), page, pages)
