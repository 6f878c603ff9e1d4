"""Computed files and computed joins on the other engines than DuckDB (which the
qualytics-cli conformance test drives): a PostgreSQL schema (the rendered SELECT qualifies
the source tables; computed joins: a computed file there is a 422, computed files belong to
file datastores) and a folder of CSV files (a computed file read with DuckDB over its
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
    # a computed file belongs to a file datastore: on a database one it is a 422 naming datastore_id
    refused = api.post(
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
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "datastore_id"], refused.text
    joined = api.ok(
        "POST",
        "/api/containers",
        json={
            **_orders_join_customers(orders, customers),
            "name": "named",
            "join_type": "left",
            "select_clause": "o_id, c_name",
        },
    )
    assert _wait_profiled(api, joined["id"])["result"] == "success"
    api.check(joined["id"], "notNull", ["c_name"])
    op = api.scan(ds["id"], container_names=["named"])
    scans = {cs["container"]["name"]: (cs["records_processed"], cs["anomaly_count"]) for cs in op["container_scans"]}
    assert scans == {"named": (4, 1)}

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
    """Issue 16: a computed join over a container with a computed field: the field is computed in the side's relation, so it can be selected; validate,
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
    assert _wait_profiled(api, joined["id"])["result"] == "success"
    api.check(joined["id"], "notNull", ["c_name"])  # order 4: customer 9 is unknown
    api.check(joined["id"], "between", ["o_double_amount"], properties={"min": 0, "max": 30, "inclusive": True})
    op = api.scan(ds_id, container_names=["cf_join"])
    assert op["result"] == "success", op
    scans = {cs["container"]["name"]: (cs["records_processed"], cs["anomaly_count"]) for cs in op["container_scans"]}
    # order 2 (-10) and order 3 (40) out of range, order 4 without a name
    assert scans == {"cf_join": (4, 3)}
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


def test_a_computed_file_on_a_database_datastore_is_422(api, make_duckdb):
    """Issue 16: computed files belong to file datastores (computed tables to database ones):
    create and validate answer 422 naming datastore_id, and nothing is created."""
    path = make_duckdb("CREATE TABLE orders (id INTEGER, amount INTEGER)")
    ds = api.duckdb_datastore("db", path)
    api.sync(ds["id"])
    body = {
        "container_type": "computed_file",
        "name": "pos",
        "datastore_id": ds["id"],
        "source_container_id": api.container_id(ds["id"], "orders"),
        "select_clause": "id, amount",
    }
    message = (
        f"computed files belong to file datastores; datastore {ds['id']} ('db') is a database datastore: "
        "use a computed table (container_type computed_table) there"
    )
    for r in (api.post("/api/containers", json=body), api.post("/api/containers/validate", json={"container": body})):
        assert r.status_code == 422, r.text
        assert [(d["loc"], d["msg"]) for d in r.json()["detail"]] == [(["body", "datastore_id"], message)]
    assert [c["name"] for c in api.ok("GET", "/api/containers/listing", params={"datastore": ds["id"]})] == ["orders"]


def _customers_and_orders(api, make_duckdb, name: str, order_rows: str) -> tuple[dict, int, int]:
    """A synced DuckDB datastore ``name`` with customers Ann (1) and Bob (2) and ``orders(id,
    customer_id, amount)`` holding ``order_rows`` (SQL VALUES); returns (datastore, orders
    container id, customers container id)."""
    path = make_duckdb(
        "CREATE TABLE customers (id INTEGER, name VARCHAR)",
        "INSERT INTO customers VALUES (1, 'Ann'), (2, 'Bob')",
        "CREATE TABLE orders (id INTEGER, customer_id INTEGER, amount INTEGER)",
        f"INSERT INTO orders VALUES {order_rows}",
    )
    ds = api.duckdb_datastore(name, path)
    api.sync(ds["id"])
    return ds, api.container_id(ds["id"], "orders"), api.container_id(ds["id"], "customers")


def _orders_join_customers(orders: int, customers: int) -> dict:
    """The body of a computed join of orders (prefix ``o``) with customers (``c``) on the
    customer id, without its name and select clause."""
    return {
        "container_type": "computed_join",
        "left_container_id": orders,
        "right_container_id": customers,
        "left_join_field_name": "customer_id",
        "right_join_field_name": "id",
        "left_prefix": "o",
        "right_prefix": "c",
    }


