"""per-user favourites; the Public team of a fresh install holds Reporter

Favourites were a ``favorite`` column on datastores, containers and quality checks: one star
shared by every user. They become ``favorite`` rows (user, object type, object id). The stars
of an existing install are carried to the first Admin (the active Admin with the lowest id:
``admin@localhost``, whose tokens existing scripts use); the old columns are cleared and no
longer read (they stay: dropping a column on SQLite copies the table, see 0014).

The Public team (every user) held Editor since 0014, so that existing single-user installs kept
working. On a fresh install (no datastore yet) it now holds **Reporter**: a new Member reads
checks and anomalies of the Public team's datastores and changes nothing until a team grants
more. An install that already has datastores keeps the Public team's permission as it is.

Revision ID: 0022_favorites_public_reporter
Revises: 0021_datastore_connections
"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0022_favorites_public_reporter"
down_revision = "0021_datastore_connections"
branch_labels = None
depends_on = None

STARRED = ("datastore", "container", "quality_check")


def upgrade() -> None:
    op.create_table(
        "favorite",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("object_type", sa.String(32), primary_key=True),
        sa.Column("object_id", sa.Integer(), primary_key=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    )
    bind = op.get_bind()
    user = sa.table(
        "user_account",
        sa.column("id", sa.Integer),
        sa.column("role", sa.String),
        sa.column("deleted_at", sa.DateTime(timezone=True)),
    )
    admin = bind.scalar(
        sa.select(user.c.id).where(user.c.role == "Admin", user.c.deleted_at.is_(None)).order_by(user.c.id).limit(1)
    )
    favorite = sa.table(
        "favorite",
        sa.column("user_id", sa.Integer),
        sa.column("object_type", sa.String),
        sa.column("object_id", sa.Integer),
        sa.column("created", sa.DateTime(timezone=True)),
    )
    now = dt.datetime.now(dt.UTC)
    for name in STARRED:
        table = sa.table(name, sa.column("id", sa.Integer), sa.column("favorite", sa.Boolean))
        if admin is not None:
            starred = sa.select(
                sa.literal(admin, sa.Integer), sa.literal(name, sa.String), table.c.id, sa.literal(now, sa.DateTime)
            ).where(table.c.favorite.is_(True))
            op.execute(favorite.insert().from_select(["user_id", "object_type", "object_id", "created"], starred))
        op.execute(table.update().where(table.c.favorite.is_(True)).values(favorite=False))

    datastore = sa.table("datastore", sa.column("id", sa.Integer))
    if bind.scalar(sa.select(sa.func.count()).select_from(datastore)) == 0:
        team = sa.table("team", sa.column("is_public", sa.Boolean), sa.column("permission", sa.String))
        op.execute(team.update().where(team.c.is_public.is_(True)).values(permission="Reporter"))


def downgrade() -> None:
    # the stars go back on the objects (any user's star becomes the shared one); the Public
    # team's permission stays as it is (an Admin may have set it since)
    favorite = sa.table("favorite", sa.column("object_type", sa.String), sa.column("object_id", sa.Integer))
    for name in STARRED:
        table = sa.table(name, sa.column("id", sa.Integer), sa.column("favorite", sa.Boolean))
        ids = sa.select(favorite.c.object_id).where(favorite.c.object_type == name)
        op.execute(table.update().where(table.c.id.in_(ids)).values(favorite=True))
    op.drop_table("favorite")
