"""/datastores: CRUD, enrichment link and unlink."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from ...confinement import PathNotAllowed, confine, refuse_metadata_database
from ...enrichment.writer import ENRICHMENT_TYPES, default_prefix
from ...errors import Conflict, NotFound, ValidationError
from ...insights import service as insights
from ...operations import service
from ...security import SECRET_FIELDS, datastore_secrets, decrypt_secrets, encrypt_secrets
from ...sources import probe, verify
from ...sources.base import MissingSchema
from ...sources.files import folder_of
from ...sources.specs import check_settings
from ...store.models import Connection, Datastore
from ...store.repo import ensure_idle, paginate, with_any_json_value
from ...store.repositories import connections as connection_repo
from ...store.repositories import datastores as repo
from ...store.repositories import favorites
from ...store.repositories import users as users_repo
from .. import responses as r
from .. import serializers as ser
from ..deps import PageDep, RunnerDep, SessionDep, page_of
from ..routing import Route
from ..schemas import ConnectionIn, DatastoreCreate, DatastoreUpdate, ToggleFavorite

router = APIRouter(prefix="/datastores", tags=["datastores"], route_class=Route)

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

    Raises: ValidationError (→ 422) naming the missing or wrong setting.
    """
    if connection is None:
        raise ValidationError(("connection",), "a connection (or connection_id) is required")
    kind = KINDS.get(connection.type.lower())
    if kind is None:
        raise ValidationError(
            ("connection", "type"),
            f"unsupported connection type '{connection.type}'; use one of: duckdb, postgresql, mysql, mariadb, "
            "sqlite, local, s3, spark",
        )
    data = connection.model_dump(exclude_none=True)
    secrets = {k: v for k, v in data.items() if k in SECRET_FIELDS}
    conn = {k: v for k, v in data.items() if k not in SECRET_FIELDS}
    conn["type"] = kind[1]
    timeout = conn.get("statement_timeout")
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 <= timeout <= 86400
    ):
        raise ValidationError(
            ("connection", "statement_timeout"), "'statement_timeout' must be a number of seconds, 0…86400"
        )
    if kind[1] in ("duckdb", "sqlite"):
        if not database:
            raise ValidationError(
                ("database",), f"a {kind[1]} datastore needs 'database': the absolute path of the file"
            )
        if not Path(database).is_absolute():
            raise ValidationError(("database",), f"'{database}' is not an absolute path")
        _confined(database, ("database",))
    elif kind[1] in ("postgresql", "mysql"):
        if not conn.get("host"):
            raise ValidationError(("connection", "host"), f"a {kind[1]} connection needs 'host'")
        if not database:
            raise ValidationError(("database",), f"a {kind[1]} datastore needs 'database'")
        try:
            refuse_metadata_database(kind[1], conn, database)
        except PathNotAllowed as e:
            raise ValidationError(e.loc, e.message) from None
    elif kind[1] == "spark":
        from ...sources.spark import validate_connection

        for location, message in validate_connection(conn):
            raise ValidationError(location, message)
        # folders on this machine (a local[N] master reads them here) are confined like `local`
        for key in ("uri", "warehouse"):
            value = conn.get(key)
            if isinstance(value, str) and (value.startswith("file://") or "://" not in value):
                _confined(str(folder_of(value)), ("connection", key))
    elif kind[1] == "s3":
        uri = conn.get("uri") or ""
        if not uri.startswith("s3://") or not uri.removeprefix("s3://").strip("/"):
            raise ValidationError(("connection", "uri"), "an s3 datastore needs 'uri': s3://bucket/prefix")
        endpoint = conn.get("endpoint_url")
        if endpoint is not None and (not isinstance(endpoint, str) or not endpoint.startswith(("http://", "https://"))):
            raise ValidationError(("connection", "endpoint_url"), "'endpoint_url' must be an http:// or https:// URL")
        if conn.get("region") is not None and not isinstance(conn["region"], str):
            raise ValidationError(("connection", "region"), "'region' must be a string such as us-east-1")
    else:
        uri = conn.get("uri") or ""
        if not uri.startswith("file://") or not Path(uri.removeprefix("file://")).is_absolute():
            raise ValidationError(("connection", "uri"), "a local datastore needs 'uri': file:///absolute/folder")
        _confined(str(folder_of(uri)), ("connection", "uri"))
    if kind[1] in ("local", "s3"):
        _check_compute_engine(kind[1], conn)
    # the settings of the type's model (assay/sources/specs.py, what /datastores/specifications shows)
    for location, message in check_settings(kind[1], {**conn, **secrets}, database):
        raise ValidationError(location, message)
    return kind[0], kind[1], conn, secrets


