"""Containers, their fields, profiles, partitions and computed fields: lookups and listings."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.orm import Session

from ...domain import OperationResult
from ..models import ComputedField, Container, ContainerProfile, Partition
from ..repo import get_or_404


def get(session: Session, container_id: int) -> Container:
    """Container ``container_id``. Raises NotFound ("Container <id> not found")."""
    return get_or_404(session, Container, container_id, "Container")


def find(session: Session, container_id: Any) -> Container | None:
    """Container ``container_id``, or None when there is none."""
    return session.get(Container, container_id)


def live_names(session: Session, datastore_id: int, names: Iterable[str]) -> set[str]:
    """Which of ``names`` are live (not archived) containers of the datastore."""
    return set(
        session.scalars(
            select(Container.name).where(
                Container.datastore_id == datastore_id, Container.deleted_at.is_(None), Container.name.in_(list(names))
            )
        )
    )


def listing(
    *,
    datastores: Sequence[int] | None = None,
    container_types: Sequence[str] | None = None,
    name: str | None = None,
    search: str | None = None,
    archived: str | None = None,
) -> Select:
    """Containers by id; ``archived``: ``only`` / ``include`` (default: live ones only)."""
    stmt = select(Container).order_by(Container.id)
    if datastores:
        stmt = stmt.where(Container.datastore_id.in_(datastores))
    if container_types:
        stmt = stmt.where(Container.container_type.in_(container_types))
    if name:  # as Qualytics' filter: a case-insensitive substring of the name
        stmt = stmt.where(Container.name.icontains(name, autoescape=True))
    if search:
        stmt = stmt.where(Container.name.ilike(f"%{search}%"))
    if archived == "only":
        stmt = stmt.where(Container.deleted_at.is_not(None))
    elif archived != "include":
        stmt = stmt.where(Container.deleted_at.is_(None))
    return stmt


def live(session: Session, datastores: Sequence[int] | None = None) -> list[Container]:
    """Live containers (of ``datastores`` when given), by name."""
    stmt = select(Container).where(Container.deleted_at.is_(None)).order_by(Container.name)
    if datastores:
        stmt = stmt.where(Container.datastore_id.in_(datastores))
    return list(session.scalars(stmt))


def live_computed(session: Session, datastore_id: int) -> list[Container]:
    """The live computed files and computed joins of datastore ``datastore_id``, by id."""
    return list(
        session.scalars(
            select(Container)
            .where(
                Container.datastore_id == datastore_id,
                Container.container_type.in_(("computed_file", "computed_join")),
                Container.deleted_at.is_(None),
            )
            .order_by(Container.id)
        )
    )


def name_taken(session: Session, datastore_id: int, name: str) -> bool:
    return (
        session.scalar(select(Container.id).where(Container.datastore_id == datastore_id, Container.name == name))
        is not None
    )


def add(session: Session, container: Container) -> Container:
    session.add(container)
    session.flush()
    session.refresh(container)
    return container


def latest_profile(session: Session, container_id: int) -> ContainerProfile | None:
    """The container's latest successful profile, or None."""
    return session.scalar(
        select(ContainerProfile)
        .where(ContainerProfile.container_id == container_id, ContainerProfile.result == OperationResult.SUCCESS)
        .order_by(ContainerProfile.id.desc())
    )


def drop_partitions(session: Session, container_id: int) -> None:
    """Forget the container's partitions (their scans keep the partition names)."""
    session.execute(delete(Partition).where(Partition.container_id == container_id))


def get_computed_field(session: Session, field_id: int) -> ComputedField:
    return get_or_404(session, ComputedField, field_id, "Computed field")


def add_computed_field(session: Session, field: ComputedField) -> ComputedField:
    session.add(field)
    return field


def computed_field_keys(session: Session, container_ids: Iterable[int]) -> set[tuple[int, str]]:
    """``(container_id, name)`` of every computed field of the given containers."""
    ids = set(container_ids)
    if not ids:
        return set()
    rows = session.execute(
        select(ComputedField.container_id, ComputedField.name).where(ComputedField.container_id.in_(ids))
    )
    return {(cid, name) for cid, name in rows}


def computed_fields(session: Session, container_id: int) -> list[ComputedField]:
    """The container's computed fields, by id."""
    return list(
        session.scalars(
            select(ComputedField).where(ComputedField.container_id == container_id).order_by(ComputedField.id)
        )
    )
