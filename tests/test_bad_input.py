"""Bad input found by trying to break the server: each gets a clear 4xx, never a 500."""

from __future__ import annotations

import datetime as dt
import json
import math

import duckdb
from typer.testing import CliRunner

from assay.store.models import Operation, UserToken

HUGE = 9223372036854775808  # one past the largest 64-bit integer


def test_ids_beyond_64_bits_are_422_not_500(api):
    for url in ("/api/datastores/%d", "/api/containers/%d", "/api/quality-checks/%d", "/api/anomalies/%d",
                "/api/operations/%d", "/api/users/%d"):
        r = api.client.get(url % HUGE)
        assert r.status_code == 422, (url, r.status_code, r.text)
        assert "out of range" in r.json()["detail"]
    r = api.client.get("/api/anomalies", params={"datastore": HUGE})
    assert r.status_code == 422
    assert api.client.get("/api/datastores").status_code == 200  # the server is still fine


def _table(api, make_duckdb):
    ds = api.duckdb_datastore("src", make_duckdb("create table t (id integer, x double, s varchar)",
                                                 "insert into t values (1, 1.0, 'a'), (2, 'NaN', 'b'), "
                                                 "(3, 'Infinity', NULL), (4, 3.0, 'c')"))
    api.sync(ds["id"])
    return ds, api.container_id(ds["id"], "t")


def test_computed_tables_cannot_read_server_files(api, make_duckdb):
    ds, _t = _table(api, make_duckdb)
    for query in ("select * from read_csv('/etc/passwd', header=false)",
                  "select * from t join read_text('/etc/hostname') on true"):
        r = api.client.post("/api/containers", json={"container_type": "computed_table", "datastore_id": ds["id"],
                                                     "name": "leak", "query": query})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "query"], r.text
    ok = api.ok("POST", "/api/containers", json={"container_type": "computed_table", "datastore_id": ds["id"],
                                                 "name": "big_ids", "query": "select id from t where id > 2"})
    api.check(ok["id"], "between", ["id"], properties={"min": 0, "max": 3})
    op = api.scan(ds["id"], container_names=["big_ids"])
    assert op["status"]["records_processed"] == 2 and op["status"]["anomalies_identified"] == 1


def test_check_definitions_that_could_never_run_are_refused(api, make_duckdb):
    _ds, t = _table(api, make_duckdb)
    cases = [
        ({"rule": "satisfiesExpression", "properties": {"expression": "1=1"}}, ["body", "properties", "expression"]),
        ({"rule": "notNull", "fields": ["s"], "filter": "1=0"}, ["body", "filter"]),
        ({"rule": "expectedValues", "fields": ["s"], "properties": {"list": [str(i) for i in range(10_001)]}},
         ["body", "properties", "list"]),
        ({"rule": "minLength", "fields": ["s"], "properties": {"value": 10**30}}, ["body", "properties", "value"]),
    ]
    for body, loc in cases:
        r = api.client.post("/api/quality-checks", json={"container_id": t, **body})
        assert r.status_code == 422, (body, r.text)
        assert r.json()["detail"][0]["loc"][: len(loc)] == loc, r.text
    for bound in ("1e400", "NaN", "-Infinity"):
        r = api.client.post("/api/quality-checks", content=(
            '{"container_id": %d, "rule": "between", "fields": ["x"], "properties": {"min": 0, "max": %s}}' % (t, bound)),
            headers={"content-type": "application/json"})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"][:3] == ["body", "properties", "max"], r.text


def test_no_delete_under_a_running_operation(api, make_duckdb):
    ds, t = _table(api, make_duckdb)
    check = api.check(t, "notNull", ["s"])
    database = api.client.app.state.database
    with database.session() as s:  # an operation a worker is running right now
        op = Operation(type="scan", datastore_id=ds["id"], result="running", params={}, status={})
        s.add(op)
        s.flush()
        op_id = op.id
    for method, url, params in (("DELETE", f"/api/datastores/{ds['id']}", {}),
                                ("DELETE", f"/api/containers/{t}", {}),
                                ("DELETE", f"/api/quality-checks/{check['id']}", {"archive": False})):
        r = api.client.request(method, url, params=params)
        assert r.status_code == 409 and f"operation {op_id}" in r.json()["detail"], r.text
    # archiving a check is harmless while a scan runs
    assert api.client.delete(f"/api/quality-checks/{check['id']}").status_code == 204
    with database.session() as s:
        s.get(Operation, op_id).result = "success"
    assert api.client.delete(f"/api/datastores/{ds['id']}").status_code == 204


def test_profile_survives_nan_and_infinity(api, make_duckdb):
    ds, t = _table(api, make_duckdb)
    op = api.run({"type": "profile", "datastore_id": ds["id"], "ai_effort": "off"})
    assert op["result"] == "success" and op["message"] is None, op
    profiles = {p["name"]: p for p in api.ok("GET", f"/api/containers/{t}/field-profiles")["items"]}
    x = profiles["x"]
    assert x["completeness"] == 1.0          # NaN and Infinity are values, not NULLs
    assert x["mean"] == 2.0 and x["sum"] == 4.0 and x["std_dev"] == 1.0  # finite values 1 and 3 only
    assert profiles["s"]["completeness"] == 0.75 and profiles["s"]["max_length"] == 1


def test_token_list_says_expired(api, tmp_path, monkeypatch):
    from assay.cli import app

    settings = api.client.app.state.settings
    monkeypatch.setenv("ASSAY_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("ASSAY_DATABASE_URL", settings.database_url)
    runner = CliRunner()
    assert runner.invoke(app, ["token", "create", "--name", "old"]).exit_code == 0
    with api.client.app.state.database.session() as s:
        token = s.query(UserToken).filter_by(name="old").one()
        token.expiration = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)
    out = runner.invoke(app, ["token", "list"]).output
    assert [line.split("\t")[-1] for line in out.splitlines() if "\told\t" in line] == ["expired"]
    assert [line.split("\t")[-1] for line in out.splitlines() if "\ttests\t" in line] == ["active"]


def test_a_huge_expected_value_is_compared_not_crashed(api, make_duckdb):
    ds, t = _table(api, make_duckdb)
    api.check(t, "expectedValues", ["id"], properties={"list": [99999999999999999999999999]})
    op = api.scan(ds["id"])
    (result,) = op["container_scans"][0]["quality_checks"]
    assert (result["result"], result["anomalous_records_count"], result["error"]) == ("failed", 4, None)


def test_ids_of_deleted_rows_are_never_reused(api, make_duckdb):
    first = api.duckdb_datastore("a", make_duckdb("create table t (id integer)"))
    api.ok("DELETE", f"/api/datastores/{first['id']}")
    second = api.duckdb_datastore("b", make_duckdb("create table t (id integer)", name="b.duckdb"))
    assert second["id"] == first["id"] + 1
