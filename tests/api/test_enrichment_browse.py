"""Enrichment browsing (``/datastores/{id}/listing``, ``/datastores/{id}/source-records``) and the
scan look-ups (``/datastores/{id}/operations``, ``/containers/{id}/scan``,
``/container-scans/{id}/anomalies``) through the REST API.

One source ``shop`` (table ``orders``: ids 1, 2, 3 with amounts 5, -1, -7) linked to an
enrichment DuckDB file; one ``notNegative(amount)`` check fails on ids 2 and 3, so the scan
records 2 record anomalies and writes the four enrichment tables with prefix ``_shop``.
"""

from __future__ import annotations

import json
import os

import duckdb
import pytest

from tests.conftest import _client, make_settings

TABLES = ["_shop_check_metrics", "_shop_failed_checks", "_shop_scan_operations", "_shop_source_records"]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browse")
    con = duckdb.connect(str(tmp / "shop.duckdb"))
    con.execute("create table orders(id integer, amount integer)")
    con.execute("create table customers(id integer)")
    con.execute("insert into orders values (1, 5), (2, -1), (3, -7)")
    con.close()
    for api in _client(make_settings(tmp)):
        ds = api.duckdb_datastore("shop", tmp / "shop.duckdb")
        lake = api.enrichment_datastore("lake", tmp / "lake.duckdb")
        api.ok("PATCH", f"/api/datastores/{ds['id']}/enrichment/{lake['id']}")
        plain = api.duckdb_datastore("plain", tmp / "shop.duckdb")
        api.sync(ds["id"])
        cid = api.container_id(ds["id"], "orders")
        api.check(cid, "notNegative", ["amount"])
        scan = api.scan(ds["id"], container_names=["orders"])
        assert scan["result"] == "success", scan
        yield {"api": api, "ds": ds, "lake": lake, "plain": plain, "cid": cid, "scan": scan}


def _stub(ds: dict) -> dict:
    keys = ("id", "name", "store_type", "type", "enrich_only", "enrich_container_prefix", "favorite")
    return {k: ds[k] for k in keys}


def test_listing_of_the_enrichment_and_of_the_source_datastore(world):
    api, ds, lake = world["api"], world["ds"], world["lake"]
    expected = [{"name": t, "label": t.removeprefix("_shop_"), "datastore": _stub(ds)} for t in TABLES]
    assert api.ok("GET", f"/api/datastores/{lake['id']}/listing") == expected
    assert api.ok("GET", f"/api/datastores/{ds['id']}/listing") == expected
    r = api.get(f"/api/datastores/{world['plain']['id']}/listing")
    assert r.status_code == 409 and "no enrichment datastore linked" in r.json()["detail"]
    assert api.get("/api/datastores/999/listing").status_code == 404


def test_listing_waits_for_a_write_to_the_enrichment_file_in_the_same_process(world):
    """While this process writes to the DuckDB enrichment file (open read-write, under the
    writer's lock), DuckDB refuses a read-only connection to it: the listing answered 422
    "Can't open a connection to same database file with a different configuration". It now
    waits for the write."""
    import threading

    from assay.enrichment.writer import EnrichmentTarget, write_lock

    api, lake = world["api"], world["lake"]
    path = api.ok("GET", f"/api/datastores/{lake['id']}")["database"]
    answers: list = []
    # the writer may know the file by another spelling (another datastore on it): one lock
    spelled = os.path.join(os.path.dirname(path), ".", os.path.basename(path))
    with write_lock(EnrichmentTarget("duckdb", spelled)):
        writer = duckdb.connect(path)  # as EnrichmentWriter holds the file during a write
        try:
            reader = threading.Thread(target=lambda: answers.append(api.get(f"/api/datastores/{lake['id']}/listing")))
            reader.start()
            reader.join(0.5)
            assert answers == []  # still waiting
        finally:
            writer.close()
    reader.join(30)
    (answer,) = answers
    assert answer.status_code == 200, answer.text
    assert [t["name"] for t in answer.json()] == TABLES


