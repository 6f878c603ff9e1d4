"""Conformance: qualytics-cli 1.2.2 commands that move configuration and computed containers.

The public CLI, unchanged (``tests/tools.py``), against live ``assay serve``
processes over a tiny DuckDB shop: ``datastores create`` without ``--tags``, ``containers
validate`` / ``create`` of computed tables, files and joins (scanned afterwards), ``containers
import`` and ``migrate validate`` / ``apply`` (which wait for the automatic profile of a new
computed container and read ``/containers/{id}/fields`` as a list), ``config export`` into a
second server with ``config import``, and the list filters. The tests run in file order and
share the servers.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

import duckdb
import pytest
import yaml

from tests.cli.test_qualytics_cli import Server, _install_cli, q


def _server(path: Path) -> Server:
    path.mkdir()
    return Server(path)


def _make_shop(path: Path) -> None:
    con = duckdb.connect(str(path))
    try:
        con.execute("CREATE TABLE customers (id INTEGER, name VARCHAR, region VARCHAR)")
        con.execute("INSERT INTO customers VALUES (1, 'Ann', 'north'), (2, 'Bob', 'south'), (3, 'Cid', 'north')")
        con.execute("CREATE TABLE orders (id INTEGER, customer_id INTEGER, amount DOUBLE, status VARCHAR)")
        con.execute(
            "INSERT INTO orders VALUES (1, 1, 10.0, 'paid'), (2, 1, -5.0, 'paid'), (3, 2, 20.0, 'open'), "
            "(4, 9, 7.5, 'paid'), (5, 3, NULL, 'open')"
        )
    finally:
        con.close()


def _cli_env(tmp: Path, name: str) -> dict:
    import os

    home = tmp / name
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUALYTICS_")}
    env.update(HOME=str(home), QUALYTICS_CONFIG_HOME=str(home / ".qualytics"), QUALYTICS_NO_BANNER="1", CI="1")
    env["COLUMNS"] = "10000"
    return env


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    exe = _install_cli()
    tmp = tmp_path_factory.mktemp("config")
    _make_shop(tmp / "shop.duckdb")
    server = _server(tmp / "a")
    state = {"exe": exe, "server": server, "env": _cli_env(tmp, "home"), "tmp": tmp}
    r = q(state, "auth", "init", "--url", server.url, "--token", server.token)
    assert r.returncode == 0, r.stdout
    yield state
    server.stop()
    if "server_b" in state:
        state["server_b"].stop()


def _wait_idle(server, datastore_id: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ops = server.get("/operations", datastore=datastore_id, finished=False)["items"]
        if not ops:
            return
        time.sleep(0.2)
    raise AssertionError(f"operations of datastore {datastore_id} still running")


def _cli_api(env, code: str) -> object:
    """Run ``code`` with the CLI's own Python API (``qualytics.api``) and return its printed JSON."""
    python = Path(env["exe"]).parent / "python"
    prelude = "import json\nfrom qualytics.api.client import get_client\n"
    r = subprocess.run(
        [str(python), "-c", prelude + "client = get_client()\n" + code],
        env=env["env"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=env["tmp"],
    )
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_datastores_create_without_tags(env):
    server, tmp = env["server"], env["tmp"]
    shop_conn = server.post("/connections", {"name": "shop_conn", "type": "duckdb"})
    r = q(
        env,
        "datastores",
        "create",
        "--name",
        "shop",
        "--connection-name",
        "shop_conn",
        "--database",
        str(tmp / "shop.duckdb"),
        "--schema",
        "main",
    )
    assert r.returncode == 0, r.stdout
    ds = server.get("/datastores", name="shop")["items"][0]
    assert ds["global_tags"] == [] and ds["connection"]["name"] == "shop_conn"
    _wait_idle(server, ds["id"])  # the CLI asked for a sync (trigger_sync)
    lake = server.post(
        "/datastores",
        {
            "name": "lake",
            "connection_id": shop_conn["id"],
            "database": str(tmp / "lake.duckdb"),
            "enrichment_only": True,
        },
    )
    assert server.http.patch(f"/datastores/{ds['id']}/enrichment/{lake['id']}").status_code == 200
    ds = server.get(f"/datastores/{ds['id']}")
    assert ds["enrich_datastore"] == ds["enrichment_datastore"] == {"id": lake["id"], "name": "lake"}
    assert ds["connected"] is True
    assert (ds["latest_operation"]["type"], ds["latest_operation"]["result"]) == ("sync", "success")
    listing = {c["name"]: c["id"] for c in server.get("/containers/listing", datastore=ds["id"])}
    assert sorted(listing) == ["customers", "orders"]
    # computed files belong to file datastores: the same orders as a CSV file
    folder = tmp / "files"
    folder.mkdir()
    (folder / "orders.csv").write_text(
        "id,customer_id,amount,status\n1,1,10.0,paid\n2,1,-5.0,paid\n3,2,20.0,open\n4,9,7.5,paid\n5,3,,open\n"
    )
    files = server.post("/datastores", {"name": "files", "connection": {"type": "local", "uri": f"file://{folder}"}})
    server.post("/operations/run", {"type": "sync", "datastore_id": files["id"]})
    _wait_idle(server, files["id"])
    [files_orders] = server.get("/containers/listing", datastore=files["id"])
    env.update(
        ds=ds["id"],
        lake=lake["id"],
        orders=listing["orders"],
        customers=listing["customers"],
        files=files["id"],
        files_orders=files_orders["id"],
    )


def test_containers_validate_answers_204_and_names_the_problem(env):
    ds = str(env["ds"])
    r = q(
        env,
        "containers",
        "validate",
        "--type",
        "computed_table",
        "--datastore-id",
        ds,
        "--query",
        "SELECT id FROM orders",
    )
    assert "Validation passed!" in r.stdout, r.stdout
    r = q(
        env,
        "containers",
        "validate",
        "--type",
        "computed_join",
        "--left-container-id",
        str(env["orders"]),
        "--right-container-id",
        str(env["customers"]),
        "--left-key-field",
        "customer_id",
        "--right-key-field",
        "id",
        "--select-clause",
        "left_id, right_name",
    )
    assert "Validation passed!" in r.stdout, r.stdout
    r = q(
        env,
        "containers",
        "validate",
        "--type",
        "computed_table",
        "--datastore-id",
        ds,
        "--query",
        "SELECT nope FROM orders",
    )
    # the CLI does not catch a 4xx here: it exits 1 with the server's reason
    assert r.returncode == 1 and 'HTTP 422: {"detail":[{"loc":["body","query"]' in r.stdout, r.stdout[-3000:]
    assert 'Referenced column \\"nope\\" not found' in r.stdout, r.stdout[-3000:]
    bad = env["server"].http.post(
        "/containers/validate",
        json={
            "container": {
                "container_type": "computed_file",
                "datastore_id": env["files"],
                "name": "x",
                "source_container_id": env["files_orders"],
                "select_clause": "id FROM customers",
            }
        },
    )
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "select_clause"], bad.text


