"""Assay's full scan vs a hand-written single-pass query, on TPC-H ``lineitem``.

The suite of issue 15: 12 quality checks on ``lineitem`` with injected anomalies — two
``notNull``, two ``between``, two ``expectedValues``, ``matchesPattern``, ``maxLength``,
``unique`` on (l_orderkey, l_linenumber), ``satisfiesExpression`` ``l_receiptdate >=
l_shipdate``, ``notNegative`` and a row count (``minPartitionSize``).

1. ``tpchgen-cli`` writes ``lineitem`` at scale factor ``--sf`` as Parquet (cached under
   ``--workdir``); it is loaded into DuckDB (and, with ``--engines postgres``, into a fresh
   PostgreSQL database) and anomalies are injected at row positions drawn with ``--seed``.
2. Contenders, each a whole process, interleaved for ``--rounds`` rounds:

   * **hand**: one hand-written query on the same engine (``count(*) FILTER (...)`` for every
     row check, one ``GROUP BY key HAVING count(*) > 1`` for ``unique``), run by a child
     process of this script (``--hand``);
   * **assay**: a real ``assay serve`` process (DuckDB enrichment datastore linked), one
     ``POST /api/operations/run`` scan with the seed's payload, timed from the request to the
     client seeing the operation's end (polled every ``POLL_SECONDS``) — example rows and
     enrichment included; the operation's own ``end_time - start_time`` is printed beside it.

3. Prints each contender's median, the ratio assay / hand, the server's peak resident memory
   (``VmHWM``) beside the hand query process' own, and checks that every check's failing
   count equals the hand query's.

Run: ``.venv/bin/python bench/tpch_scan_bench.py --sf 1 [--engines duckdb,postgres]``
(``make bench`` runs it at SF 1 on DuckDB). Needs a quiet machine for meaningful numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import httpx

ROOT = Path(__file__).resolve().parents[1]
PG_URL = "postgresql://postgres@127.0.0.1:5432"
#: Seconds between two looks at a running operation (at most this much is added to a scan's time).
POLL_SECONDS = 0.1

# (check name, rule, fields, properties); names key the hand query's columns
CHECKS = [
    ("quantity_not_null", "notNull", ["l_quantity"], {}),
    ("shipdate_not_null", "notNull", ["l_shipdate"], {}),
    ("discount_between", "between", ["l_discount"], {"min": 0, "max": 0.1}),
    ("tax_between", "between", ["l_tax"], {"min": 0, "max": 0.08}),
    ("returnflag_values", "expectedValues", ["l_returnflag"], {"list": ["A", "N", "R"]}),
    ("linestatus_values", "expectedValues", ["l_linestatus"], {"list": ["F", "O"]}),
    ("shipinstruct_pattern", "matchesPattern", ["l_shipinstruct"], {"pattern": "^[A-Z ]+$"}),
    ("comment_max_length", "maxLength", ["l_comment"], {"value": 44}),
    ("line_unique", "unique", ["l_orderkey", "l_linenumber"], {}),
    ("receipt_after_ship", "satisfiesExpression", [], {"expression": "l_receiptdate >= l_shipdate"}),
    ("price_not_negative", "notNegative", ["l_extendedprice"], {}),
    ("row_count", "minPartitionSize", [], {"min_size": 1000}),
]

# the injected anomalies: (what, fraction of rows, SQL SET clause)
INJECT = [
    ("null quantity", 0.0004, "l_quantity = NULL"),
    ("null shipdate", 0.0002, "l_shipdate = NULL"),
    ("discount out of range", 0.0003, "l_discount = 0.5"),
    ("tax out of range", 0.0003, "l_tax = -0.01"),
    ("bad return flag", 0.0002, "l_returnflag = 'X'"),
    ("bad line status", 0.0002, "l_linestatus = 'Z'"),
    ("lower-case instruction", 0.0002, "l_shipinstruct = lower(l_shipinstruct)"),
    ("long comment", 0.0002, "l_comment = l_comment || ' and then some more words'"),
    ("receipt before ship", 0.0003, "l_receiptdate = l_shipdate - 3"),
    ("negative price", 0.0002, "l_extendedprice = -l_extendedprice"),
]
DUPLICATES = 0.0001  # fraction of rows inserted a second time (unique)


def hand_sql(regex_op: str) -> str:
    """The hand-written single pass: every row check's failing count in one aggregate, plus
    the rows of duplicated keys from one GROUP BY; ``regex_op`` is the engine's regex test."""
    inst = (
        "NOT regexp_matches(l_shipinstruct, '^[A-Z ]+$')" if regex_op == "duckdb" else "l_shipinstruct !~ '^[A-Z ]+$'"
    )
    return f"""
    WITH dup AS (
        SELECT count(*) AS n FROM lineitem GROUP BY l_orderkey, l_linenumber HAVING count(*) > 1
    )
    SELECT
      count(*) AS row_count,
      count(*) FILTER (WHERE l_quantity IS NULL) AS quantity_not_null,
      count(*) FILTER (WHERE l_shipdate IS NULL) AS shipdate_not_null,
      count(*) FILTER (WHERE NOT (l_discount >= 0 AND l_discount <= 0.1)) AS discount_between,
      count(*) FILTER (WHERE NOT (l_tax >= 0 AND l_tax <= 0.08)) AS tax_between,
      count(*) FILTER (WHERE l_returnflag NOT IN ('A', 'N', 'R')) AS returnflag_values,
      count(*) FILTER (WHERE l_linestatus NOT IN ('F', 'O')) AS linestatus_values,
      count(*) FILTER (WHERE {inst}) AS shipinstruct_pattern,
      count(*) FILTER (WHERE length(l_comment) > 44) AS comment_max_length,
      (SELECT coalesce(sum(n), 0) FROM dup) AS line_unique,
      count(*) FILTER (WHERE NOT (l_receiptdate >= l_shipdate)) AS receipt_after_ship,
      count(*) FILTER (WHERE l_extendedprice < 0) AS price_not_negative
    FROM lineitem
    """


