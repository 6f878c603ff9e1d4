"""List filters of ``GET /api/anomalies`` (``operation``: the anomalies a scan operation
found) and ``GET /api/operations`` (``tag``, ``timeframe``, invalid enum values).

One app for the module: a DuckDB datastore with ``orders(id, amount)`` (2 of 3 amounts
negative) and a ``notNegative`` check, scanned twice (2 record anomalies each scan)."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from tests.conftest import Api, _client, make_settings


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> Iterator[dict]:
    tmp = tmp_path_factory.mktemp("filters")
    path = tmp / "src.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE orders (id INTEGER, amount INTEGER)")
    con.execute("INSERT INTO orders VALUES (1, -10), (2, 20), (3, -30)")
    con.close()
    for api in _client(make_settings(tmp)):
        ds = api.duckdb_datastore("shop", path)
        api.sync(ds["id"])
        orders = api.container_id(ds["id"], "orders")
        api.check(orders, "notNegative", ["amount"])
        scans, found = [], []
        for _ in range(2):
            before = {a["id"] for a in api.anomalies()}
            op = api.scan(ds["id"], archive_duplicate_anomalies=False, reactivate_recurring_anomalies=False)
            assert op["result"] == "success", op
            scans.append(op["id"])
            found.append(sorted({a["id"] for a in api.anomalies()} - before))
        yield {"api": api, "ds": ds["id"], "orders": orders, "scans": scans, "found": found}


def test_anomalies_of_one_operation(env):
    api: Api = env["api"]
    assert [len(ids) for ids in env["found"]] == [2, 2]
    for op_id, ids in zip(env["scans"], env["found"], strict=True):
        body = api.ok("GET", "/api/anomalies", params={"operation": op_id, "size": 10})
        assert (body["total"], sorted(a["id"] for a in body["items"])) == (2, ids)
        # paged: one per page, both pages right
        first = api.ok("GET", "/api/anomalies", params={"operation": op_id, "size": 1, "page": 1})
        second = api.ok("GET", "/api/anomalies", params={"operation": op_id, "size": 1, "page": 2})
        assert (first["total"], first["pages"], second["total"]) == (2, 2, 2)
        assert sorted([first["items"][0]["id"], second["items"][0]["id"]]) == ids
    body = api.ok("GET", "/api/anomalies", params={"operation": 999_999})
    assert (body["total"], body["items"]) == (0, [])
    assert api.get("/api/anomalies", params={"operation": "seven"}).json()["detail"][0]["loc"] == [
        "query",
        "operation",
    ]


def test_operations_by_tag_timeframe_and_bad_enum_values(env):
    api: Api = env["api"]
    api.ok("PUT", f"/api/containers/{env['orders']}", json={"tags": ["ct"]})
    tagged = api.run({"type": "profile", "datastore_id": env["ds"], "container_tags": ["ct"]})
    assert tagged["result"] == "success", tagged
    every = api.ok("GET", "/api/operations", params={"datastore": env["ds"], "size": 100})
    assert every["total"] >= 4  # sync, two scans, the profile

    def listed(**params) -> tuple[int, list[int]]:
        body = api.ok("GET", "/api/operations", params={"datastore": env["ds"], "size": 100, **params})
        return body["total"], [op["id"] for op in body["items"]]

    assert listed(tag="ct") == (1, [tagged["id"]])
    assert listed(tag=["nobody", "ct"]) == (1, [tagged["id"]])
    assert listed(tag="nobody") == (0, [])
    # every operation of this module was created today (UTC)
    assert listed(timeframe=1) == (every["total"], [op["id"] for op in every["items"]])
    assert listed(timeframe=1, tag="ct", sort_created="asc") == (1, [tagged["id"]])
    for params, loc, words in [
        ({"timeframe": "week"}, "timeframe", "valid integer"),
        ({"timeframe": 0}, "timeframe", "greater than or equal to 1"),
        ({"sort_created": "sideways"}, "sort_created", "'asc' or 'desc'"),
        (
            {"result": "bogus"},
            "result",
            "unknown operation result bogus: one of queued, running, success, failure, aborted",
        ),
        ({"result": "success,bogus"}, "result", "unknown operation result bogus"),
    ]:
        r = api.get("/api/operations", params=params)
        assert r.status_code == 422, r.text
        [detail] = r.json()["detail"]
        assert detail["loc"] == ["query", loc] and words in detail["msg"], detail
    assert listed(result="success")[0] == every["total"]


def test_checks_by_inferred_field_and_creation_order(env):
    """``GET /api/quality-checks``'s ``inferred``, ``field`` and ``sort_created`` (the
    filters of Qualytics' generated client): the module's one authored check is
    ``notNegative(amount)``; a profile infers the others."""
    api: Api = env["api"]
    op = api.run({"type": "profile", "datastore_id": env["ds"]})
    assert op["result"] == "success", op

    def listed(**params) -> list[dict]:
        return api.ok("GET", "/api/quality-checks", params={"datastore": env["ds"], "size": 100, **params})["items"]

    every = listed()
    inferred = [c["id"] for c in every if c["inferred"]]
    assert inferred and [c["id"] for c in listed(inferred=True)] == inferred
    authored = listed(inferred=False)
    assert [(c["rule_type"], [f["name"] for f in c["fields"]], c["inferred"]) for c in authored] == [
        ("notNegative", ["amount"], False)
    ]
    on_id = [c["id"] for c in every if "id" in [f["name"] for f in c["fields"]]]
    on_amount = [c["id"] for c in every if "amount" in [f["name"] for f in c["fields"]]]
    assert on_id and on_amount and authored[0]["id"] in on_amount
    assert [c["id"] for c in listed(field="id")] == on_id
    assert [c["id"] for c in listed(field=["amount", "id"])] == sorted(set(on_id) | set(on_amount))
    assert [c["id"] for c in listed(field="nope")] == []
    assert [c["id"] for c in listed(field="amount", inferred=False)] == [authored[0]["id"]]
    # created in id order here, so newest first is the ids descending
    assert [c["id"] for c in listed(sort_created="desc")] == sorted((c["id"] for c in every), reverse=True)
    assert [c["id"] for c in listed(sort_created="asc")] == [c["id"] for c in every]
    r = api.get("/api/quality-checks", params={"inferred": "maybe"})
    assert (r.status_code, r.json()["detail"][0]["loc"]) == (422, ["query", "inferred"])
