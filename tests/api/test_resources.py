"""End-to-end tests of the resources a scan works on: datastores (DuckDB files and local
folders of CSV / Parquet files), containers and quality checks — CRUD, paging, filters.

Expected values are derived from the data and requests each test makes.
"""

from __future__ import annotations

import duckdb
import pytest

PAGE_KEYS = {"items", "total", "page", "size", "pages"}


def page(api, url: str, **params) -> dict:
    body = api.ok("GET", url, params=params)
    assert set(body) == PAGE_KEYS, body
    return body


def stub(ds: dict) -> dict:
    return {
        "id": ds["id"],
        "name": ds["name"],
        "store_type": ds["store_type"],
        "type": ds["type"],
        "enrich_only": ds["enrich_only"],
        "enrich_container_prefix": ds["enrich_container_prefix"],
        "favorite": ds["favorite"],
    }


THREE_TABLES = (
    "create table alpha (id integer, label varchar)",
    "insert into alpha values (1, 'a'), (2, NULL)",
    "create table beta (id integer, amount double, ts timestamp)",
    "insert into beta values (1, 1.5, '2024-01-01 00:00:00')",
    "create table gamma (flag boolean)",
    "create view alpha_view as select id from alpha",
)


# ------------------------------------------------------------------------ datastores


def test_datastore_crud_and_paging(api_any_store, make_duckdb, tmp_path):
    api = api_any_store
    path = make_duckdb(*THREE_TABLES)
    body = {
        "name": "My Store",
        "connection": {"type": "duckdb", "password": "s3cret", "token": "t0k"},
        "database": str(path),
        "schema": "main",
        "tags": ["gold"],
        "description": "the shop",
    }
    created = api.ok("POST", "/api/datastores", json=body)
    assert isinstance(created["id"], int) and created["created"].endswith("Z")
    assert {k: v for k, v in created.items() if k not in ("id", "created")} == {
        "name": "My Store",
        "store_type": "jdbc",
        "type": "duckdb",
        # secrets are never returned; the inline connection became a connection of its own
        "connection": {"type": "duckdb", "id": created["connection_id"], "name": "My Store"},
        "connection_id": created["connection_id"],
        "database": str(path),
        "schema": "main",
        "enrichment_only": False,
        "enrich_only": False,
        "enrichment_prefix": "_my_store",
        "enrich_container_prefix": "_my_store",
        "enrichment_source_record_limit": 10,
        "enrichment_remediation_strategy": "none",
        "high_count_rollup_threshold": 10,
        "enrichment_datastore_id": None,
        "enrichment_datastore": None,
        "enrich_datastore": None,
        "connected": True,
        "latest_operation": None,
        "global_tags": [{"name": "gold"}],
        "favorite": False,
        "description": "the shop",
        "max_concurrent_operations": None,
        # no teams sent: the public team, which holds Reporter on a fresh install (migration 0022)
        "teams": [{"id": 1, "name": "Public", "permission": "Reporter"}],
        "created_by": 1,
        "jdbc_url": f"jdbc:duckdb:{path}",  # never with the password
        "uri": None,
        # a new datastore: nothing counted yet, no scan in the decay window so no score total
        "metrics": {
            "containers": 0,
            "partitions": 0,
            "records": 0,
            "quality_checks": 0,
            "anomalies": 0,
            "new_anomalies": 0,
            "open_anomalies": 0,
            "archived_anomalies": 0,
            "confidence_score": None,
            "quality_score": {
                "created": None,
                "total": None,
                **dict.fromkeys(
                    (
                        "completeness",
                        "coverage",
                        "conformity",
                        "consistency",
                        "precision",
                        "timeliness",
                        "volumetrics",
                        "accuracy",
                    )
                ),
            },
        },
    }
    assert api.ok("GET", f"/api/datastores/{created['id']}") == created

    r = api.post("/api/datastores", json=body)
    assert (r.status_code, r.json()) == (409, {"detail": "a datastore named 'My Store' already exists"})

    files = api.ok(
        "POST", "/api/datastores", json={"name": "Files", "connection": {"type": "local", "uri": f"file://{tmp_path}"}}
    )
    assert (files["store_type"], files["type"], files["connection"], files["database"], files["schema"]) == (
        "dfs",
        "local",
        {"type": "local", "uri": f"file://{tmp_path}", "id": files["connection_id"], "name": "Files"},
        None,
        None,
    )
    lake = api.enrichment_datastore("Lake", tmp_path / "lake.duckdb")
    assert (lake["enrichment_only"], lake["enrich_only"]) == (True, True)

    everything = page(api, "/api/datastores", size=2)
    assert (everything["total"], everything["page"], everything["size"], everything["pages"]) == (3, 1, 2, 2)
    assert [d["name"] for d in everything["items"]] == ["My Store", "Files"]
    second = page(api, "/api/datastores", size=2, page=2)
    assert [d["name"] for d in second["items"]] == ["Lake"] and second["page"] == 2
    assert page(api, "/api/datastores", page=5)["items"] == []
    assert [d["name"] for d in page(api, "/api/datastores", enrichment_only=True)["items"]] == ["Lake"]
    assert [d["name"] for d in page(api, "/api/datastores", enrichment_only=False)["items"]] == ["My Store", "Files"]
    assert [d["name"] for d in page(api, "/api/datastores", name="Files")["items"]] == ["Files"]
    assert [d["name"] for d in page(api, "/api/datastores", search="stor")["items"]] == ["My Store"]
    assert api.get("/api/datastores", params={"size": 0}).status_code == 422

    # PUT is a partial update: only the keys sent change.
    updated = api.ok(
        "PUT",
        f"/api/datastores/{created['id']}",
        json={
            "description": "renamed shop",
            "high_count_rollup_threshold": 5,
            "enrichment_source_record_limit": 3,
            "tags": ["silver"],
        },
    )
    assert updated == {
        **created,
        "description": "renamed shop",
        "high_count_rollup_threshold": 5,
        "enrichment_source_record_limit": 3,
        "global_tags": [{"name": "silver"}],
    }
    assert api.ok("GET", f"/api/datastores/{created['id']}") == updated
    r = api.put(f"/api/datastores/{created['id']}", json={"high_count_rollup_threshold": 5000})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "high_count_rollup_threshold"]

    # Enrichment link: only to enrichment-only datastores; unlink resets the strategy.
    r = api.request("PATCH", f"/api/datastores/{created['id']}/enrichment/{files['id']}")
    assert r.status_code == 409 and "not an enrichment datastore" in r.json()["detail"]
    linked = api.ok("PATCH", f"/api/datastores/{created['id']}/enrichment/{lake['id']}")
    assert linked["enrichment_datastore"] == {"id": lake["id"], "name": "Lake"}
    again = api.ok("PATCH", f"/api/datastores/{created['id']}/enrichment/{lake['id']}")  # idempotent
    assert again == linked
    api.ok("PUT", f"/api/datastores/{created['id']}", json={"enrichment_remediation_strategy": "append"})
    assert api.ok("DELETE", f"/api/datastores/{created['id']}/enrichment") is None
    unlinked = api.ok("GET", f"/api/datastores/{created['id']}")
    assert (
        unlinked["enrichment_datastore_id"],
        unlinked["enrichment_datastore"],
        unlinked["enrichment_remediation_strategy"],
    ) == (None, None, "none")
    assert api.ok("DELETE", f"/api/datastores/{created['id']}/enrichment") is None  # idempotent

    # DELETE takes the containers and checks with it.
    api.sync(created["id"])
    cid = api.container_id(created["id"], "alpha")
    qid = api.check(cid, "notNull", ["id"])["id"]
    api.ok("PATCH", f"/api/datastores/{created['id']}/enrichment/{lake['id']}")
    r = api.delete(f"/api/datastores/{lake['id']}")
    assert r.status_code == 204
    assert api.ok("GET", f"/api/datastores/{created['id']}")["enrichment_datastore_id"] is None
    assert api.delete(f"/api/datastores/{created['id']}").status_code == 204
    assert api.get(f"/api/datastores/{created['id']}").status_code == 404
    assert api.get(f"/api/containers/{cid}").status_code == 404
    assert api.get(f"/api/quality-checks/{qid}").status_code == 404
    assert [d["name"] for d in page(api, "/api/datastores")["items"]] == ["Files"]


