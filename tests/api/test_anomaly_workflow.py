"""The anomaly workflow of Qualytics' API: comments (``/api/comments``), assignees
(``assignee_ids`` stored, users resolved), the user-editable ``description``, the older bulk
form ``PUT /api/anomalies``, check owners and a check's default anomaly assignee.

One app and one scanned DuckDB datastore for the whole module: ``orders`` has 5 rows, one
of them with a negative amount, so a ``notNegative`` check on ``amount`` raises one record anomaly.
"""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from assay.store.models import User
from tests.conftest import Api, _client, make_settings


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> Iterator[dict]:
    tmp = tmp_path_factory.mktemp("workflow")
    path = tmp / "src.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE orders (id INTEGER, amount INTEGER, note VARCHAR)")
    con.execute("INSERT INTO orders VALUES (1, 10, 'a'), (2, -5, 'b'), (3, 7, 'c'), (4, 1, 'd'), (5, 0, 'e')")
    con.close()
    for api in _client(make_settings(tmp)):
        with api.app.state.database.session() as s:
            alice = User(name="Alice", email="alice@example.com", role="Member")
            bob = User(name="Bob", email="bob@example.com", role="Member")
            s.add_all([alice, bob])
            s.flush()
            users = {"alice": alice.id, "bob": bob.id}
        ds = api.duckdb_datastore("shop", path)
        api.sync(ds["id"])
        orders = api.container_id(ds["id"], "orders")
        yield {"api": api, "ds": ds["id"], "orders": orders, **users}


def _scan_one_anomaly(env: dict, **check_body) -> tuple[dict, dict]:
    """A new notNegative check on orders.amount (with ``check_body``), a scan of orders, and
    the one record anomaly the check raises (the row with amount -5)."""
    api: Api = env["api"]
    check = api.check(env["orders"], "notNegative", ["amount"], **check_body)
    op = api.scan(env["ds"], container_names=["orders"])
    assert op["result"] == "success", op
    found = [a for a in api.anomalies(quality_check=check["id"]) if a["operation_id"] == op["id"]]
    assert len(found) == 1 and found[0]["anomalous_records_count"] == 1, found
    return check, found[0]


def test_check_owner_and_default_assignee_are_stored_and_a_new_anomaly_is_assigned(env):
    api: Api = env["api"]
    check, anomaly = _scan_one_anomaly(env, owner_id=env["alice"], default_anomaly_assignee_id=env["bob"])
    assert check["owner_id"] == env["alice"]
    assert check["owner"]["name"] == "Alice" and check["owner"]["email"] == "alice@example.com"
    assert check["default_anomaly_assignee_id"] == env["bob"]
    assert api.ok("GET", f"/api/quality-checks/{check['id']}")["owner"]["id"] == env["alice"]
    # the anomaly of that check goes to the check's default assignee
    assert anomaly["assignee_ids"] == [env["bob"]]
    assert [u["name"] for u in anomaly["assignees"]] == ["Bob"]
    # owner and default assignee can change and be cleared
    body = api.ok("PUT", f"/api/quality-checks/{check['id']}", json={"owner_id": env["bob"]})
    assert body["owner"]["name"] == "Bob" and body["default_anomaly_assignee_id"] == env["bob"]
    body = api.ok("PUT", f"/api/quality-checks/{check['id']}", json={"default_anomaly_assignee_id": None})
    assert body["default_anomaly_assignee_id"] is None and body["owner_id"] == env["bob"]
    listed = api.ok("GET", "/api/quality-checks", params={"owner_id": env["bob"], "container": env["orders"]})
    assert [c["id"] for c in listed["items"]] == [check["id"]]
    api.ok("DELETE", f"/api/quality-checks/{check['id']}", params={"archive": "false", "delete_anomalies": "true"})


@pytest.mark.parametrize("key", ["owner_id", "default_anomaly_assignee_id"])
def test_an_unknown_user_as_owner_or_assignee_is_a_422_naming_the_field(env, key):
    api: Api = env["api"]
    r = api.post(
        "/api/quality-checks",
        json={"container_id": env["orders"], "rule": "notNull", "fields": ["id"], key: 9999},
    )
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["body", key]
    assert r.json()["detail"][0]["msg"] == "user 9999 does not exist"


