"""Database datastores on the real servers of this machine: PostgreSQL, MariaDB and a
SQLite file. Several schemas, views, quoted mixed-case names, a 200-column table,
driver errors, and secrets that never leave the server."""

from __future__ import annotations

import sqlite3
import uuid

import pytest
from sqlalchemy import create_engine, text

from assay.store.models import Datastore

PG = {"type": "postgresql", "host": "127.0.0.1", "port": 5432, "username": "postgres", "password": "s3cr3t-pg"}
MARIADB = {"type": "mariadb", "host": "127.0.0.1", "port": 3306, "username": "root", "password": ""}


@pytest.fixture
def pg_source(pg_admin):
    """Two schemas in a fresh PostgreSQL database: sales (orders, a view, a quoted
    mixed-case table, a 200-column table) and archive (old_orders)."""
    name = f"assay_src_{uuid.uuid4().hex[:10]}"
    with pg_admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}", isolation_level="AUTOCOMMIT")
    wide = ", ".join(f"c{i:03d} integer" for i in range(200))
    with engine.connect() as conn:
        for stmt in [
            "CREATE SCHEMA sales",
            "CREATE SCHEMA archive",
            "CREATE TABLE sales.orders (id integer, amount numeric(38,10), status text, placed timestamptz)",
            "INSERT INTO sales.orders VALUES (1, 10.5, 'paid', '2024-01-01T00:00:00Z'), "
            "(2, -3, 'paid', '2024-01-02T00:00:00Z'), (3, NULL, 'refunded', NULL), (3, 7, 'bogus', '2099-01-01Z')",
            "CREATE VIEW sales.paid_orders AS SELECT * FROM sales.orders WHERE status = 'paid'",
            'CREATE TABLE sales."Mixed Case" ("Order ID" integer, "select" text)',
            "INSERT INTO sales.\"Mixed Case\" VALUES (1, 'a'), (1, 'b'), (2, NULL)",
            f"CREATE TABLE sales.wide ({wide})",
            "INSERT INTO sales.wide (c000, c199) VALUES (1, NULL), (2, 5)",
            "CREATE TABLE archive.old_orders (id integer)",
        ]:
            conn.execute(text(stmt))
    engine.dispose()
    yield name
    with pg_admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _pg_datastore(api, database: str, schema: str, name: str, test_connection: bool = True, **connection) -> dict:
    return api.ok(
        "POST",
        "/api/datastores",
        json={"name": name, "connection": {**PG, **connection}, "database": database, "schema": schema},
        params={} if test_connection else {"test_connection": "false"},
    )


def _op_of(api, payload):
    return api.run(payload)


def test_postgres_sync_lists_tables_and_views_with_native_types(api, pg_source):
    ds = _pg_datastore(api, pg_source, "sales", "pg_sales")
    api.sync(ds["id"])
    listing = {c["name"]: c for c in api.ok("GET", "/api/containers/listing", params={"datastore": ds["id"]})}
    assert sorted(listing) == ["Mixed Case", "orders", "paid_orders", "wide"]
    containers = api.ok("GET", "/api/containers", params={"datastore": ds["id"], "size": 100})["items"]
    assert {c["name"]: c["table_type"] for c in containers} == {
        "Mixed Case": "table",
        "orders": "table",
        "paid_orders": "view",
        "wide": "table",
    }
    fields = api.ok("GET", f"/api/containers/{listing['orders']['id']}/fields")
    assert [(f["name"], f["type"], f["native_type"]) for f in fields] == [
        ("id", "Integral", "int32"),
        ("amount", "Fractional", "decimal(38, 10)"),
        ("status", "String", "string"),
        ("placed", "Timestamp", "timestamp('UTC', 6)"),
    ]
    wide = api.ok("GET", f"/api/containers/{listing['wide']['id']}/fields")
    assert len(wide) == 200

    # include: views only; prune removes what is no longer included (soft delete).
    op = api.run({"type": "sync", "datastore_id": ds["id"], "include": ["view"], "prune": True})
    assert op["result"] == "success"
    live = api.ok("GET", "/api/containers/listing", params={"datastore": ds["id"]})
    assert [c["name"] for c in live] == ["paid_orders"]
    # recreate brings pruned containers back with their old ids.
    api.run({"type": "sync", "datastore_id": ds["id"], "recreate": True})
    again = {c["name"]: c["id"] for c in api.ok("GET", "/api/containers/listing", params={"datastore": ds["id"]})}
    assert again["orders"] == listing["orders"]["id"]

    archive = _pg_datastore(api, pg_source, "archive", "pg_archive")
    api.sync(archive["id"])
    assert [c["name"] for c in api.ok("GET", "/api/containers/listing", params={"datastore": archive["id"]})] == [
        "old_orders"
    ]


