"""The operations service: abort never waits for a worker; a resumed operation is not claimed
again until the worker of its aborted attempt has stopped (or is presumed dead)."""

from __future__ import annotations

import datetime as dt
import time

import duckdb

from assay.api.schemas import ScanOperation
from assay.operations import service
from assay.operations.progress import finish
from assay.operations.runner import HEARTBEAT_TIMEOUT, Runner
from assay.store.db import Database
from assay.store.models import ContainerScan, Datastore, Operation


def _scan_running_elsewhere(api, tmp_path, heartbeat_age: float = 0.0) -> tuple[int, int]:
    """A datastore with one failing check, and a scan of it that another worker
    (``elsewhere:1``) claims to run, its last heartbeat ``heartbeat_age`` seconds ago."""
    path = tmp_path / "one.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE t AS SELECT * FROM (VALUES (1, 1), (2, NULL)) x(id, v)")
    con.close()
    ds = api.duckdb_datastore("one", path)
    api.sync(ds["id"])
    container_id = api.container_id(ds["id"], "t")
    api.check(container_id, "notNull", ["v"])
    database = api.client.app.state.database
    now = dt.datetime.now(dt.UTC)
    with database.session() as s:
        _type, params = service.validate(
            s, ScanOperation(type="scan", datastore_id=ds["id"]), s.get(Datastore, ds["id"])
        )
        op = Operation(
            type="scan",
            datastore_id=ds["id"],
            result="running",
            params=params,
            status=service.initial_status("scan"),
            worker="elsewhere:1",
            start_time=now,
            heartbeat=now - dt.timedelta(seconds=heartbeat_age),
            container_ids=[container_id],
        )
        s.add(op)
        s.flush()
        s.add(ContainerScan(operation_id=op.id, container_id=container_id, start_time=now, result="running"))
        return op.id, ds["id"]


def test_abort_returns_at_once_and_a_resume_waits_for_the_stopping_worker(api, tmp_path):
    op_id, ds_id = _scan_running_elsewhere(api, tmp_path)
    database = api.client.app.state.database

    start = time.monotonic()
    aborted = api.ok("PUT", f"/api/operations/abort/{op_id}")
    assert time.monotonic() - start < 1  # the worker elsewhere never answers: nothing waits for it
    assert aborted["result"] == "aborted" and aborted["message"] == "aborted by request" and aborted["end_time"]
    (cs,) = aborted["container_scans"]
    assert (cs["result"], cs["message"]) == ("aborted", "aborted by request")
    assert cs["end_time"] is not None
    with database.session() as s:
        assert s.get(Operation, op_id).abort_requested is True  # what the worker elsewhere sees
    assert api.ok("PUT", f"/api/operations/abort/{op_id}")["end_time"] == aborted["end_time"]  # unchanged
    assert api.ok("GET", f"/api/operations/{op_id}/heartbeat")["alive"] is False

    resumed = api.ok("PUT", f"/api/operations/run/{op_id}")
    assert (resumed["result"], resumed["queued"]) == ("running", True)
    assert resumed["end_time"] is None and resumed["message"] is None
    runner = Runner(database, workers=1, name="here:1")
    try:
        assert runner.claim(op_id) is False  # elsewhere:1 has not stopped yet
        assert api.ok("GET", f"/api/operations/{op_id}")["queued"] is True

        finish(database, op_id, "aborted", "aborted by request")  # elsewhere:1 stops
        with database.session() as s:
            op = s.get(Operation, op_id)
            assert (op.result, op.abort_requested) == ("queued", False)  # the resume stands

        assert runner.claim(op_id) is True
        runner._run(op_id)
    finally:
        runner.shutdown(wait=True)
    done = api.ok("GET", f"/api/operations/{op_id}")
    assert done["result"] == "success", done
    assert [(cs["result"], cs["anomaly_count"]) for cs in done["container_scans"]] == [("success", 1)]
    assert len(api.anomalies(datastore=ds_id)) == 1


def test_a_worker_that_died_while_stopping_does_not_hold_a_resumed_operation(api, tmp_path):
    op_id, _ds_id = _scan_running_elsewhere(api, tmp_path, heartbeat_age=HEARTBEAT_TIMEOUT + 5)
    aborted = api.ok("PUT", f"/api/operations/abort/{op_id}")
    assert aborted["result"] == "aborted"
    assert aborted["message"] == "aborted by request; its worker elsewhere:1 had stopped responding"
    # elsewhere:1 is presumed dead: the server's own workers take the resumed scan at once
    assert api.ok("PUT", f"/api/operations/run/{op_id}")["result"] == "running"
    done = api.wait(op_id)
    assert done["result"] == "success", done
    database = api.client.app.state.database
    with database.session() as s:
        op = s.get(Operation, op_id)
        assert op.worker == api.client.app.state.runner.name and op.abort_requested is False


