"""What a new user meets in the first hour (issue 21): a datastore's connection tested when it
is saved, a scan that selects nothing says so, a sync of a missing file logs one line, the
same partition name in the API and the enrichment tables, a schedule paused without a body,
and `assay token create` printing only the token."""

from __future__ import annotations

import logging
import os

import duckdb

from tests.cli.forkserver import run_assay

SHOP = ("create table orders (id integer, amount integer)", "insert into orders values (1, 5), (2, -1)")


def test_a_datastore_whose_file_is_missing_is_refused_with_the_reason(api, make_duckdb, tmp_path):
    missing = tmp_path / "typo.duckdb"
    body = {"name": "shop", "connection": {"type": "duckdb"}, "database": str(missing)}
    r = api.client.post("/api/datastores", json=body)
    assert r.status_code == 422
    assert r.json()["detail"] == [
        {
            "loc": ["body", "database"],
            "msg": f"connection test failed: DuckDB database file not found: {missing} (fix the datastore's "
            "settings, or add ?test_connection=false to save it without testing)",
            "type": "value_error",
        }
    ]
    assert api.ok("GET", "/api/datastores")["total"] == 0  # nothing saved
    # a folder that does not exist: the driver's reason, on the connection
    r = api.client.post(
        "/api/datastores", json={"name": "files", "connection": {"type": "local", "uri": f"file://{tmp_path}/nope"}}
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "connection"], r.text
    assert str(tmp_path / "nope") in r.json()["detail"][0]["msg"]
    # offline set-up: saved untested on request
    saved = api.ok("POST", "/api/datastores", json=body, params={"test_connection": "false"})
    assert saved["database"] == str(missing)
    # an enrichment DuckDB file is created by its first write: no file yet is fine
    lake = api.enrichment_datastore("lake", tmp_path / "lake.duckdb")
    assert lake["enrichment_only"] is True


def test_changing_a_datastore_to_a_missing_file_is_refused_and_keeps_the_old_one(api, make_duckdb, tmp_path):
    path = make_duckdb(*SHOP)
    ds = api.duckdb_datastore("shop", path)
    r = api.client.put(f"/api/datastores/{ds['id']}", json={"database": str(tmp_path / "moved.duckdb")})
    assert r.status_code == 422 and "DuckDB database file not found" in r.json()["detail"][0]["msg"], r.text
    assert api.ok("GET", f"/api/datastores/{ds['id']}")["database"] == str(path)
    # a change that does not touch the connection is not tested again
    assert api.ok("PUT", f"/api/datastores/{ds['id']}", json={"description": "ok"})["description"] == "ok"
    moved = api.ok(
        "PUT",
        f"/api/datastores/{ds['id']}",
        json={"database": str(tmp_path / "moved.duckdb")},
        params={"test_connection": "false"},
    )
    assert moved["database"] == str(tmp_path / "moved.duckdb")


def test_scanning_a_datastore_never_synced_fails_and_says_why(api, make_duckdb):
    ds = api.duckdb_datastore("unsynced", make_duckdb(*SHOP))
    op = api.scan(ds["id"])
    assert (op["result"], op["status"]["total_containers"], op["container_scans"]) == ("failure", 0, [])
    assert op["message"] == (
        "nothing to scan: datastore 'unsynced' has no containers; run a sync first "
        f'(POST /api/operations/run {{"type": "sync", "datastore_id": {ds["id"]}}})'
    )
    api.sync(ds["id"])
    assert api.scan(ds["id"])["result"] == "success"


def test_a_missing_file_at_sync_is_logged_as_one_line(api, make_duckdb, caplog):
    path = make_duckdb(*SHOP, name="gone.duckdb")
    ds = api.duckdb_datastore("gone", path)
    path.unlink()
    with caplog.at_level(logging.INFO, logger="assay"):
        op = api.run({"type": "sync", "datastore_id": ds["id"]})
    assert (op["result"], op["message"]) == ("failure", f"DuckDB database file not found: {path}")
    lines = [r for r in caplog.records if r.name == "assay.operations.runner"]
    assert [(r.levelname, r.getMessage(), r.exc_info) for r in lines] == [
        ("WARNING", f"operation {op['id']} failed: DuckDB database file not found: {path}", None)
    ]


