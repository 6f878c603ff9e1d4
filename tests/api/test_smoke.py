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


def test_a_metadata_store_that_went_away_is_a_503_not_a_500(tmp_path, pg_database, pg_admin, caplog):
    from sqlalchemy import make_url, text

    from tests.conftest import _client, make_settings

    client = _client(make_settings(tmp_path, pg_database))
    api = next(client)
    try:
        assert api.client.get("/api/datastores").status_code == 200
        with pg_admin.connect() as conn:  # the metadata database is dropped under the server
            conn.execute(text(f'DROP DATABASE "{make_url(pg_database).database}" WITH (FORCE)'))
        r = api.client.get("/api/datastores")
        assert (r.status_code, r.json(), r.headers["retry-after"]) == (
            503,
            {"detail": "the metadata store is unavailable; try again later"},
            "5",
        )
        assert "does not exist" in caplog.text  # the driver's message: in the log, not the answer
        assert api.client.get("/api/health").status_code == 204
        caplog.clear()
        status = api.client.get("/api/status", headers={"Authorization": ""})  # no token: no details
        assert (status.status_code, status.json()["database_connection"]) == (200, "unavailable")
        assert "GET /api/status: the metadata store is unavailable" in caplog.text
        client.close()  # the server still stops: its runner cannot mark its operations, and says so
        assert "could not ask running operations to abort: the metadata store is unavailable" in caplog.text
    finally:
        client.close()
