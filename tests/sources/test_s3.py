"""S3 datastores (``s3://bucket/prefix``), read through s3fs registered into DuckDB, against a
local moto S3 server on 127.0.0.1 that checks signatures (IAM authentication on).

Objects are grouped into containers exactly like the files of a local folder; each object is a
partition. Without ``moto[server]`` these tests are skipped locally and fail in CI.
"""

from __future__ import annotations

import io
import json
import os
import socket

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from assay.sources import files

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
BUCKET = "assay-lake"
SECRET_MARKER = "do-not-leak"  # part of no key moto hands out; the wrong secret key used below


def _unavailable(what: str, why: Exception | str) -> None:
    message = f"{what} is not available ({why}); install the dev extra to run this test"
    if IN_CI:
        pytest.fail(f"{message} — in CI every test must run")
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3():
    """A moto S3 server on a free 127.0.0.1 port with IAM authentication on, one user with an
    access key allowed s3:*, and the bucket ``assay-lake``. Yields (endpoint, access key,
    secret key, boto3 S3 client)."""
    try:
        import boto3
        import requests
        from moto.server import ThreadedMotoServer
    except ImportError as e:
        _unavailable("moto[server]", e)
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        # The next 3 requests go unauthenticated (they create the user and its key); every
        # later one must carry a valid signature.
        requests.post(f"{endpoint}/moto-api/reset-auth", data=b"3", timeout=10).raise_for_status()
        iam = boto3.client(
            "iam",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="bootstrap",
            aws_secret_access_key="bootstrap",
        )
        iam.create_user(UserName="assay")
        iam.put_user_policy(
            UserName="assay",
            PolicyName="s3",
            PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
            ),
        )
        key = iam.create_access_key(UserName="assay")["AccessKey"]
        access_key, secret_key = key["AccessKeyId"], key["SecretAccessKey"]
        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
        )
        client.create_bucket(Bucket=BUCKET)
        yield endpoint, access_key, secret_key, client
    finally:
        try:
            requests.post(f"{endpoint}/moto-api/reset-auth", data=b"inf", timeout=10)
        finally:
            server.stop()


def _parquet(table: pa.Table) -> bytes:
    out = io.BytesIO()
    pq.write_table(table, out)
    return out.getvalue()


@pytest.fixture
def responses(api):
    """Every HTTP response body the API sends during the test, as text."""
    seen: list[str] = []

    def keep(response):
        response.read()
        seen.append(response.text)

    api.client.event_hooks["response"].append(keep)
    return seen


def _s3_datastore(api, name, uri, endpoint, access_key, secret_key, test_connection=True, **extra):
    return api.ok(
        "POST",
        "/api/datastores",
        params={} if test_connection else {"test_connection": "false"},
        json={
            "name": name,
            "connection": {
                "type": "s3",
                "uri": uri,
                "access_key": access_key,
                "secret_key": secret_key,
                "endpoint_url": endpoint,
                **extra,
            },
        },
    )


