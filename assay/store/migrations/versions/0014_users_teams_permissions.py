"""users, teams and permissions: passwords, service users, team members and datastores, audit

Existing installs upgrade in place: the first Admin keeps its id (so every existing token keeps
working as that Admin's), the Public team keeps its permission (Editor) and holds every existing
datastore, so nothing a single-user install could do before changes.

Only ``ADD COLUMN`` and new tables: no table is copied and moved. (On SQLite a copy-and-move
would drop the old table with foreign keys on, and its ON DELETE CASCADE would empty the
tables that refer to it; it would also restart the AUTOINCREMENT sequence.) The audit columns
refer to users with a foreign key on PostgreSQL; SQLite cannot add one to an existing table, and
users are never deleted (only deactivated), so there they are plain integers.

Revision ID: 0014_users_teams_permissions
Revises: 0013_flows
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_users_teams_permissions"
down_revision = "0013_flows"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)

# (table, column, constraint name) of the audit columns
AUDIT = (
    ("quality_check", "created_by_id", "fk_quality_check_created_by"),
    ("quality_check", "last_editor_id", "fk_quality_check_last_editor"),
    ("anomaly", "last_editor_id", "fk_anomaly_last_editor"),
    ("datastore", "created_by_id", "fk_datastore_created_by"),
)


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    op.add_column("user_account", sa.Column("user_type", sa.String(16), nullable=False, server_default="Person"))
    op.add_column("user_account", sa.Column("password_hash", sa.String(255), nullable=True))
    op.add_column("user_account", sa.Column("last_login", TS, nullable=True))
    op.add_column("team", sa.Column("permission", sa.String(16), nullable=False, server_default="Editor"))
    op.create_table(
        "team_member",
        sa.Column("team_id", sa.Integer(), sa.ForeignKey("team.id", ondelete="CASCADE"), primary_key=True),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True, index=True
        ),
    )
    op.create_table(
        "team_datastore",
        sa.Column("team_id", sa.Integer(), sa.ForeignKey("team.id", ondelete="CASCADE"), primary_key=True),
        sa.Column(
            "datastore_id",
            sa.Integer(),
            sa.ForeignKey("datastore.id", ondelete="CASCADE"),
            primary_key=True,
            index=True,
        ),
    )
    op.create_table(
        "anomaly_status_change",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("created", TS, nullable=False),
        sa.Column(
            "anomaly_id", sa.Integer(), sa.ForeignKey("anomaly.id", ondelete="CASCADE"), nullable=False, index=True
        ),
        sa.Column("previous", sa.String(16), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True),
        sqlite_autoincrement=True,
    )
    for table, column, constraint in AUDIT:
        op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
        if not _sqlite():
            op.create_foreign_key(constraint, table, "user_account", [column], ["id"], ondelete="SET NULL")

    # every existing datastore stays reachable as before: the Public team (Editor) holds it
    team = sa.table("team", sa.column("id", sa.Integer), sa.column("is_public", sa.Boolean))
    datastore = sa.table("datastore", sa.column("id", sa.Integer))
    link = sa.table("team_datastore", sa.column("team_id", sa.Integer), sa.column("datastore_id", sa.Integer))
    public = op.get_bind().scalar(sa.select(team.c.id).where(team.c.is_public.is_(True)).order_by(team.c.id))
    if public is not None:
        op.execute(
            link.insert().from_select(
                ["team_id", "datastore_id"], sa.select(sa.literal(public, sa.Integer), datastore.c.id)
            )
        )


def downgrade() -> None:
    for table, column, constraint in reversed(AUDIT):
        if not _sqlite():
            op.drop_constraint(constraint, table, type_="foreignkey")
        op.drop_column(table, column)
    op.drop_table("anomaly_status_change")
    op.drop_table("team_datastore")
    op.drop_table("team_member")
    op.drop_column("team", "permission")
    op.drop_column("user_account", "last_login")
    op.drop_column("user_account", "password_hash")
    op.drop_column("user_account", "user_type")
