"""Promote quality checks (``promote_quality_check``) through the REST API.

Tables ``a(id, email)``, ``b(id, email)`` (same shape) and ``c(id)``; on ``a``: ``notNull(id)``
tagged ``core``, ``matchesPattern(email)``, a ``between(id)`` Draft and an archived ``unique(id)``
(never promoted).
"""

from __future__ import annotations

import duckdb
import pytest

from tests.conftest import _client, make_settings


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("promote")
    con = duckdb.connect(str(tmp / "src.duckdb"))
    con.execute("create table a(id integer, email varchar)")
    con.execute("create table b(id integer, email varchar)")
    con.execute("create table c(id integer)")
    con.close()
    for api in _client(make_settings(tmp)):
        ds = api.duckdb_datastore("src", tmp / "src.duckdb")
        api.sync(ds["id"])
        ids = {n: api.container_id(ds["id"], n) for n in "abc"}
        checks = {
            "notNull": api.check(ids["a"], "notNull", ["id"], tags=["core"]),
            "pattern": api.check(ids["a"], "matchesPattern", ["email"], properties={"pattern": "^.+@.+$"}),
            "between": api.check(
                ids["a"], "between", ["id"], properties={"min": 1, "max": 9, "inclusive": True}, status="Draft"
            ),
        }
        archived = api.check(ids["a"], "unique", ["id"])
        api.ok("DELETE", f"/api/quality-checks/{archived['id']}")
        yield api, ds["id"], ids, checks


def promote(api, ds: int, source: int, destination: int, **body) -> dict:
    op = api.run(
        {
            "type": "promote_quality_check",
            "datastore_id": ds,
            "container_id": source,
            "destination_container_id": destination,
            **body,
        }
    )
    assert op["result"] == "success" and op["type"] == "promote", op
    return op


def checks_of(api, container: int) -> list[dict]:
    return api.ok("GET", "/api/quality-checks", params={"container": container, "size": 100})["items"]


def test_promote_creates_drafts_then_skips_then_updates(world):
    api, ds, ids, checks = world
    op = promote(api, ds, ids["a"], ids["b"])
    status = op["status"]
    assert (status["total_checks"], status["checks_created"], status["checks_skipped"]) == (3, 3, 0)
    assert [r["source_check_id"] for r in status["results"]] == sorted(c["id"] for c in checks.values())
    copied = checks_of(api, ids["b"])
    assert sorted((c["rule_type"], c["status"]) for c in copied) == [
        ("between", "Draft"),
        ("matchesPattern", "Draft"),
        ("notNull", "Draft"),
    ]
    assert (op["promote_type"], op["as_draft"], op["container_id"]) == ("quality_check", True, ids["a"])
    # nothing changed: every check is skipped
    again = promote(api, ds, ids["a"], ids["b"])["status"]
    assert (again["checks_created"], again["checks_skipped"], again["checks_updated"]) == (0, 3, 0)
    # a new description on the source: that one check is updated at the destination
    api.ok("PUT", f"/api/quality-checks/{checks['pattern']['id']}", json={"description": "emails have an @"})
    third = promote(api, ds, ids["a"], ids["b"])["status"]
    assert (third["checks_updated"], third["checks_skipped"]) == (1, 2)
    (updated,) = [r for r in third["results"] if r["action"] == "updated"]
    assert api.ok("GET", f"/api/quality-checks/{updated['destination_check_id']}")["description"] == "emails have an @"
    assert len(checks_of(api, ids["b"])) == 3


def test_promote_by_tag_as_active_and_drafts_what_does_not_fit(world):
    api, ds, ids, checks = world
    op = promote(api, ds, ids["a"], ids["c"], check_tags=["core"], check_additional_tags=["promoted"], as_draft=False)
    assert op["status"]["checks_created"] == 1
    (copied,) = checks_of(api, ids["c"])
    assert (copied["rule_type"], copied["status"]) == ("notNull", "Active")
    assert sorted(t["name"] for t in copied["global_tags"]) == ["core", "promoted"]
    # c has no email field: matchesPattern arrives as a Draft, with a warning on the operation
    op = promote(
        api, ds, ids["a"], ids["c"], check_ids=[checks["pattern"]["id"], checks["between"]["id"]], as_draft=False
    )
    results = {r["source_check_id"]: r for r in op["status"]["results"]}
    assert results[checks["pattern"]["id"]]["message"] == "fields not on the destination container: email"
    assert results[checks["between"]["id"]]["message"] is None
    by_rule = {c["rule_type"]: c["status"] for c in checks_of(api, ids["c"])}
    assert by_rule == {"notNull": "Active", "matchesPattern": "Draft", "between": "Active"}
    assert op["message"] == (
        f"check {checks['pattern']['id']} promoted as draft: fields not on the destination container: email"
    )
    listed = api.ok("GET", "/api/operations", params={"operation_type": "promote", "datastore": ds})
    assert listed["total"] == 5


@pytest.mark.parametrize(
    ("body", "loc", "words"),
    [
        ({"check_ids": [1], "check_tags": ["core"]}, ["body", "promote_quality_check"], "exclude each other"),
        ({"container_id": 999}, ["body", "container_id"], "no container 999"),
        ({"destination_container_id": 999}, ["body", "destination_container_id"], "container 999 does not exist"),
    ],
)
def test_bad_promote_payloads_are_422(world, body, loc, words):
    api, ds, ids, _checks = world
    payload = {
        "type": "promote_quality_check",
        "datastore_id": ds,
        "container_id": ids["a"],
        "destination_container_id": ids["b"],
        **body,
    }
    r = api.post("/api/operations/run", json=payload)
    assert r.status_code == 422, r.text
    (item,) = r.json()["detail"]
    assert item["loc"] == loc and words in item["msg"], item
