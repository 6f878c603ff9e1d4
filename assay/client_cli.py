"""`assay operations …` and `assay schedules …`: talk to a running Assay API over HTTP.

The server and token come from ``--url`` / ``--token`` or ``ASSAY_URL`` / ``ASSAY_TOKEN``
(default URL http://127.0.0.1:8000). Errors print the API's ``detail`` and exit 1.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

console = Console()
operations_app = typer.Typer(help="Run and watch operations through the API.", no_args_is_help=True)
schedules_app = typer.Typer(help="Crontab schedules of operations, through the API.", no_args_is_help=True)

UrlOpt = typer.Option(None, "--url", envvar="ASSAY_URL", help="API base URL (default http://127.0.0.1:8000)")
TokenOpt = typer.Option(None, "--token", envvar="ASSAY_TOKEN", help="API token (assay token create)")


def _client(url: str | None, token: str | None) -> httpx.Client:
    if not token:
        console.print("[red]no token: pass --token or set ASSAY_TOKEN (create one with `assay token create`)[/]")
        raise typer.Exit(1)
    base = (url or "http://127.0.0.1:8000").rstrip("/").removesuffix("/api") + "/api"
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def _call(client: httpx.Client, method: str, path: str, **kwargs) -> Any:
    try:
        r = client.request(method, path, **kwargs)
    except httpx.HTTPError as e:
        console.print(f"[red]cannot reach {client.base_url}: {e}[/]")
        raise typer.Exit(1) from None
    if r.status_code >= 400:
        try:
            detail = r.json().get("detail")
        except ValueError:
            detail = r.text
        console.print(
            f"[red]{method} {path} → {r.status_code}:[/] {json.dumps(detail) if not isinstance(detail, str) else detail}"
        )
        raise typer.Exit(1)
    return None if r.status_code == 204 else r.json()


def _wait(client: httpx.Client, op: dict, poll: float) -> dict:
    """Poll an operation with a progress bar until it has an end_time."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task(f"{op['type']} {op['id']}", total=None, info="queued")
        while not op.get("end_time"):
            time.sleep(poll)
            op = _call(client, "GET", f"/operations/{op['id']}")
            status = op.get("status") or {}
            total, done = status.get("total_containers") or None, status.get("containers_analyzed", 0)
            # inside a container: how far the engine is through its read (scans on DuckDB)
            inside = float(status.get("container_progress") or 0.0) if total and done < total else 0.0
            progress.update(
                task,
                total=total,
                completed=done + inside,
                info=f"{op['result']}: {done}/{total or '?'} containers"
                + (f" ({inside:.0%} of container {done + 1} read)" if inside else "")
                + f", {status.get('records_processed', 0):,} records",
            )
    return op


def _show_result(op: dict) -> None:
    colour = {"success": "green", "failure": "red", "aborted": "yellow"}.get(op["result"], "white")
    console.print(
        f"[{colour}]{op['type']} operation {op['id']}: {op['result']}[/]"
        + (f" — {op['message']}" if op.get("message") else "")
    )


@operations_app.command("run")
def run(
    payload: str = typer.Argument(..., help='the operation as JSON, e.g. \'{"type":"scan","datastore_id":1}\''),
    wait: bool = typer.Option(True, "--wait/--background", help="follow the operation until it ends"),
    poll: float = typer.Option(1.0, "--poll-interval", help="seconds between polls"),
    url: str = UrlOpt,
    token: str = TokenOpt,
) -> None:
    """Start an operation (POST /api/operations/run) and follow it with a progress bar."""
    try:
        body = json.loads(payload)
    except json.JSONDecodeError as e:
        console.print(f"[red]the payload is not JSON: {e}[/]")
        raise typer.Exit(1) from None
    with _client(url, token) as client:
        op = _call(client, "POST", "/operations/run", json=body)
        console.print(f"started {op['type']} operation {op['id']}")
        if wait:
            op = _wait(client, op, poll)
            _show_result(op)
            if op["result"] != "success":
                raise typer.Exit(1)


@operations_app.command("get")
def get(operation_id: int, url: str = UrlOpt, token: str = TokenOpt) -> None:
    """Print an operation as JSON."""
    with _client(url, token) as client:
        console.print_json(data=_call(client, "GET", f"/operations/{operation_id}"))


@operations_app.command("list")
def list_operations(
    datastore: int = typer.Option(None, "--datastore-id"),
    operation_type: str = typer.Option(None, "--type"),
    size: int = typer.Option(20, "--size"),
    url: str = UrlOpt,
    token: str = TokenOpt,
) -> None:
    """The newest operations as a table."""
    params = {
        "size": size,
        **({"datastore": datastore} if datastore else {}),
        **({"operation_type": operation_type} if operation_type else {}),
    }
    with _client(url, token) as client:
        page = _call(client, "GET", "/operations", params=params)
    table = Table("id", "type", "datastore", "result", "created", "message")
    for op in page["items"]:
        table.add_row(
            str(op["id"]),
            op["type"],
            (op.get("datastore") or {}).get("name", ""),
            op["result"],
            op["created"],
            (op.get("message") or "")[:60],
        )
    console.print(table)
    console.print(f"{page['total']} operation(s) in all")


@operations_app.command("abort")
def abort(operation_id: int, url: str = UrlOpt, token: str = TokenOpt) -> None:
    """Ask an operation to stop (PUT /api/operations/abort/{id})."""
    with _client(url, token) as client:
        _show_result(_call(client, "PUT", f"/operations/abort/{operation_id}"))


@schedules_app.command("create")
def create_schedule(
    payload: str = typer.Argument(..., help='the operation as JSON, e.g. \'{"type":"scan","datastore_id":1}\''),
    crontab: str = typer.Option(..., "--crontab", help='5-field crontab in UTC, e.g. "0 0 * * *"'),
    name: str = typer.Option(None, "--name"),
    url: str = UrlOpt,
    token: str = TokenOpt,
) -> None:
    """Schedule an operation; prints the schedule's id and next trigger."""
    body = {**json.loads(payload), "crontab": crontab, **({"name": name} if name else {})}
    with _client(url, token) as client:
        s = _call(client, "POST", "/operations/schedule", json=body)
    console.print(f"schedule {s['id']} ({s['type']}, {s['crontab']}) next runs at {s['next_trigger']}")


@schedules_app.command("list")
def list_schedules(url: str = UrlOpt, token: str = TokenOpt) -> None:
    """Every schedule with its next trigger."""
    with _client(url, token) as client:
        page = _call(client, "GET", "/operations/schedule", params={"size": 1000})
    table = Table("id", "name", "type", "datastore", "crontab", "next trigger", "active")
    for s in page["items"]:
        table.add_row(
            str(s["id"]),
            s.get("name") or "",
            s["type"],
            (s.get("datastore") or {}).get("name", ""),
            s["crontab"],
            s.get("next_trigger") or "",
            "no" if s["deactivated"] else "yes",
        )
    console.print(table)


@schedules_app.command("delete")
def delete_schedule(schedule_id: int, url: str = UrlOpt, token: str = TokenOpt) -> None:
    """Delete a schedule."""
    with _client(url, token) as client:
        _call(client, "DELETE", f"/operations/schedule/{schedule_id}")
    console.print(f"schedule {schedule_id} deleted")
