"""Operation control: abort, resume, rerun, heartbeat, delete; `assay worker` processes on
PostgreSQL claiming each operation exactly once; a worker killed with kill -9 mid-scan."""

from __future__ import annotations

import datetime as dt
import os
import signal
import time

import duckdb
import pytest

from assay.store.models import Anomaly, Operation
from tests.cli.forkserver import start_assay
from tests.conftest import _client, make_settings

TABLES = 60  # enough that a scan is still running when the tests abort it after 3 containers


def _many_tables(path, tables=TABLES):
    con = duckdb.connect(str(path))
    try:
        for i in range(tables):  # each table: one row that fails notNull(v)
            con.execute(f"CREATE TABLE t{i:03d} AS SELECT * FROM (VALUES (1, 1), (2, NULL)) x(id, v)")
    finally:
        con.close()


def _datastore_with_checks(api, path, name="many", run_here=False):
    ds = api.duckdb_datastore(name, path)
    if run_here:  # a queue-only server: run the sync in this process with a runner of our own
        from assay.operations.runner import Runner

        op = api.ok("POST", "/api/operations/run", json={"type": "sync", "datastore_id": ds["id"]})
        Runner(api.client.app.state.database, workers=1)._claim_and_run(op["id"])
        assert api.ok("GET", f"/api/operations/{op['id']}")["result"] == "success"
    else:
        api.sync(ds["id"])
    for c in api.ok("GET", "/api/containers/listing", params={"datastore": ds["id"]}):
        api.check(c["id"], "notNull", ["v"])
    return ds


@pytest.fixture
def many(api, tmp_path):
    path = tmp_path / "many.duckdb"
    _many_tables(path)
    return _datastore_with_checks(api, path)


def test_abort_within_seconds_then_resume_without_duplicates(api, many):
    op = api.ok("POST", "/api/operations/run", json={"type": "scan", "datastore_id": many["id"]})
    while api.ok("GET", f"/api/operations/{op['id']}")["status"]["containers_analyzed"] < 3:
        time.sleep(0.05)
    start = time.monotonic()
    aborted = api.ok("PUT", f"/api/operations/abort/{op['id']}")
    assert time.monotonic() - start < 5
    assert aborted["result"] == "aborted" and aborted["end_time"]
    analyzed = aborted["status"]["containers_analyzed"]
    assert 3 <= analyzed < TABLES


def test_resume_and_rerun(api, many):
    # the rerun finds the same anomalies: kept open (not Duplicate) so each operation's can be counted
    payload = {"type": "scan", "datastore_id": many["id"], "archive_duplicate_anomalies": False}
    op = api.ok("POST", "/api/operations/run", json=payload)
    while api.ok("GET", f"/api/operations/{op['id']}")["status"]["containers_analyzed"] < 3:
        time.sleep(0.05)
    aborted = api.ok("PUT", f"/api/operations/abort/{op['id']}")
    assert aborted["result"] == "aborted"
    rerun = api.ok("PUT", f"/api/operations/rerun/{op['id']}")  # a new operation, same payload
    assert rerun["id"] != op["id"] and rerun["triggered_by"] == f"rerun of operation {op['id']}"
    resumed = api.ok("PUT", f"/api/operations/run/{op['id']}")
    assert resumed["result"] == "running"
    done = api.wait(op["id"], timeout=120)
    assert done["result"] == "success", done
    assert done["status"]["containers_analyzed"] == TABLES and done["status"]["anomalies_identified"] == TABLES
    scans = done["container_scans"]
    assert len(scans) == TABLES and len({cs["container"]["id"] for cs in scans}) == TABLES
    assert api.wait(rerun["id"], timeout=120)["result"] == "success"  # (list anomalies once nothing writes)
    mine = [a for a in api.anomalies(datastore=many["id"]) if a["operation_id"] == op["id"]]
    assert len({a["id"] for a in mine}) == len(mine)
    assert len(mine) == TABLES  # the containers scanned before the abort are not scanned twice
    assert api.client.put(f"/api/operations/run/{op['id']}").status_code == 409  # success does not resume