def test_s3_prefix_sync_and_scan(api, s3, responses):
    endpoint, access_key, secret_key, client = s3
    objects = {
        "sales/orders_2024_01.csv": b"id,amount\n1,10\n2,-5\n",
        "sales/orders_2024_02.csv": b"id,amount\n3,7\n4,-1\n5,2\n",
        "sales/measures.parquet": _parquet(pa.table({"x": [1.5, None, 3.0]})),
        "sales/events/logs.jsonl": b'{"level": "info"}\n{"level": null}\n',
        "sales/readme.md": b"not data\n",  # unsupported extension
        "sales/.staging/orders_2024_09.csv": b"id,amount\n9,-9\n",  # hidden folder
        "sales-archive/orders_2023_12.csv": b"id,amount\n0,-1\n",  # a sibling prefix, not under sales/
        "other/customers.csv": b"id\n1\n",  # outside the prefix
    }
    for key, body in objects.items():
        client.put_object(Bucket=BUCKET, Key=key, Body=body)

    ds = _s3_datastore(api, "Sales lake", f"s3://{BUCKET}/sales", endpoint, access_key, secret_key, region="us-east-1")
    assert (ds["store_type"], ds["type"]) == ("dfs", "s3")
    assert ds["connection"] == {
        "id": ds["connection_id"],
        "name": "Sales lake",  # an inline connection is a connection of its own, named after the datastore
        "type": "s3",
        "uri": f"s3://{BUCKET}/sales",
        "endpoint_url": endpoint,
        "region": "us-east-1",
    }  # access_key and secret_key are never returned
    assert api.ok("POST", f"/api/datastores/{ds['id']}/connection") == {
        "connected": True,
        "message": "connected; 3 container(s) found",
    }

    api.sync(ds["id"])
    listing = api.ok("GET", "/api/containers/listing", params={"datastore": ds["id"]})
    assert sorted(c["name"] for c in listing) == ["events/logs", "measures", "orders"]
    ids = {c["name"]: c["id"] for c in listing}
    got = {name: api.ok("GET", f"/api/containers/{cid}") for name, cid in ids.items()}
    assert {name: (c["file_pattern"], c["file_format"]) for name, c in got.items()} == {
        "events/logs": ("events/logs.jsonl", "json"),
        "measures": ("measures.parquet", "parquet"),
        "orders": ("orders*.csv", "csv"),
    }
    fields = api.ok("GET", f"/api/containers/{ids['orders']}/fields")
    assert [(f["name"], f["type"]) for f in fields] == [("id", "Integral"), ("amount", "Integral")]

    api.check(ids["orders"], "notNegative", ["amount"])  # ids 2 and 4
    api.check(ids["measures"], "notNull", ["x"])  # the second row
    api.check(ids["events/logs"], "notNull", ["level"])  # the second line
    op = api.scan(ds["id"])
    assert op["result"] == "success", op
    assert (
        op["status"]["records_processed"],
        op["status"]["partitions_scanned"],
        op["status"]["anomalies_identified"],
    ) == (10, 4, 4)
    assert sorted(
        (cs["container"]["name"], cs["records_processed"], cs["partitions_scanned"], cs["anomaly_count"])
        for cs in op["container_scans"]
    ) == [("events/logs", 2, 1, 1), ("measures", 3, 1, 1), ("orders", 5, 2, 2)]
    orders = [a for a in api.anomalies(datastore=ds["id"]) if a["container"]["id"] == ids["orders"]]
    assert sorted(r["id"] for a in orders for r in a["source_records"]) == [2, 4]

    # A new object of the pattern is a new partition of the same container, read by the next scan.
    client.put_object(Bucket=BUCKET, Key="sales/orders_2024_03.csv", Body=b"id,amount\n6,-3\n")
    api.sync(ds["id"])
    assert {c["name"]: c["id"] for c in api.ok("GET", "/api/containers/listing", params={"datastore": ds["id"]})} == ids
    op = api.scan(ds["id"], container_names=["orders"])
    assert op["result"] == "success", op
    assert (
        op["status"]["records_processed"],
        op["status"]["partitions_scanned"],
        op["status"]["anomalies_identified"],
    ) == (6, 3, 3)  # ids 2, 4 and 6

    assert not [text for text in responses if secret_key in text or access_key in text]


def test_wrong_credentials_missing_bucket_and_dead_endpoint_fail_with_the_reason(api, s3, responses, monkeypatch):
    endpoint, access_key, secret_key, client = s3
    client.put_object(Bucket=BUCKET, Key="checked/items.csv", Body=b"id\n1\n")
    wrong_secret = f"{SECRET_MARKER}-{secret_key[::-1]}"
    reason = "The request signature we calculated does not match the signature you provided."
    # tested when it is saved: refused with the store's reason
    refused = api.post(
        "/api/datastores",
        json={
            "name": "Wrong secret",
            "connection": {
                "type": "s3",
                "uri": f"s3://{BUCKET}/checked",
                "access_key": access_key,
                "secret_key": wrong_secret,
                "endpoint_url": endpoint,
            },
        },
    )
    assert refused.status_code == 422 and refused.json()["detail"][0]["msg"].startswith(
        f"connection test failed: cannot list s3://{BUCKET}/checked: {reason}"
    )
    # saved untested on purpose: the failure shows at sync
    wrong = _s3_datastore(
        api, "Wrong secret", f"s3://{BUCKET}/checked", endpoint, access_key, wrong_secret, test_connection=False
    )
    op = api.run({"type": "sync", "datastore_id": wrong["id"]})
    assert op["result"] == "failure"
    assert op["message"].startswith(f"cannot list s3://{BUCKET}/checked: {reason}"), op["message"]
    verdict = api.ok("POST", f"/api/datastores/{wrong['id']}/connection")
    assert verdict["connected"] is False and verdict["message"].startswith(
        f"cannot list s3://{BUCKET}/checked: {reason}"
    )

    # Fix the secret (the access key is kept): the same datastore syncs.
    api.ok(
        "PUT",
        f"/api/datastores/{wrong['id']}",
        json={
            "connection": {
                "type": "s3",
                "uri": f"s3://{BUCKET}/checked",
                "endpoint_url": endpoint,
                "secret_key": secret_key,
            }
        },
    )
    api.sync(wrong["id"])
    assert [c["name"] for c in api.ok("GET", "/api/containers/listing", params={"datastore": wrong["id"]})] == ["items"]
    # …and a scan with the secret broken again fails as a whole, with the store's reason.
    api.check(api.container_id(wrong["id"], "items"), "notNull", ["id"])
    api.ok(
        "PUT",
        f"/api/datastores/{wrong['id']}",
        params={"test_connection": "false"},
        json={
            "connection": {
                "type": "s3",
                "uri": f"s3://{BUCKET}/checked",
                "endpoint_url": endpoint,
                "secret_key": wrong_secret,
            }
        },
    )
    op = api.scan(wrong["id"])
    assert op["result"] == "failure" and reason in op["message"], op

    missing = _s3_datastore(
        api, "No bucket", "s3://no-such-bucket/x", endpoint, access_key, secret_key, test_connection=False
    )
    op = api.run({"type": "sync", "datastore_id": missing["id"]})
    assert (op["result"], op["message"]) == (
        "failure",
        "cannot list s3://no-such-bucket/x: The specified bucket does not exist",
    )

    # One attempt only: botocore would otherwise back off and retry the refused connection.
    monkeypatch.setattr(files, "S3_MAX_ATTEMPTS", 1)
    dead = _s3_datastore(
        api,
        "Dead endpoint",
        f"s3://{BUCKET}/checked",
        f"http://127.0.0.1:{_free_port()}",
        access_key,
        secret_key,
        test_connection=False,
    )
    verdict = api.ok("POST", f"/api/datastores/{dead['id']}/connection")
    assert verdict["connected"] is False
    assert verdict["message"].startswith(f"cannot list s3://{BUCKET}/checked: Could not connect to the endpoint URL")

    leaked = [text for text in responses if SECRET_MARKER in text or secret_key in text or access_key in text]
    assert not leaked