# -- data ---------------------------------------------------------------------------------


def generate(workdir: Path, sf: float) -> Path:
    """``lineitem.parquet`` at scale factor ``sf`` (generated once, then reused)."""
    out = workdir / f"sf{sf:g}"
    parquet = out / "lineitem.parquet"
    if not parquet.exists():
        out.mkdir(parents=True, exist_ok=True)
        tpchgen = Path(sys.executable).with_name("tpchgen-cli")
        cmd = [str(tpchgen), "parquet", "-s", f"{sf:g}", "--tables", "lineitem", "--output-dir", str(out), "-q"]
        subprocess.run(cmd, check=True)
    return parquet


def build_duckdb(parquet: Path, path: Path, seed: int) -> None:
    """``lineitem`` in a DuckDB file, with the anomalies of ``INJECT`` at seeded row positions."""
    if path.exists():
        path.unlink()
    con = duckdb.connect(str(path))
    try:
        con.execute("CREATE TABLE lineitem AS SELECT * FROM read_parquet(?)", [str(parquet)])
        rows = con.execute("SELECT count(*) FROM lineitem").fetchone()[0]
        rng = random.Random(seed)
        # rowid positions per injection: deterministic for a seed and a scale factor
        for _what, fraction, set_clause in INJECT:
            ids = sorted(rng.sample(range(rows), max(1, int(rows * fraction))))
            con.execute("CREATE OR REPLACE TEMP TABLE pick AS SELECT unnest(?::BIGINT[]) AS id", [ids])
            con.execute(f"UPDATE lineitem SET {set_clause} WHERE rowid IN (SELECT id FROM pick)")
        ids = sorted(rng.sample(range(rows), max(1, int(rows * DUPLICATES))))
        con.execute("CREATE OR REPLACE TEMP TABLE pick AS SELECT unnest(?::BIGINT[]) AS id", [ids])
        con.execute("INSERT INTO lineitem SELECT * FROM lineitem WHERE rowid IN (SELECT id FROM pick)")
        con.execute("CHECKPOINT")
    finally:
        con.close()