def test_the_api_and_the_enrichment_tables_name_the_same_partition(api, make_duckdb, tmp_path):
    path = make_duckdb(
        "create table events (id int, updated_at timestamp, amount int)",
        # 2024-01-01: id 2 negative; 2024-01-02: id 5 negative
        "insert into events values (1, '2024-01-01 08:00', 10), (2, '2024-01-01 09:00', -1),"
        " (4, '2024-01-02 08:00', 7), (5, '2024-01-02 09:00', -3)",
    )
    ds = api.duckdb_datastore("events src", path)
    lake_path = tmp_path / "lake.duckdb"
    lake = api.enrichment_datastore("events lake", lake_path)
    api.ok("PATCH", f"/api/datastores/{ds['id']}/enrichment/{lake['id']}")
    api.sync(ds["id"])
    api.check(api.container_id(ds["id"], "events"), "notNegative", ["amount"])
    op = api.scan(ds["id"], remediation="append")
    by_uuid = {a["uuid"]: a["partition"]["name"] for a in api.anomalies(datastore=ds["id"])}
    assert sorted(by_uuid.values()) == ["2024-01-01", "2024-01-02"]
    con = duckdb.connect(str(lake_path), read_only=True)
    try:
        failed = con.execute('select "ANOMALY_UUID", "SOURCE_PARTITION" from "_events_src_failed_checks"').fetchall()
        records = con.execute('select "ANOMALY_UUID", "SOURCE_PARTITION" from "_events_src_source_records"').fetchall()
        remediation = con.execute(
            'select "ANOMALY_UUID", "_QUALYTICS_SOURCE_PARTITION", id '
            f'from "_events_src_remediation_{api.container_id(ds["id"], "events")}"'
        ).fetchall()
    finally:
        con.close()
    assert dict(failed) == by_uuid and dict(records) == by_uuid
    assert sorted((p, i) for _u, p, i in remediation) == [("2024-01-01", 2), ("2024-01-02", 5)]
    assert {u: p for u, p, _i in remediation} == by_uuid and op["result"] == "success"


def test_a_schedule_is_paused_by_a_patch_without_body(api, make_duckdb):
    ds = api.duckdb_datastore("sched", make_duckdb(*SHOP))
    s = api.ok(
        "POST", "/api/operations/schedule", json={"type": "sync", "datastore_id": ds["id"], "crontab": "0 0 * * *"}
    )
    paused = api.ok("PATCH", f"/api/operations/schedule/{s['id']}/deactivation")
    assert (paused["deactivated"], paused["next_trigger"]) == (True, None)
    resumed = api.ok("PATCH", f"/api/operations/schedule/{s['id']}/deactivation", json={"deactivated": False})
    assert resumed["deactivated"] is False and resumed["next_trigger"] is not None
    r = api.client.patch(f"/api/operations/schedule/{s['id']}/deactivation", json={"deactivated": "maybe"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "deactivated"]


def _token(tmp_path, *args):
    env = {**os.environ, "ASSAY_DATA_DIR": str(tmp_path / "data")}
    env.pop("ASSAY_DATABASE_URL", None)
    return run_assay(["token", *args], env=env)


def test_token_create_prints_only_the_token_and_fails_loudly(tmp_path):
    first, second = _token(tmp_path, "create"), _token(tmp_path, "create")  # default names differ
    for r in (first, second):
        assert r.returncode == 0, r.stderr
        assert len(r.stdout.strip().split(".")) == 3 and r.stdout.count("\n") == 1  # one JWT, nothing else
        assert "Keep it secret" in r.stderr
    named = _token(tmp_path, "create", "--name", "readme")
    assert named.returncode == 0
    again = _token(tmp_path, "create", "--name", "readme")
    assert (again.returncode, again.stdout) == (1, "")
    assert again.stderr == (
        "error: a token named 'readme' already exists for this user (token 3); choose another name, "
        "or revoke that one first (assay token revoke 3)\n"
    )
    assert _token(tmp_path, "revoke", "3").returncode == 0
    reused = _token(tmp_path, "create", "--name", "readme")  # a revoked token's name is free again
    assert reused.returncode == 0 and reused.stdout.strip() != named.stdout.strip()
    listing = _token(tmp_path, "list").stdout.splitlines()
    assert [line.split("\t")[1::2] for line in listing][2:] == [["readme", "revoked"], ["readme", "active"]]


def test_token_names_follow_the_api_rules(tmp_path):
    """A fresh user's trial: `assay token create` took a control character and a 400-character
    name that POST /api/user-tokens refuses."""
    control = _token(tmp_path, "create", "--name", "x\x01y")
    assert (control.returncode, control.stdout) == (1, "")
    assert control.stderr == "error: --name: must not contain control characters (found U+0001)\n"
    long = _token(tmp_path, "create", "--name", "n" * 400)
    assert (long.returncode, long.stdout) == (1, "")
    assert long.stderr == "error: --name: String should have at most 255 characters\n"


def test_unknown_anomaly_status_filter_and_empty_schedule_name_are_422(api, make_duckdb):
    r = api.get("/api/anomalies", params={"status": "Active,Bogus"})
    assert r.status_code == 422
    assert r.json()["detail"] == [
        {
            "loc": ["query", "status"],
            "msg": "unknown anomaly status Bogus: one of Active, Acknowledged, Resolved, Duplicate, Invalid, Discarded",
            "type": "value_error",
        }
    ]
    assert api.get("/api/anomalies", params={"status": "Active,Duplicate"}).status_code == 200
    ds = api.duckdb_datastore("shop", make_duckdb("create table t as select 1 as id"))
    r = api.post(
        "/api/operations/schedule",
        json={"type": "scan", "datastore_id": ds["id"], "name": " ", "crontab": "0 0 * * *"},
    )
    assert r.status_code == 422
    assert r.json()["detail"] == [
        {"loc": ["body", "name"], "msg": "a schedule's name must be a non-empty string", "type": "value_error"}
    ]
