"""The README's Slack and email flows, end to end against a live `assay serve`, and
`assay flows list` / `assay flows history`."""

from __future__ import annotations

import json
import time

import duckdb

from tests.flows.flow_receivers import HttpReceiver, SmtpReceiver
from tests.flows.flow_support import LiveServer


def test_slack_and_email_flows_on_a_live_server_and_the_cli_history(tmp_path):
    slack = HttpReceiver().start()
    smtp = SmtpReceiver().start()
    con = duckdb.connect(str(tmp_path / "shop.duckdb"))
    con.execute("create table orders as select * from (values (1, 10.0), (2, null)) t(id, amount)")
    con.close()
    server = LiveServer(
        tmp_path,
        {
            "ASSAY_FLOWS_SLACK_URL": f"{slack.url}/services",  # the stand-in for hooks.slack.com
            "ASSAY_SMTP_HOST": "127.0.0.1",
            "ASSAY_SMTP_PORT": str(smtp.port),
            "ASSAY_SMTP_SECURITY": "none",
            "ASSAY_SMTP_FROM": "assay@example.com",
            "ASSAY_FLOWS_POLL_SECONDS": "0.1",
            "ASSAY_PUBLIC_URL": "https://assay.example.com",
        },
    )
    try:
        ds = server.call(
            "POST",
            "/datastores",
            {"name": "shop", "connection": {"type": "duckdb"}, "database": str(tmp_path / "shop.duckdb")},
        )
        server.call("POST", "/operations/run", {"type": "sync", "datastore_id": ds["id"]})
        deadline = time.monotonic() + 60
        while not server.call("GET", "/containers/listing", datastore=ds["id"]):
            assert time.monotonic() < deadline
            time.sleep(0.2)
        orders = server.call("GET", "/containers/listing", datastore=ds["id"])[0]["id"]
        server.call("POST", "/quality-checks", {"container_id": orders, "rule": "notNull", "fields": ["amount"]})
        slack_flow = server.call(
            "POST",
            "/flows",
            {
                "name": "anomalies to Slack",
                "trigger_type": "Anomaly",
                "actions": [
                    {
                        "type": "notification",
                        "notification_type": "Slack",
                        "parameters": {"webhook_url": "https://hooks.slack.com/services/T000/B000/XXXX"},
                        "tokenized_message": "{{ anomaly_count }} new anomalies in {{ datastore_name }}: {{ target_link }}",
                    }
                ],
            },
        )
        email_flow = server.call(
            "POST",
            "/flows",
            {
                "name": "scans by email",
                "trigger_type": "Operation",
                "filter_operation_result": "success",
                "filter_operation_type": ["scan"],
                "actions": [
                    {
                        "type": "notification",
                        "notification_type": "Email",
                        "parameters": {"emails": "oncall@example.com", "email_subject": "Assay: scan finished"},
                        "tokenized_message": "{{ operation_type }} {{ operation_id }} of {{ datastore_name }}: "
                        "{{ operation_result }}, {{ anomaly_count }} anomalies",
                    }
                ],
            },
        )
        scan = server.call("POST", "/operations/run", {"type": "scan", "datastore_id": ds["id"]})
        (request,) = slack.wait_for(1)
        assert request.path == "/services/T000/B000/XXXX"
        assert request.json()["attachments"][0]["text"] == (
            f"1 new anomalies in shop: https://assay.example.com/api/anomalies?operation={scan['id']}"
        )
        (mail,) = smtp.wait_for(1)
        assert mail.rcpt_tos == ["oncall@example.com"] and mail.subject == "Assay: scan finished"
        assert mail.text == f"scan {scan['id']} of shop: success, 1 anomalies"

        code, out = server.cli("flows", "list")
        assert code == 0, out
        assert "anomalies to Slack" in out and "scans by email" in out and "Slack" in out
        deadline = time.monotonic() + 30
        while True:
            code, out = server.cli("flows", "history", str(slack_flow["id"]), "--json")
            assert code == 0, out
            executions = json.loads(out)
            if executions and executions[0]["result"] != "running":
                break
            assert time.monotonic() < deadline, out
            time.sleep(0.2)
        (execution,) = executions
        assert execution["trigger_type"] == "Anomaly" and execution["trigger_id"] == scan["id"]
        assert [a["result"] for a in execution["action_executions"][0]["attempts"]] == ["success"]
        code, out = server.cli("flows", "history", str(email_flow["id"]))
        assert code == 0 and "Email" in out and "success" in out and f"Operation {scan['id']}" in out, out
        code, out = server.cli("flows", "history", "999")  # an unknown flow is an error, not an empty history
        assert code == 1 and "GET /flows/999 → 404: Flow 999 not found" in out, out
    finally:
        server.stop()
        slack.stop()
        smtp.stop()
