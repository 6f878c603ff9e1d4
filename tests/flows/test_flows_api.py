"""The flow and user-notification routes: shapes, validation (422 naming the field),
secrets encrypted at rest and never returned, acknowledging notifications."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from assay.security import decrypt_secrets, issue_token
from assay.store.models import User
from tests.flows.flow_receivers import HttpReceiver, free_port
from tests.flows.flow_support import settled

SLACK_URL = "https://hooks.slack.com/services/T9/B9/tokSECRET1"
SMTP_PORT = free_port()


def _slack_flow(api, **extra):
    return api.ok(
        "POST",
        "/api/flows",
        json={
            "name": "slack ops",
            "trigger_type": "Operation",
            "actions": [
                {
                    "type": "notification",
                    "notification_type": "Slack",
                    "tokenized_message": "{{ operation_type }} {{ operation_result }}",
                    "parameters": {"webhook_url": SLACK_URL, "channel": "dq"},
                },
                {
                    "type": "notification",
                    "notification_type": "Email",
                    "parameters": {
                        "emails": "a@example.com",
                        "smtp_host": "127.0.0.1",
                        "smtp_port": SMTP_PORT,  # nobody listens: the email action fails
                        "smtp_password": "pw-SECRET-2",
                    },
                },
                {
                    "type": "notification",
                    "notification_type": "PagerDuty",
                    "parameters": {"routing_key": "rk-SECRET-3"},
                },
            ],
            **extra,
        },
    )


def test_secrets_are_encrypted_at_rest_and_never_returned(api, monkeypatch):
    stand_in = HttpReceiver().start()  # Slack and PagerDuty stand-in: no test talks to the real services
    monkeypatch.setenv("ASSAY_FLOWS_SLACK_URL", f"{stand_in.url}/services")
    monkeypatch.setenv("ASSAY_FLOWS_PAGERDUTY_URL", f"{stand_in.url}/pd")
    flow = _slack_flow(api)
    slack, email, pagerduty = flow["actions"]
    assert slack["parameters"] == {"channel": "dq"} and slack["secret_parameters"] == ["webhook_url"]
    assert email["parameters"] == {"emails": "a@example.com", "smtp_host": "127.0.0.1", "smtp_port": SMTP_PORT}
    assert email["secret_parameters"] == ["smtp_password"] and pagerduty["secret_parameters"] == ["routing_key"]
    api.ok("POST", f"/api/flows/{flow['id']}/execute")
    (execution,) = settled(api, flow["id"])
    assert [ae["result"] for ae in execution["action_executions"]] == ["success", "failure", "success"]
    assert sorted(r.path for r in stand_in.requests) == ["/pd", "/services/T9/B9/tokSECRET1"]
    for path in (
        f"/api/flows/{flow['id']}",
        "/api/flows",
        "/api/flows/listing",
        f"/api/flows/actions/{flow['id']}",
        "/api/flows/executions",
    ):
        body = api.client.get(path).text
        assert "SECRET" not in body, path
    db = api.client.app.state.database
    key = api.client.app.state.settings.secret_key
    with db.engine.connect() as conn:
        rows = conn.execute(text("select parameters, secrets from flow_action order by id")).all()
    assert all("SECRET" not in json.dumps(p) and "SECRET" not in s for p, s in rows)
    assert [decrypt_secrets(key, s) for _p, s in rows] == [
        {"webhook_url": SLACK_URL},
        {"smtp_password": "pw-SECRET-2"},
        {"routing_key": "rk-SECRET-3"},
    ]

    # PUT with the action's id and without the secret keeps the stored one: a test send through
    # the stored action still reaches the (stand-in) Slack webhook
    updated = api.ok(
        "PUT",
        f"/api/flows/{flow['id']}",
        json={
            "name": "renamed",
            "trigger_type": "Operation",
            "actions": [
                {
                    "id": slack["id"],
                    "type": "notification",
                    "notification_type": "Slack",
                    "tokenized_message": "{{ flow_name }} says hi",
                    "parameters": {"channel": "alerts"},
                }
            ],
        },
    )
    assert [a["id"] for a in updated["actions"]] == [slack["id"]] and updated["name"] == "renamed"
    answer = api.ok("POST", f"/api/flows/actions/notifications/{slack['id']}/test")
    assert answer == {"delivery_response": "Slack accepted the notification", "success": True}
    request = stand_in.wait_for(3)[-1]
    assert request.path == "/services/T9/B9/tokSECRET1"
    assert request.json()["channel"] == "#alerts"
    assert request.json()["attachments"][0]["text"] == "renamed says hi"
    stand_in.stop()
    with db.engine.connect() as conn:
        assert conn.execute(text("select count(*) from flow_action")).scalar() == 1


@pytest.mark.parametrize(
    ("body", "loc", "words"),
    [
        ({"trigger_type": "Operation", "filter_datastores": [987]}, ["filter_datastores"], "no datastore with id 987"),
        (
            {"trigger_type": "Anomaly", "filter_operation_type": ["scan"]},
            ["filter_operation_type"],
            "trigger Operation",
        ),
        ({"trigger_type": "Operation", "weight_threshold": 3}, ["check_rule_types"], "trigger Anomaly"),
        ({"trigger_type": "Anomaly", "check_rule_types": ["noSuchRule"]}, ["check_rule_types"], "noSuchRule"),
        ({"trigger_type": "Sometimes"}, ["trigger_type"], "Operation"),
        (
            {"trigger_type": "Operation", "actions": [{"notification_type": "InApp", "tokenized_message": "{{ x }}"}]},
            ["actions", 0, "tokenized_message"],
            "unknown token(s) for trigger Operation: {{ x }}",
        ),
        (
            {
                "trigger_type": "Operation",
                "actions": [{"notification_type": "Slack", "parameters": {"webhook_url": "https://example.com/x"}}],
            },
            ["actions", 0, "parameters"],
            "not a Slack incoming webhook",
        ),
        (
            {
                "trigger_type": "Operation",
                "actions": [{"notification_type": "Email", "parameters": {"emails": "nope"}}],
            },
            ["actions", 0, "parameters"],
            "not an email address: nope",
        ),
        (
            {"trigger_type": "Operation", "actions": [{"notification_type": "Webhook", "parameters": {}}]},
            ["actions", 0, "parameters"],
            "http(s) URL is required",
        ),
        (
            {"trigger_type": "Operation", "actions": [{"notification_type": "Fax"}]},
            ["actions", 0, "notification"],
            "InApp",
        ),
        (
            {
                "trigger_type": "Operation",
                "actions": [{"type": "operation", "schedule": {"type": "scan", "datastore_id": 5}}],
            },
            ["actions", 0, "schedule", "datastore_id"],
            "no datastore with id 5",
        ),
    ],
)
def test_bad_definitions_are_422_naming_the_field(api, body, loc, words):
    r = api.client.post("/api/flows", json={"name": "bad", **body})
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert any(d["loc"][1 : 1 + len(loc)] == loc and words in d["msg"] for d in detail), detail
    assert api.ok("GET", "/api/flows")["total"] == 0  # nothing half-written


def test_listing_filters_mute_deactivate_delete(api, make_duckdb):
    ds = api.duckdb_datastore("d1", make_duckdb("create table t(v int)"))
    a = _slack_flow(api, filter_datastores=[ds["id"]])
    b = api.ok("POST", "/api/flows", json={"name": "anything", "trigger_type": "Manual", "deactivated": True})
    assert a["filter_datastores"] == [{"id": ds["id"], "name": "d1", "store_type": "jdbc", "type": "duckdb"}]
    page = api.ok("GET", "/api/flows", params={"sort_name": "asc"})
    assert [f["name"] for f in page["items"]] == ["anything", "slack ops"] and page["total"] == 2
    assert [f["id"] for f in api.ok("GET", "/api/flows", params={"search": "slack"})["items"]] == [a["id"]]
    assert [f["id"] for f in api.ok("GET", "/api/flows/listing", params={"deactivated": True})] == [b["id"]]
    muted = api.ok("PATCH", f"/api/flows/actions/notification/{a['actions'][0]['id']}/muted", json={"muted": True})
    assert muted["muted"] is True
    assert api.ok("PATCH", f"/api/flows/{a['id']}/deactivated", json={"deactivated": True})["deactivated"] is True
    actions = api.ok("GET", f"/api/flows/actions/{a['id']}", params={"size": 2})
    assert actions["total"] == 3 and len(actions["items"]) == 2 and actions["pages"] == 2
    assert api.client.delete(f"/api/flows/{a['id']}").status_code == 204
    assert api.client.get(f"/api/flows/{a['id']}").status_code == 404
    assert api.client.get("/api/flows/actions/notification/tokens").json()[0]["trigger_type"] == "Operation"
    specs = {s["type"]: s for s in api.ok("GET", "/api/flows/actions/notification/specifications")}
    assert sorted(specs) == sorted(["InApp", "Email", "Slack", "Microsoft Teams", "PagerDuty", "Webhook", "HttpAction"])
    assert [p["field"] for p in specs["Slack"]["properties"] if p["secret"]] == ["webhook_url"]


def test_user_notifications_list_and_acknowledge(api):
    for message in ("one", "two", "three"):
        api.ok("POST", "/api/flows/actions/notifications/test", json={"type": "InApp", "tokenized_message": message})
    items = api.ok("GET", "/api/user-notifications")["items"]
    assert [n["notification"]["message"] for n in items] == ["three", "two", "one"]
    three, two, one = (n["id"] for n in items)
    acked = api.ok("PUT", f"/api/user-notifications/acknowledge/{three}")
    assert acked["acknowledged"] is True and acked["notification"]["message"] == "three"
    bulk = api.ok("PUT", "/api/user-notifications/acknowledge", json=[{"id": three}, {"id": two}, {"id": 999}])
    assert bulk == {"acknowledged_count": 1, "requested_count": 3}
    assert [n["id"] for n in api.ok("GET", "/api/user-notifications")["items"]] == [one]
    everything = api.ok("GET", "/api/user-notifications", params={"include_acknowledged": True})
    assert [(n["id"], n["acknowledged"]) for n in everything["items"]] == [(three, True), (two, True), (one, False)]

    # another user sees none of them and cannot read or acknowledge them
    db, key = api.client.app.state.database, api.client.app.state.settings.secret_key
    with db.session() as s:
        other = User(name="Bo", email="bo@example.com", role="Member")
        s.add(other)
        s.flush()
        _row, token = issue_token(s, key, name="bo", user_id=other.id)
    headers = {"Authorization": f"Bearer {token}"}
    assert api.client.get("/api/user-notifications", headers=headers).json()["total"] == 0
    assert api.client.get(f"/api/user-notifications/{one}", headers=headers).status_code == 404
    assert api.client.put(f"/api/user-notifications/acknowledge/{one}", headers=headers).status_code == 404
    assert api.ok("GET", f"/api/user-notifications/{one}")["acknowledged"] is False


def test_history_records_every_change_without_secrets(api):
    flow = api.ok(
        "POST",
        "/api/flows",
        json={
            "name": "h",
            "trigger_type": "Operation",
            "actions": [{"notification_type": "Webhook", "parameters": {"webhook_url": "http://127.0.0.1:9/x-SECRET"}}],
        },
    )
    action = flow["actions"][0]["id"]
    api.ok("PATCH", f"/api/flows/actions/notification/{action}/muted", json={"muted": True})
    api.ok("PATCH", f"/api/flows/{flow['id']}/deactivated", json={"deactivated": True})
    api.ok(
        "PUT",
        f"/api/flows/{flow['id']}",
        json={
            "name": "h2",
            "trigger_type": "Operation",
            "deactivated": True,
            "actions": [{"id": action, "notification_type": "Webhook", "tokenized_message": "{{ operation_id }}"}],
        },
    )
    r = api.client.get(f"/api/flows/{flow['id']}/history")
    assert r.status_code == 200 and "SECRET" not in r.text and "whsec_" not in r.text
    history = r.json()
    assert history["id"] == flow["id"]
    versions = history["versions"]
    assert [v["operation"] for v in versions] == ["insert", "update", "update", "update"]
    assert versions[0]["changeset"]["name"] == [None, "h"]
    assert versions[0]["transaction"]["user"]["id"] == api.ok("GET", "/api/users/me")["id"]
    muted_before, muted_after = versions[1]["changeset"]["actions"]
    assert (muted_before[0]["muted"], muted_after[0]["muted"]) == (False, True)
    assert list(versions[1]["changeset"]) == ["actions"]
    assert versions[2]["changeset"] == {"deactivated": [False, True]}
    assert versions[3]["changeset"]["name"] == ["h", "h2"]
    assert versions[3]["changeset"]["actions"][1][0]["tokenized_message"] == "{{ operation_id }}"
    assert api.client.get("/api/flows/999/history").status_code == 404


@pytest.mark.parametrize(
    ("action", "words"),
    [
        (
            {"notification_type": "PagerDuty", "parameters": {"routing_key": "k", "custom_details": [1]}},
            "custom_details",
        ),
        ({"notification_type": "Email", "parameters": {"emails": "a@b.c", "smtp_port": "abc"}}, "smtp_port"),
        ({"notification_type": "Email", "parameters": {"emails": 123}}, "parameters.emails"),
        ({"notification_type": "Slack", "parameters": {"webhook_url": {"a": 1}}}, "not a Slack incoming webhook"),
        ({"id": 77, "notification_type": "InApp"}, "a new flow has no action 77"),
    ],
)
def test_parameters_of_the_wrong_type_are_422_not_500(api, action, words):
    r = api.client.post("/api/flows", json={"name": "bad", "trigger_type": "Operation", "actions": [action]})
    assert r.status_code == 422 and words in r.json()["detail"][0]["msg"], r.text
