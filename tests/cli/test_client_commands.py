"""`assay datastores|checks|anomalies …`, `assay scan` and `assay profile`: the real CLI, in a
subprocess, against a live `assay serve`."""

from __future__ import annotations

import json
import re

import duckdb
import pytest

from tests.cli.forkserver import run_assay
from tests.cli.test_qualytics_cli import Server

SHOP = (
    "create table orders (id integer, amount integer, customer varchar)",
    # amount out of 0..100: ids 2 (-5) and 4 (250); customer NULL: id 3
    "insert into orders values (1, 10, 'ann'), (2, -5, 'bob'), (3, 20, NULL), (4, 250, 'cy')",
    "create table customers (name varchar)",
    "insert into customers values ('ann'), ('bob'), ('cy')",
)

CHECKS = [
    {"container": "orders", "rule": "between", "fields": ["amount"], "properties": {"min": 0, "max": 100}},
    {"container": "orders", "rule": "notNull", "fields": ["customer"]},
]


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("assay-daily")
    con = duckdb.connect(str(tmp / "shop.duckdb"))
    for sql in SHOP:
        con.execute(sql)
    con.close()
    (tmp / "checks.json").write_text(json.dumps(CHECKS))
    server = Server(tmp)
    yield server, tmp
    server.stop()


def assay(live, *args):
    server, tmp = live
    r = run_assay(
        args, cwd=tmp, env={**server.env, "COLUMNS": "200", "ASSAY_URL": server.url, "ASSAY_TOKEN": server.token}
    )
    return r.returncode, r.stdout + r.stderr


