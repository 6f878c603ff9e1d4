"""The activity log: every insert, update and delete of the tracked tables that a user makes
through the API is recorded as an ``Activity`` row in the same transaction.

A session records activity only when ``session.info["actor"]`` holds the user (the API's
session dependency sets it; workers' sessions never do, so what operations change is not
logged). Installed once, for every SQLAlchemy session, by importing this module.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, insert
from sqlalchemy.orm import Session

from .models import (
    Activity,
    Anomaly,
    ComputedField,
    Connection,
    Container,
    Datastore,
    GlobalTag,
    QualityCheck,
    QualityCheckTemplate,
    Schedule,
    Team,
    User,
    UserToken,
    utcnow,
)

#: The models whose changes are logged (``object_type``: their table name).
TRACKED = (
    Datastore,
    Container,
    QualityCheck,
    QualityCheckTemplate,
    Anomaly,
    Schedule,
    GlobalTag,
    ComputedField,
    Connection,
    User,
    Team,
    UserToken,
)


def _entries(session: Session) -> list[dict[str, Any]]:
    now = utcnow()
    actor = session.info.get("actor")
    user_id = getattr(actor, "id", None)
    out = []
    for verb, objects in (("insert", session.new), ("update", session.dirty), ("delete", session.deleted)):
        for obj in objects:
            if not isinstance(obj, TRACKED):
                continue
            if verb == "update" and not session.is_modified(obj, include_collections=False):
                continue
            out.append(
                {
                    "issued_at": now,
                    "user_id": user_id,
                    "verb": verb,
                    "object_type": type(obj).__tablename__,
                    "object_id": getattr(obj, "id", None),
                }
            )
    return out


@event.listens_for(Session, "after_flush")
def _record(session: Session, _context: Any) -> None:
    if session.info.get("actor") is None:
        return
    rows = _entries(session)
    if rows:
        session.connection().execute(insert(Activity), rows)
