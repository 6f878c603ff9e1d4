"""Sources are never changed: every session is read-only, queries have a statement
timeout, and computed tables may only call functions known to be pure (422 naming any other)."""

from __future__ import annotations

import sqlite3
import time
import uuid
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, text

from assay.sources import SourceError, StatementTimeout, open_source

PG = {"type": "postgresql", "host": "127.0.0.1", "port": 5432, "username": "postgres"}
MARIADB = {"type": "mariadb", "host": "127.0.0.1", "port": 3306, "username": "root", "password": ""}


@pytest.fixture
def pg_db(pg_admin):
    name = f"assay_ro_{uuid.uuid4().hex[:10]}"
    with pg_admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("CREATE TABLE t (id integer, v text)"))
        conn.execute(text("INSERT INTO t VALUES (1, 'a'), (2, 'b')"))
        conn.execute(text("CREATE SEQUENCE s"))
    yield name, engine
    engine.dispose()
    with pg_admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def maria_db(mariadb_server):
    name = f"assay_ro_{uuid.uuid4().hex[:10]}"
    conn = mariadb_server(None)
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}`")
        cur.execute(f"CREATE TABLE `{name}`.t (id INT, v VARCHAR(10))")
        cur.execute(f"INSERT INTO `{name}`.t VALUES (1, 'a'), (2, 'b'), (3, NULL)")
    yield name, conn
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    conn.close()


def _ds(kind, database, **connection):
    return SimpleNamespace(type=kind, connection=connection, database=database, schema=None)


def _computed(api, ds_id, query):
    return api.client.post(
        "/api/containers",
        json={
            "container_type": "computed_table",
            "datastore_id": ds_id,
            "name": f"c{uuid.uuid4().hex[:6]}",
            "query": query,
        },
    )


def _field_names(api, container_id):
    return [f["name"] for f in api.ok("GET", f"/api/containers/{container_id}/fields")]


def test_postgres_session_is_read_only_with_a_statement_timeout(pg_db):
    name, engine = pg_db
    with open_source(_ds("postgresql", name, host="127.0.0.1", username="postgres", statement_timeout=1)) as source:
        # a scan's few long queries are not JIT-compiled (each would pay 0.1-0.9 s for it)
        assert source.con.raw_sql("SHOW jit").fetchone() == ("off",)
        with pytest.raises(Exception, match="read-only transaction"):
            source.con.raw_sql("INSERT INTO t VALUES (3, 'c')")
        with pytest.raises(Exception, match="read-only transaction"):
            source.con.raw_sql("SELECT nextval('s')")
        started = time.monotonic()
        with pytest.raises(StatementTimeout, match="ran longer than the datastore's statement_timeout of 1 s"):
            source.con.raw_sql("SELECT pg_sleep(5)")
        assert time.monotonic() - started < 4
        query = SimpleNamespace(container_type="computed_table", query="SELECT count(*) AS n FROM t", name="q")
        assert source.table(query).to_pyarrow().to_pylist() == [{"n": 2}]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 2


def test_postgres_computed_tables_refuse_side_effecting_functions(api, pg_db):
    name, engine = pg_db
    ds = api.ok("POST", "/api/datastores", json={"name": "pg", "connection": PG, "database": name, "schema": "public"})
    for query, function in (
        ("SELECT pg_read_file('/etc/passwd') AS x", "pg_read_file"),
        ("SELECT id, nextval('s') AS n FROM t", "nextval"),
        ("SELECT lo_import('/etc/hostname') AS oid", "lo_import"),
        ("SELECT id FROM t WHERE set_config('a.b', 'c', false) IS NOT NULL", "set_config"),
        ("SELECT id, upper(v) FROM t ORDER BY pg_sleep(1)", "pg_sleep"),
    ):
        r = _computed(api, ds["id"], query)
        assert r.status_code == 422, (query, r.text)
        (error,) = r.json()["detail"]
        assert error["loc"] == ["body", "query"]
        assert f"function '{function}' is not allowed" in error["msg"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT last_value, is_called FROM s")).one() == (1, False)  # never moved
        assert conn.execute(text("SELECT count(*) FROM pg_largeobject_metadata")).scalar() == 0
    ok = _computed(api, ds["id"], "SELECT id, upper(v) AS v, coalesce(length(v), 0) AS n FROM t")
    assert ok.status_code == 200, ok.text
    assert _field_names(api, ok.json()["id"]) == ["id", "v", "n"]


def test_mariadb_computed_tables_work_read_only(api, maria_db):
    name, conn = maria_db
    ds = api.ok("POST", "/api/datastores", json={"name": "maria", "connection": MARIADB, "database": name})
    api.sync(ds["id"])
    r = _computed(api, ds["id"], "SELECT * FROM t")
    assert r.status_code == 200, r.text
    computed = r.json()
    assert _field_names(api, computed["id"]) == ["id", "v"]
    api.check(computed["id"], "notNull", ["v"])
    op = api.scan(ds["id"], container_names=[computed["name"]])
    assert op["result"] == "success", op
    assert op["container_scans"][0]["anomaly_count"] == 1
    for query, function in (
        ("SELECT load_file('/etc/passwd') AS x", "load_file"),
        ("SELECT id, sleep(1) AS s FROM t", "sleep"),
        ("SELECT get_lock('x', 1) AS l", "get_lock"),
    ):
        r = _computed(api, ds["id"], query)
        assert r.status_code == 422 and f"function '{function}' is not allowed" in r.json()["detail"][0]["msg"]
    with (
        open_source(_ds("mysql", name, host="127.0.0.1", username="root")) as source,
        pytest.raises(Exception, match="READ ONLY"),
    ):
        source.con.raw_sql("INSERT INTO t VALUES (9, 'z')")
    with conn.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM `{name}`.t")
        assert cur.fetchone() == (3,)


def test_mariadb_statement_timeout(maria_db):
    name, _conn = maria_db
    with open_source(_ds("mysql", name, host="127.0.0.1", username="root", statement_timeout=1)) as source:
        started = time.monotonic()
        with pytest.raises(StatementTimeout, match="ran longer than the datastore's statement_timeout of 1 s"):
            source.con.raw_sql("SELECT sleep(5) FROM t").fetchall()
        assert time.monotonic() - started < 4


def test_sqlite_is_opened_read_only(tmp_path):
    path = tmp_path / "src.sqlite"
    con = sqlite3.connect(path)
    con.execute("create table t (id integer)")
    con.execute("insert into t values (1)")
    con.commit()
    con.close()
    with open_source(_ds("sqlite", str(path))) as source:
        with pytest.raises(Exception, match="readonly database"):
            source.con.raw_sql("INSERT INTO t VALUES (2)")
        assert source.con.table("t").count().execute() == 1
    with pytest.raises(SourceError, match="not found"):
        open_source(_ds("sqlite", str(tmp_path / "missing.sqlite")))
    assert not (tmp_path / "missing.sqlite").exists()


def test_duckdb_computed_tables_refuse_unknown_functions(api, make_duckdb):
    ds = api.duckdb_datastore("d", make_duckdb("create table t as select 1 as id", "create sequence s"))
    for query, function in (("select nextval('s') as n", "nextval"), ("select getenv('HOME') as h", "getenv")):
        r = _computed(api, ds["id"], query)
        assert r.status_code == 422 and f"function '{function}' is not allowed" in r.json()["detail"][0]["msg"], r.text


def test_check_expressions_name_the_unknown_function(api, make_duckdb):
    ds = api.duckdb_datastore("d", make_duckdb("create table t as select 1 as id"))
    api.sync(ds["id"])
    t = api.container_id(ds["id"], "t")
    r = api.client.post(
        "/api/quality-checks",
        json={
            "container_id": t,
            "rule": "satisfiesExpression",
            "fields": [],
            "properties": {"expression": "nextval('s') > 0"},
        },
    )
    assert r.status_code == 422, r.text
    assert "unsupported function 'nextval'" in r.text
    r = api.client.post(
        "/api/quality-checks",
        json={"container_id": t, "rule": "notNull", "fields": ["id"], "filter": "pg_sleep(10) > 0"},
    )
    assert r.status_code == 422 and "unsupported function 'pg_sleep'" in r.text, r.text
