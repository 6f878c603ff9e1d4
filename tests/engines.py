"""The engines every engine-level test runs on, in one place: DuckDB (in memory), SQLite (a
temp file), PostgreSQL (a fresh schema) and MariaDB (a fresh database).

* ``connect(name, tmp_path, request)`` yields an Ibis connection on a fresh, empty
  namespace of one engine and drops it afterwards. PostgreSQL and MariaDB come from the
  ``pg_admin`` / ``mariadb_server`` fixtures of ``tests/conftest.py`` (skipped without a
  server, failed in CI).
* ``Engine`` wraps one such connection; ``load(**columns)`` creates a uniquely named table
  from Python lists or Arrow arrays and returns it as an Ibis table.
* ``engine_fixture(*names)`` makes an ``engine`` fixture parametrised over those engines.
  ``engine`` (re-exported by ``tests/conftest.py``, so every test module can ask for it)
  runs on DuckDB, SQLite and PostgreSQL; a module that also covers MariaDB declares
  ``engine = engine_fixture(*ENGINES)``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import os
import uuid
import warnings
from collections.abc import Iterator
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pytest

PG_HOST = os.environ.get("ASSAY_TEST_PG_HOST", "127.0.0.1")
#: Every engine of the parity matrix.
ENGINES = ("duckdb", "sqlite", "postgres", "mariadb")
#: Spark (the test session's local session, ``spark_session`` fixture): the parity
#: matrix's fifth engine.
SPARK = "spark"
#: The engines of the default ``engine`` fixture.
DEFAULT_ENGINES = ("duckdb", "sqlite", "postgres")
UTC = dt.UTC


def connect(engine: str, tmp_path, request) -> Iterator[Any]:
    """Yield an Ibis connection on a fresh, empty namespace of ``engine``; drop it after.

    PostgreSQL and MariaDB come from the ``pg_admin`` / ``mariadb_server`` fixtures
    (skipped without a server, failed in CI)."""
    if engine == "duckdb":
        con = ibis.duckdb.connect()
        yield con
        con.disconnect()
    elif engine == "sqlite":
        con = ibis.sqlite.connect(str(tmp_path / f"parity_{uuid.uuid4().hex[:8]}.sqlite"))
        yield con
        con.disconnect()
    elif engine == SPARK:
        from assay.sources.spark import connect_ibis

        # a session of its own (own temporary views) on the test session's Spark
        session = request.getfixturevalue("spark_session").newSession()
        yield connect_ibis(session)
    elif engine == "postgres":
        from sqlalchemy import text

        admin = request.getfixturevalue("pg_admin")
        schema = f"assay_parity_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        con = None
        try:
            con = ibis.postgres.connect(
                host=PG_HOST, user="postgres", database="test", options=f"-c search_path={schema}"
            )
            yield con
        finally:
            if con is not None:
                con.disconnect()
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    else:
        import assay.sources.sql  # noqa: F401  (PyMySQL stands in for MySQLdb)

        assay.sources.sql._mysql_driver()
        server = request.getfixturevalue("mariadb_server")
        db = f"assay_parity_{uuid.uuid4().hex[:12]}"
        admin = server(None)
        with admin.cursor() as cur:
            # the server's default collation (utf8mb4_general_ci: case-insensitive), as users have
            cur.execute(f"CREATE DATABASE `{db}` CHARACTER SET utf8mb4")
        con = None
        try:
            with warnings.catch_warnings():
                # Ibis asks for the named zone 'UTC' (no time-zone tables here): set as +00:00 below
                warnings.filterwarnings("ignore", "Unable to set session timezone to UTC", UserWarning)
                con = ibis.mysql.connect(host=PG_HOST, port=3306, user="root", password="", database=db)
            with con.con.cursor() as cur:
                cur.execute("SET time_zone = '+00:00'")
            yield con
        finally:
            if con is not None:
                con.disconnect()
            with admin.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS `{db}`")
            admin.close()


class Engine:
    """One live backend. ``load(**columns)`` creates a uniquely named table and returns
    it as an Ibis table; a column is a list (type inferred by pyarrow) or a pa.Array."""

    def __init__(self, name: str, con: Any):
        self.name = name
        self.con = con
        self._n = itertools.count(1)

    def load(self, **columns: Any) -> ir.Table:
        arrays = {k: v if isinstance(v, (pa.Array, pa.ChunkedArray)) else pa.array(v) for k, v in columns.items()}
        data = pa.table(arrays)
        name = f"t{next(self._n)}_{uuid.uuid4().hex[:8]}"
        if self.name == "sqlite" and any(pa.types.is_temporal(f.type) for f in data.schema):
            # Ibis' SQLite loader goes through pandas and cannot bind NaT (a NULL
            # timestamp), so create the table with Ibis and insert the rows ourselves,
            # writing dates/timestamps as ISO 8601 text exactly as Ibis itself does.
            table = self.con.create_table(name, schema=ibis.Schema.from_pyarrow(data.schema))
            cols = ", ".join(f'"{c}"' for c in data.column_names)
            marks = ", ".join("?" for _ in data.column_names)
            rows = [tuple(_sqlite_value(v) for v in row.values()) for row in data.to_pylist()]
            self.con.con.executemany(f'INSERT INTO "{name}" ({cols}) VALUES ({marks})', rows)
            self.con.con.commit()
            return table
        if self.name == "mariadb":
            # Ibis' MySQL loader goes through pandas and cannot bind a NULL string (NaN), so
            # create the table with Ibis and insert the rows with bound parameters: aware
            # timestamps as their UTC wall time (as a MariaDB TIMESTAMP stores them), NaN as
            # NULL (MariaDB cannot store NaN).
            table = self.con.create_table(name, schema=ibis.Schema.from_pyarrow(data.schema))
            rows = [tuple(_maria_value(v) for v in row.values()) for row in data.to_pylist()]
            cols = ", ".join(f"`{c}`" for c in data.column_names)
            marks = ", ".join("%s" for _ in data.column_names)
            with self.con.con.cursor() as cur:
                cur.executemany(f"INSERT INTO `{name}` ({cols}) VALUES ({marks})", rows)
            self.con.con.commit()
            return table
        return self.con.create_table(name, data)

    @property
    def has_nan(self) -> bool:
        """SQLite and MariaDB have no NaN: SQLite stores a NaN REAL as NULL, MariaDB refuses it."""
        return self.name not in ("sqlite", "mariadb")


def _sqlite_value(v: Any) -> Any:
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def _maria_value(v: Any) -> Any:
    if isinstance(v, dt.datetime) and v.tzinfo is not None:
        return v.astimezone(UTC).replace(tzinfo=None)
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def open_engine(name: str, request, tmp_path) -> Iterator[Engine]:
    """Yield an ``Engine`` on a fresh namespace of ``name``; dropped afterwards."""
    for con in connect(name, tmp_path, request):
        yield Engine(name, con)


def engine_fixture(*names: str, fixture_name: str = "engine"):
    """A function-scoped fixture (named ``fixture_name``) giving one ``Engine`` per name."""

    @pytest.fixture(params=names, name=fixture_name)
    def _engine(request, tmp_path):
        yield from open_engine(request.param, request, tmp_path)

    return _engine


engine = engine_fixture(*DEFAULT_ENGINES)


def nan_array(values: list[float | None]) -> pa.Array:
    """A float64 array where ``float('nan')`` stays NaN (not NULL) and None is NULL."""
    return pa.array(values, type=pa.float64(), from_pandas=False)
