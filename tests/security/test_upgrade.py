"""A single-user install upgrades in place (migration 0014), on SQLite and PostgreSQL: its
token keeps working as the first Admin's, its datastores stay where they were (the public
team holds them), ids of deleted rows are not handed out again, and nothing cascades away."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from assay.api.app import create_app
from assay.security import issue_token
from assay.store.db import alembic_config, dispose_engine, get_engine
from tests.conftest import make_settings

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
JSON = ("connection", "tags")
datastore = sa.table(
    "datastore",
    *(sa.column(c) for c in ("id", "created", "name", "store_type", "type", "enrichment_only")),
    *(sa.column(c) for c in ("enrichment_source_record_limit", "enrichment_remediation_strategy")),
    *(sa.column(c) for c in ("high_count_rollup_threshold", "favorite")),
    *(sa.column(c, sa.JSON) for c in JSON),
)
#: the container table as 0013 left it (the model has columns added since)
container = sa.table(
    "container",
    *(sa.column(c) for c in ("id", "created", "datastore_id", "name", "container_type", "favorite")),
    sa.column("tags", sa.JSON),
)


@pytest.fixture(params=["sqlite", "postgres"])
def url(request, tmp_path):
    if request.param == "postgres":
        return request.getfixturevalue("pg_database")
    # an empty store (make_settings alone would copy one already migrated to the head)
    return f"sqlite:///{tmp_path / 'upgrade.db'}"


def test_a_single_user_install_upgrades_in_place(url, tmp_path):
    settings = make_settings(tmp_path, url)
    engine = get_engine(url)
    with engine.begin() as conn:  # the store as release 0013 left it
        cfg = alembic_config(url)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0013_flows")
    rows = [
        {
            "created": NOW,
            "name": name,
            "store_type": "jdbc",
            "type": "duckdb",
            "connection": {},
            "enrichment_only": False,
            "enrichment_source_record_limit": 10,
            "enrichment_remediation_strategy": "none",
            "high_count_rollup_threshold": 10,
            "tags": [],
            "favorite": False,
        }
        for name in ("kept", "deleted")
    ]
    with engine.begin() as conn:
        conn.execute(datastore.insert(), rows)
        kept = conn.scalar(sa.select(datastore.c.id).where(datastore.c.name == "kept"))
        conn.execute(datastore.delete().where(datastore.c.name == "deleted"))
        conn.execute(
            container.insert(),
            {
                "created": NOW,
                "datastore_id": kept,
                "name": "t",
                "container_type": "table",
                "favorite": False,
                "tags": [],
            },
        )
    with Session(engine) as session:
        _row, old_token = issue_token(session, settings.secret_key, name="from-0013")
        session.commit()

    app = create_app(settings, start_workers=False)  # migrates to head on start
    with TestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {old_token}"
        me = client.get("/api/users/me").json()
        assert (me["id"], me["role"], me["is_admin"]) == (1, "Admin", True)
        assert [d["name"] for d in client.get("/api/datastores").json()["items"]] == ["kept"]
        assert [c["name"] for c in client.get("/api/containers", params={"datastore": kept}).json()["items"]] == ["t"]
        public = client.get("/api/teams/1").json()
        assert (public["name"], public["permission"], public["datastores"]) == (
            "Public",
            "Editor",
            [{"id": kept, "name": "kept"}],
        )
        new = client.post(
            "/api/datastores",
            params={"test_connection": "false"},
            json={"name": "new", "connection": {"type": "duckdb"}, "database": str(tmp_path / "x.duckdb")},
        ).json()
        assert new["id"] == kept + 2  # the deleted datastore's id is not reused
    dispose_engine(url)


def test_inline_connections_become_connection_rows(url):
    """Migration 0021 (issue 16): each datastore without a connection row gets its own, named
    after its connection's ``name`` or the datastore (``(2)`` when taken), its settings as
    parameters and its encrypted secrets moved over unchanged; a shared one is left alone."""
    engine = get_engine(url)
    with engine.begin() as conn:
        cfg = alembic_config(url)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0020_container_description")
    connection = sa.table(
        "connection",
        *(sa.column(c) for c in ("id", "created", "name", "type", "secrets")),
        sa.column("parameters", sa.JSON),
    )
    ds = sa.table(
        "datastore",
        *(sa.column(c.name, c.type) for c in datastore.c),
        sa.column("secrets"),
        sa.column("connection_id"),
    )
    base = {
        "created": NOW,
        "store_type": "jdbc",
        "enrichment_only": False,
        "enrichment_source_record_limit": 10,
        "enrichment_remediation_strategy": "none",
        "high_count_rollup_threshold": 10,
        "tags": [],
        "favorite": False,
        "connection_id": None,
    }
    with engine.begin() as conn:
        conn.execute(
            connection.insert(),
            {"created": NOW, "name": "wh", "type": "postgresql", "parameters": {"host": "h"}, "secrets": None},
        )
        shared = conn.scalar(sa.select(connection.c.id))
        conn.execute(
            ds.insert(),
            [
                {
                    **base,
                    "name": "wh",
                    "type": "postgresql",
                    "connection": {"type": "postgresql", "host": "h", "port": 5432},
                    "secrets": "gAAAA-token",
                },
                {
                    **base,
                    "name": "files",
                    "type": "local",
                    "connection": {"type": "local", "uri": "file:///d", "name": "wh"},
                    "secrets": None,
                },
                {
                    **base,
                    "name": "on_shared",
                    "type": "postgresql",
                    "connection": {"type": "postgresql", "host": "h"},
                    "connection_id": shared,
                    "secrets": None,
                },
            ],
        )
    with engine.begin() as conn:
        cfg = alembic_config(url)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0021_datastore_connections")
    with engine.connect() as conn:
        conns = conn.execute(
            sa.select(
                connection.c.id, connection.c.name, connection.c.type, connection.c.parameters, connection.c.secrets
            ).order_by(connection.c.id)
        ).all()
        stores = conn.execute(sa.select(ds.c.name, ds.c.connection_id, ds.c.secrets).order_by(ds.c.id)).all()
    assert [tuple(c[1:]) for c in conns] == [
        ("wh", "postgresql", {"host": "h"}, None),
        ("wh (2)", "postgresql", {"host": "h", "port": 5432}, "gAAAA-token"),
        ("wh (3)", "local", {"uri": "file:///d"}, None),
    ]
    assert [tuple(s) for s in stores] == [
        ("wh", conns[1][0], None),
        ("files", conns[2][0], None),
        ("on_shared", shared, None),
    ]
    dispose_engine(url)
