"""Spark datastores end to end through the REST API, on the test session's one local Spark
session (``spark_session``, ``local[2]``) and, once, a real Spark Connect server started
from the PySpark distribution.

Every expected number is derived from the rows each test writes (comments say how).
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

import duckdb
import pytest

from tests.conftest import IN_CI, SPARK_TEST_JVM_OPTIONS, SPARK_TEST_PROPERTIES, spark_connection_settings

#: Seconds an operation on Spark may take here (a busy 2-core machine: Spark plans and
#: compiles each query; a quiet one needs a fraction).
SLOW = 600


def sync(api, datastore_id: int) -> dict:
    op = api.run({"type": "sync", "datastore_id": datastore_id}, timeout=SLOW)
    assert op["result"] == "success", op
    return op


def scan(api, datastore_id: int, **payload) -> dict:
    return api.run({"type": "scan", "datastore_id": datastore_id, **payload}, timeout=SLOW)


def status(op: dict) -> tuple[int, int, int]:
    st = op["status"]
    return st["records_processed"], st["partitions_scanned"], st["anomalies_identified"]


@pytest.fixture
def spark_db(spark_session):
    """A fresh database (namespace) of the test session's Hive metastore; dropped after."""
    name = f"assay_{uuid.uuid4().hex[:10]}"
    spark_session.sql(f"CREATE DATABASE {name}")
    yield name
    spark_session.sql(f"DROP DATABASE IF EXISTS {name} CASCADE")


def spark_datastore(api, warehouse: Path, name: str = "lake", schema: str | None = None, **connection) -> dict:
    body = {"name": name, "connection": spark_connection_settings(warehouse, **connection)}
    if schema:
        body["schema"] = schema
    return api.ok("POST", "/api/datastores", json=body)


def test_catalog_table_sync_incremental_scans_enrichment_and_profile(
    api, spark_session, spark_warehouse, spark_db, tmp_path
):
    s = spark_session
    s.sql(f"CREATE TABLE {spark_db}.events (id INT, updated_at TIMESTAMP, amount INT, code STRING) USING parquet")
    # 2024-01-01: ids 1-3 (id 2 negative); 2024-01-02: ids 4-5 (id 5 negative); code 'x9' breaks ^[a-z]+$
    s.sql(
        f"INSERT INTO {spark_db}.events VALUES (1, TIMESTAMP'2024-01-01 08:00:00', 10, 'ab'),"
        " (2, TIMESTAMP'2024-01-01 09:00:00', -1, 'cd'), (3, TIMESTAMP'2024-01-01 10:00:00', 5, 'x9'),"
        " (4, TIMESTAMP'2024-01-02 08:00:00', 7, 'ef'), (5, TIMESTAMP'2024-01-02 09:00:00', -3, 'gh')"
    )
    ds = spark_datastore(api, spark_warehouse, schema=spark_db)
    enrichment = api.enrichment_datastore("lake_enrichment", tmp_path / "enrichment.duckdb")
    api.ok("PATCH", f"/api/datastores/{ds['id']}/enrichment/{enrichment['id']}")
    sync(api, ds["id"])
    cid = api.container_id(ds["id"], "events")
    container = api.ok("GET", f"/api/containers/{cid}")
    assert (container["incremental_field_name"], container["incremental_identifier_type"]) == (
        "updated_at",
        "timestamp",
    )
    negative = api.check(cid, "notNegative", ["amount"])
    pattern = api.check(cid, "matchesPattern", ["code"], properties={"pattern": "^[a-z]+$"})

    first = scan(api, ds["id"], incremental=True)
    assert first["result"] == "success", first
    # 5 rows over 2 days; ids 2 and 5 negative, id 3's code has a digit: 2 anomalies (one per check)
    assert status(first) == (5, 2, 3)
    assert api.ok("GET", f"/api/containers/{cid}")["incremental_checkpoint"] == "2024-01-02T09:00:00+00:00"
    anomalies = api.anomalies(datastore=ds["id"])
    assert sorted({fc["quality_check_id"] for a in anomalies for fc in a["failed_checks"]}) == sorted(
        [negative["id"], pattern["id"]]
    )

    # the failing source rows went to the enrichment datastore (DuckDB), not to Spark
    con = duckdb.connect(str(tmp_path / "enrichment.duckdb"), read_only=True)
    try:
        tables = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
        source_records = next(t for t in tables if t.endswith("_source_records"))
        rows = con.execute(f'select count(*) from "{source_records}"').fetchone()[0]
    finally:
        con.close()
    # ids 2 and 5 (notNegative) and id 3 (matchesPattern)
    assert rows == 3

    s.sql(
        f"INSERT INTO {spark_db}.events VALUES (6, TIMESTAMP'2024-01-03 08:00:00', 1, 'ij'),"
        " (7, TIMESTAMP'2024-01-03 10:00:00', -9, 'kl')"
    )
    second = scan(api, ds["id"], incremental=True)
    # only ids 6 and 7 (one day); id 7 is negative
    assert status(second) == (2, 1, 1)
    assert api.ok("GET", f"/api/containers/{cid}")["incremental_checkpoint"] == "2024-01-03T10:00:00+00:00"
    # a full scan capped at one row per day: 3 days, 3 rows (the first id of each day: 1, 4, 6)
    capped = scan(api, ds["id"], incremental=False, max_records_analyzed_per_partition=1)
    assert status(capped) == (3, 3, 0)

    profile = api.run({"type": "profile", "datastore_id": ds["id"]}, timeout=SLOW)
    assert profile["result"] == "success", profile
    profiles = {p["name"]: p for p in api.ok("GET", f"/api/containers/{cid}/field-profiles")["items"]}
    # amounts 10, -1, 5, 7, -3, 1, -9
    assert (profiles["amount"]["min"], profiles["amount"]["max"], profiles["amount"]["sum"]) == (-9, 10, 10)
    assert profiles["code"]["completeness"] == 1.0


