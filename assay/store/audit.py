"""Audit columns, kept by the session itself so no router or service has to remember them.

Before each flush of a session whose ``info["user_id"]`` is set (a request's session):

* a new datastore gets ``created_by_id``; a new quality check ``created_by_id`` and
  ``last_editor_id``; an edited check ``last_editor_id``;
* an anomaly whose ``status`` changes gets ``last_editor_id`` and an ``AnomalyStatusChange``
  row (previous status, new status, user, time).

Background work (scans, schedules) runs in sessions without a user: a scan that resolves an
anomaly records a status change with ``user_id`` None.
"""

from __future__ import annotations

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from .models import Anomaly, AnomalyStatusChange, Datastore, QualityCheck


def _before_flush(session: Session, _context, _instances) -> None:
    user_id = session.info.get("user_id")
    for obj in list(session.new):
        if isinstance(obj, Datastore) and obj.created_by_id is None:
            obj.created_by_id = user_id
        elif isinstance(obj, QualityCheck):
            obj.created_by_id = obj.created_by_id or user_id
            obj.last_editor_id = user_id or obj.last_editor_id
    for obj in list(session.dirty):
        if isinstance(obj, QualityCheck) and user_id is not None and session.is_modified(obj):
            obj.last_editor_id = user_id
        elif isinstance(obj, Anomaly):
            history = inspect(obj).attrs.status.history
            if history.added and history.deleted and history.added[0] != history.deleted[0]:
                if user_id is not None:
                    obj.last_editor_id = user_id
                session.add(
                    AnomalyStatusChange(
                        anomaly_id=obj.id, previous=history.deleted[0], status=history.added[0], user_id=user_id
                    )
                )


def install(session_factory) -> None:
    """Keep the audit columns in every session of ``session_factory``."""
    event.listen(session_factory, "before_flush", _before_flush)
