"""No finding is lost to a busy or unreachable enrichment datastore: anomalies are recorded
first, enrichment rows are written idempotently with retries across processes, pending
enrichment shows on the anomaly and is finished when the store is back; a killed worker's
operation ends within 30 s by default."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time

import duckdb
import pytest

from assay.enrichment.writer import EnrichmentBatch, EnrichmentTarget, EnrichmentWriter
from assay.store.models import EnrichmentPending
from tests.cli.forkserver import start_assay
from tests.conftest import _client, make_settings

SOURCE = (
    "create table t (id integer, v integer, note varchar)",
    "insert into t values (1, NULL, 'a'), (2, 2, 'b'), (3, NULL, NULL), (4, 4, NULL)",
)


def _worker(env, log):
    return start_assay(["worker", "--threads", "2"], env=env, log=os.devnull, stderr=log)


def _hold_lock(path, seconds=120):
    """Another process holding the DuckDB file open for writing (DuckDB's file lock)."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys, time; c = duckdb.connect({str(path)!r}); print('locked', flush=True); "
            f"time.sleep({seconds})",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "locked"
    return holder


def _enrichment_rows(path, sql):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _setup(api, make_duckdb, enrichment_path, run_here=False):
    ds = api.duckdb_datastore("src", make_duckdb(*SOURCE))
    enrichment = api.enrichment_datastore("enr", enrichment_path)
    api.ok("PATCH", f"/api/datastores/{ds['id']}/enrichment/{enrichment['id']}")
    if run_here:
        from assay.operations.runner import Runner

        op = api.ok("POST", "/api/operations/run", json={"type": "sync", "datastore_id": ds["id"]})
        Runner(api.client.app.state.database, workers=1)._claim_and_run(op["id"])
    else:
        api.sync(ds["id"])
    t = api.container_id(ds["id"], "t")
    api.check(t, "notNull", ["v"])  # rows 1, 3
    api.check(t, "notNull", ["note"])  # rows 3, 4
    return ds, t


def test_a_locked_duckdb_enrichment_file_leaves_findings_pending_then_finished(api, make_duckdb, tmp_path, monkeypatch):
    monkeypatch.setenv("ASSAY_ENRICHMENT_RETRY_SECONDS", "0.5")
    monkeypatch.setenv("ASSAY_REAPER_INTERVAL", "0.2")
    path = tmp_path / "enr.duckdb"
    ds, _t = _setup(api, make_duckdb, path)
    holder = _hold_lock(path)
    try:
        op = api.scan(ds["id"])
        assert op["result"] == "success", op
        (cs,) = op["container_scans"]
        assert cs["result"] == "success" and cs["anomaly_count"] == 3
        assert "enrichment pending" in cs["message"] and "lock" in cs["message"]
        anomalies = api.anomalies(datastore=ds["id"])
        assert len(anomalies) == 3
        assert {(a["enrichment_pending"], a["source_enriched"]) for a in anomalies} == {(True, False)}
        one = api.ok("GET", f"/api/anomalies/{anomalies[0]['id']}")
        assert one["enrichment_pending"] is True
        with api.client.app.state.database.session() as s:
            (row,) = s.query(EnrichmentPending).all()
            assert row.attempts >= 1 and "lock" in row.last_error
    finally:
        holder.kill()
        holder.wait()
    deadline = time.monotonic() + 30
    while any(a["enrichment_pending"] for a in api.anomalies(datastore=ds["id"])):
        assert time.monotonic() < deadline, "pending enrichment was never finished"
        time.sleep(0.1)
    assert {a["source_enriched"] for a in api.anomalies(datastore=ds["id"])} == {True}
    with api.client.app.state.database.session() as s:
        assert s.query(EnrichmentPending).count() == 0
    uuids = sorted(a["uuid"] for a in anomalies)
    assert _enrichment_rows(path, "select count(*) from _src_scan_operations") == [(1,)]
    rows = _enrichment_rows(path, "select ANOMALY_UUID, count(*) from _src_source_records group by 1 order by 1")
    assert rows == [(u, 1) for u in uuids]
    assert _enrichment_rows(path, "select count(*) from _src_failed_checks") == [(4,)]  # row 3 fails both


@pytest.mark.parametrize("kind", ["duckdb", "sqlite"])
def test_writing_a_batch_twice_leaves_one_copy(tmp_path, kind):
    path = tmp_path / f"enr.{kind}"
    detected = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)

    def batch():
        b = EnrichmentBatch(key=(7, 3), anomaly_uuids=["u1", "u2"])
        b.scan_operations.append({"OPERATION_ID": 7, "CONTAINER_ID": 3, "RESULT": "success", "END_TIME": detected})
        for u in ("u1", "u2"):
            b.failed_checks.append({"QUALITY_CHECK_ID": 1, "ANOMALY_UUID": u, "OPERATION_ID": 7})
            b.source_records.append({"ANOMALY_UUID": u, "RECORD": '{"id": 1}'})
        b.check_metrics.append({"OPERATION_ID": 7, "CONTAINER_ID": 3, "QUALITY_CHECK_ID": 1})
        return b

    writer = EnrichmentWriter(EnrichmentTarget(kind, str(path)), "_p")
    other = EnrichmentBatch(key=(8, 3), anomaly_uuids=["u3"])
    other.source_records.append({"ANOMALY_UUID": "u3", "RECORD": "{}"})
    other.scan_operations.append({"OPERATION_ID": 8, "CONTAINER_ID": 3})
    writer.write(other)
    writer.write(batch())
    writer.write(batch())  # a retry after an unacknowledged commit

    def rows(sql):
        return _sql(kind, path, sql)

    assert rows("select OPERATION_ID, count(*) from _p_scan_operations group by 1 order by 1") == [(7, 1), (8, 1)]
    assert rows("select ANOMALY_UUID, count(*) from _p_source_records group by 1 order by 1") == [
        ("u1", 1),
        ("u2", 1),
        ("u3", 1),
    ]
    assert rows("select count(*) from _p_failed_checks") == [(2,)]
    assert rows("select count(*) from _p_check_metrics") == [(1,)]


