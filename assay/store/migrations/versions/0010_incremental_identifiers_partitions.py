"""incremental identifiers, partitions and partition scans

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("container", schema=None, table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.add_column(sa.Column("incremental_field_name", sa.String(length=1024), nullable=True))
        batch_op.add_column(sa.Column("incremental_identifier_type", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("partition_field", sa.String(length=1024), nullable=True))
        batch_op.add_column(sa.Column("incremental_checkpoint", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("identifiers_set_by", sa.String(length=8), nullable=True))
    op.create_table(
        "partition",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_updated", sa.DateTime(timezone=True), nullable=False),
        sa.Column("container_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=1024), nullable=False),
        sa.Column("location", sa.Text(), nullable=True),
        sa.Column("min_offset", sa.Float(), nullable=True),
        sa.Column("max_offset", sa.Float(), nullable=True),
        sa.Column("min_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("max_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("partition_size", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["container_id"], ["container.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("container_id", "name"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("partition", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_partition_container_id"), ["container_id"], unique=False)
    op.create_table(
        "partition_scan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("container_scan_id", sa.Integer(), nullable=False),
        sa.Column("partition_id", sa.Integer(), nullable=True),
        sa.Column("partition", sa.String(length=1024), nullable=False),
        sa.Column("records_processed", sa.BigInteger(), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("anomaly_ids", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["container_scan_id"], ["container_scan.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["partition_id"], ["partition.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("partition_scan", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_partition_scan_container_scan_id"), ["container_scan_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("partition_scan", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partition_scan_container_scan_id"))
    op.drop_table("partition_scan")
    with op.batch_alter_table("partition", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partition_container_id"))
    op.drop_table("partition")
    with op.batch_alter_table("container", schema=None, table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.drop_column("identifiers_set_by")
        batch_op.drop_column("incremental_checkpoint")
        batch_op.drop_column("partition_field")
        batch_op.drop_column("incremental_identifier_type")
        batch_op.drop_column("incremental_field_name")
