"""Checks linked to templates (template locking), favourites, the bulk status update
(``PUT /api/quality-checks``), the short listing and the check dry run.

One app and one synced DuckDB datastore for the module: ``orders`` has 5 rows (ids 1-5),
amounts 10, -5, 7, 1, 0: a ``notNegative`` check on ``amount`` fails on exactly the row with id 2.
"""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from tests.conftest import Api, _client, make_settings


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> Iterator[dict]:
    tmp = tmp_path_factory.mktemp("links")
    path = tmp / "src.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE orders (id INTEGER, amount INTEGER, note VARCHAR)")
    con.execute("INSERT INTO orders VALUES (1, 10, 'a'), (2, -5, 'b'), (3, 7, 'c'), (4, 1, 'd'), (5, 0, 'e')")
    con.close()
    for api in _client(make_settings(tmp)):
        ds = api.duckdb_datastore("shop", path)
        api.sync(ds["id"])
        yield {"api": api, "ds": ds["id"], "orders": api.container_id(ds["id"], "orders")}


def _template(api: Api, locked: bool, **extra) -> dict:
    body = {
        "rule": "notNegative",
        "fields": ["amount"],
        "description": "amounts are never negative",
        "filter": "id > 0",
        "template_locked": locked,
        **extra,
    }
    return api.ok("POST", "/api/quality-check-templates", json=body)


def test_a_check_of_a_locked_template_follows_the_template_and_refuses_direct_edits(env):
    api: Api = env["api"]
    t = _template(api, locked=True)
    check = api.check(env["orders"], "notNegative", [], template_id=t["id"], description="mine", tags=["x"])
    # the locked template decides description, filter, coverage, properties (and fields, none given)
    assert (check["template_id"], check["template_locked"]) == (t["id"], True)
    assert check["description"] == "amounts are never negative" and check["filter"] == "id > 0"
    assert [f["name"] for f in check["fields"]] == ["amount"]
    assert api.ok("GET", f"/api/quality-check-templates/{t['id']}")["template_checks_count"] == 1

    r = api.put(f"/api/quality-checks/{check['id']}", json={"description": "changed"})
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["body", "description"]
    assert r.json()["detail"][0]["msg"].startswith(f"description is locked by quality check template {t['id']}")
    # a client that sends the whole check back unchanged (qualytics checks update) may still edit the rest
    same = {k: check[k] for k in ("description", "filter", "coverage", "properties")}
    body = api.ok("PUT", f"/api/quality-checks/{check['id']}", json={**same, "tags": ["y"]})
    assert [g["name"] for g in body["global_tags"]] == ["y"]

    # the template's edit reaches its checks
    edited = api.ok(
        "PUT",
        f"/api/quality-check-templates/{t['id']}",
        json={"description": "v2", "filter": "id > 1", "template_locked": True},
    )
    assert edited["description"] == "v2" and edited["template_checks_count"] == 1
    got = api.ok("GET", f"/api/quality-checks/{check['id']}")
    assert (got["description"], got["filter"]) == ("v2", "id > 1")

    # a template edit one of its checks cannot take (a field orders lacks): 422, nothing changes
    r = api.put(f"/api/quality-check-templates/{t['id']}", json={"filter": "nope > 1", "template_locked": True})
    assert r.status_code == 422, r.text
    assert f"quality check {check['id']} of this template" in r.json()["detail"][0]["msg"]
    assert api.ok("GET", f"/api/quality-check-templates/{t['id']}")["filter"] == "id > 1"
    assert api.ok("GET", f"/api/quality-checks/{check['id']}")["filter"] == "id > 1"

    # filters: checks of locked templates; templates locked or not
    locked_checks = api.ok("GET", "/api/quality-checks", params={"template_locked": "true"})["items"]
    assert [c["id"] for c in locked_checks] == [check["id"]]
    templates = api.ok("GET", "/api/quality-checks", params={"template_only": "true", "template_locked": "true"})
    assert [x["id"] for x in templates["items"]] == [t["id"]]
    same = api.ok("GET", "/api/quality-check-templates", params={"template_locked": "true"})
    assert [(x["id"], x["template_checks_count"]) for x in same["items"]] == [(t["id"], 1)]
    api.ok("DELETE", f"/api/quality-checks/{check['id']}", params={"archive": "false"})


