"""quality score settings per datastore: decay period and dimension weights

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


def downgrade() -> None:
    op.drop_table("quality_score_settings")
