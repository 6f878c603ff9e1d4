"""Fused scan vs a hand-written query, on the same DuckDB table.

Builds a synthetic table of N rows (default 10,000,000; ``--rows``), then times

* **assay fused**: ``engine.plan.evaluate`` with 10 checks and no example rows (the one
  fused aggregate query alone);
* **assay**: the same plus the bounded example-row queries of the checks that fail;
* **hand**: one hand-written DuckDB aggregate computing the same 10 failing counts.

and prints both (best of ``--repeat`` runs), their ratio and whether the counts agree.
Run with ``make bench`` or ``.venv/bin/python bench/scan_bench.py --rows 1000000``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import duckdb
import ibis

from assay.engine.plan import evaluate
from assay.engine.rules import CheckSpec

CHECKS = [
    CheckSpec(1, "notNull", ["amount"]),
    CheckSpec(2, "notNegative", ["amount"]),
    CheckSpec(3, "between", ["qty"], {"min": 1, "max": 90}),
    CheckSpec(4, "expectedValues", ["status"], {"list": ["open", "paid", "shipped"]}),
    CheckSpec(5, "matchesPattern", ["code"], {"pattern": "^[A-Z]{2}-[0-9]+$"}),
    CheckSpec(6, "minLength", ["code"], {"value": 4}),
    CheckSpec(7, "maxLength", ["code"], {"value": 9}),
    CheckSpec(8, "greaterThanField", ["shipped"], {"field_name": "placed", "inclusive": True}),
    CheckSpec(9, "satisfiesExpression", [], {"expression": "qty * amount < 100000"}),
    CheckSpec(10, "notFuture", ["placed"]),
]

HAND = """
SELECT count(*),
  count(*) FILTER (WHERE amount IS NULL),
  count(*) FILTER (WHERE amount < 0),
  count(*) FILTER (WHERE qty IS NOT NULL AND NOT (qty >= 1 AND qty <= 90)),
  count(*) FILTER (WHERE status IS NOT NULL AND status NOT IN ('open', 'paid', 'shipped')),
  count(*) FILTER (WHERE code IS NOT NULL AND NOT regexp_matches(code, '^[A-Z]{2}-[0-9]+$')),
  count(*) FILTER (WHERE length(code) < 4),
  count(*) FILTER (WHERE length(code) > 9),
  count(*) FILTER (WHERE shipped IS NOT NULL AND placed IS NOT NULL AND NOT shipped >= placed),
  count(*) FILTER (WHERE NOT (qty * amount < 100000)),
  count(*) FILTER (WHERE placed > now()::TIMESTAMP)
FROM orders
"""


def build(path: Path, rows: int) -> None:
    con = duckdb.connect(str(path))
    con.execute(f"""
        CREATE TABLE orders AS
        SELECT i AS id,
               CASE WHEN i % 97 = 0 THEN NULL ELSE (i % 1000) - 3 + 0.5 END AS amount,
               (i % 100) AS qty,
               ['open', 'paid', 'shipped', 'lost'][1 + (i % 4)] AS status,
               CASE WHEN i % 50 = 0 THEN 'bad' ELSE 'AB-' || (i % 100000)::VARCHAR END AS code,
               TIMESTAMP '2024-01-01' + to_seconds(i % 10000000) AS placed,
               TIMESTAMP '2024-01-01' + to_seconds(i % 10000000 + (i % 7) - 1) AS shipped
        FROM range({rows}) t(i)
    """)
    con.close()


def best(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.duckdb"
        start = time.perf_counter()
        build(path, args.rows)
        print(f"built {args.rows:,} rows in {time.perf_counter() - start:.1f}s")

        con = ibis.duckdb.connect(str(path), read_only=True)
        table = con.table("orders")
        fused_s, _ = best(lambda: evaluate(table, CHECKS, example_limit=0), args.repeat)
        assay_s, result = best(lambda: evaluate(table, CHECKS, example_limit=20), args.repeat)
        con.disconnect()

        raw = duckdb.connect(str(path), read_only=True)
        hand_s, hand = best(lambda: raw.execute(HAND).fetchone(), args.repeat)
        raw.close()

    assay_counts = [result.records] + [o.failed for o in result.outcomes]
    print(f"assay fused aggregate alone:                      {fused_s:.3f}s")
    print(f"assay (fused query + examples of failing checks): {assay_s:.3f}s")
    print(f"hand-written aggregate:                           {hand_s:.3f}s")
    print(f"ratio fused / hand: {fused_s / hand_s:.2f}; with examples / hand: {assay_s / hand_s:.2f}")
    print(f"counts agree: {assay_counts == list(hand)}  {assay_counts}")
    if assay_counts != list(hand):
        print(f"hand counts:  {list(hand)}")


if __name__ == "__main__":
    main()
