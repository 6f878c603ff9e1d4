"""/connections: shared connection settings. Secret values (password, secret_key, …) are
Fernet-encrypted at rest and never returned."""

from __future__ import annotations

from types import SimpleNamespace

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from ...errors import Conflict, ValidationError
from ...security import SECRET_FIELDS, decrypt_secrets, encrypt_secrets
from ...sources import verify
from ...store.models import Connection
from ...store.repo import paginate
from ...store.repositories import connections as repo
from ...store.repositories import datastores as datastore_repo
from .. import responses as r
from ..deps import PageDep, SessionDep, page_of
from ..routing import Route
from ..serializers import iso

router = APIRouter(prefix="/connections", tags=["connections"], route_class=Route)

SUPPORTED = ("duckdb", "postgresql", "mysql", "mariadb", "sqlite", "local", "s3", "spark")


class ConnectionBody(BaseModel):
    """Any connection keys are accepted; ``type`` is required on create."""

    model_config = ConfigDict(extra="allow")
    name: str | None = Field(default=None, min_length=1, max_length=255)
    type: str | None = None


def _split(body: ConnectionBody) -> tuple[dict, dict]:
    data = body.model_dump(exclude_none=True, exclude={"name", "type"})
    secrets = {k: v for k, v in data.items() if k in SECRET_FIELDS}
    params = {k: v for k, v in data.items() if k not in SECRET_FIELDS}
    return params, secrets


def connection_json(c: Connection) -> dict:
    """A connection without its secrets; ``connection_type`` is Qualytics' name of ``store_type``."""
    store_type = "dfs" if c.type in ("local", "s3", "spark") else "jdbc"
    return {
        **c.parameters,
        "id": c.id,
        "created": iso(c.created),
        "name": c.name,
        "type": c.type,
        "store_type": store_type,
        "connection_type": store_type,
        "secrets_manager": None,
    }


@router.get("", response_model=r.ConnectionPage)
def list_connections(session: SessionDep, page: PageDep, name: str | None = None, type: str | None = None) -> dict:
    stmt = repo.listing(name=name, type_=type)
    rows, total, pages = paginate(session, stmt, page.page, page.size)
    return page_of([connection_json(c) for c in rows], total, page, pages)


@router.post("", response_model=r.Connection)
def create_connection(body: ConnectionBody, session: SessionDep, request: Request) -> dict:
    """Create a connection (type ``duckdb`` or ``local``). 409 for a duplicate name."""
    if not body.name:
        raise ValidationError(("name",), "a connection needs a name")
    if not body.type or body.type.lower() not in SUPPORTED:
        raise ValidationError(
            ("type",), f"unsupported connection type '{body.type}'; use one of: {', '.join(SUPPORTED)}"
        )
    if repo.name_taken(session, body.name):
        raise Conflict(f"a connection named '{body.name}' already exists")
    params, secrets = _split(body)
    kind = {"mariadb": "mysql"}.get(body.type.lower(), body.type.lower())
    c = Connection(
        name=body.name,
        type=kind,
        parameters=params,
        secrets=encrypt_secrets(request.app.state.settings.secret_key, secrets),
    )
    repo.add(session, c)
    return connection_json(c)


@router.get("/{connection_id}", response_model=r.Connection)
def get_connection(connection_id: int, session: SessionDep) -> dict:
    return connection_json(repo.get(session, connection_id))


@router.put("/{connection_id}", response_model=r.Connection)
def update_connection(connection_id: int, body: ConnectionBody, session: SessionDep, request: Request) -> dict:
    """Partial update; secrets sent replace the stored ones, secrets not sent are kept."""
    c = repo.get(session, connection_id)
    params, secrets = _split(body)
    if body.name:
        c.name = body.name
    c.parameters = {**c.parameters, **params}
    if secrets:
        key = request.app.state.settings.secret_key
        c.secrets = encrypt_secrets(key, {**decrypt_secrets(key, c.secrets), **secrets})
    session.flush()
    return connection_json(c)


@router.delete("/{connection_id}", status_code=204)
def delete_connection(connection_id: int, session: SessionDep) -> Response:
    """Delete an unused connection; 409 while a datastore uses it."""
    c = repo.get(session, connection_id)
    used = datastore_repo.names_using_connection(session, c.id)
    if used:
        raise Conflict(f"connection {c.id} is used by datastore(s): {', '.join(used)}")
    session.delete(c)
    return Response(status_code=204)


@router.post("/{connection_id}/test", response_model=r.Verification)
def test_connection(connection_id: int, session: SessionDep, request: Request) -> dict:
    """``{connected, message}`` with the driver's reason on failure. A server connection is
    tried on its ``database`` parameter (default: ``postgres`` / none); a folder must exist;
    DuckDB and SQLite have no server (each datastore names its file), so they always pass."""
    c = repo.get(session, connection_id)
    if c.type in ("duckdb", "sqlite"):
        return {"connected": True, "message": f"{c.type} runs embedded; each datastore names its own file"}
    database = c.parameters.get("database") or ("postgres" if c.type == "postgresql" else None)
    secrets = decrypt_secrets(request.app.state.settings.secret_key, c.secrets)
    connected, message = verify(
        SimpleNamespace(type=c.type, connection=c.parameters, database=database, schema=c.parameters.get("schema")),
        secrets,
    )
    return {"connected": connected, "message": message}