def build_postgres(duck: Path, database: str) -> None:
    """The same rows (after injection) in a fresh PostgreSQL database, through COPY."""
    import psycopg2

    admin = psycopg2.connect(f"{PG_URL}/test")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{database}"')
    admin.close()
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "lineitem.csv"
        con = duckdb.connect(str(duck), read_only=True)
        con.execute("COPY lineitem TO ? (HEADER false)", [str(csv)])
        con.close()
        pg = psycopg2.connect(f"{PG_URL}/{database}")
        with pg, pg.cursor() as cur:
            cur.execute(
                """CREATE TABLE lineitem (
                l_orderkey BIGINT, l_partkey BIGINT, l_suppkey BIGINT, l_linenumber INTEGER,
                l_quantity NUMERIC(15,2), l_extendedprice NUMERIC(15,2), l_discount NUMERIC(15,2),
                l_tax NUMERIC(15,2), l_returnflag TEXT, l_linestatus TEXT, l_shipdate DATE,
                l_commitdate DATE, l_receiptdate DATE, l_shipinstruct TEXT, l_shipmode TEXT,
                l_comment TEXT)"""
            )
            with csv.open() as f:
                cur.copy_expert("COPY lineitem FROM STDIN (FORMAT csv)", f)
            cur.execute("ANALYZE lineitem")
        pg.close()


# -- contenders ---------------------------------------------------------------------------


def run_hand(engine: str, target: str) -> dict:
    """Child process: run the hand-written query once; print ``{"seconds", "counts"}``."""
    start = time.perf_counter()
    if engine == "duckdb":
        con = duckdb.connect(target, read_only=True)
        cur = con.execute(hand_sql("duckdb"))
        names = [d[0] for d in cur.description]
        values = cur.fetchone()
        con.close()
    else:
        import psycopg2

        con = psycopg2.connect(f"{PG_URL}/{target}")
        with con.cursor() as cur:
            cur.execute(hand_sql("postgres"))
            names = [d[0] for d in cur.description]
            values = cur.fetchone()
        con.close()
    seconds = time.perf_counter() - start
    import resource

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    counts = {n: int(v) for n, v in zip(names, values, strict=True)}
    return {"seconds": seconds, "counts": counts, "peak_mb": peak_mb}