def _check_compute_engine(kind: str, conn: dict) -> None:
    """A file datastore's ``compute_engine`` (``duckdb`` or ``spark``; with ``spark`` its
    ``master`` and ``spark.*`` settings as for a ``spark`` datastore). Raises ValidationError."""
    from ...sources import COMPUTE_ENGINES, compute_engine_of

    engine = conn.get("compute_engine")
    if engine is None:
        return
    if not isinstance(engine, str) or compute_engine_of(conn) not in COMPUTE_ENGINES:
        raise ValidationError(("connection", "compute_engine"), "'compute_engine' must be 'duckdb' or 'spark'")
    if compute_engine_of(conn) != "spark":
        return
    if kind == "s3":
        raise ValidationError(
            ("connection", "compute_engine"),
            "compute_engine 'spark' is not available for s3 datastores: Spark reads S3 through the hadoop-aws "
            "connector (s3a://), whose jars (org.apache.hadoop:hadoop-aws and the AWS SDK bundle) PySpark does not "
            "ship; mount the bucket and use a local datastore with compute_engine 'spark', or keep 'duckdb'",
        )
    from ...sources.spark import validate_connection

    for location, message in validate_connection({k: v for k, v in conn.items() if k != "uri"}):
        raise ValidationError(location, message)


TestConnection = Annotated[
    bool,
    Query(
        description="Open the datastore and list its containers before saving it; a failure is a 422 with the "
        "driver's reason. false saves it untested (offline set-up): the mistake then shows at the first sync.",
    ),
]


def _test_connection(ds: Datastore, secrets: dict) -> None:
    """Open ``ds`` (not yet saved, or changed) and list its containers.

    Raises: ValidationError (→ 422) on the setting at fault, with the driver's reason (on
    ``schema``: "schema 'x' does not exist in database 'test'"). An
    enrichment-only DuckDB or SQLite file that does not exist yet passes when its folder
    does: the first write creates the file, never a folder.
    """
    if ds.enrichment_only and ds.type in ("duckdb", "sqlite") and not Path(ds.database or "").exists():
        folder = Path(ds.database or "").parent
        if not folder.is_dir():
            raise ValidationError(
                ("database",),
                f"connection test failed: the folder {folder} does not exist (the first scan creates the "
                "enrichment file, not its folder; or add ?test_connection=false to save it without testing)",
            )
        return
    try:
        probe(ds, secrets)
    except MissingSchema as e:
        raise ValidationError(e.loc or ("schema",), str(e)) from None
    except Exception as e:  # noqa: BLE001 - any failure is the driver's reason in a 422
        message = str(e).splitlines()[0] if str(e) else type(e).__name__
        loc = ("database",) if ds.type in ("duckdb", "sqlite") else ("connection",)
        raise ValidationError(
            loc,
            f"connection test failed: {message} (fix the datastore's settings, or add ?test_connection=false "
            "to save it without testing)",
        ) from None


def _parameters(conn: dict) -> dict:
    """A datastore's connection settings (no secrets) as a connection's ``parameters``."""
    return {k: v for k, v in conn.items() if k not in ("type", "name")}


def _new_connection(session: SessionDep, key: str, datastore_name: str, conn: dict, secrets: dict) -> Connection:
    """The connection of a datastore created or edited with an inline ``connection``: named
    after its ``name`` or the datastore (``name (2)`` … when taken), its secrets encrypted."""
    name = connection_repo.free_name(session, str(conn.get("name") or datastore_name))
    c = Connection(name=name, type=conn["type"], parameters=_parameters(conn), secrets=encrypt_secrets(key, secrets))
    return connection_repo.add(session, c)


