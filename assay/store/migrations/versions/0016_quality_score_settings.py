"""quality score settings per datastore (decay period, dimension weights); the activity log

Revision ID: 0016_quality_score_settings
Revises: 0015_anomaly_workflow
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_quality_score_settings"
down_revision = "0015_anomaly_workflow"
branch_labels = None
depends_on = None

DIMENSIONS = (
    "completeness",
    "coverage",
    "conformity",
    "consistency",
    "precision",
    "timeliness",
    "volumetrics",
    "accuracy",
)


def upgrade() -> None:
    op.create_table(
        "quality_score_settings",
        sa.Column(
            "datastore_id",
            sa.Integer(),
            sa.ForeignKey("datastore.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("decay_period_days", sa.Integer(), nullable=True),
        *[sa.Column(f"{d}_weight", sa.Float(), nullable=True) for d in DIMENSIONS],
    )
    op.create_table(
        "activity",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True, index=True
        ),
        sa.Column("verb", sa.String(16), nullable=False),
        sa.Column("object_type", sa.String(64), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=True),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("activity")
    op.drop_table("quality_score_settings")