def test_heartbeat_and_delete(api, many):
    op = api.ok("POST", "/api/operations/run", json={"type": "scan", "datastore_id": many["id"]})
    while api.ok("GET", f"/api/operations/{op['id']}")["queued"]:
        time.sleep(0.05)
    beat = api.ok("GET", f"/api/operations/{op['id']}/heartbeat")
    assert beat["result"] == "running" and beat["alive"] is True and beat["heartbeat"]
    assert api.client.head(f"/api/operations/{op['id']}/heartbeat").status_code == 200
    assert api.client.delete(f"/api/operations/{op['id']}").status_code == 409
    api.ok("PUT", f"/api/operations/abort/{op['id']}")
    assert api.ok("GET", f"/api/operations/{op['id']}/heartbeat")["alive"] is False
    assert api.client.delete(f"/api/operations/{op['id']}").status_code == 204
    assert api.client.get(f"/api/operations/{op['id']}").status_code == 404


def _worker(env, name):
    return start_assay(["worker", "--threads", "2"], env=env, log=os.devnull, stderr=name)


@pytest.fixture
def queue_only_api(pg_database, tmp_path):
    """An API whose server runs no operation itself (ASSAY_WORKERS=0), on PostgreSQL."""
    settings = make_settings(tmp_path, pg_database, workers=0)
    client = _client(settings)
    api = next(client)
    api.settings = settings
    yield api
    client.close()


def test_two_worker_processes_run_each_of_100_operations_once(queue_only_api, pg_database, tmp_path):
    api, settings = queue_only_api, queue_only_api.settings
    path = tmp_path / "small.duckdb"
    _many_tables(path, tables=1)
    ds = _datastore_with_checks(api, path, "small", run_here=True)
    ids = [
        # duplicates kept open (archive_duplicate_anomalies false), so each operation's anomaly is counted
        api.ok(
            "POST",
            "/api/operations/run",
            json={"type": "scan", "datastore_id": ds["id"], "archive_duplicate_anomalies": False},
        )["id"]
        for _ in range(100)
    ]
    answers = [api.ok("GET", f"/api/operations/{i}") for i in ids]
    assert {(o["result"], o["queued"]) for o in answers} == {("running", True)}
    env = {**os.environ, "ASSAY_DATABASE_URL": pg_database, "ASSAY_DATA_DIR": str(settings.data_dir)}
    workers = [_worker(env, tmp_path / f"w{i}.log") for i in range(2)]
    try:
        ops = [api.wait(i, timeout=240) for i in ids]
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
        for w in workers:
            w.wait(30)
    assert all(op["result"] == "success" for op in ops), [o for o in ops if o["result"] != "success"][:1]
    assert all(len(op["container_scans"]) == 1 for op in ops)
    # every worker thread found the one failing row (a race in loading the rule catalogue once
    # made a fresh worker's first checks "unknown rule type")
    assert [op["message"] for op in ops if op["status"]["anomalies_identified"] != 1] == []
    assert len(api.anomalies(datastore=ds["id"])) == 100  # one per operation: none ran twice
    with api.client.app.state.database.session() as s:
        runners = {s.get(Operation, i).worker for i in ids}
    assert len(runners) == 2, runners  # both processes took work


