"""Enrichment on SQLite, PostgreSQL and MariaDB (not only DuckDB), and atomicity: a write
that fails halfway leaves nothing of that container scan anywhere."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

SOURCE = (
    "create table t (id integer, v integer, note varchar)",
    "insert into t values (1, NULL, 'a'), (2, 2, 'b'), (3, NULL, NULL)",
)


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def enrichment(request, tmp_path):
    """(datastore body for an enrichment-only datastore, SQLAlchemy URL to read it back)."""
    if request.param == "sqlite":
        path = tmp_path / "enrich.sqlite"
        yield {"connection": {"type": "sqlite"}, "database": str(path)}, f"sqlite:///{path}"
        return
    name = f"assay_enr_{uuid.uuid4().hex[:10]}"
    if request.param == "postgresql":
        admin = request.getfixturevalue("pg_admin")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield (
            {"connection": {"type": "postgresql", "host": "127.0.0.1", "username": "postgres"}, "database": name},
            f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}",
        )
        sa.create_engine(f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}").dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        connect = request.getfixturevalue("mariadb_server")
        conn = connect(None)
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}`")
        yield (
            {"connection": {"type": "mariadb", "host": "127.0.0.1", "username": "root"}, "database": name},
            f"mysql+pymysql://root@127.0.0.1:3306/{name}",
        )
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        conn.close()


def _count(engine, table, where=""):
    with engine.connect() as conn:
        return conn.execute(
            sa.text(
                f'SELECT count(*) FROM "{table}" {where}'.replace('"', "`")
                if engine.dialect.name == "mysql"
                else f'SELECT count(*) FROM "{table}" {where}'
            )
        ).scalar()


def _setup(api, make_duckdb, enrichment):
    body, url = enrichment
    ds = api.duckdb_datastore("Src", make_duckdb(*SOURCE))
    lake = api.ok("POST", "/api/datastores", json={"name": "lake", "enrichment_only": True, **body})
    api.ok("PATCH", f"/api/datastores/{ds['id']}/enrichment/{lake['id']}")
    api.sync(ds["id"])
    t = api.container_id(ds["id"], "t")
    api.check(t, "notNull", ["v"])
    api.check(t, "notNull", ["note"])
    return ds, t, sa.create_engine(url)


def test_scan_writes_every_enrichment_table(api, make_duckdb, enrichment):
    ds, t, engine = _setup(api, make_duckdb, enrichment)
    try:
        op = api.scan(ds["id"], remediation="append")
        assert op["result"] == "success", op
        # rows 1 and 3 fail notNull(v); row 3 also fails notNull(note): 2 anomalies, 3 failed checks
        assert op["status"]["anomalies_identified"] == 2
        assert _count(engine, "_src_scan_operations") == 1
        assert _count(engine, "_src_failed_checks") == 3
        assert _count(engine, "_src_source_records") == 2
        assert _count(engine, "_src_check_metrics") == 2
        assert _count(engine, f"_src_remediation_{t}") == 2
        with engine.connect() as conn:
            ids = sorted(
                r[0] for r in conn.execute(sa.select(sa.column("id")).select_from(sa.table(f"_src_remediation_{t}")))
            )
        assert ids == [1, 3]
        api.scan(ds["id"], remediation="append")
        assert _count(engine, f"_src_remediation_{t}") == 4
        api.scan(ds["id"], remediation="overwrite")
        assert _count(engine, f"_src_remediation_{t}") == 2
        assert _count(engine, "_src_scan_operations") == 3
    finally:
        engine.dispose()


def test_a_failure_between_two_writes_leaves_nothing(api, make_duckdb, enrichment):
    ds, t, engine = _setup(api, make_duckdb, enrichment)
    try:
        # A remediation table with a required column Assay does not fill: its insert fails after the
        # scan_operations, failed_checks, source_records and check_metrics inserts of the same batch.
        with engine.begin() as conn:
            conn.execute(
                sa.text(f"CREATE TABLE _src_remediation_{t} (id INTEGER, required_by_someone INTEGER NOT NULL)")
            )
        op = api.scan(ds["id"], remediation="append")
        (cs,) = op["container_scans"]
        assert cs["result"] == "failure" and cs["message"].startswith("could not write to the enrichment datastore")
        assert op["result"] == "failure"
        assert api.anomalies(datastore=ds["id"]) == []
        for table in ("_src_failed_checks", "_src_source_records", "_src_check_metrics", f"_src_remediation_{t}"):
            assert _count(engine, table) == 0, table
        # Not even the scan_operations row of the batch remains (the failure is on the container scan).
        assert _count(engine, "_src_scan_operations") == 0
    finally:
        engine.dispose()
