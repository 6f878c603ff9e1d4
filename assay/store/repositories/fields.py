"""Fields of containers: lookups, listing, their profiles over time and their versions."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ...domain import OperationResult
from ...errors import NotFound
from ..models import Container, ContainerProfile, Field, FieldProfile, FieldVersion
from ..repo import get_or_404


def get(session: Session, field_id: int) -> Field:
    """Field ``field_id``. Raises NotFound ("Field <id> not found")."""
    return get_or_404(session, Field, field_id, "Field")


def listing(*, name: str | None = None, container_id: int | None = None) -> Select:
    """Fields of live containers by container and column order; ``name`` matches part of the
    name (case-insensitive), ``container_id`` narrows to one container."""
    stmt = (
        select(Field)
        .join(Container, Container.id == Field.container_id)
        .where(Container.deleted_at.is_(None))
        .order_by(Field.container_id, Field.ordinal, Field.id)
    )
    if name:
        stmt = stmt.where(Field.name.ilike(f"%{name}%"))
    if container_id is not None:
        stmt = stmt.where(Field.container_id == container_id)
    return stmt


def profiles(session: Session, field: Field, limit: int | None = None) -> list[FieldProfile]:
    """The field's profiles from successful container profiles, newest first (at most ``limit``)."""
    stmt = (
        select(FieldProfile)
        .join(ContainerProfile, ContainerProfile.id == FieldProfile.container_profile_id)
        .where(
            FieldProfile.container_id == field.container_id,
            FieldProfile.field_name == field.name,
            ContainerProfile.result == OperationResult.SUCCESS,
        )
        .order_by(FieldProfile.id.desc())
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))


def profile_of(session: Session, container_profile_id: int, field_name: str) -> FieldProfile:
    """The profile of field ``field_name`` in container profile ``container_profile_id``.

    Raises: NotFound when the container profile does not exist or did not profile that field.
    """
    get_or_404(session, ContainerProfile, container_profile_id, "Container profile")
    row = session.scalar(
        select(FieldProfile).where(
            FieldProfile.container_profile_id == container_profile_id, FieldProfile.field_name == field_name
        )
    )
    if row is None:
        raise NotFound(f"Container profile {container_profile_id} has no profile of field '{field_name}'")
    return row


def versions(session: Session, field_id: int) -> list[FieldVersion]:
    """The changes made to field ``field_id`` through the API, oldest first."""
    return list(
        session.scalars(select(FieldVersion).where(FieldVersion.field_id == field_id).order_by(FieldVersion.id))
    )


def add_version(session: Session, field_id: int, user_id: int | None, changeset: dict) -> None:
    session.add(FieldVersion(field_id=field_id, user_id=user_id, changeset=changeset))
