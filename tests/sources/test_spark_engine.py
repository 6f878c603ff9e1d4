"""Spark as an engine of operations: an abort stops a running Spark scan or profile (its
jobs cancelled until the operation has ended) and leaves the session usable; a ``local``
folder computed by Spark (``connection.compute_engine: "spark"``) gives the counts DuckDB
gives on the same files; a Delta table folder is one container read at its current version
(through delta-rs, without the Delta Lake jars), identically on both engines, and one with
deletion vectors fails on itself with a message naming the feature.

All on the test session's one local Spark session (``spark_session``, ``local[2]``).
Every expected number is derived from the rows each test writes (comments say how).
"""

from __future__ import annotations

import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from assay.store.models import Operation
from tests.conftest import SPARK_MASTER
from tests.sources.test_spark import SLOW, scan, spark_datastore, status, sync
from tests.sources.test_spark import spark_db as spark_db  # noqa: F401 - the fixture

#: Seconds within which an aborted operation's worker must have stopped (its Spark jobs
#: cancelled): the scans aborted here would otherwise run for many minutes.
STOP_BOUND = 60


def _running(api, op_id: int) -> None:
    deadline = time.monotonic() + SLOW
    while api.ok("GET", f"/api/operations/{op_id}")["queued"]:
        assert time.monotonic() < deadline, "the operation never started"
        time.sleep(0.1)


def _spark_job_running(spark_session) -> bool:
    return bool(spark_session.sparkContext.statusTracker().getActiveJobsIds())


def _abort_while_a_spark_job_runs(api, spark_session, op_id: int) -> float:
    """Wait until operation ``op_id`` runs a Spark job, abort it, and return the seconds its
    worker took to stop (``abort_requested`` cleared by the worker, no Spark job left)."""
    _running(api, op_id)
    deadline = time.monotonic() + SLOW
    while not _spark_job_running(spark_session):
        assert time.monotonic() < deadline, "no Spark job ran"
        time.sleep(0.2)
    time.sleep(1)  # well inside the job
    started = time.monotonic()
    aborted = api.ok("PUT", f"/api/operations/abort/{op_id}")
    assert (aborted["result"], aborted["message"]) == ("aborted", "aborted by request")
    database = api.client.app.state.database
    while True:
        with database.session() as s:
            stopping = s.get_one(Operation, op_id).abort_requested
        if not stopping and not _spark_job_running(spark_session):
            return time.monotonic() - started
        assert time.monotonic() - started < STOP_BOUND, "the aborted operation's Spark jobs still run"
        time.sleep(0.2)


def test_abort_stops_a_running_spark_scan_and_profile_and_the_session_serves_the_next(
    api, spark_session, spark_warehouse, spark_db, tmp_path
):
    s = spark_session
    # a view over 10^12 generated rows: a scan or profile of it runs until cancelled
    s.sql(f"CREATE VIEW {spark_db}.endless AS SELECT id FROM range(1000000000000)")
    s.sql(f"CREATE TABLE {spark_db}.small (id INT, v INT) USING parquet")
    s.sql(f"INSERT INTO {spark_db}.small VALUES (1, 5), (2, -1), (3, 7)")
    ds = spark_datastore(api, spark_warehouse, name="abortable", schema=spark_db)
    enrichment = api.enrichment_datastore("abortable_enrichment", tmp_path / "enrichment.duckdb")
    api.ok("PATCH", f"/api/datastores/{ds['id']}/enrichment/{enrichment['id']}")
    sync(api, ds["id"])
    endless, small = api.container_id(ds["id"], "endless"), api.container_id(ds["id"], "small")
    api.check(endless, "notNegative", ["id"])
    api.check(small, "notNegative", ["v"])

    op = api.ok("POST", "/api/operations/run", json={"type": "scan", "datastore_id": ds["id"]})
    assert _abort_while_a_spark_job_runs(api, s, op["id"]) < STOP_BOUND
    final = api.ok("GET", f"/api/operations/{op['id']}")
    assert final["result"] == "aborted"
    # `endless` comes first by name: its container scan was interrupted, nothing recorded for it
    assert [(cs["container"]["name"], cs["result"], cs["message"]) for cs in final["container_scans"]] == [
        ("endless", "aborted", "aborted by request")
    ]
    assert api.anomalies(datastore=ds["id"]) == []
    assert not (tmp_path / "enrichment.duckdb").exists()  # no enrichment row for the aborted scan

    # the same Spark session serves the next operation: `small` has one negative v (id 2)
    after = scan(api, ds["id"], container_names=["small"])
    assert after["result"] == "success", after
    assert status(after) == (3, 1, 1)

    op = api.ok("POST", "/api/operations/run", json={"type": "profile", "datastore_id": ds["id"]})
    assert _abort_while_a_spark_job_runs(api, s, op["id"]) < STOP_BOUND
    final = api.ok("GET", f"/api/operations/{op['id']}")
    assert final["result"] == "aborted"
    assert final["container_profiles"] == []  # no half-written container profile
    assert api.ok("GET", f"/api/containers/{endless}/field-profiles")["items"] == []

    profile = api.run({"type": "profile", "datastore_id": ds["id"], "container_names": ["small"]}, timeout=SLOW)
    assert profile["result"] == "success", profile
    fields = {p["name"]: p for p in api.ok("GET", f"/api/containers/{small}/field-profiles")["items"]}
    assert (fields["v"]["min"], fields["v"]["max"], fields["v"]["sum"]) == (-1, 7, 11)


