"""Audit columns, kept by the session itself so no router or service has to remember them.

In a session whose ``info["user_id"]`` is set (a request's session):

* a new datastore gets ``created_by_id``; a new quality check ``created_by_id`` and
  ``last_editor_id``; an edited check ``last_editor_id`` (at flush);
* an anomaly whose ``status`` is changed gets ``last_editor_id`` and an
  ``AnomalyStatusChange`` row (previous status, new status, user, time) at once.

Background work (scans, schedules) runs in sessions without a user: a scan that resolves an
anomaly records a status change with user None.
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session, object_session

from .models import Anomaly, AnomalyStatusChange, Datastore, QualityCheck, User


def _before_flush(session: Session, _context, _instances) -> None:
    user_id = session.info.get("user_id")
    if user_id is None:
        return
    for obj in list(session.new):
        if isinstance(obj, Datastore) and obj.created_by_id is None:
            obj.created_by_id = user_id
        elif isinstance(obj, QualityCheck):
            obj.created_by_id = obj.created_by_id or user_id
            obj.last_editor_id = user_id
    for obj in list(session.dirty):
        if isinstance(obj, QualityCheck) and session.is_modified(obj):
            obj.last_editor_id = user_id


def _status_set(anomaly: Anomaly, value, previous, _initiator) -> None:
    session = object_session(anomaly)
    if session is None or anomaly.id is None or not isinstance(previous, str) or previous == value:
        return  # a new anomaly, or no change
    user_id = session.info.get("user_id")
    change = AnomalyStatusChange(previous=previous, status=value, user_id=user_id)
    if user_id is not None:
        anomaly.last_editor_id = user_id
        change.user = session.get(User, user_id)
    anomaly.status_changes.append(change)


def install(session_factory) -> None:
    """Keep the audit columns in every session of ``session_factory``."""
    event.listen(session_factory, "before_flush", _before_flush)
    if not event.contains(Anomaly.status, "set", _status_set):
        event.listen(Anomaly.status, "set", _status_set)