def _sql(kind, path, *statements):
    """Run ``statements`` on the enrichment file ``path`` (DuckDB or SQLite); the last one's rows."""
    if kind == "duckdb":
        con = duckdb.connect(str(path))
    else:
        import sqlite3

        con = sqlite3.connect(path, isolation_level=None)
    try:
        rows = []
        for sql in statements:
            rows = con.execute(sql).fetchall()
        return rows
    finally:
        con.close()


@pytest.mark.parametrize("kind", ["duckdb", "sqlite"])
def test_a_table_an_older_assay_wrote_gains_the_missing_columns_and_keeps_its_own(tmp_path, kind):
    path = tmp_path / f"enr.{kind}"
    _sql(
        kind,
        path,
        "create table _p_source_records (ANOMALY_UUID varchar, NOTE varchar)",
        "insert into _p_source_records values ('old', 'kept')",
    )
    batch = EnrichmentBatch(key=(7, 3), anomaly_uuids=["u1"])
    batch.source_records.append({"ANOMALY_UUID": "u1", "RECORD": '{"id": 1}', "SOURCE_CONTAINER": "t"})
    batch.scan_operations.append(
        {"OPERATION_ID": 7, "CONTAINER_ID": 3, "INCREMENTAL": False, "END_TIME": dt.datetime(2024, 1, 2, tzinfo=dt.UTC)}
    )
    EnrichmentWriter(EnrichmentTarget(kind, str(path)), "_p").write(batch)
    assert _sql(
        kind,
        path,
        "select ANOMALY_UUID, NOTE, RECORD, SOURCE_CONTAINER, SOURCE_PARTITION from _p_source_records order by 1",
    ) == [
        ("old", "kept", None, None, None),
        ("u1", None, '{"id": 1}', "t", None),
    ]
    # a table made by this write has every column, with the values given
    assert _sql(kind, path, "select OPERATION_ID, CONTAINER_ID, INCREMENTAL, RESULT from _p_scan_operations") == [
        (7, 3, False if kind == "duckdb" else 0, None)
    ]