def _stored_connections(api) -> dict[str, tuple[str, dict]]:
    """Connection rows of the metadata store: name → (type, decrypted secrets)."""
    import sqlalchemy as sa

    from assay.security import decrypt_secrets
    from assay.store.db import get_engine

    settings = api.client.app.state.settings
    table = sa.table("connection", sa.column("name"), sa.column("type"), sa.column("secrets"))
    with get_engine(settings.database_url).connect() as conn:
        rows = conn.execute(sa.select(table.c.name, table.c.type, table.c.secrets)).all()
    return {name: (type_, decrypt_secrets(settings.secret_key, secrets)) for name, type_, secrets in rows}


def test_every_datastore_has_a_connection_with_an_id(api, make_duckdb):
    """Issue 16: an inline connection becomes a connection of the datastore's own (an id and a
    name in the answer, listed by /connections, secrets encrypted there and never answered);
    PUT edits it in place, gives a datastore of a shared connection its own, and switches
    connection with ``connection_id``."""
    path = str(make_duckdb(*THREE_TABLES))
    a = api.ok(
        "POST",
        "/api/datastores",
        json={"name": "A", "connection": {"type": "duckdb", "password": "pw1"}, "database": path},
    )
    assert a["connection"] == {"type": "duckdb", "id": a["connection_id"], "name": "A"}
    # an inline connection named like an existing one gets the next free name
    b = api.ok(
        "POST", "/api/datastores", json={"name": "B", "connection": {"type": "duckdb", "name": "A"}, "database": path}
    )
    assert b["connection"] == {"type": "duckdb", "name": "A (2)", "id": b["connection_id"]}
    assert b["connection_id"] == a["connection_id"] + 1
    shared = api.ok("POST", "/api/connections", json={"name": "shared", "type": "duckdb", "token": "tk"})
    c = api.ok("POST", "/api/datastores", json={"name": "C", "connection_id": shared["id"], "database": path})
    assert c["connection"] == {"type": "duckdb", "id": shared["id"], "name": "shared"}
    listing = api.get("/api/connections")
    assert [(x["id"], x["name"]) for x in listing.json()["items"]] == [
        (a["connection_id"], "A"),
        (b["connection_id"], "A (2)"),
        (shared["id"], "shared"),
    ]
    assert "pw1" not in listing.text and "tk" not in listing.text
    assert _stored_connections(api) == {
        "A": ("duckdb", {"password": "pw1"}),
        "A (2)": ("duckdb", {}),
        "shared": ("duckdb", {"token": "tk"}),
    }

    # an inline edit changes the datastore's own connection in place; secrets not sent are kept
    edited = api.ok(
        "PUT", f"/api/datastores/{a['id']}", json={"connection": {"type": "duckdb", "statement_timeout": 5}}
    )
    assert edited["connection"] == {"type": "duckdb", "statement_timeout": 5, "id": a["connection_id"], "name": "A"}
    assert api.ok("GET", f"/api/connections/{a['connection_id']}")["statement_timeout"] == 5
    assert _stored_connections(api)["A"] == ("duckdb", {"password": "pw1"})
    # connection_id switches connection; sending the current one back (qualytics-cli) changes nothing
    moved = api.ok("PUT", f"/api/datastores/{a['id']}", json={"connection_id": shared["id"]})
    assert (moved["connection"], moved["connection_id"]) == (
        {"type": "duckdb", "id": shared["id"], "name": "shared"},
        shared["id"],
    )
    again = api.ok("PUT", f"/api/datastores/{a['id']}", json={"name": "A", "connection_id": shared["id"]})
    assert again == moved
    r = api.put(f"/api/datastores/{a['id']}", json={"connection_id": 9999})
    assert (r.status_code, r.json()) == (404, {"detail": "Connection 9999 not found"})
    # an inline edit of a datastore on a connection others share (A and C) gives it one of its own
    own = api.ok("PUT", f"/api/datastores/{c['id']}", json={"connection": {"type": "duckdb", "statement_timeout": 7}})
    assert own["connection"] == {"type": "duckdb", "statement_timeout": 7, "id": shared["id"] + 1, "name": "C"}
    assert "statement_timeout" not in api.ok("GET", f"/api/connections/{shared['id']}")
    assert _stored_connections(api)["C"] == ("duckdb", {"token": "tk"})
    assert api.ok("GET", f"/api/datastores/{a['id']}")["connection"]["id"] == shared["id"]
    assert api.run({"type": "sync", "datastore_id": a["id"]})["result"] == "success"


