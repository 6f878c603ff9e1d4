"""Team scoping of every query a request runs: a user sees only what their teams hold.

A request's session carries ``session.info["scope"]``, a :class:`Scope` (none for Admins and
for background work). While it is there, every ORM SELECT, UPDATE and DELETE the session runs
(listings, lookups by id, relationship loads, searches, exports) gets a criterion that keeps
only rows of the datastores in ``scope.datastore_ids``; so another team's datastore, container,
check, anomaly, operation, schedule, partition or profile is simply not found (404), never
"forbidden" (403, which would confirm it exists).

Managers see every datastore's own row (the user guide: "list datastores, content
team-scoped") and every connection, but none of a datastore's content outside their teams;
Members see a connection only through a datastore their teams hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import event, or_, select
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from ..models import (
    Anomaly,
    Comment,
    ComputedField,
    Connection,
    Container,
    ContainerProfile,
    ContainerScan,
    Datastore,
    Field,
    FieldProfile,
    Operation,
    Partition,
    QualityCheck,
    Schedule,
    Team,
    User,
    team_datastore,
    team_member,
)

#: Team permissions, weakest first: each includes the ones before it.
PERMISSIONS = ("Reporter", "Viewer", "Drafter", "Author", "Editor")

#: Platform roles, weakest first: each includes the ones before it.
ROLES = ("Member", "Manager", "Admin")


def permission_rank(permission: str | None) -> int:
    """0 for no permission, 1 (Reporter) … 5 (Editor)."""
    return PERMISSIONS.index(permission) + 1 if permission in PERMISSIONS else 0


def role_rank(role: str | None) -> int:
    """0 for an unknown role, 1 (Member) … 3 (Admin)."""
    return ROLES.index(role) + 1 if role in ROLES else 0


@dataclass(frozen=True)
class Scope:
    """What a non-Admin user may see: their permission per datastore id (the highest of
    their teams'), and whether every datastore's own row is visible (Managers)."""

    permissions: dict[int, str] = field(default_factory=dict)
    all_datastore_rows: bool = False

    @property
    def datastore_ids(self) -> list[int]:
        return sorted(self.permissions)


def permissions_of(session: Session, user: User) -> dict[int, str]:
    """``{datastore_id: permission}`` through the user's teams (the public team counts every
    user as a member); the highest permission wins when several teams hold a datastore."""
    member_of = select(team_member.c.team_id).where(team_member.c.user_id == user.id)
    rows = session.execute(
        select(team_datastore.c.datastore_id, Team.permission)
        .join(Team, Team.id == team_datastore.c.team_id)
        .where(Team.is_public.is_(True) | Team.id.in_(member_of))
    ).all()
    best: dict[int, str] = {}
    for datastore_id, permission in rows:
        if permission_rank(permission) > permission_rank(best.get(datastore_id)):
            best[datastore_id] = permission
    return best


def scope_of(session: Session, user: User) -> Scope | None:
    """The :class:`Scope` of ``user``; None for an Admin (sees everything)."""
    if user.role == "Admin":
        return None
    return Scope(permissions_of(session, user), all_datastore_rows=role_rank(user.role) >= role_rank("Manager"))


def _criteria(scope: Scope) -> list:
    ids = scope.datastore_ids
    options = [
        with_loader_criteria(Container, lambda cls: cls.datastore_id.in_(ids), include_aliases=True),
        with_loader_criteria(Anomaly, lambda cls: cls.datastore_id.in_(ids), include_aliases=True),
        with_loader_criteria(Operation, lambda cls: cls.datastore_id.in_(ids), include_aliases=True),
        with_loader_criteria(Schedule, lambda cls: cls.datastore_id.in_(ids), include_aliases=True),
    ]
    for model in (QualityCheck, Field, ContainerScan, Partition, ComputedField, ContainerProfile, FieldProfile):
        options.append(
            with_loader_criteria(
                model,
                lambda cls: cls.container_id.in_(select(Container.id).where(Container.datastore_id.in_(ids))),
                include_aliases=True,
            )
        )
    options.append(
        with_loader_criteria(
            Comment,
            lambda cls: or_(
                cls.anomaly_id.in_(select(Anomaly.id).where(Anomaly.datastore_id.in_(ids))),
                cls.partition_id.in_(
                    select(Partition.id).where(
                        Partition.container_id.in_(select(Container.id).where(Container.datastore_id.in_(ids)))
                    )
                ),
            ),
            include_aliases=True,
        )
    )
    if not scope.all_datastore_rows:
        options.append(with_loader_criteria(Datastore, lambda cls: cls.id.in_(ids), include_aliases=True))
        # a connection names its datastore and host: seen only through a datastore in scope
        options.append(
            with_loader_criteria(
                Connection,
                lambda cls: cls.id.in_(select(Datastore.connection_id).where(Datastore.id.in_(ids))),
                include_aliases=True,
            )
        )
    return options


def _scope_statement(state: ORMExecuteState) -> None:
    scope = state.session.info.get("scope")
    if scope is None or not (state.is_select or state.is_update or state.is_delete):
        return
    state.statement = state.statement.options(*_criteria(scope))


def install(session_factory) -> None:
    """Scope every session of ``session_factory`` that carries ``info["scope"]``."""
    event.listen(session_factory, "do_orm_execute", _scope_statement)
