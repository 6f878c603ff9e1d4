"""A statement timeout on every engine: DuckDB and SQLite datastores take
``connection.statement_timeout`` (seconds) as PostgreSQL and MySQL do. A query past it is
cancelled (the driver's ``interrupt()``, or the server itself), the container it belongs
to fails with the same message on every engine (issue 16: PostgreSQL and MariaDB gave
their own words), naming the setting, and the rest of the scan goes on."""

from __future__ import annotations

import sqlite3
import uuid

import duckdb
import pytest
from sqlalchemy import text

TIMEOUT_MESSAGE = "query cancelled: it ran longer than the datastore's statement_timeout of 1 s"


def _scan_slow_and_quick(api, ds: dict) -> None:
    """Sync ``ds`` (containers ``quick``: ids 1, 2, 3, v NULL for id 2; ``slow``: a view over
    billions of filtered rows), check both, scan: ``slow`` fails on the timeout, ``quick``
    is scanned."""
    api.sync(ds["id"])
    quick, slow = api.container_id(ds["id"], "quick"), api.container_id(ds["id"], "slow")
    api.check(quick, "notNull", ["v"])
    api.check(slow, "notNegative", ["v"])
    op = api.scan(ds["id"], container_names=["quick", "slow"])
    assert op["result"] == "success", op
    assert op["message"] == f"slow: {TIMEOUT_MESSAGE}"
    scans = {cs["container"]["id"]: cs for cs in op["container_scans"]}
    assert (scans[slow]["result"], scans[slow]["message"]) == ("failure", TIMEOUT_MESSAGE)
    # quick: 3 rows, id 2 has no v: one anomaly
    assert (scans[quick]["result"], scans[quick]["records_processed"], scans[quick]["anomaly_count"]) == (
        "success",
        3,
        1,
    )
    assert (op["status"]["containers_analyzed"], op["status"]["anomalies_identified"]) == (2, 1)


def test_duckdb_statement_timeout_fails_the_slow_container_and_the_scan_goes_on(api, make_duckdb):
    path = make_duckdb(
        "CREATE TABLE quick AS SELECT * FROM (VALUES (1, 'a'), (2, NULL), (3, 'c')) t(id, v)",
        # 4·10^10 pairs, each filtered: minutes of work
        "CREATE VIEW slow AS SELECT a.range - b.range AS v FROM range(200000) a, range(200000) b "
        "WHERE (a.range * b.range) % 7 = 3",
    )
    ds = api.duckdb_datastore("slow_duck", path, connection={"type": "duckdb", "statement_timeout": 1})
    _scan_slow_and_quick(api, ds)


def test_sqlite_statement_timeout_fails_the_slow_container_and_the_scan_goes_on(api, tmp_path):
    path = tmp_path / "slow.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE quick (id INTEGER, v TEXT)")
    con.executemany("INSERT INTO quick VALUES (?, ?)", [(1, "a"), (2, None), (3, "c")])
    con.execute("CREATE TABLE n (i INTEGER)")
    con.executemany("INSERT INTO n VALUES (?)", [(i,) for i in range(3000)])
    # 2.7·10^10 triples, each filtered: hours of work
    con.execute("CREATE VIEW slow AS SELECT a.i - b.i - c.i AS v FROM n a, n b, n c WHERE (a.i * b.i + c.i) % 7 = 3")
    con.commit()
    con.close()
    ds = api.ok(
        "POST",
        "/api/datastores",
        json={"name": "slow_lite", "connection": {"type": "sqlite", "statement_timeout": 1}, "database": str(path)},
    )
    _scan_slow_and_quick(api, ds)


@pytest.mark.parametrize("value", ["soon", -1, 100000, True])
def test_a_bad_statement_timeout_is_a_422_on_every_engine(api, make_duckdb, value):
    path = make_duckdb("CREATE TABLE t AS SELECT 1 AS id")
    r = api.post(
        "/api/datastores",
        json={"name": "bad", "connection": {"type": "duckdb", "statement_timeout": value}, "database": str(path)},
    )
    assert r.status_code == 422, r.text
    (error,) = r.json()["detail"]
    assert error["loc"] == ["body", "connection", "statement_timeout"]
    assert error["msg"] == "'statement_timeout' must be a number of seconds, 0…86400"


def test_statement_timeout_zero_means_no_limit_and_a_short_query_is_never_cut(tmp_path):
    from types import SimpleNamespace

    from assay.sources import open_source

    path = tmp_path / "t.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE t AS SELECT range AS id FROM range(1000)")
    con.close()
    for timeout in (0, 1):
        ds = SimpleNamespace(
            type="duckdb", connection={"statement_timeout": timeout}, database=str(path), schema="main"
        )
        with open_source(ds) as source:
            table = source.con.table("t")
            # 50 quick queries in a row: a timer armed for one never cuts the next
            assert [table.count().to_pyarrow().as_py() for _ in range(50)] == [1000] * 50
            assert source.con.statement_timeout == timeout


