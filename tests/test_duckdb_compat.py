"""The DuckDB 2 compatibility layer (assay/duckdb_compat.py) exists only while the installed
Ibis calls the DuckDB connection methods DuckDB 2 removed: this test fails as soon as it no
longer does, so the layer is deleted then."""

from __future__ import annotations

import inspect

import duckdb
import ibis
import ibis.backends.duckdb as ibis_duckdb

from assay import duckdb_compat


def test_ibis_still_calls_the_methods_duckdb_2_removed():
    source = inspect.getsource(ibis_duckdb)
    assert ".fetch_arrow_table()" in source and ".fetch_record_batch(" in source, (
        f"ibis {ibis.__version__} no longer calls fetch_arrow_table / fetch_record_batch: "
        "delete assay/duckdb_compat.py and lift the duckdb<2 pin"
    )


def test_the_aliases_answer_like_the_methods_they_stand_for():
    con = duckdb.connect()
    try:
        assert con.execute("SELECT 41 + 1 AS x").fetch_arrow_table().to_pylist() == [{"x": 42}]
        reader = con.execute("SELECT * FROM range(5) t(i)").fetch_record_batch(rows_per_batch=2)
        assert [row["i"] for batch in reader for row in batch.to_pylist()] == [0, 1, 2, 3, 4]
    finally:
        con.close()
    # installed once at import (a no-op on DuckDB 1.x, which has the methods itself)
    assert duckdb_compat.install() is False
