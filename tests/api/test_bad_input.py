"""Bad input found by trying to break the server: each gets a clear 4xx, never a 500."""

from __future__ import annotations

import datetime as dt

from typer.testing import CliRunner

from assay.operations.scheduler import Scheduler
from assay.store.models import Operation, Schedule, UserToken

HUGE = 9223372036854775808  # one past the largest 64-bit integer


def test_ids_beyond_64_bits_are_422_not_500(api):
    for url in (
        "/api/datastores/%d",
        "/api/containers/%d",
        "/api/quality-checks/%d",
        "/api/anomalies/%d",
        "/api/operations/%d",
        "/api/users/%d",
    ):
        r = api.client.get(url % HUGE)
        assert r.status_code == 422, (url, r.status_code, r.text)
        assert "out of range" in r.json()["detail"]
    r = api.client.get("/api/anomalies", params={"datastore": HUGE})
    assert r.status_code == 422
    assert api.client.get("/api/datastores").status_code == 200  # the server is still fine


def _table(api, make_duckdb):
    ds = api.duckdb_datastore(
        "src",
        make_duckdb(
            "create table t (id integer, x double, s varchar)",
            "insert into t values (1, 1.0, 'a'), (2, 'NaN', 'b'), (3, 'Infinity', NULL), (4, 3.0, 'c')",
        ),
    )
    api.sync(ds["id"])
    return ds, api.container_id(ds["id"], "t")


def test_computed_tables_cannot_read_server_files(api, make_duckdb):
    ds, _t = _table(api, make_duckdb)
    for query in (
        "select * from read_csv('/etc/passwd', header=false)",
        "select * from t join read_text('/etc/hostname') on true",
    ):
        r = api.client.post(
            "/api/containers",
            json={"container_type": "computed_table", "datastore_id": ds["id"], "name": "leak", "query": query},
        )
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "query"], r.text
    ok = api.ok(
        "POST",
        "/api/containers",
        json={
            "container_type": "computed_table",
            "datastore_id": ds["id"],
            "name": "big_ids",
            "query": "select id from t where id > 2",
        },
    )
    api.check(ok["id"], "between", ["id"], properties={"min": 0, "max": 3})
    op = api.scan(ds["id"], container_names=["big_ids"])
    assert op["status"]["records_processed"] == 2 and op["status"]["anomalies_identified"] == 1


def test_check_definitions_that_could_never_run_are_refused(api, make_duckdb):
    _ds, t = _table(api, make_duckdb)
    cases = [
        ({"rule": "satisfiesExpression", "properties": {"expression": "1=1"}}, ["body", "properties", "expression"]),
        ({"rule": "notNull", "fields": ["s"], "filter": "1=0"}, ["body", "filter"]),
        (
            {"rule": "expectedValues", "fields": ["s"], "properties": {"list": [str(i) for i in range(10_001)]}},
            ["body", "properties", "list"],
        ),
        ({"rule": "minLength", "fields": ["s"], "properties": {"value": 10**30}}, ["body", "properties", "value"]),
    ]
    for body, loc in cases:
        r = api.client.post("/api/quality-checks", json={"container_id": t, **body})
        assert r.status_code == 422, (body, r.text)
        assert r.json()["detail"][0]["loc"][: len(loc)] == loc, r.text
    for bound in ("1e400", "NaN", "-Infinity"):
        r = api.client.post(
            "/api/quality-checks",
            content=(
                '{"container_id": %d, "rule": "between", "fields": ["x"], "properties": {"min": 0, "max": %s}}'
                % (t, bound)
            ),
            headers={"content-type": "application/json"},
        )
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
    for method, url, params in (
        ("DELETE", f"/api/datastores/{ds['id']}", {}),
        ("DELETE", f"/api/containers/{t}", {}),
        ("DELETE", f"/api/quality-checks/{check['id']}", {"archive": False}),
    ):
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
    assert x["completeness"] == 1.0  # NaN and Infinity are values, not NULLs
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
        token.expiration = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
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


