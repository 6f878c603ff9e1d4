"""Computed containers under re-definition (as qualytics-cli's ``migrate apply --on-existing
update`` drives them): the query is kept as written, a new definition is profiled, and fields
with quality checks are not dropped silently."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    from tests.conftest import _client, make_settings

    tmp = tmp_path_factory.mktemp("computed_updates")
    import duckdb

    path = tmp / "src.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create table t (id integer, x double, s varchar)")
    con.execute("insert into t values (1, 1.0, 'a'), (2, 2.0, 'b'), (3, 3.0, NULL)")
    con.close()
    clients = _client(make_settings(tmp))
    api = next(clients)
    ds = api.duckdb_datastore("src", path)
    api.sync(ds["id"])
    yield api, ds
    clients.close()


def _fields(api, container_id: int) -> list[str]:
    return [f["name"] for f in api.ok("GET", "/api/fields/listing", params={"container_id": container_id})]


def _profiles(api, container_id: int) -> list[dict]:
    page = api.ok("GET", "/api/operations", params={"container": container_id, "operation_type": "profile"})
    return page["items"]


def test_query_is_answered_as_written_and_a_new_query_is_profiled(setup):
    api, ds = setup
    written = "select id, x from t where id > 1"
    c = api.ok(
        "POST",
        "/api/containers",
        json={"container_type": "computed_table", "datastore_id": ds["id"], "name": "as_written", "query": written},
    )
    assert c["query"] == written
    assert api.ok("GET", f"/api/containers/{c['id']}")["query"] == written
    first = _profiles(api, c["id"])
    assert len(first) == 1
    api.wait(first[0]["id"])

    new = "select id, x, s from t where id >= 1"
    updated = api.ok("PUT", f"/api/containers/{c['id']}", json={"query": new})
    assert updated["query"] == new
    assert _fields(api, c["id"]) == ["id", "x", "s"]
    profiles = _profiles(api, c["id"])
    assert len(profiles) == 2
    done = api.wait(max(p["id"] for p in profiles))
    assert done["result"] == "success"
    assert api.ok("GET", f"/api/containers/{c['id']}")["query"] == new


def test_a_query_that_drops_checked_fields_needs_force_drop_fields(setup):
    api, ds = setup
    c = api.ok(
        "POST",
        "/api/containers",
        json={
            "container_type": "computed_table",
            "datastore_id": ds["id"],
            "name": "dropping",
            "query": "select id, x, s from t",
        },
    )
    for p in _profiles(api, c["id"]):
        api.wait(p["id"])
    on_x = api.check(c["id"], "notNull", ["x"])
    on_s = api.check(c["id"], "notNull", ["s"])
    on_id = api.check(c["id"], "notNull", ["id"])

    r = api.client.put(f"/api/containers/{c['id']}", json={"query": "select id from t"})
    assert r.status_code == 409, r.text
    assert r.json()["detail"] == (
        "the new definition drops fields with quality checks: s, x; "
        "send force_drop_fields=true to drop them and archive their checks"
    )
    after = api.ok("GET", f"/api/containers/{c['id']}")
    assert after["query"] == "select id, x, s from t"
    assert _fields(api, c["id"]) == ["id", "x", "s"]
    assert len(_profiles(api, c["id"])) == 1

    r = api.client.put(f"/api/containers/{c['id']}", json={"query": "select id from t", "force_drop_fields": True})
    assert r.status_code == 200, r.text
    assert _fields(api, c["id"]) == ["id"]
    for check in (on_x, on_s):
        got = api.ok("GET", f"/api/quality-checks/{check['id']}")
        assert (got["status"], got["deleted_at"] is not None) == ("Invalid", True)
    kept = api.ok("GET", f"/api/quality-checks/{on_id['id']}")
    assert (kept["status"], kept["deleted_at"]) == ("Active", None)


def test_a_datastore_is_linked_to_its_enrichment_datastore_at_creation(setup, tmp_path):
    api, ds = setup
    path = str(tmp_path / "src.duckdb")
    enrichment = api.enrichment_datastore("enrich_at_creation", tmp_path / "enrich.duckdb")
    body = {
        "name": "linked",
        "connection": {"type": "duckdb"},
        "database": path,
        "enrich_datastore_id": enrichment["id"],
    }
    created = api.ok("POST", "/api/datastores", json=body, params={"test_connection": "false"})
    assert created["enrichment_datastore_id"] == enrichment["id"]
    got = api.ok("GET", f"/api/datastores/{created['id']}")
    assert got["enrichment_datastore"] == {"id": enrichment["id"], "name": "enrich_at_creation"}
    # what GET answers (and qualytics-cli's config export keeps) is not read back on create
    body = {"name": "stale", "connection": {"type": "duckdb"}, "database": path, "enrichment_datastore_id": 987654}
    stale = api.ok("POST", "/api/datastores", json=body, params={"test_connection": "false"})
    assert stale["enrichment_datastore_id"] is None

    for target, message in (
        (987654, "Enrichment datastore 987654 not found"),
        (ds["id"], f"datastore {ds['id']} is not an enrichment datastore (enrichment_only is false)"),
    ):
        body = {
            "name": "not_linked",
            "connection": {"type": "duckdb"},
            "database": path,
            "enrich_datastore_id": target,
        }
        r = api.client.post("/api/datastores", json=body, params={"test_connection": "false"})
        assert r.status_code == 422, r.text
        assert r.json()["detail"][0]["loc"] == ["body", "enrich_datastore_id"]
        assert r.json()["detail"][0]["msg"] == message
    names = [d["name"] for d in api.ok("GET", "/api/datastores")["items"]]
    assert "not_linked" not in names


def test_a_computed_container_keeps_its_description(setup):
    api, ds = setup
    body = {
        "container_type": "computed_table",
        "datastore_id": ds["id"],
        "name": "described",
        "query": "select id from t",
        "description": "ids of t, for the trial",
    }
    c = api.ok("POST", "/api/containers", json=body)
    assert c["description"] == "ids of t, for the trial"
    assert api.ok("GET", f"/api/containers/{c['id']}")["description"] == "ids of t, for the trial"
    updated = api.ok("PUT", f"/api/containers/{c['id']}", json={"description": "changed"})
    assert updated["description"] == "changed"
    assert api.ok("PUT", f"/api/containers/{c['id']}", json={"tags": []})["description"] == "changed"
    assert api.ok("GET", f"/api/containers/{c['id']}")["description"] == "changed"
