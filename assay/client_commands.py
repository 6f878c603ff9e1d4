"""The daily jobs from a terminal, through a running Assay API: `assay datastores …`,
`assay checks …`, `assay anomalies …`, and the `assay scan` / `assay profile` shortcuts.

Like `assay operations`, every command takes ``--url`` / ``--token`` or ``ASSAY_URL`` /
``ASSAY_TOKEN`` (default URL http://127.0.0.1:8000). A datastore is given by id or by
name. An API error prints the API's ``detail`` and exits 1.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import typer
from rich.table import Table

from .client_cli import TokenOpt, UrlOpt, _call, _client, _show_result, _wait, console

datastores_app = typer.Typer(help="Add, list, verify and sync datastores.", no_args_is_help=True)
checks_app = typer.Typer(help="List, create, export and import quality checks.", no_args_is_help=True)
anomalies_app = typer.Typer(help="List, show, acknowledge and resolve anomalies.", no_args_is_help=True)

DatastoreArg = typer.Argument(..., help="the datastore's id or name")
PollOpt = typer.Option(1.0, "--poll-interval", help="seconds between polls")


def register(app: typer.Typer) -> None:
    """Add these commands to the `assay` application."""
    app.add_typer(datastores_app, name="datastores")
    app.add_typer(checks_app, name="checks")
    app.add_typer(anomalies_app, name="anomalies")
    app.command("scan")(scan)
    app.command("profile")(profile)


# -- helpers ---------------------------------------------------------------------------------


def _all(client: httpx.Client, path: str, **params) -> list[dict]:
    """Every item of a paged list endpoint."""
    out: list[dict] = []
    page = 1
    while True:
        body = _call(client, "GET", path, params={**params, "page": page, "size": 1000})
        out.extend(body["items"])
        if page * 1000 >= body["total"]:
            return out
        page += 1


def _datastore(client: httpx.Client, ref: str) -> dict:
    """The datastore with id or name ``ref``; exits 1 when there is none."""
    if ref.isdigit():
        return _call(client, "GET", f"/datastores/{ref}")
    # the name filter matches a case-insensitive substring: the exact name first, else one
    # case-insensitive match
    found = _call(client, "GET", "/datastores", params={"name": ref, "size": 100})["items"]
    exact = [d for d in found if d["name"] == ref] or [d for d in found if d["name"].lower() == ref.lower()]
    if len(exact) != 1:
        console.print(f"[red]no datastore named '{ref}'[/] (list them with `assay datastores list`)")
        raise typer.Exit(1)
    return exact[0]


def _containers(client: httpx.Client, datastore_id: int) -> dict[str, int]:
    """Container name → id of a datastore."""
    return {c["name"]: c["id"] for c in _call(client, "GET", "/containers/listing", params={"datastore": datastore_id})}


def _container_id(containers: dict[str, int], ref: str | int) -> int:
    if isinstance(ref, int) or str(ref).isdigit():
        return int(ref)
    if ref not in containers:
        known = ", ".join(sorted(containers)) or "none: sync the datastore first"
        console.print(f"[red]no container named '{ref}'[/] (containers: {known})")
        raise typer.Exit(1)
    return containers[ref]


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except OSError as e:
        console.print(f"[red]cannot read {path}: {e.strerror}[/]")
        raise typer.Exit(1) from None
    except json.JSONDecodeError as e:
        console.print(f"[red]{path} is not JSON: {e}[/]")
        raise typer.Exit(1) from None


def _run(client: httpx.Client, body: dict, wait: bool, poll: float) -> dict:
    op = _call(client, "POST", "/operations/run", json=body)
    console.print(f"started {op['type']} operation {op['id']}")
    if wait:
        op = _wait(client, op, poll)
        _show_result(op)
    return op


# -- datastores ------------------------------------------------------------------------------


@datastores_app.command("add")
def datastores_add(
    name: str = typer.Argument(..., help="a unique name"),
    kind: str = typer.Option(
        ..., "--type", help="duckdb, sqlite, postgresql, mysql, mariadb, local (a folder of files) or s3"
    ),
    database: str = typer.Option(None, "--database", help="file path (duckdb, sqlite) or database name"),
    schema: str = typer.Option(None, "--schema"),
    uri: str = typer.Option(None, "--uri", help="file:///abs/folder or s3://bucket/prefix"),
    host: str = typer.Option(None, "--host"),
    port: int = typer.Option(None, "--port"),
    username: str = typer.Option(None, "--username"),
    password: str = typer.Option(None, "--password", envvar="ASSAY_DATASTORE_PASSWORD"),
    enrichment_only: bool = typer.Option(False, "--enrichment-only", help="a datastore for failing rows"),
    enrichment: str = typer.Option(None, "--enrichment", help="link this enrichment datastore (id or name)"),
    test_connection: bool = typer.Option(True, "--test/--no-test", help="test the connection before saving"),
    url: str = UrlOpt,
    token: str = TokenOpt,
) -> None:
    """Add a datastore (POST /api/datastores); its connection is tested first. Relative
    paths are made absolute."""
    connection: dict[str, Any] = {"type": kind}
    if uri:
        if uri.startswith("file://") or "://" not in uri:
            uri = "file://" + str(Path(uri.removeprefix("file://")).expanduser().resolve())
        connection["uri"] = uri
    for key, value in (("host", host), ("port", port), ("username", username), ("password", password)):
        if value is not None:
            connection[key] = value
    if database and kind.lower() in ("duckdb", "sqlite"):
        database = str(Path(database).expanduser().resolve())
    body: dict[str, Any] = {"name": name, "connection": connection, "enrichment_only": enrichment_only}
    if database:
        body["database"] = database
    if schema:
        body["schema"] = schema
    with _client(url, token) as client:
        ds = _call(client, "POST", "/datastores", json=body, params={"test_connection": str(test_connection).lower()})
        console.print(f"datastore {ds['id']} '{ds['name']}' added ({ds['type']})")
        if enrichment:
            target = _datastore(client, enrichment)
            _call(client, "PATCH", f"/datastores/{ds['id']}/enrichment/{target['id']}")
            console.print(f"failing rows of '{ds['name']}' go to enrichment datastore '{target['name']}'")


@datastores_app.command("list")
def datastores_list(url: str = UrlOpt, token: str = TokenOpt) -> None:
    """Every datastore as a table."""
    with _client(url, token) as client:
        items = _all(client, "/datastores")
    table = Table("id", "name", "type", "database / uri", "enrichment")
    for d in items:
        enrichment = (
            "enrichment-only" if d.get("enrichment_only") else (d.get("enrichment_datastore") or {}).get("name")
        )
        table.add_row(
            str(d["id"]),
            d["name"],
            d["type"],
            d.get("database") or (d.get("connection") or {}).get("uri") or "",
            enrichment or "",
        )
    console.print(table)


@datastores_app.command("verify")
def datastores_verify(datastore: str = DatastoreArg, url: str = UrlOpt, token: str = TokenOpt) -> None:
    """Test a datastore's connection (POST /api/datastores/{id}/connection); exit 1 when it fails."""
    with _client(url, token) as client:
        ds = _datastore(client, datastore)
        r = _call(client, "POST", f"/datastores/{ds['id']}/connection")
    if not r["connected"]:
        console.print(f"[red]{ds['name']}: cannot connect:[/] {r['message']}")
        raise typer.Exit(1)
    console.print(f"[green]{ds['name']}: {r['message']}[/]")


