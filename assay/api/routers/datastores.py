"""/datastores: CRUD, enrichment link and unlink."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select

from ...engine.rules import RuleDefinitionError
from ...enrichment.writer import ENRICHMENT_TYPES, default_prefix
from ...security import SECRET_FIELDS, datastore_secrets, encrypt_secrets
from ...sources import verify
from ...store.models import Connection, Datastore, Operation
from ...store.repo import Conflict, ensure_idle, get_or_404, paginate
from .. import serializers as ser
from ..deps import PageDep, RunnerDep, SessionDep, page_of
from ..schemas import ConnectionIn, DatastoreCreate, DatastoreUpdate

router = APIRouter(prefix="/datastores", tags=["datastores"])

KINDS = {
    "duckdb": ("jdbc", "duckdb"),
    "postgresql": ("jdbc", "postgresql"),
    "postgres": ("jdbc", "postgresql"),
    "mysql": ("jdbc", "mysql"),
    "mariadb": ("jdbc", "mysql"),
    "sqlite": ("jdbc", "sqlite"),
    "local": ("dfs", "local"),
    "file": ("dfs", "local"),
    "s3": ("dfs", "s3"),
    "spark": ("dfs", "spark"),
}


def _kind(connection: ConnectionIn | None, database: str | None) -> tuple[str, str, dict, dict]:
    """(store_type, type, connection settings without secrets, secrets) of a datastore body.

    Raises: RuleDefinitionError (→ 422) naming the missing or wrong setting.
    """
    if connection is None:
        raise RuleDefinitionError(("connection",), "a connection (or connection_id) is required")
    kind = KINDS.get(connection.type.lower())
    if kind is None:
        raise RuleDefinitionError(
            ("connection", "type"),
            f"unsupported connection type '{connection.type}'; use one of: duckdb, postgresql, mysql, mariadb, "
            "sqlite, local, s3, spark",
        )
    data = connection.model_dump(exclude_none=True)
    secrets = {k: v for k, v in data.items() if k in SECRET_FIELDS}
    conn = {k: v for k, v in data.items() if k not in SECRET_FIELDS}
    conn["type"] = kind[1]
    if kind[1] in ("duckdb", "sqlite"):
        if not database:
            raise RuleDefinitionError(
                ("database",), f"a {kind[1]} datastore needs 'database': the absolute path of the file"
            )
        if not Path(database).is_absolute():
            raise RuleDefinitionError(("database",), f"'{database}' is not an absolute path")
    elif kind[1] in ("postgresql", "mysql"):
        if not conn.get("host"):
            raise RuleDefinitionError(("connection", "host"), f"a {kind[1]} connection needs 'host'")
        if not database:
            raise RuleDefinitionError(("database",), f"a {kind[1]} datastore needs 'database'")
    elif kind[1] == "spark":
        from ...sources.spark import validate_connection

        for location, message in validate_connection(conn):
            raise RuleDefinitionError(location, message)
    elif kind[1] == "s3":
        uri = conn.get("uri") or ""
        if not uri.startswith("s3://") or not uri.removeprefix("s3://").strip("/"):
            raise RuleDefinitionError(("connection", "uri"), "an s3 datastore needs 'uri': s3://bucket/prefix")
        endpoint = conn.get("endpoint_url")
        if endpoint is not None and (not isinstance(endpoint, str) or not endpoint.startswith(("http://", "https://"))):
            raise RuleDefinitionError(
                ("connection", "endpoint_url"), "'endpoint_url' must be an http:// or https:// URL"
            )
        if conn.get("region") is not None and not isinstance(conn["region"], str):
            raise RuleDefinitionError(("connection", "region"), "'region' must be a string such as us-east-1")
    else:
        uri = conn.get("uri") or ""
        if not uri.startswith("file://") or not Path(uri.removeprefix("file://")).is_absolute():
            raise RuleDefinitionError(("connection", "uri"), "a local datastore needs 'uri': file:///absolute/folder")
    return kind[0], kind[1], conn, secrets


@router.get("")
def list_datastores(
    session: SessionDep,
    page: PageDep,
    name: str | None = None,
    enrichment_only: bool | None = None,
    search: str | None = None,
    datastore_type: Annotated[list[str] | None, Query()] = None,
) -> dict:
    """Datastores, paged; filters ``name`` (exact), ``enrichment_only``, ``search`` (substring)."""
    stmt = select(Datastore).order_by(Datastore.id)
    if name is not None:
        stmt = stmt.where(Datastore.name == name)
    if enrichment_only is not None:
        stmt = stmt.where(Datastore.enrichment_only.is_(enrichment_only))
    if search:
        stmt = stmt.where(Datastore.name.ilike(f"%{search}%"))
    if datastore_type:
        types = [KINDS.get(t.lower(), ("", t.lower()))[1] for value in datastore_type for t in value.split(",")]
        stmt = stmt.where(Datastore.type.in_(types))
    rows, total, pages = paginate(session, stmt, page.page, page.size)
    return page_of([ser.datastore(d) for d in rows], total, page, pages)


@router.post("")
def create_datastore(body: DatastoreCreate, session: SessionDep, runner: RunnerDep, request: Request) -> dict:
    """Create a datastore (DuckDB file or local folder; enrichment-only with ``enrichment_only``)."""
    connection = body.connection
    if body.connection_id is not None:
        ref = get_or_404(session, Connection, body.connection_id, "Connection")
        connection = ConnectionIn(type=ref.type, **ref.parameters)
    store_type, type_, conn, secrets = _kind(connection, body.database)
    if body.connection_id is not None:
        secrets = {}  # the shared connection keeps its own
    if session.scalar(select(Datastore.id).where(Datastore.name == body.name)) is not None:
        raise Conflict(f"a datastore named '{body.name}' already exists")
    ds = Datastore(
        name=body.name,
        store_type=store_type,
        type=type_,
        connection=conn,
        database=body.database,
        secrets=encrypt_secrets(request.app.state.settings.secret_key, secrets),
        schema=body.schema_ or {"duckdb": "main", "postgresql": "public"}.get(type_),
        enrichment_only=body.enrichment_only,
        enrichment_prefix=body.enrichment_prefix or default_prefix(body.name),
        enrichment_source_record_limit=body.enrichment_source_record_limit,
        enrichment_remediation_strategy=body.enrichment_remediation_strategy,
        high_count_rollup_threshold=body.high_count_rollup_threshold,
        tags=body.tags,
        description=body.description,
        connection_id=body.connection_id,
        max_concurrent_operations=body.max_concurrent_operations,
    )
    session.add(ds)
    session.flush()
    if body.trigger_sync and not body.enrichment_only:
        op = Operation(
            type="sync",
            datastore_id=ds.id,
            result="queued",
            triggered_by="datastore creation",
            params={
                "type": "sync",
                "datastore_id": ds.id,
                "prune": False,
                "recreate": False,
                "include": ["table", "view"],
            },
        )
        session.add(op)
        session.flush()
        session.commit()
        runner.submit(op.id)
    return ser.datastore(ds)


@router.get("/{datastore_id}")
def get_datastore(datastore_id: int, session: SessionDep) -> dict:
    return ser.datastore(get_or_404(session, Datastore, datastore_id, "Datastore"))


@router.put("/{datastore_id}")
def update_datastore(datastore_id: int, body: DatastoreUpdate, session: SessionDep, request: Request) -> dict:
    """Partial update: only the keys sent change."""
    ds = get_or_404(session, Datastore, datastore_id, "Datastore")
    sent = body.model_fields_set
    if "connection" in sent or "database" in sent:
        connection = body.connection or ConnectionIn(**ds.connection)
        ds.store_type, ds.type, ds.connection, secrets = _kind(connection, body.database or ds.database)
        if secrets:  # secrets sent replace the stored ones; secrets not sent are kept
            key = request.app.state.settings.secret_key
            ds.secrets = encrypt_secrets(key, {**datastore_secrets(key, ds), **secrets})
    for key in (
        "name",
        "database",
        "enrichment_prefix",
        "enrichment_source_record_limit",
        "enrichment_remediation_strategy",
        "high_count_rollup_threshold",
        "tags",
        "description",
        "max_concurrent_operations",
    ):
        if key in sent and getattr(body, key) is not None:
            setattr(ds, key, getattr(body, key))
    if "max_concurrent_operations" in sent:  # null removes the limit
        ds.max_concurrent_operations = body.max_concurrent_operations
    if "schema_" in sent and body.schema_:
        ds.schema = body.schema_
    return ser.datastore(ds)


@router.delete("/{datastore_id}", status_code=204)
def delete_datastore(datastore_id: int, session: SessionDep) -> Response:
    """Delete a datastore with its containers, checks and anomalies."""
    ds = get_or_404(session, Datastore, datastore_id, "Datastore")
    ensure_idle(session, ds.id, f"delete datastore {ds.id}")
    for other in session.scalars(select(Datastore).where(Datastore.enrichment_datastore_id == ds.id)):
        other.enrichment_datastore_id = None
    session.delete(ds)
    return Response(status_code=204)


@router.patch("/{datastore_id}/enrichment/{enrichment_id}")
def link_enrichment(datastore_id: int, enrichment_id: int, session: SessionDep) -> dict:
    """Link an enrichment-only datastore (idempotent). 409 when the target is not enrichment-only."""
    ds = get_or_404(session, Datastore, datastore_id, "Datastore")
    target = get_or_404(session, Datastore, enrichment_id, "Enrichment datastore")
    if not target.enrichment_only:
        raise Conflict(f"datastore {enrichment_id} is not an enrichment datastore (enrichment_only is false)")
    if target.type not in ENRICHMENT_TYPES:
        raise Conflict(f"enrichment datastores must be one of: {', '.join(ENRICHMENT_TYPES)}")
    ds.enrichment_datastore_id = target.id
    session.flush()
    session.refresh(ds)
    return ser.datastore(ds)


@router.delete("/{datastore_id}/enrichment", status_code=204)
def unlink_enrichment(datastore_id: int, session: SessionDep) -> Response:
    """Unlink the enrichment datastore (idempotent); remediation goes back to ``none``."""
    ds = get_or_404(session, Datastore, datastore_id, "Datastore")
    ds.enrichment_datastore_id = None
    ds.enrichment_remediation_strategy = "none"
    return Response(status_code=204)


@router.post("/connection")
def verify_draft(body: DatastoreCreate, session: SessionDep, request: Request) -> dict:
    """Verify a datastore definition before creating it: ``{connected, message}``."""
    store_type, type_, conn, secrets = _kind(body.connection, body.database)
    draft = Datastore(
        name=body.name,
        store_type=store_type,
        type=type_,
        connection=conn,
        database=body.database,
        schema=body.schema_ or {"duckdb": "main", "postgresql": "public"}.get(type_),
    )
    connected, message = verify(draft, secrets)
    return {"connected": connected, "message": message}


@router.post("/{datastore_id}/connection")
def verify_datastore(datastore_id: int, session: SessionDep, request: Request) -> dict:
    """Open the datastore and list its containers: ``{connected, message}`` with the driver's
    reason on failure (never a 500)."""
    ds = get_or_404(session, Datastore, datastore_id, "Datastore")
    if ds.enrichment_only and ds.type == "duckdb" and not Path(ds.database or "").exists():
        return {"connected": True, "message": "the enrichment DuckDB file will be created on first write"}
    connected, message = verify(ds, datastore_secrets(request.app.state.settings.secret_key, ds))
    return {"connected": connected, "message": message}
