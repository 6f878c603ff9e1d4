"""Global tags: lookups by name, listing, and their creation on first use.

A tag is attached by name (a ``tags`` list of names on a datastore, container, field, quality
check, template or anomaly). As in Qualytics, the first use of a name creates its global tag:
``install`` makes every session of the store do that at flush, whatever the path (API, scans,
promotion, imports), so ``GET /api/global-tags`` lists every tag an object carries.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import Select, event, select
from sqlalchemy.orm import Session, attributes

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
    tag.name = new_name  # first: the objects re-tagged below then name an existing tag
    session.flush()
    for model in _tagged_models():
        row: Any
        for row in session.scalars(select(model)):
            if old in (row.tags or []):
                row.tags = list(dict.fromkeys(new_name if t == old else t for t in row.tags))
    session.flush()


def _using_models() -> tuple[type, ...]:
    """The models whose ``tags`` are tags in use: attaching an unknown name creates its global
    tag. (A flow's ``tags`` are a filter naming tags, not a use.)"""
    return (Datastore, Container, Field, QualityCheck, QualityCheckTemplate, Anomaly)


_NAME_MAX = 255  # GlobalTag.name's length


def _create_used_tags(session: Session, _context: Any, _instances: Any) -> None:
    """before_flush: a GlobalTag for every tag name that a new or re-tagged object carries and
    that no global tag has yet (in the database or pending in this session)."""
    models = _using_models()
    names: set[str] = set()
    for obj in list(session.new) + list(session.dirty):
        if not isinstance(obj, models):
            continue
        tagged: Any = obj
        if tagged.tags and (obj in session.new or attributes.get_history(obj, "tags").has_changes()):
            names.update(n for n in tagged.tags if isinstance(n, str) and n and len(n) <= _NAME_MAX)
    if not names:
        return
    names -= {o.name for o in session.identity_map.values() if isinstance(o, GlobalTag)}
    names -= {o.name for o in session.new if isinstance(o, GlobalTag)}
    if not names:
        return
    with session.no_autoflush:
        names -= set(session.scalars(select(GlobalTag.name).where(GlobalTag.name.in_(sorted(names)))))
    for name in sorted(names):
        session.add(GlobalTag(name=name))


def install(session_factory: Any) -> None:
    """Create global tags on first use in every session of ``session_factory``."""
    if not event.contains(session_factory, "before_flush", _create_used_tags):
        event.listen(session_factory, "before_flush", _create_used_tags)
