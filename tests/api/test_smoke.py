"""The smallest end-to-end path, on both metadata stores: create, sync, check, scan."""


def test_scan_end_to_end(api_any_store, make_duckdb):
    api = api_any_store
    path = make_duckdb("create table orders as select * from (values (1, 10.0), (2, -5.0), (3, null)) t(id, amount)")
    ds = api.duckdb_datastore("shop", path)
    api.sync(ds["id"])
    orders = api.container_id(ds["id"], "orders")
    check = api.check(orders, "notNull", ["amount"])
    op = api.scan(ds["id"])
    assert op["result"] == "success", op
    assert op["status"]["records_processed"] == 3
    assert op["status"]["anomalies_identified"] == 1
    (anomaly,) = api.anomalies(datastore=ds["id"])
    assert anomaly["type"] == "record"
    assert anomaly["failed_checks"][0]["quality_check"]["id"] == check["id"]
    assert anomaly["source_records"] == [{"id": 3, "amount": None}]


def test_status_reaches_the_metadata_store(api_any_store):
    r = api_any_store.client.get("/api/status", headers={"Authorization": ""})
    assert r.status_code == 200, r.text
    assert r.json() == {"database_connection": "OK", "rabbitmq_connection": "OK", "queue": "embedded"}
