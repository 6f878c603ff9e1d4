"""containers: Qualytics' row identifier, excluded fields and freshness tracking; fields: created

Revision ID: 0023_container_tracking
Revises: 0022_favorites_public_reporter
"""

import sqlalchemy as sa
from alembic import op

revision = "0023_container_tracking"
down_revision = "0022_favorites_public_reporter"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMNs (no table copy: other tables refer to container and field)
    op.add_column("container", sa.Column("row_identifier_field", sa.String(1024), nullable=True))
    op.add_column("container", sa.Column("exclude_fields", sa.JSON(), nullable=True))
    op.add_column(
        "container",
        sa.Column("freshness_tracking_enabled", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("field", sa.Column("created", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("field") as batch:
        batch.drop_column("created")
    with op.batch_alter_table("container") as batch:
        batch.drop_column("freshness_tracking_enabled")
        batch.drop_column("exclude_fields")
        batch.drop_column("row_identifier_field")