def test_an_enrichment_file_no_scan_has_written_lists_no_tables(world, tmp_path):
    """A DuckDB enrichment datastore is created before its file (the first write makes
    it): its listing is empty, not a 422 "file not found"."""
    api = world["api"]
    fresh = api.enrichment_datastore("fresh lake", world["lake"]["database"].replace("lake.duckdb", "fresh.duckdb"))
    assert api.ok("GET", f"/api/datastores/{fresh['id']}/listing") == []
    r = api.get(f"/api/datastores/{fresh['id']}/source-records", params={"path": "_shop_source_records"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", "path"]
    assert r.json()["detail"][0]["msg"] == f"no enrichment table '_shop_source_records' in datastore {fresh['id']}"
    # its folder must exist: the first write creates the file, not the folder (every scan's
    # enrichment stayed pending: "Cannot open file … No such file or directory")
    folder = world["lake"]["database"].replace("lake.duckdb", "no-such-folder")
    body = {"name": "nowhere", "connection": {"type": "duckdb"}, "database": f"{folder}/e.duckdb"}
    r = api.post("/api/datastores", json={**body, "enrichment_only": True})
    assert r.status_code == 422
    ((loc, msg),) = [(d["loc"], d["msg"]) for d in r.json()["detail"]]
    assert loc == ["body", "database"]
    assert msg.startswith(f"connection test failed: the folder {folder} does not exist")


def test_source_records_of_an_anomaly(world):
    api, lake = world["api"], world["lake"]
    anomalies = api.anomalies(datastore=world["ds"]["id"])
    assert len(anomalies) == 2
    uuid = anomalies[0]["uuid"]
    body = api.ok(
        "GET",
        f"/api/datastores/{lake['id']}/source-records",
        params={"path": "_shop_source_records", "filter": f"anomaly_uuid='{uuid}'"},
    )
    (row,) = json.loads(body["source_records"])
    assert (row["anomaly_uuid"], row["source_container"]) == (uuid, "orders")
    assert sorted(row) == ["anomaly_uuid", "context", "record", "source_container", "source_partition"]
    assert json.loads(row["record"])["id"] in (2, 3)
    # every scan_operations row of the scan, filtered on a number
    body = api.ok(
        "GET",
        f"/api/datastores/{world['ds']['id']}/source-records",
        params={"path": "_shop_scan_operations", "filter": f"operation_id='{world['scan']['id']}'"},
    )
    (op_row,) = json.loads(body["source_records"])
    assert (op_row["operation_id"], op_row["records_processed"], op_row["anomaly_count"]) == (world["scan"]["id"], 3, 2)
    limited = api.ok(
        "GET", f"/api/datastores/{lake['id']}/source-records", params={"path": "_shop_source_records", "limit": 1}
    )
    assert len(json.loads(limited["source_records"])) == 1


@pytest.mark.parametrize(
    ("params", "loc", "words"),
    [
        ({"path": "orders"}, ["query", "path"], "no enrichment table 'orders'"),
        ({"path": "_shop_source_records", "filter": "1=1 OR anomaly_uuid='x'"}, ["query", "filter"], "unsupported"),
        ({"path": "_shop_source_records", "filter": "secret='x'"}, ["query", "filter"], "no column 'secret'"),
        ({"path": "_shop_source_records", "limit": 0}, ["query", "limit"], "greater than or equal to 1"),
    ],
)
def test_bad_source_record_queries_are_422(world, params, loc, words):
    r = world["api"].get(f"/api/datastores/{world['lake']['id']}/source-records", params=params)
    assert r.status_code == 422, r.text
    (item,) = r.json()["detail"]
    assert item["loc"] == loc and words in item["msg"], item


def test_latest_operations_of_a_datastore(world):
    api, ds, scan = world["api"], world["ds"], world["scan"]
    body = api.ok("GET", f"/api/datastores/{ds['id']}/operations")
    assert body["latest_operation"]["id"] == scan["id"] == body["scan_operation"]["id"]
    assert body["catalog_operation"]["type"] == "sync" and body["profile_operation"] is None
    empty = api.ok("GET", f"/api/datastores/{world['plain']['id']}/operations")
    assert empty == dict.fromkeys(("latest_operation", "catalog_operation", "profile_operation", "scan_operation"))


def test_latest_container_scan_and_its_anomalies(world):
    api, cid, scan = world["api"], world["cid"], world["scan"]
    cs = api.ok("GET", f"/api/containers/{cid}/scan")
    (expected,) = scan["container_scans"]
    assert cs["id"] == expected["id"] and cs["anomaly_count"] == 2 and cs["records_processed"] == 3
    page = api.ok("GET", f"/api/container-scans/{cs['id']}/anomalies", params={"size": 1})
    assert (page["total"], page["pages"], len(page["items"])) == (2, 2, 1)
    assert page["items"][0]["container"]["id"] == cid
    customers = api.container_id(world["ds"]["id"], "customers")
    r = api.get(f"/api/containers/{customers}/scan")
    assert r.status_code == 404 and r.json() == {"detail": f"container {customers} has not been scanned"}
    assert api.get("/api/container-scans/999/anomalies").status_code == 404


# -- external scan (last: it adds a scan operation to the datastore) ---------------------
def test_external_scan_asserts_records_and_records_anomalies(world):
    api, cid, ds = world["api"], world["cid"], world["ds"]
    records = [{"id": 10, "amount": "4"}, {"id": 11, "amount": -2}, {"id": "12"}]  # 12: amount missing (NULL)
    op = api.ok("POST", f"/api/containers/{cid}/scan", json={"name": "orders.csv", "records": json.dumps(records)})
    assert (op["type"], op["result"], op["queued"], op["name"]) == ("external_scan", "running", True, "orders.csv")
    op = api.wait(op["id"])
    assert op["result"] == "success", op
    # only -2 is negative (notNegative passes NULL): one record anomaly
    assert (op["status"]["records_processed"], op["status"]["anomalies_identified"]) == (3, 1)
    (cs,) = op["container_scans"]
    assert (cs["records_processed"], cs["anomaly_count"]) == (3, 1)
    (anomaly,) = api.ok("GET", f"/api/container-scans/{cs['id']}/anomalies")["items"]
    (record,) = api.ok("GET", f"/api/anomalies/{anomaly['id']}/source-record")
    assert json.loads(json.dumps(record))  # the failing row is kept like any scan's
    assert api.ok("GET", f"/api/datastores/{ds['id']}/operations")["scan_operation"]["id"] == op["id"]
    # records sent as an array work too
    again = api.wait(api.ok("POST", f"/api/containers/{cid}/scan", json={"name": "x", "records": records[:1]})["id"])
    assert (again["result"], again["status"]["anomalies_identified"]) == ("success", 0)


def test_external_scan_of_values_that_do_not_cast_fails_on_the_container(world):
    api, cid = world["api"], world["cid"]
    op = api.ok("POST", f"/api/containers/{cid}/scan", json={"name": "bad.csv", "records": '[{"id": "ten"}]'})
    op = api.wait(op["id"])
    assert op["result"] == "failure" and "ten" in op["message"], op


@pytest.mark.parametrize(
    ("records", "words"),
    [
        ("not json", "records is not JSON"),
        ("[]", "non-empty JSON array of objects"),
        ('{"id": 1}', "non-empty JSON array of objects"),
        ('[{"id": 1, "colour": "red"}]', "not fields of the container: colour"),
    ],
)
def test_bad_external_scan_records_are_422(world, records, words):
    r = world["api"].post(f"/api/containers/{world['cid']}/scan", json={"name": "f.csv", "records": records})
    assert r.status_code == 422, r.text
    (item,) = r.json()["detail"]
    assert item["loc"] == ["body", "records"] and words in item["msg"], item
    assert world["api"].post("/api/containers/999/scan", json={"name": "f", "records": "[]"}).status_code == 404
