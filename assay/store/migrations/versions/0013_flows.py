"""flows: definitions, actions, the event outbox, executions, delivery attempts, in-app notifications

Revision ID: 0013_flows
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_flows"
down_revision = "0011"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "flow",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("created", TS, nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("trigger_type", sa.String(32), nullable=False),
        sa.Column("filter_datastores", sa.JSON(), nullable=False),
        sa.Column("filter_operation_type", sa.JSON(), nullable=False),
        sa.Column("filter_operation_result", sa.String(16), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("check_rule_types", sa.JSON(), nullable=False),
        sa.Column("weight_threshold", sa.Integer(), nullable=True),
        sa.Column("team_ids", sa.JSON(), nullable=False),
        sa.Column("deactivated", sa.Boolean(), nullable=False),
        sa.Column("last_triggered", TS, nullable=True),
        sa.Column("crontab", sa.String(255), nullable=True),
        sa.Column("source", sa.String(32), nullable=False, server_default="flow"),
        sa.Column("next_trigger", TS, nullable=True, index=True),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "flow_action",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("created", TS, nullable=False),
        sa.Column("flow_id", sa.Integer(), sa.ForeignKey("flow.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("uuid", sa.String(36), nullable=False),
        sa.Column("parent_action_uuid", sa.String(36), nullable=True),
        sa.Column("order_rank", sa.Integer(), nullable=False),
        sa.Column("notification_type", sa.String(32), nullable=True),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("secrets", sa.Text(), nullable=True),
        sa.Column("auth_type", sa.String(16), nullable=True),
        sa.Column("tokenized_message", sa.Text(), nullable=True),
        sa.Column("muted", sa.Boolean(), nullable=False),
        sa.Column("schedule", sa.JSON(), nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "flow_version",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("flow_id", sa.Integer(), sa.ForeignKey("flow.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("issued_at", TS, nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True),
        sa.Column("operation_type", sa.Integer(), nullable=False),
        sa.Column("changeset", sa.JSON(), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "flow_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("created", TS, nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column(
            "operation_id", sa.Integer(), sa.ForeignKey("operation.id", ondelete="SET NULL"), nullable=True, index=True
        ),
        sa.Column("flow_id", sa.Integer(), sa.ForeignKey("flow.id", ondelete="CASCADE"), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("processed_at", TS, nullable=True, index=True),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "flow_execution",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("created", TS, nullable=False, index=True),
        sa.Column("flow_id", sa.Integer(), sa.ForeignKey("flow.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("event_id", sa.Integer(), sa.ForeignKey("flow_event.id", ondelete="SET NULL"), nullable=True),
        sa.Column("trigger_type", sa.String(32), nullable=False),
        sa.Column("trigger_id", sa.Integer(), nullable=True),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("start_time", TS, nullable=True),
        sa.Column("end_time", TS, nullable=True),
        sa.Column("result", sa.String(16), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.UniqueConstraint("flow_id", "event_id", name="uq_flow_execution_event"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "flow_action_execution",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("created", TS, nullable=False),
        sa.Column(
            "flow_execution_id",
            sa.Integer(),
            sa.ForeignKey("flow_execution.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("action_id", sa.Integer(), sa.ForeignKey("flow_action.id", ondelete="SET NULL"), nullable=True),
        sa.Column("result", sa.String(16), nullable=False, index=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TS, nullable=True, index=True),
        sa.Column("claimed_by", sa.String(255), nullable=True),
        sa.Column("lease_until", TS, nullable=True),
        sa.Column("operation_id", sa.Integer(), sa.ForeignKey("operation.id", ondelete="SET NULL"), nullable=True),
        sa.Column("rendered_message", sa.Text(), nullable=True),
        sa.Column("target_uri", sa.Text(), nullable=True),
        sa.Column("target_url", sa.Text(), nullable=True),
        sa.UniqueConstraint("flow_execution_id", "action_id", name="uq_flow_action_execution"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "flow_delivery_attempt",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "action_execution_id",
            sa.Integer(),
            sa.ForeignKey("flow_action_execution.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(255), nullable=True),
        sa.Column("start_time", TS, nullable=False),
        sa.Column("end_time", TS, nullable=True),
        sa.Column("result", sa.String(16), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("created", TS, nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("target_uri", sa.Text(), nullable=False),
        sa.Column("target_url", sa.Text(), nullable=False),
        sa.Column(
            "action_execution_id",
            sa.Integer(),
            sa.ForeignKey("flow_action_execution.id", ondelete="SET NULL"),
            nullable=True,
            unique=True,
        ),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "user_notification",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("created", TS, nullable=False),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, index=True
        ),
        sa.Column(
            "notification_id",
            sa.Integer(),
            sa.ForeignKey("notification.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("acknowledged", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("user_id", "notification_id"),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    for table in (
        "user_notification",
        "notification",
        "flow_delivery_attempt",
        "flow_action_execution",
        "flow_execution",
        "flow_event",
        "flow_action",
        "flow_version",
        "flow",
    ):
        op.drop_table(table)