def test_kill_9_of_a_worker_mid_scan(queue_only_api, pg_database, tmp_path):
    api, settings = queue_only_api, queue_only_api.settings
    path = tmp_path / "many.duckdb"
    _many_tables(path)
    ds = _datastore_with_checks(api, path, run_here=True)
    op = api.ok("POST", "/api/operations/run", json={"type": "scan", "datastore_id": ds["id"]})
    env = {
        **os.environ,
        "ASSAY_DATABASE_URL": pg_database,
        "ASSAY_DATA_DIR": str(settings.data_dir),
        "ASSAY_HEARTBEAT_SECONDS": "0.5",
    }
    worker = _worker(env, tmp_path / "w.log")
    try:
        deadline = time.monotonic() + 60
        while api.ok("GET", f"/api/operations/{op['id']}")["status"]["containers_analyzed"] < 5:
            assert time.monotonic() < deadline, (tmp_path / "w.log").read_text()
            time.sleep(0.05)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    assert api.ok("GET", f"/api/operations/{op['id']}")["result"] == "running"
    runner = api.client.app.state.runner
    from assay.operations.runner import HEARTBEAT_TIMEOUT

    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=HEARTBEAT_TIMEOUT + 1)
    assert runner.reap(now=later) == [op["id"]]
    final = api.ok("GET", f"/api/operations/{op['id']}")
    assert final["result"] == "failure" and "stopped responding" in final["message"]
    assert final["end_time"] is not None
    scans = final["container_scans"]
    assert all(cs["result"] in ("success", "failure") for cs in scans)
    succeeded = [cs for cs in scans if cs["result"] == "success"]
    with api.client.app.state.database.session() as s:
        anomalies = s.query(Anomaly).filter(Anomaly.operation_id == op["id"]).all()
        assert {a.container_scan_id for a in anomalies} == {cs["id"] for cs in succeeded}
    assert len(anomalies) == len(succeeded)  # one per finished container; nothing recorded twice


