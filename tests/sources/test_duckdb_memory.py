"""The memory budget of DuckDB datastores (``ASSAY_DUCKDB_MEMORY_LIMIT``, default 1GB per
connection): queries spill within it, and a query that cannot run within it is run again
without it instead of failing."""

from __future__ import annotations

import logging

import pytest

from assay.sources.base import SourceError
from assay.sources.duckdb import DuckDBSource, connect_duckdb

#: Needs more than 10 MB: five exact distinct counts over 300,000 values (they do not spill;
#: 0.4 s without a budget, where 3 M values took 2.5 s for the same proof).
HUNGRY = "SELECT " + ", ".join(f"count(DISTINCT i * {k})" for k in range(1, 6)) + " FROM range(300000) t(i)"


def _limit(con) -> str:
    return con.con.execute("SELECT current_setting('memory_limit')").fetchone()[0]


def test_every_duckdb_datastore_connection_gets_the_budget(make_duckdb, monkeypatch):
    monkeypatch.delenv("ASSAY_DUCKDB_MEMORY_LIMIT", raising=False)
    source = DuckDBSource(str(make_duckdb("CREATE TABLE t AS SELECT 1 AS a")))
    try:
        assert (source.con.memory_budget, _limit(source.con)) == ("1GB", "953.6 MiB")
    finally:
        source.close()
    monkeypatch.setenv("ASSAY_DUCKDB_MEMORY_LIMIT", "none")
    con = connect_duckdb()
    assert con.memory_budget is None and _limit(con) != "953.6 MiB"


def test_a_query_that_needs_more_than_the_budget_runs_again_without_it(monkeypatch):
    monkeypatch.setenv("ASSAY_DUCKDB_MEMORY_LIMIT", "10MB")
    con = connect_duckdb()
    assert (con.memory_budget, _limit(con)) == ("10MB", "9.5 MiB")
    with pytest.raises(Exception, match="Out of Memory Error"):  # the budget is real
        con.con.execute(HUNGRY).fetchall()
    table = con.sql(HUNGRY).to_pyarrow()
    assert table.to_pylist()[0] == dict.fromkeys(table.column_names, 300_000)
    # the connection keeps DuckDB's own limit from then on, in its buffer manager too
    assert con.memory_budget is None and _limit(con) != "9.5 MiB"
    assert con.con.execute(HUNGRY).fetchone() == (300_000,) * 5


def test_streamed_reads_run_without_the_budget(monkeypatch, caplog):
    monkeypatch.setenv("ASSAY_DUCKDB_MEMORY_LIMIT", "10MB")
    con = connect_duckdb()
    with caplog.at_level(logging.INFO, logger="assay.sources.duckdb"):
        rows = [row for batch in con.sql(HUNGRY).to_pyarrow_batches() for row in batch.to_pylist()]
    assert [list(row.values()) for row in rows] == [[300_000] * 5]
    assert con.memory_budget is None
    # lifted before the stream starts, not after running out of it (a stream half read
    # cannot start again)
    assert not [r for r in caplog.records if "run again without the budget" in r.getMessage()]


def test_a_budget_that_is_not_a_memory_size_is_named_in_the_error(make_duckdb, monkeypatch):
    monkeypatch.setenv("ASSAY_DUCKDB_MEMORY_LIMIT", "lots")
    with pytest.raises(ValueError, match=r"^ASSAY_DUCKDB_MEMORY_LIMIT='lots' is not a DuckDB memory size"):
        connect_duckdb()
    with pytest.raises(SourceError, match=r"cannot open DuckDB database .*ASSAY_DUCKDB_MEMORY_LIMIT='lots'"):
        DuckDBSource(str(make_duckdb("CREATE TABLE t AS SELECT 1 AS a")))


def test_a_table_whose_fill_ran_out_of_the_budget_is_made_again(monkeypatch):
    """Ibis creates a table, then fills it: the second attempt replaces the empty table the
    first one left (before: "Table with name … already exists")."""
    monkeypatch.setenv("ASSAY_DUCKDB_MEMORY_LIMIT", "10MB")
    con = connect_duckdb()
    made = con.create_table("hungry", con.sql(HUNGRY), temp=True)
    assert made.to_pyarrow().to_pylist()[0] == dict.fromkeys(made.columns, 300_000)
    assert con.memory_budget is None
