"""``unique`` as an aggregate (issue 15): one GROUP BY … HAVING count(*) > 1 gives the
count, the example rows come from the same groups. Where the engine caches them in a
temporary table (DuckDB) the table is gone once the evaluation ends; on PostgreSQL, whose
sessions are read-only, one query gives the count and the example rows; where a temporary
table cannot be made otherwise, each query computes the groups itself."""

from __future__ import annotations

import logging

import ibis
import sqlalchemy as sa

from assay.engine.dialects import PostgresDialect
from assay.engine.plan import evaluate
from assay.engine.rules import CheckSpec
from tests.conftest import PG_HOST

ROWS = {
    "k": [3, 1, 1, 2, 3, 3, None, None, 4],
    "v": ["c", "b", "a", "x", "a", "b", "n", "n", "f"],
}
# the rows of k 1 and 3 (k NULL is ignored), in the examples' order (k, then v)
DUPLICATES = [(1, "a"), (1, "b"), (3, "a"), (3, "b"), (3, "c")]


def _check(t, filter=None, limit=10, on_query=None):
    checks = [CheckSpec(1, "unique", ["k"], filter=filter), CheckSpec(2, "notNull", ["k"])]
    return evaluate(t, checks, example_limit=limit, on_query=on_query)


def _read_only_postgres(url: str, create: str, insert: tuple[str, list[dict] | None]):
    """Ibis on PostgreSQL database ``url`` after running ``create`` and ``insert`` (SQL, its
    parameters) there, in a read-only session as Assay opens them: no temporary table."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(create))
        conn.execute(sa.text(insert[0]), insert[1])
    engine.dispose()
    database = url.rsplit("/", 1)[1]
    return ibis.postgres.connect(
        host=PG_HOST, user="postgres", database=database, options="-c default_transaction_read_only=on"
    )


def _cached(con) -> list[str]:
    return [name for name in con.list_tables() if name.startswith("ibis_cache")]


def test_unique_counts_its_groups_and_drops_the_cached_table():
    con = ibis.duckdb.connect()
    t = con.create_table("t", ibis.memtable(ROWS))
    cached_while_fetching_examples = []

    def on_query(label):
        if label == "examples of check 1":
            cached_while_fetching_examples.extend(_cached(con))

    result = _check(t, limit=4, on_query=on_query)
    unique, not_null = result.outcomes
    assert (result.records, unique.result, unique.asserted, unique.failed) == (9, "failed", 9, 5)
    assert [(r["k"], r["v"]) for r in unique.examples] == DUPLICATES[:4]
    assert not_null.failed == 2
    # the groups were computed once into a temporary table, dropped at the end
    assert len(cached_while_fetching_examples) == 1
    assert _cached(con) == []

    filtered = _check(t, filter="v <> 'c'").outcomes[0]
    assert (filtered.asserted, filtered.failed) == (8, 4)
    assert [(r["k"], r["v"]) for r in filtered.examples] == [(1, "a"), (1, "b"), (3, "a"), (3, "b")]


def test_unique_on_a_read_only_postgresql_session_counts_with_its_example_rows(pg_database, caplog, monkeypatch):
    con = _read_only_postgres(
        pg_database,
        "CREATE TABLE t (k INTEGER, v TEXT)",
        ("INSERT INTO t VALUES (:k, :v)", [{"k": k, "v": v} for k, v in zip(*ROWS.values(), strict=True)]),
    )
    try:
        labels: list[str] = []
        unique, not_null = _check(con.table("t"), on_query=labels.append).outcomes
        assert labels == ["aggregate over 2 checks", "count and examples of check 1", "examples of check 2"]
        assert (unique.result, unique.asserted, unique.failed) == ("failed", 9, 5)
        assert [(r["k"], r["v"]) for r in unique.examples] == DUPLICATES
        assert not_null.failed == 2
        filtered = _check(con.table("t"), filter="v <> 'c'", limit=3).outcomes[0]
        assert (filtered.asserted, filtered.failed) == (8, 4)
        assert [(r["k"], r["v"]) for r in filtered.examples] == [(1, "a"), (1, "b"), (3, "a")]
        # no failing group: no example row, and 0 failed
        passing = evaluate(con.table("t"), [CheckSpec(1, "unique", ["v"], filter="k = 3")]).outcomes[0]
        assert (passing.result, passing.asserted, passing.failed, passing.examples) == ("passed", 3, 0, [])
        # without example rows, the fused query counts it
        labels.clear()
        counted = _check(con.table("t"), limit=0, on_query=labels.append).outcomes[0]
        assert (labels, counted.failed, counted.examples) == (["aggregate over 2 checks"], 5, [])

        # an engine meant to cache the groups that cannot: each query computes them itself
        monkeypatch.setattr(PostgresDialect, "caches_relations", True)
        monkeypatch.setattr(PostgresDialect, "shares_common_subqueries", False)
        labels.clear()
        with caplog.at_level(logging.INFO, logger="assay.engine.plan"):
            unique = _check(con.table("t"), on_query=labels.append).outcomes[0]
        assert any("could not cache the groups of check 1" in r.getMessage() for r in caplog.records)
        assert labels == ["aggregate over 2 checks", "examples of check 1", "examples of check 2"]
        assert (unique.result, unique.failed) == ("failed", 5)
        assert [(r["k"], r["v"]) for r in unique.examples] == DUPLICATES
    finally:
        con.disconnect()


def test_unique_on_postgresql_keeps_its_count_when_its_example_rows_cannot_be_read(pg_database):
    """The count and the example rows come from one query; when that query fails (here a
    timestamp PostgreSQL holds as 'infinity', which no reader converts; a statement timeout
    that only the sorted example rows exceed does the same), the count runs on its own and
    the missing example rows are reported on the check."""
    con = _read_only_postgres(
        pg_database,
        "CREATE TABLE t (k INTEGER, at TIMESTAMP)",
        ("INSERT INTO t VALUES (1, 'infinity'), (1, 'infinity'), (2, '2026-12-06'), (3, NULL), (3, NULL)", None),
    )
    try:
        labels: list[str] = []
        checks = [CheckSpec(1, "unique", ["k"]), CheckSpec(2, "notNull", ["at"])]
        unique, not_null = evaluate(con.table("t"), checks, on_query=labels.append).outcomes
        assert labels == [
            "aggregate over 2 checks",
            "count and examples of check 1",
            "count of check 1",
            "examples of check 2",
        ]
        assert (unique.result, unique.asserted, unique.failed, unique.examples) == ("failed", 5, 4, [])
        assert unique.examples_error.startswith("DataError: timestamp too large"), unique.examples_error
        assert (not_null.result, not_null.failed, [r["k"] for r in not_null.examples]) == ("failed", 2, [3, 3])
    finally:
        con.disconnect()