def test_datastore_bad_bodies_are_422_naming_the_field(api, tmp_path):
    cases = [
        ({"name": "x"}, ["body", "connection"]),
        ({"name": "x", "connection": {"type": "oracle"}}, ["body", "connection", "type"]),
        ({"name": "x", "connection": {"type": "duckdb"}}, ["body", "database"]),
        ({"name": "x", "connection": {"type": "duckdb"}, "database": "relative.duckdb"}, ["body", "database"]),
        ({"name": "x", "connection": {"type": "local", "uri": "s3://bucket"}}, ["body", "connection", "uri"]),
        ({"name": "x", "connection": {"type": "local", "uri": "file://relative"}}, ["body", "connection", "uri"]),
        ({"name": "", "connection": {"type": "duckdb"}, "database": str(tmp_path / "a.duckdb")}, ["body", "name"]),
        (
            {
                "name": "x",
                "connection": {"type": "duckdb"},
                "database": str(tmp_path / "a.duckdb"),
                "high_count_rollup_threshold": 0,
            },
            ["body", "high_count_rollup_threshold"],
        ),
        (
            {
                "name": "x",
                "connection": {"type": "duckdb"},
                "database": str(tmp_path / "a.duckdb"),
                "enrichment_remediation_strategy": "sometimes",
            },
            ["body", "enrichment_remediation_strategy"],
        ),
    ]
    for body, loc in cases:
        r = api.post("/api/datastores", json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["detail"][0]["loc"] == loc, (body, r.json())
    assert page(api, "/api/datastores")["total"] == 0


def test_renaming_a_datastore_to_a_taken_name_is_409(api, make_duckdb):
    path = make_duckdb("create table t (i integer)")
    api.duckdb_datastore("A", path)
    b = api.duckdb_datastore("B", path)
    r = api.put(f"/api/datastores/{b['id']}", json={"name": "A"})
    assert r.status_code == 409 and isinstance(r.json()["detail"], str), r.text
    assert api.ok("GET", f"/api/datastores/{b['id']}")["name"] == "B"


# ------------------------------------------------------------------------ containers


def test_containers_list_detail_listing_fields(api_any_store, make_duckdb):
    api = api_any_store
    ds = api.duckdb_datastore("Tables", make_duckdb(*THREE_TABLES))
    other = api.duckdb_datastore("Other", make_duckdb("create table zeta (z integer)", name="other.duckdb"))
    sync = api.sync(ds["id"])
    assert sync["type"] == "sync" and sync["status"]["total_containers"] == 4  # 3 tables + 1 view
    api.sync(other["id"])

    listing = api.ok("GET", "/api/containers/listing", params={"datastore": ds["id"]})
    assert isinstance(listing, list)  # a bare list, not a page
    assert [(c["name"], c["container_type"]) for c in listing] == [
        ("alpha", "table"),
        ("alpha_view", "table"),
        ("beta", "table"),
        ("gamma", "table"),
    ]
    # Qualytics' TableContainerListing: tracking flags and the datastore (id, name, store_type, type)
    assert all(
        set(c)
        == {
            "id",
            "name",
            "container_type",
            "table_type",
            "deleted_at",
            "favorite",
            "volumetric_tracking_enabled",
            "freshness_tracking_enabled",
            "datastore",
        }
        for c in listing
    )
    assert listing[0]["datastore"] == {"id": ds["id"], "name": ds["name"], "store_type": "jdbc", "type": ds["type"]}
    assert (listing[0]["volumetric_tracking_enabled"], listing[0]["freshness_tracking_enabled"]) == (False, False)
    both = api.ok("GET", "/api/containers/listing", params={"datastore": [ds["id"], other["id"]]})
    assert [c["name"] for c in both] == ["alpha", "alpha_view", "beta", "gamma", "zeta"]
    ids = {c["name"]: c["id"] for c in listing}

    first = page(api, "/api/containers", datastore=ds["id"], size=3)
    assert (first["total"], first["page"], first["size"], first["pages"]) == (4, 1, 3, 2)
    rest = page(api, "/api/containers", datastore=ds["id"], size=3, page=2)
    assert sorted(c["name"] for c in first["items"] + rest["items"]) == ["alpha", "alpha_view", "beta", "gamma"]
    assert page(api, "/api/containers")["total"] == 5
    assert [c["name"] for c in page(api, "/api/containers", datastore=ds["id"], name="beta")["items"]] == ["beta"]
    assert sorted(c["name"] for c in page(api, "/api/containers", datastore=ds["id"], search="ALPHA")["items"]) == [
        "alpha",
        "alpha_view",
    ]

    beta = api.ok("GET", f"/api/containers/{ids['beta']}")
    assert beta["created"].endswith("Z")
    assert {k: v for k, v in beta.items() if k != "created"} == {
        "id": ids["beta"],
        "name": "beta",
        "container_type": "table",
        "table_type": "table",
        "store_type": "jdbc",
        "datastore": stub(ds),
        "deleted_at": None,
        "favorite": False,
        "global_tags": [],
        "file_pattern": None,
        "file_format": None,
        "additional_metadata": None,
        "description": None,
        # never profiled nor scanned; 3 fields without checks: coverage 0 → 70 × (1 − 70/578) = 61.52
        "metrics": {
            "last_profiled": None,
            "last_scanned": None,
            "fields": 3,
            "records": None,
            "completeness": None,
            "active_checks": 0,
            "important_checks": 0,
            "passing_checks": 0,
            "failing_checks": 0,
            "anomalies": 0,
            "active_anomalies": 0,
            "quality_score": {
                "created": None,
                "total": 61.52,
                "completeness": None,
                "coverage": 0.0,
                "conformity": None,
                "consistency": None,
                "precision": None,
                "timeliness": None,
                "volumetrics": None,
                "accuracy": None,
            },
        },
        # beta's timestamp "ts" is not named like an update/creation time: no identifier is proposed
        "incremental_field_name": None,
        "incremental_identifier_type": None,
        "partition_field": None,
        "incremental_checkpoint": None,
        # Qualytics' GetTableContainer: status, tracking flags, row identifier, excluded fields
        "status": "Active",
        "row_identifier_field": None,
        "exclude_fields": [],
        "freshness_tracking_enabled": False,
        "volumetric_tracking_enabled": False,
        "computed_fields": [],
    }
    assert api.ok("GET", f"/api/containers/{ids['alpha_view']}")["table_type"] == "view"

    # a bare list, as Qualytics answers (qualytics-cli reads it so)
    fields = api.ok("GET", f"/api/containers/{ids['beta']}/fields")
    assert [(f["name"], f["type"]) for f in fields] == [
        ("id", "Integral"),
        ("amount", "Fractional"),
        ("ts", "Timestamp"),
    ]
    assert all(f["created"].endswith("Z") for f in fields)  # Qualytics' Field requires created
    gamma = api.ok("GET", f"/api/containers/{ids['gamma']}/fields")
    assert [(f["name"], f["type"]) for f in gamma] == [("flag", "Boolean")]

    # Re-sync keeps ids; `include` leaves views out of a fresh datastore.
    api.sync(ds["id"])
    assert {c["name"]: c["id"] for c in api.ok("GET", "/api/containers/listing", params={"datastore": ds["id"]})} == ids
    tables_only = api.duckdb_datastore("Tables only", make_duckdb(*THREE_TABLES, name="t2.duckdb"))
    api.run({"type": "sync", "datastore_id": tables_only["id"], "include": ["table"]})
    assert [c["name"] for c in api.ok("GET", "/api/containers/listing", params={"datastore": tables_only["id"]})] == [
        "alpha",
        "beta",
        "gamma",
    ]


# -------------------------------------------------------------------- quality checks


def test_quality_check_crud_filters_and_archive(api_any_store, make_duckdb):
    api = api_any_store
    ds = api.duckdb_datastore("Checks", make_duckdb(*THREE_TABLES))
    api.sync(ds["id"])
    other = api.duckdb_datastore("Checks 2", make_duckdb("create table zeta (z integer)", name="o.duckdb"))
    api.sync(other["id"])
    alpha, beta = api.container_id(ds["id"], "alpha"), api.container_id(ds["id"], "beta")
    zeta = api.container_id(other["id"], "zeta")
    fields = {f["name"]: f["id"] for f in api.ok("GET", f"/api/containers/{beta}/fields")}
    amount_created = next(
        f["created"] for f in api.ok("GET", f"/api/containers/{beta}/fields") if f["name"] == "amount"
    )
    assert amount_created.endswith("Z")

    created = api.ok(
        "POST",
        "/api/quality-checks",
        json={
            "container_id": beta,
            "rule_type": "between",
            "fields": ["amount"],
            "properties": {"min": 0, "max": 10},
            "filter": "id > 0",
            "description": "amount in range",
            "tags": ["money"],
            "additional_metadata": {"owner": "ops"},
            "weight": 7,
        },
    )
    assert created["created"].endswith("Z") and created["last_updated"].endswith("Z")
    me = api.ok("GET", "/api/users/me")
    admin = {k: me[k] for k in ("id", "created", "name", "email", "role")}
    public_teams = [{k: t[k] for k in ("id", "created", "name", "permission")} for t in me["teams"]]
    assert {k: v for k, v in created.items() if k not in ("id", "created", "last_updated")} == {
        "rule_type": "between",
        "inferred": False,
        "fields": [{"id": fields["amount"], "created": amount_created, "name": "amount", "type": "Fractional"}],
        "description": "amount in range",
        "coverage": 1.0,  # none given: every record
        "properties": {"min": 0, "max": 10},
        "filter": "id > 0",
        "status": "Active",
        "deleted_at": None,
        # authored: no profile rewrites it
        "is_properties_inferrable": False,
        "is_coverage_inferrable": False,
        "is_description_inferrable": False,
        "container": {
            "id": beta,
            "name": "beta",
            "container_type": "table",
            "store_type": "jdbc",
            "datastore": stub(ds),
        },
        "global_tags": [{"name": "money"}],
        "additional_metadata": {"owner": "ops"},
        "anomaly_message_field": None,
        "weight": 7,
        "importance_score": 7.0,
        "last_asserted": None,
        "is_passing": None,
        "last_assertion_error": None,
        "anomaly_count": 0,
        "template_id": None,
        "template_locked": None,
        "favorite": False,
        "is_new": False,
        "is_template": False,
        "owner_id": None,
        "owner": None,
        "default_anomaly_assignee_id": None,
        "default_anomaly_assignee": None,
        # audit: who created it and who changed it last (the first Admin, whose token the tests use)
        "created_by": {**admin, "user_id": f"assay|{admin['id']}"},
        # Qualytics' last_editor is a User: with its teams (the public team)
        "last_editor": {**admin, "user_id": f"assay|{admin['id']}", "teams": public_teams},
    }
    assert api.ok("GET", f"/api/quality-checks/{created['id']}") == created

    draft = api.check(alpha, "notNull", ["label"], status="Draft")
    active = api.check(alpha, "notNull", ["id"])
    doomed = api.check(alpha, "notNull", ["label"])
    elsewhere = api.check(zeta, "notNull", ["z"])

    def ids(**params):
        body = page(api, "/api/quality-checks", **params)
        assert body["total"] == len(body["items"]) or params.get("size")
        return [c["id"] for c in body["items"]]

    assert ids() == [created["id"], draft["id"], active["id"], doomed["id"], elsewhere["id"]]
    assert ids(datastore=ds["id"]) == [created["id"], draft["id"], active["id"], doomed["id"]]
    assert ids(datastore=other["id"]) == [elsewhere["id"]]
    assert ids(container=alpha) == [draft["id"], active["id"], doomed["id"]]
    assert ids(container=[alpha, zeta]) == [draft["id"], active["id"], doomed["id"], elsewhere["id"]]
    assert ids(status="Draft") == [draft["id"]]
    assert ids(datastore=ds["id"], status="Active") == [created["id"], active["id"], doomed["id"]]
    assert ids(rule_type="between") == [created["id"]]
    paged = page(api, "/api/quality-checks", datastore=ds["id"], size=3, page=2)
    assert (paged["total"], paged["pages"], [c["id"] for c in paged["items"]]) == (4, 2, [doomed["id"]])

    # PUT: validated as a whole; rule and container cannot change.
    put = api.ok(
        "PUT",
        f"/api/quality-checks/{created['id']}",
        json={"properties": {"min": 1, "max": 5}, "description": "tighter", "filter": None},
    )
    assert (put["properties"], put["description"], put["filter"], put["weight"], put["fields"][0]["name"]) == (
        {"min": 1, "max": 5},
        "tighter",
        None,
        7,
        "amount",
    )
    assert put["last_updated"] >= created["last_updated"]
    assert api.ok("GET", f"/api/quality-checks/{created['id']}") == put
    for body, loc in [
        ({"rule": "notNull"}, ["body", "rule"]),
        ({"container_id": alpha}, ["body", "container_id"]),
        ({"fields": ["ts"]}, ["body", "fields", 0]),
        ({"properties": {"min": 1}}, ["body", "properties", "max"]),
        ({"filter": "select 1"}, ["body", "filter"]),
    ]:
        r = api.put(f"/api/quality-checks/{created['id']}", json=body)
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == loc, (body, r.text)
    assert api.ok("GET", f"/api/quality-checks/{created['id']}") == put  # nothing changed

    # DELETE archives (Discarded by default); archived checks leave the default listing.
    assert api.delete(f"/api/quality-checks/{doomed['id']}").status_code == 204
    gone = api.ok("GET", f"/api/quality-checks/{doomed['id']}")
    assert gone["status"] == "Discarded" and gone["deleted_at"] is not None
    assert ids(container=alpha) == [draft["id"], active["id"]]
    assert ids(status="Archived") == [doomed["id"]]
    assert ids(container=alpha, archived="include") == [draft["id"], active["id"], doomed["id"]]
    assert api.delete(f"/api/quality-checks/{draft['id']}", params={"status": "Invalid"}).status_code == 204
    assert api.ok("GET", f"/api/quality-checks/{draft['id']}")["status"] == "Invalid"
    restored = api.ok("PUT", f"/api/quality-checks/{draft['id']}", json={"status": "Draft"})
    assert (restored["status"], restored["deleted_at"]) == ("Draft", None)
    assert api.delete(f"/api/quality-checks/{elsewhere['id']}", params={"archive": False}).status_code == 204
    assert api.get(f"/api/quality-checks/{elsewhere['id']}").status_code == 404


def test_only_active_checks_are_scanned(api, make_duckdb):
    ds = api.duckdb_datastore("Statuses", make_duckdb(*THREE_TABLES))
    api.sync(ds["id"])
    alpha = api.container_id(ds["id"], "alpha")
    active = api.check(alpha, "notNull", ["label"])  # row 2 has a NULL label
    draft = api.check(alpha, "notNull", ["label"], status="Draft")
    archived = api.check(alpha, "notNull", ["label"])
    api.delete(f"/api/quality-checks/{archived['id']}")
    op = api.scan(ds["id"], container_names=["alpha"])
    (cs,) = op["container_scans"]
    assert [q["quality_check_id"] for q in cs["quality_checks"]] == [active["id"]]
    assert cs["anomaly_count"] == 1
    assert api.ok("GET", f"/api/quality-checks/{active['id']}")["anomaly_count"] == 1
    assert api.ok("GET", f"/api/quality-checks/{draft['id']}")["last_asserted"] is None
    assert api.ok("GET", f"/api/quality-checks/{archived['id']}")["last_asserted"] is None
    (anomaly,) = api.anomalies(datastore=ds["id"])
    assert [fc["quality_check_id"] for fc in anomaly["failed_checks"]] == [active["id"]]
    # Filters on the anomaly listing.
    assert [a["id"] for a in api.anomalies(quality_check=active["id"])] == [anomaly["id"]]
    assert api.anomalies(quality_check=draft["id"]) == []
    assert api.anomalies(anomaly_type="shape") == []
    assert [a["id"] for a in api.anomalies(container=alpha, anomaly_type="record")] == [anomaly["id"]]


def test_bad_archive_status_names_the_query_parameter(api, make_duckdb):
    ds = api.duckdb_datastore("Archive", make_duckdb(*THREE_TABLES))
    api.sync(ds["id"])
    check = api.check(api.container_id(ds["id"], "alpha"), "notNull", ["id"])
    r = api.delete(f"/api/quality-checks/{check['id']}", params={"status": "Bogus"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", "status"]


# ------------------------------------------------------------- local file datastores


@pytest.fixture
def files_folder(tmp_path):
    folder = tmp_path / "landing"
    folder.mkdir()
    (folder / "orders_2024_01.csv").write_text("id,amount\n1,10.5\n2,20.0\n")
    (folder / "orders_2024_02.csv").write_text("id,amount\n3,\n4,7.25\n5,1.0\n")  # amount of id 3 is empty
    (folder / "notes.md").write_text("not data\n")
    (folder / ".hidden.csv").write_text("x\n1\n")
    con = duckdb.connect()
    try:
        con.execute(
            f"copy (select * from (values (1, 'ann'), (2, NULL)) t(id, name)) "
            f"to '{folder / 'customers.parquet'}' (format parquet)"
        )
    finally:
        con.close()
    return folder


def test_local_folder_sync_and_scan(api, files_folder):
    ds = api.ok(
        "POST",
        "/api/datastores",
        json={"name": "Landing", "connection": {"type": "local", "uri": f"file://{files_folder}"}},
    )
    api.sync(ds["id"])
    listing = api.ok("GET", "/api/containers/listing", params={"datastore": ds["id"]})
    assert [(c["name"], c["container_type"]) for c in listing] == [("customers", "file"), ("orders", "file")]
    ids = {c["name"]: c["id"] for c in listing}
    orders = api.ok("GET", f"/api/containers/{ids['orders']}")
    assert (orders["file_pattern"], orders["file_format"], orders["table_type"]) == ("orders*.csv", "csv", None)
    customers = api.ok("GET", f"/api/containers/{ids['customers']}")
    assert (customers["file_pattern"], customers["file_format"]) == ("customers.parquet", "parquet")
    assert [(f["name"], f["type"]) for f in api.ok("GET", f"/api/containers/{ids['orders']}/fields")] == [
        ("id", "Integral"),
        ("amount", "Fractional"),
    ]
    assert [(f["name"], f["type"]) for f in api.ok("GET", f"/api/containers/{ids['customers']}/fields")] == [
        ("id", "Integral"),
        ("name", "String"),
    ]

    amount = api.check(ids["orders"], "notNull", ["amount"])
    name = api.check(ids["customers"], "notNull", ["name"])
    positive = api.check(ids["orders"], "between", ["amount"], properties={"min": 0, "max": 15})  # 20.0 fails
    op = api.scan(ds["id"])
    assert op["result"] == "success", op
    assert op["datastore"]["store_type"] == "dfs" and op["datastore"]["type"] == "local"
    assert op["containers"] == [
        {
            "id": ids["customers"],
            "name": "customers",
            "container_type": "file",
            "table_type": None,
            "store_type": "dfs",
        },
        {"id": ids["orders"], "name": "orders", "container_type": "file", "table_type": None, "store_type": "dfs"},
    ]
    assert [
        (cs["container"]["name"], cs["records_processed"], cs["anomaly_count"]) for cs in op["container_scans"]
    ] == [("customers", 2, 1), ("orders", 5, 2)]
    assert (op["status"]["records_processed"], op["status"]["anomalies_identified"]) == (7, 3)
    got = {a["failed_checks"][0]["quality_check_id"]: a for a in api.anomalies(datastore=ds["id"])}
    assert got[amount["id"]]["source_records"] == [{"id": 3, "amount": None}]
    assert got[positive["id"]]["source_records"] == [{"id": 2, "amount": 20.0}]
    assert got[positive["id"]]["message"] == "The `amount` value of 20.0 is not between 0 and 15"
    assert got[name["id"]]["source_records"] == [{"id": 2, "name": None}]

    # A new file of the same pattern joins the container (same id); the next scan reads it.
    (files_folder / "orders_2024_03.csv").write_text("id,amount\n6,\n")
    api.sync(ds["id"])
    assert {c["name"]: c["id"] for c in api.ok("GET", "/api/containers/listing", params={"datastore": ds["id"]})} == ids
    op = api.scan(ds["id"], container_names=["orders"])
    assert cscan_of(op, "orders")["records_processed"] == 6
    assert cscan_of(op, "orders")["anomaly_count"] == 3  # ids 3 and 6 NULL, id 2 out of range

    # Files gone: that container scan fails, the operation says why.
    for f in files_folder.glob("orders_*.csv"):
        f.unlink()
    op = api.scan(ds["id"])
    assert op["result"] == "success", op
    assert cscan_of(op, "orders")["result"] == "failure"
    assert cscan_of(op, "orders")["message"] == "no files match container orders (orders*.csv) any more"
    assert cscan_of(op, "customers")["result"] == "success"


def cscan_of(op: dict, name: str) -> dict:
    (found,) = [cs for cs in op["container_scans"] if cs["container"]["name"] == name]
    return found


def test_file_partitions_are_counted_and_capped_per_file(api, files_folder):
    ds = api.ok(
        "POST",
        "/api/datastores",
        json={"name": "Parts", "connection": {"type": "local", "uri": f"file://{files_folder}"}},
    )
    api.sync(ds["id"])
    api.check(api.container_id(ds["id"], "orders"), "notNull", ["id"])
    op = api.scan(ds["id"], container_names=["orders"], max_records_analyzed_per_partition=2)
    cs = cscan_of(op, "orders")
    assert cs["partitions_scanned"] == 2  # orders_2024_01.csv and orders_2024_02.csv
    assert cs["records_processed"] == 4  # 2 of file 1 (2 rows) + 2 of file 2 (3 rows)