def _write_files(folder: Path) -> None:
    """orders_2024_01.csv (ids 1-4) and orders_2024_02.csv (ids 5-6), items.parquet (ids
    1-5). Negative amounts: ids 2 and 5; missing names: ids 3 and 6; items' price NULL for
    id 4, negative for id 2; code 'X1' for id 5 breaks ^[a-z]+$."""
    folder.mkdir()
    (folder / "orders_2024_01.csv").write_text(
        "id,amount,name,placed\n1,10,ann,2024-01-03\n2,-4,bob,2024-01-05\n3,7,,2024-01-09\n4,1,dan,2024-01-20\n"
    )
    (folder / "orders_2024_02.csv").write_text("id,amount,name,placed\n5,-2,eve,2024-02-01\n6,3,,2024-02-11\n")
    pq.write_table(
        pa.table(
            {
                "id": pa.array([1, 2, 3, 4, 5], pa.int64()),
                "price": pa.array([1.5, -2.0, 3.25, None, 8.0], pa.float64()),
                "code": pa.array(["ab", "cd", "ef", "gh", "X1"], pa.string()),
            }
        ),
        folder / "items.parquet",
    )


def _fields(api, cid: int) -> list[tuple[str, str]]:
    return [(f["name"], f["type"]) for f in api.ok("GET", f"/api/containers/{cid}/fields")]