def test_computed_file_and_join_are_created_profiled_and_scanned(env):
    server, ds = env["server"], str(env["ds"])
    r = q(
        env,
        "containers",
        "create",
        "--type",
        "computed_file",
        "--name",
        "paid_orders",
        "--datastore-id",
        str(env["files"]),
        "--source-container-id",
        str(env["files_orders"]),
        "--select-clause",
        "id, amount",
        "--where-clause",
        "status = 'paid'",
    )
    assert r.returncode == 0, r.stdout
    r = q(
        env,
        "containers",
        "create",
        "--type",
        "computed_join",
        "--name",
        "order_customers",
        "--left-container-id",
        str(env["orders"]),
        "--right-container-id",
        str(env["customers"]),
        "--left-key-field",
        "customer_id",
        "--right-key-field",
        "id",
        "--join-type",
        "left",
        "--select-clause",
        "left_id AS order_id, right_name AS customer",
    )
    assert r.returncode == 0, r.stdout
    joined = next(
        c["id"] for c in server.get("/containers/listing", datastore=env["ds"]) if c["name"] == "order_customers"
    )
    paid = next(
        c["id"] for c in server.get("/containers/listing", datastore=env["files"]) if c["name"] == "paid_orders"
    )
    detail = server.get(f"/containers/{paid}")
    assert (detail["container_type"], detail["source_container_id"], detail["select_clause"]) == (
        "computed_file",
        env["files_orders"],
        "id, amount",
    )
    assert detail["where_clause"] == "status = 'paid'" and "query" not in detail
    join = server.get(f"/containers/{joined}")
    assert (join["left_join_field_name"], join["right_join_field_name"], join["join_type"]) == (
        "customer_id",
        "id",
        "left",
    )
    assert (join["left_prefix"], join["right_prefix"], join["right_datastore_id"]) == ("left", "right", env["ds"])
    assert [f["name"] for f in server.get(f"/containers/{joined}/fields")] == ["order_id", "customer"]

    # each new computed container got its own profile, found with the `container` filter
    for cid in (paid, joined):
        profiles = server.get("/operations", container=cid, operation_type="profile")["items"]
        assert len(profiles) == 1 and profiles[0]["container_names"] == [server.get(f"/containers/{cid}")["name"]]
    _wait_idle(server, env["ds"])
    _wait_idle(server, env["files"])
    assert server.get("/operations", container=env["orders"], operation_type="profile")["total"] == 0

    server.post("/quality-checks", {"container_id": paid, "rule": "notNegative", "fields": ["amount"]})
    server.post("/quality-checks", {"container_id": joined, "rule": "notNull", "fields": ["customer"]})
    scans, ops = {}, {}
    for datastore, name in ((ds, "order_customers"), (str(env["files"]), "paid_orders")):
        r = q(env, "operations", "scan", "--datastore-id", datastore, "--container-names", name, "--poll-interval", "1")
        m = re.search(r"Successfully Finished Scan operation (\d+)", r.stdout)
        assert m, r.stdout
        ops[name] = int(m.group(1))
        scans.update({cs["container"]["name"]: cs for cs in server.get(f"/operations/{m.group(1)}")["container_scans"]})
    # paid orders 1, 2, 4: one negative amount; order 4's customer 9 does not exist
    assert {n: (cs["records_processed"], cs["anomaly_count"]) for n, cs in scans.items()} == {
        "paid_orders": (3, 1),
        "order_customers": (5, 1),
    }
    anomaly = server.get("/anomalies", container=paid)["items"][0]
    assert server.http.delete(f"/anomalies/{anomaly['id']}", params={"status": "Resolved"}).status_code == 204
    scans = {
        cs["container"]["name"]: cs
        for op_id in ops.values()
        for cs in server.get(f"/operations/{op_id}")["container_scans"]
    }
    counts = {n: (cs["open_anomaly_count"], cs["archived_anomaly_count"]) for n, cs in scans.items()}
    assert counts == {"paid_orders": (0, 1), "order_customers": (1, 0)}
    assert [ps["records_processed"] for ps in scans["paid_orders"]["partition_scans"]] == [3]
    assert scans["paid_orders"]["operation_id"] == ops["paid_orders"]
    env.update(paid=paid, joined=joined)


