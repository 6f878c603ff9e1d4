"""Incremental scans, partitions and checkpoints, end to end through the REST API.

Every expected number is derived from the rows each test writes (comments say how).
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from pathlib import Path

import duckdb
import pytest

from assay.sources.base import DuckDBStaging


def execute(path: Path, *statements: str) -> None:
    con = duckdb.connect(str(path))
    try:
        for sql in statements:
            con.execute(sql)
    finally:
        con.close()


def only_scan(op: dict) -> dict:
    (cs,) = op["container_scans"]
    return cs


def status(op: dict) -> tuple[int, int, int]:
    st = op["status"]
    return st["records_processed"], st["partitions_scanned"], st["anomalies_identified"]


EVENTS = (
    "create table events (id int, updated_at timestamp, amount int)",
    # 2024-01-01: ids 1-3 (id 2 negative); 2024-01-02: ids 4-5 (id 5 negative)
    "insert into events values (1, '2024-01-01 08:00', 10), (2, '2024-01-01 09:00', -1), (3, '2024-01-01 10:00', 5),"
    " (4, '2024-01-02 08:00', 7), (5, '2024-01-02 09:00', -3)",
)


def setup_events(api, make_duckdb):
    path = make_duckdb(*EVENTS)
    ds = api.duckdb_datastore("src", path)
    api.sync(ds["id"])
    cid = api.container_id(ds["id"], "events")
    api.check(cid, "notNegative", ["amount"])
    return path, ds["id"], cid


def logged_read(api, path: Path, cid: int, specs, params: dict):
    """``read_and_evaluate`` of container ``cid`` of DuckDB file ``path`` with DuckDB's query
    log on: ``(read, evaluation, the statements DuckDB ran)``."""
    from sqlalchemy import select

    from assay.operations.scan import read_and_evaluate
    from assay.sources.duckdb import DuckDBSource
    from assay.store.models import Container

    with api.client.app.state.database.session() as s:
        container = s.scalars(select(Container).where(Container.id == cid)).one()
        s.expunge(container)
    source = DuckDBSource(str(path))
    try:
        source.con.con.execute("CALL enable_logging('QueryLog')")
        read, _table, result = read_and_evaluate(source, container, [], specs, params, example_limit=5)
        source.con.con.execute("CALL disable_logging()")
        logged = [
            m for (m,) in source.con.con.execute("SELECT message FROM duckdb_logs WHERE type = 'QueryLog'").fetchall()
        ]
    finally:
        source.close()
    return read, result, logged


def test_sync_proposes_identifiers(api, make_duckdb):
    path = make_duckdb(
        *EVENTS,
        "create table loads (batch_id int, v int)",
        "create table plain (v int, label varchar)",
    )
    ds = api.duckdb_datastore("src", path)
    api.sync(ds["id"])
    by_name = {c["name"]: c for c in api.ok("GET", "/api/containers", params={"datastore": ds["id"]})["items"]}
    assert (
        by_name["events"]["incremental_field_name"],
        by_name["events"]["incremental_identifier_type"],
        by_name["events"]["partition_field"],
    ) == ("updated_at", "timestamp", "updated_at")
    assert (by_name["loads"]["incremental_field_name"], by_name["loads"]["incremental_identifier_type"]) == (
        "batch_id",
        "batch",
    )
    assert by_name["plain"]["incremental_field_name"] is None
    assert by_name["plain"]["incremental_checkpoint"] is None


def test_three_successive_incremental_scans_read_only_new_rows(api, make_duckdb):
    path, ds_id, cid = setup_events(api, make_duckdb)

    first = api.scan(ds_id, incremental=True)
    assert first["result"] == "success", first
    # no checkpoint yet: all 5 rows, 2 days, ids 2 and 5 negative
    assert status(first) == (5, 2, 2)
    container = api.ok("GET", f"/api/containers/{cid}")
    assert container["incremental_checkpoint"] == "2024-01-02T09:00:00+00:00"

    execute(path, "insert into events values (6, '2024-01-03 08:00', 1), (7, '2024-01-03 10:00', -9)")
    second = api.scan(ds_id, incremental=True)
    # only ids 6 and 7 (one day); id 7 is negative
    assert status(second) == (2, 1, 1)
    cs = api.ok("GET", f"/api/container-scans/{only_scan(second)['id']}")
    assert [(p["partition"], p["records_processed"]) for p in cs["partition_scans"]] == [("2024-01-03", 2)]
    assert len(cs["partition_scans"][0]["anomalies"]) == 1
    assert api.ok("GET", f"/api/containers/{cid}")["incremental_checkpoint"] == "2024-01-03T10:00:00+00:00"

    third = api.scan(ds_id, incremental=True)
    # nothing newer than 2024-01-03 10:00
    assert status(third) == (0, 0, 0)
    assert third["result"] == "success"
    assert api.ok("GET", f"/api/containers/{cid}")["incremental_checkpoint"] == "2024-01-03T10:00:00+00:00"

    # A full scan reads everything again (7 rows over 3 days, 3 negatives) and never lowers the checkpoint.
    full = api.scan(ds_id, incremental=False, archive_duplicate_anomalies=False)
    assert status(full)[:2] == (7, 3)
    assert api.ok("GET", f"/api/containers/{cid}")["incremental_checkpoint"] == "2024-01-03T10:00:00+00:00"

    partitions = api.ok("GET", "/api/partitions", params={"container": cid})["items"]
    assert sorted((p["name"], p["partition_size"]) for p in partitions) == [
        ("2024-01-01", 3),
        ("2024-01-02", 2),
        ("2024-01-03", 2),
    ]
    day1 = next(p for p in partitions if p["name"] == "2024-01-01")
    assert (day1["min_time"], day1["max_time"]) == ("2024-01-01T08:00:00Z", "2024-01-01T10:00:00Z")
    # id 2 fails in the first scan and again in the full scan (duplicates kept Active: the full
    # scan sends archive_duplicate_anomalies false)
    assert day1["num_active"] == 2
    assert api.ok("GET", f"/api/partitions/{day1['id']}")["name"] == "2024-01-01"


def test_greater_than_time_overrides_the_checkpoint(api, make_duckdb):
    _path, ds_id, cid = setup_events(api, make_duckdb)
    api.scan(ds_id, incremental=True)  # checkpoint 2024-01-02 09:00
    # 2024-01-01T10:30+02:00 is 08:30 UTC: ids 2, 3 (09:00, 10:00 on day 1), 4, 5 (day 2) are later;
    # ids 2 and 5 are negative
    op = api.scan(ds_id, incremental=True, greater_than_time="2024-01-01T10:30:00+02:00")
    assert status(op) == (4, 2, 2)
    # a full scan honours it too
    op = api.scan(ds_id, greater_than_time="2024-01-01T23:59:59Z")
    assert status(op)[:2] == (2, 1)


def test_batch_identifier_partitions_threshold_and_deterministic_cap(api, make_duckdb):
    path = make_duckdb(
        "create table loads (batch_id int, v int)",
        # batch 1: 5, -1, 3   batch 2: 7, -2   batch 3: -4
        "insert into loads values (1, 5), (1, -1), (1, 3), (2, 7), (2, -2), (3, -4)",
    )
    ds = api.duckdb_datastore("src", path)
    api.sync(ds["id"])
    cid = api.container_id(ds["id"], "loads")
    api.check(cid, "notNegative", ["v"])

    op = api.scan(ds["id"], greater_than_batch=1)
    assert status(op) == (3, 2, 2)  # batches 2 and 3: -2 and -4
    cs = api.ok("GET", f"/api/container-scans/{only_scan(op)['id']}")
    assert [(p["partition"], p["records_processed"]) for p in cs["partition_scans"]] == [("2", 2), ("3", 1)]

    # Two rows per batch at most, chosen by value order: batch 1 reads -1 and 3, batch 2 both, batch 3 its one.
    runs = [
        api.scan(ds["id"], max_records_analyzed_per_partition=2, archive_duplicate_anomalies=False) for _ in range(2)
    ]
    for run in runs:
        assert status(run) == (5, 3, 3)
    read = [
        sorted(str(a["source_records"]) for a in api.anomalies(container=cid) if a["operation_id"] == run["id"])
        for run in runs
    ]
    assert read[0] == read[1]
    assert len(read[0]) == 3 and all("-1" in r or "-2" in r or "-4" in r for r in read[0])
    batches = api.ok("GET", "/api/partitions", params={"container": cid})["items"]
    assert sorted((p["name"], p["min_offset"], p["max_offset"]) for p in batches) == [
        ("1", 1.0, 1.0),
        ("2", 2.0, 2.0),
        ("3", 3.0, 3.0),
    ]

    # Every successful scan moved the checkpoint to the highest batch it read (3): nothing is new.
    assert api.ok("GET", f"/api/containers/{cid}")["incremental_checkpoint"] == 3
    first = api.scan(ds["id"], incremental=True)
    assert status(first) == (0, 0, 0)
    execute(path, "insert into loads values (4, 1), (4, -7)")
    second = api.scan(ds["id"], incremental=True)
    assert status(second) == (2, 1, 1)
    assert api.ok("GET", f"/api/containers/{cid}")["incremental_checkpoint"] == 4


def test_a_failed_container_scan_does_not_move_the_checkpoint(api, make_duckdb):
    path, ds_id, cid = setup_events(api, make_duckdb)
    api.scan(ds_id, incremental=True)
    execute(path, "insert into events values (6, '2024-01-05 08:00', -1)", "alter table events rename to events_moved")
    failed = api.scan(ds_id, incremental=True)
    assert only_scan(failed)["result"] == "failure"
    assert api.ok("GET", f"/api/containers/{cid}")["incremental_checkpoint"] == "2024-01-02T09:00:00+00:00"
    execute(path, "alter table events_moved rename to events")
    again = api.scan(ds_id, incremental=True)
    assert status(again) == (1, 1, 1)  # id 6, which the failed scan did not get to
    assert api.ok("GET", f"/api/containers/{cid}")["incremental_checkpoint"] == "2024-01-05T08:00:00+00:00"


def test_a_container_without_identifier_is_read_in_full_and_says_so(api, make_duckdb):
    path = make_duckdb("create table plain (v int)", "insert into plain values (1), (-2), (3)")
    ds = api.duckdb_datastore("src", path)
    api.sync(ds["id"])
    for _ in range(2):
        op = api.scan(ds["id"], incremental=True)
        assert status(op)[:2] == (3, 1)
        assert only_scan(op)["message"] == "no incremental identifier: read in full"
        assert op["result"] == "success" and op["message"] is None  # a note, not a warning


def test_identifier_overrides_survive_sync_and_bad_ones_are_422(api, make_duckdb):
    path = make_duckdb(*EVENTS)
    ds = api.duckdb_datastore("src", path)
    api.sync(ds["id"])
    cid = api.container_id(ds["id"], "events")
    r = api.put(f"/api/containers/{cid}", json={"incremental_field_name": "nope"})
    assert r.status_code == 422 and "incremental_field_name" in r.text and "nope" in r.text
    r = api.put(
        f"/api/containers/{cid}", json={"incremental_field_name": "updated_at", "incremental_identifier_type": "batch"}
    )
    assert r.status_code == 422 and "incremental_identifier_type" in r.text
    body = api.ok("PUT", f"/api/containers/{cid}", json={"incremental_field_name": "id", "partition_field": None})
    assert (body["incremental_field_name"], body["incremental_identifier_type"], body["partition_field"]) == (
        "id",
        "batch",
        None,
    )
    api.sync(ds["id"])
    after = api.ok("GET", f"/api/containers/{cid}")
    assert (after["incremental_field_name"], after["incremental_identifier_type"]) == ("id", "batch")
    # id as a batch identifier: one partition per value; later scans read ids > 5
    api.check(cid, "notNegative", ["amount"])
    assert status(api.scan(ds["id"], incremental=True)) == (5, 5, 2)
    execute(path, "insert into events values (6, '2023-01-01', 4)")  # older timestamp, newer id
    assert status(api.scan(ds["id"], incremental=True)) == (1, 1, 0)


def test_a_file_pattern_that_gains_a_file_scans_only_that_file(api, tmp_path):
    folder = tmp_path / "files"
    folder.mkdir()
    base = dt.datetime(2024, 3, 1, tzinfo=dt.UTC).timestamp()

    def write(name: str, rows: list[str], age_days: int) -> None:
        f = folder / name
        f.write_text("id,amount\n" + "\n".join(rows) + "\n")
        os.utime(f, (base + age_days * 86400, base + age_days * 86400))

    write("orders_2024_01.csv", ["1,5", "2,-1", "3,4"], 0)
    write("orders_2024_02.csv", ["4,-2", "5,3"], 1)
    ds = api.ok(
        "POST", "/api/datastores", json={"name": "files", "connection": {"type": "local", "uri": f"file://{folder}"}}
    )
    api.sync(ds["id"])
    cid = api.container_id(ds["id"], "orders")
    container = api.ok("GET", f"/api/containers/{cid}")
    assert (container["incremental_field_name"], container["incremental_identifier_type"]) == (
        "_last_modified",
        "timestamp",
    )
    api.check(cid, "notNegative", ["amount"])

    first = api.scan(ds["id"], incremental=True)
    assert status(first) == (5, 2, 2)
    assert api.ok("GET", f"/api/containers/{cid}")["incremental_checkpoint"] == "2024-03-02T00:00:00+00:00"

    write("orders_2024_03.csv", ["6,-3", "7,1", "8,2", "9,-4"], 2)
    second = api.scan(ds["id"], incremental=True)
    assert status(second) == (4, 1, 2)
    cs = api.ok("GET", f"/api/container-scans/{only_scan(second)['id']}")
    assert [(p["partition"], p["records_processed"], len(p["anomalies"])) for p in cs["partition_scans"]] == [
        ("orders_2024_03.csv", 4, 2)
    ]

    third = api.scan(ds["id"], incremental=True)
    assert status(third) == (0, 0, 0)
    partitions = api.ok("GET", "/api/partitions", params={"container": cid})["items"]
    assert sorted((p["name"], p["partition_size"], p["max_time"]) for p in partitions) == [
        ("orders_2024_01.csv", 3, "2024-03-01T00:00:00Z"),
        ("orders_2024_02.csv", 2, "2024-03-02T00:00:00Z"),
        ("orders_2024_03.csv", 4, "2024-03-03T00:00:00Z"),
    ]


def test_incremental_scans_on_postgresql_with_a_timestamptz_identifier(api, pg_database):
    from sqlalchemy import create_engine, text

    from tests.engines import PG_HOST

    pg = create_engine(pg_database)

    def sql(statement: str) -> None:
        with pg.begin() as conn:
            conn.execute(text(statement))

    sql("CREATE TABLE events (id int, updated_at timestamptz, amount int)")
    # 22:30 at -05:00 is 03:30 UTC the next day: that row belongs to partition 2024-01-02
    sql(
        "INSERT INTO events VALUES (1, '2024-01-01 10:00+00', 1), (2, '2024-01-01 22:30-05:00', -1), "
        "(3, '2024-01-02 08:00+00', -2)"
    )
    ds = api.ok(
        "POST",
        "/api/datastores",
        json={
            "name": "pg",
            "connection": {"type": "postgresql", "host": PG_HOST, "username": "postgres"},
            "database": pg_database.rsplit("/", 1)[1],
            "schema": "public",
        },
    )
    api.sync(ds["id"])
    cid = api.container_id(ds["id"], "events")
    api.check(cid, "notNegative", ["amount"])
    first = api.scan(ds["id"], incremental=True)
    assert status(first) == (3, 2, 2)
    assert api.ok("GET", f"/api/containers/{cid}")["incremental_checkpoint"] == "2024-01-02T08:00:00+00:00"
    # 09:30 at +02:00 is 07:30 UTC, before the checkpoint: not read. 10:00+01:00 is 09:00 UTC: read.
    sql("INSERT INTO events VALUES (4, '2024-01-02 09:30+02:00', -4), (5, '2024-01-02 10:00+01:00', -5)")
    second = api.scan(ds["id"], incremental=True)
    assert status(second) == (1, 1, 1)
    assert api.ok("GET", f"/api/containers/{cid}")["incremental_checkpoint"] == "2024-01-02T09:00:00+00:00"
    # a threshold given with an offset: 2024-01-02T04:00+01:00 is 03:00 UTC, so ids 2 (03:30), 3, 4, 5
    assert status(api.scan(ds["id"], greater_than_time="2024-01-02T04:00:00+01:00"))[:2] == (4, 1)
    pg.dispose()


@pytest.fixture
def maria(api, mariadb_server):
    """``(sql, datastore_id)``: a fresh MariaDB database, a function running SQL in it, and
    (after the first ``sync``) the datastore on it."""
    db = f"assay_inc_{uuid.uuid4().hex[:10]}"
    conn = mariadb_server(None)
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{db}`")

    def sql(*statements: str) -> None:
        with conn.cursor() as cur:
            cur.execute(f"USE `{db}`")
            for statement in statements:
                cur.execute(statement)

    ds = api.ok(
        "POST",
        "/api/datastores",
        json={
            "name": "maria",
            "connection": {"type": "mysql", "host": "127.0.0.1", "port": 3306, "username": "root", "password": ""},
            "database": db,
        },
    )
    yield sql, ds["id"]
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{db}`")
    conn.close()


def test_incremental_scans_on_mariadb_with_a_batch_identifier(api, maria):
    sql, ds_id = maria
    sql("CREATE TABLE loads (load_id INT, v INT)", "INSERT INTO loads VALUES (1, 1), (1, -1), (2, 3)")
    api.sync(ds_id)
    cid = api.container_id(ds_id, "loads")
    container = api.ok("GET", f"/api/containers/{cid}")
    assert (container["incremental_field_name"], container["incremental_identifier_type"]) == ("load_id", "batch")
    api.check(cid, "notNegative", ["v"])
    assert status(api.scan(ds_id, incremental=True)) == (3, 2, 1)
    sql("INSERT INTO loads VALUES (3, -3), (3, -4), (3, 5)")
    assert status(api.scan(ds_id, incremental=True)) == (3, 1, 2)
    # capped at 1 row per batch, by value order: batch 1 reads -1, batch 2 3, batch 3 -4
    assert status(api.scan(ds_id, max_records_analyzed_per_partition=1)) == (3, 3, 2)


# ------------------------------------------------------------------ edge cases a user found


def test_a_null_and_the_text_null_are_one_partition(api, make_duckdb):
    path = make_duckdb(
        "create table pn (id int, cat varchar, amount int)",
        "insert into pn values (1, 'NULL', -1), (2, NULL, -2), (3, 'a', -3)",
    )
    ds = api.duckdb_datastore("src", path)
    api.sync(ds["id"])
    cid = api.container_id(ds["id"], "pn")
    api.ok("PUT", f"/api/containers/{cid}", json={"partition_field": "cat"})
    api.check(cid, "notNegative", ["amount"])
    op = api.scan(ds["id"])
    assert op["result"] == "success", op
    assert status(op) == (3, 2, 3)  # partitions "NULL" (rows 1 and 2) and "a"
    cs = api.ok("GET", f"/api/container-scans/{only_scan(op)['id']}")
    assert sorted((p["partition"], p["records_processed"]) for p in cs["partition_scans"]) == [("NULL", 2), ("a", 1)]
    # another partition field: the old partitions go, the container scan keeps what it read
    api.ok("PUT", f"/api/containers/{cid}", json={"partition_field": "id"})
    assert api.ok("GET", "/api/partitions", params={"container": cid})["total"] == 0
    api.scan(ds["id"])
    assert sorted(p["name"] for p in api.ok("GET", "/api/partitions", params={"container": cid})["items"]) == [
        "1",
        "2",
        "3",
    ]
    assert len(api.ok("GET", f"/api/container-scans/{only_scan(op)['id']}")["partition_scans"]) == 2


def test_an_identifier_range_the_driver_cannot_return_keeps_the_checkpoint(api, pg_database):
    from sqlalchemy import create_engine, text

    from tests.engines import PG_HOST

    pg = create_engine(pg_database)
    with pg.begin() as conn:
        conn.execute(text("CREATE TABLE pinf (id int, updated_at timestamp, v int)"))
        conn.execute(
            text("INSERT INTO pinf VALUES (1, '2024-01-01 10:00', 1), (2, '2024-01-02 10:00', -2), (3, 'infinity', 3)")
        )
    pg.dispose()
    ds = api.ok(
        "POST",
        "/api/datastores",
        json={
            "name": "pg",
            "connection": {"type": "postgresql", "host": PG_HOST, "username": "postgres"},
            "database": pg_database.rsplit("/", 1)[1],
            "schema": "public",
        },
    )
    api.sync(ds["id"])
    cid = api.container_id(ds["id"], "pinf")
    api.check(cid, "notNegative", ["v"])
    for _ in range(2):
        op = api.scan(ds["id"], incremental=True)
        assert op["result"] == "success" and status(op)[0] == 3 and status(op)[2] == 1, op
        assert "the range of incremental identifier 'updated_at' could not be read" in only_scan(op)["message"]
        assert "checkpoint not moved" in only_scan(op)["message"]
        assert api.ok("GET", f"/api/containers/{cid}")["incremental_checkpoint"] is None


def test_sqlite_text_timestamps_with_offsets_are_read_by_instant(api, tmp_path):
    import sqlite3

    path = tmp_path / "ev.sqlite"
    con = sqlite3.connect(path)
    con.executescript(
        "CREATE TABLE ev (id INTEGER, updated_at TIMESTAMP, v INTEGER);"
        # 08:00Z, 09:00Z, 08:30Z, 2024-01-03 01:30Z
        "INSERT INTO ev VALUES (1, '2024-01-01 10:00:00+02:00', 1), (2, '2024-01-01T09:00:00Z', 2),"
        " (3, '2024-01-01 08:30:00', 3), (4, '2024-01-02 23:30:00-02:00', 4);"
    )
    con.close()
    ds = api.ok(
        "POST", "/api/datastores", json={"name": "lite", "connection": {"type": "sqlite"}, "database": str(path)}
    )
    api.sync(ds["id"])
    cid = api.container_id(ds["id"], "ev")
    api.check(cid, "notNegative", ["v"])
    assert status(api.scan(ds["id"], incremental=True))[:2] == (4, 2)
    assert api.ok("GET", f"/api/containers/{cid}")["incremental_checkpoint"] == "2024-01-03T01:30:00+00:00"
    con = sqlite3.connect(path)
    # 00:00Z (older than the checkpoint) and 06:00Z (newer), written with offsets
    con.executescript("INSERT INTO ev VALUES (6, '2024-01-03 03:00:00+03:00', 6), (8, '2024-01-03 01:00:00-05:00', 8);")
    con.close()
    assert status(api.scan(ds["id"], incremental=True))[:2] == (1, 1)
    assert api.ok("GET", f"/api/containers/{cid}")["incremental_checkpoint"] == "2024-01-03T06:00:00+00:00"
    # after 08:45Z: rows 2 (09:00Z), 4, 6 and 8
    assert status(api.scan(ds["id"], greater_than_time="2024-01-01T08:45:00Z"))[0] == 4


def test_an_identifier_dropped_from_the_table_means_a_full_read(api, make_duckdb):
    path = make_duckdb(*EVENTS)
    ds = api.duckdb_datastore("src", path)
    api.sync(ds["id"])
    cid = api.container_id(ds["id"], "events")
    api.ok("PUT", f"/api/containers/{cid}", json={"incremental_field_name": "updated_at"})
    api.check(cid, "notNegative", ["amount"])
    execute(path, "alter table events drop column updated_at")
    api.sync(ds["id"])
    for incremental in (False, True):
        op = api.scan(ds["id"], incremental=incremental)
        assert op["result"] == "success" and status(op) == (5, 1, 2), op
        assert only_scan(op)["message"] == (
            "incremental identifier 'updated_at' is not a field of the container "
            "any more: read in full; partition field 'updated_at' is not a field "
            "of the container any more: read as one partition"
        )


def test_mariadb_string_partitions_are_exact_text(api, maria):
    sql, ds_id = maria
    sql(
        "CREATE TABLE pm (id INT, cat VARCHAR(10), amount INT)",
        "INSERT INTO pm VALUES (1, 'a', 1), (2, 'A', -1), (3, 'a ', 2), (4, 'b', 3), (5, 'a', -5)",
    )
    api.sync(ds_id)
    cid = api.container_id(ds_id, "pm")
    api.ok("PUT", f"/api/containers/{cid}", json={"partition_field": "cat"})
    api.check(cid, "notNegative", ["amount"])
    op = api.scan(ds_id)
    assert status(op) == (5, 4, 2), op  # 'a' (2 rows), 'A', 'a ', 'b': four partitions as on any engine
    cs = api.ok("GET", f"/api/container-scans/{only_scan(op)['id']}")
    assert sorted((p["partition"], p["records_processed"]) for p in cs["partition_scans"]) == [
        ("A", 1),
        ("a", 2),
        ("a ", 1),
        ("b", 1),
    ]
    # one row per partition, the first in column order (id first): 'a' reads id 1 (amount 1), 'A' id 2 (-1)
    assert status(api.scan(ds_id, max_records_analyzed_per_partition=1)) == (4, 4, 1)


def test_new_files_keep_the_pattern_types_and_empty_files_are_skipped(api, tmp_path):
    folder = tmp_path / "files"
    folder.mkdir()
    base = dt.datetime(2024, 3, 1, tzinfo=dt.UTC).timestamp()

    def write(name: str, text: str, age_days: int) -> None:
        f = folder / name
        f.write_text(text)
        os.utime(f, (base + age_days * 86400, base + age_days * 86400))

    write("orders_2024_01.csv", "id,amount,note\n1,5.5,x\n2,-1.5,y\n", 0)
    ds = api.ok(
        "POST", "/api/datastores", json={"name": "files", "connection": {"type": "local", "uri": f"file://{folder}"}}
    )
    api.sync(ds["id"])
    cid = api.container_id(ds["id"], "orders")
    api.check(cid, "notNegative", ["amount"])
    api.check(cid, "notNull", ["note"])
    assert status(api.scan(ds["id"], incremental=True)) == (2, 1, 1)
    write("orders_2024_02.csv", "id,amount,note\n", 1)  # a header only: amount would sniff as text
    write("orders_2024_03.csv", "", 2)  # zero bytes: no header at all
    op = api.scan(ds["id"], incremental=True)
    assert op["result"] == "success" and status(op) == (0, 2, 0), op
    cs = only_scan(op)
    assert cs["message"] is None and {r["result"] for r in cs["quality_checks"]} == {"passed"}
    write("orders_2024_04.csv", "id,amount,note\n3,-2.25,\n", 3)
    assert status(api.scan(ds["id"], incremental=True)) == (1, 1, 1)  # one row failing both checks: one anomaly


def test_the_checkpoint_can_be_set_or_cleared(api, make_duckdb):
    _path, ds_id, cid = setup_events(api, make_duckdb)
    r = api.put(f"/api/containers/{cid}", json={"incremental_checkpoint": "not a time"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "incremental_checkpoint"], r.text
    body = api.ok("PUT", f"/api/containers/{cid}", json={"incremental_checkpoint": "2024-01-01T09:30:00+01:00"})
    assert body["incremental_checkpoint"] == "2024-01-01T08:30:00+00:00"
    assert body["incremental_field_name"] == "updated_at"
    # after 08:30Z: ids 2, 3 (day 1) and 4, 5 (day 2)
    assert status(api.scan(ds_id, incremental=True)) == (4, 2, 2)
    api.ok("PUT", f"/api/containers/{cid}", json={"incremental_checkpoint": None})
    assert status(api.scan(ds_id, incremental=True))[0] == 5
    # a checkpoint-only change leaves the identifier to sync
    api.sync(ds_id)
    assert api.ok("GET", f"/api/containers/{cid}")["incremental_field_name"] == "updated_at"


def _statements_during(api, action):
    """(SQL, parameters) of every statement the metadata store ran while ``action()`` ran
    (SQLAlchemy's ``before_cursor_execute`` hook on the app's engine)."""
    from sqlalchemy import event

    engine = api.client.app.state.database.engine
    seen: list[tuple[str, tuple]] = []

    def hook(_conn, _cursor, statement, parameters, _context, _many):
        seen.append((" ".join(statement.split()), tuple(parameters or ())))

    event.listen(engine, "before_cursor_execute", hook)
    try:
        result = action()
    finally:
        event.remove(engine, "before_cursor_execute", hook)
    return result, seen


def test_an_incremental_scan_loads_only_the_partitions_and_anomalies_it_touches(api, make_duckdb):
    path, ds_id, cid = setup_events(api, make_duckdb)
    assert status(api.scan(ds_id, incremental=True)) == (5, 2, 2)  # ids 2 and 5 negative, days 1 and 2
    # id 6 lands in the known day 2024-01-02, id 7 (negative) in a new day
    execute(path, "insert into events values (6, '2024-01-02 10:00', 1), (7, '2024-01-03 08:00', -9)")

    op, statements = _statements_during(api, lambda: api.scan(ds_id, incremental=True))

    assert status(op) == (2, 2, 1)
    cs = api.ok("GET", f"/api/container-scans/{only_scan(op)['id']}")
    assert [(p["partition"], p["records_processed"]) for p in cs["partition_scans"]] == [
        ("2024-01-02", 1),
        ("2024-01-03", 1),
    ]
    partitions = api.ok("GET", "/api/partitions", params={"container": cid})["items"]
    # 2024-01-01 was not read: it keeps its 3 rows; the others hold this read's counts
    assert sorted((p["name"], p["partition_size"]) for p in partitions) == [
        ("2024-01-01", 3),
        ("2024-01-02", 1),
        ("2024-01-03", 1),
    ]
    # The metadata reads are bounded by what the scan touched, not by the container's
    # history: the partitions read by name (the two days read), the anomalies by the
    # fingerprint of the one finding.
    partition_reads = [(sql, params) for sql, params in statements if sql.startswith("SELECT partition.id")]
    assert len(partition_reads) == 1
    assert "partition.name IN (?, ?)" in partition_reads[0][0]
    assert partition_reads[0][1] == (cid, "2024-01-02", "2024-01-03")
    fingerprint_reads = [sql for sql, _params in statements if "anomaly.fingerprint IN" in sql]
    assert len(fingerprint_reads) == 1 and "anomaly.fingerprint IN (?)" in fingerprint_reads[0]

    # Duplicates are still recognised from that bounded read: the same row read again
    # (checkpoint moved back) is a Duplicate of the open anomaly of id 7.
    api.ok("PUT", f"/api/containers/{cid}", json={"incremental_checkpoint": "2024-01-02T12:00:00Z"})
    again = api.scan(ds_id, incremental=True)
    assert status(again) == (1, 1, 1)
    everything = api.anomalies(datastore=ds_id, archived="include")
    assert [(a["status"], a["source_records"][0]["id"]) for a in everything if a["operation_id"] == again["id"]] == [
        ("Duplicate", 7)
    ]


def test_a_scan_inserts_its_anomalies_in_one_statement_each_with_its_own_failed_check(api_any_store, make_duckdb):
    """The anomalies a container scan records go to the metadata store in one batched
    ``INSERT`` (their ``uuid`` tells SQLAlchemy which generated id is whose), and their
    failed checks in one more, not one statement per row; each failed check still belongs
    to its own anomaly."""
    api = api_any_store
    path = make_duckdb("create table t (id integer, v integer)", "insert into t select i, -i from range(1, 26) r(i)")
    ds = api.duckdb_datastore("many", path)
    api.sync(ds["id"])
    check = api.check(api.container_id(ds["id"], "t"), "notNegative", ["v"])

    op, statements = _statements_during(api, lambda: api.scan(ds["id"], high_count_rollup_threshold=30))

    assert op["status"]["anomalies_identified"] == 25  # one record anomaly per row
    inserts = [sql.split(" (")[0] for sql, _params in statements if sql.startswith("INSERT INTO")]
    assert (inserts.count("INSERT INTO anomaly"), inserts.count("INSERT INTO failed_check")) == (1, 1)
    anomalies = api.anomalies(datastore=ds["id"])
    assert sorted(
        (a["source_records"][0]["id"], [(fc["quality_check_id"], fc["message"]) for fc in a["failed_checks"]])
        for a in anomalies
    ) == [(i, [(check["id"], f"The `v` value of {-i} is negative")]) for i in range(1, 26)]


def test_the_queries_of_an_incremental_read_touch_only_the_new_rows(api, make_duckdb):
    """Every query of an incremental container read (checks, example rows, partition
    measurement) reads the staged copy of the new rows; the container itself is read once,
    filtered by the checkpoint (DuckDB's own query log)."""
    import sqlglot

    from assay.engine.rules import CheckSpec

    path, ds_id, cid = setup_events(api, make_duckdb)
    api.check(cid, "notNull", ["amount"])
    assert status(api.scan(ds_id, incremental=True)) == (5, 2, 2)  # checkpoint 2024-01-02 09:00
    execute(path, "insert into events values (6, '2024-01-02 10:00', null), (7, '2024-01-03 08:00', -9)")
    specs = [
        CheckSpec(1, "notNegative", ["amount"], {}, None, None),
        CheckSpec(2, "notNull", ["amount"], {}, None, None),
    ]
    read, result, logged = logged_read(api, path, cid, specs, {"incremental": True})

    assert result.records == 2
    assert [(o.rule_type, o.failed, [r["id"] for r in o.examples]) for o in result.outcomes] == [
        ("notNegative", 1, [7]),
        ("notNull", 1, [6]),
    ]
    assert [(p.name, p.records) for p in read.partitions] == [("2024-01-02", 1), ("2024-01-03", 1)]
    touched = []
    for sql in logged:
        if sql.lstrip().upper().startswith("CALL"):
            continue  # the logging switch itself
        parsed = sqlglot.parse_one(sql, read="duckdb")
        reads = parsed.expression if isinstance(parsed, (sqlglot.exp.Create, sqlglot.exp.Insert)) else parsed
        if isinstance(parsed, (sqlglot.exp.Describe, sqlglot.exp.Drop)) or reads is None:
            continue  # schema look-ups, dropping an earlier copy of the rows (it reads none)
        if reads.find(sqlglot.exp.Table) is None:
            continue  # CURRENT_SCHEMA(), the temporary table's definition
        names = {t.name for t in reads.find_all(sqlglot.exp.Table)}
        if "" in names:
            continue  # table functions: DuckDB's catalog (the names the staged rows' table must not take)
        touched.append((type(parsed).__name__, names))
    # first the copy of the new rows: the only statement that reads the container, with the
    # checkpoint's filter
    (copy_kind, copy_names), *rest = touched
    assert copy_kind in ("Insert", "Create") and copy_names == {"events"}
    (copy,) = [sql for sql in logged if "events" in sql and not sql.startswith("DESCRIBE")]
    assert '"t0"."updated_at" > ' in copy
    # then the fused query, the example reads of the failing checks and the partition measurement,
    # all on the staged rows
    assert len(rest) >= 3
    assert all(
        kind == "Select" and len(names) == 1 and names.pop() == DuckDBStaging.STAGED_TABLE for kind, names in rest
    )


def test_the_next_incremental_read_compiles_none_of_its_queries_again(api, make_duckdb):
    """The staged rows have one table name (``DuckDBStaging.STAGED_TABLE``), so the queries
    of the next incremental read of the container (fused query, example rows, partition
    measurement) equal the last one's and reuse its SQL (``assay.sources.compiled``),
    while reading the rows that are new since the checkpoint."""
    from assay.engine.rules import CheckSpec
    from assay.sources.compiled import compiled_sql

    path, ds_id, cid = setup_events(api, make_duckdb)
    assert status(api.scan(ds_id, incremental=True)) == (5, 2, 2)  # checkpoint 2024-01-02 09:00
    specs = [
        CheckSpec(1, "notNegative", ["amount"], {}, None, None),
        CheckSpec(2, "notNull", ["amount"], {}, None, None),
    ]
    execute(path, "insert into events values (6, '2024-01-02 10:00', null), (7, '2024-01-03 08:00', -9)")
    logged_read(api, path, cid, specs, {"incremental": True})
    execute(path, "insert into events values (8, '2024-01-03 09:00', -4), (9, '2024-01-04 08:00', null)")
    hits, misses = compiled_sql.hits, compiled_sql.misses
    read, result, _logged = logged_read(api, path, cid, specs, {"incremental": True})
    assert (compiled_sql.hits - hits, compiled_sql.misses - misses) == (3, 0)
    assert result.records == 4
    assert [(o.rule_type, o.failed, [r["id"] for r in o.examples]) for o in result.outcomes] == [
        ("notNegative", 2, [7, 8]),
        ("notNull", 2, [6, 9]),
    ]
    assert [(p.name, p.records) for p in read.partitions] == [("2024-01-02", 1), ("2024-01-03", 2), ("2024-01-04", 1)]


def test_a_container_whose_new_rows_cannot_be_copied_leaves_the_next_container_its_copy(api, make_duckdb):
    """The staged rows' table has one name: when a container's copy fails halfway (Ibis
    creates the table, then fills it), the next container of the scan still gets its own
    copy. Here the view's new row does not convert; ``events`` is scanned as usual."""
    path = make_duckdb(
        *EVENTS,
        "create table raw (code varchar, updated_at timestamp)",
        "insert into raw values ('1', '2024-01-01 08:00')",
        "create view codes as select cast(code as integer) as code, updated_at from raw",
    )
    ds = api.duckdb_datastore("src", path)
    api.sync(ds["id"])
    codes, events = api.container_id(ds["id"], "codes"), api.container_id(ds["id"], "events")
    api.check(codes, "notNull", ["code"])
    api.check(events, "notNegative", ["amount"])
    # every container read whole (events 5 rows, raw and codes 1 each): the checkpoints
    assert status(api.scan(ds["id"], incremental=True)) == (7, 4, 2)
    execute(
        path,
        "insert into raw values ('x', '2024-01-03 08:00')",
        "insert into events values (6, '2024-01-03 08:00', -4)",
    )
    op = api.scan(ds["id"], incremental=True)
    by_container = {cs["container"]["id"]: cs for cs in op["container_scans"]}
    assert (by_container[codes]["result"], by_container[events]["result"]) == ("failure", "success")
    assert "Could not convert string 'x' to INT32" in by_container[codes]["message"]
    assert (by_container[events]["records_processed"], by_container[events]["anomaly_count"]) == (1, 1)


def test_a_table_named_like_the_staged_rows_keeps_its_own_rows(api, make_duckdb):
    """A datastore table with the staged rows' name (``DuckDBStaging.STAGED_TABLE``, in any
    case) is not hidden by the temporary table: the staged rows take the name with ``_1``,
    and that table's scan reads its own rows (found by helper-52)."""
    taken = DuckDBStaging.STAGED_TABLE.upper()
    path = make_duckdb(
        *EVENTS,
        f"create table {taken} (id int, updated_at timestamp, amount int)",
        f"insert into {taken} select i, timestamp '2024-01-01 00:00' + to_hours(i), i from range(1, 50) t(i)",
    )
    ds = api.duckdb_datastore("src", path)
    api.sync(ds["id"])
    for name in ("events", taken):
        api.check(api.container_id(ds["id"], name), "notNegative", ["amount"])
    op = api.scan(ds["id"], incremental=True, greater_than_time="2024-01-01T08:30:00Z")
    by_name = {cs["container"]["name"]: cs for cs in op["container_scans"]}
    # events: ids 2-5 after 08:30 (2 and 5 negative); the other table: i = 9 .. 49
    assert {name: (cs["records_processed"], cs["anomaly_count"]) for name, cs in by_name.items()} == {
        "events": (4, 2),
        taken: (41, 0),
    }
    from assay.sources.duckdb import DuckDBSource

    source = DuckDBSource(str(path))
    try:
        assert source.staged_name() == DuckDBStaging.STAGED_TABLE + "_1"
    finally:
        source.close()


def test_a_full_read_checks_the_table_itself(api, make_duckdb):
    """A read that is neither incremental nor capped runs its checks and example-row queries
    on the container's table itself (a projection between DuckDB's scan and a filter keeps
    the filter out of the scan: an example-row query on 6 M rows took 270 ms instead of
    9 ms). Read as one partition, it needs no partition measurement either: the fused
    query's row count is the partition's."""
    import sqlglot

    from assay.engine.rules import CheckSpec

    # four columns or more: Ibis writes dropping the partition column as SELECT * EXCLUDE (…)
    path = make_duckdb(
        "create table lines (id int, amount int, qty int, note varchar)",
        "insert into lines values (1, 10, 1, 'a'), (2, -1, 2, 'b'), (3, 5, 3, 'c'), (4, -3, 4, 'd')",
    )
    ds = api.duckdb_datastore("src", path)
    api.sync(ds["id"])
    cid = api.container_id(ds["id"], "lines")
    specs = [CheckSpec(1, "notNegative", ["amount"], {}, None, None)]
    read, result, logged = logged_read(api, path, cid, specs, {})

    assert [(o.failed, [r["id"] for r in o.examples]) for o in result.outcomes] == [(2, [2, 4])]
    assert [(p.name, p.records) for p in read.partitions] == [("lines", 4)]
    selects = [sqlglot.parse_one(sql, read="duckdb") for sql in logged if sql.lstrip().upper().startswith("SELECT")]
    reading = [q for q in selects if any(t.name == "lines" for t in q.find_all(sqlglot.exp.Table))]
    assert [q for q in selects if "__assay_partition" in q.sql()] == []
    assert read.partition_count == 1
    (example,) = [q for q in reading if q.find(sqlglot.exp.Order)]
    filtering = example.find(sqlglot.exp.Where).parent  # the SELECT that filters: straight from the table
    assert isinstance(filtering.args["from_"].this, sqlglot.exp.Table)


@pytest.mark.parametrize(
    ("params", "rows", "partitions"),
    [
        ({}, 0, []),  # an empty table: no partition read, as the grouped measurement says
        ({}, 3, [("lines", 3)]),
        ({"max_records_analyzed_per_partition": 2}, 3, [("lines", 2)]),  # the capped read's rows
    ],
)
def test_one_partition_is_measured_by_the_fused_count(api, make_duckdb, params, rows, partitions):
    from assay.engine.rules import CheckSpec

    path = make_duckdb(
        "create table lines (id int, amount int)",
        *(["insert into lines select i, i - 2 from range(1, 4) t(i)"] if rows else []),
    )
    ds = api.duckdb_datastore("src", path)
    api.sync(ds["id"])
    cid = api.container_id(ds["id"], "lines")
    specs = [CheckSpec(1, "notNegative", ["amount"], {}, None, None)]
    read, result, logged = logged_read(api, path, cid, specs, params)
    assert [(p.name, p.records) for p in read.partitions] == partitions
    assert (read.partition_count, read.high, result.records) == (
        len(partitions),
        None,
        partitions[0][1] if partitions else 0,
    )
    assert [m for m in logged if "__assay_partition" in m and "GROUP BY" in m.upper()] == []
    api.check(cid, "notNegative", ["amount"])
    op = api.scan(ds["id"], **params)
    assert op["result"] == "success", op
    assert (op["status"]["partitions_scanned"], op["status"]["records_processed"]) == (
        len(partitions),
        partitions[0][1] if partitions else 0,
    )
