"""Quality checks and check templates: lookups, listings, counts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from ...domain import OPEN_ANOMALY_STATUSES
from ..models import Anomaly, Container, FailedCheck, QualityCheck, QualityCheckTemplate
from ..repo import get_or_404


def get(session: Session, check_id: int) -> QualityCheck:
    """Check ``check_id``. Raises NotFound ("Quality check <id> not found")."""
    return get_or_404(session, QualityCheck, check_id, "Quality check")


def listing(
    *,
    datastore: int | None = None,
    containers: Sequence[int] | None = None,
    status: str | None = None,
    archived: str | None = None,
    rule_types: Sequence[str] | None = None,
    owner_id: int | None = None,
    template_locked: bool | None = None,
    inferred: bool | None = None,
    sort_created: str | None = None,
) -> Select:
    """Checks by id (by creation time, then id, with ``sort_created`` ``asc``/``desc``).
    ``status`` ``Archived`` or ``archived`` ``only``: archived checks only; ``archived``
    ``include``: both; else live ones; another ``status`` narrows to it. ``owner_id``: the
    checks that user owns; ``template_locked``: the checks of locked (true) or unlocked
    (false) templates; ``inferred``: the checks a profile inferred (true) or users authored
    (false)."""
    order: tuple[Any, ...] = (QualityCheck.id,)
    if sort_created == "desc":
        order = (QualityCheck.created.desc(), QualityCheck.id.desc())
    elif sort_created == "asc":
        order = (QualityCheck.created.asc(), QualityCheck.id.asc())
    stmt = select(QualityCheck).join(Container, Container.id == QualityCheck.container_id).order_by(*order)
    if inferred is not None:
        stmt = stmt.where(QualityCheck.inferred.is_(inferred))
    if datastore is not None:
        stmt = stmt.where(Container.datastore_id == datastore)
    if containers:
        stmt = stmt.where(QualityCheck.container_id.in_(containers))
    if status == "Archived" or archived == "only":
        stmt = stmt.where(QualityCheck.deleted_at.is_not(None))
    elif archived != "include":
        stmt = stmt.where(QualityCheck.deleted_at.is_(None))
    if status and status != "Archived":
        stmt = stmt.where(QualityCheck.status == status)
    if rule_types:
        stmt = stmt.where(QualityCheck.rule_type.in_(rule_types))
    if owner_id is not None:
        stmt = stmt.where(QualityCheck.owner_id == owner_id)
    if template_locked is not None:
        locked = select(QualityCheckTemplate.id).where(QualityCheckTemplate.template_locked.is_(template_locked))
        stmt = stmt.where(QualityCheck.template_id.in_(locked))
    return stmt


def templates(rule_types: Sequence[str] | None = None, template_locked: bool | None = None) -> Select:
    """Check templates by id; narrowed to ``rule_types`` and to locked / unlocked ones when given."""
    stmt = select(QualityCheckTemplate).order_by(QualityCheckTemplate.id)
    if rule_types:
        stmt = stmt.where(QualityCheckTemplate.rule_type.in_(rule_types))
    if template_locked is not None:
        stmt = stmt.where(QualityCheckTemplate.template_locked.is_(template_locked))
    return stmt


def get_template(session: Session, template_id: int) -> QualityCheckTemplate:
    """Template ``template_id``. Raises NotFound ("Quality check template <id> not found")."""
    return get_or_404(session, QualityCheckTemplate, template_id, "Quality check template")


def of_template(session: Session, template_id: int) -> list[QualityCheck]:
    """The checks made from template ``template_id`` (archived ones too), by id."""
    return list(
        session.scalars(select(QualityCheck).where(QualityCheck.template_id == template_id).order_by(QualityCheck.id))
    )


def template_check_counts(session: Session, template_ids: Sequence[int]) -> dict[int, int]:
    """Template id → number of checks (not archived) made from it."""
    if not template_ids:
        return {}
    rows = session.execute(
        select(QualityCheck.template_id, func.count())
        .where(QualityCheck.template_id.in_(template_ids), QualityCheck.deleted_at.is_(None))
        .group_by(QualityCheck.template_id)
    ).all()
    return {row[0]: row[1] for row in rows if row[0] is not None}


def counts_by_rule_type(session: Session) -> dict[str, int]:
    """Non-archived checks per rule type."""
    rows = session.execute(
        select(QualityCheck.rule_type, func.count())
        .where(QualityCheck.deleted_at.is_(None))
        .group_by(QualityCheck.rule_type)
    ).all()
    return {row[0]: row[1] for row in rows}


def anomaly_counts(session: Session, check_ids: Sequence[int]) -> dict[int | None, int]:
    """Check id → number of open anomalies (``Active`` or ``Acknowledged``) the check took part
    in, for ``check_ids``: what ``GET /anomalies?quality_check={id}`` lists by default. A re-scan
    finding the same rows again adds a ``Duplicate`` (archived) row, so it changes nothing here."""
    if not check_ids:
        return {}
    rows = session.execute(
        select(FailedCheck.quality_check_id, func.count(func.distinct(FailedCheck.anomaly_id)))
        .join(Anomaly, Anomaly.id == FailedCheck.anomaly_id)
        .where(FailedCheck.quality_check_id.in_(check_ids), Anomaly.status.in_(OPEN_ANOMALY_STATUSES))
        .group_by(FailedCheck.quality_check_id)
    ).all()
    return {row[0]: row[1] for row in rows}


def anomalies_of(session: Session, check_id: int) -> list[Anomaly]:
    """The anomalies check ``check_id`` took part in."""
    ids = select(FailedCheck.anomaly_id).where(FailedCheck.quality_check_id == check_id)
    return list(session.scalars(select(Anomaly).where(Anomaly.id.in_(ids))))


def add(session: Session, row: QualityCheck | QualityCheckTemplate) -> None:
    session.add(row)
    session.flush()


def live_ids_on_container(session: Session, container_id: int, check_ids: Sequence[int]) -> set[int]:
    """Which of ``check_ids`` are live (not archived) checks of container ``container_id``."""
    return set(
        session.scalars(
            select(QualityCheck.id).where(
                QualityCheck.container_id == container_id,
                QualityCheck.deleted_at.is_(None),
                QualityCheck.id.in_(list(check_ids)),
            )
        )
    )


def active_on_fields(session: Session, container_id: int, field_names: Sequence[str]) -> list[QualityCheck]:
    """The container's non-archived checks that assert any of ``field_names``, by id."""
    names = set(field_names)
    if not names:
        return []
    rows = session.scalars(
        select(QualityCheck)
        .where(QualityCheck.container_id == container_id, QualityCheck.deleted_at.is_(None))
        .order_by(QualityCheck.id)
    ).all()
    return [q for q in rows if names & set(q.fields or [])]
