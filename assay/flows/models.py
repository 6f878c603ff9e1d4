"""Metadata-store tables of flows (migration ``0013_flows``).

* ``flow`` and ``flow_action``: the definitions (Qualytics' ``Flow`` / ``ActionNotification`` /
  ``ActionOperation``). Secret action parameters (SMTP password, webhook URLs, routing keys,
  signing secret) live Fernet-encrypted in ``flow_action.secrets``, never in ``parameters``.
* ``flow_event``: the outbox. A row is written in the same transaction as what it reports
  (an operation's finish, a scan's anomalies), so an event is never lost and never invented.
* ``flow_execution`` / ``flow_action_execution`` / ``flow_delivery_attempt``: what the
  dispatcher did with an event: one execution per (flow, event), one action execution per
  (execution, action) — unique keys, so a fan-out racing on several workers writes it once —
  and one attempt row per delivery try, with its result and error.
* ``notification`` / ``user_notification``: in-app notifications and who acknowledged them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..store.models import Base, utcnow


class Flow(Base):
    __tablename__ = "flow"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    trigger_type: Mapped[str] = mapped_column(String(32))  # Operation | Anomaly | Manual | Schedule
    filter_datastores: Mapped[list[Any]] = mapped_column(JSON, default=list)
    filter_operation_type: Mapped[list[Any]] = mapped_column(JSON, default=list)
    filter_operation_result: Mapped[str | None] = mapped_column(String(16), nullable=True)
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    check_rule_types: Mapped[list[Any]] = mapped_column(JSON, default=list)
    weight_threshold: Mapped[int | None] = mapped_column(Integer, nullable=True)
    team_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    deactivated: Mapped[bool] = mapped_column(Boolean, default=False)
    last_triggered: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    #: trigger Schedule: a 5-field crontab (UTC) and the next fire time
    crontab: Mapped[str | None] = mapped_column(String(255), nullable=True)
    #: "flow", or "notification_rule" for a rule of /api/notification-rules (run as a flow)
    source: Mapped[str] = mapped_column(String(32), default="flow", server_default="flow")
    next_trigger: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True, index=True)

    actions: Mapped[list[FlowAction]] = relationship(
        back_populates="flow",
        cascade="all, delete-orphan",
        order_by="(FlowAction.order_rank, FlowAction.id)",
        passive_deletes=True,
    )


class FlowAction(Base):
    __tablename__ = "flow_action"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    flow_id: Mapped[int] = mapped_column(ForeignKey("flow.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(16))  # notification | operation
    uuid: Mapped[str] = mapped_column(String(36))
    parent_action_uuid: Mapped[str | None] = mapped_column(String(36), nullable=True)
    order_rank: Mapped[int] = mapped_column(Integer, default=0)
    notification_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # never holds secrets
    secrets: Mapped[str | None] = mapped_column(Text, nullable=True)  # Fernet-encrypted JSON
    auth_type: Mapped[str | None] = mapped_column(String(16), nullable=True)
    tokenized_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    muted: Mapped[bool] = mapped_column(Boolean, default=False)
    schedule: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # operation action payload

    flow: Mapped[Flow] = relationship(back_populates="actions")


class FlowVersion(Base):
    """One change of a flow's definition (``GET /api/flows/{id}/history``): ``changeset``
    maps each changed field to ``[old, new]``; ``operation_type`` 0 insert, 1 update."""

    __tablename__ = "flow_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    flow_id: Mapped[int] = mapped_column(ForeignKey("flow.id", ondelete="CASCADE"), index=True)
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True)
    operation_type: Mapped[int] = mapped_column(Integer)
    changeset: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class FlowEvent(Base):
    """The outbox. ``kind``: ``operation`` (an operation ended), ``anomaly`` (a scan recorded
    anomalies; one row per scan, released when the scan has ended) or ``manual``."""

    __tablename__ = "flow_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    operation_id: Mapped[int | None] = mapped_column(
        ForeignKey("operation.id", ondelete="SET NULL"), nullable=True, index=True
    )
    flow_id: Mapped[int | None] = mapped_column(ForeignKey("flow.id", ondelete="CASCADE"), nullable=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    processed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True, index=True)


class FlowExecution(Base):
    __tablename__ = "flow_execution"
    __table_args__: Any = (
        UniqueConstraint("flow_id", "event_id", name="uq_flow_execution_event"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    flow_id: Mapped[int] = mapped_column(ForeignKey("flow.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("flow_event.id", ondelete="SET NULL"), nullable=True)
    trigger_type: Mapped[str] = mapped_column(String(32))
    trigger_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the operation's id
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # message tokens
    start_time: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    end_time: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    result: Mapped[str] = mapped_column(String(16), default="running")  # running|success|failure|aborted
    message: Mapped[str | None] = mapped_column(Text, nullable=True)

    flow: Mapped[Flow] = relationship()
    action_executions: Mapped[list[FlowActionExecution]] = relationship(
        back_populates="flow_execution",
        cascade="all, delete-orphan",
        order_by="FlowActionExecution.id",
        passive_deletes=True,
    )


class FlowActionExecution(Base):
    __tablename__ = "flow_action_execution"
    __table_args__: Any = (
        UniqueConstraint("flow_execution_id", "action_id", name="uq_flow_action_execution"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    flow_execution_id: Mapped[int] = mapped_column(ForeignKey("flow_execution.id", ondelete="CASCADE"), index=True)
    action_id: Mapped[int | None] = mapped_column(ForeignKey("flow_action.id", ondelete="SET NULL"), nullable=True)
    #: pending (due at next_attempt_at) | running (claimed) | success | failure | skipped | aborted
    result: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True, index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(255), nullable=True)
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    operation_id: Mapped[int | None] = mapped_column(ForeignKey("operation.id", ondelete="SET NULL"), nullable=True)
    rendered_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    target_uri: Mapped[str | None] = mapped_column(Text, nullable=True)
    target_url: Mapped[str | None] = mapped_column(Text, nullable=True)

    flow_execution: Mapped[FlowExecution] = relationship(back_populates="action_executions")
    action: Mapped[FlowAction | None] = relationship()
    attempt_rows: Mapped[list[FlowDeliveryAttempt]] = relationship(
        cascade="all, delete-orphan", order_by="FlowDeliveryAttempt.id", passive_deletes=True
    )


class FlowDeliveryAttempt(Base):
    __tablename__ = "flow_delivery_attempt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action_execution_id: Mapped[int] = mapped_column(
        ForeignKey("flow_action_execution.id", ondelete="CASCADE"), index=True
    )
    attempt: Mapped[int] = mapped_column(Integer)
    worker: Mapped[str | None] = mapped_column(String(255), nullable=True)
    start_time: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    end_time: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    result: Mapped[str] = mapped_column(String(16))  # success | failure
    message: Mapped[str | None] = mapped_column(Text, nullable=True)  # the error, or the receiver's answer


class Notification(Base):
    """An in-app notification (Qualytics ``GetNotification``)."""

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    message: Mapped[str] = mapped_column(Text)
    target_uri: Mapped[str] = mapped_column(Text, default="")
    target_url: Mapped[str] = mapped_column(Text, default="")
    action_execution_id: Mapped[int | None] = mapped_column(
        ForeignKey("flow_action_execution.id", ondelete="SET NULL"), nullable=True, unique=True
    )

    action_execution: Mapped[FlowActionExecution | None] = relationship()


class UserNotification(Base):
    __tablename__ = "user_notification"
    __table_args__: Any = (UniqueConstraint("user_id", "notification_id"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notification.id", ondelete="CASCADE"), index=True)
    acknowledged: Mapped[bool] = mapped_column(Boolean, default=False)

    notification: Mapped[Notification] = relationship()
