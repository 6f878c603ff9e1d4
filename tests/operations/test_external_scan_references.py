"""An external scan (``POST /api/containers/{id}/scan``: records computed elsewhere) asserts
cross-container checks whose reference container is in an Assay datastore (issue 16: they
failed with "Multiple backends"). The records sit in an in-memory DuckDB, the reference on
the datastore's own engine, so the reference is copied next to them; on DuckDB, SQLite,
PostgreSQL and MariaDB datastores."""

from __future__ import annotations

import sqlite3
import uuid

import duckdb
import pytest
from sqlalchemy import text

TABLES = (
    "CREATE TABLE customers (id INTEGER)",
    "INSERT INTO customers VALUES (1), (2), (3)",
    "CREATE TABLE orders (id INTEGER, customer_id INTEGER)",
    "INSERT INTO orders VALUES (1, 1)",
)


@pytest.fixture(params=["duckdb", "sqlite", "postgresql", "mariadb"])
def datastore(request, tmp_path):
    """(POST /api/datastores body) of a datastore holding ``customers`` (ids 1–3) and ``orders``."""
    kind = request.param
    if kind == "postgresql":
        admin = request.getfixturevalue("pg_admin")  # database "test"
        schema = f"assay_ext_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            conn.execute(text(f'SET search_path TO "{schema}"'))
            for sql in TABLES:
                conn.execute(text(sql))
            conn.execute(text("RESET search_path"))  # a pooled connection: leave it as found
        connection = {"type": "postgresql", "host": "127.0.0.1", "port": 5432, "username": "postgres"}
        yield {"name": kind, "connection": connection, "database": "test", "schema": schema}
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        return
    if kind == "mariadb":
        conn = request.getfixturevalue("mariadb_server")(None)
        name = f"assay_ext_{uuid.uuid4().hex[:10]}"
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}`")
            cur.execute(f"USE `{name}`")
            for sql in TABLES:
                cur.execute(sql)
        conn.commit()
        connection = {"type": "mariadb", "host": "127.0.0.1", "port": 3306, "username": "root", "password": ""}
        yield {"name": kind, "connection": connection, "database": name}
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        conn.close()
        return
    path = tmp_path / f"shop.{kind}"
    con = duckdb.connect(str(path)) if kind == "duckdb" else sqlite3.connect(str(path))
    for sql in TABLES:
        con.execute(sql)
    if kind == "sqlite":
        con.commit()
    con.close()
    yield {"name": kind, "connection": {"type": kind}, "database": str(path)}


def test_an_external_scan_asserts_exists_in_against_its_datastore(api, datastore):
    ds = api.ok("POST", "/api/datastores", json=datastore)
    api.sync(ds["id"])
    orders, customers = api.container_id(ds["id"], "orders"), api.container_id(ds["id"], "customers")
    exists = api.check(
        orders, "existsIn", ["customer_id"], properties={"ref_container_id": customers, "field_name": "id"}
    )
    missing = api.check(orders, "notExistsIn", ["id"], properties={"ref_container_id": customers, "field_name": "id"})
    # customer ids 2 and 9: 9 is not a customer; order ids 7 and 3: 3 is a customer id
    records = [{"id": 7, "customer_id": 2}, {"id": 3, "customer_id": 9}]
    op = api.wait(api.ok("POST", f"/api/containers/{orders}/scan", json={"name": "o.csv", "records": records})["id"])
    assert op["result"] == "success" and op["message"] is None, op
    [cs] = op["container_scans"]
    results = {r["quality_check_id"]: r for r in cs["quality_checks"]}
    assert (results[exists["id"]]["result"], results[missing["id"]]["result"]) == ("failed", "failed"), results
    # both checks fail on the one record {id 3, customer 9}: one record anomaly, two failed checks
    assert (op["status"]["records_processed"], op["status"]["anomalies_identified"]) == (2, 1)
    [anomaly] = api.ok("GET", f"/api/container-scans/{cs['id']}/anomalies")["items"]
    assert anomaly["anomalous_records_count"] == 1
    assert sorted(fc["quality_check"]["id"] for fc in anomaly["failed_checks"]) == sorted([exists["id"], missing["id"]])


def test_a_reference_too_large_to_copy_is_compared_apart(api, tmp_path, monkeypatch):
    # a reference over REFERENCE_ROWS stays on its engine: the check runs apart (keys in
    # batches between the records' DuckDB and the datastore's), with the same counts
    monkeypatch.setattr("assay.operations.external_scan.REFERENCE_ROWS", 2)  # customers has 3
    path = tmp_path / "big.duckdb"
    con = duckdb.connect(str(path))
    for sql in TABLES:
        con.execute(sql)
    con.close()
    ds = api.duckdb_datastore("big", path)
    api.sync(ds["id"])
    orders, customers = api.container_id(ds["id"], "orders"), api.container_id(ds["id"], "customers")
    api.check(orders, "existsIn", ["customer_id"], properties={"ref_container_id": customers, "field_name": "id"})
    records = [{"id": 7, "customer_id": 2}, {"id": 3, "customer_id": 9}, {"id": 4, "customer_id": 8}]
    op = api.wait(api.ok("POST", f"/api/containers/{orders}/scan", json={"name": "o.csv", "records": records})["id"])
    assert op["result"] == "success" and op["message"] is None, op
    [result] = op["container_scans"][0]["quality_checks"]
    # customers 9 and 8 are not customers: 2 anomalous records of 3
    assert (result["result"], result["asserted_records_count"], result["anomalous_records_count"]) == ("failed", 3, 2)
    assert op["status"]["anomalies_identified"] == 2