@datastores_app.command("sync")
def datastores_sync(
    datastore: str = DatastoreArg,
    wait: bool = typer.Option(True, "--wait/--background", help="wait until the sync ends"),
    poll: float = PollOpt,
    url: str = UrlOpt,
    token: str = TokenOpt,
) -> None:
    """Find the datastore's containers and fields (a sync operation), then list them."""
    with _client(url, token) as client:
        ds = _datastore(client, datastore)
        op = _run(client, {"type": "sync", "datastore_id": ds["id"]}, wait, poll)
        if not wait:
            return
        if op["result"] != "success":
            raise typer.Exit(1)
        containers = _call(client, "GET", "/containers/listing", params={"datastore": ds["id"]})
    console.print(f"{len(containers)} container(s): " + ", ".join(c["name"] for c in containers))


# -- checks ----------------------------------------------------------------------------------

#: the keys of a check definition that a file carries (export) and that create accepts
CHECK_KEYS = ("rule", "fields", "description", "coverage", "filter", "properties", "tags", "status")


def _definition(check: dict) -> dict:
    """A check as a portable definition: its container by name, fields as names."""
    out = {
        "container": check["container"]["name"],
        "rule": check["rule_type"],
        "fields": [f["name"] for f in check.get("fields") or []],
        "description": check.get("description"),
        "coverage": check.get("coverage"),
        "filter": check.get("filter"),
        "properties": check.get("properties") or {},
        "tags": [t["name"] for t in check.get("global_tags") or []],
        "status": check.get("status"),
    }
    return {k: v for k, v in out.items() if v is not None}