def test_postgres_scan_is_pushed_down_and_counts_exactly(api, pg_source):
    ds = _pg_datastore(api, pg_source, "sales", "pg_scan")
    api.sync(ds["id"])
    orders = api.container_id(ds["id"], "orders")
    mixed = api.container_id(ds["id"], "Mixed Case")
    paid = api.container_id(ds["id"], "paid_orders")
    api.check(orders, "notNegative", ["amount"])  # id 2 fails
    api.check(orders, "unique", ["id"])  # both id 3 rows
    api.check(orders, "expectedValues", ["status"], properties={"list": ["paid", "refunded"]})  # 'bogus'
    api.check(orders, "notFuture", ["placed"])  # 2099
    api.check(mixed, "unique", ["Order ID"], filter="`select` IS NOT NULL")  # 1/a, 1/b
    api.check(paid, "between", ["amount"], properties={"min": 0, "max": 100})  # view: -3
    op = api.scan(ds["id"])
    assert op["result"] == "success", op
    by_name = {cs["container"]["name"]: cs for cs in op["container_scans"]}
    failed = {
        name: {q["rule_type"]: q["anomalous_records_count"] for q in cs["quality_checks"]}
        for name, cs in by_name.items()
    }
    assert failed["orders"] == {"notNegative": 1, "unique": 2, "expectedValues": 1, "notFuture": 1}
    assert failed["Mixed Case"] == {"unique": 2}
    assert failed["paid_orders"] == {"between": 1}
    assert by_name["orders"]["records_processed"] == 4
    mixed_rows = sorted(
        r
        for a in api.anomalies(container=mixed)
        for r in [(a["source_records"][0]["Order ID"], a["source_records"][0]["select"])]
    )
    assert mixed_rows == [(1, "a"), (1, "b")]
    # decimals keep their exact value in the stored source record
    negative = [
        a
        for a in api.anomalies(container=orders)
        if "notNegative" in [fc["quality_check"]["rule_type"] for fc in a["failed_checks"]]
    ]
    assert negative[0]["source_records"][0]["amount"] == "-3.0000000000"


def test_secrets_are_encrypted_at_rest_and_never_returned(api, pg_source):
    ds = _pg_datastore(api, pg_source, "sales", "pg_secret")
    assert "password" not in ds["connection"] and "s3cr3t-pg" not in str(ds)
    assert "s3cr3t-pg" not in api.client.get(f"/api/datastores/{ds['id']}").text
    assert "s3cr3t-pg" not in api.client.get("/api/datastores").text
    database = api.client.app.state.database
    with database.session() as session:
        row = session.get(Datastore, ds["id"])
        assert "s3cr3t-pg" not in str(row.connection) and row.secrets is None
        # stored, encrypted, on the datastore's own connection (issue 16: every datastore has one)
        assert row.connection_ref.secrets and "s3cr3t-pg" not in row.connection_ref.secrets
        assert "s3cr3t-pg" not in str(row.connection_ref.parameters)
    conn = api.ok("POST", "/api/connections", json={"name": "shared-pg", **PG, "password": "other-s3cret"})
    assert "password" not in conn and "other-s3cret" not in api.client.get("/api/connections").text


def test_driver_errors_fail_the_operation_with_their_reason(api, pg_source, mariadb_server):
    # PostgreSQL here uses trust auth, so a wrong database is the reachable failure; MariaDB checks passwords.
    # saved untested on purpose (?test_connection=false), so the failure shows at sync
    missing_db = _pg_datastore(api, "no_such_database_x", "public", "pg_missing", test_connection=False)
    op = api.run({"type": "sync", "datastore_id": missing_db["id"]})
    assert op["result"] == "failure" and 'database "no_such_database_x" does not exist' in op["message"]
    verify = api.ok("POST", f"/api/datastores/{missing_db['id']}/connection")
    assert verify["connected"] is False and "no_such_database_x" in verify["message"]

    bad_password = api.ok(
        "POST",
        "/api/datastores",
        json={"name": "maria_bad", "connection": {**MARIADB, "password": "wrong"}, "database": "test"},
        params={"test_connection": "false"},
    )
    op = api.run({"type": "sync", "datastore_id": bad_password["id"]})
    assert op["result"] == "failure" and "Access denied for user 'root'" in op["message"], op

    closed_port = _pg_datastore(api, pg_source, "sales", "pg_down", test_connection=False, port=1, connect_timeout=3)
    good = _pg_datastore(api, pg_source, "sales", "pg_up")
    ops = [
        api.ok("POST", "/api/operations/run", json={"type": "sync", "datastore_id": d["id"]})
        for d in (closed_port, good)
    ]
    down, up = (api.wait(o["id"]) for o in ops)
    assert down["result"] == "failure" and "port 1 failed" in down["message"], down
    assert up["result"] == "success" and up["status"]["total_containers"] == 4

    draft = api.ok(
        "POST",
        "/api/datastores/connection",
        json={"name": "draft", "connection": {**MARIADB, "password": "wrong"}, "database": "test"},
    )
    assert draft["connected"] is False and "Access denied" in draft["message"]