def test_a_local_folder_computed_by_spark_counts_as_duckdb_does(api, spark_session, tmp_path):
    folder = tmp_path / "files"
    _write_files(folder)
    on_duckdb = api.ok(
        "POST", "/api/datastores", json={"name": "on_duckdb", "connection": {"type": "local", "uri": folder.as_uri()}}
    )
    on_spark = api.ok(
        "POST",
        "/api/datastores",
        json={
            "name": "on_spark",
            "connection": {
                "type": "local",
                "uri": folder.as_uri(),
                "compute_engine": "spark",
                "master": SPARK_MASTER,
                "spark.sql.shuffle.partitions": "2",
            },
        },
    )
    results = {}
    for ds in (on_duckdb, on_spark):
        sync(api, ds["id"])
        listing = api.ok("GET", "/api/containers/listing", params={"datastore": ds["id"]})
        assert [c["name"] for c in listing] == ["items", "orders"]
        orders, items = api.container_id(ds["id"], "orders"), api.container_id(ds["id"], "items")
        api.check(orders, "notNegative", ["amount"])
        api.check(orders, "notNull", ["name"])
        api.check(items, "notNegative", ["price"])
        api.check(items, "matchesPattern", ["code"], properties={"pattern": "^[a-z]+$"})
        api.check(orders, "between", ["amount"], properties={"min": 0, "max": 8})
        profile = api.run({"type": "profile", "datastore_id": ds["id"]}, timeout=SLOW)
        assert profile["result"] == "success", (profile["message"], profile["container_profiles"])
        full = scan(api, ds["id"])
        assert full["result"] == "success", full
        capped = scan(api, ds["id"], max_records_analyzed_per_partition=1)
        stats = {
            name: {
                p["name"]: (p["completeness"], p["min"], p["max"])
                for p in api.ok("GET", f"/api/containers/{cid}/field-profiles")["items"]
            }
            for name, cid in (("orders", orders), ("items", items))
        }
        per_container = {
            cs["container"]["name"]: (cs["records_processed"], cs["partitions_scanned"], cs["anomaly_count"])
            for cs in full["container_scans"]
        }
        results[ds["name"]] = (
            _fields(api, orders),
            _fields(api, items),
            profile["status"]["records_processed"],
            stats,
            status(full),
            per_container,
            status(capped),
        )
    assert results["on_spark"] == results["on_duckdb"]
    fields_orders, fields_items, profiled, stats, full, per_container, capped = results["on_spark"]
    assert fields_orders == [("id", "Integral"), ("amount", "Integral"), ("name", "String"), ("placed", "Date")]
    assert fields_items == [("id", "Integral"), ("price", "Fractional"), ("code", "String")]
    assert profiled == 11  # 6 orders + 5 items
    assert stats["orders"]["amount"] == (1.0, -4, 10)
    assert stats["items"]["price"] == (0.8, -2.0, 8.0)
    # orders (6 rows, 2 files): amount < 0 ids 2 and 5, name NULL ids 3 and 6, amount outside
    # 0…8 ids 1, 2 and 5: rows 1, 2, 3, 5, 6 fail; items (5 rows): ids 2 (price), 5 (code)
    assert per_container == {"orders": (6, 2, 5), "items": (5, 1, 2)}
    assert full == (11, 3, 7)
    # one row per file: orders ids 1 (amount 10) and 5 (negative); items id 1 (passes)
    assert capped == (3, 3, 2)


def test_compute_engine_settings_are_checked(api, tmp_path):
    folder = tmp_path / "f"
    folder.mkdir()
    r = api.post(
        "/api/datastores",
        json={"name": "x", "connection": {"type": "local", "uri": folder.as_uri(), "compute_engine": "flink"}},
    )
    assert r.status_code == 422, r.text
    (error,) = r.json()["detail"]
    assert (error["loc"], error["msg"]) == (
        ["body", "connection", "compute_engine"],
        "'compute_engine' must be 'duckdb' or 'spark'",
    )
    r = api.post(
        "/api/datastores",
        json={
            "name": "x",
            "connection": {"type": "local", "uri": folder.as_uri(), "compute_engine": "spark", "master": "nowhere"},
        },
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "connection", "master"], r.text
    r = api.post(
        "/api/datastores",
        json={"name": "x", "connection": {"type": "s3", "uri": "s3://bucket/data", "compute_engine": "spark"}},
    )
    assert r.status_code == 422, r.text
    (error,) = r.json()["detail"]
    assert error["loc"] == ["body", "connection", "compute_engine"]
    assert error["msg"].startswith("compute_engine 'spark' is not available for s3 datastores: Spark reads S3")
    assert "org.apache.hadoop:hadoop-aws" in error["msg"]


#: Why a Delta table with deletion vectors fails on itself on both engines (no Delta jars here).
DELETION_VECTORS = (
    "Delta table trimmed: its protocol needs the reader feature(s) deletionVectors, which reading its live "
    "Parquet files without the Delta Lake jars does not support; read it on a Spark with the Delta Lake jars "
    "(docs/spark.md, Delta tables)"
)