def test_an_unlocked_template_links_its_checks_without_deciding_for_them(env):
    api: Api = env["api"]
    t = _template(api, locked=False)
    check = api.check(env["orders"], "notNegative", ["amount"], template_id=t["id"], description="mine")
    assert (check["template_id"], check["template_locked"], check["description"]) == (t["id"], False, "mine")
    assert api.ok("PUT", f"/api/quality-checks/{check['id']}", json={"description": "free"})["description"] == "free"
    api.ok("PUT", f"/api/quality-check-templates/{t['id']}", json={"description": "v2", "template_locked": False})
    assert api.ok("GET", f"/api/quality-checks/{check['id']}")["description"] == "free"
    unlocked = api.ok("GET", "/api/quality-checks", params={"template_only": "true", "template_locked": "false"})
    assert t["id"] in [x["id"] for x in unlocked["items"]]
    api.ok("DELETE", f"/api/quality-checks/{check['id']}", params={"archive": "false"})


def test_a_template_of_another_rule_or_an_unknown_template_is_a_422(env):
    api: Api = env["api"]
    t = _template(api, locked=True)
    body = {"container_id": env["orders"], "rule": "notNull", "fields": ["id"]}
    r = api.post("/api/quality-checks", json={**body, "template_id": t["id"]})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "rule"], r.text
    r = api.post("/api/quality-checks", json={**body, "template_id": 99999})
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0] == {
        "loc": ["body", "template_id"],
        "msg": "quality check template 99999 does not exist",
        "type": "value_error",
    }


def test_favourites_of_checks_datastores_and_containers(env):
    api: Api = env["api"]
    check = api.check(env["orders"], "notNull", ["id"])
    assert check["favorite"] is False
    assert api.ok("PATCH", f"/api/quality-checks/{check['id']}/favorite", json={"favorite": True})["favorite"] is True
    assert api.ok("GET", f"/api/quality-checks/{check['id']}")["favorite"] is True
    assert api.ok("PATCH", f"/api/datastores/{env['ds']}/favorite", json={"favorite": True})["favorite"] is True
    assert api.ok("GET", f"/api/datastores/{env['ds']}")["favorite"] is True
    assert api.ok("PATCH", f"/api/containers/{env['orders']}/favorite", json={"favorite": True})["favorite"] is True
    assert api.ok("GET", f"/api/containers/{env['orders']}")["favorite"] is True
    assert api.ok("PATCH", f"/api/containers/{env['orders']}/favorite", json={"favorite": False})["favorite"] is False
    assert api.patch("/api/quality-checks/999999/favorite", json={"favorite": True}).status_code == 404
    r = api.patch(f"/api/datastores/{env['ds']}/favorite", json={})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "favorite"], r.text
    api.ok("DELETE", f"/api/quality-checks/{check['id']}", params={"archive": "false"})


def test_bulk_status_update_and_the_short_listing(env):
    api: Api = env["api"]
    a = api.check(env["orders"], "notNull", ["id"])
    b = api.check(env["orders"], "notNull", ["note"])
    listing = api.ok("GET", "/api/quality-checks/listing", params={"container": env["orders"]})
    assert [(c["id"], c["rule_type"], c["fields"]) for c in listing] == [
        (a["id"], "notNull", [{"name": "id"}]),
        (b["id"], "notNull", [{"name": "note"}]),
    ]
    # an unknown id: 404 and nothing changes
    r = api.put("/api/quality-checks", json=[{"id": a["id"], "status": "Draft"}, {"id": 424242, "status": "Draft"}])
    assert r.status_code == 404, r.text
    assert api.ok("GET", f"/api/quality-checks/{a['id']}")["status"] == "Active"
    r = api.put(
        "/api/quality-checks", json=[{"id": a["id"], "status": "Draft"}, {"id": b["id"], "status": "Discarded"}]
    )
    assert r.status_code == 204, r.text
    assert api.ok("GET", f"/api/quality-checks/{a['id']}")["status"] == "Draft"
    archived = api.ok("GET", f"/api/quality-checks/{b['id']}")
    assert archived["status"] == "Discarded" and archived["deleted_at"] is not None
    # Active restores an archived check
    api.ok("PUT", "/api/quality-checks", json=[{"id": b["id"], "status": "Active"}])
    restored = api.ok("GET", f"/api/quality-checks/{b['id']}")
    assert restored["status"] == "Active" and restored["deleted_at"] is None
    for c in (a, b):
        api.ok("DELETE", f"/api/quality-checks/{c['id']}", params={"archive": "false"})


