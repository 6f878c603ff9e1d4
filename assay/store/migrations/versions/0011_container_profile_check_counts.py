"""per-container check counters of a profile

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("container_profile", schema=None) as batch_op:
        batch_op.add_column(sa.Column("checks_synchronized", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("checks_added", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("checks_updated", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("container_profile", schema=None) as batch_op:
        batch_op.drop_column("checks_updated")
        batch_op.drop_column("checks_added")
        batch_op.drop_column("checks_synchronized")