def hand_process(engine: str, target: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--hand", engine, target], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A real ``assay serve`` process on a free port with its own data directory."""

    def __init__(self, tmp: Path, data_roots: list[Path], code: Path = ROOT):
        tmp.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.data_dir = tmp / "assay-data"
        env = {
            **os.environ,
            "PYTHONPATH": str(code),
            "ASSAY_DATA_DIR": str(self.data_dir),
            "ASSAY_WORKERS": "1",
            "ASSAY_DATA_ROOTS": os.pathsep.join(str(p) for p in data_roots),
        }
        env.pop("ASSAY_DATABASE_URL", None)
        self.log = (tmp / "server.log").open("w")
        assay = Path(sys.executable).with_name("assay")
        self.proc = subprocess.Popen(
            [str(assay), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/api/health").status_code == 204:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"assay serve did not start; see {tmp / 'server.log'}")
        token = (
            subprocess.run(
                [str(assay), "token", "create", "--name", "bench"], env=env, check=True, capture_output=True, text=True
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        self.client = httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=600)

    def ok(self, method: str, path: str, **kwargs):
        r = self.client.request(method, path, **kwargs)
        if r.status_code >= 300:
            raise RuntimeError(f"{method} {path} -> {r.status_code}: {r.text}")
        return None if r.status_code == 204 else r.json()

    def run(self, payload: dict) -> tuple[float, dict]:
        """Run the operation; (seconds from the request to the client seeing its end, operation).

        Polls every ``POLL_SECONDS``: each poll costs the server a few milliseconds of CPU,
        which a 2-core machine takes from the scan (every 20 ms, it slowed the DuckDB SF 1
        scan by ~15 %; real clients poll every few seconds)."""
        start = time.perf_counter()
        op = self.ok("POST", "/api/operations/run", json=payload)
        while True:
            body = self.ok("GET", f"/api/operations/{op['id']}")
            if body["end_time"]:
                return time.perf_counter() - start, body
            time.sleep(POLL_SECONDS)

    def peak_rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        self.client.close()
        self.proc.terminate()
        self.proc.wait(30)
        self.log.close()


def set_up_assay(server: Server, engine: str, target: str, enrichment: Path) -> int:
    """Datastore + enrichment datastore + sync + the 12 checks; returns the datastore id."""
    if engine == "duckdb":
        body = {"name": "tpch", "connection": {"type": "duckdb"}, "database": target, "schema": "main"}
    else:
        body = {
            "name": "tpch",
            "connection": {"type": "postgresql", "host": "127.0.0.1", "port": 5432, "username": "postgres"},
            "database": target,
            "schema": "public",
        }
    ds = server.ok("POST", "/api/datastores", json=body)
    enrich = server.ok(
        "POST",
        "/api/datastores",
        json={
            "name": "tpch_enrichment",
            "connection": {"type": "duckdb"},
            "database": str(enrichment),
            "enrichment_only": True,
        },
    )
    server.ok("PATCH", f"/api/datastores/{ds['id']}/enrichment/{enrich['id']}")
    _, sync = server.run({"type": "sync", "datastore_id": ds["id"]})
    assert sync["result"] == "success", sync
    listing = server.ok("GET", "/api/containers/listing", params={"datastore": ds["id"]})
    container = next(c for c in listing if c["name"] == "lineitem")
    for name, rule, fields, properties in CHECKS:
        server.ok(
            "POST",
            "/api/quality-checks",
            json={
                "container_id": container["id"],
                "rule": rule,
                "fields": fields,
                "properties": properties,
                "description": name,
            },
        )
    return ds["id"]


def operation_seconds(op: dict) -> float:
    """The operation's own duration on the server (``end_time - start_time``): without the
    request, the client's polling, or the time it waited in the queue."""
    import datetime as dt

    start, end = (dt.datetime.fromisoformat(op[k].replace("Z", "+00:00")) for k in ("start_time", "end_time"))
    return (end - start).total_seconds()


def assay_counts(server: Server, op: dict) -> dict[str, int]:
    """Each check's failing count (by the check's description), from the operation's container scan."""
    checks = {c["id"]: c["description"] for c in server.ok("GET", "/api/quality-checks", params={"size": 100})["items"]}
    (cs,) = server.ok("GET", "/api/container-scans", params={"operation": op["id"]})["items"]
    out = {}
    for q in cs["quality_checks"]:
        name = checks[q["quality_check_id"]]
        out[name] = q["anomalous_records_count"] if name != "row_count" else cs["records_processed"]
    return out


def bench_engine(engine: str, duck: Path, args, tmp: Path) -> None:
    target = str(duck) if engine == "duckdb" else f"tpch_sf{args.sf:g}".replace(".", "_")
    if engine == "postgres":
        print(f"loading into PostgreSQL database {target} …", flush=True)
        build_postgres(duck, target)
    servers: dict[str, tuple[Server, int]] = {}
    try:
        for label, code in args.code:
            server = Server(tmp / engine / label, [duck.parent, tmp], code)
            servers[label] = (server, set_up_assay(server, engine, target, tmp / engine / label / "enrichment.duckdb"))
        hand_t: list[float] = []
        assay_t: dict[str, list[float]] = {label: [] for label in servers}
        server_t: dict[str, list[float]] = {label: [] for label in servers}
        hand_counts: dict[str, int] = {}
        hand_peak = 0.0
        got: dict[str, dict[str, int]] = {}
        for r in range(args.rounds):
            h = hand_process(engine, target)
            hand_t.append(h["seconds"])
            hand_counts = h["counts"]
            hand_peak = max(hand_peak, h["peak_mb"])
            line = f"  round {r + 1}: hand {h['seconds']:.2f}s"
            # contenders in a rotating order, so none always runs right after the hand query
            labels = list(servers)
            for label in labels[r % len(labels) :] + labels[: r % len(labels)]:
                server, ds = servers[label]
                payload = {"type": "scan", "datastore_id": ds, "container_names": [], "incremental": False}
                seconds, op = server.run(payload)
                assert op["result"] == "success", op
                assay_t[label].append(seconds)
                server_t[label].append(operation_seconds(op))
                got[label] = assay_counts(server, op)
                line += f"  {label} {seconds:.2f}s (operation {server_t[label][-1]:.2f}s)"
            print(line, flush=True)
        hm = statistics.median(hand_t)
        for label, (server, _ds) in servers.items():
            mismatches = {n: (got[label].get(n), v) for n, v in hand_counts.items() if got[label].get(n) != v}
            am, om = statistics.median(assay_t[label]), statistics.median(server_t[label])
            print(
                f"{engine} SF{args.sf:g}: hand {hm:.2f}s  {label} {am:.2f}s  ratio {am / hm:.2f}x  "
                f"(operation {om:.2f}s, {om / hm:.2f}x)  "
                f"server peak {server.peak_rss_mb():.0f} MB (hand process {hand_peak:.0f} MB)  "
                f"counts {mismatches or 'exact'}"
            )
        print(f"  machine load (1, 5, 15 min): {' '.join(f'{x:.2f}' for x in os.getloadavg())}  cores {os.cpu_count()}")
    finally:
        for server, _ds in servers.values():
            server.stop()
        if engine == "postgres" and not args.keep:
            import psycopg2

            admin = psycopg2.connect(f"{PG_URL}/test")
            admin.autocommit = True
            with admin.cursor() as cur:
                cur.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
            admin.close()


def contender(text: str) -> tuple[str, Path]:
    """``--code label=DIR``: a contender running the Assay code of ``DIR`` (e.g. a checkout of
    an earlier commit, to compare before and after in one interleaved run)."""
    label, sep, path = text.partition("=")
    if not sep or not label or not Path(path).is_dir():
        raise argparse.ArgumentTypeError(f"expected label=DIR with an existing DIR, got {text!r}")
    return label, Path(path).resolve()


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--hand":
        print(json.dumps(run_hand(sys.argv[2], sys.argv[3])))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sf", type=float, default=1.0, help="TPC-H scale factor (1 = 6 M lineitem rows)")
    parser.add_argument("--engines", default="duckdb", help="comma-separated: duckdb,postgres")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--workdir", type=Path, default=ROOT / ".cache" / "tpch")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    parser.add_argument(
        "--code",
        type=contender,
        action="append",
        help="label=DIR: an assay contender running the code in DIR (repeatable; default: this checkout)",
    )
    args = parser.parse_args()
    args.code = args.code or [("assay", ROOT)]
    parquet = generate(args.workdir, args.sf)
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp_name:
        tmp = Path(tmp_name)
        duck = tmp / "lineitem.duckdb"
        start = time.perf_counter()
        build_duckdb(parquet, duck, args.seed)
        print(f"built lineitem SF{args.sf:g} with injected anomalies in {time.perf_counter() - start:.1f}s", flush=True)
        for engine in args.engines.split(","):
            bench_engine(engine.strip(), duck, args, tmp)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