def test_the_reaper_releases_an_operation_whose_worker_died_while_stopping(api, tmp_path):
    op_id, _ds_id = _scan_running_elsewhere(api, tmp_path)
    api.ok("PUT", f"/api/operations/abort/{op_id}")
    database = api.client.app.state.database
    runner = Runner(database, workers=0, name="here:1")
    assert runner.reap() == []
    with database.session() as s:
        assert s.get(Operation, op_id).abort_requested is True  # elsewhere:1 still beats
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=HEARTBEAT_TIMEOUT + 1)
    assert runner.reap(now=later) == []  # nothing running was lost...
    with database.session() as s:
        op = s.get(Operation, op_id)
        assert (op.result, op.abort_requested) == ("aborted", False)  # ...but the hold is released


def test_a_late_finish_of_an_earlier_attempt_changes_nothing(api, tmp_path):
    op_id, _ds_id = _scan_running_elsewhere(api, tmp_path)
    database = api.client.app.state.database
    with database.session() as s:
        first_start = s.get(Operation, op_id).start_time
    api.ok("PUT", f"/api/operations/abort/{op_id}")
    # this app's own workers would race the test for the resumed operation's claim
    api.client.app.state.runner.workers = 0
    api.ok("PUT", f"/api/operations/run/{op_id}")
    finish(database, op_id, "aborted", "aborted by request", first_start)  # the first attempt stops
    runner = Runner(database, workers=0, name="here:1")
    assert runner.claim(op_id) is True
    # the first attempt's worker reports once more (e.g. it was presumed dead): ignored
    finish(database, op_id, "failure", "late", first_start)
    with database.session() as s:
        op = s.get(Operation, op_id)
        assert (op.result, op.message, op.worker) == ("running", None, "here:1")
    finish(database, op_id, "aborted", "aborted by request")


def _until(condition, message: str, seconds: float = 30) -> None:
    """Wait until ``condition()`` is true; fail with ``message`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, message
        time.sleep(0.05)


def _endless_scan_running(api, make_duckdb) -> tuple[int, Runner, Database]:
    """A scan of a DuckDB view over 10^11 rows (it runs until aborted), started by the app's
    runner: (operation id, the runner, the metadata store) once a runner thread runs it."""
    path = make_duckdb("CREATE VIEW endless AS SELECT range AS id FROM range(100000000000)")
    ds = api.duckdb_datastore("endless", path)
    api.sync(ds["id"])
    api.check(api.container_id(ds["id"], "endless"), "notNegative", ["id"])
    runner, database = api.client.app.state.runner, api.client.app.state.database
    op_id = api.ok("POST", "/api/operations/run", json={"type": "scan", "datastore_id": ds["id"]})["id"]
    _until(lambda: op_id in runner._active, "the scan never started")
    return op_id, runner, database


def test_a_runner_never_takes_its_own_running_operation_for_lost(api, make_duckdb):
    """A late heartbeat (a starved heartbeat thread, a busy metadata store) of an operation
    this process's own threads are running is not a dead worker: its reaper leaves it,
    while the reaper of another process ends it as lost. (Seen once in CI: a Spark profile
    on an overloaded machine ended as ``failure`` while its thread still ran.)"""
    op_id, runner, database = _endless_scan_running(api, make_duckdb)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=HEARTBEAT_TIMEOUT + 1)
    assert runner.reap(now=later) == []
    assert api.ok("GET", f"/api/operations/{op_id}")["result"] == "running"
    assert Runner(database, workers=0, name="elsewhere:2").reap(now=later) == [op_id]
    ended = api.ok("GET", f"/api/operations/{op_id}")
    assert (ended["result"], ended["message"].split(" (")[0]) == (
        "failure",
        f"worker {runner.name} stopped responding",
    )
    _until(lambda: op_id not in runner._active, "the scan's thread still runs")  # it sees the end and stops


def test_a_resumed_operation_waits_for_this_runners_stopping_attempt_however_late_its_heartbeat(api, make_duckdb):
    """Aborted and resumed while this runner's thread of the first attempt is still running:
    the runner does not claim it again, even with the heartbeat long past the timeout, until
    that thread has stopped; then the resumed attempt runs."""
    op_id, runner, database = _endless_scan_running(api, make_duckdb)
    runner.workers = 0  # this runner's workers do not take the resumed operation
    api.ok("PUT", f"/api/operations/abort/{op_id}")
    api.ok("PUT", f"/api/operations/run/{op_id}")
    with database.session() as s:  # the first attempt's heartbeat, long past the timeout
        s.get(Operation, op_id).heartbeat = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=HEARTBEAT_TIMEOUT + 5)
    if op_id in runner._active:  # (its thread may already have stopped on a fast machine)
        assert runner.claim(op_id) is False
    _until(lambda: op_id not in runner._active, "the first attempt's thread still runs")
    runner.claim(op_id)  # (unless the end of the first attempt offered it already)
    with database.session() as s:
        assert s.get(Operation, op_id).result == "running"
    api.ok("PUT", f"/api/operations/abort/{op_id}")
