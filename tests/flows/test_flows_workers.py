"""Exactly once with several processes: two real `assay worker` processes on one
PostgreSQL metadata store run operations and deliver their flow actions."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter

import pytest
from sqlalchemy import func, select

from assay.flows.models import FlowDeliveryAttempt, Notification
from tests.cli.forkserver import start_assay
from tests.conftest import _client, make_settings
from tests.flows.flow_receivers import HttpReceiver

pytestmark = pytest.mark.postgres

OPERATIONS = 40


@pytest.fixture
def queue_only_api(pg_database, tmp_path):
    """An API server that runs nothing itself (ASSAY_WORKERS=0: no runner, no dispatcher)."""
    settings = make_settings(tmp_path, pg_database, workers=0)
    client = _client(settings)
    api = next(client)
    api.settings = settings
    yield api
    client.close()


def test_two_workers_deliver_each_event_action_once(queue_only_api, pg_database, tmp_path, make_duckdb):
    api = queue_only_api
    hook = HttpReceiver().start()
    ds = api.duckdb_datastore("w", make_duckdb("create table t(v int)", "insert into t values (1)"))
    flow = api.ok(
        "POST",
        "/api/flows",
        json={
            "name": "every op",
            "trigger_type": "Operation",
            "actions": [
                {
                    "type": "notification",
                    "notification_type": "Webhook",
                    "tokenized_message": "{{ operation_id }}",
                    "parameters": {"webhook_url": f"{hook.url}/ops"},
                    "secret": "k",
                },
                {"type": "notification", "notification_type": "InApp", "tokenized_message": "{{ operation_id }}"},
            ],
        },
    )
    ids = [
        api.ok("POST", "/api/operations/run", json={"type": "sync", "datastore_id": ds["id"]})["id"]
        for _ in range(OPERATIONS)
    ]
    env = {**os.environ, "ASSAY_DATABASE_URL": pg_database, "ASSAY_DATA_DIR": str(api.settings.data_dir)}
    logs = [tmp_path / f"w{i}.log" for i in range(2)]
    workers = [start_assay(["worker", "--threads", "2"], env=env, log=os.devnull, stderr=log) for log in logs]
    try:
        for i in ids:
            assert api.wait(i, timeout=240)["result"] == "success"
        deadline = time.monotonic() + 120
        while True:
            page = api.ok("GET", "/api/flows/executions", params={"flow": flow["id"], "result": "running", "size": 1})
            done = api.ok("GET", "/api/flows/executions", params={"flow": flow["id"], "size": 1})["total"]
            if done == OPERATIONS and page["total"] == 0:
                break
            assert time.monotonic() < deadline, (done, page["total"], (tmp_path / "w0.log").read_text()[-2000:])
            time.sleep(0.1)
        time.sleep(0.5)  # any duplicate would arrive now
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
        for w in workers:
            w.wait(60)
        hook.stop()

    # the webhook saw one request per operation, each with its own delivery id and operation
    assert len(hook.requests) == OPERATIONS
    assert len({r.headers["X-Assay-Delivery"] for r in hook.requests}) == OPERATIONS
    assert sorted(int(r.json()["message"]) for r in hook.requests) == sorted(ids)
    executions = api.ok("GET", "/api/flows/executions", params={"flow": flow["id"], "size": 1000})["items"]
    assert sorted(e["trigger_id"] for e in executions) == sorted(ids)
    assert {e["result"] for e in executions} == {"success"}
    with api.client.app.state.database.session() as s:
        attempts = s.execute(select(FlowDeliveryAttempt.action_execution_id, FlowDeliveryAttempt.worker)).all()
        notes = s.scalar(select(func.count()).select_from(Notification))
    assert Counter(Counter(a for a, _w in attempts).values()) == {1: 2 * OPERATIONS}  # one attempt each
    assert notes == OPERATIONS
    assert api.ok("GET", "/api/user-notifications")["total"] == OPERATIONS
    assert len({w for _a, w in attempts}) == 2, Counter(w for _a, w in attempts)  # both processes delivered
