"""anomaly workflow and check links: comments, anomaly description and assignees, check owner,
default anomaly assignee, template link and favourite, field tags and field versions

Revision ID: 0015_anomaly_workflow
Revises: 0014_users_teams_permissions
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_anomaly_workflow"
down_revision = "0014_users_teams_permissions"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("anomaly", schema=None) as batch_op:
        batch_op.add_column(sa.Column("description", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("assignee_ids", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("quality_check", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("default_anomaly_assignee_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("template_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("favorite", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_foreign_key("fk_quality_check_owner", "user_account", ["owner_id"], ["id"], ondelete="SET NULL")
        batch_op.create_foreign_key(
            "fk_quality_check_default_assignee",
            "user_account",
            ["default_anomaly_assignee_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            "fk_quality_check_template", "quality_check_template", ["template_id"], ["id"], ondelete="SET NULL"
        )
        batch_op.create_index("ix_quality_check_template_id", ["template_id"])
    with op.batch_alter_table("field", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tags", sa.JSON(), nullable=False, server_default="[]"))
    op.create_table(
        "comment",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("created", TS, nullable=False),
        sa.Column("last_updated", TS, nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True),
        sa.Column("anomaly_id", sa.Integer(), sa.ForeignKey("anomaly.id", ondelete="CASCADE"), nullable=True),
        sa.Column("partition_id", sa.Integer(), sa.ForeignKey("partition.id", ondelete="CASCADE"), nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_comment_anomaly_id", "comment", ["anomaly_id"])
    op.create_index("ix_comment_partition_id", "comment", ["partition_id"])
    op.create_table(
        "field_version",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("created", TS, nullable=False),
        sa.Column("field_id", sa.Integer(), sa.ForeignKey("field.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True),
        sa.Column("changeset", sa.JSON(), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_field_version_field_id", "field_version", ["field_id"])


def downgrade() -> None:
    op.drop_index("ix_field_version_field_id", table_name="field_version")
    op.drop_table("field_version")
    op.drop_index("ix_comment_partition_id", table_name="comment")
    op.drop_index("ix_comment_anomaly_id", table_name="comment")
    op.drop_table("comment")
    with op.batch_alter_table("field", schema=None) as batch_op:
        batch_op.drop_column("tags")
    with op.batch_alter_table("quality_check", schema=None) as batch_op:
        batch_op.drop_index("ix_quality_check_template_id")
        batch_op.drop_constraint("fk_quality_check_template", type_="foreignkey")
        batch_op.drop_constraint("fk_quality_check_default_assignee", type_="foreignkey")
        batch_op.drop_constraint("fk_quality_check_owner", type_="foreignkey")
        batch_op.drop_column("favorite")
        batch_op.drop_column("template_id")
        batch_op.drop_column("default_anomaly_assignee_id")
        batch_op.drop_column("owner_id")
    with op.batch_alter_table("anomaly", schema=None) as batch_op:
        batch_op.drop_column("assignee_ids")
        batch_op.drop_column("description")
