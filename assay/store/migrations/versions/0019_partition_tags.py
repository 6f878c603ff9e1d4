"""partition tags (PUT /api/partitions/{id})

Revision ID: 0019_partition_tags
Revises: 0017_computed_definitions
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_partition_tags"
down_revision = "0017_computed_definitions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("partition") as batch:
        batch.add_column(sa.Column("tags", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("partition") as batch:
        batch.drop_column("tags")
