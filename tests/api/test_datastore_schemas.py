"""Issue 16 (every Qualytics client works): a datastore's ``schema`` on PostgreSQL,
MariaDB and DuckDB, and the shared connections of ``/api/connections``.

* a schema that does not exist is a 422 naming ``schema`` on create and update (the
  connection test), as Qualytics does;
* a PostgreSQL computed table's unqualified names are read in the datastore's schema;
* a connection's settings are validated with the model its datastores use, and an edit
  reaches the datastores using it.

One module-scoped API and one set of tables: PostgreSQL schemas ``<p>_a`` (table ``t``:
ids 1, 2, 3, NULL) and ``<p>_b`` (table ``t``: id 7; table ``u``) in database ``test``, a
MariaDB database ``<p>_m`` (table ``t``), a DuckDB file with an empty ``main.t`` and
``s1.t`` (ids 1, NULL, 3).
"""

from __future__ import annotations

import uuid

import duckdb
import pytest
from sqlalchemy import text

from tests.conftest import _client, make_settings

PG = {"type": "postgresql", "host": "127.0.0.1", "port": 5432, "username": "postgres"}
MARIADB = {"type": "mariadb", "host": "127.0.0.1", "port": 3306, "username": "root"}


@pytest.fixture(scope="module")
def world(tmp_path_factory, pg_admin, mariadb_server):
    prefix = f"i16_{uuid.uuid4().hex[:8]}"
    a, b, m = f"{prefix}_a", f"{prefix}_b", f"{prefix}_m"
    with pg_admin.connect() as conn:
        for stmt in (
            f'CREATE SCHEMA "{a}"',
            f'CREATE TABLE "{a}".t (id integer)',
            f'INSERT INTO "{a}".t VALUES (1), (2), (3), (NULL)',
            f'CREATE SCHEMA "{b}"',
            f'CREATE TABLE "{b}".t (id integer)',
            f'INSERT INTO "{b}".t VALUES (7)',
            f'CREATE TABLE "{b}".u (id integer)',
        ):
            conn.execute(text(stmt))
    con = mariadb_server(None)
    with con.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE `{m}`")
        cursor.execute(f"CREATE TABLE `{m}`.t (id integer)")
        cursor.execute(f"INSERT INTO `{m}`.t VALUES (1), (2)")
    tmp = tmp_path_factory.mktemp("schemas")
    duck = duckdb.connect(str(tmp / "d.duckdb"))
    duck.execute("create table t(id integer)")
    duck.execute("create schema s1")
    duck.execute("create table s1.t(id integer)")
    duck.execute("insert into s1.t values (1), (NULL), (3)")
    duck.close()
    try:
        for api in _client(make_settings(tmp)):
            yield api, {"a": a, "b": b, "m": m, "duck": str(tmp / "d.duckdb")}
    finally:
        with pg_admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{a}" CASCADE'))
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{b}" CASCADE'))
        with con.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{m}`")
        con.close()


def _detail(r) -> list:
    assert r.status_code == 422, r.text
    return [(e["loc"], e["msg"]) for e in r.json()["detail"]]


def test_a_missing_schema_is_422_naming_it_on_create_and_update(world):
    api, names = world
    bodies = {
        "postgresql": {"connection": PG, "database": "test"},
        "mariadb": {"connection": MARIADB, "database": "test"},
        "duckdb": {"connection": {"type": "duckdb"}, "database": names["duck"]},
    }
    for kind, body in bodies.items():
        r = api.client.post("/api/datastores", json={"name": f"nope_{kind}", **body, "schema": "nope_x"})
        assert _detail(r) == [
            (["body", "schema"], f"schema 'nope_x' does not exist in database '{body['database']}'")
        ], kind
    assert api.ok("GET", "/api/datastores", params={"search": "nope_"})["total"] == 0
    # an update to a missing schema is refused and nothing changes
    pg = api.ok(
        "POST", "/api/datastores", json={"name": "pg_a", "connection": PG, "database": "test", "schema": names["a"]}
    )
    maria = api.ok(
        "POST",
        "/api/datastores",
        json={"name": "maria_m", "connection": MARIADB, "database": "test", "schema": names["m"]},
    )
    for ds, schema in ((pg, names["a"]), (maria, names["m"])):
        r = api.client.put(f"/api/datastores/{ds['id']}", json={"schema": "nope_y"})
        assert _detail(r) == [(["body", "schema"], "schema 'nope_y' does not exist in database 'test'")]
        assert api.ok("GET", f"/api/datastores/{ds['id']}")["schema"] == schema
    # a MariaDB schema other than the database: its tables are the containers
    api.sync(maria["id"])
    assert [c["name"] for c in api.ok("GET", "/api/containers/listing", params={"datastore": maria["id"]})] == ["t"]


def test_a_postgres_computed_table_reads_the_datastores_schema(world):
    api, names = world
    ds = api.ok(
        "POST", "/api/datastores", json={"name": "pg_ct", "connection": PG, "database": "test", "schema": names["a"]}
    )
    api.sync(ds["id"])
    ct = api.ok(
        "POST",
        "/api/containers",
        json={"container_type": "computed_table", "name": "ct_t", "datastore_id": ds["id"], "query": "select * from t"},
    )
    profile = api.wait(
        api.ok("GET", "/api/operations", params={"container": ct["id"], "operation_type": "profile"})["items"][0]["id"]
    )
    assert profile["result"] == "success", profile
    sync = api.sync(ds["id"])
    assert sync["status"]["total_containers"] == 1  # the table t; the computed table is kept
    assert sorted(c["name"] for c in api.ok("GET", "/api/containers/listing", params={"datastore": ds["id"]})) == [
        "ct_t",
        "t",
    ]
    [field] = api.ok("GET", f"/api/containers/{ct['id']}/field-profiles")["items"]
    assert (field["name"], field["completeness"]) == ("id", 0.75)  # a's 4 rows, not b's 1
    api.check(ct["id"], "notNull", ["id"])
    scan = api.run({"type": "scan", "datastore_id": ds["id"], "container_names": ["ct_t"]})
    assert (scan["result"], scan["status"]["records_processed"], scan["status"]["anomalies_identified"]) == (
        "success",
        4,
        1,
    ), scan


def test_connections_are_validated_and_an_edit_reaches_their_datastores(world):
    api, names = world
    for body, loc, msg in (
        ({"type": "postgresql", "host": "h", "port": "abc"}, "port", "Input should be a valid integer"),
        ({"type": "postgresql", "host": "h", "port": 70000}, "port", "less than or equal to 65535"),
        ({"type": "oracle9"}, "type", "unsupported connection type 'oracle9'"),
    ):
        [(where, message)] = _detail(api.client.post("/api/connections", json={"name": "bad", **body}))
        assert where == ["body", loc] and msg in message, message
    conn = api.ok(
        "POST", "/api/connections", json={"name": "shared_pg", **PG, "database": "test", "schema": names["a"]}
    )
    [(where, message)] = _detail(api.client.put(f"/api/connections/{conn['id']}", json={"port": "abc"}))
    assert where == ["body", "port"] and message.startswith("'port': Input should be a valid integer"), message
    ds = api.ok("POST", "/api/datastores", json={"name": "pg_shared", "connection_id": conn["id"]})
    assert (ds["database"], ds["schema"]) == ("test", names["a"])
    api.sync(ds["id"])
    assert [c["name"] for c in api.ok("GET", "/api/containers/listing", params={"datastore": ds["id"]})] == ["t"]
    # the connection now points at schema b: the datastore's next test and sync read there
    api.ok("PUT", f"/api/connections/{conn['id']}", json={"schema": names["b"]})
    assert api.ok("GET", f"/api/datastores/{ds['id']}")["schema"] == names["b"]
    assert api.ok("POST", f"/api/datastores/{ds['id']}/connection") == {
        "connected": True,
        "message": "connected; 2 container(s) found",
    }
    api.sync(ds["id"])
    listing = api.ok("GET", "/api/containers/listing", params={"datastore": ds["id"]})
    assert sorted(c["name"] for c in listing) == ["t", "u"]
    r = api.client.put(f"/api/connections/{conn['id']}", json={"type": "mysql"})
    assert _detail(r) == [
        (["body", "type"], f"connection {conn['id']} is used by datastore(s) pg_shared; its type cannot change")
    ]
    # a wrong port on the connection reaches the datastore too: its test now fails
    api.ok("PUT", f"/api/connections/{conn['id']}", json={"port": 1})
    verdict = api.ok("POST", f"/api/datastores/{ds['id']}/connection")
    assert verdict["connected"] is False and "port 1" in verdict["message"], verdict


def test_a_duckdb_computed_table_reads_the_datastores_schema(world):
    api, names = world
    ds = api.duckdb_datastore("duck_s1", names["duck"], schema="s1")
    api.sync(ds["id"])
    ct = api.ok(
        "POST",
        "/api/containers",
        json={"container_type": "computed_table", "name": "ct_t", "datastore_id": ds["id"], "query": "select * from t"},
    )
    profile = api.wait(
        api.ok("GET", "/api/operations", params={"container": ct["id"], "operation_type": "profile"})["items"][0]["id"]
    )
    assert profile["result"] == "success", profile
    [field] = api.ok("GET", f"/api/containers/{ct['id']}/field-profiles")["items"]
    assert (field["name"], field["completeness"]) == ("id", 2 / 3)  # s1.t's 3 rows, not main.t's none
    api.check(ct["id"], "notNull", ["id"])
    scan = api.run({"type": "scan", "datastore_id": ds["id"], "container_names": ["ct_t"]})
    assert (scan["result"], scan["status"]["records_processed"], scan["status"]["anomalies_identified"]) == (
        "success",
        3,
        1,
    ), scan
