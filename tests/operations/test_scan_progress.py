"""Progress inside a container (issue 15, goal 5): while one big container is read, the scan
operation's ``status.container_progress`` moves (DuckDB's query progress), and is gone
again once the container is done."""

from __future__ import annotations

import time

import duckdb
import pytest

from assay.operations import scan
from assay.sources.duckdb import DuckDBSource

# 5 M rows (DuckDB tells the progress of a table scan, not of a view over range()): a
# regular expression over them takes a good fraction of a second, never milliseconds.
ROWS = 5_000_000


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """One DuckDB file with the table ``big`` for the module (built once)."""
    path = tmp_path_factory.mktemp("progress") / "big.duckdb"
    con = duckdb.connect(str(path))
    try:
        con.execute(f"CREATE TABLE big AS SELECT i, CAST(i AS VARCHAR) AS s FROM range({ROWS}) t(i)")
    finally:
        con.close()
    return path


def test_duckdb_source_reports_the_running_query_progress(big):
    import threading

    source = DuckDBSource(str(big))
    try:
        assert source.progress() is None  # nothing runs
        seen: list[float | None] = []
        table = source.con.table("big")
        runner = threading.Thread(target=lambda: table.filter(table.s.re_search("^1.*9$")).count().execute())
        runner.start()
        while runner.is_alive():
            seen.append(source.progress())
            time.sleep(0.02)
        runner.join()
        fractions = [f for f in seen if f is not None]
        assert fractions and all(0.0 <= f <= 1.0 for f in fractions)
        assert any(0.0 < f < 1.0 for f in fractions)
    finally:
        source.close()


def test_scan_status_moves_inside_a_big_container(api, big, monkeypatch):
    monkeypatch.setattr(scan, "PROGRESS_EVERY", 0.05)
    ds = api.duckdb_datastore("big", big)
    api.sync(ds["id"])
    api.check(api.container_id(ds["id"], "big"), "matchesPattern", ["s"], properties={"pattern": "^[0-8]+$"})
    op = api.ok("POST", "/api/operations/run", json={"type": "scan", "datastore_id": ds["id"]})
    inside: list[float] = []
    while not (body := api.ok("GET", f"/api/operations/{op['id']}"))["end_time"]:
        status = body["status"] or {}
        if status.get("containers_analyzed") == 0 and status.get("container_progress"):
            inside.append(status["container_progress"])
        time.sleep(0.02)
    assert body["result"] == "success", body
    assert inside and all(0.0 < f <= 1.0 for f in inside)
    assert inside == sorted(inside)  # never moves back within a container
    assert body["status"]["containers_analyzed"] == 1
    assert "container_progress" not in body["status"]  # only while a container is read
    assert body["status"]["records_processed"] == ROWS