def test_abort_cancels_a_long_running_query(api, tmp_path):
    path = tmp_path / "huge.duckdb"
    con = duckdb.connect(str(path))
    try:  # a view over 40 billion rows: the fused query would run for hours
        con.execute("CREATE VIEW huge AS SELECT a.range AS id, b.range AS v FROM range(200000) a, range(200000) b")
    finally:
        con.close()
    ds = api.duckdb_datastore("huge", path)
    api.sync(ds["id"])
    api.check(api.container_id(ds["id"], "huge"), "notNegative", ["v"])
    op = api.ok("POST", "/api/operations/run", json={"type": "scan", "datastore_id": ds["id"]})
    deadline = time.monotonic() + 30
    while api.ok("GET", f"/api/operations/{op['id']}")["queued"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(1)  # well inside the query now
    start = time.monotonic()
    aborted = api.ok("PUT", f"/api/operations/abort/{op['id']}")
    assert aborted["result"] == "aborted" and time.monotonic() - start < 5
    (cs,) = aborted["container_scans"]
    assert cs["result"] == "aborted" and cs["message"] == "aborted by request"


def test_abort_cancels_a_long_running_profile_and_records_nothing_for_it(api, tmp_path):
    path = tmp_path / "huge.duckdb"
    con = duckdb.connect(str(path))
    try:  # a view over 40 billion filtered rows: each statistic's query would run for many minutes
        con.execute(
            "CREATE VIEW huge AS SELECT a.range AS id, b.range AS v FROM range(200000) a, range(200000) b "
            "WHERE (a.range * b.range) % 7 = 3"
        )
    finally:
        con.close()
    ds = api.duckdb_datastore("huge", path)
    api.sync(ds["id"])
    op = api.ok("POST", "/api/operations/run", json={"type": "profile", "datastore_id": ds["id"]})
    deadline = time.monotonic() + 30
    while api.ok("GET", f"/api/operations/{op['id']}")["queued"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(1)  # well inside the profile's first query
    aborted = api.ok("PUT", f"/api/operations/abort/{op['id']}")
    assert (aborted["result"], aborted["message"]) == ("aborted", "aborted by request")
    # its worker stops: every query the profile starts (it retries a failed statistic) is cancelled
    database = api.client.app.state.database
    deadline = time.monotonic() + 30
    while True:
        with database.session() as s:
            if not s.get_one(Operation, op["id"]).abort_requested:
                break
        assert time.monotonic() < deadline, "the aborted profile still runs"
        time.sleep(0.1)
    assert api.ok("GET", f"/api/operations/{op['id']}")["container_profiles"] == []


def test_a_datastore_runs_at_most_its_limit_at_once(api, tmp_path):
    path = tmp_path / "many.duckdb"
    _many_tables(path, tables=10)  # enough for two workers to overlap without the limit
    ds = api.duckdb_datastore("limited", path, max_concurrent_operations=1)
    assert ds["max_concurrent_operations"] == 1
    cleared = api.ok("PUT", f"/api/datastores/{ds['id']}", json={"max_concurrent_operations": None})
    assert cleared["max_concurrent_operations"] is None  # null removes the limit
    api.ok("PUT", f"/api/datastores/{ds['id']}", json={"max_concurrent_operations": 1})
    api.sync(ds["id"])
    for c in api.ok("GET", "/api/containers/listing", params={"datastore": ds["id"]}):
        api.check(c["id"], "notNull", ["v"])
    ids = [
        api.ok(
            "POST",
            "/api/operations/run",
            json={"type": "scan", "datastore_id": ds["id"], "auto_resolve_passed_anomalies": False},
        )["id"]
        for _ in range(3)
    ]
    ops = [api.wait(i, timeout=180) for i in ids]
    assert [op["result"] for op in ops] == ["success"] * 3
    # Two worker threads, but the datastore allows one operation at a time: by the server's own
    # clock, each operation started only after the previous one ended.
    spans = sorted((op["start_time"], op["end_time"]) for op in ops)
    assert all(later[0] >= earlier[1] for earlier, later in zip(spans, spans[1:], strict=False)), spans


def test_abort_of_an_operation_whose_worker_is_gone(api, many):
    database = api.client.app.state.database
    with database.session() as s:
        op = Operation(
            type="scan",
            datastore_id=many["id"],
            result="running",
            params={},
            status={},
            worker="gone:1",
            heartbeat=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10),
        )
        s.add(op)
        s.flush()
        op_id = op.id
    start = time.monotonic()
    aborted = api.ok("PUT", f"/api/operations/abort/{op_id}")
    assert time.monotonic() - start < 1
    assert aborted["result"] == "aborted" and "gone:1 had stopped responding" in aborted["message"]


def test_sigterm_of_a_worker_aborts_its_operation_at_once(queue_only_api, pg_database, tmp_path):
    api, settings = queue_only_api, queue_only_api.settings
    path = tmp_path / "huge.duckdb"
    con = duckdb.connect(str(path))
    try:
        con.execute("CREATE VIEW huge AS SELECT a.range AS id, b.range AS v FROM range(200000) a, range(200000) b")
    finally:
        con.close()
    ds = _datastore_with_checks(api, path, "huge", run_here=True)
    op = api.ok("POST", "/api/operations/run", json={"type": "scan", "datastore_id": ds["id"]})
    env = {**os.environ, "ASSAY_DATABASE_URL": pg_database, "ASSAY_DATA_DIR": str(settings.data_dir)}
    worker = _worker(env, tmp_path / "w.log")
    try:
        deadline = time.monotonic() + 60
        while api.ok("GET", f"/api/operations/{op['id']}")["queued"]:  # until the worker starts it
            assert time.monotonic() < deadline, (tmp_path / "w.log").read_text()
            time.sleep(0.1)
        time.sleep(1)
        start = time.monotonic()
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(30) == 0, (tmp_path / "w.log").read_text()
        assert time.monotonic() - start < 20  # about 2 s on an idle machine: the query is cancelled
    finally:
        if worker.poll() is None:  # the test failed: its 40-billion-row query would run on for hours
            worker.kill()
            worker.wait(10)
    final = api.ok("GET", f"/api/operations/{op['id']}")
    assert final["result"] == "aborted", final  # resumable, not left running until the heartbeat times out


def test_a_server_keeps_its_startup_heap_out_of_full_garbage_collections(tmp_path):
    """While a server runs, what it held at start (modules, the app, the jobs' code) is in
    the collector's permanent generation, so a full collection during a scan does not walk
    it; the server gives it back when it stops. It collects young objects every 20,000
    allocations instead of Python's 700."""
    import gc

    session = gc.get_threshold()
    gc.set_threshold(700, 10, 10)  # Python's defaults (the test session runs with the server's)
    client = _client(make_settings(tmp_path))
    api = next(client)
    try:
        frozen = gc.get_freeze_count()
        # the jobs' code and its engines were imported before the freeze
        assert frozen > 50_000, frozen
        assert gc.get_threshold() == (20_000, 20, 20)
        assert api.client.get("/api/health").status_code == 204
    finally:
        next(client, None)
        gc.set_threshold(*session)
    assert gc.get_freeze_count() == 0
