"""The activity log (``GET /api/activity``): what users change through the API, not what operations do."""

from __future__ import annotations

import datetime as dt


def test_activity_logs_api_changes_newest_first(api_any_store, make_duckdb):
    api = api_any_store
    path = make_duckdb("create table t(id integer)", "insert into t values (1), (-1)")
    ds = api.duckdb_datastore("logged", path)
    api.sync(ds["id"])  # the sync's containers and fields are the operation's doing: not logged
    cid = api.container_id(ds["id"], "t")
    check = api.check(cid, "positive", ["id"])
    api.ok("PUT", f"/api/quality-checks/{check['id']}", json={"description": "ids are positive"})
    api.scan(ds["id"])  # its anomaly is not logged either
    api.ok("DELETE", f"/api/quality-checks/{check['id']}")  # archived: an update of the check
    body = api.ok("GET", "/api/activity")
    me = api.ok("GET", "/api/users/me")
    assert [(a["verb"], a["object_type"], a["object_id"]) for a in body["items"]] == [
        ("update", "quality_check", check["id"]),
        ("update", "quality_check", check["id"]),
        ("insert", "quality_check", check["id"]),
        ("insert", "datastore", ds["id"]),
        # its inline connection became a connection of its own (issue 16), in the same transaction
        ("insert", "connection", ds["connection_id"]),
    ]
    first = body["items"][-1]["transaction"]
    assert first["user"]["id"] == me["id"] and first["user"]["email"] == me["email"]
    assert first["issued_at"].endswith("Z")
    assert (body["total"], body["page"]) == (5, 1)
    assert api.ok("GET", "/api/activity", params={"users": 999})["total"] == 0
    today = dt.datetime.now(dt.UTC).date()
    assert api.ok("GET", "/api/activity", params={"end_date": str(today - dt.timedelta(days=1))})["total"] == 0
    assert api.ok("GET", "/api/activity", params={"start_date": str(today)})["total"] == 5
