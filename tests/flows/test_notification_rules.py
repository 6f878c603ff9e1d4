"""/api/notification-rules: Qualytics' older alerting API, run as flows."""

from __future__ import annotations

import time

from tests.flows.flow_receivers import HttpReceiver
from tests.flows.flow_support import settled


def test_a_rule_notifies_in_app_and_its_receivers_until_muted(api, make_duckdb):
    hook = HttpReceiver().start()
    ds = api.duckdb_datastore("r", make_duckdb("create table t(v int)"))
    body = {
        "name": "ops",
        "trigger_type": "Operation",
        "tokenized_message": "{{ operation_type }} of {{ datastore_name }}: {{ operation_result }}",
        "receivers": [{"type": "Webhook", "parameters": {"webhook_url": f"{hook.url}/rule-SECRET"}, "secret": "k"}],
        "tags": [],
    }
    rule = api.ok("POST", "/api/notification-rules", json=body)
    assert rule["muted"] is False and rule["trigger_type"] == "Operation"
    assert [(r["type"], r["parameters"], r["secret_parameters"]) for r in rule["receivers"]] == [
        ("Webhook", {}, ["webhook_url"])
    ]
    assert api.ok("GET", "/api/flows")["total"] == 0  # rules are not flows to their API
    assert api.client.get(f"/api/flows/{rule['id']}").status_code == 404
    listing = api.client.get("/api/notification-rules")
    assert listing.json()["total"] == 1 and "SECRET" not in listing.text

    sync = api.sync(ds["id"])
    (ex,) = settled(api, rule["id"])
    assert [ae["result"] for ae in ex["action_executions"]] == ["success", "success"]
    (request,) = hook.wait_for(1)
    assert request.path == "/rule-SECRET" and request.json()["message"] == "catalog of r: success"
    assert request.json()["context"]["operation_id"] == sync["id"]
    (note,) = api.ok("GET", "/api/user-notifications")["items"]
    assert note["notification"]["message"] == "catalog of r: success"

    # replaced without the receiver's secret: the stored webhook URL is kept
    updated = api.ok(
        "PUT",
        f"/api/notification-rules/{rule['id']}",
        json={**body, "tokenized_message": "again {{ operation_id }}", "receivers": [{"type": "Webhook"}]},
    )
    assert updated["receivers"][0]["id"] == rule["receivers"][0]["id"]
    api.sync(ds["id"])
    settled(api, rule["id"], count=2)
    assert hook.wait_for(2)[1].path == "/rule-SECRET"

    assert api.ok("PATCH", f"/api/notification-rules/{rule['id']}/muted", json={"muted": True})["muted"] is True
    api.sync(ds["id"])
    time.sleep(0.5)
    assert len(hook.requests) == 2 and api.ok("GET", "/api/flows/executions")["total"] == 2
    hook.stop()

    bad = api.client.post("/api/notification-rules", json={**body, "receivers": [{"type": "Slack"}]})
    assert bad.status_code == 422 and "not a Slack incoming webhook" in bad.json()["detail"][0]["msg"]
    assert api.client.post("/api/notification-rules", json={**body, "trigger_type": "Manual"}).status_code == 422
    tokens = api.ok("GET", "/api/notification-rules/tokens")
    assert [t["trigger_type"] for t in tokens] == ["Operation", "Anomaly"]
    specs = api.ok("GET", "/api/notification-receiver/specifications")
    assert [s["type"] for s in specs] == ["Email", "Slack", "Microsoft Teams", "PagerDuty", "Webhook", "HttpAction"]
    assert api.client.delete(f"/api/notification-rules/{rule['id']}").status_code == 204
    assert api.client.get(f"/api/notification-rules/{rule['id']}").status_code == 404
