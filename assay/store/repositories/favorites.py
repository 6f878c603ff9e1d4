"""Favourites: one user's stars on datastores, containers and quality checks (``Favorite``)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..models import Favorite, Starred, favorites_of_caller


def set_favorite(session: Session, obj: Starred, favorite: bool) -> None:
    """Star (``favorite`` true) or unstar ``obj`` for the session's user (``info["user_id"]``)
    only: the object itself is not changed (no audit entry, no activity). Idempotent.
    Raises ValueError in a session without a user."""
    user_id = session.info.get("user_id")
    if user_id is None:
        raise ValueError("a favourite belongs to a user: this session has none")
    key = (obj.__tablename__, obj.id)
    where = (Favorite.user_id == user_id, Favorite.object_type == key[0], Favorite.object_id == key[1])
    present = session.scalar(select(Favorite.user_id).where(*where)) is not None
    if favorite and not present:
        session.add(Favorite(user_id=user_id, object_type=key[0], object_id=key[1]))
    elif not favorite and present:
        session.execute(delete(Favorite).where(*where))
    session.flush()
    mine = favorites_of_caller(session)
    if favorite:
        mine.add(key)
    else:
        mine.discard(key)