def test_file_pattern_partitions_incremental_and_caps(api, spark_session, spark_warehouse, tmp_path):
    folder = tmp_path / "files"
    folder.mkdir()
    base = dt.datetime(2024, 3, 1, tzinfo=dt.UTC).timestamp()

    def write(name: str, rows: list[str], age_days: int) -> None:
        f = folder / name
        f.write_text("id,amount\n" + "\n".join(rows) + "\n")
        os.utime(f, (base + age_days * 86400, base + age_days * 86400))

    write("orders_2024_01.csv", ["1,5", "2,-1", "3,4"], 0)
    write("orders_2024_02.csv", ["4,-2", "5,3"], 1)
    ds = spark_datastore(api, spark_warehouse, name="lake_files", uri=folder.as_uri(), tables=False)
    sync(api, ds["id"])
    listing = api.ok("GET", "/api/containers/listing", params={"datastore": ds["id"]})
    assert [c["name"] for c in listing] == ["orders"]
    cid = listing[0]["id"]
    container = api.ok("GET", f"/api/containers/{cid}")
    assert (container["incremental_field_name"], container["incremental_identifier_type"]) == (
        "_last_modified",
        "timestamp",
    )
    api.check(cid, "notNegative", ["amount"])

    first = scan(api, ds["id"], incremental=True)
    assert status(first) == (5, 2, 2)
    assert api.ok("GET", f"/api/containers/{cid}")["incremental_checkpoint"] == "2024-03-02T00:00:00+00:00"

    write("orders_2024_03.csv", ["6,-3", "7,1", "8,2", "9,-4"], 2)
    second = scan(api, ds["id"], incremental=True)
    # only the new file: 4 rows, 2 negative
    assert status(second) == (4, 1, 2)
    (cs,) = second["container_scans"]
    cs = api.ok("GET", f"/api/container-scans/{cs['id']}")
    assert [(p["partition"], p["records_processed"], len(p["anomalies"])) for p in cs["partition_scans"]] == [
        ("orders_2024_03.csv", 4, 2)
    ]
    # full, at most 2 rows per file (the first by id): 2 + 2 + 2 rows; negatives among them: 2, 4, 6
    capped = scan(api, ds["id"], incremental=False, max_records_analyzed_per_partition=2)
    assert status(capped) == (6, 3, 3)


