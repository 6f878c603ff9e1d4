"""Qualytics' field endpoints (``/api/fields``…, field profiles by name) and global tag
update / rename / listing.

One app for the module: a DuckDB datastore with ``orders(id, amount, note)`` (3 rows) and
``customers(id, name)`` (2 rows), synced and profiled twice.
"""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from tests.conftest import Api, _client, make_settings


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> Iterator[dict]:
    tmp = tmp_path_factory.mktemp("fields")
    path = tmp / "src.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE orders (id INTEGER, amount INTEGER, note VARCHAR)")
    con.execute("INSERT INTO orders VALUES (1, 10, 'a'), (2, 20, NULL), (3, 30, 'c')")
    con.execute("CREATE TABLE customers (id INTEGER, name VARCHAR)")
    con.execute("INSERT INTO customers VALUES (1, 'Ann'), (2, 'Bo')")
    con.close()
    for api in _client(make_settings(tmp)):
        ds = api.duckdb_datastore("shop", path)
        api.sync(ds["id"])
        profiles = []
        for _ in range(2):
            op = api.run({"type": "profile", "datastore_id": ds["id"], "infer_as_draft": True})
            assert op["result"] == "success", op
            profiles.append(op)
        yield {
            "api": api,
            "ds": ds["id"],
            "orders": api.container_id(ds["id"], "orders"),
            "customers": api.container_id(ds["id"], "customers"),
            "profiles": profiles,
        }


def _field_id(api: Api, container_id: int, name: str) -> int:
    return next(
        f["id"]
        for f in api.ok("GET", "/api/fields/listing", params={"container_id": container_id})
        if f["name"] == name
    )


def test_fields_list_listing_and_detail(env):
    api: Api = env["api"]
    page = api.ok("GET", "/api/fields", params={"container_id": env["orders"]})
    assert page["total"] == 3 and [f["name"] for f in page["items"]] == ["id", "amount", "note"]
    # name matches part of the name, across containers: orders.id, customers.id
    by_name = api.ok("GET", "/api/fields", params={"name": "ID", "size": 10})
    assert sorted(f["name"] for f in by_name["items"]) == ["id", "id"]
    listing = api.ok("GET", "/api/fields/listing", params={"container_id": env["customers"]})
    assert [(f["name"], f["container_id"]) for f in listing] == [
        ("id", env["customers"]),
        ("name", env["customers"]),
    ]
    fid = listing[1]["id"]
    assert api.ok("GET", f"/api/fields/{fid}")["name"] == "name"
    assert api.get("/api/fields/999999").status_code == 404