def _same(a: dict, b: dict) -> bool:
    keys = ("container", "rule", "fields", "filter", "properties")
    return all((a.get(k) or None) == (b.get(k) or None) for k in keys)


@checks_app.command("list")
def checks_list(
    datastore: str = DatastoreArg,
    container: str = typer.Option(None, "--container", help="only this container (name or id)"),
    url: str = UrlOpt,
    token: str = TokenOpt,
) -> None:
    """The datastore's checks as a table."""
    with _client(url, token) as client:
        ds = _datastore(client, datastore)
        params: dict[str, Any] = {"datastore": ds["id"]}
        if container:
            params["container"] = _container_id(_containers(client, ds["id"]), container)
        checks = _all(client, "/quality-checks", **params)
    table = Table("id", "container", "rule", "fields", "properties", "status", "passing", "anomalies")
    for c in checks:
        is_passing = c.get("is_passing")
        passing = ("yes" if is_passing else "no") if isinstance(is_passing, bool) else "-"
        table.add_row(
            str(c["id"]),
            c["container"]["name"],
            c["rule_type"],
            ", ".join(f["name"] for f in c["fields"]),
            json.dumps(c.get("properties") or {})[:50],
            c["status"],
            passing,
            str(c.get("anomaly_count") or 0),
        )
    console.print(table)
    console.print(f"{len(checks)} check(s)")


def _create_checks(client: httpx.Client, ds: dict, items: list[dict], dry_run: bool = False) -> tuple[int, int, int]:
    """Create each definition (``container`` name or ``container_id``) unless an identical
    check exists. Returns (created, unchanged, failed)."""
    containers = _containers(client, ds["id"])
    existing = [_definition(c) for c in _all(client, "/quality-checks", datastore=ds["id"])]
    created = unchanged = failed = 0
    for i, item in enumerate(items, 1):
        if not isinstance(item, dict) or not (item.get("rule") or item.get("rule_type")):
            console.print(f"[red]item {i}: not a check (it needs at least 'rule' and 'container')[/]")
            failed += 1
            continue
        ref = item.get("container_id") or item.get("container")
        if ref is None:
            console.print(f"[red]item {i}: no 'container' (name) or 'container_id'[/]")
            failed += 1
            continue
        if isinstance(ref, str) and not ref.isdigit() and ref not in containers:
            console.print(f"[red]item {i}: no container named '{ref}' in datastore '{ds['name']}'[/]")
            failed += 1
            continue
        cid = _container_id(containers, ref)
        names = {v: k for k, v in containers.items()}
        definition = {"container": names.get(cid), "rule": item.get("rule") or item.get("rule_type"), **item}
        if any(_same(definition, e) for e in existing):
            unchanged += 1
            continue
        body = {k: item[k] for k in CHECK_KEYS if item.get(k) is not None}
        body["rule"] = definition["rule"]
        body["container_id"] = cid
        if dry_run:
            created += 1
            continue
        r = client.post("/quality-checks", json=body)
        if r.status_code >= 400:
            detail = (
                r.json().get("detail") if r.headers.get("content-type", "").startswith("application/json") else r.text
            )
            console.print(
                f"[red]item {i} ({definition['rule']} on {definition['container']}): {r.status_code}[/] {detail}"
            )
            failed += 1
            continue
        created += 1
        existing.append(definition)
        console.print(f"check {r.json()['id']}: {definition['rule']} on {definition['container']}")
    return created, unchanged, failed


@checks_app.command("create")
def checks_create(
    datastore: str = DatastoreArg,
    file: Path = typer.Option(..., "--file", "-f", help="a JSON file: one check or a list of checks"),
    url: str = UrlOpt,
    token: str = TokenOpt,
) -> None:
    """Create checks from a JSON file. Each check names its container (``container``: name,
    or ``container_id``), ``rule``, ``fields`` and ``properties``, e.g.
    {"container": "orders", "rule": "between", "fields": ["amount"], "properties": {"min": 0, "max": 1000}}."""
    data = _read_json(file)
    items = data if isinstance(data, list) else [data]
    with _client(url, token) as client:
        ds = _datastore(client, datastore)
        created, unchanged, failed = _create_checks(client, ds, items)
    console.print(f"{created} created, {unchanged} already there, {failed} failed")
    if failed:
        raise typer.Exit(1)


