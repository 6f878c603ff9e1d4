"""Users, teams and API tokens: lookups and listings."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ...errors import NotFound
from ..models import Team, User, UserToken
from ..repo import get_or_404


def get_user(session: Session, user_id: int) -> User:
    return get_or_404(session, User, user_id, "User")


def users() -> Select:
    """Users that are not deleted, by id."""
    return select(User).where(User.deleted_at.is_(None)).order_by(User.id)


def get_team(session: Session, team_id: int) -> Team:
    return get_or_404(session, Team, team_id, "Team")


def teams() -> Select:
    return select(Team).order_by(Team.id)


def tokens_of(user_id: int) -> Select:
    """The tokens of user ``user_id``, by id."""
    return select(UserToken).where(UserToken.user_id == user_id).order_by(UserToken.id)


def own_token(session: Session, user_id: int, token_id: int) -> UserToken:
    """Token ``token_id`` of user ``user_id``. Raises NotFound for another user's token too
    (no one learns which ids exist)."""
    row = session.get(UserToken, token_id)
    if row is None or row.user_id != user_id:
        raise NotFound(f"User token {token_id} not found")
    return row


def existing_users(session: Session, user_ids: list[int], loc: tuple[str | int, ...]) -> list[User]:
    """The users ``user_ids`` (in that order), none of them deleted.

    Raises: ValidationError at ``loc`` (e.g. ``("owner_id",)``) naming the first unknown or
    deleted user id, so a check or an anomaly never points at a user that does not exist.
    """
    from ...errors import ValidationError

    found = {u.id: u for u in session.scalars(select(User).where(User.id.in_(user_ids), User.deleted_at.is_(None)))}
    for user_id in user_ids:
        if user_id not in found:
            raise ValidationError(loc, f"user {user_id} does not exist")
    return [found[i] for i in user_ids]