def test_a_computed_join_follows_the_computed_fields_of_its_sources(api, make_duckdb):
    """Issue 16: a computed join inlines its sources' computed fields; when one changes the
    join is rendered again and its fields read again (they went stale before), and deleting
    a computed field the join selects is a 409 that deletes nothing."""
    ds, orders, customers = _customers_and_orders(
        api, make_duckdb, "cfj", "(1, 1, 10), (2, 1, -5), (3, 2, 20), (4, 2, 7)"
    )
    cf = api.ok(
        "POST",
        "/api/computed-fields",
        json={"name": "scaled", "container_id": orders, "properties": {"column_expression": "amount * 2"}},
    )
    joined = api.ok(
        "POST",
        "/api/containers",
        json={
            **_orders_join_customers(orders, customers),
            "name": "scaled_join",
            "select_clause": "o_id, o_scaled, c_name",
        },
    )
    assert _wait_profiled(api, joined["id"])["result"] == "success"
    api.check(joined["id"], "between", ["o_scaled"], properties={"min": 0, "max": 25, "inclusive": True})

    def anomalies() -> int:
        op = api.scan(ds["id"], container_names=["scaled_join"])
        [cs] = op["container_scans"]
        return cs["anomaly_count"]

    def field_types() -> list[tuple[str, str]]:
        return [(f["name"], f["type"]) for f in api.ok("GET", f"/api/containers/{joined['id']}/fields")]

    assert anomalies() == 2  # x2: 20, -10, 40, 14: -10 and 40 out of 0..25
    assert field_types() == [("o_id", "Integral"), ("o_scaled", "Integral"), ("c_name", "String")]
    update = {"name": "scaled", "transformation": "customExpression"}
    api.ok(
        "PUT", f"/api/computed-fields/{cf['id']}", json={**update, "properties": {"column_expression": "amount * 3"}}
    )
    assert anomalies() == 3  # x3: 30, -15, 60, 21: 30, -15 and 60 out of 0..25 (x2 read before: still 2)
    api.ok(
        "PUT",
        f"/api/computed-fields/{cf['id']}",
        json={**update, "properties": {"column_expression": "amount * 1.5"}},
    )
    assert field_types() == [("o_id", "Integral"), ("o_scaled", "Fractional"), ("c_name", "String")]
    # the join selects o_scaled: the computed field cannot go
    r = api.delete(f"/api/computed-fields/{cf['id']}")
    assert r.status_code == 409, r.text
    assert r.json()["detail"].startswith(
        f"computed join 'scaled_join' (container {joined['id']}) is built on container 'orders' and would break: "
    ), r.text
    assert [f["name"] for f in api.ok("GET", f"/api/containers/{orders}")["computed_fields"]] == ["scaled"]


def test_a_refused_computed_field_delete_changes_nothing_whatever_the_join_order(api, make_duckdb):
    """A 409 on deleting a computed field leaves it in place even when another computed join
    on its container (one that does not need the field, checked first) would have been
    rebuilt: its profile was queued, which committed the delete before the 409 (trial)."""
    _ds, orders, customers = _customers_and_orders(api, make_duckdb, "order", "(1, 1, 10), (2, 2, 20)")
    join = _orders_join_customers(orders, customers)
    # made first, so checked first; it does not select the computed field, but its query
    # inlines the computed fields of orders, so deleting one renders it again
    every = api.ok("POST", "/api/containers", json={**join, "name": "every_field", "select_clause": "o_id, c_name"})
    assert _wait_profiled(api, every["id"])["result"] == "success"
    cf = api.ok(
        "POST",
        "/api/computed-fields",
        json={"name": "doubled", "container_id": orders, "properties": {"column_expression": "amount * 2"}},
    )
    needs = api.ok("POST", "/api/containers", json={**join, "name": "needs", "select_clause": "o_id, o_doubled"})
    assert _wait_profiled(api, needs["id"])["result"] == "success"
    every_fields = [f["name"] for f in api.ok("GET", f"/api/containers/{every['id']}/fields")]

    def profiles_of_every() -> int:
        params = {"container": every["id"], "operation_type": "profile"}
        return api.ok("GET", "/api/operations", params=params)["total"]

    profiled = profiles_of_every()  # at its creation, and again when the computed field came
    assert profiled == 2

    r = api.delete(f"/api/computed-fields/{cf['id']}")
    assert r.status_code == 409, r.text
    assert r.json()["detail"].startswith(
        f"computed join 'needs' (container {needs['id']}) is built on container 'orders'"
    )
    assert [f["name"] for f in api.ok("GET", f"/api/containers/{orders}")["computed_fields"]] == ["doubled"]
    assert "doubled" in [f["name"] for f in api.ok("GET", f"/api/containers/{orders}/fields")]
    assert [f["name"] for f in api.ok("GET", f"/api/containers/{every['id']}/fields")] == every_fields
    assert profiles_of_every() == profiled  # before the fix: rendered again, profiled, committed
    renamed = api.ok(
        "PUT",
        f"/api/computed-fields/{cf['id']}",
        json={
            "name": "doubled",
            "transformation": "customExpression",
            "properties": {"column_expression": "amount + amount"},
        },
    )
    assert renamed["id"] == cf["id"]