def _edit_connection(session: SessionDep, key: str, ds: Datastore, secrets: dict) -> None:
    """``ds``'s connection takes its new inline settings (``ds.connection``) and ``secrets``
    (secrets not sent are kept). A connection other datastores share is left as it is: ``ds``
    gets a connection of its own."""
    merged = {**datastore_secrets(key, ds), **secrets}
    c = ds.connection_ref
    if c is None or [d.id for d in repo.using_connection(session, c.id)] != [ds.id]:
        ds.connection_ref = _new_connection(session, key, ds.name, ds.connection, merged)
    else:
        c.type, c.parameters, c.secrets = ds.type, _parameters(ds.connection), encrypt_secrets(key, merged)
    ds.secrets = None


def _confined(path: str, loc: tuple[str, ...]) -> None:
    """422 naming ``loc`` unless ``path`` lies inside the server's data roots (confinement.py)."""
    try:
        confine(path, loc)
    except PathNotAllowed as e:
        raise ValidationError(e.loc, e.message) from None


def _answer(session: SessionDep, ds: Datastore) -> dict:
    """A datastore's answer with its ``metrics`` (counts and quality score: docs/quality-score.md)."""
    session.flush()
    return ser.datastore(ds, insights.datastore_metrics(session, [ds])[ds.id])


@router.get("", response_model=r.DatastorePage)
def list_datastores(
    session: SessionDep,
    page: PageDep,
    name: str | None = None,
    enrichment_only: bool | None = None,
    search: str | None = None,
    datastore_type: Annotated[list[str] | None, Query()] = None,
    tag: Annotated[list[str] | None, Query()] = None,
    sort: Annotated[str | None, Query(pattern=r"^-?(id|name|created)$")] = None,
) -> dict:
    """Datastores, paged; filters ``name`` (case-insensitive substring), ``enrichment_only``, ``search`` (substring),
    ``datastore_type``, ``tag`` (any of them; repeatable). ``sort``: ``id`` (default),
    ``name`` or ``created``, descending with a leading ``-`` (``-name``)."""
    types = None
    if datastore_type:
        types = [KINDS.get(t.lower(), ("", t.lower()))[1] for value in datastore_type for t in value.split(",")]
    stmt = repo.listing(name=name, enrichment_only=enrichment_only, search=search, types=types, sort=sort)
    if tag:
        stmt = with_any_json_value(session, stmt, Datastore, Datastore.tags, tag)
    rows, total, pages = paginate(session, stmt, page.page, page.size)
    metrics = insights.datastore_metrics(session, rows)
    return page_of([ser.datastore(d, metrics[d.id]) for d in rows], total, page, pages)


