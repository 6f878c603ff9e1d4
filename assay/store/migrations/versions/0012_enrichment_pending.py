"""enrichment rows waiting to be written, and the anomaly's enrichment_pending flag

Revision ID: 0012_enrichment_pending
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_enrichment_pending"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "enrichment_pending",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("container_scan_id", sa.Integer(), nullable=False, unique=True),
        sa.Column("operation_id", sa.Integer(), nullable=False, index=True),
        sa.Column("container_id", sa.Integer(), nullable=False),
        sa.Column("enrichment_datastore_id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(255), nullable=False),
        sa.Column("batch", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("anomaly", schema=None) as batch_op:
        batch_op.add_column(sa.Column("enrichment_pending", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("anomaly", schema=None) as batch_op:
        batch_op.drop_column("enrichment_pending")
    op.drop_table("enrichment_pending")
