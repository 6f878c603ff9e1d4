"""Global tags: lookups by name, listing."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ...errors import NotFound
from ..models import Anomaly, Container, Datastore, Field, GlobalTag, QualityCheck, QualityCheckTemplate


def _tagged_models() -> tuple[type, ...]:
    """Every model whose ``tags`` (a JSON list of tag names) may name a global tag."""
    from ...flows.models import Flow

    return (Datastore, Container, Field, QualityCheck, QualityCheckTemplate, Anomaly, Flow)


#: What a tag's ``count`` counts: the objects carrying it.
COUNTED = (Datastore, Container, Field, QualityCheck, Anomaly)


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


def usage_counts(session: Session) -> Counter[str]:
    """Tag name → number of datastores, containers, fields, quality checks and anomalies
    carrying it (tags are JSON lists: counted in Python, portable across metadata stores)."""
    counts: Counter[str] = Counter()
    for model in COUNTED:
        for tags in session.scalars(select(model.tags)):
            counts.update(set(tags or []))
    return counts


def rename(session: Session, tag: GlobalTag, new_name: str) -> None:
    """Rename ``tag`` and every reference to it (the ``tags`` lists of datastores,
    containers, fields, checks, templates, anomalies and flow filters), in the caller's
    transaction. The caller checks that ``new_name`` is free."""
    old = tag.name
    for model in _tagged_models():
        row: Any
        for row in session.scalars(select(model)):
            if old in (row.tags or []):
                row.tags = list(dict.fromkeys(new_name if t == old else t for t in row.tags))
    tag.name = new_name
    session.flush()