@router.post("", response_model=r.Datastore)
def create_datastore(
    body: DatastoreCreate,
    session: SessionDep,
    runner: RunnerDep,
    request: Request,
    test_connection: TestConnection = True,
) -> dict:
    """Create a datastore (enrichment-only with ``enrichment_only``), linked to the
    enrichment datastore ``enrich_datastore_id`` when given (422 naming that key when it
    is unknown or not an enrichment datastore). Its connection is tested first (422 with the
    driver's reason) unless ``?test_connection=false``."""
    connection = body.connection
    key = request.app.state.settings.secret_key
    database, schema = body.database, body.schema_
    ref: Connection | None = None
    if body.connection_id is not None:
        ref = connection_repo.get(session, body.connection_id)
        connection = ConnectionIn(type=ref.type, **ref.parameters)
        # a shared connection's database / schema are the defaults of its datastores
        database = database or ref.parameters.get("database")
        schema = schema or ref.parameters.get("schema")
    store_type, type_, conn, secrets = _kind(connection, database)
    if ref is not None:
        secrets = decrypt_secrets(key, ref.secrets)  # the shared connection keeps its own
    if repo.name_taken(session, body.name):
        raise Conflict(f"a datastore named '{body.name}' already exists")
    enrichment = None
    if body.enrich_datastore_id is not None:
        try:
            enrichment = _enrichment_target(session, body.enrich_datastore_id)
        except (NotFound, Conflict) as e:
            raise ValidationError(("enrich_datastore_id",), str(e)) from None
    ds = Datastore(
        name=body.name,
        store_type=store_type,
        type=type_,
        connection=conn,
        database=database,
        secrets=None,  # kept by its connection
        schema=schema or {"duckdb": "main", "postgresql": "public"}.get(type_),
        enrichment_only=body.enrichment_only,
        enrichment_prefix=body.enrichment_prefix or default_prefix(body.name),
        enrichment_source_record_limit=body.enrichment_source_record_limit,
        enrichment_remediation_strategy=body.enrichment_remediation_strategy,
        high_count_rollup_threshold=body.high_count_rollup_threshold,
        tags=body.tags or [],
        description=body.description,
        max_concurrent_operations=body.max_concurrent_operations,
        enrichment_datastore_id=enrichment.id if enrichment else None,
    )
    if test_connection:
        _test_connection(ds, secrets)
    # every datastore has a connection with an id (as in Qualytics): an inline one becomes its own
    ds.connection_ref = ref or _new_connection(session, key, body.name, conn, secrets)
    # the teams named (``[]``: none, only Admins reach its content); not sent: the public team
    ds.teams = (
        users_repo.teams_named(session, body.teams) if body.teams is not None else users_repo.public_teams(session)
    )
    repo.add(session, ds)
    if body.trigger_sync and not body.enrichment_only:
        service.queue_initial_sync(session, ds, runner.submit)
    return _answer(session, ds)


@router.get("/{datastore_id}", response_model=r.Datastore)
def get_datastore(datastore_id: int, session: SessionDep) -> dict:
    """A datastore with its ``metrics`` (counts and quality score: docs/quality-score.md)."""
    ds = repo.get(session, datastore_id)
    return _answer(session, ds)


@router.put("/{datastore_id}", response_model=r.Datastore)
def update_datastore(
    datastore_id: int,
    body: DatastoreUpdate,
    session: SessionDep,
    request: Request,
    test_connection: TestConnection = True,
) -> dict:
    """Partial update: only the keys sent change. A changed connection, database or schema is
    tested first (422 with the driver's reason, nothing saved) unless ``?test_connection=false``."""
    ds = repo.get(session, datastore_id)
    sent = body.model_fields_set
    secret_key = request.app.state.settings.secret_key
    if body.connection_id is not None and body.connection_id != ds.connection_id:
        ref = connection_repo.get(session, body.connection_id)
        database = body.database or ds.database or ref.parameters.get("database")
        ds.store_type, ds.type, ds.connection, _ = _kind(ConnectionIn(type=ref.type, **ref.parameters), database)
        ds.database = database
        ds.connection_ref, ds.secrets = ref, None
        sent = sent | {"connection"}  # tested below
    if body.connection is not None or "database" in sent:
        connection = body.connection or ConnectionIn(**ds.connection)
        previous = ds.connection
        ds.store_type, ds.type, ds.connection, secrets = _kind(connection, body.database or ds.database)
        if body.connection is not None and (secrets or ds.connection != previous or ds.connection_ref is None):
            _edit_connection(session, secret_key, ds, secrets)
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
    if body.name is not None and repo.name_taken(session, body.name, other_than=ds.id):
        raise Conflict(f"a datastore named '{body.name}' already exists")
    if body.teams is not None:
        ds.teams = users_repo.teams_named(session, body.teams)
    if test_connection and {"connection", "database", "schema_"} & sent:
        # raising rolls the session back: nothing of a refused update is kept
        _test_connection(ds, datastore_secrets(secret_key, ds))
    return _answer(session, ds)