def _raw(api, method: str, url: str, body: str):
    """Send ``body`` as-is (NaN / Infinity / 1e400 are not what ``json=`` would write)."""
    return api.client.request(method, url, content=body, headers={"content-type": "application/json"})


def test_nan_and_infinity_are_422_naming_the_field_not_500(api, make_duckdb):
    ds, t = _table(api, make_duckdb)
    check = api.check(t, "notNull", ["s"])
    d = ds["id"]
    cases = [
        (
            '{"type":"profile","datastore_id":%d,"percent_testing_threshold":NaN}' % d,
            ["body", "profile", "percent_testing_threshold"],
            "NaN",
        ),
        (
            '{"type":"profile","datastore_id":%d,"high_correlation_threshold":Infinity}' % d,
            ["body", "profile", "high_correlation_threshold"],
            "Infinity",
        ),
        (
            '{"type":"profile","datastore_id":%d,"inference_threshold":1e400}' % d,
            ["body", "profile", "inference_threshold"],
            "Infinity",
        ),
        (
            '{"type":"scan","datastore_id":%d,"high_count_rollup_threshold":Infinity}' % d,
            ["body", "scan", "high_count_rollup_threshold"],
            "Infinity",
        ),
        (
            '{"type":"scan","datastore_id":%d,"max_records_analyzed_per_partition":-Infinity}' % d,
            ["body", "scan", "max_records_analyzed_per_partition"],
            "-Infinity",
        ),
    ]
    for body, loc, echoed in cases:
        r = _raw(api, "POST", "/api/operations/run", body)
        assert r.status_code == 422, (body, r.status_code, r.text)
        assert [(e["loc"], e["input"]) for e in r.json()["detail"]] == [(loc, echoed)], r.text
    r = _raw(api, "PUT", f"/api/quality-checks/{check['id']}", '{"coverage": NaN}')
    assert r.status_code == 422, r.text
    assert [(e["loc"], e["type"], e["input"]) for e in r.json()["detail"]] == [
        (["body", "coverage"], "finite_number", "NaN")
    ]
    assert api.ok("GET", "/api/operations", params={"operation_type": "profile"})["total"] == 0
    assert api.ok("GET", f"/api/quality-checks/{check['id']}")["coverage"] == 1.0  # unchanged (none set: every record)


def test_greater_than_batch_must_be_finite(api, make_duckdb):
    ds, _t = _table(api, make_duckdb)
    for op_type in ("profile", "scan"):
        for bad in ("NaN", "Infinity", "-Infinity", "1e400"):
            body = '{"type":"%s","datastore_id":%d,"greater_than_batch":%s}' % (op_type, ds["id"], bad)
            r = _raw(api, "POST", "/api/operations/run", body)
            assert r.status_code == 422, (body, r.text)
            assert [e["loc"] for e in r.json()["detail"]] == [["body", op_type, "greater_than_batch"]], r.text
            r = _raw(api, "POST", "/api/operations/schedule", body[:-1] + ',"crontab":"0 * * * *"}')
            assert r.status_code == 422, (body, r.text)
            assert r.json()["detail"] == [
                {
                    "loc": ["body", op_type, "greater_than_batch"],
                    "type": "value_error",
                    "msg": "Input should be a finite number",
                }
            ]
    assert api.ok("GET", "/api/operations/schedule")["total"] == 0
    op = api.ok(
        "POST", "/api/operations/run", json={"type": "scan", "datastore_id": ds["id"], "greater_than_batch": 2.5}
    )
    assert op["greater_than_batch"] == 2.5