def test_assignees_description_and_comments_of_an_anomaly(env):
    api: Api = env["api"]
    check, anomaly = _scan_one_anomaly(env)
    aid = anomaly["id"]
    assert anomaly["assignees"] == [] and anomaly["description"] is None and anomaly["comments"] == []
    message = anomaly["message"]

    body = api.ok(
        "PUT",
        f"/api/anomalies/{aid}",
        json={"status": "Acknowledged", "description": "refunds, see ticket 12", "assignee_ids": [env["alice"]]},
    )
    assert body["status"] == "Acknowledged"
    assert body["description"] == "refunds, see ticket 12"
    assert body["message"] == message  # what the scan found never changes
    assert body["assignee_ids"] == [env["alice"]] and body["assignees"][0]["email"] == "alice@example.com"

    # an unknown assignee: 422 naming the field, nothing changes
    r = api.put(f"/api/anomalies/{aid}", json={"assignee_ids": [env["bob"], 4242]})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "assignee_ids"], r.text
    assert r.json()["detail"][0]["msg"] == "user 4242 does not exist"
    assert api.ok("GET", f"/api/anomalies/{aid}")["assignee_ids"] == [env["alice"]]

    # comments
    first = api.ok("POST", "/api/comments", json={"anomaly_id": aid, "message": "looking into it"})
    second = api.ok("POST", "/api/comments", json={"anomaly_id": aid, "message": "refund batch 7"})
    assert first["anomaly_id"] == aid and first["message"] == "looking into it"
    assert first["user"]["id"] == 1  # the admin the test token belongs to
    page = api.ok("GET", "/api/comments", params={"anomaly_id": aid})
    assert page["total"] == 2 and [c["message"] for c in page["items"]] == ["looking into it", "refund batch 7"]
    edited = api.ok("PUT", f"/api/comments/{second['id']}", json={"message": "refund batch 8"})
    assert edited["message"] == "refund batch 8"
    assert api.ok("GET", f"/api/comments/{second['id']}")["message"] == "refund batch 8"
    shown = api.ok("GET", f"/api/anomalies/{aid}")
    assert [c["message"] for c in shown["comments"]] == ["looking into it", "refund batch 8"]
    api.ok("DELETE", f"/api/comments/{first['id']}")
    assert api.get(f"/api/comments/{first['id']}").status_code == 404
    assert [c["id"] for c in api.ok("GET", f"/api/anomalies/{aid}")["comments"]] == [second["id"]]

    # bad comments
    r = api.post("/api/comments", json={"message": "about nothing"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "anomaly_id"], r.text
    r = api.post("/api/comments", json={"anomaly_id": 987654, "message": "x"})
    assert r.status_code == 422 and r.json()["detail"][0]["msg"] == "anomaly 987654 does not exist"
    assert api.put("/api/comments/987654", json={"message": "x"}).status_code == 404
    r = api.post("/api/comments", json={"partition_id": 987654, "message": "x"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "partition_id"], r.text
    r = api.post("/api/comments", json={"anomaly_id": aid, "partition_id": 1, "message": "x"})
    assert r.status_code == 422 and r.json()["detail"][0]["msg"] == "give exactly one of anomaly_id or partition_id"

    # deleting the anomaly deletes its comments
    api.ok("DELETE", f"/api/anomalies/{aid}", params={"archive": "false"})
    assert api.get(f"/api/comments/{second['id']}").status_code == 404
    api.ok("DELETE", f"/api/quality-checks/{check['id']}", params={"archive": "false"})


def test_bulk_put_of_anomalies_the_older_form(env):
    api: Api = env["api"]
    check, anomaly = _scan_one_anomaly(env)
    body = api.ok(
        "PUT",
        "/api/anomalies",
        json=[{"id": anomaly["id"], "status": "Acknowledged", "tags": [], "assignee_ids": [env["bob"]]}],
    )
    assert [(a["id"], a["status"], a["assignee_ids"]) for a in body] == [(anomaly["id"], "Acknowledged", [env["bob"]])]
    r = api.put("/api/anomalies", json=[{"id": anomaly["id"], "status": "Active", "assignee_ids": [777]}])
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", 0, "assignee_ids"], r.text
    assert api.ok("GET", f"/api/anomalies/{anomaly['id']}")["status"] == "Acknowledged"
    # unassign everyone with []
    body = api.ok("PATCH", "/api/anomalies", json=[{"id": anomaly["id"], "assignee_ids": []}])
    assert body[0]["assignees"] == [] and body[0]["assignee_ids"] == []
    api.ok("DELETE", f"/api/quality-checks/{check['id']}", params={"archive": "false", "delete_anomalies": "true"})
