"""Bounded input, enforced once for every route (api/limits.py): body size (413), JSON depth,
list and string lengths, and control characters (422 naming the field), on SQLite and
PostgreSQL metadata alike."""

from __future__ import annotations

import json

import pytest

from assay.api.limits import MAX_LIST_ITEMS, MAX_STRING_CHARS, MAX_TAGS


def _loc(r) -> list:
    assert r.status_code == 422, (r.status_code, r.text[:300])
    (error,) = r.json()["detail"]
    return error["loc"]


def _ds(api, make_duckdb, **extra):
    return api.client.post(
        "/api/datastores",
        json={"name": "src", "connection": {"type": "duckdb"}, "database": str(make_duckdb("select 1")), **extra},
    )


def test_nul_and_control_characters_are_422_everywhere(api_any_store, make_duckdb):
    api = api_any_store
    assert _loc(_ds(api, make_duckdb, enrichment_prefix="_a\x00b")) == ["body", "enrichment_prefix"]
    assert _loc(_ds(api, make_duckdb, name="a\x00b")) == ["body", "name"]
    assert _loc(_ds(api, make_duckdb, description="nul \x00 here")) == ["body", "description"]
    assert _loc(_ds(api, make_duckdb, description="bell \x07")) == ["body", "description"]
    assert _loc(_ds(api, make_duckdb, tags=["ok", "x\x00"])) == ["body", "tags", 1]
    assert _loc(_ds(api, make_duckdb, name="two\nlines"))[:2] == ["body", "name"]  # names: no control at all
    assert _loc(_ds(api, make_duckdb, name="c1\x85"))[:2] == ["body", "name"]
    assert _loc(_ds(api, make_duckdb, **{"weird\x00key": 1})) == ["body", "weird\x00key"]
    for text in ('"a\\ud800b"', '"\\udfff"'):  # lone surrogates: valid JSON, no Unicode text
        r = api.client.post(
            "/api/datastores", content=f'{{"name": {text}}}', headers={"content-type": "application/json"}
        )
        assert _loc(r) == ["body", "name"] and "lone surrogate" in r.json()["detail"][0]["msg"]
    r = api.client.get("/api/datastores", params={"search": "a\x00"})
    assert _loc(r) == ["query", "search"]
    r = api.client.get("/api/containers", params={"search": "\x1b[31m"})
    assert _loc(r) == ["query", "search"]
    assert api.ok("GET", "/api/datastores")["total"] == 0  # nothing was stored
    # text where newlines and tabs make sense keeps them
    ok = _ds(api, make_duckdb, description="line one\nline two\tend")
    assert ok.status_code == 200, ok.text
    assert ok.json()["description"] == "line one\nline two\tend"
    ds_id = ok.json()["id"]
    r = api.client.put(f"/api/datastores/{ds_id}", json={"enrichment_prefix": "_p\x00"})
    assert _loc(r) == ["body", "enrichment_prefix"]
    assert api.ok("GET", f"/api/datastores/{ds_id}")["enrichment_prefix"] == "_src"


def test_body_size_limit_is_413(api, make_duckdb, monkeypatch):
    big = {"name": "x", "connection": {"type": "duckdb"}, "description": "a" * (5 * 1024 * 1024)}
    r = api.client.post("/api/datastores", json=big)  # default limit: 4 MiB
    assert r.status_code == 413 and "ASSAY_MAX_BODY_BYTES" in r.json()["detail"]
    monkeypatch.setenv("ASSAY_MAX_BODY_BYTES", "1000")
    r = api.client.post("/api/datastores", json={"name": "x", "description": "a" * 2000})
    assert r.status_code == 413

    def chunks():  # no Content-Length: counted as it streams
        for _ in range(10):
            yield b"[" + b"1," * 100 + b"1]"

    r = api.client.post("/api/datastores", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert api.ok("GET", "/api/datastores")["total"] == 0


def test_lengths_and_depth_are_bounded(api, make_duckdb):
    assert _loc(_ds(api, make_duckdb, tags=[f"t{i}" for i in range(MAX_TAGS + 1)])) == ["body", "tags"]
    assert _loc(_ds(api, make_duckdb, description="d" * (MAX_STRING_CHARS + 1))) == ["body", "description"]
    r = api.client.post(
        "/api/quality-checks", json={"container_id": 1, "rule": "notNull", "fields": ["f"] * (MAX_LIST_ITEMS + 1)}
    )
    assert _loc(r) == ["body", "fields"]
    nested: object = 1
    for _ in range(40):
        nested = [nested]
    assert "nested deeper" in api.client.post("/api/datastores", json={"name": "x", "x": nested}).text
    deep = "[" * 200_000 + "]" * 200_000  # deeper than Python's own parser can go
    r = api.client.post("/api/datastores", content=deep, headers={"content-type": "application/json"})
    assert _loc(r) == ["body"] and "nested deeper" in r.json()["detail"][0]["msg"]
    r = api.client.get("/api/datastores", params={"search": "s" * 3000})
    assert _loc(r) == ["query", "search"]
    assert api.ok("GET", "/api/datastores")["total"] == 0


@pytest.mark.parametrize("payload", [json.dumps({"name": "ok"}).encode()[:-1], b"\xff\xfe"])
def test_malformed_bodies_are_4xx_not_500(api, payload):
    r = api.client.post("/api/datastores", content=payload, headers={"content-type": "application/json"})
    assert 400 <= r.status_code < 500, r.text


def test_deeply_nested_expressions_are_422_not_500(api, make_duckdb):
    ds = api.duckdb_datastore("d", make_duckdb("create table t as select 1 as v"))
    api.sync(ds["id"])
    t = api.container_id(ds["id"], "t")
    body = {"container_id": t, "rule": "notNull", "fields": ["v"], "filter": "(" * 5000 + "v" + ")" * 5000 + " > 0"}
    r = api.client.post("/api/quality-checks", json=body)
    assert r.status_code == 422 and "nested more than 100 levels deep" in r.text, r.text
    expression = "v" + " + v" * 20_000 + " > 0"
    body = {"container_id": t, "rule": "satisfiesExpression", "fields": [], "properties": {"expression": expression}}
    r = api.client.post("/api/quality-checks", json=body)
    assert r.status_code == 422 and "nested more than 100 levels deep" in r.text, r.text
    query = "select " + "(" * 3000 + "1" + ")" * 3000 + " as x"
    r = api.client.post(
        "/api/containers",
        json={"container_type": "computed_table", "datastore_id": ds["id"], "name": "q", "query": query},
    )
    assert r.status_code == 422 and "nested more than 100 levels deep" in r.text, r.text
    assert api.ok("GET", f"/api/quality-checks?container={t}")["total"] == 0
