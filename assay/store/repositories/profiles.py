"""Container profiles and field profiles (what profile operations measured), across containers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

from ...domain import OperationResult
from ..models import Container, ContainerProfile, Field, FieldProfile
from ..repo import get_or_404, with_any_json_value

Sort = Literal["asc", "desc"]


def _latest_ids() -> Select:
    """Ids of each container's latest successful container profile."""
    return (
        select(func.max(ContainerProfile.id))
        .where(ContainerProfile.result == OperationResult.SUCCESS)
        .group_by(ContainerProfile.container_id)
    )


def get_container_profile(session: Session, profile_id: int) -> ContainerProfile:
    """Container profile ``profile_id``. Raises NotFound ("Container profile <id> not found")."""
    return get_or_404(session, ContainerProfile, profile_id, "Container profile")


def container_profiles(
    *,
    datastore: int | None = None,
    container: int | None = None,
    latest_only: bool = False,
    sort_created: Sort | None = None,
) -> Select:
    """Container profiles of live containers, newest first (``sort_created="asc"``: oldest
    first). ``latest_only``: only each container's latest successful profile."""
    stmt = select(ContainerProfile).join(Container, Container.id == ContainerProfile.container_id)
    stmt = stmt.where(Container.deleted_at.is_(None))
    if datastore is not None:
        stmt = stmt.where(Container.datastore_id == datastore)
    if container is not None:
        stmt = stmt.where(ContainerProfile.container_id == container)
    if latest_only:
        stmt = stmt.where(ContainerProfile.id.in_(_latest_ids()))
    return stmt.order_by(ContainerProfile.id.asc() if sort_created == "asc" else ContainerProfile.id.desc())


def get_field_profile(session: Session, profile_id: int) -> FieldProfile:
    """Field profile ``profile_id``. Raises NotFound ("Field profile <id> not found")."""
    return get_or_404(session, FieldProfile, profile_id, "Field profile")


def field_profiles(
    session: Session,
    *,
    ids: Sequence[int] | None = None,
    name: str | None = None,
    types: Sequence[str] | None = None,
    datastores: Sequence[int] | None = None,
    containers: Sequence[int] | None = None,
    tags: Sequence[str] | None = None,
    latest_only: bool = False,
    sort: Sequence[tuple[str, Sort]] = (),
) -> Select:
    """Field profiles of live containers from successful container profiles.

    ``name`` matches part of the field name (case-insensitive); ``types`` are field types
    (Integral, Fractional, String…) of the container's current schema; ``tags``: the field
    has any of them; ``latest_only``: only from each container's latest successful profile.
    ``sort``: ``(key, direction)`` pairs with key ``name``, ``created`` or ``type``, applied
    in order; then newest first.
    """
    stmt = (
        select(FieldProfile)
        .join(ContainerProfile, ContainerProfile.id == FieldProfile.container_profile_id)
        .join(Container, Container.id == FieldProfile.container_id)
        .outerjoin(Field, and_(Field.container_id == FieldProfile.container_id, Field.name == FieldProfile.field_name))
        .where(Container.deleted_at.is_(None), ContainerProfile.result == OperationResult.SUCCESS)
    )
    if ids:
        stmt = stmt.where(FieldProfile.id.in_(list(ids)))
    if name:
        stmt = stmt.where(FieldProfile.field_name.ilike(f"%{name}%"))
    if types:
        stmt = stmt.where(Field.type.in_(list(types)))
    if datastores:
        stmt = stmt.where(Container.datastore_id.in_(list(datastores)))
    if containers:
        stmt = stmt.where(FieldProfile.container_id.in_(list(containers)))
    if latest_only:
        stmt = stmt.where(FieldProfile.container_profile_id.in_(_latest_ids()))
    if tags:
        tagged = with_any_json_value(session, select(Field), Field, Field.tags, tags)
        stmt = stmt.where(Field.id.in_(tagged.with_only_columns(Field.id).order_by(None)))
    columns = {"name": FieldProfile.field_name, "created": FieldProfile.id, "type": Field.type}
    order = [columns[key].asc() if direction == "asc" else columns[key].desc() for key, direction in sort]
    return stmt.order_by(*order, FieldProfile.id.desc())
