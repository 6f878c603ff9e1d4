"""Schemathesis against the ASGI app, every operation of /api/openapi.json, with real data
present (a synced DuckDB datastore, checks, a scan's anomalies, an enrichment datastore, a
schedule) so that generated ids often exist: no server error, only documented status codes,
responses that match their documented schemas. Examples per operation are bounded
(``MAX_EXAMPLES``) so the whole run stays well under a minute."""

from __future__ import annotations

import duckdb
import pytest
from fastapi.testclient import TestClient

from assay.api.app import create_app
from assay.operations.runner import Runner
from assay.security import issue_token
from assay.store.db import dispose_engine
from tests.conftest import make_settings

MAX_EXAMPLES = 6


def _run(client, db, payload) -> dict:
    op = client.post("/api/operations/run", json=payload).json()
    Runner(db, workers=1)._claim_and_run(op["id"])
    return client.get(f"/api/operations/{op['id']}").json()


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("schemathesis")
    settings_ = make_settings(tmp, workers=0)
    source = tmp / "shop.duckdb"
    con = duckdb.connect(str(source))
    con.execute("create table orders (id integer, amount double, status varchar, placed timestamp)")
    con.execute(
        "insert into orders values (1, 10.5, 'paid', '2024-01-01'), (2, -3, 'paid', '2024-01-02'), "
        "(3, NULL, 'refunded', NULL), (3, 7, 'bogus', '2099-01-01')"
    )
    con.close()
    app = create_app(settings_)
    with TestClient(app) as client:
        with app.state.database.session() as session:
            _row, token = issue_token(session, settings_.secret_key, name="schemathesis")
        client.headers["Authorization"] = f"Bearer {token}"
        db = app.state.database
        ds = client.post(
            "/api/datastores", json={"name": "shop", "connection": {"type": "duckdb"}, "database": str(source)}
        ).json()
        enrichment = client.post(
            "/api/datastores",
            json={
                "name": "shop_enrichment",
                "connection": {"type": "duckdb"},
                "database": str(tmp / "enrichment.duckdb"),
                "enrichment_only": True,
            },
        ).json()
        client.patch(f"/api/datastores/{ds['id']}/enrichment/{enrichment['id']}")
        assert _run(client, db, {"type": "sync", "datastore_id": ds["id"]})["result"] == "success"
        orders = client.get("/api/containers/listing", params={"datastore": ds["id"]}).json()[0]["id"]
        for rule, fields, props in (
            ("notNull", ["amount"], {}),
            ("notNegative", ["amount"], {}),
            ("unique", ["id"], {}),
            ("expectedValues", ["status"], {"list": ["paid", "refunded"]}),
        ):
            r = client.post(
                "/api/quality-checks",
                json={"container_id": orders, "rule": rule, "fields": fields, "properties": props},
            )
            assert r.status_code == 200, r.text
        assert _run(client, db, {"type": "scan", "datastore_id": ds["id"]})["result"] == "success"
        client.post(
            "/api/operations/schedule",
            json={"type": "scan", "datastore_id": ds["id"], "name": "nightly", "crontab": "0 0 * * *"},
        )
        import schemathesis  # here, not at the top: every test process collects this file

        schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
        schema.config.headers = {"Authorization": f"Bearer {token}"}
        yield schema
    dispose_engine(settings_.database_url)


def test_api_conforms_to_its_openapi_schema(api_schema):
    """Every operation, MAX_EXAMPLES generated requests each; all failures listed at the end.
    (A loop over the operations rather than schemathesis' pytest plugin, whose lazy fixtures
    do not work with this pytest.)"""
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 50
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
        def run(case):
            case.call_and_validate(checks=[not_a_server_error, status_code_conformance, response_schema_conformance])

        try:
            run()
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as e:  # noqa: BLE001 - schemathesis raises exception groups; all listed below
            failures.append(f"{operation.method.upper()} {operation.path}: {str(e).strip()[:800]}")
    assert not failures, f"{len(failures)} operation(s) failed:\n\n" + "\n\n".join(failures)
