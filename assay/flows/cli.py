"""`assay flows …`: list flows and show their execution history, through the API.

Server and token as for the other client commands: ``--url`` / ``--token`` or
``ASSAY_URL`` / ``ASSAY_TOKEN``.
"""

from __future__ import annotations

import json

import typer
from rich.table import Table

from ..client_cli import TokenOpt, UrlOpt, _call, _client, console

flows_app = typer.Typer(
    help="Flows (notifications and automations): definitions and execution history.", no_args_is_help=True
)


@flows_app.command("list")
def list_flows(url: str = UrlOpt, token: str = TokenOpt, as_json: bool = typer.Option(False, "--json")) -> None:
    """Every flow: id, name, trigger, actions, active or not, last triggered."""
    with _client(url, token) as client:
        items, page = [], 1
        while True:
            body = _call(client, "GET", "/flows", params={"page": page, "size": 100})
            items += body["items"]
            if page >= body["pages"]:
                break
            page += 1
    if as_json:
        typer.echo(json.dumps(items, indent=2))
        return
    table = Table("id", "name", "trigger", "actions", "state", "last triggered")
    for f in items:
        actions = ", ".join(
            (a.get("notification_type") or a["type"]) + (" (muted)" if a.get("muted") else "") for a in f["actions"]
        )
        table.add_row(
            str(f["id"]),
            f["name"],
            f["trigger_type"],
            actions or "-",
            "deactivated" if f["deactivated"] else "active",
            f.get("last_triggered") or "-",
        )
    console.print(table)


@flows_app.command("history")
def history(
    flow_id: int = typer.Argument(..., help="the flow's id (assay flows list)"),
    limit: int = typer.Option(20, "--limit", help="newest executions to show"),
    url: str = UrlOpt,
    token: str = TokenOpt,
    as_json: bool = typer.Option(False, "--json", help="print the executions with their attempts as JSON"),
) -> None:
    """A flow's executions, newest first, with each action's result, attempts and last error."""
    with _client(url, token) as client:
        _call(client, "GET", f"/flows/{flow_id}")  # an unknown flow: its 404, exit 1
        listing = _call(client, "GET", "/flows/executions", params={"flow": flow_id, "size": max(1, min(limit, 1000))})
        executions = [_call(client, "GET", f"/flows/executions/{e['id']}") for e in listing["items"]]
    if as_json:
        typer.echo(json.dumps(executions, indent=2))
        return
    if not executions:
        console.print(f"flow {flow_id} has no executions")
        return
    table = Table("execution", "created", "trigger", "result", "action", "action result", "attempts", "message")
    for ex in executions:
        rows = ex.get("action_executions") or [None]
        for i, ae in enumerate(rows):
            first = i == 0
            action = ae and ae.get("action") or {}
            table.add_row(
                str(ex["id"]) if first else "",
                ex["created"] if first else "",
                f"{ex['trigger_type']} {ex.get('trigger_id') or ''}".strip() if first else "",
                ex["result"] if first else "",
                (action.get("notification_type") or action.get("type") or "-") if ae else "-",
                ae["result"] if ae else "-",
                str(len(ae.get("attempts") or [])) if ae else "-",
                (ae.get("message") or "") if ae else (ex.get("message") or ""),
            )
    console.print(table)
