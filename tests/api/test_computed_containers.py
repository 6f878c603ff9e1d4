"""Computed files and computed joins on the other engines than DuckDB (which the
qualytics-cli conformance test drives): a PostgreSQL schema (the rendered SELECT qualifies
the source tables) and a folder of CSV files (a computed file read with DuckDB over its
file container). Each is created, profiled automatically and scanned with exact counts."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, text

PG = {"type": "postgresql", "host": "127.0.0.1", "port": 5432, "username": "postgres"}


@pytest.fixture
def pg_shop(pg_admin):
    name = f"assay_cc_{uuid.uuid4().hex[:10]}"
    with pg_admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for stmt in [
            "CREATE SCHEMA shop",
            "CREATE TABLE shop.customers (id integer, name text)",
            "INSERT INTO shop.customers VALUES (1, 'Ann'), (2, 'Bob')",
            "CREATE TABLE shop.orders (id integer, customer_id integer, amount numeric(10,2), status text)",
            "INSERT INTO shop.orders VALUES (1, 1, 10, 'paid'), (2, 1, -5, 'paid'), (3, 2, 20, 'open'), (4, 9, 7, 'paid')",
        ]:
            conn.execute(text(stmt))
    engine.dispose()
    yield name
    with pg_admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _wait_profiled(api, container_id: int) -> dict:
    [op] = api.ok("GET", "/api/operations", params={"container": container_id, "operation_type": "profile"})["items"]
    return api.wait(op["id"])


def test_postgres_computed_file_and_join(api, pg_shop):
    ds = api.ok("POST", "/api/datastores", json={"name": "pg", "connection": PG, "database": pg_shop, "schema": "shop"})
    api.sync(ds["id"])
    orders, customers = api.container_id(ds["id"], "orders"), api.container_id(ds["id"], "customers")
    paid = api.ok(
        "POST",
        "/api/containers",
        json={
            "container_type": "computed_file",
            "name": "paid",
            "datastore_id": ds["id"],
            "source_container_id": orders,
            "select_clause": "id, amount",
            "where_clause": "status = 'paid'",
        },
    )
    joined = api.ok(
        "POST",
        "/api/containers",
        json={
            "container_type": "computed_join",
            "name": "named",
            "left_container_id": orders,
            "right_container_id": customers,
            "left_join_field_name": "customer_id",
            "right_join_field_name": "id",
            "left_prefix": "o",
            "right_prefix": "c",
            "join_type": "left",
            "select_clause": "o_id, c_name",
        },
    )
    assert _wait_profiled(api, paid["id"])["result"] == "success"
    assert _wait_profiled(api, joined["id"])["result"] == "success"
    api.check(paid["id"], "notNegative", ["amount"])
    api.check(joined["id"], "notNull", ["c_name"])
    op = api.scan(ds["id"], container_names=["paid", "named"])
    scans = {cs["container"]["name"]: (cs["records_processed"], cs["anomaly_count"]) for cs in op["container_scans"]}
    assert scans == {"paid": (3, 1), "named": (4, 1)}

    bad = api.post(
        "/api/containers",
        json={
            "container_type": "computed_join",
            "name": "bad",
            "left_container_id": orders,
            "right_container_id": customers,
            "left_join_field_name": "nope",
            "right_join_field_name": "id",
            "select_clause": "left_id",
        },
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "left_join_field_name"], bad.text
    _join_over_a_computed_field(api, ds["id"], orders, customers)


def test_computed_file_over_a_file_container(api, tmp_path):
    lake = tmp_path / "lake"
    lake.mkdir()
    (lake / "orders.csv").write_text("id,amount,status\n1,10,paid\n2,-5,paid\n3,20,open\n")
    ds = api.ok(
        "POST", "/api/datastores", json={"name": "files", "connection": {"type": "local", "uri": f"file://{lake}"}}
    )
    api.sync(ds["id"])
    [source] = api.ok("GET", "/api/containers/listing", params={"datastore": ds["id"]})
    paid = api.ok(
        "POST",
        "/api/containers",
        json={
            "container_type": "computed_file",
            "name": "paid",
            "datastore_id": ds["id"],
            "source_container_id": source["id"],
            "select_clause": "id, amount * 2 AS doubled",
            "where_clause": "status = 'paid'",
        },
    )
    assert [f["name"] for f in api.ok("GET", f"/api/containers/{paid['id']}/fields")] == ["id", "doubled"]
    assert _wait_profiled(api, paid["id"])["result"] == "success"
    api.check(paid["id"], "notNegative", ["doubled"])
    op = api.scan(ds["id"], container_names=["paid"])
    assert [(cs["records_processed"], cs["anomaly_count"]) for cs in op["container_scans"]] == [(2, 1)]


def _join_over_a_computed_field(api, ds_id: int, orders: int, customers: int) -> None:
    """Issue 16: a computed join (and a computed file) over a container with a computed
    field: the field is computed in the side's relation, so it can be selected; validate,
    create, profile, scan and edit the select clause with exact counts."""
    api.ok(
        "POST",
        "/api/computed-fields",
        json={
            "name": "double_amount",
            "container_id": orders,
            "transformation": "customExpression",
            "properties": {"column_expression": "amount * 2"},
        },
    )
    join = {
        "container_type": "computed_join",
        "name": "cf_join",
        "left_container_id": orders,
        "right_container_id": customers,
        "left_join_field_name": "customer_id",
        "right_join_field_name": "id",
        "left_prefix": "o",
        "right_prefix": "c",
        "join_type": "left",
        "select_clause": "o_id, o_double_amount, c_name",
    }
    assert api.post("/api/containers/validate", json={"container": join}).status_code == 204
    joined = api.ok("POST", "/api/containers", json=join)
    assert [f["name"] for f in api.ok("GET", f"/api/containers/{joined['id']}/fields")] == [
        "o_id",
        "o_double_amount",
        "c_name",
    ]
    doubled = api.ok(
        "POST",
        "/api/containers",
        json={
            "container_type": "computed_file",
            "name": "cf_file",
            "datastore_id": ds_id,
            "source_container_id": orders,
            "select_clause": "id, double_amount",
            "where_clause": "double_amount > 0",
        },
    )
    assert _wait_profiled(api, joined["id"])["result"] == "success"
    assert _wait_profiled(api, doubled["id"])["result"] == "success"
    api.check(joined["id"], "notNull", ["c_name"])  # order 4: customer 9 is unknown
    api.check(joined["id"], "between", ["o_double_amount"], properties={"min": 0, "max": 30, "inclusive": True})
    api.check(doubled["id"], "between", ["double_amount"], properties={"min": 0, "max": 30, "inclusive": True})
    op = api.scan(ds_id, container_names=["cf_join", "cf_file"])
    assert op["result"] == "success", op
    scans = {cs["container"]["name"]: (cs["records_processed"], cs["anomaly_count"]) for cs in op["container_scans"]}
    # join: order 2 (-10) and order 3 (40) out of range, order 4 without a name; file: 3 positive, order 3 (40)
    assert scans == {"cf_join": (4, 3), "cf_file": (3, 1)}
    # editing the select clause keeps working over the computed field
    api.ok(
        "PUT",
        f"/api/containers/{joined['id']}",
        json={"select_clause": "o_id, o_double_amount, o_double_amount / 2 AS half, c_name"},
    )
    assert [f["name"] for f in api.ok("GET", f"/api/containers/{joined['id']}/fields")] == [
        "o_id",
        "o_double_amount",
        "half",
        "c_name",
    ]


def test_duckdb_computed_join_over_a_computed_field(api, make_duckdb):
    path = make_duckdb(
        "CREATE TABLE customers (id INTEGER, name VARCHAR)",
        "INSERT INTO customers VALUES (1, 'Ann'), (2, 'Bob')",
        "CREATE TABLE orders (id INTEGER, customer_id INTEGER, amount DECIMAL(10,2), status VARCHAR)",
        "INSERT INTO orders VALUES (1, 1, 10, 'paid'), (2, 1, -5, 'paid'), (3, 2, 20, 'open'), (4, 9, 7, 'paid')",
    )
    ds = api.duckdb_datastore("cfjoin", path)
    api.sync(ds["id"])
    _join_over_a_computed_field(
        api, ds["id"], api.container_id(ds["id"], "orders"), api.container_id(ds["id"], "customers")
    )
