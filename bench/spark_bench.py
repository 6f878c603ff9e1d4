"""The scan benchmark on Spark ``local[2]``, next to DuckDB at the same scale.

Builds the synthetic ``orders`` table of ``scan_bench.py`` (N rows, ``--rows``), writes
it to one Parquet file, and times (best of ``--repeat`` runs):

* **duckdb fused**: ``engine.plan.evaluate`` of the 10 checks on the DuckDB table (no
  example rows): the scan's one fused aggregate on DuckDB;
* **spark fused**: the same evaluation on Spark, the Parquet file read through Assay's
  Spark datastore (``sources.spark.SparkSource``, a folder of files);
* **spark with examples**: plus the bounded example-row queries of the failing checks;
* **spark hand**: one hand-written Spark SQL single-pass aggregate (``count_if``) computing
  the same 11 counts on the same session and file;

and prints the ratio spark fused / spark hand (goal ≤ 1.5) and whether all counts agree.
Spark's first query in a session pays for code generation: one warm-up run is not timed.

Run on a quiet machine: ``.venv/bin/python bench/spark_bench.py --rows 10000000``
(needs the ``assay[spark]`` extra and Java 17).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import duckdb
import ibis

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scan_bench import CHECKS, best, build  # noqa: E402

from assay.engine.plan import evaluate  # noqa: E402
from assay.sources.spark import SparkSource, classic_session  # noqa: E402

HAND = """
SELECT count(*),
  count_if(amount IS NULL),
  count_if(amount < 0),
  count_if(qty IS NOT NULL AND NOT (qty >= 1 AND qty <= 90)),
  count_if(status IS NOT NULL AND status NOT IN ('open', 'paid', 'shipped')),
  count_if(code IS NOT NULL AND NOT code RLIKE '^[A-Z]{{2}}-[0-9]+$'),
  count_if(char_length(code) < 4),
  count_if(char_length(code) > 9),
  count_if(shipped IS NOT NULL AND placed IS NOT NULL AND NOT shipped >= placed),
  count_if(NOT (qty * amount < 100000)),
  count_if(placed > localtimestamp())
FROM {view}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--master", default="local[2]")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.duckdb"
        folder = Path(tmp) / "files"
        folder.mkdir()
        start = time.perf_counter()
        build(path, args.rows)
        con = duckdb.connect(str(path))
        con.execute(f"COPY orders TO '{folder / 'orders.parquet'}' (FORMAT parquet)")
        con.close()
        print(f"built {args.rows:,} rows (DuckDB table and one Parquet file) in {time.perf_counter() - start:.1f}s")

        duck = ibis.duckdb.connect(str(path), read_only=True)
        table = duck.table("orders")
        duck_s, duck_result = best(lambda: evaluate(table, CHECKS, example_limit=0), args.repeat)
        duck.disconnect()

        start = time.perf_counter()
        classic_session(args.master, {"spark.ui.enabled": "false", "spark.sql.shuffle.partitions": "4"})
        print(f"Spark {args.master} started in {time.perf_counter() - start:.1f}s")
        source = SparkSource({"master": args.master, "uri": folder.as_uri(), "tables": False})
        container = SimpleNamespace(name="orders", container_type="file", file_format="parquet", location=None)
        spark_table = source.table(container)
        evaluate(spark_table, CHECKS, example_limit=0)  # warm-up: code generation, file listing
        spark_s, spark_result = best(lambda: evaluate(spark_table, CHECKS, example_limit=0), args.repeat)
        examples_s, _ = best(lambda: evaluate(spark_table, CHECKS, example_limit=20), args.repeat)
        hand_sql = HAND.format(view=spark_table.get_name())
        source.session.sql(hand_sql).collect()  # warm-up
        hand_s, hand = best(lambda: list(source.session.sql(hand_sql).collect()[0]), args.repeat)
        source.close()

    duck_counts = [duck_result.records] + [o.failed for o in duck_result.outcomes]
    spark_counts = [spark_result.records] + [o.failed for o in spark_result.outcomes]
    print(f"duckdb fused aggregate:               {duck_s:.3f}s")
    print(f"spark fused aggregate:                {spark_s:.3f}s")
    print(f"spark fused + examples:               {examples_s:.3f}s")
    print(f"spark hand-written single pass:       {hand_s:.3f}s")
    print(
        f"ratio spark fused / spark hand: {spark_s / hand_s:.2f} (goal <= 1.5); spark / duckdb: {spark_s / duck_s:.2f}"
    )
    agree = duck_counts == spark_counts == [int(v) for v in hand]
    print(f"counts agree (duckdb, spark, hand): {agree}  {spark_counts}")
    if not agree:
        print(f"duckdb: {duck_counts}\nhand:   {list(hand)}")


if __name__ == "__main__":
    main()
