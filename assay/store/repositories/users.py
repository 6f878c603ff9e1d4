"""Users, teams and API tokens: lookups and listings."""

from __future__ import annotations

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from ...errors import NotFound, ValidationError
from ..models import Datastore, Team, User, UserToken, team_member
from ..repo import get_or_404


def get_user(session: Session, user_id: int) -> User:
    return get_or_404(session, User, user_id, "User")


def users(*, include_deactivated: bool = False, user_type: str | None = None) -> Select:
    """Users, by id: active ones only unless ``include_deactivated``; of ``user_type``
    ("Person" | "Service") when given."""
    stmt = select(User).order_by(User.id)
    if not include_deactivated:
        stmt = stmt.where(User.deleted_at.is_(None))
    if user_type:
        stmt = stmt.where(User.user_type == user_type)
    return stmt


def get_team(session: Session, team_id: int) -> Team:
    return get_or_404(session, Team, team_id, "Team")


def teams() -> Select:
    return select(Team).order_by(Team.id)


def tokens_of(user_id: int) -> Select:
    """The tokens of user ``user_id``, by id."""
    return select(UserToken).where(UserToken.user_id == user_id).order_by(UserToken.id)


#: The name prefix of the session tokens ``POST /api/auth/sign-in`` issues.
SESSION_TOKEN_PREFIX = "session-"


def revoke_sessions(session: Session, user_id: int) -> int:
    """Revoke every session token (a password sign-in's, see :data:`SESSION_TOKEN_PREFIX`)
    of user ``user_id``; personal and service API tokens stay. Returns how many."""
    rows = session.scalars(
        select(UserToken).where(
            UserToken.user_id == user_id,
            UserToken.name.startswith(SESSION_TOKEN_PREFIX, autoescape=True),
            UserToken.revoked.is_(False),
        )
    ).all()
    for row in rows:
        row.revoked = True
    return len(rows)


def revoke_tokens(session: Session, user_id: int) -> int:
    """Revoke every live token (session, personal and service) of user ``user_id``: done when the
    user is deactivated, so reactivating them revives none of the tokens that existed then (the
    rows stay, revoked, for the audit). Returns how many."""
    rows = session.scalars(select(UserToken).where(UserToken.user_id == user_id, UserToken.revoked.is_(False))).all()
    for row in rows:
        row.revoked = True
    return len(rows)


def own_token(session: Session, user_id: int, token_id: int) -> UserToken:
    """Token ``token_id`` of user ``user_id``. Raises NotFound for another user's token too
    (no one learns which ids exist)."""
    row = session.get(UserToken, token_id)
    if row is None or row.user_id != user_id:
        raise NotFound(f"User token {token_id} not found")
    return row


def user_by_email(session: Session, email: str) -> User | None:
    """The user of ``email`` (case-insensitive), deactivated or not; None when there is none."""
    return session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def email_taken(session: Session, email: str, *, other_than: int | None = None) -> bool:
    row = user_by_email(session, email)
    return row is not None and row.id != other_than


def first_admin(session: Session) -> User | None:
    """The Admin with the lowest id: the one a fresh install creates (and old tokens belong to)."""
    return session.scalar(select(User).where(User.role == "Admin").order_by(User.id))


def active_admins(session: Session) -> int:
    return (
        session.scalar(select(func.count()).select_from(User).where(User.role == "Admin", User.deleted_at.is_(None)))
        or 0
    )


def any_password(session: Session) -> bool:
    """Whether any user has a password (then the CLI's browser login asks for one)."""
    return session.scalar(select(User.id).where(User.password_hash.is_not(None)).limit(1)) is not None


def public_team(session: Session) -> Team | None:
    return session.scalar(select(Team).where(Team.is_public.is_(True)).order_by(Team.id))


def public_teams(session: Session) -> list[Team]:
    """The public team(s): what holds a datastore created without ``teams``."""
    return list(session.scalars(select(Team).where(Team.is_public.is_(True)).order_by(Team.id)))


def teams_of(session: Session, user: User) -> list[Team]:
    """The user's teams: the public team plus those they are a member of, by id."""
    member_of = select(team_member.c.team_id).where(team_member.c.user_id == user.id)
    return list(
        session.scalars(select(Team).where(Team.is_public.is_(True) | Team.id.in_(member_of)).order_by(Team.id))
    )


def teams_named(session: Session, names: list[str]) -> list[Team]:
    """The teams of ``names``. Raises ValidationError naming an unknown team."""
    found = {t.name: t for t in session.scalars(select(Team).where(Team.name.in_(names)))}
    for i, name in enumerate(names):
        if name not in found:
            raise ValidationError(("teams", i), f"there is no team named '{name}'")
    return [found[n] for n in dict.fromkeys(names)]


def private_teams(session: Session) -> list[Team]:
    """Every team but the public one(s), by id."""
    return list(session.scalars(select(Team).where(Team.is_public.is_(False)).order_by(Team.id)))


def team_name_taken(session: Session, name: str) -> bool:
    """Whether a team is named exactly ``name`` (case and spaces count)."""
    return session.scalar(select(Team.id).where(Team.name == name)) is not None


def datastore_ids(session: Session) -> list[int]:
    """The id of every datastore, ascending (what an Admin may act on)."""
    return list(session.scalars(select(Datastore.id).order_by(Datastore.id)))


def users_by_ids(session: Session, ids: list[int], loc: str) -> list[User]:
    found = {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))}
    for i, id_ in enumerate(ids):
        if id_ not in found:
            raise ValidationError((loc, i), f"there is no user {id_}")
    return [found[i] for i in dict.fromkeys(ids)]


def datastores_by_ids(session: Session, ids: list[int], loc: str) -> list[Datastore]:
    found = {d.id: d for d in session.scalars(select(Datastore).where(Datastore.id.in_(ids)))}
    for i, id_ in enumerate(ids):
        if id_ not in found:
            raise ValidationError((loc, i), f"there is no datastore {id_}")
    return [found[i] for i in dict.fromkeys(ids)]


def service_tokens() -> Select:
    """The tokens of service users, by id."""
    return select(UserToken).join(UserToken.user).where(User.user_type == "Service").order_by(UserToken.id)


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
