"""The ``engine`` fixture shared by the engine test files: one real Ibis backend per
parameter (DuckDB in memory, SQLite in a temp file, PostgreSQL in a fresh schema).

``tests/conftest.py`` re-exports the ``engine`` fixture, so any test module can ask for it.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import os
import uuid
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pytest

PG_HOST = os.environ.get("ASSAY_TEST_PG_HOST", "127.0.0.1")
ENGINES = ["duckdb", "sqlite", "postgres"]


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
        return self.con.create_table(name, data)

    @property
    def has_nan(self) -> bool:
        """SQLite has no NaN: it stores a NaN REAL as NULL."""
        return self.name != "sqlite"


def _sqlite_value(v: Any) -> Any:
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


@pytest.fixture(params=ENGINES)
def engine(request, tmp_path):
    if request.param == "duckdb":
        con = ibis.duckdb.connect()
        yield Engine("duckdb", con)
        con.disconnect()
    elif request.param == "sqlite":
        con = ibis.sqlite.connect(str(tmp_path / "engine.sqlite"))
        yield Engine("sqlite", con)
        con.disconnect()
    else:
        from sqlalchemy import text

        admin = request.getfixturevalue("pg_admin")  # skips (or fails in CI) without a server
        schema = f"assay_engine_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        con = None
        try:
            con = ibis.postgres.connect(
                host=PG_HOST, user="postgres", database="test", options=f"-c search_path={schema}"
            )
            yield Engine("postgres", con)
        finally:
            if con is not None:
                con.disconnect()
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


def nan_array(values: list[float | None]) -> pa.Array:
    """A float64 array where ``float('nan')`` stays NaN (not NULL) and None is NULL."""
    return pa.array(values, type=pa.float64(), from_pandas=False)