def test_field_tags_put_patch_and_history(env):
    api: Api = env["api"]
    note = _field_id(api, env["orders"], "note")
    amount = _field_id(api, env["orders"], "amount")
    body = api.ok("PUT", f"/api/fields/{note}", json={"name": "note", "tags": ["pii"]})
    assert body["global_tags"] == [{"name": "pii"}]
    r = api.put(f"/api/fields/{note}", json={"name": "remark"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "name"], r.text
    rows = api.ok(
        "PATCH", "/api/fields", json=[{"id": note, "tags": ["pii", "free-text"]}, {"id": amount, "tags": ["money"]}]
    )
    assert [[t["name"] for t in f["global_tags"]] for f in rows] == [["pii", "free-text"], ["money"]]
    # 404 for an unknown id, nothing changes
    assert api.patch("/api/fields", json=[{"id": amount, "tags": []}, {"id": 999999, "tags": []}]).status_code == 404
    assert api.ok("GET", f"/api/fields/{amount}")["global_tags"] == [{"name": "money"}]
    history = api.ok("GET", f"/api/fields/{note}/history")
    assert history["id"] == note
    assert [v["changeset"] for v in history["versions"]] == [
        {"tags": [[], ["pii"]]},
        {"tags": [["pii"], ["pii", "free-text"]]},
    ]
    assert history["versions"][0]["transaction"]["user"]["id"] == 1
    assert history["versions"][0]["operation_type"] == 1
    # the same tags again: no new version
    api.ok("PUT", f"/api/fields/{note}", json={"tags": ["pii", "free-text"]})
    assert len(api.ok("GET", f"/api/fields/{note}/history")["versions"]) == 2


def test_field_profiles_by_field_and_by_name(env):
    api: Api = env["api"]
    amount = _field_id(api, env["orders"], "amount")
    profiles = api.ok("GET", f"/api/fields/{amount}/field-profiles")
    # one per profile operation, newest first; amounts 10, 20, 30
    assert len(profiles) == 2 and profiles[0]["id"] > profiles[1]["id"]
    assert {(p["name"], p["min"], p["max"]) for p in profiles} == {("amount", 10, 30)}
    assert [p["id"] for p in api.ok("GET", f"/api/fields/{amount}/field-profiles", params={"limit": 1})] == [
        profiles[0]["id"]
    ]
    latest = api.ok("GET", f"/api/containers/{env['orders']}/field-profiles/amount")
    assert latest["id"] == profiles[0]["id"] and latest["container_profile_id"] == profiles[0]["container_profile_id"]
    older = api.ok("GET", f"/api/container-profiles/{profiles[1]['container_profile_id']}/field-profiles/amount")
    assert older["id"] == profiles[1]["id"]
    r = api.get(f"/api/containers/{env['orders']}/field-profiles/nope")
    assert r.status_code == 404 and "has no profile of field 'nope'" in r.json()["detail"], r.text
    assert api.get("/api/container-profiles/999999/field-profiles/amount").status_code == 404


def test_global_tag_rename_update_and_listing(env):
    api: Api = env["api"]
    api.ok("POST", "/api/global-tags", json={"name": "finance", "color": "#00ff00"})
    api.ok("POST", "/api/global-tags", json={"name": "taken"})
    api.ok("PUT", f"/api/datastores/{env['ds']}", json={"tags": ["finance"]})
    check = api.check(env["orders"], "notNull", ["id"], tags=["finance", "other"])
    amount = _field_id(api, env["orders"], "amount")
    api.ok("PUT", f"/api/fields/{amount}", json={"tags": ["finance"]})

    listing = {t["name"]: t["count"] for t in api.ok("GET", "/api/global-tags/listing")}
    assert listing["finance"] == 3 and listing["taken"] == 0  # datastore, check, field

    r = api.put("/api/global-tags/finance", json={"name": "taken"})
    assert r.status_code == 409, r.text
    assert api.put("/api/global-tags/unknown", json={"color": "#000000"}).status_code == 404

    tag = api.ok("PUT", "/api/global-tags/finance", json={"name": "revenue", "color": "#0000ff", "weight_modifier": 3})
    assert (tag["name"], tag["color"], tag["weight_modifier"]) == ("revenue", "#0000ff", 3)
    assert api.get("/api/global-tags/finance").status_code == 404
    # every object carrying it now carries the new name
    assert api.ok("GET", f"/api/datastores/{env['ds']}")["global_tags"] == [{"name": "revenue"}]
    assert [t["name"] for t in api.ok("GET", f"/api/quality-checks/{check['id']}")["global_tags"]] == [
        "revenue",
        "other",
    ]
    assert api.ok("GET", f"/api/fields/{amount}")["global_tags"] == [{"name": "revenue"}]
    listing = {t["name"]: t["count"] for t in api.ok("GET", "/api/global-tags/listing")}
    assert "finance" not in listing and listing["revenue"] == 3
    api.ok("DELETE", f"/api/quality-checks/{check['id']}", params={"archive": "false"})


def test_quality_checks_filtered_by_tag_are_paged_and_counted(env):
    api: Api = env["api"]
    promoted = [api.check(env["customers"], "notNull", ["id"], tags=["promoted"])["id"] for _ in range(4)]
    other = api.check(env["customers"], "notNull", ["name"], tags=["demoted"])["id"]
    both = api.check(env["customers"], "notNull", ["name"], tags=["demoted", "promoted"])["id"]
    pages = []
    for number in (1, 2, 3):
        params = {"datastore": env["ds"], "tag": "promoted", "size": 2, "page": number}
        body = api.ok("GET", "/api/quality-checks", params=params)
        pages.append((body["total"], body["pages"], [c["id"] for c in body["items"]]))
    ids = sorted([*promoted, both])  # in id order
    assert pages == [(5, 3, ids[0:2]), (5, 3, ids[2:4]), (5, 3, ids[4:])]
    body = api.ok("GET", "/api/quality-checks", params={"tag": ["promoted", "demoted"], "size": 10})
    assert (body["total"], sorted(c["id"] for c in body["items"])) == (6, sorted([*promoted, other, both]))
    body = api.ok("GET", "/api/quality-checks", params={"datastore": env["ds"], "tag": "nobody", "size": 10})
    assert (body["total"], body["items"]) == (0, [])
    for check_id in [*promoted, other, both]:
        api.ok("DELETE", f"/api/quality-checks/{check_id}", params={"archive": "false"})


def test_computed_fields_are_marked_and_updated_without_container_id(env):
    """Issue 16: ``is_computed_field`` is true for a computed field (listing by container, by
    id, paged); ``PUT /computed-fields/{id}`` takes Qualytics' ``UpdateComputedField`` (no
    ``container_id``), refuses another container, and 409s for a taken name."""
    api: Api = env["api"]
    cid = env["customers"]
    cf = api.ok(
        "POST",
        "/api/computed-fields",
        json={
            "name": "id_x10",
            "container_id": cid,
            "transformation": "customExpression",
            "properties": {"column_expression": "id * 10"},
        },
    )
    try:
        listed = api.ok("GET", f"/api/containers/{cid}/fields")
        assert [(f["name"], f["is_computed_field"]) for f in listed] == [
            ("id", False),
            ("name", False),
            ("id_x10", True),
        ]
        fid = next(f["id"] for f in listed if f["name"] == "id_x10")
        assert api.ok("GET", f"/api/fields/{fid}")["is_computed_field"] is True
        page = api.ok("GET", "/api/fields", params={"container_id": cid})
        assert [f["is_computed_field"] for f in page["items"]] == [False, False, True]

        update = {
            "name": "id_x100",
            "transformation": "customExpression",
            "source_fields": ["id"],
            "properties": {"column_expression": "id * 100"},
            "additional_metadata": {"owner": "ops"},
        }
        updated = api.ok("PUT", f"/api/computed-fields/{cf['id']}", json=update)
        assert (updated["name"], updated["properties"], updated["additional_metadata"]) == (
            "id_x100",
            {"column_expression": "id * 100"},
            {"owner": "ops"},
        )
        assert [(f["name"], f["is_computed_field"]) for f in api.ok("GET", f"/api/containers/{cid}/fields")] == [
            ("id", False),
            ("name", False),
            ("id_x100", True),
        ]
        same = api.ok("PUT", f"/api/computed-fields/{cf['id']}", json={**update, "container_id": cid})
        assert same["name"] == "id_x100"
        moved = api.put(f"/api/computed-fields/{cf['id']}", json={**update, "container_id": env["orders"]})
        assert moved.status_code == 422 and moved.json()["detail"][0]["loc"] == ["body", "container_id"], moved.text
        taken = api.put(f"/api/computed-fields/{cf['id']}", json={**update, "name": "name"})
        assert taken.status_code == 409, taken.text
        assert [f["name"] for f in api.ok("GET", f"/api/containers/{cid}/fields")] == ["id", "name", "id_x100"]
    finally:
        api.ok("DELETE", f"/api/computed-fields/{cf['id']}")


def test_check_templates_without_fields(env):
    """Issue 16: ``qualytics checks import-templates`` sends Qualytics'
    ``CreateQualityCheckTemplate`` without ``fields``: accepted for any rule (the field count
    is checked on the checks made from the template)."""
    api: Api = env["api"]
    base = {
        "description": "imported",
        "coverage": 1,
        "filter": None,
        "tags": None,  # as Qualytics' client sends an unset list
        "template_locked": False,
        "additional_metadata": {"from": "cli"},
    }
    made = {}
    for rule, properties in [("between", {"min": 1, "max": 10, "inclusive": True}), ("notNull", {})]:
        t = api.ok("POST", "/api/quality-check-templates", json={**base, "rule": rule, "properties": properties})
        assert (t["rule_type"], t["fields"], t["description"], t["global_tags"]) == (rule, [], "imported", [])
        made[rule] = t
    # a rule that takes no fields
    t = api.ok(
        "POST",
        "/api/quality-check-templates",
        json={**base, "rule": "minPartitionSize", "properties": {"min_size": 2}},
    )
    assert (t["rule_type"], t["fields"]) == ("minPartitionSize", [])
    # properties are still checked
    bad = api.post(
        "/api/quality-check-templates", json={**base, "rule": "between", "properties": {"min": 1, "max": "x"}}
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][:2] == ["body", "properties"], bad.text
    # fields, when given, are still counted
    two = api.post(
        "/api/quality-check-templates",
        json={**base, "rule": "between", "fields": ["a", "b"], "properties": {"min": 1, "max": 2}},
    )
    assert two.status_code == 422 and "exactly one field, got 2" in two.text, two.text
    # a check made from the template names its field; without one it is refused then
    check = api.ok(
        "POST",
        "/api/quality-checks",
        json={
            "container_id": env["orders"],
            "rule": "between",
            "fields": ["amount"],
            "template_id": made["between"]["id"],
            "properties": {"min": 1, "max": 10, "inclusive": True},
        },
    )
    assert [f["name"] for f in check["fields"]] == ["amount"]
    none = api.post(
        "/api/quality-checks",
        json={
            "container_id": env["orders"],
            "rule": "between",
            "template_id": made["between"]["id"],
            "properties": {"min": 1, "max": 10, "inclusive": True},
        },
    )
    assert none.status_code == 422 and "exactly one field, got 0" in none.text, none.text
    api.ok("DELETE", f"/api/quality-checks/{check['id']}")
