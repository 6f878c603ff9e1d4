"""/comments: comments on anomalies and partitions (Qualytics' ``/api/comments``).

A comment names exactly one of ``anomaly_id`` or ``partition_id``; its author is the user of
the request. Only the author may change or delete a comment.
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from ...errors import Conflict, ValidationError
from ...store.models import Anomaly, Partition
from ...store.repo import paginate
from ...store.repositories import comments as repo
from .. import responses as r
from .. import serializers as ser
from ..auth import CurrentUser
from ..deps import PageDep, SessionDep, page_of
from ..routing import Route

router = APIRouter(prefix="/comments", tags=["comments"], route_class=Route)


class CommentCreate(BaseModel):
    """POST /comments: ``message`` and the anomaly (``anomaly_id``) or partition (``partition_id``) it is about."""

    model_config = ConfigDict(extra="ignore")
    message: str = Field(min_length=1, max_length=10_000)
    anomaly_id: int | None = None
    partition_id: int | None = None


class CommentUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")
    message: str = Field(min_length=1, max_length=10_000)


@router.get("", response_model=r.CommentPage)
def get_comments(
    session: SessionDep, page: PageDep, anomaly_id: int | None = None, partition_id: int | None = None
) -> dict:
    """Comments, oldest first; ``anomaly_id`` / ``partition_id`` narrow them to one anomaly or partition."""
    rows, total, pages = paginate(
        session, repo.listing(anomaly_id=anomaly_id, partition_id=partition_id), page.page, page.size
    )
    return page_of([ser.comment(c) for c in rows], total, page, pages)


@router.post("", response_model=r.Comment)
def create_comment(body: CommentCreate, session: SessionDep, user: CurrentUser) -> dict:
    """Comment on an anomaly or a partition as the request's user. 422 naming ``anomaly_id``
    when neither or both targets are given, or when the target does not exist."""
    if (body.anomaly_id is None) == (body.partition_id is None):
        raise ValidationError(("anomaly_id",), "give exactly one of anomaly_id or partition_id")
    if body.anomaly_id is not None and session.get(Anomaly, body.anomaly_id) is None:
        raise ValidationError(("anomaly_id",), f"anomaly {body.anomaly_id} does not exist")
    if body.partition_id is not None and session.get(Partition, body.partition_id) is None:
        raise ValidationError(("partition_id",), f"partition {body.partition_id} does not exist")
    row = repo.add(
        session, message=body.message, user_id=user.id, anomaly_id=body.anomaly_id, partition_id=body.partition_id
    )
    session.refresh(row)
    return ser.comment(row)


@router.get("/{comment_id}", response_model=r.Comment)
def get_comment(comment_id: int, session: SessionDep) -> dict:
    return ser.comment(repo.get(session, comment_id))


def _own(session, comment_id: int, user, doing: str):
    row = repo.get(session, comment_id)
    if row.user_id != user.id:
        raise Conflict(f"cannot {doing} comment {comment_id}: only its author may")
    return row


@router.put("/{comment_id}", response_model=r.Comment)
def update_comment(comment_id: int, body: CommentUpdate, session: SessionDep, user: CurrentUser) -> dict:
    """Change the message of one's own comment (409 for another user's comment)."""
    row = _own(session, comment_id, user, "change")
    row.message = body.message
    session.flush()
    session.refresh(row)
    return ser.comment(row)


@router.delete("/{comment_id}", status_code=204)
def delete_comment(comment_id: int, session: SessionDep, user: CurrentUser) -> Response:
    """Delete one's own comment (409 for another user's comment)."""
    session.delete(_own(session, comment_id, user, "delete"))
    return Response(status_code=204)