@checks_app.command("export")
def checks_export(
    datastore: str = DatastoreArg,
    output: Path = typer.Option(..., "--output", "-o", help="the JSON file to write"),
    url: str = UrlOpt,
    token: str = TokenOpt,
) -> None:
    """Write the datastore's active and draft checks to a JSON file, containers by name, so
    `assay checks import` can load them into this or another datastore."""
    with _client(url, token) as client:
        ds = _datastore(client, datastore)
        checks = [_definition(c) for c in _all(client, "/quality-checks", datastore=ds["id"])]
    try:
        output.write_text(json.dumps(checks, indent=2) + "\n")
    except OSError as e:
        console.print(f"[red]cannot write {output}: {e.strerror}[/red]")
        raise typer.Exit(1) from None
    console.print(f"{len(checks)} check(s) of '{ds['name']}' written to {output}")


@checks_app.command("import")
def checks_import(
    datastore: str = DatastoreArg,
    input_: Path = typer.Option(..., "--input", "-i", help="a JSON file written by `assay checks export`"),
    dry_run: bool = typer.Option(False, "--dry-run", help="say what would be created, create nothing"),
    url: str = UrlOpt,
    token: str = TokenOpt,
) -> None:
    """Create the checks of an exported file in a datastore whose containers have the same
    names; checks it already has (same container, rule, fields, filter, properties) are skipped."""
    data = _read_json(input_)
    items = data if isinstance(data, list) else [data]
    with _client(url, token) as client:
        ds = _datastore(client, datastore)
        created, unchanged, failed = _create_checks(client, ds, items, dry_run=dry_run)
    verb = "would be created" if dry_run else "created"
    console.print(f"{created} {verb}, {unchanged} already there, {failed} failed")
    if failed:
        raise typer.Exit(1)


# -- anomalies -------------------------------------------------------------------------------


def _anomaly_table(anomalies: list[dict]) -> Table:
    table = Table("id", "container", "partition", "type", "status", "checks", "records", "message")
    for a in anomalies:
        rules = sorted({(fc.get("quality_check") or {}).get("rule_type", "?") for fc in a["failed_checks"]})
        table.add_row(
            str(a["id"]),
            a["container"]["name"],
            (a.get("partition") or {}).get("name") or "",
            a["type"],
            a["status"],
            ", ".join(rules),
            str(a["anomalous_records_count"]),
            (a.get("message") or "")[:70],
        )
    return table


@anomalies_app.command("list")
def anomalies_list(
    datastore: str = typer.Option(None, "--datastore", "-d", help="the datastore's id or name"),
    container: str = typer.Option(None, "--container", help="container name (with --datastore) or id"),
    status: list[str] = typer.Option(
        None, "--status", help="Active, Acknowledged, Resolved, Duplicate, Invalid, Discarded (repeatable)"
    ),
    check: int = typer.Option(None, "--check", help="only anomalies of this check id"),
    rule: str = typer.Option(None, "--rule", help="only anomalies of this rule type"),
    archived: bool = typer.Option(False, "--archived", help="archived ones too (default: open ones only)"),
    limit: int = typer.Option(50, "--limit", help="at most this many, newest first"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="print only the ids, one a line"),
    url: str = UrlOpt,
    token: str = TokenOpt,
) -> None:
    """Anomalies as a table, newest first (open ones unless --archived or --status)."""
    params: dict[str, Any] = {"sort_created": "desc", "size": max(1, min(limit, 1000))}
    with _client(url, token) as client:
        if datastore:
            ds = _datastore(client, datastore)
            params["datastore"] = ds["id"]
            if container:
                params["container"] = _container_id(_containers(client, ds["id"]), container)
        elif container:
            if not container.isdigit():
                console.print("[red]a container given by name needs --datastore[/]")
                raise typer.Exit(1)
            params["container"] = int(container)
        if status:
            params["status"] = status
        elif archived:
            params["archived"] = "include"
        if check is not None:
            params["quality_check"] = check
        if rule:
            params["rule_type"] = rule
        page = _call(client, "GET", "/anomalies", params=params)
    if quiet:
        for a in page["items"]:
            typer.echo(a["id"])
        return
    console.print(_anomaly_table(page["items"]))
    console.print(f"{page['total']} anomal{'y' if page['total'] == 1 else 'ies'} in all")