def test_dry_run_of_an_unsaved_definition_records_nothing(env):
    api: Api = env["api"]
    anomalies_before = len(api.anomalies(archived="include"))
    operations_before = api.ok("GET", "/api/operations")["total"]
    out = api.ok(
        "POST",
        "/api/quality-checks/dry-run",
        json={"container_id": env["orders"], "rule": "notNegative", "fields": ["amount"]},
    )
    assert out["quality_check_id"] is None and out["result"] == "failed"
    # 5 rows read and checked, one negative (id 2)
    assert (out["records_processed"], out["asserted_records"], out["anomalous_records"]) == (5, 5, 1)
    assert out["examples"] == [{"id": 2, "amount": -5, "note": "b"}]
    assert [(x["type"], x["anomalous_records_count"]) for x in out["anomalies"]] == [("record", 1)]
    assert out["anomalies"][0]["source_records"] == [{"id": 2, "amount": -5, "note": "b"}]
    # the filter leaves ids 3..5: all pass
    out = api.ok(
        "POST",
        "/api/quality-checks/dry-run",
        json={"container_id": env["orders"], "rule": "notNegative", "fields": ["amount"], "filter": "id > 2"},
    )
    assert (out["result"], out["asserted_records"], out["anomalous_records"], out["anomalies"]) == ("passed", 3, 0, [])
    # capped read: max_records_analyzed_per_partition=2 reads 2 rows
    out = api.ok(
        "POST",
        "/api/quality-checks/dry-run",
        json={
            "container_id": env["orders"],
            "rule": "notNull",
            "fields": ["id"],
            "max_records_analyzed_per_partition": 2,
        },
    )
    assert (out["result"], out["records_processed"]) == ("passed", 2)
    every = {"container_id": env["orders"], "rule": "notNull", "fields": ["id"]}
    out = api.ok("POST", "/api/quality-checks/dry-run", json={**every, "max_records_analyzed_per_partition": -1})
    assert out["records_processed"] == 5
    r = api.post("/api/quality-checks/dry-run", json={**every, "max_records_analyzed_per_partition": 0})
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["body", "max_records_analyzed_per_partition"]
    assert len(api.anomalies(archived="include")) == anomalies_before
    assert api.ok("GET", "/api/operations")["total"] == operations_before


def test_dry_run_of_a_saved_check_leaves_its_state_alone(env):
    api: Api = env["api"]
    check = api.check(env["orders"], "notNegative", ["amount"], status="Draft")
    out = api.ok("POST", f"/api/quality-checks/{check['id']}/dry-run", json={"example_limit": 0})
    assert (out["quality_check_id"], out["result"], out["anomalous_records"], out["examples"]) == (
        check["id"],
        "failed",
        1,
        [],
    )
    got = api.ok("GET", f"/api/quality-checks/{check['id']}")
    assert got["last_asserted"] is None and got["is_passing"] is None and got["anomaly_count"] == 0
    # without a body too
    assert api.ok("POST", f"/api/quality-checks/{check['id']}/dry-run")["result"] == "failed"
    api.ok("DELETE", f"/api/quality-checks/{check['id']}", params={"archive": "false"})


def test_dry_run_of_a_bad_definition_is_a_422_or_404(env):
    api: Api = env["api"]
    r = api.post(
        "/api/quality-checks/dry-run",
        json={"container_id": env["orders"], "rule": "notNegative", "fields": ["missing"]},
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][:2] == ["body", "fields"], r.text
    r = api.post("/api/quality-checks/dry-run", json={"container_id": 98765, "rule": "notNull", "fields": ["id"]})
    assert r.status_code == 404, r.text
    assert api.post("/api/quality-checks/98765/dry-run").status_code == 404


def test_dry_run_on_a_container_the_source_no_longer_has_is_a_422(env, tmp_path):
    api: Api = env["api"]
    path = tmp_path / "gone.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE gone (id INTEGER)")
    con.close()
    ds = api.duckdb_datastore("vanishing", path)
    api.sync(ds["id"])
    container = api.container_id(ds["id"], "gone")
    con = duckdb.connect(str(path))
    con.execute("DROP TABLE gone")
    con.close()
    r = api.post("/api/quality-checks/dry-run", json={"container_id": container, "rule": "notNull", "fields": ["id"]})
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["body", "container_id"]
    assert r.json()["detail"][0]["msg"].startswith(f"container {container} cannot be read: ")