@pytest.fixture
def maria_source(mariadb_server):
    db = f"assay_src_{uuid.uuid4().hex[:10]}"
    conn = mariadb_server(None)
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{db}`")
        cur.execute(f"USE `{db}`")
        cur.execute("CREATE TABLE orders (id INT, `Order Code` VARCHAR(20), amount DECIMAL(38,10), placed DATETIME)")
        cur.execute(
            "INSERT INTO orders VALUES (1, 'A-1', 10, '2024-01-01'), (2, 'bad code', -1, '2099-01-01'), "
            "(2, NULL, NULL, NULL)"
        )
        cur.execute("CREATE VIEW big_orders AS SELECT * FROM orders WHERE amount > 5")
        wide = ", ".join(f"c{i:03d} INT" for i in range(200))
        cur.execute(f"CREATE TABLE wide ({wide})")
    yield db
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{db}`")
    conn.close()


def test_verify_a_saved_datastore_with_changes_keeps_its_secrets_and_saves_nothing(api, maria_source):
    """POST /datastores/{id}/connection with a body tests the saved settings with those changes
    (an edit form's "Test connection"): secrets left out are the saved ones; nothing is saved."""
    ds = api.ok(
        "POST",
        "/api/datastores",
        json={"name": "maria_edit", "connection": {**MARIADB, "password": "wrong"}, "database": "test"},
        params={"test_connection": "false"},
    )
    without_password = {k: v for k, v in MARIADB.items() if k != "password"}
    refused = api.ok(
        "POST",
        f"/api/datastores/{ds['id']}/connection",
        json={"connection": without_password, "database": maria_source},
    )
    assert refused["connected"] is False and "Access denied for user 'root'" in refused["message"]  # the saved one
    fixed = api.ok(
        "POST", f"/api/datastores/{ds['id']}/connection", json={"connection": MARIADB, "database": maria_source}
    )
    assert fixed == {"connected": True, "message": "connected; 3 container(s) found"}  # orders, big_orders, wide
    assert api.ok("GET", f"/api/datastores/{ds['id']}")["database"] == "test"  # nothing saved
    assert api.ok("POST", f"/api/datastores/{ds['id']}/connection")["connected"] is False  # no body: as saved
    bad = api.client.post(f"/api/datastores/{ds['id']}/connection", json={"connection": {**MARIADB, "host": ""}})
    assert bad.status_code == 422 and "a mysql connection needs 'host'" in bad.text


def test_mariadb_sync_and_scan(api, maria_source):
    ds = api.ok("POST", "/api/datastores", json={"name": "maria", "connection": MARIADB, "database": maria_source})
    assert ds["store_type"] == "jdbc" and ds["type"] == "mysql"
    api.sync(ds["id"])
    containers = api.ok("GET", "/api/containers", params={"datastore": ds["id"], "size": 100})["items"]
    assert {c["name"]: c["table_type"] for c in containers} == {
        "big_orders": "view",
        "orders": "table",
        "wide": "table",
    }
    orders = api.container_id(ds["id"], "orders")
    wide = api.ok("GET", f"/api/containers/{api.container_id(ds['id'], 'wide')}/fields")
    assert len(wide) == 200
    api.check(orders, "matchesPattern", ["Order Code"], properties={"pattern": "^[A-Z]-[0-9]+$"})  # 'bad code'
    api.check(orders, "notNegative", ["amount"])  # -1
    api.check(orders, "unique", ["id"])  # both id 2
    api.check(orders, "notFuture", ["placed"])  # 2099
    api.check(orders, "notNull", ["Order Code"])  # the NULL one
    op = api.scan(ds["id"], container_names=["orders"])
    assert op["result"] == "success", op
    (cs,) = op["container_scans"]
    assert {q["rule_type"]: q["anomalous_records_count"] for q in cs["quality_checks"]} == {
        "matchesPattern": 1,
        "notNegative": 1,
        "unique": 2,
        "notFuture": 1,
        "notNull": 1,
    }
    # rows 2 and 3 fail several checks each: one record anomaly per row
    assert cs["anomaly_count"] == 2


def test_sqlite_file_datastore(api, tmp_path):
    path = tmp_path / "shop.sqlite"
    con = sqlite3.connect(path)
    con.executescript(
        "CREATE TABLE items (sku TEXT, qty INTEGER);"
        "INSERT INTO items VALUES ('a', 1), ('b', -2), (NULL, 3);"
        "CREATE VIEW neg AS SELECT * FROM items WHERE qty < 0;"
    )
    con.close()
    ds = api.ok(
        "POST", "/api/datastores", json={"name": "lite", "connection": {"type": "sqlite"}, "database": str(path)}
    )
    api.sync(ds["id"])
    containers = api.ok("GET", "/api/containers", params={"datastore": ds["id"]})["items"]
    assert {c["name"]: c["table_type"] for c in containers} == {"items": "table", "neg": "view"}
    items = api.container_id(ds["id"], "items")
    api.check(items, "notNull", ["sku"])
    api.check(items, "notNegative", ["qty"])
    op = api.scan(ds["id"], container_names=["items"])
    assert op["status"]["anomalies_identified"] == 2 and op["status"]["records_processed"] == 3

    missing = api.ok(
        "POST",
        "/api/datastores",
        json={"name": "gone", "connection": {"type": "sqlite"}, "database": str(tmp_path / "nope.sqlite")},
        params={"test_connection": "false"},
    )
    op = api.run({"type": "sync", "datastore_id": missing["id"]})
    assert op["result"] == "failure" and "SQLite database file not found" in op["message"]
