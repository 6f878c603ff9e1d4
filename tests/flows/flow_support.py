"""Helpers of the flow tests (imported by name: ``from tests.flows.flow_support import …``)."""

from __future__ import annotations

import time
from pathlib import Path

from tests.cli.forkserver import run_assay, start_assay, wait_until_serving


def settled(api, flow_id: int, count: int = 1, timeout: float = 30) -> list[dict]:
    """Wait until flow ``flow_id`` has ``count`` executions, all ended; return them in
    detail, oldest first."""
    deadline = time.monotonic() + timeout
    while True:
        items = api.ok("GET", "/api/flows/executions", params={"flow": flow_id, "sort_created": "asc"})["items"]
        if len(items) >= count and all(e["result"] != "running" for e in items):
            return [api.ok("GET", f"/api/flows/executions/{e['id']}") for e in items]
        assert time.monotonic() < deadline, f"flow {flow_id}: {items}"
        time.sleep(0.05)


class LiveServer:
    """A real `assay serve` subprocess on a free port, with its own data directory and an
    admin token; ``env`` adds environment variables."""

    def __init__(self, tmp: Path, env: dict[str, str] | None = None):
        import os

        import httpx

        from tests.flows.flow_receivers import free_port

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "ASSAY_DATA_DIR": str(tmp / "assay"), "ASSAY_WORKERS": "2", **(env or {})}
        self.env.pop("ASSAY_DATABASE_URL", None)
        self.log_path = tmp / "server.log"
        self.proc = start_assay(
            ["serve", "--host", "127.0.0.1", "--port", str(self.port)], env=self.env, log=self.log_path
        )
        wait_until_serving(self.url, self.proc, self.log_path)
        out = run_assay(["token", "create", "--name", "flows"], env=self.env)
        assert out.returncode == 0, out.stderr
        self.token = out.stdout.strip().splitlines()[-1]
        self.http = httpx.Client(base_url=f"{self.url}/api", headers={"Authorization": f"Bearer {self.token}"})

    def call(self, method: str, path: str, body=None, **params):
        r = self.http.request(method, path, json=body, params=params or None, timeout=60)
        assert r.status_code < 300, f"{method} {path} -> {r.status_code}: {r.text}"
        return r.json() if r.status_code != 204 else None

    def cli(self, *args: str) -> tuple[int, str]:
        r = run_assay([*args, "--url", self.url, "--token", self.token], env={**self.env, "COLUMNS": "250"})
        return r.returncode, r.stdout + r.stderr

    def stop(self) -> None:
        self.http.close()
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except Exception:  # noqa: BLE001
            self.proc.kill()
