"""Global tags: lookups by name, listing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ...errors import NotFound
from ..models import GlobalTag


def by_name(session: Session, name: str) -> GlobalTag:
    """Tag ``name``. Raises NotFound ("Global tag '<name>' not found")."""
    tag = session.scalar(select(GlobalTag).where(GlobalTag.name == name))
    if tag is None:
        raise NotFound(f"Global tag '{name}' not found")
    return tag


def listing(*, search: str | None = None) -> Select:
    stmt = select(GlobalTag).order_by(GlobalTag.name)
    if search:
        stmt = stmt.where(GlobalTag.name.ilike(f"%{search}%"))
    return stmt


def name_taken(session: Session, name: str) -> bool:
    return session.scalar(select(GlobalTag.id).where(GlobalTag.name == name)) is not None


def add(session: Session, **values: Any) -> GlobalTag:
    tag = GlobalTag(**values)
    session.add(tag)
    session.flush()
    return tag