def test_booleans_are_not_integers_in_operation_payloads(api, make_duckdb, tmp_path):
    ds, t = _table(api, make_duckdb)
    assert ds["id"] == 1  # so `true` would have meant this datastore
    lake = api.enrichment_datastore("lake", tmp_path / "lake.duckdb")
    api.ok("PATCH", f"/api/datastores/{ds['id']}/enrichment/{lake['id']}")
    cases = [
        ({"type": "profile", "datastore_id": True}, ["body", "profile", "datastore_id"]),
        ({"type": "scan", "datastore_id": False}, ["body", "scan", "datastore_id"]),
        (
            {"type": "profile", "datastore_id": 1, "inference_threshold": True},
            ["body", "profile", "inference_threshold"],
        ),
        (
            {"type": "profile", "datastore_id": 1, "max_count_testing_sample": True},
            ["body", "profile", "max_count_testing_sample"],
        ),
        (
            {"type": "scan", "datastore_id": 1, "max_records_analyzed_per_partition": True},
            ["body", "scan", "max_records_analyzed_per_partition"],
        ),
        (
            {"type": "scan", "datastore_id": 1, "high_count_rollup_threshold": True},
            ["body", "scan", "high_count_rollup_threshold"],
        ),
        (
            {"type": "export", "datastore_id": 1, "asset_type": "checks", "container_ids": [t, True]},
            ["body", "export", "container_ids", 1],
        ),
    ]
    for body, loc in cases:
        r = api.client.post("/api/operations/run", json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["detail"] == [
            {
                "type": "value_error",
                "loc": loc,
                "input": body[loc[-1]] if loc[-1] != 1 else True,
                "msg": "Value error, must be an integer, not a boolean",
                "ctx": {"error": "must be an integer, not a boolean"},
            }
        ], r.text
        r = api.client.post("/api/operations/schedule", json={**body, "crontab": "0 * * * *"})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == loc, (body, r.text)
    assert api.ok("GET", "/api/operations")["total"] == 1  # only the sync of _table
    assert api.ok("GET", "/api/operations/schedule")["total"] == 0
    # integers, and integer-valued numbers as before, still pass
    op = api.ok(
        "POST",
        "/api/operations/run",
        json={"type": "profile", "datastore_id": 1, "inference_threshold": 3.0, "max_count_testing_sample": 7},
    )
    assert (op["datastore_id"], op["inference_threshold"], op["max_count_testing_sample"]) == (1, 3, 7)


def test_greater_than_time_must_exist_in_utc(api, make_duckdb):
    ds, _t = _table(api, make_duckdb)
    for op_type, when in (
        ("scan", "0001-01-01T00:00:00+14:00"),
        ("profile", "9999-12-31T23:59:59-14:00"),
        ("profile", "0001-01-01T13:59:59+14:00"),
    ):
        body = {"type": op_type, "datastore_id": ds["id"], "greater_than_time": when}
        r = api.client.post("/api/operations/run", json=body)
        assert r.status_code == 422, (when, r.text)
        assert [(e["loc"], e["msg"]) for e in r.json()["detail"]] == [
            (["body", op_type, "greater_than_time"], "Value error, is outside years 1..9999 once converted to UTC")
        ]
        r = api.client.post("/api/operations/schedule", json={**body, "crontab": "0 * * * *"})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", op_type, "greater_than_time"]
    # the extremes that do exist in UTC still pass
    for when, stored in (
        ("0001-01-01T14:00:00+14:00", "0001-01-01T00:00:00Z"),
        ("9999-12-31T09:59:59-14:00", "9999-12-31T23:59:59Z"),
    ):
        op = api.ok(
            "POST", "/api/operations/run", json={"type": "scan", "datastore_id": ds["id"], "greater_than_time": when}
        )
        assert dt.datetime.fromisoformat(op["greater_than_time"]) == dt.datetime.fromisoformat(stored), op


def test_a_datastore_id_beyond_64_bits_is_422_naming_it(api):
    for op_type, value in (("profile", 2**70), ("scan", 2**63), ("sync", -(2**63) - 1)):
        r = api.client.post("/api/operations/run", json={"type": op_type, "datastore_id": value})
        assert r.status_code == 422, r.text
        assert [e["loc"] for e in r.json()["detail"]] == [["body", op_type, "datastore_id"]], r.text
        r = api.client.post(
            "/api/operations/schedule", json={"type": op_type, "datastore_id": value, "crontab": "0 * * * *"}
        )
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", op_type, "datastore_id"], r.text
    # the largest 64-bit id is merely unknown
    r = api.client.post("/api/operations/run", json={"type": "profile", "datastore_id": 2**63 - 1})
    assert r.status_code == 404, r.text


def test_enrichment_only_datastores_refuse_every_operation_in_plain_words(api, tmp_path):
    lake = api.enrichment_datastore("lake", tmp_path / "lake.duckdb")
    for op_type in ("profile", "scan"):
        r = api.client.post("/api/operations/run", json={"type": op_type, "datastore_id": lake["id"]})
        assert r.status_code == 422, r.text
        assert r.json()["detail"] == [
            {
                "loc": ["body", "datastore_id"],
                "type": "value_error",
                "msg": (f"datastore {lake['id']} is enrichment-only; a {op_type} operation cannot run on it"),
            }
        ]


def test_a_sync_of_an_enrichment_only_datastore_succeeds_with_nothing_to_sync(api, tmp_path):
    """Issue 16: ``qualytics config import`` syncs every datastore it imports, the enrichment
    datastore too (``{datastore_id, type: "sync", prune: false, recreate: false}``); a 422 there
    was its "1 error"."""
    lake = api.enrichment_datastore("lake", tmp_path / "lake.duckdb")
    for op_type in ("sync", "catalog"):
        body = {"datastore_id": lake["id"], "type": op_type, "prune": False, "recreate": False}
        op = api.ok("POST", "/api/operations/run", json=body)  # finished at once: no worker needed
        assert op["end_time"] is not None and op == api.ok("GET", f"/api/operations/{op['id']}")
        assert (op["type"], op["result"], op["message"]) == (
            "sync",
            "success",
            f"datastore {lake['id']} is enrichment-only: nothing to sync",
        ), op
        assert (op["status"]["total_containers"], op["status"]["containers_analyzed"]) == (0, 0)
    # a scheduled sync runs on a worker, with the same outcome
    s = api.ok(
        "POST",
        "/api/operations/schedule",
        json={"type": "sync", "name": "lake sync", "datastore_id": lake["id"], "crontab": "* * * * *"},
    )
    app = api.client.app
    when = dt.datetime(2031, 1, 1, 12, 1, tzinfo=dt.UTC)
    with app.state.database.session() as session:
        session.get(Schedule, s["id"]).next_trigger = when
    [op_id] = Scheduler(app.state.database, lambda _id: None, clock=lambda: when).tick()
    app.state.runner.submit(op_id)
    op = api.wait(op_id)
    assert (op["result"], op["message"], op["triggered_by"]) == (
        "success",
        f"datastore {lake['id']} is enrichment-only: nothing to sync",
        f"schedule {s['id']}",
    ), op
    assert api.ok("GET", "/api/containers", params={"datastore": lake["id"]})["total"] == 0
    assert not (tmp_path / "lake.duckdb").exists()  # nothing opened, nothing created


def test_unknown_container_names_are_422_for_profile_and_scan(api, make_duckdb):
    ds, _t = _table(api, make_duckdb)
    for op_type in ("profile", "scan"):
        for names, missing in ((["nope"], "'nope'"), (["t", "nope", "gone", "nope"], "'nope', 'gone'")):
            body = {"type": op_type, "datastore_id": ds["id"], "container_names": names}
            for url in ("/api/operations/run", "/api/operations/schedule"):
                r = api.client.post(url, json={**body, "crontab": "0 * * * *"} if "schedule" in url else body)
                assert r.status_code == 422, (url, body, r.text)
                assert r.json()["detail"] == [
                    {
                        "loc": ["body", "container_names"],
                        "type": "value_error",
                        "msg": f"no container named {missing} in datastore {ds['id']}",
                    }
                ]
    assert api.ok("GET", "/api/operations")["total"] == 1  # only the sync of _table
    op = api.run({"type": "profile", "datastore_id": ds["id"], "container_names": ["t"], "ai_effort": "off"})
    assert (op["result"], op["status"]["containers_analyzed"]) == ("success", 1), op
