"""How a scan's queries run on PostgreSQL: the plans the server chose, read from the
server's own ``auto_explain`` output on a real table.

A result read whole goes through an ordinary cursor, so the fused aggregate may run with a
parallel plan (a server-side cursor, which Ibis uses for every read, never does); its counts
are ``count(*) FILTER (WHERE …)``; a ``unique`` check's failing row count and its example
rows (a semi-join against a ``GROUP BY`` of the table) come from one query, whose ``GROUP BY``
runs once (Assay's read-only sessions cannot keep the groups in a temporary table).
"""

from __future__ import annotations

import re
import uuid
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, text

from assay.engine.plan import evaluate
from assay.engine.rules import CheckSpec
from assay.sources import open_source

ROWS = 20_000


@pytest.fixture
def pg_rows(pg_admin):
    """A fresh database with ``t(id, v)``: ``ROWS`` rows, ``v`` NULL on every 1000th, ids
    1 and 2 duplicated (4 rows in duplicated groups)."""
    name = f"assay_plan_{uuid.uuid4().hex[:10]}"
    with pg_admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("CREATE TABLE t (id integer, v text)"))
        conn.execute(
            text(
                "INSERT INTO t SELECT i, CASE WHEN i % 1000 = 0 THEN NULL ELSE 'x' || i END "
                f"FROM generate_series(1, {ROWS}) AS i"
            )
        )
        conn.execute(text("INSERT INTO t VALUES (1, 'again'), (2, 'again')"))
        conn.execute(text("ANALYZE t"))
    engine.dispose()
    yield name
    with pg_admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_postgres_fused_query_runs_with_a_parallel_plan_and_counts_with_filter(pg_rows):
    source_ds = SimpleNamespace(
        type="postgresql", connection={"host": "127.0.0.1", "username": "postgres"}, database=pg_rows, schema=None
    )
    with open_source(source_ds) as source:
        raw = source.con.con
        plans: list[str] = []
        raw.add_notice_handler(lambda d: plans.append(d.message_primary or ""))
        with raw.cursor() as cur:
            cur.execute("LOAD 'auto_explain'")
            for setting, value in [
                ("auto_explain.log_min_duration", "0"),
                ("auto_explain.log_verbose", "on"),
                ("client_min_messages", "log"),
                # a parallel plan whatever the table's size, when the query may have one
                ("max_parallel_workers_per_gather", "2"),
                ("parallel_setup_cost", "0"),
                ("parallel_tuple_cost", "0"),
                ("min_parallel_table_scan_size", "0"),
            ]:
                cur.execute("SELECT set_config(%s, %s, false)", (setting, value))
        raw.commit()
        t = source.con.table("t", database="public")
        result = evaluate(
            t,
            [CheckSpec(id=1, rule_type="notNull", fields=["v"]), CheckSpec(id=2, rule_type="unique", fields=["id"])],
            example_limit=2,
        )

    assert result.records == ROWS + 2
    not_null, unique = result.outcomes
    assert (not_null.result, not_null.failed) == ("failed", ROWS // 1000)
    assert [r["id"] for r in not_null.examples] == [1000, 2000]
    assert (unique.result, unique.failed) == ("failed", 4)
    assert [(r["id"], r["v"]) for r in unique.examples] == [(1, "again"), (1, "x1")]

    def plan_of(marker: str) -> str:
        """The one logged plan whose query text holds ``marker`` (query text and plan)."""
        (found,) = [p for p in plans if marker in p]
        return found

    fused = plan_of('"__assay_c0_failed"')
    # the fused aggregate ran with a parallel plan (no server-side cursor) …
    assert "Partial Aggregate" in fused and "Workers Planned: 2" in fused
    # … counting with FILTER, not sum(cast(cast(pred AS INT) AS BIGINT))
    assert "PARTIAL count(*) FILTER (WHERE (t0.v IS NULL))" in fused
    assert "sum(" not in fused.split("InitPlan", 1)[0]
    # unique is not in it: its count and its example rows (a semi-join against its GROUP BY)
    # come from one query, which computes the GROUP BY once, as a common table expression
    assert fused.count("Seq Scan on public.t ") == 1
    counted = plan_of('"__assay_failed"')
    assert [p for p in plans if "GROUP BY" in p] == [counted]
    assert len(re.findall(r"^\s*CTE \w+$", counted, re.MULTILINE)) == 1
    assert counted.count("Seq Scan on public.t ") == 2  # the groups, then the rows in them
