"""users, teams and permissions: passwords, service users, team members and datastores, audit

Existing installs upgrade in place: the first Admin keeps its id (so every existing token keeps
working as that Admin's), the Public team keeps its permission (Editor) and holds every existing
datastore, so nothing a single-user install could do before changes.

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


def upgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("user_type", sa.String(16), nullable=False, server_default="Person"))
        batch.add_column(sa.Column("password_hash", sa.String(255), nullable=True))
        batch.add_column(sa.Column("last_login", TS, nullable=True))
    with op.batch_alter_table("team") as batch:
        batch.add_column(sa.Column("permission", sa.String(16), nullable=False, server_default="Editor"))
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
    user_fk = {"ondelete": "SET NULL"}
    with op.batch_alter_table("quality_check") as batch:
        batch.add_column(sa.Column("created_by_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("last_editor_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_quality_check_created_by", "user_account", ["created_by_id"], ["id"], **user_fk)
        batch.create_foreign_key("fk_quality_check_last_editor", "user_account", ["last_editor_id"], ["id"], **user_fk)
    with op.batch_alter_table("anomaly") as batch:
        batch.add_column(sa.Column("last_editor_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_anomaly_last_editor", "user_account", ["last_editor_id"], ["id"], **user_fk)
    with op.batch_alter_table("datastore") as batch:
        batch.add_column(sa.Column("created_by_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_datastore_created_by", "user_account", ["created_by_id"], ["id"], **user_fk)

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
    with op.batch_alter_table("datastore") as batch:
        batch.drop_constraint("fk_datastore_created_by", type_="foreignkey")
        batch.drop_column("created_by_id")
    with op.batch_alter_table("anomaly") as batch:
        batch.drop_constraint("fk_anomaly_last_editor", type_="foreignkey")
        batch.drop_column("last_editor_id")
    with op.batch_alter_table("quality_check") as batch:
        batch.drop_constraint("fk_quality_check_last_editor", type_="foreignkey")
        batch.drop_constraint("fk_quality_check_created_by", type_="foreignkey")
        batch.drop_column("last_editor_id")
        batch.drop_column("created_by_id")
    op.drop_table("anomaly_status_change")
    op.drop_table("team_datastore")
    op.drop_table("team_member")
    with op.batch_alter_table("team") as batch:
        batch.drop_column("permission")
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("last_login")
        batch.drop_column("password_hash")
        batch.drop_column("user_type")