@anomalies_app.command("show")
def anomalies_show(anomaly_id: int, url: str = UrlOpt, token: str = TokenOpt) -> None:
    """One anomaly: what failed, and its source records (the failing rows)."""
    with _client(url, token) as client:
        a = _call(client, "GET", f"/anomalies/{anomaly_id}")
        stored = _call(client, "GET", f"/anomalies/{anomaly_id}/source-record")
    console.print(
        f"[bold]anomaly {a['id']}[/] ({a['type']}, {a['status']}) in {a['datastore']['name']}."
        f"{a['container']['name']}, partition {(a.get('partition') or {}).get('name')}, "
        f"found by operation {a['operation_id']} at {a['created']}"
    )
    console.print(f"{a['anomalous_records_count']} anomalous record(s): {a['message']}")
    for fc in a["failed_checks"]:
        q = fc.get("quality_check") or {}
        fields = ", ".join(f["name"] for f in q.get("fields") or [])
        console.print(f"  check {q.get('id')} {q.get('rule_type')}({fields}) {json.dumps(q.get('properties') or {})}")
    # the anomaly's own copy keeps the columns in the source's order
    rows = a.get("source_records") or [json.loads(r["source_record"]) for r in stored]
    if not rows:
        console.print("no source records")
        return
    columns = list(dict.fromkeys(k for row in rows for k in row))
    shown = ["NULL" if row.get(c) is None else str(row.get(c)) for row in rows for c in columns]
    if len(columns) <= 6:
        table = Table(*columns, title="source records")
        for i in range(len(rows)):
            table.add_row(*shown[i * len(columns) : (i + 1) * len(columns)])
    else:  # a wide row reads better as one line per field, records side by side
        table = Table("field", *(f"record {i + 1}" for i in range(len(rows))), title="source records")
        for j, c in enumerate(columns):
            table.add_row(c, *(shown[i * len(columns) + j] for i in range(len(rows))))
    console.print(table)


@anomalies_app.command("acknowledge")
def anomalies_acknowledge(
    anomaly_ids: list[int] = typer.Argument(..., help="one or more anomaly ids"),
    url: str = UrlOpt,
    token: str = TokenOpt,
) -> None:
    """Mark anomalies Acknowledged (reviewed, still open)."""
    with _client(url, token) as client:
        for anomaly_id in anomaly_ids:
            _call(client, "PUT", f"/anomalies/{anomaly_id}", json={"status": "Acknowledged"})
            console.print(f"anomaly {anomaly_id}: Acknowledged")


@anomalies_app.command("resolve")
def anomalies_resolve(
    anomaly_ids: list[int] = typer.Argument(..., help="one or more anomaly ids"),
    status: str = typer.Option("Resolved", "--status", help="Resolved, Invalid, Discarded or Duplicate"),
    url: str = UrlOpt,
    token: str = TokenOpt,
) -> None:
    """Archive anomalies as Resolved (fixed), or Invalid / Discarded / Duplicate."""
    with _client(url, token) as client:
        for anomaly_id in anomaly_ids:
            _call(client, "DELETE", f"/anomalies/{anomaly_id}", params={"archive": "true", "status": status})
            console.print(f"anomaly {anomaly_id}: {status}")


# -- scan / profile --------------------------------------------------------------------------


