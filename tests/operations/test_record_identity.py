"""A record anomaly is the same record across scans (issue 16): adding a computed field,
the table gaining a column, or an anomaly fingerprinted by an older Assay (a hash of the
whole row, computed fields included) keeps its id, triage status and comments; the scan
neither auto-resolves it nor opens a new one. On DuckDB and SQLite datastores."""

from __future__ import annotations

import json
import sqlite3

import duckdb
import pytest
from sqlalchemy import update

from assay.engine.anomalies import fingerprint, record_fingerprint
from assay.store.models import Anomaly


def _execute(kind: str, path, *statements: str) -> None:
    con = duckdb.connect(str(path)) if kind == "duckdb" else sqlite3.connect(str(path))
    try:
        for sql in statements:
            con.execute(sql)
        if kind == "sqlite":
            con.commit()
    finally:
        con.close()


@pytest.mark.parametrize("kind", ["duckdb", "sqlite"])
def test_a_record_anomaly_keeps_its_triage_across_schema_changes(api, tmp_path, kind):
    path = tmp_path / f"src.{kind}"
    _execute(kind, path, "CREATE TABLE t (id INTEGER, v INTEGER)", "INSERT INTO t VALUES (1, NULL), (2, 5)")
    ds = api.ok("POST", "/api/datastores", json={"name": kind, "connection": {"type": kind}, "database": str(path)})
    api.sync(ds["id"])
    cid = api.container_id(ds["id"], "t")
    api.check(cid, "notNull", ["v"])

    def scan_and_open() -> list[dict]:
        op = api.scan(ds["id"])
        assert op["result"] == "success", op
        # the one failing row (id 1) is found again; nothing is auto-resolved
        [cs] = op["container_scans"]
        assert (cs["anomaly_count"], cs["auto_resolved_anomaly_count"]) == (1, 0), cs
        return [a for a in api.anomalies(container=cid) if a["status"] in ("Active", "Acknowledged")]

    [first] = scan_and_open()
    aid = first["id"]
    api.ok("PUT", f"/api/anomalies/{aid}", json={"status": "Acknowledged"})
    comment = api.ok("POST", "/api/comments", json={"anomaly_id": aid, "message": "known gap"})

    def still_triaged(expected_record: dict) -> None:
        [kept] = scan_and_open()
        assert (kept["id"], kept["status"]) == (aid, "Acknowledged")
        assert [c["id"] for c in api.ok("GET", f"/api/anomalies/{aid}")["comments"]] == [comment["id"]]
        # this scan stored its finding as a Duplicate of it (archive_duplicate_anomalies), with the row it read
        every = api.anomalies(container=cid, archived="include")
        assert sorted(a["status"] for a in every).count("Acknowledged") == 1
        assert not [a for a in every if a["status"] in ("Active", "Resolved")]
        latest = max(every, key=lambda a: a["id"])
        assert latest["status"] == "Duplicate"
        [record] = api.ok("GET", f"/api/anomalies/{latest['id']}/source-record")
        assert json.loads(record["source_record"]) == expected_record

    # a computed field: every row gains a column, the record is the same
    api.ok(
        "POST",
        "/api/computed-fields",
        json={"name": "tenfold", "container_id": cid, "properties": {"column_expression": "id * 10"}},
    )
    still_triaged({"id": 1, "v": None, "tenfold": 10})

    # the table gains a column; after a re-sync the record still is the same anomaly
    _execute(kind, path, "ALTER TABLE t ADD COLUMN note VARCHAR")
    api.sync(ds["id"])
    still_triaged({"id": 1, "v": None, "note": None, "tenfold": 10})

    # an install upgraded from a version that hashed the whole row (computed fields included)
    old = fingerprint(cid, {"id": 1, "v": None, "note": None, "tenfold": 10})
    new = record_fingerprint(cid, {"id": 1, "v": None, "note": None}, ())
    assert old != new
    with api.app.state.database.session() as s:
        s.execute(update(Anomaly).where(Anomaly.id == aid).values(fingerprint=old))
    still_triaged({"id": 1, "v": None, "note": None, "tenfold": 10})
    with api.app.state.database.session() as s:
        assert s.get_one(Anomaly, aid).fingerprint == new  # moved to today's fingerprint


@pytest.mark.parametrize("kind", ["duckdb", "sqlite"])
def test_an_archived_record_anomaly_is_reactivated_after_the_table_gains_a_column(api, tmp_path, kind):
    """reactivate_recurring_anomalies recognises a resolved record anomaly although the
    row gained a column since: the archived one goes back to Active (same id, comment kept),
    the new finding is stored as its Duplicate; no second Active anomaly for the row."""
    path = tmp_path / f"re.{kind}"
    _execute(kind, path, "CREATE TABLE t (id INTEGER, v INTEGER)", "INSERT INTO t VALUES (1, 50), (2, 5), (3, 7)")
    ds = api.ok("POST", "/api/datastores", json={"name": kind, "connection": {"type": kind}, "database": str(path)})
    api.sync(ds["id"])
    cid = api.container_id(ds["id"], "t")
    api.check(cid, "between", ["v"], properties={"min": 0, "max": 10, "inclusive": True})
    first = api.scan(ds["id"])
    assert first["result"] == "success", first
    [found] = api.anomalies(container=cid)
    aid = found["id"]
    comment = api.ok("POST", "/api/comments", json={"anomaly_id": aid, "message": "fixed upstream"})
    api.ok("DELETE", f"/api/anomalies/{aid}", params={"archive": True, "status": "Resolved"})

    _execute(kind, path, "ALTER TABLE t ADD COLUMN note VARCHAR")
    api.sync(ds["id"])
    again = api.scan(ds["id"], reactivate_recurring_anomalies=True, archive_duplicate_anomalies=False)
    assert again["result"] == "success", again
    every = sorted(api.anomalies(container=cid, archived="include"), key=lambda a: a["id"])
    assert [(a["id"], a["status"]) for a in every] == [(aid, "Active"), (every[1]["id"], "Duplicate")]
    assert every[1]["id"] > aid
    assert [c["id"] for c in api.ok("GET", f"/api/anomalies/{aid}")["comments"]] == [comment["id"]]
    [record] = api.ok("GET", f"/api/anomalies/{every[1]['id']}/source-record")
    assert json.loads(record["source_record"]) == {"id": 1, "v": 50, "note": None}