def _delta_lake(folder: Path) -> None:
    """orders.csv (ids 1-3, id 2 negative); Delta table ``sales`` partitioned by region:
    version 0 ids 1-3 (amounts 100-300), overwritten by version 1 ids 10-13, then version 2
    appends id 14 — its current version holds ids 10-14 (amounts -2, 3, -7, 8, -9: 3
    negative) while version 0's files stay on disk; Delta table ``trimmed`` with deletion
    vectors enabled (reader feature ``deletionVectors``)."""
    from deltalake import write_deltalake

    folder.mkdir()
    (folder / "orders.csv").write_text("id,amount\n1,5\n2,-1\n3,4\n")
    schema = pa.schema([("id", pa.int64()), ("region", pa.string()), ("amount", pa.int64())])

    def rows(ids, regions, amounts):
        return pa.table({"id": ids, "region": regions, "amount": amounts}, schema=schema)

    sales = folder / "sales"
    write_deltalake(sales, rows([1, 2, 3], ["eu", "us", "eu"], [100, 200, 300]), partition_by=["region"])
    write_deltalake(sales, rows([10, 11, 12, 13], ["eu", "us", "us", "eu"], [-2, 3, -7, 8]), mode="overwrite")
    write_deltalake(sales, rows([14], ["ap"], [-9]), mode="append")
    write_deltalake(folder / "trimmed", rows([1], ["eu"], [1]), configuration={"delta.enableDeletionVectors": "true"})


def test_delta_tables_are_read_at_their_current_version_on_duckdb_and_spark(api, spark_session, tmp_path):
    from deltalake import DeltaTable

    folder = tmp_path / "lake"
    _delta_lake(folder)
    on_disk = sorted(p for p in (folder / "sales").rglob("*.parquet"))
    live = sorted(Path(f) for f in DeltaTable(folder / "sales").file_uris())
    assert (len(on_disk), len(live)) == (5, 3)  # version 0's 2 files (eu, us): removed, still on disk
    results = {}
    for engine in ("duckdb", "spark"):
        connection = {"type": "local", "uri": folder.as_uri()}
        if engine == "spark":
            connection |= {"compute_engine": "spark", "master": SPARK_MASTER, "spark.sql.shuffle.partitions": "2"}
        ds = api.ok("POST", "/api/datastores", json={"name": f"lake_{engine}", "connection": connection})
        synced = sync(api, ds["id"])
        assert synced["message"] == f"trimmed: {DELETION_VECTORS}", engine
        listing = api.ok("GET", "/api/containers/listing", params={"datastore": ds["id"]})
        # each Delta table is one container; its Parquet files are not a file pattern of their own
        assert [(c["name"], c["container_type"]) for c in listing] == [
            ("orders", "file"),
            ("sales", "file"),
            ("trimmed", "file"),
        ]
        sales, orders = api.container_id(ds["id"], "sales"), api.container_id(ds["id"], "orders")
        assert _fields(api, api.container_id(ds["id"], "trimmed")) == []
        api.check(orders, "notNegative", ["amount"])
        api.check(sales, "notNegative", ["amount"])
        profile = api.run({"type": "profile", "datastore_id": ds["id"]}, timeout=SLOW)
        op = scan(api, ds["id"])
        assert op["result"] == "success", op
        assert op["message"] == f"trimmed: {DELETION_VECTORS}"
        scans = {cs["container"]["name"]: cs for cs in op["container_scans"]}
        stats = {
            p["name"]: (p["min"], p["max"], p["sum"])
            for p in api.ok("GET", f"/api/containers/{sales}/field-profiles")["items"]
            if p["name"] in ("id", "amount")
        }
        results[engine] = (
            _fields(api, sales),
            profile["result"],
            profile["status"]["records_processed"],
            stats,
            status(op),
            {name: (cs["result"], cs["records_processed"], cs["anomaly_count"]) for name, cs in scans.items()},
            scans["trimmed"]["message"],
        )
    assert results["spark"] == results["duckdb"]
    fields, profiled, records, stats, full, per_container, trimmed = results["spark"]
    assert fields == [("id", "Integral"), ("region", "String"), ("amount", "Integral")]
    assert (profiled, records) == ("success", 8)  # 3 orders + the 5 rows of sales' current version
    assert stats == {"id": (10, 14, 60), "amount": (-9, 8, -7)}
    # one anomaly per negative amount: orders id 2; sales ids 10, 12, 14 (version 0 counted nowhere)
    assert full == (8, 2, 4)
    assert per_container == {"orders": ("success", 3, 1), "sales": ("success", 5, 3), "trimmed": ("failure", 0, 0)}
    assert trimmed == DELETION_VECTORS
