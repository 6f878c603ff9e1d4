"""Comments on anomalies and partitions: lookups, listing, writes."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ..models import Comment
from ..repo import get_or_404


def get(session: Session, comment_id: int) -> Comment:
    """Comment ``comment_id``. Raises NotFound ("Comment <id> not found")."""
    return get_or_404(session, Comment, comment_id, "Comment")


def listing(*, anomaly_id: int | None = None, partition_id: int | None = None) -> Select:
    """Comments, oldest first; narrowed to one anomaly or one partition when given."""
    stmt = select(Comment).order_by(Comment.id)
    if anomaly_id is not None:
        stmt = stmt.where(Comment.anomaly_id == anomaly_id)
    if partition_id is not None:
        stmt = stmt.where(Comment.partition_id == partition_id)
    return stmt


def of_partitions(session: Session, partition_ids: list[int]) -> dict[int, list[Comment]]:
    """{partition id: its comments, oldest first} for ``partition_ids``, in one query."""
    out: dict[int, list[Comment]] = {}
    if partition_ids:
        for c in session.scalars(select(Comment).where(Comment.partition_id.in_(partition_ids)).order_by(Comment.id)):
            out.setdefault(c.partition_id or 0, []).append(c)
    return out


def add(
    session: Session, *, message: str, user_id: int | None, anomaly_id: int | None, partition_id: int | None
) -> Comment:
    row = Comment(message=message, user_id=user_id, anomaly_id=anomaly_id, partition_id=partition_id)
    session.add(row)
    session.flush()
    return row