@router.delete("/{datastore_id}", status_code=204)
def delete_datastore(datastore_id: int, session: SessionDep) -> Response:
    """Delete a datastore with its containers, checks and anomalies."""
    ds = repo.get(session, datastore_id)
    ensure_idle(session, ds.id, f"delete datastore {ds.id}")
    repo.delete(session, ds)
    return Response(status_code=204)


@router.patch("/{datastore_id}/enrichment/{enrichment_id}", response_model=r.Datastore)
def link_enrichment(datastore_id: int, enrichment_id: int, session: SessionDep) -> dict:
    """Link an enrichment-only datastore (idempotent). 409 when the target is not enrichment-only."""
    ds = repo.get(session, datastore_id)
    ds.enrichment_datastore_id = _enrichment_target(session, enrichment_id).id
    session.flush()
    session.refresh(ds)
    return _answer(session, ds)


def _enrichment_target(session, enrichment_id: int) -> Datastore:
    """Datastore ``enrichment_id`` when it can be linked as an enrichment datastore. Raises
    NotFound when unknown, Conflict when it is not enrichment-only or of a type enrichment
    cannot write."""
    target = repo.get(session, enrichment_id, "Enrichment datastore")
    if not target.enrichment_only:
        raise Conflict(f"datastore {enrichment_id} is not an enrichment datastore (enrichment_only is false)")
    if target.type not in ENRICHMENT_TYPES:
        raise Conflict(f"enrichment datastores must be one of: {', '.join(ENRICHMENT_TYPES)}")
    return target


@router.delete("/{datastore_id}/enrichment", status_code=204)
def unlink_enrichment(datastore_id: int, session: SessionDep) -> Response:
    """Unlink the enrichment datastore (idempotent); remediation goes back to ``none``."""
    ds = repo.get(session, datastore_id)
    ds.enrichment_datastore_id = None
    ds.enrichment_remediation_strategy = "none"
    return Response(status_code=204)


@router.post("/connection", response_model=r.Verification)
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


@router.post("/{datastore_id}/connection", response_model=r.Verification)
def verify_datastore(
    datastore_id: int, session: SessionDep, request: Request, body: DatastoreUpdate | None = None
) -> dict:
    """Open the datastore and list its containers: ``{connected, message}`` with the driver's
    reason on failure (never a 500).

    With a body (the keys of ``PUT /datastores/{id}``), the saved settings with those changes
    are verified and nothing is saved: a connection, database or schema sent replaces the
    saved one, and secrets not sent (a password left blank in an edit form) are the saved ones.
    Raises: ValidationError (→ 422) on a changed setting that is malformed, as the PUT would.
    """
    ds = repo.get(session, datastore_id)
    key = request.app.state.settings.secret_key
    secrets = datastore_secrets(key, ds)
    target = ds
    sent = body.model_fields_set if body is not None else set()
    if body is not None and {"connection", "database", "schema_"} & sent:
        database = body.database or ds.database
        connection = body.connection or ConnectionIn(**ds.connection)
        store_type, type_, conn, new_secrets = _kind(connection, database)
        secrets = {**secrets, **new_secrets}
        target = Datastore(  # a draft, never added to the session
            name=ds.name,
            store_type=store_type,
            type=type_,
            connection=conn,
            database=database,
            schema=body.schema_ or ds.schema,
            enrichment_only=ds.enrichment_only,
        )
    if target.enrichment_only and target.type == "duckdb" and not Path(target.database or "").exists():
        return {"connected": True, "message": "the enrichment DuckDB file will be created on first write"}
    connected, message = verify(target, secrets)
    return {"connected": connected, "message": message}


@router.patch("/{datastore_id}/favorite", response_model=r.Datastore)
def update_favorite_datastore(datastore_id: int, body: ToggleFavorite, session: SessionDep) -> dict:
    """Mark (``{"favorite": true}``) or unmark a datastore as the caller's favourite: per user (another
    user's star is not changed nor seen), and not a change of the datastore (no activity entry)."""
    ds = repo.get(session, datastore_id)
    favorites.set_favorite(session, ds, body.favorite)
    return ser.datastore(ds)