def test_sqlite_view_whose_column_types_need_running_it_is_cut_by_the_timeout(api, tmp_path):
    """SQLite declares no type for a view's computed column: Ibis learns it by running the
    view (``SELECT typeof(v) …``), which the statement timeout covers too (it ran for hours)."""
    path = tmp_path / "slow_types.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE quick (id INTEGER, v TEXT)")
    con.executemany("INSERT INTO quick VALUES (?, ?)", [(1, "a"), (2, None), (3, "c")])
    con.execute("CREATE TABLE n (i INTEGER)")
    con.executemany("INSERT INTO n VALUES (?)", [(i,) for i in range(3000)])
    # an aggregate over 2.7·10^10 triples: its first (only) row comes at the very end
    con.execute("CREATE VIEW slow AS SELECT count(*) AS v FROM n a, n b, n c WHERE (a.i * b.i + c.i) % 7 = 3")
    con.commit()
    con.close()
    ds = api.ok(
        "POST",
        "/api/datastores",
        json={"name": "slow_types", "connection": {"type": "sqlite", "statement_timeout": 1}, "database": str(path)},
    )
    # the sync lists both; the view whose types could not be learnt in time has no fields
    sync = api.sync(ds["id"])
    assert sync["result"] == "success", sync
    assert sync["message"] == f"slow: {TIMEOUT_MESSAGE}"
    quick, slow = api.container_id(ds["id"], "quick"), api.container_id(ds["id"], "slow")
    assert api.ok("GET", f"/api/containers/{slow}/fields") == []
    api.check(quick, "notNull", ["v"])
    op = api.scan(ds["id"], container_names=["quick", "slow"])
    scans = {cs["container"]["id"]: cs for cs in op["container_scans"]}
    assert (scans[slow]["result"], scans[slow]["message"]) == ("failure", TIMEOUT_MESSAGE)
    assert (scans[quick]["result"], scans[quick]["records_processed"], scans[quick]["anomaly_count"]) == (
        "success",
        3,
        1,
    )


def test_a_tiny_positive_postgres_timeout_still_limits_queries():
    """0.0004 s is a limit of 1 ms, not 0 (which PostgreSQL reads as "no limit")."""
    from assay.sources import StatementTimeout
    from assay.sources.sql import SqlSource
    from tests.engines import PG_HOST

    source = SqlSource(
        "postgresql", {"host": PG_HOST, "username": "postgres", "statement_timeout": 0.0004}, "test", "public"
    )
    with pytest.raises(StatementTimeout) as cut:
        source.con.raw_sql("SELECT pg_sleep(2)").fetchall()
    assert str(cut.value) == "query cancelled: it ran longer than the datastore's statement_timeout of 0.0004 s"
    source.close()


def test_postgres_statement_timeout_fails_the_slow_container_in_the_same_words(api, pg_admin):
    schema = f"assay_slow_{uuid.uuid4().hex[:10]}"
    with pg_admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        conn.execute(text(f'CREATE TABLE "{schema}".quick (id integer, v text)'))
        conn.execute(text(f"INSERT INTO \"{schema}\".quick VALUES (1, 'a'), (2, NULL), (3, 'c')"))
        # every read of it waits 30 s
        conn.execute(text(f'CREATE VIEW "{schema}".slow AS SELECT 1 AS v FROM pg_sleep(30)'))
    try:
        connection = {"type": "postgresql", "host": "127.0.0.1", "username": "postgres", "statement_timeout": 1}
        ds = api.ok(
            "POST",
            "/api/datastores",
            json={"name": "slow_pg", "connection": connection, "database": "test", "schema": schema},
        )
        _scan_slow_and_quick(api, ds)
    finally:
        with pg_admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


def test_mariadb_statement_timeout_fails_the_slow_container_in_the_same_words(api, mariadb_server):
    name = f"assay_slow_{uuid.uuid4().hex[:10]}"
    admin = mariadb_server(None)
    with admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}`")
        cur.execute(f"CREATE TABLE `{name}`.quick (id integer, v text)")
        cur.execute(f"INSERT INTO `{name}`.quick VALUES (1, 'a'), (2, NULL), (3, 'c')")
        cur.execute(f"CREATE VIEW `{name}`.slow AS SELECT SLEEP(30) AS v")  # every read of it waits 30 s
    admin.commit()
    try:
        connection = {"type": "mariadb", "host": "127.0.0.1", "username": "root", "statement_timeout": 1}
        ds = api.ok("POST", "/api/datastores", json={"name": "slow_maria", "connection": connection, "database": name})
        _scan_slow_and_quick(api, ds)
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()