def test_bad_spark_connections_are_422_and_another_master_is_a_clear_failure(api, spark_session, spark_warehouse):
    r = api.post("/api/datastores", json={"name": "x", "connection": {"type": "spark", "master": "nowhere"}})
    assert r.status_code == 422 and "master" in r.text and "local[N]" in r.text, r.text
    r = api.post("/api/datastores", json={"name": "x", "connection": {"type": "spark", "uri": "file://relative/x"}})
    assert r.status_code == 422 and "uri" in r.text, r.text
    r = api.post(
        "/api/datastores", json={"name": "x", "connection": {"type": "spark", "spark.executor.memory": ["8g"]}}
    )
    assert r.status_code == 422 and "spark.executor.memory" in r.text, r.text
    # properties that would run code or write files on the server (JVM options, event logs,
    # jars) are refused unless the operator allows them (ASSAY_SPARK_PROPERTIES)
    for key, value in (
        ("spark.driver.extraJavaOptions", "-Xlog:gc:file=/var/tmp/assay_gc.log"),
        ("spark.eventLog.dir", "file:///var/tmp/assay_events"),
        ("spark.jars.packages", "io.delta:delta-spark_2.13:4.0.0"),
    ):
        r = api.post("/api/datastores", json={"name": "x", "connection": {"type": "spark", key: value}})
        assert r.status_code == 422, r.text
        assert r.json()["detail"][0]["loc"] == ["body", "connection", key]
        assert r.json()["detail"][0]["msg"] == (
            f"the Spark property '{key}' is not one a datastore may set (it could run code or write files on "
            "the server); a server operator can allow it with ASSAY_SPARK_PROPERTIES"
        )
    # this process already runs Spark on local[2]: a datastore on local[3] is refused, with the
    # reason — by the connection test when it is saved, by its sync when saved untested
    other = {"name": "other", "connection": {"type": "spark", "master": "local[3]"}}
    r = api.post("/api/datastores", json=other)
    assert r.status_code == 422 and "one classic Spark session per process" in r.text, r.text
    ds = api.ok("POST", "/api/datastores", params={"test_connection": "false"}, json=other)
    op = api.run({"type": "sync", "datastore_id": ds["id"]}, timeout=SLOW)
    assert op["result"] == "failure"
    assert "one classic Spark session per process" in op["message"], op


