"""datastores: every datastore has a connection row (an inline connection becomes its own)

A datastore created with an inline ``connection`` kept its settings and secrets on itself,
so ``GET /api/datastores/{id}`` answered a ``connection`` without an ``id`` (qualytics-cli's
``config import`` reads ``connection["id"]``). Each such datastore gets a connection of its
own, named after its connection's ``name`` or the datastore (``name (2)`` … when taken), with
its settings as ``parameters`` and its secrets moved over still encrypted (the same Fernet
token; nothing is decrypted here).

Revision ID: 0021_datastore_connections
Revises: 0020_container_description
"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0021_datastore_connections"
down_revision = "0020_container_description"
branch_labels = None
depends_on = None

_datastore = sa.table(
    "datastore",
    sa.column("id", sa.Integer),
    sa.column("created", sa.DateTime(timezone=True)),
    sa.column("name", sa.String),
    sa.column("type", sa.String),
    sa.column("connection", sa.JSON),
    sa.column("secrets", sa.Text),
    sa.column("connection_id", sa.Integer),
)
_connection = sa.table(
    "connection",
    sa.column("id", sa.Integer),
    sa.column("created", sa.DateTime(timezone=True)),
    sa.column("name", sa.String),
    sa.column("type", sa.String),
    sa.column("parameters", sa.JSON),
    sa.column("secrets", sa.Text),
)


def upgrade() -> None:
    bind = op.get_bind()
    taken = set(bind.scalars(sa.select(_connection.c.name)))
    rows = bind.execute(
        sa.select(
            _datastore.c.id,
            _datastore.c.created,
            _datastore.c.name,
            _datastore.c.type,
            _datastore.c.connection,
            _datastore.c.secrets,
        )
        .where(_datastore.c.connection_id.is_(None))
        .order_by(_datastore.c.id)
    ).all()
    for ds_id, created, ds_name, type_, conn, secrets in rows:
        conn = dict(conn or {})
        base = str(conn.get("name") or ds_name)[:240]
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base} ({n})"
        taken.add(name)
        connection_id = bind.execute(
            sa.insert(_connection)
            .values(
                created=created or dt.datetime.now(dt.UTC),
                name=name,
                type=type_,
                parameters={k: v for k, v in conn.items() if k not in ("type", "name")},
                secrets=secrets,
            )
            .returning(_connection.c.id)
        ).scalar_one()
        bind.execute(
            sa.update(_datastore).where(_datastore.c.id == ds_id).values(connection_id=connection_id, secrets=None)
        )


def downgrade() -> None:
    # The connections stay: the previous revision reads a datastore's secrets from its
    # connection when it has none of its own, so nothing needs undoing.
    pass