@pytest.mark.parametrize("kind", ["duckdb", "sqlite"])
@pytest.mark.parametrize("prefix", ["_a.b", "main.x", '_a"b', "_a'b", "_1; drop"])
def test_any_enrichment_prefix_names_one_table(tmp_path, kind, prefix):
    path = tmp_path / f"enr.{kind}"
    writer = EnrichmentWriter(EnrichmentTarget(kind, str(path)), prefix)
    for _ in range(2):  # the second write replaces the first (same container scan)
        batch = EnrichmentBatch(key=(7, 3), anomaly_uuids=["u1"])
        batch.scan_operations.append({"OPERATION_ID": 7, "CONTAINER_ID": 3})
        batch.source_records.append({"ANOMALY_UUID": "u1", "RECORD": "{}"})
        writer.write(batch)
    quoted = '"' + prefix.replace('"', '""')
    assert _sql(kind, path, f'select OPERATION_ID from {quoted}_scan_operations"') == [(7,)]
    assert _sql(kind, path, f'select ANOMALY_UUID from {quoted}_source_records"') == [("u1",)]


def test_a_duckdb_batch_that_fails_halfway_leaves_nothing(tmp_path):
    import ibis

    path = tmp_path / "enr.duckdb"
    # a remediation table with a required column Assay does not fill: its insert, the last
    # of the batch, fails after the four others
    _sql("duckdb", path, "create table _p_remediation_3 (id bigint, required_by_someone integer not null)")
    batch = EnrichmentBatch(key=(7, 3), anomaly_uuids=["u1"])
    batch.scan_operations.append({"OPERATION_ID": 7, "CONTAINER_ID": 3})
    batch.failed_checks.append({"QUALITY_CHECK_ID": 1, "ANOMALY_UUID": "u1", "OPERATION_ID": 7})
    batch.source_records.append({"ANOMALY_UUID": "u1", "RECORD": "{}"})
    batch.check_metrics.append({"OPERATION_ID": 7, "CONTAINER_ID": 3, "QUALITY_CHECK_ID": 1})
    schema = ibis.schema({"id": "int64", "ANOMALY_UUID": "string"})
    batch.remediation = ("_p_remediation_3", schema, [{"id": 1, "ANOMALY_UUID": "u1"}], "append")
    with pytest.raises(duckdb.ConstraintException, match="required_by_someone"):
        EnrichmentWriter(EnrichmentTarget("duckdb", str(path)), "_p").write(batch)
    counts = [
        _enrichment_rows(path, f"select count(*) from _p_{table}")[0][0]
        for table in ("scan_operations", "failed_checks", "source_records", "check_metrics", "remediation_3")
    ]
    assert counts == [0, 0, 0, 0, 0]


@pytest.fixture
def queue_only_api(pg_database, tmp_path):
    """An API whose server runs no operation itself (ASSAY_WORKERS=0), on PostgreSQL."""
    settings = make_settings(tmp_path, pg_database, workers=0)
    client = _client(settings)
    api = next(client)
    api.settings = settings
    yield api
    client.close()