def test_s3_bodies_are_validated(api):
    cases = [
        ({"type": "s3", "uri": "file:///tmp/lake"}, ["body", "connection", "uri"]),
        ({"type": "s3", "uri": "s3://"}, ["body", "connection", "uri"]),
        ({"type": "s3"}, ["body", "connection", "uri"]),
        (
            {"type": "s3", "uri": "s3://bucket/x", "endpoint_url": "127.0.0.1:9000"},
            ["body", "connection", "endpoint_url"],
        ),
    ]
    for connection, loc in cases:
        r = api.post("/api/datastores", json={"name": "x", "connection": connection})
        assert r.status_code == 422, (connection, r.text)
        assert r.json()["detail"][0]["loc"] == loc, (connection, r.json())
    assert api.ok("GET", "/api/datastores")["total"] == 0


def test_s3_delta_table_is_read_at_its_current_version(api, s3, tmp_path):
    """A Delta table under the prefix (written locally by delta-rs, then uploaded): version 0
    ids 1-3 (amounts 100, 200, 300), overwritten by version 1 ids 10-12 (amounts -2, 3, -7),
    then version 2 appends id 13 (amount -9): the container holds ids 10-13, three of them
    negative; version 0's file, still in the bucket, is never read."""
    from deltalake import write_deltalake

    endpoint, access_key, secret_key, client = s3
    table = tmp_path / "sales"
    write_deltalake(table, pa.table({"id": [1, 2, 3], "amount": [100, 200, 300]}))
    write_deltalake(table, pa.table({"id": [10, 11, 12], "amount": [-2, 3, -7]}), mode="overwrite")
    write_deltalake(table, pa.table({"id": [13], "amount": [-9]}), mode="append")
    uploaded = sorted(p.relative_to(table).as_posix() for p in table.rglob("*") if p.is_file())
    for rel in uploaded:
        client.put_object(Bucket=BUCKET, Key=f"deltalake/sales/{rel}", Body=(table / rel).read_bytes())
    assert sum(rel.endswith(".parquet") for rel in uploaded) == 3

    ds = _s3_datastore(api, "Delta lake", f"s3://{BUCKET}/deltalake", endpoint, access_key, secret_key)
    api.sync(ds["id"])
    listing = api.ok("GET", "/api/containers/listing", params={"datastore": ds["id"]})
    assert [c["name"] for c in listing] == ["sales"]
    sales = listing[0]["id"]
    container = api.ok("GET", f"/api/containers/{sales}")
    assert (container["file_pattern"], container["file_format"]) == ("sales", "delta")
    fields = api.ok("GET", f"/api/containers/{sales}/fields")
    assert [(f["name"], f["type"]) for f in fields] == [("id", "Integral"), ("amount", "Integral")]
    api.check(sales, "notNegative", ["amount"])
    op = api.scan(ds["id"])
    assert op["result"] == "success", op
    assert (
        op["status"]["records_processed"],
        op["status"]["partitions_scanned"],
        op["status"]["anomalies_identified"],
    ) == (4, 1, 3)
    anomalies = api.anomalies(datastore=ds["id"])
    assert sorted(r["id"] for a in anomalies for r in a["source_records"]) == [10, 12, 13]