def test_containers_import_waits_for_the_profile_then_creates_checks(env):
    server = env["server"]
    sheet = env["tmp"] / "tables.csv"
    sheet.write_text(
        'name,description,query\nbig_orders,orders over 5,"SELECT id, amount FROM orders WHERE amount > 5"\n'
    )
    r = q(env, "containers", "import", "--datastore", str(env["ds"]), "--input", str(sheet), "--as-active", timeout=300)
    assert r.returncode == 0, r.stdout
    cid = next(c["id"] for c in server.get("/containers/listing", datastore=env["ds"]) if c["name"] == "ct_big_orders")
    checks = server.get("/quality-checks", container=cid)["items"]
    # satisfiesExpression with the fields its expression uses (rejected before: "fields" refused)
    assert [(c["rule_type"], [f["name"] for f in c["fields"]]) for c in checks] == [
        ("satisfiesExpression", ["id", "amount"])
    ], r.stdout


def test_migrate_validate_and_apply_computed_rows(env):
    server, ds = env["server"], str(env["ds"])
    sheet = env["tmp"] / "sheet.csv"
    sheet.write_text(
        "kind,check_id,container,query,sources,rule_type,fields\n"
        "computed_table,ct1,north_customers,\"SELECT id, name FROM customers WHERE region = 'north'\",,,\n"
        'computed_join,cj1,orders_named,"SELECT o.id, c.name FROM o JOIN c ON o.customer_id = c.id",'
        '"orders=o; customers=c",,\n'
        "check,chk1,north_customers,,,notNull,NAME\n"
    )
    r = q(env, "migrate", "validate", "--sheet", str(sheet), "--datastore-id", ds)
    assert r.stdout.count("validated against the source") == 2, r.stdout
    r = q(env, "migrate", "apply", "--sheet", str(sheet), "--datastore-id", ds, "--profile-timeout", "120", timeout=300)
    assert r.returncode == 0, r.stdout
    assert "created computed_table 'north_customers'" in r.stdout and "created computed_join 'orders_named'" in r.stdout
    assert r.stdout.count("profiled by operation") == 2, r.stdout
    assert "Corrected 1 field name(s) to catalogue casing" in r.stdout, r.stdout  # fields read as a list
    ids = {c["name"]: c["id"] for c in server.get("/containers/listing", datastore=env["ds"])}
    check = server.get("/quality-checks", container=ids["north_customers"])["items"][0]
    assert (check["rule_type"], [f["name"] for f in check["fields"]]) == ("notNull", ["name"])
    joined = server.get(f"/containers/{ids['orders_named']}")
    assert joined["query"] == "SELECT o.id, c.name FROM o JOIN c ON o.customer_id = c.id"
    assert [s["alias"] for s in joined["sources"]] == ["o", "c"]
    assert [f["name"] for f in server.get(f"/containers/{ids['orders_named']}/fields")] == ["id", "name"]


