"""The OpenAPI document is complete and consumable.

* Every operation (but the health probe) declares a non-empty 2xx schema, a unique
  ``operationId`` (its handler's name) and the error answers it may give, all with the
  one ``Error`` shape; the document passes ``openapi-spec-validator``.
* Real error answers (401, 404, 409, 422 in both forms) match the documented ``Error``.
* A typed Python client generated from ``/api/openapi.json`` with ``openapi-python-client``
  (installed from PyPI into its own virtual environment under ``.cache``, as the
  qualytics-cli conformance test does, because its pins clash with ours) imports, and
  drives a live ``assay serve`` through a sync, a check, a scan and a 404, every answer
  parsed into its typed model.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

import duckdb
import jsonschema
import pytest
from openapi_spec_validator import validate

from tests.cli.test_qualytics_cli import Server
from tests.tools import tool_from_pypi, tool_venv

ROOT = Path(__file__).resolve().parents[2]
GENERATOR_VENV = tool_venv("openapi-python-client")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
UNDOCUMENTED = {"/api/health"}  # 204, no body


@pytest.fixture
def spec(api) -> dict:
    r = api.client.get("/api/openapi.json")
    assert r.status_code == 200
    return r.json()


def _operations(spec: dict):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_every_operation_declares_its_answer_its_errors_and_a_unique_id(spec):
    validate(spec)  # OpenAPI 3.1, structurally valid
    ids = [op["operationId"] for _path, _method, op in _operations(spec)]
    assert len(ids) == len(set(ids)) and len(ids) >= 85
    assert {"run_operation", "abort_operation", "list_datastores", "create_check", "heartbeat_head"} <= set(ids)
    error_ref = {"$ref": "#/components/schemas/Error"}
    for path, method, op in _operations(spec):
        where = f"{method.upper()} {path}"
        responses = op["responses"]
        ok = [code for code in responses if code.startswith("2")]
        if path == "/api/cli/authorize":  # the browser handshake: an HTML page, then redirects
            assert "302" in responses and ok in ([], ["200"]), where
            continue
        assert len(ok) == 1, where
        if ok[0] != "204" and path not in UNDOCUMENTED:
            schema = responses[ok[0]]["content"]["application/json"]["schema"]
            assert schema not in ({}, {"type": "object"}, {"additionalProperties": True, "type": "object"}), where
        errors = {code: r for code, r in responses.items() if code.startswith("4")}
        for code, response in errors.items():
            assert response["content"]["application/json"]["schema"] == error_ref, (where, code)
        expected = set()
        if op.get("security"):
            expected |= {"401", "403"}
        if path == "/api/auth/sign-in":  # wrong credentials; throttled
            expected |= {"401", "429"}
        if path == "/api/auth/setup":  # a bad or used set-up link
            expected.add("401")
        if op.get("parameters") or op.get("requestBody"):
            expected |= {"404", "422"}
        if method in ("post", "put", "patch", "delete"):
            expected.add("409")
        if op.get("requestBody"):
            expected.add("413")
        assert set(errors) == expected, (where, sorted(errors))
    public = {path for path, _m, op in _operations(spec) if not op.get("security")}
    # sign-in and the first Admin's one-time set-up come before any token
    assert public == {"/api/health", "/api/status", "/api/cli/authorize", "/api/auth/sign-in", "/api/auth/setup"}
    assert "HTTPValidationError" not in spec["components"]["schemas"]


def test_error_answers_have_the_documented_shape(api, spec, make_duckdb):
    schema = {"$ref": "#/components/schemas/Error", "components": spec["components"]}
    ds = api.duckdb_datastore("src", make_duckdb("create table t (id integer)"))
    answers = {
        401: api.client.get("/api/datastores", headers={"Authorization": "Bearer nope"}),
        404: api.client.get("/api/datastores/999999"),
        409: api.client.post(
            "/api/datastores", json={"name": "src", "connection": {"type": "duckdb"}, "database": "/tmp/x.duckdb"}
        ),
        422: api.client.post("/api/operations/run", json={"type": "scan", "datastore_id": "x"}),
    }
    for code, r in answers.items():
        assert r.status_code == code, (code, r.text)
        jsonschema.validate(r.json(), schema)
    assert answers[404].json() == {"detail": "Datastore 999999 not found"}
    assert answers[422].json()["detail"][0]["loc"] == ["body", "scan", "datastore_id"]
    # a 422 raised by the service (ValidationError) names the field the same way
    r = api.client.post("/api/operations/run", json={"type": "scan", "datastore_id": ds["id"], "remediation": "append"})
    assert r.status_code == 422
    jsonschema.validate(r.json(), schema)
    assert [e["loc"] for e in r.json()["detail"]] == [["body", "remediation"]]
    # 422s about query parameters name them too (these were bare sentences before)
    r = api.client.post("/api/export/checks", params={"datastore": ds["id"]})
    assert r.status_code == 422
    jsonschema.validate(r.json(), schema)
    assert [e["loc"] for e in r.json()["detail"]] == [["query", "datastore"]], r.text
    r = api.client.get("/api/cli/authorize", params={"redirect_uri": "http://example.com/cb", "state": "s"})
    assert r.status_code == 422
    jsonschema.validate(r.json(), schema)
    assert [e["loc"] for e in r.json()["detail"]] == [["query", "redirect_uri"]], r.text
    # a number out of range in the URL: the sentence form
    r = api.client.get("/api/datastores/9223372036854775808")
    assert r.status_code == 422 and "out of range" in r.json()["detail"]
    jsonschema.validate(r.json(), schema)


def _generator() -> Path:
    return tool_from_pypi("openapi-python-client")


DRIVER = textwrap.dedent(
    """
    import json, sys, time

    from assay_client import AuthenticatedClient
    from assay_client.api.anomalies import list_anomalies
    from assay_client.api.containers import listing
    from assay_client.api.datastores import create_datastore, get_datastore
    from assay_client.api.operations import get_operation, run_operation
    from assay_client.api.quality_checks import create_check
    from assay_client.models import (
        AnomalyPage, ConnectionIn, Datastore, DatastoreCreate, Error, QualityCheck, QualityCheckCreate,
        ScanOperation, ScanOperationResult, SyncOperation, SyncOperationResult, SyncOperationType,
    )

    url, token, path = sys.argv[1:4]
    client = AuthenticatedClient(base_url=url, token=token, raise_on_unexpected_status=True)

    def wait(op_id):
        for _ in range(1200):
            op = get_operation.sync(client=client, operation_id=op_id)
            if op.end_time:
                return op
            time.sleep(0.1)
        raise TimeoutError(op_id)

    ds = create_datastore.sync(
        client=client, body=DatastoreCreate(name="typed", connection=ConnectionIn(type_="duckdb"), database=path)
    )
    assert isinstance(ds, Datastore), ds
    sync = run_operation.sync(client=client, body=SyncOperation(type_=SyncOperationType.SYNC, datastore_id=ds.id))
    assert isinstance(sync, SyncOperationResult), sync
    sync = wait(sync.id)
    (t,) = [c for c in listing.sync(client=client, datastore=[ds.id]) if c.name == "t"]
    check = create_check.sync(client=client, body=QualityCheckCreate(rule="notNull", container_id=t.id, fields=["v"]))
    assert isinstance(check, QualityCheck), check
    scan = run_operation.sync(client=client, body=ScanOperation(type_="scan", datastore_id=ds.id))
    scan = wait(scan.id)
    assert isinstance(scan, ScanOperationResult), scan
    anomalies = list_anomalies.sync(client=client, datastore=[ds.id])
    assert isinstance(anomalies, AnomalyPage), anomalies
    missing = get_datastore.sync(client=client, datastore_id=999999)
    assert isinstance(missing, Error), missing
    print(json.dumps({
        "datastore": [ds.name, ds.type_, ds.enrichment_only],
        "sync": [type(sync).__name__, sync.result],
        "check": [check.rule_type, [f.name for f in check.fields]],
        "scan": [type(scan).__name__, scan.result, scan.status.additional_properties["anomalies_identified"],
                 [cs.result for cs in scan.container_scans]],
        "anomalies": [anomalies.total, [a.container.name for a in anomalies.items]],
        "missing": missing.detail,
    }))
    """
)


def test_a_generated_typed_client_drives_a_live_server(tmp_path):
    generator = _generator()
    data = tmp_path / "data.duckdb"
    con = duckdb.connect(str(data))
    con.execute("CREATE TABLE t AS SELECT * FROM (VALUES (1, 1), (2, NULL), (3, 3)) x(id, v)")
    con.close()
    server = Server(tmp_path)
    try:
        spec = server.http.get("/openapi.json").json()
        (tmp_path / "openapi.json").write_text(json.dumps(spec))
        out = tmp_path / "client"
        out.mkdir()
        r = subprocess.run(
            [str(generator), "generate", "--path", str(tmp_path / "openapi.json"), "--meta", "none"],
            cwd=out,
            capture_output=True,
            text=True,
        )
        assert r.returncode == 0, r.stdout + r.stderr
        assert "Unable to" not in r.stdout + r.stderr, r.stdout + r.stderr  # every schema was understood
        (tmp_path / "driver.py").write_text(DRIVER)
        r = subprocess.run(
            [str(GENERATOR_VENV / "bin" / "python"), str(tmp_path / "driver.py"), server.url, server.token, str(data)],
            env={"PYTHONPATH": str(out), "PATH": os.environ["PATH"]},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert r.returncode == 0, r.stdout + r.stderr
    finally:
        server.stop()
    assert json.loads(r.stdout.strip().splitlines()[-1]) == {
        "datastore": ["typed", "duckdb", False],
        "sync": ["SyncOperationResult", "success"],
        "check": ["notNull", ["v"]],
        "scan": ["ScanOperationResult", "success", 1, ["success"]],
        "anomalies": [1, ["t"]],
        "missing": "Datastore 999999 not found",
    }
