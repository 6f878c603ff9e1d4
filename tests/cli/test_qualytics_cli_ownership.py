"""qualytics-cli 1.2.2 (unchanged, from PyPI) against a live ``assay serve``: check owners and
default anomaly assignees (``checks create/update --owner-id --default-anomaly-assignee-id``)
and anomaly triage (``anomalies update --description --assignee-ids``) are stored and
returned, not silently dropped (issue 16, CLI item 8).

Data: ``orders`` has 4 rows, one with a negative amount, so a ``notNegative`` check on
``amount`` raises exactly one record anomaly per scan. The tests run in file order and share
one server (the anomaly of the first is triaged by the last), as in test_qualytics_cli.py.
"""

from __future__ import annotations

import json
import time

import duckdb
import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from assay.store.models import User
from tests.cli.test_qualytics_cli import Server, _install_cli, q


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    exe = _install_cli()
    tmp = tmp_path_factory.mktemp("ownership")
    con = duckdb.connect(str(tmp / "shop.duckdb"))
    con.execute("CREATE TABLE orders (id INTEGER, amount INTEGER)")
    con.execute("INSERT INTO orders VALUES (1, 10), (2, -5), (3, 7), (4, 0)")
    con.close()
    server = Server(tmp)
    engine = create_engine(f"sqlite:///{tmp / 'assay' / 'assay.db'}")
    with Session(engine) as s:
        alice = User(name="Alice", email="alice@example.com", role="Member")
        bob = User(name="Bob", email="bob@example.com", role="Member")
        s.add_all([alice, bob])
        s.commit()
        users = {"alice": alice.id, "bob": bob.id}
    engine.dispose()
    ds = server.post(
        "/datastores", {"name": "shop", "connection": {"type": "duckdb"}, "database": str(tmp / "shop.duckdb")}
    )
    home = tmp / "home"
    home.mkdir()
    cli_env = {
        "HOME": str(home),
        "QUALYTICS_CONFIG_HOME": str(home / ".qualytics"),
        "QUALYTICS_NO_BANNER": "1",
        "CI": "1",
        "COLUMNS": "10000",
        "PATH": "/usr/bin:/bin",
    }
    state = {"exe": exe, "server": server, "env": cli_env, "tmp": tmp, "ds": ds["id"], **users}
    r = q(state, "auth", "init", "--url", server.url, "--token", server.token)
    assert r.returncode == 0, r.stdout
    assert _run(server, {"type": "sync", "datastore_id": ds["id"]})["result"] == "success"
    yield state
    server.stop()


def _write(env, name: str, body) -> str:
    path = env["tmp"] / name
    path.write_text(json.dumps(body))
    return str(path)


def _run(server, payload: dict) -> dict:
    """Run an operation through the API (the CLI's own operation commands are covered by
    tests/cli/test_qualytics_cli.py; each CLI start costs seconds) and wait for its end."""
    op = server.post("/operations/run", payload)
    deadline = time.monotonic() + 60
    while not op["end_time"]:
        assert time.monotonic() < deadline, op
        time.sleep(0.1)
        op = server.get(f"/operations/{op['id']}")
    return op


def _scan(env) -> dict:
    op = _run(env["server"], {"type": "scan", "datastore_id": env["ds"]})
    assert op["result"] == "success", op
    return op


def test_checks_create_and_update_store_owner_and_default_assignee(env):
    server = env["server"]
    check_file = _write(
        env,
        "check.json",
        {"rule_type": "notNegative", "container": "orders", "fields": ["amount"], "description": "no refunds here"},
    )
    r = q(
        env,
        "checks",
        "create",
        "--datastore-id",
        str(env["ds"]),
        "-f",
        check_file,
        "--owner-id",
        str(env["alice"]),
        "--default-anomaly-assignee-id",
        str(env["bob"]),
    )
    assert "Created 1, failed 0 of 1 checks." in r.stdout, r.stdout
    (check,) = server.get("/quality-checks", datastore=env["ds"])["items"]
    assert (check["owner_id"], check["owner"]["name"]) == (env["alice"], "Alice")
    assert check["default_anomaly_assignee_id"] == env["bob"]
    env["check"] = check["id"]

    # the scan's anomaly goes to the check's default assignee
    op = _scan(env)
    (anomaly,) = server.get("/anomalies", quality_check=check["id"])["items"]
    assert anomaly["operation_id"] == op["id"]
    assert [u["name"] for u in anomaly["assignees"]] == ["Bob"]
    env["anomaly"] = anomaly["id"]

    # update: a new owner, and 0 clears the default assignee
    r = q(
        env,
        "checks",
        "update",
        "--id",
        str(check["id"]),
        "-f",
        _write(env, "update.json", {"description": "still no refunds"}),
        "--owner-id",
        str(env["bob"]),
        "--default-anomaly-assignee-id",
        "0",
    )
    assert f"Quality check {check['id']} updated successfully." in r.stdout, r.stdout
    got = server.get(f"/quality-checks/{check['id']}")
    assert (got["description"], got["owner_id"], got["default_anomaly_assignee_id"]) == (
        "still no refunds",
        env["bob"],
        None,
    )


def test_checks_create_with_an_unknown_owner_fails_and_says_why(env):
    server = env["server"]
    before = server.get("/quality-checks", datastore=env["ds"])["total"]
    check_file = _write(env, "check2.json", {"rule_type": "notNull", "container": "orders", "fields": ["id"]})
    r = q(env, "checks", "create", "--datastore-id", str(env["ds"]), "-f", check_file, "--owner-id", "4242")
    assert "Created 0, failed 1 of 1 checks." in r.stdout, r.stdout
    assert "user 4242 does not exist" in r.stdout, r.stdout
    assert server.get("/quality-checks", datastore=env["ds"])["total"] == before


def test_anomalies_update_stores_description_and_assignees(env):
    server = env["server"]
    aid = env["anomaly"]
    message = server.get(f"/anomalies/{aid}")["message"]
    r = q(
        env,
        "anomalies",
        "update",
        "--id",
        str(aid),
        "--status",
        "Acknowledged",
        "--description",
        "refund, expected",
        "--assignee-ids",
        f"{env['alice']},{env['bob']}",
    )
    assert f"Anomaly {aid} updated to 'Acknowledged'." in r.stdout, r.stdout
    got = server.get(f"/anomalies/{aid}")
    assert (got["status"], got["description"], got["message"]) == ("Acknowledged", "refund, expected", message)
    assert [u["name"] for u in got["assignees"]] == ["Alice", "Bob"]

    # the bulk form (PATCH): an empty --assignee-ids clears them
    r = q(env, "anomalies", "update", "--ids", str(aid), "--status", "Active", "--assignee-ids", "")
    assert "Updated 1 anomalies to 'Active'." in r.stdout, r.stdout
    got = server.get(f"/anomalies/{aid}")
    assert (got["status"], got["assignees"], got["description"]) == ("Active", [], "refund, expected")