def test_config_export_and_import_into_another_server(env):
    server, tmp = env["server"], env["tmp"]
    server.post(
        "/computed-fields",
        {
            "name": "amount_x2",
            "container_id": env["orders"],
            "transformation": "customExpression",
            "properties": {"column_expression": "amount * 2"},
        },
    )
    # issue 16: a datastore created with an inline connection (not a shared /connections one)
    tiny = tmp / "tiny.duckdb"
    con = duckdb.connect(str(tiny))
    con.execute("CREATE TABLE t AS SELECT 1 AS id")
    con.close()
    inline = server.post(
        "/datastores", {"name": "inline_shop", "connection": {"type": "duckdb"}, "database": str(tiny)}
    )
    assert inline["connection"] == {"type": "duckdb", "id": inline["connection_id"], "name": "inline_shop"}
    out = tmp / "export"
    r = q(
        env,
        "config",
        "export",
        "--datastore-id",
        str(env["ds"]),
        "--datastore-id",
        str(env["lake"]),
        "--datastore-id",
        str(inline["id"]),
        "--datastore-id",
        str(env["files"]),
        "--output",
        str(out),
    )
    assert r.returncode == 0, r.stdout
    assert yaml.safe_load((out / "connections" / "inline_shop.yaml").read_text()) == {
        "name": "inline_shop",
        "type": "duckdb",
    }
    assert (
        yaml.safe_load((out / "datastores" / "inline_shop" / "_datastore.yaml").read_text())["connection_name"]
        == "inline_shop"
    )
    # importing it back into its own server updates it: the CLI reads connection["id"] (KeyError 'id' before)
    only_inline = tmp / "export_inline"
    r = q(env, "config", "export", "--datastore-id", str(inline["id"]), "--output", str(only_inline))
    assert r.returncode == 0, r.stdout
    r = q(env, "config", "import", "--input", str(only_inline), timeout=300)
    assert r.returncode == 0 and "error(s) encountered" not in r.stdout, r.stdout
    again = server.get(f"/datastores/{inline['id']}")
    assert (again["connection"], again["connection_id"]) == (inline["connection"], inline["connection_id"])
    shop = out / "datastores" / "shop"
    datastore = yaml.safe_load((shop / "_datastore.yaml").read_text())
    assert (datastore["enrich_datastore_name"], datastore["connection_name"]) == ("lake", "shop_conn")
    paid = yaml.safe_load((out / "datastores" / "files" / "containers" / "paid_orders" / "_container.yaml").read_text())
    assert (paid["source_container_name"], paid["select_clause"]) == ("orders", "id, amount")
    join = yaml.safe_load((shop / "containers" / "order_customers" / "_container.yaml").read_text())
    assert (join["left_container_name"], join["right_container_name"]) == ("orders", "customers")
    north = yaml.safe_load((shop / "containers" / "north_customers" / "_container.yaml").read_text())
    assert "north" in north["query"]
    named = yaml.safe_load((shop / "containers" / "orders_named" / "_container.yaml").read_text())
    assert [s["container_name"] for s in named["sources"]] == ["orders", "customers"]
    field = yaml.safe_load((shop / "containers" / "orders" / "computed_fields" / "amount_x2.yaml").read_text())
    assert field["properties"] == {"column_expression": "amount * 2"}
    assert yaml.safe_load((out / "connections" / "shop_conn.yaml").read_text())["type"] == "duckdb"

    other = _server(tmp / "b")
    env["server_b"] = other
    lake_conn = other.post("/connections", {"name": "lake_conn", "type": "duckdb"})
    lake = other.post(
        "/datastores",
        {
            "name": "lake",
            "connection_id": lake_conn["id"],
            "database": str(tmp / "lake_b.duckdb"),
            "enrichment_only": True,
        },
    )
    env_b = {**env, "env": _cli_env(tmp, "home_b")}
    assert q(env_b, "auth", "init", "--url", other.url, "--token", other.token).returncode == 0
    r = q(env_b, "config", "import", "--input", str(out), timeout=300)
    assert r.returncode == 0, r.stdout
    # issue 16: the import syncs the enrichment datastore too, which succeeds with nothing to sync
    assert "error(s) encountered" not in r.stdout and "Sync completed for lake." in r.stdout, r.stdout
    synced = other.get(f"/datastores/{lake['id']}")["latest_operation"]
    assert (synced["type"], synced["result"]) == ("sync", "success"), synced
    # ?name= matches part of a name, any case: "shop" finds inline_shop too
    (ds,) = [d for d in other.get("/datastores", name="shop")["items"] if d["name"] == "shop"]
    assert ds["enrich_datastore"]["name"] == "lake" and ds["connection"]["name"] == "shop_conn"
    (inline_b,) = other.get("/datastores", name="inline_shop")["items"]
    assert (inline_b["connection"]["name"], inline_b["database"]) == ("inline_shop", str(tiny))
    assert inline_b["connection"]["id"] == inline_b["connection_id"]
    _wait_idle(other, ds["id"])
    containers = {c["name"]: c for c in other.get("/containers", datastore=ds["id"], size=100)["items"]}
    assert sorted(containers) == [
        "ct_big_orders",
        "customers",
        "north_customers",
        "order_customers",
        "orders",
        "orders_named",
    ]
    # the file datastore and its computed file came along too
    (files_b,) = other.get("/datastores", name="files")["items"]
    _wait_idle(other, files_b["id"])
    in_files = {c["name"]: c for c in other.get("/containers", datastore=files_b["id"], size=100)["items"]}
    assert sorted(in_files) == ["orders", "paid_orders"]
    assert in_files["paid_orders"]["select_clause"] == "id, amount"
    assert containers["order_customers"]["left_container_id"] == containers["orders"]["id"]
    orders = other.get(f"/containers/{containers['orders']['id']}")
    assert [f["name"] for f in orders["computed_fields"]] == ["amount_x2"]
    # issue 16: importing again updates the computed field (UpdateComputedField has no container_id)
    again = q(env_b, "config", "import", "--input", str(out), timeout=300)
    assert again.returncode == 0 and "error(s) encountered" not in again.stdout, again.stdout
    orders = other.get(f"/containers/{containers['orders']['id']}")
    assert [(f["name"], f["properties"]) for f in orders["computed_fields"]] == [
        ("amount_x2", {"column_expression": "amount * 2"})
    ]
    _wait_idle(other, ds["id"])
    # the imported checks of the computed containers run on the new server: one anomaly each
    for datastore_id, name in ((ds["id"], "order_customers"), (files_b["id"], "paid_orders")):
        op = other.post("/operations/run", {"type": "scan", "datastore_id": datastore_id, "container_names": [name]})
        deadline = time.monotonic() + 60
        while other.get(f"/operations/{op['id']}")["end_time"] is None and time.monotonic() < deadline:
            time.sleep(0.2)
        done = other.get(f"/operations/{op['id']}")
        assert done["result"] == "success" and done["status"]["anomalies_identified"] == 1, (name, done)