def test_interrupt_cancels_the_running_job_of_the_named_job_group(spark_session, spark_db):
    """What an abort does (``scan.interrupt_on_abort`` calls ``source.interrupt()``): the
    running Spark job of the source's job group is cancelled, and the scan's next query hook
    stops it. The jobs run under the group ``describe`` named."""
    import threading
    from types import SimpleNamespace

    from assay.engine.plan import evaluate
    from assay.engine.rules import CheckSpec
    from assay.sources.spark import SparkSource

    # a view over 10^12 generated rows: its scan runs until cancelled
    spark_session.sql(f"CREATE VIEW {spark_db}.endless AS SELECT id FROM range(1000000000000)")
    stop = threading.Event()

    class Stopped(Exception):
        pass

    labels: list[str] = []

    def hook(label: str) -> None:
        labels.append(label)
        if stop.is_set():
            raise Stopped(label)

    out: dict = {}

    def scan() -> None:
        source = SparkSource(
            spark_connection_settings(Path(spark_session.conf.get("spark.sql.warehouse.dir"))), None, spark_db
        )
        out["source"] = source
        source.describe("assay scan operation 1 (datastore lake)")
        table = source.table(SimpleNamespace(name="endless", container_type="table"))
        try:
            evaluate(table, [CheckSpec(1, "notNegative", ["id"])], example_limit=0, on_query=hook)
        except Stopped as e:
            out["stopped"] = str(e)
        finally:
            source.close()

    worker = threading.Thread(target=scan)
    worker.start()
    tracker = spark_session.sparkContext.statusTracker()
    deadline = time.monotonic() + SLOW

    def fused_query_running() -> bool:
        if not labels or "source" not in out:
            return False
        return bool(set(tracker.getJobIdsForGroup(out["source"].tag)) & set(tracker.getActiveJobsIds()))

    while time.monotonic() < deadline and not fused_query_running():
        time.sleep(0.2)
    assert labels == ["aggregate over 1 checks"], labels
    assert fused_query_running(), "the fused query did not run under the source's job group"
    stop.set()
    out["source"].interrupt()
    worker.join(SLOW)
    assert not worker.is_alive()
    # the cancelled fused query left the check unasserted; the next query (the row count)
    # found the operation stopping
    assert out["stopped"] == "row count"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def connect_server(tmp_path_factory):
    """A real Spark Connect server (``sbin/start-connect-server.sh --wait`` of the PySpark
    distribution) on a free port of 127.0.0.1; yields its ``sc://`` URL; stopped after."""
    import shutil

    if shutil.which("java") is None:
        message = "java is not on PATH: the Spark Connect server cannot start"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    import pyspark

    home = Path(pyspark.__file__).parent
    port = _free_port()
    logs = tmp_path_factory.mktemp("spark-connect")
    env = {
        **os.environ,
        "SPARK_HOME": str(home),
        "SPARK_LOG_DIR": str(logs),
        "SPARK_PID_DIR": str(logs),
        "SPARK_LOCAL_IP": "127.0.0.1",
    }
    log = open(logs / "server.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [
            "bash",
            str(home / "sbin" / "start-connect-server.sh"),
            "--wait",
            "--master",
            "local[1]",
            "--conf",
            f"spark.connect.grpc.binding.port={port}",
            "--conf",
            "spark.connect.grpc.binding.address=127.0.0.1",
            "--conf",
            "spark.ui.enabled=false",
            "--conf",
            "spark.sql.shuffle.partitions=2",
            "--conf",
            f"spark.driver.extraJavaOptions={SPARK_TEST_JVM_OPTIONS}",
            "--conf",
            f"spark.sql.warehouse.dir={logs / 'warehouse'}",
            *[arg for key, value in SPARK_TEST_PROPERTIES.items() for arg in ("--conf", f"{key}={value}")],
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError(f"the Connect server exited: {(logs / 'server.log').read_text()[-2000:]}")
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(1)
        else:
            raise AssertionError("the Spark Connect server did not listen within 240 s")
        yield f"sc://127.0.0.1:{port}"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def test_spark_connect_datastore_syncs_and_scans(api, connect_server, tmp_path):
    folder = tmp_path / "connect"
    folder.mkdir()
    (folder / "items.csv").write_text("id,name\n1,ok\n2,\n3,fine\n")
    ds = api.ok(
        "POST",
        "/api/datastores",
        json={
            "name": "connect",
            "connection": {"type": "spark", "master": connect_server, "uri": folder.as_uri(), "tables": False},
        },
    )
    sync(api, ds["id"])
    cid = api.container_id(ds["id"], "items")
    api.check(cid, "notNull", ["name"])
    op = scan(api, ds["id"])
    assert op["result"] == "success", op
    # id 2 has no name (an empty CSV field is NULL)
    assert status(op) == (3, 1, 1)


def test_a_classic_spark_datastore_works_after_a_spark_connect_one(api, connect_server, spark_warehouse, tmp_path):
    """PySpark marks the process as Spark Connect when it opens a Connect session; a classic
    session then failed to start ("[CONNECT_URL_NOT_SET]") or to run ("[SESSION_ALREADY_EXIST]")
    in the same server. Both kinds now work side by side, in either order."""
    folder = tmp_path / "both"
    folder.mkdir()
    (folder / "items.csv").write_text("id,name\n1,ok\n2,\n3,fine\n4,\n")
    connect = api.ok(
        "POST",
        "/api/datastores",
        json={
            "name": "via_connect",
            "connection": {"type": "spark", "master": connect_server, "uri": folder.as_uri(), "tables": False},
        },
    )
    classic = spark_datastore(api, spark_warehouse, name="via_classic", uri=folder.as_uri(), tables=False)
    for ds in (connect, classic, connect):
        sync(api, ds["id"])
        cid = api.container_id(ds["id"], "items")
        if not api.ok("GET", "/api/quality-checks", params={"container": cid})["total"]:
            api.check(cid, "notNull", ["name"])
        op = scan(api, ds["id"])
        assert op["result"] == "success", op
        assert status(op) == (4, 1, 2)  # ids 2 and 4 have no name: one check fails twice
    assert "SPARK_CONNECT_MODE_ENABLED" not in os.environ
