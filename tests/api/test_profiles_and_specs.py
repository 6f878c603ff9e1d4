"""Qualytics' container profile and field profile endpoints (``/api/container-profiles``…,
``/api/field-profiles``…), partition updates and bulk triage, short listings and
specifications.

One app for the module: a DuckDB datastore ``shop`` with ``orders(id, amount, note)`` (3 rows)
and ``customers(id, name)`` (2 rows), synced and profiled twice; a DuckDB datastore ``events``
with ``events(id, updated_at, amount)`` over two days (one negative amount each day) and a
``notNegative`` check, scanned incrementally once (two partitions, one anomaly each).
"""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from tests.conftest import Api, _client, make_settings


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> Iterator[dict]:
    tmp = tmp_path_factory.mktemp("profiles")
    path = tmp / "src.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE orders (id INTEGER, amount INTEGER, note VARCHAR)")
    con.execute("INSERT INTO orders VALUES (1, 10, 'a'), (2, 20, NULL), (3, 30, 'c')")
    con.execute("CREATE TABLE customers (id INTEGER, name VARCHAR)")
    con.execute("INSERT INTO customers VALUES (1, 'Ann'), (2, 'Bo')")
    con.close()
    events_path = tmp / "events.duckdb"
    con = duckdb.connect(str(events_path))
    con.execute("CREATE TABLE events (id INTEGER, updated_at TIMESTAMP, amount INTEGER)")
    con.execute(
        "INSERT INTO events VALUES (1, '2024-01-01 08:00', 10), (2, '2024-01-01 09:00', -1),"
        " (3, '2024-01-02 08:00', 7), (4, '2024-01-02 09:00', -3)"
    )
    con.close()
    for api in _client(make_settings(tmp)):
        ds = api.duckdb_datastore("shop", path)
        api.sync(ds["id"])
        ops = []
        for _ in range(2):
            op = api.run({"type": "profile", "datastore_id": ds["id"], "infer_as_draft": True})
            assert op["result"] == "success", op
            ops.append(op)
        events_ds = api.duckdb_datastore("events", events_path)
        api.sync(events_ds["id"])
        events = api.container_id(events_ds["id"], "events")
        api.check(events, "notNegative", ["amount"])
        scan = api.scan(events_ds["id"], incremental=True)
        assert scan["status"]["anomalies_identified"] == 2, scan
        yield {
            "api": api,
            "ds": ds["id"],
            "orders": api.container_id(ds["id"], "orders"),
            "customers": api.container_id(ds["id"], "customers"),
            "ops": ops,
            "events_ds": events_ds["id"],
            "tmp": tmp,
            "events": events,
        }


def _profile_ids(op: dict, container_id: int) -> list[int]:
    return [cp["id"] for cp in op["container_profiles"] if cp["container"]["id"] == container_id]


