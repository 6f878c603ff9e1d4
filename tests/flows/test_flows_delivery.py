"""Flows end to end: a real scan triggers flows whose actions reach real local receivers
(SMTP, Slack, Teams over TLS, PagerDuty, a webhook) and in-app notifications. Expected
messages are built from the anomalies the scan recorded, read back through the API."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest

from assay.flows.delivery import DELIVERY_HEADER, SIGNATURE_HEADER
from tests.flows.flow_receivers import HttpReceiver, SmtpReceiver, free_port, self_signed
from tests.flows.flow_support import settled

DIGEST = "{{ anomaly_count }} anomalies in {{ datastore_name }} ({{ rule_types }})\n{{ anomaly_links }}"


def expected_digest(anomalies: list[dict], datastore: str, checks: dict[int, str]) -> str:
    """The DIGEST message for ``anomalies`` (API dicts), as the flow should render it."""
    rules = sorted({checks[fc["quality_check"]["id"]] for a in anomalies for fc in a["failed_checks"]})
    links = "\n".join(
        f"#{a['id']} {a['container']['name']}: {a['message']} http://assay.test/api/anomalies/{a['id']}"
        for a in sorted(anomalies, key=lambda a: a["id"])
    )
    return f"{len(anomalies)} anomalies in {datastore} ({', '.join(rules)})\n{links}"


@pytest.fixture
def receivers(tmp_path, monkeypatch):
    http = HttpReceiver().start()
    cert, key = self_signed(tmp_path)
    teams = HttpReceiver(tls=(cert, key)).start()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))  # Apprise (requests) trusts the local Teams stand-in
    smtp = SmtpReceiver(login=("alice", "p@ss:w/rd")).start()
    monkeypatch.setenv("ASSAY_FLOWS_SLACK_URL", f"{http.url}/slack")
    monkeypatch.setenv("ASSAY_FLOWS_PAGERDUTY_URL", f"{http.url}/pagerduty/v2/enqueue")
    yield {"http": http, "teams": teams, "smtp": smtp}
    http.stop()
    teams.stop()
    smtp.stop()


def test_anomaly_digest_reaches_every_channel_once(api, shop, receivers):
    http, teams, smtp = receivers["http"], receivers["teams"], receivers["smtp"]
    flow = api.ok(
        "POST",
        "/api/flows",
        json={
            "name": "shop anomalies",
            "trigger_type": "Anomaly",
            "actions": [
                {"type": "notification", "notification_type": "InApp", "tokenized_message": DIGEST},
                {
                    "type": "notification",
                    "notification_type": "Email",
                    "tokenized_message": DIGEST,
                    "parameters": {
                        "emails": "ops@example.com, data@example.com",
                        "email_subject": "Anomalies in {{ datastore_name }}",
                        "smtp_host": "127.0.0.1",
                        "smtp_port": smtp.port,
                        "smtp_security": "none",
                        "smtp_username": "alice",
                        "smtp_password": "p@ss:w/rd",
                        "smtp_from": "assay@example.com",
                    },
                },
                {
                    "type": "notification",
                    "notification_type": "Slack",
                    "tokenized_message": DIGEST,
                    "parameters": {
                        "webhook_url": "https://hooks.slack.com/services/T01/B02/secretXYZ",
                        "channel": "dq",
                    },
                },
                {
                    "type": "notification",
                    "notification_type": "Microsoft Teams",
                    "tokenized_message": DIGEST,
                    "parameters": {
                        "webhook_url": f"{teams.url}/workflows/wf42/triggers/manual/paths/invoke"
                        "?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=SIG99"
                    },
                },
                {
                    "type": "notification",
                    "notification_type": "PagerDuty",
                    "tokenized_message": "{{ anomaly_count }} anomalies in {{ datastore_name }}",
                    "parameters": {"routing_key": "rk-123", "severity": "error", "custom_details": {"team": "data"}},
                },
                {
                    "type": "notification",
                    "notification_type": "Webhook",
                    "tokenized_message": DIGEST,
                    "parameters": {"webhook_url": f"{http.url}/hook?token=abc"},
                    "secret": "s3cret",
                },
            ],
        },
    )
    op = api.scan(shop["datastore"])
    assert op["result"] == "success"
    (execution,) = settled(api, flow["id"])

    anomalies = [a for a in api.anomalies(datastore=shop["datastore"]) if a["operation_id"] == op["id"]]
    rule_of = {c["id"]: c["rule_type"] for c in shop["checks"].values()}
    text = expected_digest(anomalies, "shop", rule_of)
    assert len(anomalies) == 3 and text.startswith("3 anomalies in shop (between, notNull)\n")

    assert execution["result"] == "success" and execution["trigger_type"] == "Anomaly"
    assert execution["trigger_id"] == op["id"]
    results = {ae["action"]["notification_type"]: ae for ae in execution["action_executions"]}
    assert {k: (v["result"], len(v["attempts"])) for k, v in results.items()} == dict.fromkeys(
        ("InApp", "Email", "Slack", "Microsoft Teams", "PagerDuty", "Webhook"), ("success", 1)
    )
    assert results["Slack"]["notification"]["message"] == text

    # in-app: the admin's notification
    notes = api.ok("GET", "/api/user-notifications")["items"]
    assert [n["notification"]["message"] for n in notes] == [text]
    stub = notes[0]["notification"]["action_execution"]
    assert stub["id"] == results["InApp"]["id"] and stub["result"] == "success"
    assert stub["flow_execution"]["id"] == execution["id"] and stub["flow_execution"]["trigger_type"] == "Anomaly"

    # email: one message per recipient, logged in with the stored password
    mails = smtp.wait_for(2)
    assert sorted(m.rcpt_tos[0] for m in mails) == ["data@example.com", "ops@example.com"]
    assert {m.subject for m in mails} == {"Anomalies in shop"}
    assert {m.text for m in mails} == {text}
    assert set(smtp.auth_attempts) == {("alice", "p@ss:w/rd")}

    by_path = {r.path.split("?")[0]: r for r in http.requests}
    assert sorted(by_path) == ["/hook", "/pagerduty/v2/enqueue", "/slack/T01/B02/secretXYZ"]
    slack = by_path["/slack/T01/B02/secretXYZ"].json()
    assert slack["channel"] == "#dq" and slack["attachments"][0]["text"] == text
    assert slack["attachments"][0]["title"] == "[Assay] shop anomalies: 3 anomalies in shop"

    pd = by_path["/pagerduty/v2/enqueue"].json()
    assert pd["routing_key"] == "rk-123" and pd["event_action"] == "trigger"
    assert pd["dedup_key"] == f"assay-{results['PagerDuty']['id']}"
    assert pd["payload"]["severity"] == "error" and pd["payload"]["source"] == "shop"
    assert pd["payload"]["summary"] == "[Assay] shop anomalies: 3 anomalies in shop\r\n3 anomalies in shop"
    assert pd["payload"]["custom_details"] == {"team": "data"}
    assert pd["links"] == [{"href": f"http://assay.test/api/anomalies?operation={op['id']}"}]

    hook = by_path["/hook"]
    assert hook.headers[SIGNATURE_HEADER] == "sha256=" + hmac.new(b"s3cret", hook.body, hashlib.sha256).hexdigest()
    assert hook.headers[DELIVERY_HEADER] == f"assay-{results['Webhook']['id']}"
    body = hook.json()
    assert body["message"] == text and body["trigger_type"] == "Anomaly"
    assert body["flow"] == {"id": flow["id"], "name": "shop anomalies"}
    assert sorted(body["context"]["anomaly_ids"]) == sorted(a["id"] for a in anomalies)

    (card_request,) = teams.wait_for(1)
    assert card_request.path.startswith("/workflows/wf42/triggers/manual/paths/invoke?")
    assert "sig=SIG99" in card_request.path
    card = card_request.json()["attachments"][0]["content"]
    assert [b["text"] for b in card["body"]] == ["[Assay] shop anomalies: 3 anomalies in shop", text]

    # one digest per scan: a second scan sends each channel exactly one more message (its
    # repeated anomalies kept open; archived as duplicates by default, they would be no news)
    api.scan(shop["datastore"], archive_duplicate_anomalies=False)
    settled(api, flow["id"], count=2)
    time.sleep(0.3)
    assert len(http.requests) == 3 + 3 and len(smtp.messages) == 2 + 2 and len(teams.requests) == 2
    assert api.ok("GET", "/api/user-notifications")["total"] == 2


def test_filters_select_exactly_their_events(api, shop, make_duckdb):
    hooks = HttpReceiver().start()
    other = api.duckdb_datastore(
        "other", make_duckdb("create table t(v int)", name="other.duckdb"), tags=["finance", "eu"]
    )

    def flow(name, **body):
        return api.ok(
            "POST",
            "/api/flows",
            json={
                "name": name,
                **body,
                "actions": [
                    {
                        "type": "notification",
                        "notification_type": "Webhook",
                        "parameters": {"webhook_url": f"{hooks.url}/{name}"},
                        "secret": "k",
                    }
                ],
            },
        )["id"]

    flow("scans", trigger_type="Operation", filter_operation_type=["scan"])
    flow("syncs", trigger_type="Operation", filter_operation_type=["catalog"])
    flow("failures", trigger_type="Operation", filter_operation_result="failure")
    flow("other-ds", trigger_type="Operation", filter_datastores=[other["id"]])
    flow("all-ops", trigger_type="Operation")
    flow("finance-ops", trigger_type="Operation", tags=["finance"])
    flow("hr-ops", trigger_type="Operation", tags=["hr"])
    flow("not-null", trigger_type="Anomaly", check_rule_types=["notNull"])
    flow("heavy", trigger_type="Anomaly", weight_threshold=5)
    flow("pii", trigger_type="Anomaly", tags=["pii"])
    flow("other-anomalies", trigger_type="Anomaly", filter_datastores=[other["id"]])
    off = flow("deactivated", trigger_type="Operation", deactivated=True)

    scan = api.scan(shop["datastore"])
    sync = api.sync(other["id"])
    anomalies = [a for a in api.anomalies(datastore=shop["datastore"]) if a["operation_id"] == scan["id"]]

    def ids_failing(check):
        return sorted(
            a["id"] for a in anomalies if any(fc["quality_check"]["id"] == check["id"] for fc in a["failed_checks"])
        )

    # 2 operations → scans 1, syncs 1, other-ds 1, all-ops 2, finance-ops 1; 1 scan → 3 anomaly digests
    received = hooks.wait_for(9)
    time.sleep(0.5)  # nothing else arrives
    assert len(hooks.requests) == 9
    got: dict[str, list] = {}
    for r in received:
        got.setdefault(r.path.lstrip("/"), []).append(r.json()["context"])
    assert sorted(got) == ["all-ops", "finance-ops", "heavy", "not-null", "other-ds", "pii", "scans", "syncs"]
    assert [c["operation_id"] for c in got["finance-ops"]] == [sync["id"]]  # the datastore tagged finance
    assert [c["operation_id"] for c in got["other-ds"]] == [sync["id"]]
    assert [c["operation_id"] for c in got["scans"]] == [scan["id"]]
    assert [c["operation_id"] for c in got["syncs"]] == [sync["id"]]
    assert sorted(c["operation_id"] for c in got["all-ops"]) == [scan["id"], sync["id"]]
    assert got["not-null"][0]["anomaly_ids"] == sorted(
        ids_failing(shop["checks"]["amount"]) + ids_failing(shop["checks"]["name"])
    )
    assert got["heavy"][0]["anomaly_ids"] == [a["id"] for a in anomalies if a["weight"] >= 5]
    assert got["heavy"][0]["anomaly_ids"] == ids_failing(shop["checks"]["qty"])
    assert got["pii"][0]["anomaly_ids"] == ids_failing(shop["checks"]["name"])
    assert api.ok("GET", "/api/flows/executions", params={"flow": off})["total"] == 0
    hooks.stop()


def test_receiver_down_then_back_is_delivered_once_with_every_attempt_recorded(api, shop, monkeypatch):
    monkeypatch.setenv("ASSAY_FLOWS_MAX_ATTEMPTS", "50")
    hook = HttpReceiver(port=free_port())  # not listening yet: connection refused
    flow = api.ok(
        "POST",
        "/api/flows",
        json={
            "name": "ops",
            "trigger_type": "Operation",
            "actions": [
                {
                    "type": "notification",
                    "notification_type": "Webhook",
                    "tokenized_message": "{{ operation_type }} {{ operation_result }}",
                    "parameters": {"webhook_url": f"{hook.url}/in"},
                    "secret": "k",
                }
            ],
        },
    )
    op = api.sync(shop["datastore"])
    deadline = time.monotonic() + 30
    while True:
        items = api.ok("GET", "/api/flows/executions", params={"flow": flow["id"]})["items"]
        if items:
            ex = api.ok("GET", f"/api/flows/executions/{items[0]['id']}")
            attempts = ex["action_executions"][0]["attempts"]
            if len(attempts) >= 2:
                break
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert ex["result"] == "running" and ex["action_executions"][0]["result"] in ("pending", "running")
    assert all(a["result"] == "failure" and "webhook unreachable: ConnectError" in a["message"] for a in attempts)
    hook.start()
    try:
        (ex,) = settled(api, flow["id"])
        (request,) = hook.wait_for(1)
        time.sleep(0.3)
        assert len(hook.requests) == 1
    finally:
        hook.stop()
    ae = ex["action_executions"][0]
    assert ex["result"] == "success" and ae["result"] == "success" and ae["message"] == "HTTP 200"
    assert [a["result"] for a in ae["attempts"]] == ["failure"] * (len(ae["attempts"]) - 1) + ["success"]
    assert [a["attempt"] for a in ae["attempts"]] == list(range(1, len(ae["attempts"]) + 1))
    assert request.json()["message"] == "catalog success"
    assert request.json()["context"]["operation_id"] == op["id"]


def test_a_broken_action_never_fails_the_scan(api, shop):
    notes_before = api.ok("GET", "/api/user-notifications")["total"]
    flow = api.ok(
        "POST",
        "/api/flows",
        json={
            "name": "half broken",
            "trigger_type": "Anomaly",
            "actions": [
                {
                    "type": "notification",
                    "notification_type": "Webhook",
                    "parameters": {"webhook_url": f"http://127.0.0.1:{free_port()}/nobody"},
                    "secret": "k",
                },
                {"type": "notification", "notification_type": "InApp", "tokenized_message": "{{ anomaly_count }}"},
            ],
        },
    )
    op = api.scan(shop["datastore"])
    assert op["result"] == "success" and op["status"]["anomalies_identified"] == 3
    (ex,) = settled(api, flow["id"])
    webhook, in_app = ex["action_executions"]
    assert ex["result"] == "failure" and ex["message"] == "1 of 2 action(s) failed"
    assert webhook["result"] == "failure" and len(webhook["attempts"]) == 3  # ASSAY_FLOWS_MAX_ATTEMPTS
    assert webhook["message"].startswith("failed after 3 attempt(s): webhook unreachable: ConnectError")
    assert in_app["result"] == "success"
    notes = api.ok("GET", "/api/user-notifications")
    assert notes["total"] == notes_before + 1 and notes["items"][0]["notification"]["message"] == "3"


def test_muted_actions_are_skipped_and_manual_runs_deliver(api, shop):
    hook = HttpReceiver().start()
    flow = api.ok(
        "POST",
        "/api/flows",
        json={
            "name": "manual",
            "trigger_type": "Manual",
            "actions": [
                {
                    "type": "notification",
                    "notification_type": "Webhook",
                    "tokenized_message": "hello from {{ flow_name }}",
                    "parameters": {"webhook_url": f"{hook.url}/m"},
                },
                {"type": "notification", "notification_type": "InApp"},
            ],
        },
    )
    generated = flow["actions"][0]["secret"]
    assert generated.startswith("whsec_")
    assert "secret" not in api.ok("GET", f"/api/flows/{flow['id']}")["actions"][0]  # shown once
    api.ok("PATCH", f"/api/flows/actions/notification/{flow['actions'][1]['id']}/muted", json={"muted": True})
    started = api.ok("POST", f"/api/flows/{flow['id']}/execute")
    assert started["trigger_type"] == "Manual" and started["result"] == "running"
    (ex,) = settled(api, flow["id"])
    assert [ae["result"] for ae in ex["action_executions"]] == ["success", "skipped"]
    assert ex["message"] == "1 action(s) succeeded, 1 skipped"
    (request,) = hook.wait_for(1)
    assert request.json()["message"] == "hello from manual"
    expected = "sha256=" + hmac.new(generated.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers[SIGNATURE_HEADER] == expected
    api.ok("PATCH", f"/api/flows/{flow['id']}/deactivated", json={"deactivated": True})
    assert api.client.post(f"/api/flows/{flow['id']}/execute").status_code == 409
    hook.stop()


def test_operation_action_queues_a_profile_after_a_sync(api, shop):
    flow = api.ok(
        "POST",
        "/api/flows",
        json={
            "name": "profile after sync",
            "trigger_type": "Operation",
            "filter_operation_type": ["catalog"],
            "actions": [
                {
                    "type": "operation",
                    "schedule": {"type": "profile", "datastore_id": shop["datastore"], "container_names": ["orders"]},
                }
            ],
        },
    )
    sync = api.sync(shop["datastore"])
    (ex,) = settled(api, flow["id"])
    (ae,) = ex["action_executions"]
    assert ae["result"] == "success" and ae["operation"]["type"] == "profile"
    profile = api.wait(ae["operation"]["id"])
    assert (
        profile["result"] == "success" and profile["triggered_by"] == f"flow {flow['id']} (action execution {ae['id']})"
    )
    assert [c["name"] for c in profile["containers"]] == ["orders"]
    assert ex["trigger_id"] == sync["id"]
    # the profile (not a catalog) does not start the flow again
    time.sleep(0.3)
    assert api.ok("GET", "/api/flows/executions", params={"flow": flow["id"]})["total"] == 1


def test_test_send_reports_success_and_failure(api):
    hook = HttpReceiver().start()
    body = {
        "type": "Webhook",
        "tokenized_message": "Test notification from {{ flow_name }} on {{ datastore_name }}",
        "parameters": {"webhook_url": f"{hook.url}/t"},
        "secret": "k",
    }
    assert api.ok("POST", "/api/flows/actions/notifications/test", json=body) == {
        "delivery_response": "HTTP 200",
        "success": True,
    }
    (request,) = hook.wait_for(1)
    assert request.json()["message"] == "Test notification from Test flow on sample_datastore"
    hook.status = 500
    answer = api.ok("POST", "/api/flows/actions/notifications/test", json=body)
    assert answer == {"delivery_response": "webhook answered HTTP 500: ok", "success": False}
    hook.stop()
    preview = api.ok("POST", "/api/flows/actions/notifications/preview", json={**body, "trigger_type": "Operation"})
    assert preview["message"] == "Test notification from Test flow on sample_datastore"
    assert preview["unknown_tokens"] == []
    in_app = api.ok("POST", "/api/flows/actions/notifications/test", json={"type": "InApp", "tokenized_message": "hi"})
    assert in_app["success"] is True
    assert [n["notification"]["message"] for n in api.ok("GET", "/api/user-notifications")["items"]] == ["hi"]
    assert json.dumps(answer)  # plain JSON


def test_abort_and_delete_an_execution(api, monkeypatch):
    monkeypatch.setenv("ASSAY_FLOWS_MAX_ATTEMPTS", "1000")
    dead = f"http://127.0.0.1:{free_port()}/down"
    flow = api.ok(
        "POST",
        "/api/flows",
        json={
            "name": "stuck",
            "trigger_type": "Manual",
            "actions": [{"notification_type": "Webhook", "parameters": {"webhook_url": dead}, "secret": "k"}],
        },
    )
    ex = api.ok("POST", f"/api/flows/{flow['id']}/execute")
    assert api.client.delete(f"/api/flows/executions/{ex['id']}").status_code == 409  # running
    deadline = time.monotonic() + 30
    while not api.ok("GET", f"/api/flows/executions/{ex['id']}")["action_executions"][0]["attempts"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    aborted = api.ok("POST", f"/api/flows/executions/{ex['id']}/abort")
    assert aborted["result"] == "aborted" and aborted["message"] == "aborted by request"
    time.sleep(0.6)  # a retry would be due by now
    final = api.ok("GET", f"/api/flows/executions/{ex['id']}")
    (ae,) = final["action_executions"]
    assert final["result"] == "aborted" and ae["result"] == "aborted"
    assert len(ae["attempts"]) == len(aborted["action_executions"][0]["attempts"])  # no attempt since
    assert api.client.post(f"/api/flows/executions/{ex['id']}/abort").status_code == 409
    assert api.client.delete(f"/api/flows/executions/{ex['id']}").status_code == 204
    assert api.client.get(f"/api/flows/executions/{ex['id']}").status_code == 404


def test_an_operation_of_a_lost_worker_triggers_failure_flows(api, shop):
    import datetime as dt

    from assay.store.models import Operation

    flow = api.ok(
        "POST",
        "/api/flows",
        json={
            "name": "failures",
            "trigger_type": "Operation",
            "filter_operation_result": "failure",
            "actions": [{"notification_type": "InApp", "tokenized_message": "{{ operation_message }}"}],
        },
    )
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    with api.client.app.state.database.session() as s:
        op = Operation(
            type="scan",
            datastore_id=shop["datastore"],
            result="running",
            heartbeat=long_ago,
            start_time=long_ago,
            worker="gone:1",
        )
        s.add(op)
        s.flush()
        op_id = op.id
    assert api.client.app.state.runner.reap() == [op_id]
    (ex,) = settled(api, flow["id"])
    assert ex["trigger_id"] == op_id and ex["result"] == "success"
    (note,) = api.ok("GET", "/api/user-notifications")["items"]
    assert note["notification"]["message"].startswith("worker gone:1 stopped responding")


def test_an_operation_action_on_a_deleted_datastore_fails_without_retrying(api, make_duckdb):
    ds = api.duckdb_datastore("temp", make_duckdb("create table t(v int)", name="temp.duckdb"))
    flow = api.ok(
        "POST",
        "/api/flows",
        json={
            "name": "resync",
            "trigger_type": "Manual",
            "actions": [{"type": "operation", "schedule": {"type": "sync", "datastore_id": ds["id"]}}],
        },
    )
    assert api.client.delete(f"/api/datastores/{ds['id']}").status_code == 204
    api.ok("POST", f"/api/flows/{flow['id']}/execute")
    (ex,) = settled(api, flow["id"])
    (ae,) = ex["action_executions"]
    assert ex["result"] == "failure" and ae["result"] == "failure" and len(ae["attempts"]) == 1
    assert ae["message"] == f"failed after 1 attempt(s): schedule.datastore_id: no datastore with id {ds['id']}"


def test_a_schedule_flow_fires_once_per_fire_time_however_many_dispatchers(api):
    import datetime as dt
    import threading

    from assay.flows.dispatcher import Dispatcher
    from assay.flows.models import Flow

    assert api.client.post("/api/flows", json={"name": "s", "trigger_type": "Schedule"}).status_code == 422
    bad = api.client.post("/api/flows", json={"name": "s", "trigger_type": "Schedule", "crontab": "61 * * * *"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "crontab"]
    flow = api.ok(
        "POST",
        "/api/flows",
        json={
            "name": "daily",
            "trigger_type": "Schedule",
            "crontab": "0 6 * * *",
            "actions": [{"notification_type": "InApp", "tokenized_message": "{{ flow_name }} for {{ fire_time }}"}],
        },
    )
    now = dt.datetime.now(dt.UTC)
    next_trigger = dt.datetime.fromisoformat(flow["next_trigger"].replace("Z", "+00:00"))
    assert next_trigger > now and (next_trigger.hour, next_trigger.minute) == (6, 0)
    assert next_trigger - now <= dt.timedelta(days=1)

    db = api.client.app.state.database
    due = dt.datetime(2026, 1, 2, 6, 0, tzinfo=dt.UTC)
    with db.session() as s:
        s.get(Flow, flow["id"]).next_trigger = due
    dispatchers = [Dispatcher(db, name=f"d{i}") for i in range(3)]
    threads = [threading.Thread(target=d.fire_schedules) for d in dispatchers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    (ex,) = settled(api, flow["id"])
    assert ex["trigger_type"] == "Schedule" and ex["result"] == "success"
    (note,) = api.ok("GET", "/api/user-notifications")["items"]
    assert note["notification"]["message"] == "daily for 2026-01-02T06:00:00Z"
    after = api.ok("GET", f"/api/flows/{flow['id']}")
    assert after["next_trigger"] == flow["next_trigger"]  # the next 06:00 from now, not a backlog
    time.sleep(0.3)
    assert api.ok("GET", "/api/flows/executions", params={"flow": flow["id"]})["total"] == 1


def test_an_operation_aborted_through_the_api_triggers_its_flows(api, shop):
    from assay.store.models import Operation

    flow = api.ok(
        "POST",
        "/api/flows",
        json={
            "name": "aborted",
            "trigger_type": "Operation",
            "filter_operation_result": "aborted",
            "actions": [
                {"notification_type": "InApp", "tokenized_message": "{{ operation_id }}: {{ operation_message }}"}
            ],
        },
    )
    with api.client.app.state.database.session() as s:  # queued, not handed to a worker
        op = Operation(type="scan", datastore_id=shop["datastore"], result="queued", params={}, status={})
        s.add(op)
        s.flush()
        op_id = op.id
    assert api.ok("PUT", f"/api/operations/abort/{op_id}")["result"] == "aborted"
    (ex,) = settled(api, flow["id"])
    assert ex["trigger_id"] == op_id
    (note,) = api.ok("GET", "/api/user-notifications")["items"]
    assert note["notification"]["message"] == f"{op_id}: aborted before it started"
