"""computed files and computed joins: the definition a computed container was created from

Revision ID: 0017_computed_definitions
Revises: 0016_quality_score_settings
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_computed_definitions"
down_revision = "0016_quality_score_settings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("container") as batch:
        batch.add_column(sa.Column("computed_definition", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("container") as batch:
        batch.drop_column("computed_definition")
