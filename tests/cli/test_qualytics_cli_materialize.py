"""`qualytics operations materialize` (qualytics-cli 1.2.2, unchanged) against a live `assay serve`.

The source has a table ``orders`` (3 rows) and a computed table ``big_orders`` (the 2 orders
over 10); the materialize operation copies them into the linked enrichment DuckDB file as
``_shop_mat_orders`` and ``_shop_mat_big_orders`` (Qualytics' ``<prefix>_mat_<container>``).
"""

from __future__ import annotations

import time

import duckdb
import pytest

from tests.cli.test_qualytics_cli import Server, q
from tests.tools import tool_from_pypi


def _rows(path, table: str) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(f'select * from "{table}" order by 1').fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    exe = tool_from_pypi("qualytics-cli")
    tmp = tmp_path_factory.mktemp("materialize")
    con = duckdb.connect(str(tmp / "shop.duckdb"))
    con.execute("create table orders(id integer, amount double)")
    con.execute("insert into orders values (1, 5.0), (2, 20.0), (3, 30.5)")
    con.close()
    server = Server(tmp)
    home = tmp / "home"
    home.mkdir()
    cli_env = {
        "HOME": str(home),
        "PATH": "/usr/bin:/bin",
        "QUALYTICS_CONFIG_HOME": str(home / ".qualytics"),
        "QUALYTICS_NO_BANNER": "1",
        "CI": "1",
        "COLUMNS": "10000",
    }
    state = {"exe": exe, "server": server, "env": cli_env, "tmp": tmp}
    r = q(state, "auth", "init", "--url", server.url, "--token", server.token)
    assert r.returncode == 0, r.stdout
    ds = server.post(
        "/datastores",
        {"name": "shop", "connection": {"type": "duckdb"}, "database": str(tmp / "shop.duckdb"), "schema": "main"},
    )
    lake = server.post(
        "/datastores",
        {
            "name": "lake",
            "connection": {"type": "duckdb"},
            "database": str(tmp / "lake.duckdb"),
            "enrichment_only": True,
        },
    )
    state.update(ds=ds["id"], lake=tmp / "lake.duckdb")
    yield state, lake["id"]
    server.stop()


def _run(state, *args) -> dict:
    server = state["server"]
    r = q(state, "operations", "materialize", "--datastore-id", str(state["ds"]), "--poll-interval", "1", *args)
    assert "Successfully Finished Materialize operation" in r.stdout, r.stdout
    ops = server.get("/operations", datastore=state["ds"], operation_type="materialize", sort_created="desc")
    return server.get(f"/operations/{ops['items'][0]['id']}")


def test_materialize_without_enrichment_is_refused(env):
    state, _lake = env
    r = q(state, "operations", "materialize", "--datastore-id", str(state["ds"]))
    assert "Failed Materialize for datastore" in r.stdout, r.stdout
    response = state["server"].http.post("/operations/run", json={"type": "materialize", "datastore_id": state["ds"]})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "datastore_id"]
    assert "no enrichment datastore linked" in response.json()["detail"][0]["msg"]


def test_materialize_copies_tables_and_computed_tables(env):
    state, lake = env
    server = state["server"]
    assert server.http.patch(f"/datastores/{state['ds']}/enrichment/{lake}").status_code == 200
    op = server.post("/operations/run", {"type": "sync", "datastore_id": state["ds"]})
    for _ in range(200):
        if server.get(f"/operations/{op['id']}")["end_time"]:
            break
        time.sleep(0.1)
    server.post(
        "/containers",
        {
            "datastore_id": state["ds"],
            "name": "big_orders",
            "query": "select id, amount from orders where amount > 10",
        },
    )
    op = _run(state)
    assert op["result"] == "success" and op["type"] == "materialize", op
    assert op["status"] == {
        "total_containers": 2,
        "containers_analyzed": 2,
        "records_processed": 5,  # 2 big orders + 3 orders
        "all_containers": True,  # no selection: every container, and the operation says so (issue 16)
        "tables": ["_shop_mat_big_orders", "_shop_mat_orders"],
    }
    assert op["max_records_per_partition"] == -1
    assert sorted(c["name"] for c in op["containers"]) == ["big_orders", "orders"]
    assert _rows(state["lake"], "_shop_mat_orders") == [(1, 5.0), (2, 20.0), (3, 30.5)]
    assert _rows(state["lake"], "_shop_mat_big_orders") == [(2, 20.0), (3, 30.5)]

    # one container, one row: the table is replaced, not appended to
    op = _run(state, "--container-names", "orders", "--max-records-per-partition", "1")
    assert (op["status"]["records_processed"], op["max_records_per_partition"]) == (1, 1)
    assert op["container_names"] == ["orders"]
    assert (op["status"]["total_containers"], op["status"]["all_containers"]) == (1, False)
    assert len(_rows(state["lake"], "_shop_mat_orders")) == 1


@pytest.mark.parametrize(
    ("payload", "loc", "words"),
    [
        ({"container_names": ["nope"]}, ["body", "container_names"], "no container named 'nope'"),
        ({"max_records_per_partition": 0}, ["body", "materialize", "max_records_per_partition"], "at least 1"),
    ],
)
def test_bad_materialize_payloads_are_422(env, payload, loc, words):
    state, lake = env
    # linked here too (idempotent): under xdist this test may run without the others
    assert state["server"].http.patch(f"/datastores/{state['ds']}/enrichment/{lake}").status_code == 200
    r = state["server"].http.post(
        "/operations/run", json={"type": "materialize", "datastore_id": state["ds"], **payload}
    )
    assert r.status_code == 422, r.text
    (item,) = r.json()["detail"]
    assert item["loc"] == loc and words in item["msg"], item