def test_two_worker_processes_40_scans_one_duckdb_enrichment_file(queue_only_api, pg_database, tmp_path, make_duckdb):
    api, settings = queue_only_api, queue_only_api.settings
    path = tmp_path / "enr.duckdb"
    ds, _t = _setup(api, make_duckdb, path, run_here=True)
    ids = [
        api.ok(
            "POST",
            "/api/operations/run",
            # every scan's 3 anomalies kept open (not archived as duplicates): 120 to enrich
            json={"type": "scan", "datastore_id": ds["id"], "archive_duplicate_anomalies": False},
        )["id"]
        for _ in range(40)
    ]
    env = {
        **os.environ,
        "ASSAY_DATABASE_URL": pg_database,
        "ASSAY_DATA_DIR": str(settings.data_dir),
        "ASSAY_REAPER_INTERVAL": "0.5",
    }
    workers = [_worker(env, tmp_path / f"w{i}.log") for i in range(2)]
    try:
        ops = [api.wait(i, timeout=300) for i in ids]
        deadline = time.monotonic() + 120
        while any(a["enrichment_pending"] for a in api.anomalies(datastore=ds["id"])):
            assert time.monotonic() < deadline, "pending enrichment was never finished"
            time.sleep(0.2)
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
        for w in workers:
            w.wait(30)
    assert [op["result"] for op in ops] == ["success"] * 40, [o["message"] for o in ops if o["result"] != "success"]
    assert [op["status"]["anomalies_identified"] for op in ops] == [3] * 40
    anomalies = api.anomalies(datastore=ds["id"])
    assert len(anomalies) == 120 and {a["source_enriched"] for a in anomalies} == {True}
    with api.client.app.state.database.session() as s:
        assert s.query(EnrichmentPending).count() == 0
    assert _enrichment_rows(path, "select count(*), count(distinct OPERATION_ID) from _src_scan_operations") == [
        (40, 40)
    ]
    per_anomaly = _enrichment_rows(path, "select ANOMALY_UUID, count(*) from _src_source_records group by 1 order by 1")
    assert per_anomaly == [(u, 1) for u in sorted(a["uuid"] for a in anomalies)]
    assert _enrichment_rows(path, "select count(*), count(distinct ANOMALY_UUID) from _src_failed_checks") == [
        (160, 120)
    ]
    assert _enrichment_rows(path, "select count(*) from _src_check_metrics") == [(80,)]


def test_a_killed_workers_operation_ends_within_30_seconds_by_default(queue_only_api, pg_database, tmp_path):
    api, settings = queue_only_api, queue_only_api.settings
    assert "ASSAY_HEARTBEAT_TIMEOUT" not in os.environ and "ASSAY_REAPER_INTERVAL" not in os.environ
    path = tmp_path / "many.duckdb"
    con = duckdb.connect(str(path))
    for i in range(60):  # the scan is still running when the worker is killed after 5 containers
        con.execute(f"CREATE TABLE t{i:03d} AS SELECT * FROM (VALUES (1, 1), (2, NULL)) x(id, v)")
    con.close()
    ds = api.duckdb_datastore("many", path)
    from assay.operations.runner import Runner

    sync = api.ok("POST", "/api/operations/run", json={"type": "sync", "datastore_id": ds["id"]})
    Runner(api.client.app.state.database, workers=1)._claim_and_run(sync["id"])
    for c in api.ok("GET", "/api/containers/listing", params={"datastore": ds["id"]}):
        api.check(c["id"], "notNull", ["v"])
    op = api.ok("POST", "/api/operations/run", json={"type": "scan", "datastore_id": ds["id"]})
    env = {**os.environ, "ASSAY_DATABASE_URL": pg_database, "ASSAY_DATA_DIR": str(settings.data_dir)}
    worker = _worker(env, tmp_path / "w.log")
    try:
        deadline = time.monotonic() + 60
        while api.ok("GET", f"/api/operations/{op['id']}")["status"]["containers_analyzed"] < 5:
            assert time.monotonic() < deadline, (tmp_path / "w.log").read_text()
            time.sleep(0.05)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    killed = time.monotonic()
    assert api.ok("GET", f"/api/operations/{op['id']}")["result"] == "running"
    while (final := api.ok("GET", f"/api/operations/{op['id']}"))["result"] == "running":
        assert time.monotonic() - killed < 30, "the killed worker's operation did not end within 30 s"
        time.sleep(0.2)
    assert final["result"] == "failure" and "stopped responding" in final["message"]
