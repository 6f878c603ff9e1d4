"""Enrichment on SQLite, PostgreSQL and MariaDB (not only DuckDB), and atomicity: a write
that fails halfway leaves nothing of that container scan in the enrichment datastore — the
anomalies are recorded anyway, with their enrichment pending until a later write succeeds."""

from __future__ import annotations

import time
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


def test_binary_long_and_scale_0_decimal_values_are_remediated_exactly(api, make_duckdb, enrichment):
    """A BLOB reached SQL enrichment tables as the text of its Python repr ("b'\\x00\\x01'");
    a DECIMAL(12,0) became NUMERIC(12,10) ("numeric field overflow"); on MariaDB a value or a
    source record past 64 KB did not fit TEXT / BLOB ("Data too long"). The last two left
    the batch pending for good."""
    body, url = enrichment
    path = make_duckdb(
        "create table b (id integer, payload blob, d0 decimal(12,0), big varchar, v integer)",
        "insert into b values (1, '\\x00\\x01\\xFF'::BLOB, 123456789022, repeat('x', 70000), NULL), "
        "(2, 'ok'::BLOB, 1, 'y', 2), (3, repeat('\\xAB', 40000)::BLOB, NULL, NULL, NULL)",
    )
    ds = api.duckdb_datastore("Bin", path)
    lake = api.ok("POST", "/api/datastores", json={"name": "bin lake", "enrichment_only": True, **body})
    api.ok("PATCH", f"/api/datastores/{ds['id']}/enrichment/{lake['id']}")
    api.sync(ds["id"])
    t = api.container_id(ds["id"], "b")
    api.check(t, "notNull", ["v"])
    op = api.scan(ds["id"], remediation="append")
    assert op["result"] == "success" and op["message"] is None, op
    engine = sa.create_engine(url)
    try:
        table = sa.table(f"_bin_remediation_{t}", *(sa.column(c) for c in ("id", "payload", "d0", "big")))
        with engine.connect() as conn:
            result = conn.execute(sa.select(table).order_by(table.c.id))
            # psycopg2 reads a BYTEA as a memoryview
            rows = [(i, None if p is None else bytes(p), d0, big) for i, p, d0, big in result]
            records = conn.execute(sa.text("SELECT count(*) FROM _bin_source_records")).scalar()
    finally:
        engine.dispose()
    assert rows == [(1, b"\x00\x01\xff", 123456789022, "x" * 70000), (3, b"\xab" * 40000, None, None)]
    assert records == 2


def test_a_failure_between_two_writes_leaves_nothing(api, make_duckdb, enrichment, monkeypatch):
    monkeypatch.setenv("ASSAY_ENRICHMENT_RETRY_SECONDS", "0.3")
    monkeypatch.setenv("ASSAY_REAPER_INTERVAL", "0.2")
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
        assert op["result"] == "success" and cs["result"] == "success", op
        assert "enrichment pending (written when the enrichment datastore is back)" in cs["message"]
        anomalies = api.anomalies(datastore=ds["id"])  # the findings are kept
        assert len(anomalies) == 2
        assert [(a["enrichment_pending"], a["source_enriched"]) for a in anomalies] == [(True, False)] * 2
        for table in ("_src_failed_checks", "_src_source_records", "_src_check_metrics", f"_src_remediation_{t}"):
            assert _count(engine, table) == 0, table
        # Not even the scan_operations row of the batch remains.
        assert _count(engine, "_src_scan_operations") == 0
        # The store is fixed: a runner's maintenance loop writes the batch, exactly once.
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP TABLE _src_remediation_{t}"))
        deadline = time.monotonic() + 30
        while any(a["enrichment_pending"] for a in api.anomalies(datastore=ds["id"])):
            assert time.monotonic() < deadline, "the pending enrichment was never written"
            time.sleep(0.1)
        assert [a["source_enriched"] for a in api.anomalies(datastore=ds["id"])] == [True, True]
        assert _count(engine, "_src_scan_operations") == 1
        assert _count(engine, "_src_failed_checks") == 3
        assert _count(engine, "_src_source_records") == 2
        assert _count(engine, f"_src_remediation_{t}") == 2
    finally:
        engine.dispose()