def test_the_daily_jobs_from_the_cli(live):
    server, tmp = live
    # datastores: an enrichment datastore, then the source linked to it (a relative path is made absolute)
    code, out = assay(
        live, "datastores", "add", "lake", "--type", "duckdb", "--database", "lake.duckdb", "--enrichment-only"
    )
    assert code == 0 and re.search(r"datastore \d+ 'lake' added \(duckdb\)", out), out
    code, out = assay(
        live, "datastores", "add", "shop", "--type", "duckdb", "--database", "shop.duckdb", "--enrichment", "lake"
    )
    assert code == 0 and "failing rows of 'shop' go to enrichment datastore 'lake'" in out, out
    shop = server.get("/datastores", name="shop")["items"][0]
    assert shop["database"] == str(tmp / "shop.duckdb")
    code, out = assay(live, "datastores", "add", "typo", "--type", "duckdb", "--database", "nope.duckdb")
    assert code == 1 and f"DuckDB database file not found: {tmp / 'nope.duckdb'}" in out, out
    code, out = assay(live, "datastores", "list")
    assert code == 0 and "shop" in out and "enrichment-only" in out and "typo" not in out
    code, out = assay(live, "datastores", "verify", "shop")
    assert (code, out.strip()) == (0, "shop: connected; 2 container(s) found")
    code, out = assay(live, "datastores", "sync", "shop", "--poll-interval", "0.2")
    assert code == 0 and "2 container(s): customers, orders" in out, out

    # checks from a file; the same file again creates nothing
    code, out = assay(live, "checks", "create", "shop", "-f", "checks.json")
    assert code == 0 and "2 created, 0 already there, 0 failed" in out, out
    code, out = assay(live, "checks", "create", str(shop["id"]), "-f", "checks.json")
    assert code == 0 and "0 created, 2 already there, 0 failed" in out, out
    code, out = assay(live, "checks", "list", "shop")
    assert code == 0 and "between" in out and "notNull" in out and "2 check(s)" in out

    # scan: the progress bar ends with what was found
    code, out = assay(live, "scan", "shop", "--poll-interval", "0.2")
    assert code == 0 and re.search(r"scan operation \d+: success", out), out
    assert "2 container(s), 7 records, 3 anomalies found, 0 auto-resolved" in out, out
    rows = {tuple(cell.strip() for cell in line.split("│")[1:-1]) for line in out.splitlines() if "│" in line}
    assert ("orders", "success", "4", "3", "") in rows and ("customers", "success", "3", "0", "") in rows
    checks = {c["rule_type"]: c["id"] for c in server.get("/quality-checks", datastore=shop["id"])["items"]}
    assert ("orders", str(checks["between"]), "between", "failed", "2", "2") in rows, out
    assert ("orders", str(checks["notNull"]), "notNull", "failed", "1", "1") in rows, out

    # anomalies: a table, ids only, one with its failing rows, then triage
    code, out = assay(live, "anomalies", "list", "--datastore", "shop")
    assert code == 0 and "3 anomalies in all" in out, out
    listed = [tuple(c.strip() for c in line.split("│")[2:8]) for line in out.splitlines() if "│" in line]
    assert listed == [
        ("orders", "orders", "record", "Active", "notNull", "1"),
        ("orders", "orders", "record", "Active", "between", "1"),
        ("orders", "orders", "record", "Active", "between", "1"),
    ], out
    code, out = assay(live, "anomalies", "list", "--datastore", "shop", "--rule", "notNull", "-q")
    (null_id,) = [int(x) for x in out.split()]
    code, out = assay(live, "anomalies", "show", str(null_id))
    assert code == 0 and "1 anomalous record(s)" in out and f"check {checks['notNull']} notNull(customer)" in out
    source = [
        tuple(c.strip() for c in re.split("[│┃]", line)[1:-1])
        for line in out.splitlines()
        if "│" in line or "┃" in line
    ]
    assert source == [("id", "amount", "customer"), ("3", "20", "NULL")], out
    code, out = assay(live, "anomalies", "acknowledge", str(null_id))
    assert code == 0 and server.get(f"/anomalies/{null_id}")["status"] == "Acknowledged"
    code, out = assay(live, "anomalies", "list", "--datastore", "shop", "--status", "Acknowledged", "-q")
    assert out.split() == [str(null_id)]
    code, out = assay(live, "anomalies", "resolve", str(null_id), "--status", "Invalid")
    assert code == 0 and server.get(f"/anomalies/{null_id}")["status"] == "Invalid"
    code, out = assay(live, "anomalies", "list", "--datastore", "shop")
    assert "2 anomalies in all" in out
    code, out = assay(live, "anomalies", "resolve", "999999")
    assert code == 1 and "Anomaly 999999 not found" in out

    # a second scan of unchanged data: the repeats of the 2 open ones are duplicates; the NULL
    # customer, archived as Invalid, is found again as a new Active anomaly
    code, out = assay(live, "scan", "shop", "--poll-interval", "0.2")
    assert code == 0 and "3 anomalies found" in out
    second = int(re.search(r"scan operation (\d+): success", out).group(1))
    open_now = server.get("/anomalies", datastore=shop["id"])["items"]
    assert sorted((a["operation_id"] == second, a["failed_checks"][0]["quality_check_id"]) for a in open_now) == [
        (False, checks["between"]),
        (False, checks["between"]),
        (True, checks["notNull"]),
    ]

    # export, then import into a copy of the datastore
    code, out = assay(live, "checks", "export", "shop", "-o", "exported.json")
    assert code == 0 and "2 check(s) of 'shop' written to exported.json" in out
    exported = json.loads((tmp / "exported.json").read_text())
    assert [(c["container"], c["rule"], c["fields"], c["properties"]) for c in exported] == [
        ("orders", "between", ["amount"], {"min": 0, "max": 100}),
        ("orders", "notNull", ["customer"], {}),
    ]
    assay(live, "datastores", "add", "shop2", "--type", "duckdb", "--database", "shop.duckdb")
    assay(live, "datastores", "sync", "shop2", "--poll-interval", "0.2")
    code, out = assay(live, "checks", "import", "shop2", "-i", "exported.json", "--dry-run")
    assert code == 0 and "2 would be created, 0 already there, 0 failed" in out
    code, out = assay(live, "checks", "import", "shop2", "-i", "exported.json")
    assert code == 0 and "2 created, 0 already there, 0 failed" in out
    shop2 = server.get("/datastores", name="shop2")["items"][0]
    assert server.get("/quality-checks", datastore=shop2["id"])["total"] == 2

    # a schedule instead of a run
    code, out = assay(live, "scan", "shop", "--crontab", "0 2 * * *", "--name", "nightly")
    assert code == 0 and re.search(r"schedule \d+ \(nightly\): scan of 'shop' on '0 2 \* \* \*' \(UTC\)", out), out
    code, out = assay(live, "schedules", "list")
    assert "nightly" in out and "0 2 * * *" in out


def test_profile_and_errors(live):
    server, _tmp = live
    code, out = assay(live, "datastores", "add", "prof", "--type", "duckdb", "--database", "shop.duckdb")
    assert code == 0
    # never synced: the scan fails and says why
    code, out = assay(live, "scan", "prof", "--poll-interval", "0.2")
    assert code == 1 and "nothing to scan: datastore 'prof' has no containers; run a sync first" in out, out
    assay(live, "datastores", "sync", "prof", "--poll-interval", "0.2")
    code, out = assay(live, "profile", "prof", "--container", "customers", "--poll-interval", "0.2")
    assert code == 0 and re.search(r"profile operation \d+: success", out), out
    assert re.search(r"1 container\(s\), 1 fields, 3 records profiled; \d+ check\(s\) inferred", out), out
    code, out = assay(live, "scan", "no-such-datastore")
    assert code == 1 and "no datastore named 'no-such-datastore'" in out
    # a file that cannot be written is one line, not a traceback (a fresh user's trial)
    code, out = assay(live, "checks", "export", "prof", "-o", "/nonexistent-dir/x.json")
    assert code == 1 and "cannot write /nonexistent-dir/x.json: No such file or directory" in out, out
    assert "Traceback" not in out
    code, out = assay(live, "flows", "history", "999")
    assert code == 1 and "GET /flows/999 → 404: Flow 999 not found" in out, out
    code, out = assay(live, "checks", "create", "prof", "-f", "missing.json")
    assert code == 1 and "cannot read missing.json" in out
