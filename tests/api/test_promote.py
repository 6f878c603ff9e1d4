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


def test_promote_to_another_datastore_remaps_only_references_inside_the_source(world, tmp_path):
    """Issue 16: an existsIn whose reference is in a third datastore keeps it; one whose
    reference is in the source datastore reads the container of the same name in the
    destination's datastore (or, without one, keeps the source's, as a warned Draft)."""
    api = world[0]
    made = {}
    for name, tables in (
        ("shop", ("orders", "customers")),
        ("shop2", ("orders", "customers")),
        ("shop3", ("orders",)),
        ("refs", ("r",)),
    ):
        con = duckdb.connect(str(tmp_path / f"{name}.duckdb"))
        for t in tables:
            con.execute(f"create table {t}(id integer)")
        con.close()
        ds = api.duckdb_datastore(name, tmp_path / f"{name}.duckdb")
        api.sync(ds["id"])
        made[name] = ds["id"]
    shop, shop2, shop3, refs = (made[n] for n in ("shop", "shop2", "shop3", "refs"))
    customers, customers2 = api.container_id(shop, "customers"), api.container_id(shop2, "customers")
    r = api.container_id(refs, "r")
    orders = api.container_id(shop, "orders")
    implicit = {"field_name": "id", "ref_container_id": customers}
    explicit = {"field_name": "id", "ref_container_id": customers, "ref_datastore_id": shop}
    third = {"field_name": "id", "ref_container_id": r, "ref_datastore_id": refs}
    ids = [api.check(orders, "existsIn", ["id"], properties=p)["id"] for p in (implicit, explicit, third)]

    def promoted(destination_ds: int) -> tuple[dict, list]:
        op = promote(api, shop, orders, api.container_id(destination_ds, "orders"), as_draft=False)
        by_source = {x["source_check_id"]: x for x in op["status"]["results"]}
        copies = [api.ok("GET", f"/api/quality-checks/{by_source[i]['destination_check_id']}") for i in ids]
        return op, [(c["properties"], c["status"]) for c in copies]

    _op, copies = promoted(shop2)
    assert copies == [
        ({"field_name": "id", "ref_container_id": customers2}, "Active"),
        ({"field_name": "id", "ref_container_id": customers2, "ref_datastore_id": shop2}, "Active"),
        (third, "Active"),
    ]
    # shop3 has no customers: the source's stays the reference, made explicit
    op, copies = promoted(shop3)
    assert copies == [(explicit, "Draft"), (explicit, "Draft"), (third, "Active")]
    warning = (
        f"no container named 'customers' in datastore {shop3}: "
        f"the reference stays container {customers} of datastore {shop}"
    )
    # the second check's copy would be the first's: the same definition there, so it is matched
    assert [(x["action"], x["message"]) for x in op["status"]["results"]] == [
        ("created", warning),
        ("skipped", None),
        ("created", None),
    ]


def test_repromoting_a_changed_check_updates_its_copy_in_place(api, tmp_path):
    """Issue 16: promoting a check whose destination already has a copy that changed since
    (the source edited, or the copy edited at the destination) updates that copy, as
    Qualytics' entity matching does (the link of the earlier promotion), never a second one."""
    con = duckdb.connect(str(tmp_path / "env.duckdb"))
    con.execute("create table s(id integer, email varchar)")
    con.execute("create table t(id integer, email varchar)")
    con.close()
    ds = api.duckdb_datastore("env", tmp_path / "env.duckdb")
    api.sync(ds["id"])
    s, t = api.container_id(ds["id"], "s"), api.container_id(ds["id"], "t")
    src = api.check(s, "between", ["id"], properties={"min": 1, "max": 9, "inclusive": True})

    first = promote(api, ds["id"], s, t)["status"]
    [created] = first["results"]
    assert (created["action"], first["checks_created"]) == ("created", 1)
    copy_id = created["destination_check_id"]

    def copies() -> list[tuple[int, int, str]]:
        return [(c["id"], c["properties"]["max"], c["description"] or "") for c in checks_of(api, t)]

    # the source's bound changes: the copy follows (overlap matching alone would find nothing)
    api.ok("PUT", f"/api/quality-checks/{src['id']}", json={"properties": {"min": 1, "max": 20, "inclusive": True}})
    second = promote(api, ds["id"], s, t)["status"]
    assert [(r["action"], r["destination_check_id"]) for r in second["results"]] == [("updated", copy_id)]
    assert (second["checks_created"], second["checks_updated"], second["checks_skipped"]) == (0, 1, 0)
    assert copies() == [(copy_id, 20, "")]

    # the copy is edited at the destination: promoting again puts the source's definition back
    api.ok("PUT", f"/api/quality-checks/{copy_id}", json={"properties": {"min": 1, "max": 50, "inclusive": True}})
    api.ok("PUT", f"/api/quality-checks/{src['id']}", json={"description": "ids stay small"})
    third = promote(api, ds["id"], s, t)["status"]
    assert [(r["action"], r["destination_check_id"]) for r in third["results"]] == [("updated", copy_id)]
    assert copies() == [(copy_id, 20, "ids stay small")]

    # nothing changed since: skipped
    fourth = promote(api, ds["id"], s, t)["status"]
    assert [(r["action"], r["destination_check_id"]) for r in fourth["results"]] == [("skipped", copy_id)]
    assert len(checks_of(api, t)) == 1