def test_list_filters(env):
    server = env["server"]
    server.http.put(f"/datastores/{env['ds']}", json={"tags": ["gold"]})
    server.http.patch("/containers", json=[{"id": env["joined"], "tags": ["gold"]}])
    r = q(env, "datastores", "list", "--tag", "gold", "--format", "json")
    assert "Found 1 datastores." in r.stdout, r.stdout
    r = q(env, "containers", "list", "--datastore-id", str(env["ds"]), "--tag", "gold", "--format", "json")
    assert "Found 1 containers." in r.stdout and "order_customers" in r.stdout, r.stdout

    server.post("/quality-check-templates", {"rule": "notNull", "fields": ["id"], "template_locked": True})
    server.post("/quality-check-templates", {"rule": "notNull", "fields": ["name"]})
    out = env["tmp"] / "templates.json"
    r = q(env, "checks", "export-templates", "--status", "--output", str(out))
    assert "Total check templates exported: 1" in r.stdout, r.stdout
    assert [t["template_locked"] for t in json.loads(out.read_text())] == [True]

    names = _cli_api(
        env,
        "from qualytics.api.datastores import list_datastores\n"
        "print(json.dumps([d['name'] for d in list_datastores(client, sort='-name')['items']]))",
    )
    assert names == ["shop", "lake", "inline_shop", "files"]
    recent = _cli_api(
        env,
        "from qualytics.api.anomalies import list_anomalies\n"
        f"print(json.dumps(list_anomalies(client, datastore={env['ds']}, timeframe=1, archived='include')['total']))",
    )
    assert recent == server.get("/anomalies", datastore=env["ds"], archived="include")["total"] > 0
    r = server.http.get("/datastores", params={"sort": "size"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "sort"]
