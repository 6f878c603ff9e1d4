"""Full scan vs incremental scan of a growing table, through the real scan operation.

Builds a DuckDB table of N rows (default 10,000,000; ``--rows``) with an ``updated_at``
timestamp, syncs it (sync proposes ``updated_at`` as the incremental identifier), adds
10 quality checks, then times, through ``POST /api/operations/run`` on an in-process
server:

1. a **full** scan (every row; it also sets the checkpoint);
2. ``--new`` percent new rows (default 1 %) appended with later timestamps;
3. an **incremental** scan, which reads only the new rows.

With ``--scans N`` steps 2 and 3 repeat N times (default 1), as a table that grows every
day does: the open anomalies of earlier scans accumulate, and each incremental scan's
server time is printed, then their median.

It prints both times (from the request to the operation's end as a client sees it, and
the operation's own ``start_time`` → ``end_time`` on the server, which leaves out the
request and the client's 50 ms polling), their ratios, and the records each scan
processed. Run with
``make bench`` or ``.venv/bin/python bench/incremental_bench.py --rows 1000000``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import duckdb
from fastapi.testclient import TestClient

from assay.api.app import create_app
from assay.config import Settings
from assay.security import issue_token

CHECKS = [
    ("notNull", ["amount"], {}),
    ("notNegative", ["amount"], {}),
    ("between", ["qty"], {"min": 1, "max": 90}),
    ("expectedValues", ["status"], {"list": ["open", "paid", "shipped"]}),
    ("matchesPattern", ["code"], {"pattern": "^[A-Z]{2}-[0-9]+$"}),
    ("minLength", ["code"], {"value": 4}),
    ("maxLength", ["code"], {"value": 9}),
    ("greaterThanField", ["shipped"], {"field_name": "updated_at", "inclusive": True}),
    ("satisfiesExpression", [], {"expression": "qty * amount < 100000"}),
    ("notFuture", ["updated_at"], {}),
]


def rows_sql(start: int, count: int) -> str:
    """``count`` synthetic rows from id ``start``; ``updated_at`` grows with the id (one per second)."""
    return f"""
        SELECT i AS id,
               CASE WHEN i % 97 = 0 THEN NULL ELSE (i % 1000) - 3 + 0.5 END AS amount,
               (i % 100) AS qty,
               ['open', 'paid', 'shipped', 'lost'][1 + (i % 4)] AS status,
               CASE WHEN i % 50 = 0 THEN 'bad' ELSE 'AB-' || (i % 100000)::VARCHAR END AS code,
               TIMESTAMP '2020-01-01' + to_seconds(i) AS updated_at,
               TIMESTAMP '2020-01-01' + to_seconds(i + (i % 7) - 1) AS shipped
        FROM range({start}, {start + count}) t(i)
    """


def run(client: TestClient, payload: dict) -> tuple[float, dict]:
    start = time.perf_counter()
    op = client.post("/api/operations/run", json=payload).json()
    while True:
        body = client.get(f"/api/operations/{op['id']}").json()
        if body["end_time"]:
            return time.perf_counter() - start, body
        time.sleep(0.05)


def server_seconds(op: dict) -> float:
    """The operation's own duration on the server: ``end_time - start_time``."""
    return (dt.datetime.fromisoformat(op["end_time"]) - dt.datetime.fromisoformat(op["start_time"])).total_seconds()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--new", type=float, default=1.0, help="percent of new rows before the incremental scan")
    parser.add_argument("--scans", type=int, default=1, help="incremental scans, each after its own new rows")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.duckdb"
        start = time.perf_counter()
        con = duckdb.connect(str(path))
        con.execute(f"CREATE TABLE events AS {rows_sql(0, args.rows)}")
        con.close()
        print(f"built {args.rows:,} rows in {time.perf_counter() - start:.1f}s")

        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        settings = Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'assay.db'}", workers=1)
        app = create_app(settings)
        with TestClient(app) as client:
            with app.state.database.session() as session:
                _row, token = issue_token(session, settings.secret_key, name="bench")
            client.headers["Authorization"] = f"Bearer {token}"
            ds = client.post(
                "/api/datastores",
                json={"name": "bench", "connection": {"type": "duckdb"}, "database": str(path), "schema": "main"},
            ).json()
            _, sync = run(client, {"type": "sync", "datastore_id": ds["id"]})
            assert sync["result"] == "success", sync
            (container,) = client.get("/api/containers/listing", params={"datastore": ds["id"]}).json()
            for rule, fields, properties in CHECKS:
                r = client.post(
                    "/api/quality-checks",
                    json={"container_id": container["id"], "rule": rule, "fields": fields, "properties": properties},
                )
                assert r.status_code < 300, r.text

            full_s, full = run(client, {"type": "scan", "datastore_id": ds["id"], "incremental": False})
            new = int(args.rows * args.new / 100)
            incremental: list[tuple[float, dict]] = []
            for k in range(args.scans):
                con = duckdb.connect(str(path))
                con.execute(f"INSERT INTO events {rows_sql(args.rows + k * new, new)}")
                con.close()
                incremental.append(run(client, {"type": "scan", "datastore_id": ds["id"], "incremental": True}))
            inc_s, inc = incremental[0]

    for op in (full, *(op for _s, op in incremental)):
        assert op["result"] == "success", op
    print(
        f"full scan:        {full_s:7.3f}s (server {server_seconds(full):7.3f}s)  "
        f"records {full['status']['records_processed']:>11,}  partitions {full['status']['partitions_scanned']:,}"
    )
    print(
        f"incremental scan: {inc_s:7.3f}s (server {server_seconds(inc):7.3f}s)  "
        f"records {inc['status']['records_processed']:>11,}  partitions {inc['status']['partitions_scanned']:,}  "
        f"({args.new:g}% new rows)"
    )
    print(f"ratio incremental / full: {inc_s / full_s:.3f} (server {server_seconds(inc) / server_seconds(full):.3f})")
    if args.scans > 1:
        import statistics

        each = [server_seconds(op) for _s, op in incremental]
        print(f"{args.scans} incremental scans (server): " + ", ".join(f"{t:.3f}" for t in each))
        print(
            f"median {statistics.median(each):.3f}s, ratio to the full scan {statistics.median(each) / server_seconds(full):.3f}"
        )


if __name__ == "__main__":
    main()