def test_container_profiles_list_filters_and_detail(env):
    api: Api = env["api"]
    first, second = env["ops"]
    (old_orders,) = _profile_ids(first, env["orders"])
    (new_orders,) = _profile_ids(second, env["orders"])
    (new_customers,) = _profile_ids(second, env["customers"])
    page = api.ok("GET", "/api/container-profiles", params={"datastore": env["ds"]})
    assert page["total"] == 4
    ids = [cp["id"] for cp in page["items"]]
    assert ids == sorted(ids, reverse=True)
    by_container = api.ok("GET", "/api/container-profiles", params={"container": env["orders"], "sort_created": "asc"})
    assert [cp["id"] for cp in by_container["items"]] == [old_orders, new_orders]
    latest = api.ok("GET", "/api/container-profiles", params={"datastore": env["ds"], "latest_only": True})
    assert sorted(cp["id"] for cp in latest["items"]) == sorted([new_orders, new_customers])
    detail = api.ok("GET", f"/api/container-profiles/{new_orders}")
    assert detail["container"]["id"] == env["orders"] and detail["container"]["name"] == "orders"
    assert (detail["records_count"], detail["records_processed"], detail["result"]) == (3, 3, "success")
    assert detail["operation_id"] == second["id"]
    assert detail["field_profiles_count"] == 3 and detail["partitions"] == []
    assert detail["field_profiles"] == [
        {"name": "id", "container_order_index": 0},
        {"name": "amount", "container_order_index": 1},
        {"name": "note", "container_order_index": 2},
    ]
    fps = api.ok("GET", f"/api/container-profiles/{new_orders}/field-profiles")
    assert [(fp["name"], fp["container_profile_id"]) for fp in fps] == [
        ("id", new_orders),
        ("amount", new_orders),
        ("note", new_orders),
    ]
    assert (fps[1]["min"], fps[1]["max"], fps[2]["completeness"]) == (10, 30, pytest.approx(2 / 3))
    r = api.get("/api/container-profiles/999999")
    assert r.status_code == 404 and r.json()["detail"] == "Container profile 999999 not found", r.text
    assert api.get("/api/container-profiles/999999/field-profiles").status_code == 404
    r = api.get("/api/container-profiles", params={"sort_created": "up"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "sort_created"], r.text


def test_field_profiles_list_listing_and_detail(env):
    api: Api = env["api"]
    first, second = env["ops"]
    (new_orders,) = _profile_ids(second, env["orders"])
    (new_customers,) = _profile_ids(second, env["customers"])
    page = api.ok("GET", "/api/field-profiles", params={"datastore": env["ds"], "size": 100})
    assert page["total"] == 10  # 2 profiles x (3 + 2 fields)
    latest = api.ok(
        "GET", "/api/field-profiles", params={"datastore": env["ds"], "latest_only": True, "sort_name": "asc"}
    )
    assert new_orders > new_customers
    assert [(fp["name"], fp["container_profile_id"]) for fp in latest["items"]] == [
        ("amount", new_orders),
        ("id", new_orders),  # equal names: newest profile first
        ("id", new_customers),
        ("name", new_customers),
        ("note", new_orders),
    ]
    strings = api.ok("GET", "/api/field-profiles", params=[("type", "String"), ("latest_only", "true")])
    assert sorted(fp["name"] for fp in strings["items"]) == ["name", "note"]
    named = api.ok("GET", "/api/field-profiles", params={"name": "AMO", "container": env["orders"]})
    assert [fp["name"] for fp in named["items"]] == ["amount", "amount"]
    note = next(
        f["id"]
        for f in api.ok("GET", "/api/fields/listing", params={"container_id": env["orders"]})
        if f["name"] == "note"
    )
    api.ok("PUT", f"/api/fields/{note}", json={"tags": ["free-text"]})
    tagged = api.ok("GET", "/api/field-profiles", params={"tag": "free-text"})
    assert [fp["name"] for fp in tagged["items"]] == ["note", "note"]
    for bad, loc in (({"type": "Text"}, "type"), ({"sort_quality_score": "asc"}, "sort_quality_score")):
        r = api.get("/api/field-profiles", params=bad)
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", loc], r.text

    listing = api.ok("GET", "/api/field-profiles/listing", params={"containers": env["customers"], "latest_only": True})
    assert sorted((fp["name"], fp["container_profile_id"]) for fp in listing) == [
        ("id", new_customers),
        ("name", new_customers),
    ]
    one = api.ok("GET", "/api/field-profiles/listing", params={"id": listing[0]["id"]})
    assert [fp["id"] for fp in one] == [listing[0]["id"]]
    assert len(api.ok("GET", "/api/field-profiles/listing", params={"datastore": env["ds"]})) == 10

    detail = api.ok("GET", f"/api/field-profiles/{listing[0]['id']}")
    assert detail == listing[0]
    r = api.get("/api/field-profiles/999999")
    assert r.status_code == 404 and r.json()["detail"] == "Field profile 999999 not found", r.text


def _partitions(api: Api, container_id: int) -> dict[str, dict]:
    return {p["name"]: p for p in api.ok("GET", "/api/partitions", params={"container": container_id})["items"]}


def _counts(p: dict) -> tuple[int, int, int, int]:
    return p["num_active"], p["num_acknowledged"], p["num_resolved"], p["num_invalid"]


def test_partition_tags_and_comments(env):
    api: Api = env["api"]
    day1 = _partitions(api, env["events"])["2024-01-01"]
    assert (day1["global_tags"], day1["comments"]) == ([], [])
    body = api.ok("PUT", f"/api/partitions/{day1['id']}", json={"tags": ["reviewed", "q1"]})
    assert body["global_tags"] == [{"name": "reviewed"}, {"name": "q1"}]
    assert (body["name"], body["partition_size"]) == ("2024-01-01", 2)
    api.ok("POST", "/api/comments", json={"partition_id": day1["id"], "message": "late load"})
    detail = api.ok("GET", f"/api/partitions/{day1['id']}")
    assert detail["global_tags"] == [{"name": "reviewed"}, {"name": "q1"}]
    assert [(c["message"], c["partition_id"]) for c in detail["comments"]] == [("late load", day1["id"])]
    listed = _partitions(api, env["events"])
    assert [c["message"] for c in listed["2024-01-01"]["comments"]] == ["late load"]
    assert listed["2024-01-02"]["comments"] == [] and listed["2024-01-02"]["global_tags"] == []
    # no tags in the body: nothing changes
    assert api.ok("PUT", f"/api/partitions/{day1['id']}", json={})["global_tags"] == body["global_tags"]
    r = api.put(f"/api/partitions/{day1['id']}", json={"tags": "reviewed"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "tags"], r.text
    assert api.put("/api/partitions/999999", json={"tags": []}).status_code == 404


def test_partition_bulk_triage(env):
    api: Api = env["api"]
    parts = _partitions(api, env["events"])
    day1, day2 = parts["2024-01-01"], parts["2024-01-02"]
    assert (_counts(day1), _counts(day2)) == ((1, 0, 0, 0), (1, 0, 0, 0))
    acked = api.ok("PUT", f"/api/partitions/{day1['id']}/anomalies/Acknowledged")
    assert acked["id"] == day1["id"] and _counts(acked) == (0, 1, 0, 0)
    resolved = api.ok("PUT", f"/api/partitions/{day1['id']}/anomalies/Resolved")
    assert _counts(resolved) == (0, 0, 1, 0)
    (anomaly,) = api.ok("GET", "/api/anomalies", params={"container": env["events"], "archived": "only"})["items"]
    assert anomaly["status"] == "Resolved"
    # recorded like a status set through PUT /anomalies/{id}: who, from what, to what
    assert [(c["previous"], c["status"], c["user"]["id"]) for c in anomaly["status_changes"]] == [
        ("Active", "Acknowledged", 1),
        ("Acknowledged", "Resolved", 1),
    ]
    # archived anomalies stay archived: only open ones are triaged
    assert _counts(api.ok("PUT", f"/api/partitions/{day1['id']}/anomalies/Active")) == (0, 0, 1, 0)
    # the other day's anomaly is untouched
    assert _counts(api.ok("GET", f"/api/partitions/{day2['id']}")) == (1, 0, 0, 0)
    r = api.put(f"/api/partitions/{day2['id']}/anomalies/Closed")
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["path", "new_status"], r.text
    assert api.put("/api/partitions/999999/anomalies/Resolved").status_code == 404
    assert _counts(api.ok("PUT", f"/api/partitions/{day2['id']}/anomalies/Invalid")) == (0, 0, 0, 1)


def test_connection_and_datastore_listings(env):
    api: Api = env["api"]
    # the connections the module's datastores were created with inline (every datastore has one)
    before = api.ok("GET", "/api/connections/listing")
    assert [(c["name"], c["type"]) for c in before] == [("shop", "duckdb"), ("events", "duckdb")]
    pg = api.ok(
        "POST",
        "/api/connections",
        json={"name": "warehouse", "type": "postgresql", "host": "db.example", "password": "s3cret"},
    )
    folder = api.ok("POST", "/api/connections", json={"name": "drop", "type": "local", "uri": "file:///tmp/drop"})
    listing = api.ok("GET", "/api/connections/listing")
    assert [(c["id"], c["name"], c["type"], c["connection_type"]) for c in listing[2:]] == [
        (pg["id"], "warehouse", "postgresql", "jdbc"),
        (folder["id"], "drop", "local", "dfs"),
    ]
    assert set(listing[2]) == {"created", "id", "name", "connection_type", "type"}  # no password, no host
    assert [c["name"] for c in api.ok("GET", "/api/connections/listing", params={"supports_enrichment": True})] == [
        "shop",
        "events",
        "warehouse",
    ]
    assert [c["name"] for c in api.ok("GET", "/api/connections/listing", params={"supports_enrichment": False})] == [
        "drop"
    ]

    enrich = api.enrichment_datastore("enrich", env["tmp"] / "enrich.duckdb")
    assert api.ok("GET", "/api/datastores/listing") == [
        {"id": env["ds"], "name": "shop", "store_type": "jdbc", "type": "duckdb"},
        {"id": env["events_ds"], "name": "events", "store_type": "jdbc", "type": "duckdb"},
        {"id": enrich["id"], "name": "enrich", "store_type": "jdbc", "type": "duckdb"},
    ]
    assert [d["name"] for d in api.ok("GET", "/api/datastores/listing", params={"enrich_only": True})] == ["enrich"]
    assert [d["name"] for d in api.ok("GET", "/api/datastores/listing", params={"enrich_only": False})] == [
        "shop",
        "events",
    ]
    r = api.get("/api/datastores/listing", params={"enrich_only": "maybe"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "enrich_only"], r.text


def test_datastore_specifications(env):
    api: Api = env["api"]
    specs = api.ok("GET", "/api/datastores/specifications")
    assert [(s["type"], s["display_name"], s["implemented"], s["supports_enrichment"]) for s in specs] == [
        ("postgresql", "PostgreSQL", True, True),
        ("mysql", "MySQL / MariaDB", True, True),
        ("duckdb", "DuckDB", True, True),
        ("sqlite", "SQLite", True, True),
        ("local", "Local folder", True, False),
        ("s3", "Amazon S3 (and S3-compatible)", True, False),
        ("spark", "Apache Spark", True, False),
    ]
    # every type a datastore body takes has a specification, and nothing else does
    from assay.api.routers.datastores import KINDS

    assert sorted(s["type"] for s in specs) == sorted({kind for _store, kind in KINDS.values()})
    pg = api.ok("GET", "/api/datastores/specifications/postgres")  # an alias a datastore body takes
    assert pg == specs[0]
    by_field = {p["field"]: p for p in pg["properties"]}
    assert list(by_field) == [
        "host",
        "port",
        "username",
        "password",
        "connect_timeout",
        "statement_timeout",
        "database",
        "schema",
    ]
    assert by_field["host"] == {
        "field": "host",
        "map_to": "host",
        "required": True,
        "title": "Host",
        "type": "string",
        "values": None,
        "secret": False,
        "minimum": None,
        "maximum": None,
        "placeholder": None,
        "default": None,
        "info": None,
        "connection_property": True,
    }
    assert (by_field["port"]["type"], by_field["port"]["default"], by_field["port"]["minimum"]) == ("integer", 5432, 1)
    assert by_field["port"]["maximum"] == 65535
    assert (by_field["password"]["secret"], by_field["password"]["required"]) == (True, False)
    assert (by_field["database"]["required"], by_field["database"]["connection_property"]) == (True, False)
    assert by_field["statement_timeout"]["default"] == 3600
    local = api.ok("GET", "/api/datastores/specifications/local")
    engine = next(p for p in local["properties"] if p["field"] == "compute_engine")
    assert (engine["type"], engine["values"], engine["default"]) == ("select", ["duckdb", "spark"], "duckdb")
    s3 = {p["field"]: p for p in api.ok("GET", "/api/datastores/specifications/s3")["properties"]}
    assert [f for f, p in s3.items() if p["secret"]] == ["access_key", "secret_key", "token"]
    assert [
        s["type"] for s in api.ok("GET", "/api/datastores/specifications", params={"supports_enrichment": False})
    ] == [
        "local",
        "s3",
        "spark",
    ]
    assert api.ok("GET", "/api/datastores/specifications", params={"implemented": False}) == []
    r = api.get("/api/datastores/specifications/snowflake")
    assert r.status_code == 404, r.text
    assert r.json()["detail"] == (
        "Connection type 'snowflake' is not supported; one of: postgresql, mysql, duckdb, sqlite, local, s3, spark"
    )


def test_computed_field_specifications(env):
    api: Api = env["api"]
    (spec,) = api.ok("GET", "/api/computed-fields/specifications")
    assert (spec["transformation"], spec["fields"], spec["fields_type_filter"]) == ("customExpression", "multi", None)
    assert [(p["field"], p["required"], p["type"], p["title"]) for p in spec["properties"]] == [
        ("column_expression", True, "string", "Column expression")
    ]
    assert api.ok("GET", "/api/computed-fields/specifications", params={"transformation": "customExpression"}) == [spec]
    assert api.ok("GET", "/api/computed-fields/specifications", params={"transformation": "cleanedEntityName"}) == []
    r = api.get("/api/computed-fields/specifications", params={"transformation": "upper"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "transformation"], r.text
    # the specification is the model the API validates: without column_expression, a 422 naming it
    r = api.post(
        "/api/computed-fields",
        json={"name": "x2", "container_id": env["orders"], "transformation": "customExpression", "properties": {}},
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "properties", "column_expression"], r.text


def test_anomaly_partition_scan(env):
    api: Api = env["api"]
    anomalies = api.ok("GET", "/api/anomalies", params={"container": env["events"], "archived": "include"})["items"]
    by_partition = {a["partition"]["name"]: a for a in anomalies}
    assert sorted(by_partition) == ["2024-01-01", "2024-01-02"]
    parts = _partitions(api, env["events"])
    for name, anomaly in by_partition.items():
        ps = anomaly["partition_scan"]
        assert ps is not None, anomaly
        assert (ps["partition"], ps["partition_id"], ps["records_processed"], ps["result"], ps["anomalies"]) == (
            name,
            parts[name]["id"],
            2,
            "success",  # the partition was read; its anomaly is in ``anomalies``
            [anomaly["id"]],
        )
        # the same object the container scan lists
        scan = api.ok("GET", f"/api/container-scans/{anomaly['container_scan_id']}")
        assert ps in scan["partition_scans"]
        assert api.ok("GET", f"/api/anomalies/{anomaly['id']}")["partition_scan"] == ps


def test_team_permissions_of_the_new_routes(env):
    """A Member of a Reporter team on both datastores reads profiles and partitions but may
    not change a partition nor triage its anomalies (Editor); another team's datastore is not found."""
    api: Api = env["api"]
    team = api.ok("POST", "/api/teams", json={"name": "readers", "permission": "Reporter"})
    api.ok("POST", "/api/teams", json={"name": "others", "permission": "Editor"})
    api.ok(
        "POST",
        "/api/users",
        json={"name": "rita", "email": "rita@assay.test", "password": "a long password 1", "team_ids": [team["id"]]},
    )
    api.ok("PUT", f"/api/datastores/{env['ds']}", json={"teams": ["readers"]})
    api.ok("PUT", f"/api/datastores/{env['events_ds']}", json={"teams": ["readers"]})
    token = api.post("/api/auth/sign-in", json={"email": "rita@assay.test", "password": "a long password 1"}).json()
    rita = {"Authorization": f"Bearer {token['token']}"}
    (profile,) = _profile_ids(env["ops"][1], env["orders"])
    assert api.get(f"/api/container-profiles/{profile}", headers=rita).status_code == 200
    fp = api.get(f"/api/container-profiles/{profile}/field-profiles", headers=rita).json()[0]
    assert api.get(f"/api/field-profiles/{fp['id']}", headers=rita).json()["id"] == fp["id"]
    assert api.get("/api/field-profiles", headers=rita, params={"container": env["orders"]}).json()["total"] == 6
    day1 = _partitions(api, env["events"])["2024-01-01"]
    assert api.get(f"/api/partitions/{day1['id']}", headers=rita).status_code == 200
    assert api.put(f"/api/partitions/{day1['id']}", headers=rita, json={"tags": []}).status_code == 403
    assert api.put(f"/api/partitions/{day1['id']}/anomalies/Invalid", headers=rita).status_code == 403
    # the events datastore goes to another team: its partitions and the shop stay as they were
    api.ok("PUT", f"/api/datastores/{env['events_ds']}", json={"teams": ["others"]})
    r = api.get(f"/api/partitions/{day1['id']}", headers=rita)
    assert r.status_code == 404, r.text
    # the enrichment datastore was created without teams: the public team holds it
    assert [d["name"] for d in api.get("/api/datastores/listing", headers=rita).json()] == ["shop", "enrich"]


def test_datastore_bodies_are_checked_against_their_specification(env):
    """The connection models the specifications are generated from validate datastore bodies."""
    api: Api = env["api"]
    base = {"name": "remote", "database": "db", "connection": {"type": "postgresql", "host": "db.example"}}
    cases = (
        ({"port": 70000}, ["body", "connection", "port"], "'port': Input should be less than or equal to 65535"),
        ({"connect_timeout": 0}, ["body", "connection", "connect_timeout"], "'connect_timeout': Input should be"),
        ({"port": "five"}, ["body", "connection", "port"], "'port': Input should be a valid integer"),
    )
    for settings, loc, message in cases:
        body = {**base, "connection": {**base["connection"], **settings}}
        r = api.post("/api/datastores", json=body, params={"test_connection": "false"})
        assert r.status_code == 422, r.text
        (detail,) = r.json()["detail"]
        assert detail["loc"] == loc and detail["msg"].startswith(message), detail
    r = api.post(
        "/api/datastores",
        json={"name": "bucket", "connection": {"type": "s3", "uri": "s3://b/p", "access_key": 7}},
        params={"test_connection": "false"},
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "connection", "access_key"], r.text
