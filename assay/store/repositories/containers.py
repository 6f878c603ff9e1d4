"""Containers and their fields: lookups, listings."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Container


def live_names(session: Session, datastore_id: int, names: Iterable[str]) -> set[str]:
    """Which of ``names`` are live (not archived) containers of the datastore."""
    return set(
        session.scalars(
            select(Container.name).where(
                Container.datastore_id == datastore_id, Container.deleted_at.is_(None), Container.name.in_(list(names))
            )
        )
    )
