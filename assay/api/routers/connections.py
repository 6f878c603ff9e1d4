"""/connections: shared connection settings. Secret values (password, secret_key, …) are
Fernet-encrypted at rest and never returned."""

from __future__ import annotations

from types import SimpleNamespace

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from ...errors import Conflict, ValidationError
from ...security import SECRET_FIELDS, decrypt_secrets, encrypt_secrets
from ...sources import verify
from ...sources.specs import check_connection
from ...store.models import Connection
from ...store.repo import paginate
from ...store.repositories import connections as repo
from ...store.repositories import datastores as datastore_repo
from .. import responses as r
from .. import serializers as ser
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
        **ser.public_connection(c.parameters),
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


def _kind(type_: str | None) -> str:
    """The stored type of a connection ``type``. Raises ValidationError naming ``type``."""
    if not type_ or type_.lower() not in SUPPORTED:
        raise ValidationError(("type",), f"unsupported connection type '{type_}'; use one of: {', '.join(SUPPORTED)}")
    return {"mariadb": "mysql"}.get(type_.lower(), type_.lower())


def _validate(kind: str, settings: dict) -> None:
    """``settings`` (secrets included) against the model of connection type ``kind``, the one
    datastores use (``sources/specs.py``). Raises ValidationError naming the first bad key."""
    for location, message in check_connection(kind, settings):
        raise ValidationError(location, message)


@router.post("", response_model=r.Connection)
def create_connection(body: ConnectionBody, session: SessionDep, request: Request) -> dict:
    """Create a connection of a type in ``SUPPORTED``. 409 for a duplicate name; 422 naming
    ``type`` for an unknown type and naming the key for a setting its type's model refuses
    (a ``port`` of ``"abc"``)."""
    if not body.name:
        raise ValidationError(("name",), "a connection needs a name")
    kind = _kind(body.type)
    if repo.name_taken(session, body.name):
        raise Conflict(f"a connection named '{body.name}' already exists")
    params, secrets = _split(body)
    _validate(kind, {**params, **secrets})
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
    """Partial update; secrets sent replace the stored ones, secrets not sent are kept. The
    result is validated as on create (422 naming the key). The change reaches every datastore
    using the connection: its connection settings, and its ``database`` / ``schema`` when it
    held the connection's previous value (inherited rather than set on the datastore). Its
    ``type`` cannot change while a datastore uses it (422 naming ``type``)."""
    c = repo.get(session, connection_id)
    params, secrets = _split(body)
    kind = _kind(body.type) if body.type is not None else c.type
    key = request.app.state.settings.secret_key
    merged_secrets = {**decrypt_secrets(key, c.secrets), **secrets}
    _validate(kind, {**c.parameters, **params, **merged_secrets})
    if body.name and body.name != c.name:
        if repo.name_taken(session, body.name):
            raise Conflict(f"a connection named '{body.name}' already exists")
        c.name = body.name
    users = datastore_repo.using_connection(session, c.id)
    if kind != c.type and users:
        raise ValidationError(
            ("type",),
            f"connection {c.id} is used by datastore(s) {', '.join(d.name for d in users)}; its type cannot change",
        )
    previous = dict(c.parameters)
    c.type = kind
    c.parameters = {**c.parameters, **params}
    if secrets:
        c.secrets = encrypt_secrets(key, merged_secrets)
    for ds in users:
        ds.connection = {**ds.connection, **params}
        for name in ("database", "schema"):
            if name in params and getattr(ds, name) in (None, previous.get(name)):
                setattr(ds, name, params[name])
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