def scan(
    datastore: str = DatastoreArg,
    container: list[str] = typer.Option(None, "--container", "-c", help="only these containers (repeatable)"),
    incremental: bool = typer.Option(False, "--incremental", help="read only rows past each container's checkpoint"),
    crontab: str = typer.Option(
        None, "--crontab", help='schedule this scan on a 5-field UTC crontab (e.g. "0 2 * * *") instead of running it'
    ),
    name: str = typer.Option(None, "--name", help="the schedule's name (with --crontab)"),
    wait: bool = typer.Option(True, "--wait/--background", help="follow the scan until it ends"),
    poll: float = PollOpt,
    url: str = UrlOpt,
    token: str = TokenOpt,
) -> None:
    """Scan a datastore with a progress bar, then print what was found per container and
    check; or, with --crontab, schedule it."""
    with _client(url, token) as client:
        ds = _datastore(client, datastore)
        body: dict[str, Any] = {"type": "scan", "datastore_id": ds["id"], "incremental": incremental}
        if container:
            body["container_names"] = container
        if crontab:
            s = _call(client, "POST", "/operations/schedule", json={**body, "crontab": crontab, "name": name})
            console.print(
                f"schedule {s['id']} ({s.get('name') or 'unnamed'}): scan of '{ds['name']}' on '{s['crontab']}' "
                f"(UTC), next at {s['next_trigger']}"
            )
            return
        op = _run(client, body, wait, poll)
        if not wait:
            return
        status = op.get("status") or {}
        console.print(
            f"{status.get('containers_analyzed', 0)} container(s), {status.get('records_processed', 0):,} records, "
            f"{status.get('anomalies_identified', 0)} anomal{'y' if status.get('anomalies_identified') == 1 else 'ies'}"
            f" found, {status.get('auto_resolved_anomaly_count', 0)} auto-resolved"
        )
        found = _all(client, "/anomalies", datastore=ds["id"], archived="include") if op.get("status") else []
    found = [a for a in found if a["operation_id"] == op["id"]]
    if op.get("container_scans"):
        table = Table("container", "result", "records", "anomalies", "message")
        for cs in op["container_scans"]:
            table.add_row(
                cs["container"]["name"],
                cs["result"],
                f"{cs.get('records_processed') or 0:,}",
                str(cs.get("anomaly_count") or 0),
                (cs.get("message") or "")[:60],
            )
        console.print(table)
    anomalies_of: dict[int, int] = {}
    for a in found:
        for fc in a["failed_checks"]:
            anomalies_of[fc["quality_check_id"]] = anomalies_of.get(fc["quality_check_id"], 0) + 1
    results = [
        (cs["container"]["name"], r) for cs in op.get("container_scans") or [] for r in cs.get("quality_checks") or []
    ]
    if results:
        table = Table("container", "check", "rule", "result", "failing records", "anomalies", title="checks")
        for cname, r in sorted(results, key=lambda x: (x[0], x[1]["quality_check_id"])):
            colour = {"passed": "green", "failed": "red"}.get(r["result"], "yellow")
            table.add_row(
                cname,
                str(r["quality_check_id"]),
                r["rule_type"],
                f"[{colour}]{r['result']}[/]",
                f"{r.get('anomalous_records_count') or 0:,}",
                str(anomalies_of.get(r["quality_check_id"], 0)),
            )
        console.print(table)
        for cname, r in results:
            if r.get("error"):
                console.print(f"[yellow]check {r['quality_check_id']} on {cname} could not run:[/] {r['error']}")
    if found:
        console.print(f"see them with: assay anomalies list --datastore {ds['id']}; one with: assay anomalies show ID")
    if op["result"] != "success":
        raise typer.Exit(1)


def profile(
    datastore: str = DatastoreArg,
    container: list[str] = typer.Option(None, "--container", "-c", help="only these containers (repeatable)"),
    inference_threshold: int = typer.Option(
        2, "--inference-threshold", help="0 = statistics only … 5 = every kind of inferred check"
    ),
    wait: bool = typer.Option(True, "--wait/--background", help="follow the profile until it ends"),
    poll: float = PollOpt,
    url: str = UrlOpt,
    token: str = TokenOpt,
) -> None:
    """Profile a datastore (field statistics, inferred checks) with a progress bar, then
    print how many checks were inferred per container."""
    with _client(url, token) as client:
        ds = _datastore(client, datastore)
        body: dict[str, Any] = {"type": "profile", "datastore_id": ds["id"], "inference_threshold": inference_threshold}
        if container:
            body["container_names"] = container
        op = _run(client, body, wait, poll)
        if not wait:
            return
        checks = _all(client, "/quality-checks", datastore=ds["id"])
    status = op.get("status") or {}
    console.print(
        f"{status.get('containers_analyzed', 0)} container(s), {status.get('fields_profiled', 0)} fields, "
        f"{status.get('records_processed', 0):,} records profiled; {status.get('checks_added', 0)} check(s) "
        f"inferred, {status.get('checks_updated', 0)} updated"
    )
    inferred: dict[str, dict[str, int]] = {}
    for c in checks:
        if c.get("inferred"):
            per = inferred.setdefault(c["container"]["name"], {})
            per[c["rule_type"]] = per.get(c["rule_type"], 0) + 1
    if inferred:
        table = Table("container", "inferred checks", title="inferred checks (all profiles)")
        for name, rules in sorted(inferred.items()):
            table.add_row(name, ", ".join(f"{rule} ×{n}" for rule, n in sorted(rules.items())))
        console.print(table)
        console.print(f"see them with: assay checks list {ds['id']}")
    if op["result"] != "success":
        raise typer.Exit(1)
