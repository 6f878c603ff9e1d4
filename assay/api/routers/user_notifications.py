"""/user-notifications: the caller's in-app notifications, and acknowledging them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body
from sqlalchemy.orm import Session

from ...flows import repository as repo
from ...flows.models import UserNotification
from ...flows.schemas import (
    BulkUserNotificationAck,
    BulkUserNotificationIn,
    PageUserNotification,
    UserNotificationOut,
)
from ...flows.service import execution_out
from ...store.repo import paginate
from ..auth import CurrentUser
from ..deps import PageDep, SessionDep, page_of

router = APIRouter(prefix="/user-notifications", tags=["notifications"])


def _out(session: Session, un: UserNotification, secret_key: str = "") -> dict:
    """``GetUserNotification``; its ``action_execution`` is an ``ActionExecutionStub``
    (None for a test send)."""
    n = un.notification
    return {
        "created": un.created,
        "id": un.id,
        "acknowledged": bool(un.acknowledged),
        "notification": {
            "created": n.created,
            "id": n.id,
            "message": n.message,
            "target_uri": n.target_uri or "",
            "target_url": n.target_url or "",
            "action_execution": (
                {
                    "id": n.action_execution.id,
                    "action_id": n.action_execution.action_id,
                    "result": n.action_execution.result,
                    "created": n.action_execution.created,
                    "flow_execution": execution_out(
                        session, n.action_execution.flow_execution, secret_key, detail=False
                    ),
                }
                if n.action_execution is not None
                else None
            ),
        },
    }


@router.get("", response_model=PageUserNotification)
def list_user_notifications(
    session: SessionDep, user: CurrentUser, page: PageDep, include_acknowledged: bool = False
) -> dict:
    """The caller's notifications, newest first; acknowledged ones only with ``include_acknowledged``."""
    rows, total, pages = paginate(
        session, repo.user_notifications_query(user.id, include_acknowledged), page.page, page.size
    )
    return page_of([_out(session, r) for r in rows], total, page, pages)


@router.put("/acknowledge", response_model=BulkUserNotificationAck)
def acknowledge_many(
    session: SessionDep, user: CurrentUser, body: Annotated[list[BulkUserNotificationIn], Body()]
) -> dict:
    """Acknowledge several of the caller's notifications (``[{id}, …]``)."""
    ids = list(dict.fromkeys(b.id for b in body))
    return {"acknowledged_count": repo.acknowledge(session, user.id, ids), "requested_count": len(ids)}


@router.put("/acknowledge/{notification_id}", response_model=UserNotificationOut)
def acknowledge_one(session: SessionDep, user: CurrentUser, notification_id: int) -> dict:
    row = repo.user_notification(session, user.id, notification_id)
    row.acknowledged = True
    session.flush()
    return _out(session, row)


@router.get("/{notification_id}", response_model=UserNotificationOut)
def get_user_notification(session: SessionDep, user: CurrentUser, notification_id: int) -> dict:
    return _out(session, repo.user_notification(session, user.id, notification_id))
