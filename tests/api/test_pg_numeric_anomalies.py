"""Failing checks on PostgreSQL NUMERIC values without a fixed scale (``avg(...)`` of a
computed table, ``distance * 1.609`` of a computed field) record their anomalies with
their source records: example rows read such decimals as their exact text."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import create_engine, text

PG = {"type": "postgresql", "host": "127.0.0.1", "port": 5432, "username": "postgres"}


@pytest.fixture
def pg_flights(pg_admin):
    name = f"assay_num_{uuid.uuid4().hex[:10]}"
    with pg_admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for stmt in [
            "CREATE SCHEMA s",
            "CREATE TABLE s.flights (id integer, carrier text, dep_delay integer, distance integer, fare numeric)",
            "INSERT INTO s.flights VALUES (1, 'AA', 10, 100, 1), (2, 'AA', 20, 200, 2), (3, 'UA', 25, 1069, 1069), (4, 'UA', 30, 50, 3), (5, 'UA', 30, 10, 4)",
        ]:
            conn.execute(text(stmt))
    engine.dispose()
    yield name
    with pg_admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_failing_checks_on_unscaled_numeric_record_anomalies(api, pg_flights):
    ds = api.ok("POST", "/api/datastores", json={"name": "pg", "connection": PG, "database": pg_flights, "schema": "s"})
    api.sync(ds["id"])
    flights = api.container_id(ds["id"], "flights")
    query = "select carrier, count(*) n, avg(dep_delay) avg_delay from s.flights group by carrier"
    by_carrier = api.ok(
        "POST",
        "/api/containers",
        json={"container_type": "computed_table", "datastore_id": ds["id"], "name": "by_carrier", "query": query},
    )
    api.ok(
        "POST",
        "/api/computed-fields",
        json={"name": "km", "container_id": flights, "properties": {"column_expression": "distance * 1.609"}},
    )
    api.ok(
        "POST",
        "/api/computed-fields",
        json={"name": "fare_km", "container_id": flights, "properties": {"column_expression": "fare * 1.609"}},
    )
    api.check(by_carrier["id"], "between", ["avg_delay"], properties={"min": 0, "max": 20, "inclusive": True})
    api.check(flights, "notNull", ["km"])
    km = api.check(flights, "between", ["km"], properties={"min": 0, "max": 1000, "inclusive": True})
    fare_km = api.check(flights, "between", ["fare_km"], properties={"min": 0, "max": 1000, "inclusive": True})
    op = api.scan(ds["id"], container_names=["by_carrier", "flights"])
    assert op["result"] == "success", op
    scans = {cs["container"]["name"]: cs["anomaly_count"] for cs in op["container_scans"]}
    assert scans == {"by_carrier": 1, "flights": 1}, op
    [avg] = api.anomalies(container=by_carrier["id"])
    assert avg["anomalous_records_count"] == 1
    [source] = api.ok("GET", f"/api/anomalies/{avg['id']}/source-record")
    assert json.loads(source["source_record"]) == {"carrier": "UA", "n": 3, "avg_delay": "28.3333333333333333"}
    [dist] = api.anomalies(container=flights)
    assert dist["anomalous_records_count"] == 1
    assert [fc["quality_check"]["id"] for fc in dist["failed_checks"]] == [km["id"], fare_km["id"]]
    [source] = api.ok("GET", f"/api/anomalies/{dist['id']}/source-record")
    assert json.loads(source["source_record"]) == {
        "id": 3,
        "carrier": "UA",
        "dep_delay": 25,
        "distance": 1069,
        "fare": "1069",
        "km": 1720.021,
        "fare_km": "1720.021",
    }
