"""containers: a description (computed containers take one at creation)

Revision ID: 0020_container_description
Revises: 0019_partition_tags
"""

import sqlalchemy as sa
from alembic import op

revision = "0020_container_description"
down_revision = "0019_partition_tags"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("container") as batch:
        batch.add_column(sa.Column("description", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("container") as batch:
        batch.drop_column("description")
