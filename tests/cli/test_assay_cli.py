"""`assay operations …` and `assay schedules …` against a live `assay serve`."""

from __future__ import annotations

import json
import re

import duckdb
import pytest

from tests.cli.forkserver import run_assay
from tests.cli.test_qualytics_cli import Server


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("assay-cli")
    con = duckdb.connect(str(tmp / "src.duckdb"))
    con.execute("CREATE TABLE t AS SELECT * FROM (VALUES (1, NULL), (2, 5)) x(id, v)")
    con.close()
    server = Server(tmp)
    ds = server.post(
        "/datastores", {"name": "src", "connection": {"type": "duckdb"}, "database": str(tmp / "src.duckdb")}
    )
    yield server, ds["id"]
    server.stop()


def assay(server, *args):
    r = run_assay([*args, "--url", server.url, "--token", server.token], env={**server.env, "COLUMNS": "200"})
    return r.returncode, r.stdout + r.stderr


def test_operations_run_get_list_abort(live):
    server, ds = live
    code, out = assay(
        server, "operations", "run", json.dumps({"type": "sync", "datastore_id": ds}), "--poll-interval", "0.2"
    )
    assert code == 0 and re.search(r"sync operation (\d+): success", out), out
    container = server.get("/containers/listing", datastore=ds)[0]["id"]
    server.post("/quality-checks", {"container_id": container, "rule": "notNull", "fields": ["v"]})
    code, out = assay(
        server, "operations", "run", json.dumps({"type": "scan", "datastore_id": ds}), "--poll-interval", "0.2"
    )
    scan_id = int(re.search(r"scan operation (\d+): success", out).group(1))
    assert code == 0 and server.get(f"/operations/{scan_id}")["status"]["anomalies_identified"] == 1
    code, out = assay(server, "operations", "get", str(scan_id))
    assert code == 0 and json.loads(out)["id"] == scan_id
    code, out = assay(server, "operations", "list", "--datastore-id", str(ds))
    assert code == 0 and "2 operation(s) in all" in out
    code, out = assay(server, "operations", "abort", str(scan_id))
    assert code == 0 and f"scan operation {scan_id}: success" in out  # already finished: unchanged
    code, out = assay(server, "operations", "run", json.dumps({"type": "scan", "datastore_id": 424242}))
    assert code == 1 and "Datastore 424242 not found" in out


def test_schedules_create_list_delete(live):
    server, ds = live
    code, out = assay(
        server,
        "schedules",
        "create",
        json.dumps({"type": "scan", "datastore_id": ds}),
        "--crontab",
        "*/5 * * * *",
        "--name",
        "often",
    )
    m = re.search(r"schedule (\d+) \(scan, \*/5 \* \* \* \*\) next runs at \S+", out)
    assert code == 0 and m, out
    code, out = assay(server, "schedules", "list")
    assert code == 0 and "often" in out and "*/5 * * * *" in out
    code, out = assay(
        server, "schedules", "create", json.dumps({"type": "scan", "datastore_id": ds}), "--crontab", "bogus"
    )
    assert code == 1 and "crontab" in out
    code, out = assay(server, "schedules", "delete", m.group(1))
    assert code == 0 and server.get("/operations/schedule")["total"] == 0
