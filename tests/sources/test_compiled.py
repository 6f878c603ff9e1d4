"""The process' cache of compiled SQL (``assay.sources.compiled``): an expression equal to
one compiled before reuses its SQL; anything that changes the query changes the key."""

from __future__ import annotations

import ibis
import pyarrow as pa

from assay.sources.compiled import compiled_sql, literal_values
from assay.sources.duckdb import DuckDBSource
from assay.sources.sql import TimedSQLite


def _counts() -> tuple[int, int]:
    return compiled_sql.hits, compiled_sql.misses


def _since(before: tuple[int, int]) -> tuple[int, int]:
    return compiled_sql.hits - before[0], compiled_sql.misses - before[1]


def _failing(t, bound: int):
    return t.filter(t.v > bound).order_by("id").select("id", "v")


def test_an_equal_query_on_another_connection_reuses_the_sql(make_duckdb):
    path = make_duckdb("CREATE TABLE t AS SELECT i AS id, i * 10 AS v FROM range(1, 6) r(i)")
    first, second = DuckDBSource(str(path)), DuckDBSource(str(path))
    try:
        t1, t2 = first.con.table("t"), second.con.table("t")
        before = _counts()
        rows = _failing(t1, 20).to_pyarrow().to_pylist()
        assert _since(before) == (0, 1)
        op = _failing(t1, 20).op()
        sql = compiled_sql.get((type(first.con.compiler), op, literal_values(op), None, False))
        assert sql is not None and '"t0"."v" > 20' in sql
        before = _counts()
        assert (
            _failing(t2, 20).to_pyarrow().to_pylist()
            == rows
            == [{"id": 3, "v": 30}, {"id": 4, "v": 40}, {"id": 5, "v": 50}]
        )
        assert _since(before) == (1, 0)
        # another literal is another query, compiled anew, with its own answer
        before = _counts()
        assert _failing(t2, 40).to_pyarrow().to_pylist() == [{"id": 5, "v": 50}]
        assert _since(before) == (0, 1)
    finally:
        first.close()
        second.close()


def test_a_changed_column_type_compiles_anew(make_duckdb):
    """The table's schema is part of the key: the same query over a column whose type
    changed is compiled again (its SQL would differ: here the literal's cast)."""
    int_path = make_duckdb("CREATE TABLE t AS SELECT 1 AS id, 5 AS v", name="int.duckdb")
    text_path = make_duckdb("CREATE TABLE t AS SELECT 1 AS id, 'x' AS v", name="text.duckdb")
    a, b = DuckDBSource(str(int_path)), DuckDBSource(str(text_path))
    try:
        ta, tb = a.con.table("t"), b.con.table("t")
        before = _counts()
        assert ta.filter(ta.v.notnull()).count().to_pyarrow().as_py() == 1
        assert tb.filter(tb.v.notnull()).count().to_pyarrow().as_py() == 1
        assert _since(before) == (0, 2)
    finally:
        a.close()
        b.close()


def test_queries_over_memtables_and_with_parameters_are_not_kept():
    con = TimedSQLite().connect(":memory:")
    rows = ibis.memtable(pa.table({"id": [1, 2, 3]}))
    size = len(compiled_sql)
    assert con.to_pyarrow(rows.filter(rows.id > 1).count()).as_py() == 2
    assert len(compiled_sql) == size  # a memtable's rows are not held by the cache
    bound = ibis.param("int64")
    t = con.create_table("t", pa.table({"id": [1, 2, 3]}))
    before = _counts()
    assert con.execute(t.filter(t.id > bound).count(), params={bound: 2}) == 1
    assert con.execute(t.filter(t.id > bound).count(), params={bound: 0}) == 3
    assert _since(before) == (0, 0) and len(compiled_sql) == size


def test_the_cache_keeps_the_most_recent_queries_within_its_bounds():
    from assay.sources.compiled import _LRU

    lru = _LRU(size=3, chars=10)
    for key, sql in (("a", "1234"), ("b", "12"), ("c", "123")):
        lru.put(key, sql)
    assert lru.get("a") == "1234"  # now the most recent
    lru.put("d", "12")  # 11 characters: "b", the least recently used, goes
    assert [lru.get(k) for k in "abcd"] == ["1234", None, "123", "12"]
    lru.put("e", "1")  # 4 entries: "a" goes
    assert [lru.get(k) for k in "acde"] == [None, "123", "12", "1"]
    lru.put("f", "12345678901")  # longer than the whole budget: not kept, nothing dropped
    assert (lru.get("f"), len(lru)) == (None, 3)
    assert (lru.hits, lru.misses) == (7, 3)


def test_an_edited_timestamp_literal_is_a_new_query(api, make_duckdb):
    """``12:00+05:00`` and ``07:00+00:00`` are equal Python datetimes, but Assay compares a
    TIMESTAMP column with a literal's wall clock (12:00, then 07:00): after the edit, the
    scan runs the new literal (found by helper-52: the cache returned the old SQL)."""
    path = make_duckdb(
        "CREATE TABLE t AS SELECT * FROM (VALUES (1, TIMESTAMP '2024-01-01 03:00'), "
        "(2, TIMESTAMP '2024-01-01 07:00'), (3, TIMESTAMP '2024-01-01 12:00')) v(id, ts)"
    )
    ds = api.duckdb_datastore("src", path)
    api.sync(ds["id"])
    check = api.check(
        api.container_id(ds["id"], "t"),
        "satisfiesExpression",
        properties={"expression": "ts >= CAST('2024-01-01 12:00:00+05:00' AS DATETIME)"},
    )
    assert api.scan(ds["id"])["status"]["anomalies_identified"] == 2  # ids 1 and 2
    api.ok(
        "PUT",
        f"/api/quality-checks/{check['id']}",
        json={**check, "properties": {"expression": "ts >= CAST('2024-01-01 07:00:00+00:00' AS DATETIME)"}},
    )
    op = api.scan(ds["id"])
    assert op["status"]["anomalies_identified"] == 1
    (anomaly,) = [a for a in api.anomalies(datastore=ds["id"]) if a["status"] == "Active"]
    assert [r["id"] for r in anomaly["source_records"]] == [1]


def test_signed_zeros_are_different_queries():
    t = ibis.table({"f": "float64"}, name="t")
    con = TimedSQLite().connect(":memory:")
    a, b = t.filter(t.f >= 0.0), t.filter(t.f >= -0.0)
    assert a.op() == b.op()  # equal to Ibis (and Python), not in the SQL they compile to
    assert (con.compile(a).split("WHERE")[1], con.compile(b).split("WHERE")[1]) == (
        ' "t0"."f" >= 0.0',
        ' "t0"."f" >= -0.0',
    )
