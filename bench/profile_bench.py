"""Assay's profile vs a hand-written exact-statistics query (issue 15, goal 3).

1. A DuckDB table ``wide`` of ``--columns`` columns × ``--rows`` rows (a quarter each of
   integers, doubles, strings and dates, with NULLs), every value a hash of its row and
   column with ``--seed``: the same data on every run (cached under ``--workdir``).
2. Contenders, each a whole process, interleaved for ``--rounds`` rounds:

   * **hand**: ONE hand-written query with, per column, the non-NULL count, the exact
     ``COUNT(DISTINCT)``, min and max; for numbers mean, population standard deviation,
     skewness, kurtosis and the three quartiles (``approx_quantile``); for strings the
     shortest and longest length — the exact statistics a level-0 profile reports;
   * **level 0** / **level 2**: a real ``assay serve`` process, one
     ``POST /api/operations/run`` profile with ``inference_threshold`` 0 (statistics only) or
     2 (statistics and inferred checks), timed from the request to the operation's end.

3. Prints each contender's median and its ratio to the hand query (goal: level 0 ≤ 1.5×,
   level 2 ≤ 2.5×) and the server's peak resident memory (``VmHWM``).

Run: ``.venv/bin/python bench/profile_bench.py [--columns 200 --rows 1000000]`` (``make
bench`` runs it with the defaults). Compare code versions in one interleaved run with
``--code before=DIR --code after=DIR``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tpch_scan_bench import ROOT, Server, contender  # noqa: E402

KINDS = ("int", "double", "string", "date")


def columns(n: int) -> list[tuple[str, str]]:
    """``(name, kind)`` of the ``n`` columns, the kinds in turn."""
    return [(f"c{i:03d}_{KINDS[i % 4]}", KINDS[i % 4]) for i in range(n)]


def build(path: Path, n_columns: int, rows: int, seed: int) -> None:
    """The table ``wide`` in a new DuckDB file: each value a function of (seed, row, column)."""
    exprs = []
    for i, (name, kind) in enumerate(columns(n_columns)):
        h = f"hash(i, {i}, {seed})"
        value = {
            "int": f"({h} % 100000)::BIGINT",
            "double": f"(({h} % 1000000)::DOUBLE / 1000.0)",
            "string": f"'v' || ({h} % 5000)::VARCHAR",
            "date": f"DATE '2000-01-01' + ({h} % 9000)::INTEGER",
        }[kind]
        # about 2 % NULLs in every column
        exprs.append(f"CASE WHEN hash(i, {i}, {seed}, 'null') % 50 = 0 THEN NULL ELSE {value} END AS {name}")
    con = duckdb.connect(str(path))
    try:
        con.execute(f"CREATE TABLE wide AS SELECT {', '.join(exprs)} FROM range({rows}) t(i)")
        con.execute("CHECKPOINT")
    finally:
        con.close()


def hand_sql(n_columns: int) -> str:
    """The hand-written exact statistics of every column, in one aggregate query."""
    parts = ["count(*) AS n"]
    for name, kind in columns(n_columns):
        parts += [f"count({name})", f"count(DISTINCT {name})", f"min({name})", f"max({name})"]
        if kind in ("int", "double"):
            parts += [
                f"avg({name})",
                f"stddev_pop({name})",
                f"skewness({name})",
                f"kurtosis_pop({name})",
                f"approx_quantile({name}, [0.25, 0.5, 0.75])",
            ]
        if kind == "string":
            parts += [f"min(length({name}))", f"max(length({name}))"]
    return f"SELECT {', '.join(parts)} FROM wide"


def run_hand(path: str, n_columns: int) -> dict:
    start = time.perf_counter()
    con = duckdb.connect(path, read_only=True)
    con.execute(hand_sql(n_columns)).fetchall()
    con.close()
    return {"seconds": time.perf_counter() - start}


def hand_process(path: Path, n_columns: int) -> float:
    out = subprocess.run(
        [sys.executable, __file__, "--hand", str(path), str(n_columns)], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])["seconds"]


def set_up(server: Server, path: Path) -> int:
    ds = server.ok(
        "POST", "/api/datastores", json={"name": "wide", "connection": {"type": "duckdb"}, "database": str(path)}
    )
    _, sync = server.run({"type": "sync", "datastore_id": ds["id"]})
    assert sync["result"] == "success", sync
    return ds["id"]


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--hand":
        print(json.dumps(run_hand(sys.argv[2], int(sys.argv[3]))))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--columns", type=int, default=200)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--levels", default="0,2", help="inference levels to time (comma-separated)")
    parser.add_argument("--workdir", type=Path, default=ROOT / ".cache" / "profile")
    parser.add_argument("--code", type=contender, action="append", help="label=DIR (repeatable)")
    args = parser.parse_args()
    code = args.code or [("assay", ROOT)]
    levels = [int(x) for x in args.levels.split(",")]
    args.workdir.mkdir(parents=True, exist_ok=True)
    path = args.workdir / f"wide_{args.columns}x{args.rows}_s{args.seed}.duckdb"
    if not path.exists():
        start = time.perf_counter()
        build(path, args.columns, args.rows, args.seed)
        print(f"built {args.columns} columns × {args.rows:,} rows in {time.perf_counter() - start:.1f}s", flush=True)
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp_name:
        tmp = Path(tmp_name)
        servers = {}
        try:
            for label, directory in code:
                server = Server(tmp / label, [args.workdir, tmp], directory)
                servers[label] = (server, set_up(server, path))
            times: dict[str, list[float]] = {"hand": []}
            for r in range(args.rounds):
                times["hand"].append(hand_process(path, args.columns))
                line = f"  round {r + 1}: hand {times['hand'][-1]:.2f}s"
                runs = [(label, level) for label in servers for level in levels]
                for label, level in runs[r % len(runs) :] + runs[: r % len(runs)]:
                    server, ds = servers[label]
                    seconds, op = server.run({"type": "profile", "datastore_id": ds, "inference_threshold": level})
                    assert op["result"] == "success", op
                    times.setdefault(f"{label} level {level}", []).append(seconds)
                    line += f"  {label} L{level} {seconds:.2f}s"
                print(line, flush=True)
            hand = statistics.median(times["hand"])
            print(f"profile {args.columns} columns × {args.rows:,} rows, DuckDB: hand {hand:.2f}s")
            for name, values in times.items():
                if name != "hand":
                    m = statistics.median(values)
                    label = name.split(" level ")[0]
                    peak = servers[label][0].peak_rss_mb()
                    print(f"  {name}: {m:.2f}s  ratio {m / hand:.2f}x  server peak {peak:.0f} MB")
            load = " ".join(f"{x:.2f}" for x in os.getloadavg())
            print(f"  machine load (1, 5, 15 min): {load}  cores {os.cpu_count()}")
        finally:
            for server, _ds in servers.values():
                server.stop()


if __name__ == "__main__":
    main()
