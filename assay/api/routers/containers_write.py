"""Container writes: computed tables (POST, validate), PUT, DELETE, bulk tag PATCH,
field profiles, and computed fields."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Literal

import ibis
from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, model_validator
from pydantic import Field as PField
from pydantic import ValidationError as PydanticValidationError

from ...engine import computed
from ...engine.expressions import ExpressionError, parse_query, to_ibis
from ...errors import Conflict, NotFound, ValidationError
from ...operations import service
from ...operations.incremental import IDENTIFIER_SETTINGS, set_identifiers
from ...security import datastore_secrets
from ...sources import COMPUTED_TYPES, field_type_of, open_source
from ...store.models import ComputedField, Container, Datastore, Field, utcnow
from ...store.repo import ensure_idle
from ...store.repositories import checks as check_repo
from ...store.repositories import containers as repo
from ...store.repositories import datastores as datastore_repo
from .. import responses as r
from .. import serializers as ser
from ..deps import PageDep, RunnerDep, SessionDep, page_of
from ..routing import Route
from ..schemas import CustomExpressionProperties, ProfileOperation

router = APIRouter(tags=["containers"], route_class=Route)


ComputedType = Literal["computed_table", "computed_file", "computed_join"]


class JoinSource(BaseModel):
    """A source of a computed join in SQL mode: the container its ``query`` reads as ``alias``."""

    model_config = ConfigDict(extra="ignore")
    container_id: int
    alias: str | None = None
    where_clause: str | None = None


class ComputedContainerCreate(BaseModel):
    """A computed container (Qualytics' polymorphic create body, discriminated by
    ``container_type``): ``computed_table`` needs ``datastore_id`` and ``query``;
    ``computed_file`` needs ``datastore_id``, ``source_container_id`` and ``select_clause``;
    ``computed_join`` needs ``left_container_id``, ``right_container_id``,
    ``left_join_field_name``, ``right_join_field_name`` and ``select_clause``
    (see ``engine/computed.py``). Other keys (as exported by ``qualytics config export``)
    are ignored."""

    model_config = ConfigDict(extra="ignore")
    container_type: ComputedType = "computed_table"
    datastore_id: int | None = None
    name: str = PField(min_length=1, max_length=1024)
    query: str | None = None
    source_container_id: int | None = None
    select_clause: str | None = None
    where_clause: str | None = None
    group_by_clause: str | None = None
    left_container_id: int | None = None
    right_container_id: int | None = None
    left_join_field_name: str | None = None
    right_join_field_name: str | None = None
    left_prefix: str | None = None
    right_prefix: str | None = None
    join_type: Literal["inner", "left", "right", "full"] | None = None
    sources: list[JoinSource] | None = None
    description: str | None = None
    tags: list[str] | None = PField(default_factory=list)
    additional_metadata: dict[str, Any] | None = None


class ContainerUpdate(BaseModel):
    """PUT /containers/{id}: the keys of Qualytics' ``UpdateTableContainer``,
    ``UpdateFileContainer`` and ``UpdateComputed*Container``; ``store_type``, ``container_type``,
    ``group_by_fields``, ``volumetric_tracking_enabled``, ``file_name``, ``escape_character``,
    ``incremental_identifier`` and the join's field names and prefixes are accepted and not kept.
    The keys of a container's GET answer are accepted too (clients send it back merged) and
    ignored unless listed here; any other key is a 422 naming it, so nothing is dropped silently."""

    model_config = ConfigDict(extra="ignore")
    name: str | None = PField(default=None, min_length=1, max_length=1024)
    query: str | None = None
    select_clause: str | None = None
    where_clause: str | None = None
    group_by_clause: str | None = None
    tags: list[str] | None = None
    additional_metadata: dict[str, Any] | None = None
    description: str | None = None
    incremental_field_name: str | None = None
    incremental_identifier_type: Literal["timestamp", "batch", "last-modified", "batch-value"] | None = None
    partition_field: str | None = None
    incremental_checkpoint: str | float | None = None
    #: fields left out of profiling and checks (names of the container's fields; [] clears)
    exclude_fields: list[str] | None = None
    #: the field naming a row (a field of the container; null clears)
    row_identifier_field: str | None = None
    freshness_tracking_enabled: bool | None = None
    # accepted for Qualytics clients, not kept
    store_type: str | None = None
    container_type: str | None = None
    group_by_fields: list[str] | None = None
    volumetric_tracking_enabled: bool | None = None
    file_name: str | None = None
    escape_character: str | None = None
    incremental_identifier: Any = None
    left_join_field_name: str | None = None
    right_join_field_name: str | None = None
    left_prefix: str | None = None
    right_prefix: str | None = None
    join_type: str | None = None
    #: a new definition that loses fields with quality checks needs this (else 409); the
    #: checks on the lost fields are then archived with status Invalid
    force_drop_fields: bool = False

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            known = set(cls.model_fields) | {f.alias or n for n, f in r.Container.model_fields.items()}
            unknown = sorted(str(k) for k in data if k not in known)
            if unknown:
                raise ValueError(f"unknown key(s) for a container update: {', '.join(unknown)}")
        return data


class ContainerTags(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: int
    tags: list[str]


class ValidateBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    container: ComputedContainerCreate


DIALECTS = {"duckdb": "duckdb", "postgresql": "postgres", "mysql": "mysql", "sqlite": "sqlite"}
#: File datastores read computed files with DuckDB over the source container's files.
FILE_TYPES = ("local", "s3")


def _dialect(ds: Datastore, container_type: str) -> str:
    """The SQL dialect a computed container of ``container_type`` is rendered in on ``ds``. As in
    Qualytics, computed files belong to file (DFS) datastores and computed tables and joins to
    database (JDBC) ones: anything else is a 422 naming ``datastore_id``."""
    if container_type == "computed_file":
        if ds.type in FILE_TYPES:
            return "duckdb"
        raise ValidationError(
            ("datastore_id",),
            f"computed files belong to file datastores; datastore {ds.id} ('{ds.name}') is a database "
            "datastore: use a computed table (container_type computed_table) there",
        )
    if ds.type in DIALECTS:
        return DIALECTS[ds.type]
    raise ValidationError(("datastore_id",), f"{container_type.replace('_', ' ')}s need a database datastore (jdbc)")


def _normalise(ds: Datastore, query: str, container_type: str = "computed_table") -> str:
    """The query parsed and re-rendered in the datastore's dialect. 422 when it is not one SELECT."""
    try:
        return parse_query(query, _dialect(ds, container_type))
    except ExpressionError as e:
        raise ValidationError(("query",), f"query: {e}") from None


def _required(body: ComputedContainerCreate, *names: str) -> tuple[Any, ...]:
    """The values of ``body``'s keys ``names``, in order, none of them missing or empty.
    Raises ValidationError naming the first one that is."""
    for name in names:
        if getattr(body, name) in (None, ""):
            raise ValidationError((name,), f"{body.container_type} needs {name}")
    return tuple(getattr(body, name) for name in names)


def _source(session, container_id: int, loc: str, datastore_id: int | None = None) -> Container:
    c = repo.find(session, container_id)
    if c is None or c.deleted_at is not None:
        raise ValidationError((loc,), f"container {container_id} does not exist")
    if datastore_id is not None and c.datastore_id != datastore_id:
        raise ValidationError((loc,), f"container {container_id} is not in datastore {datastore_id}")
    return c


def _relation(session, c: Container, schema: str | None) -> tuple[Any, list[str]]:
    """Container ``c`` as a computed file or join reads it: its table with its computed
    fields computed (``computed.with_computed``), and the names of its columns."""
    computed_fields = repo.computed_fields(session, c.id)
    own = {cf.name for cf in computed_fields}
    expressions = [(cf.name, (cf.properties or {}).get("column_expression")) for cf in computed_fields]
    physical = [f.name for f in c.fields if f.name not in own and f.type != "Computed"]
    return computed.with_computed(computed.table_ref(c.name, schema), physical, expressions)


def _definition(session, body: ComputedContainerCreate) -> tuple[Datastore, str, dict[str, Any] | None]:
    """(datastore, normalised query, computed_definition) of a create body. Raises
    ValidationError naming the missing or wrong key, NotFound for an unknown datastore."""
    if body.container_type == "computed_table":
        datastore_id, _query = _required(body, "datastore_id", "query")
        ds = datastore_repo.get(session, datastore_id)
        # the query as written is kept (and answered) as it is; the engine reads the normalised one
        return ds, _normalise(ds, body.query or ""), {"query": body.query}
    if body.container_type == "computed_file":
        datastore_id, source_container_id, _select = _required(
            body, "datastore_id", "source_container_id", "select_clause"
        )
        ds = datastore_repo.get(session, datastore_id)
        dialect = _dialect(ds, body.container_type)
        src = _source(session, source_container_id, "source_container_id", ds.id)
        schema = None if ds.type in FILE_TYPES else ds.schema
        definition: dict[str, Any] = {
            "source_container_id": src.id,
            "source_container_name": src.name,
            "select_clause": body.select_clause,
            "where_clause": body.where_clause,
            "group_by_clause": body.group_by_clause,
        }
        try:
            tree = computed.file_query(
                _relation(session, src, schema)[0], body.select_clause or "", body.where_clause, body.group_by_clause
            )
            query = parse_query(computed.render(tree, dialect), dialect)
        except ExpressionError as e:
            raise ValidationError(("select_clause",), f"computed file: {e}") from None
        return ds, query, definition
    if body.sources:
        return _sql_join(session, body)
    left_id, right_id, *_names = _required(
        body,
        "left_container_id",
        "right_container_id",
        "left_join_field_name",
        "right_join_field_name",
        "select_clause",
    )
    left = _source(session, left_id, "left_container_id")
    right = _source(session, right_id, "right_container_id")
    if right.datastore_id != left.datastore_id:
        raise ValidationError(
            ("right_container_id",), "a computed join's containers must be in one datastore (Assay reads both at once)"
        )
    ds = left.datastore
    dialect = _dialect(ds, body.container_type)
    definition = {
        "left_container_id": left.id,
        "right_container_id": right.id,
        "right_datastore_id": right.datastore_id,
        "left_join_field_name": body.left_join_field_name,
        "right_join_field_name": body.right_join_field_name,
        "left_prefix": body.left_prefix or "left",
        "right_prefix": body.right_prefix or "right",
        "join_type": body.join_type or "inner",
        "select_clause": body.select_clause,
        "where_clause": body.where_clause,
        "group_by_clause": body.group_by_clause,
    }
    left_relation, left_fields = _relation(session, left, ds.schema)
    right_relation, right_fields = _relation(session, right, ds.schema)
    try:
        tree = computed.join_query(
            left_relation,
            left_fields,
            body.left_join_field_name or "",
            right_relation,
            right_fields,
            body.right_join_field_name or "",
            body.select_clause or "",
            left_prefix=definition["left_prefix"],
            right_prefix=definition["right_prefix"],
            join_type=definition["join_type"],
            where_clause=body.where_clause,
            group_by_clause=body.group_by_clause,
        )
        query = parse_query(computed.render(tree, dialect), dialect)
    except ExpressionError as e:
        loc = str(e).split(":")[0] if str(e).startswith(("left_join", "right_join")) else "select_clause"
        raise ValidationError((loc,), f"computed join: {e}") from None
    return ds, query, definition


def _sql_join(session, body: ComputedContainerCreate) -> tuple[Datastore, str, dict[str, Any]]:
    """A computed join in SQL mode: ``query`` over ``sources`` read by alias (one datastore)."""
    _required(body, "query")
    sources = [_source(session, s.container_id, "sources") for s in body.sources or []]
    ds = datastore_repo.get(session, body.datastore_id) if body.datastore_id else sources[0].datastore
    if any(c.datastore_id != ds.id for c in sources):
        raise ValidationError(("sources",), f"a computed join's sources must be in datastore {ds.id}")
    dialect = _dialect(ds, body.container_type)
    by_alias = {
        (s.alias or c.name): (computed.table_ref(c.name, ds.schema), s.where_clause)
        for s, c in zip(body.sources or [], sources, strict=True)
    }
    try:
        query = parse_query(computed.render(computed.sources_query(body.query or "", by_alias), dialect), dialect)
    except ExpressionError as e:
        raise ValidationError(("query",), f"computed join: {e}") from None
    definition = {
        "query": body.query,
        "sources": [
            {"container_id": c.id, "alias": s.alias or c.name, "where_clause": s.where_clause}
            for s, c in zip(body.sources or [], sources, strict=True)
        ],
    }
    return ds, query, definition


def _query_fields(
    ds: Datastore, container_type: str, query: str, definition: dict | None, secret_key: str, name: str
) -> list:
    """Fields of computed container ``name``'s query, by asking the engine for its schema."""
    probe = SimpleNamespace(container_type=container_type, query=query, computed_definition=definition, name=name)
    try:
        with open_source(ds, datastore_secrets(secret_key, ds)) as source:
            schema = source.table(probe).schema()
    except Exception as e:  # noqa: BLE001 - the engine's reason goes back as a 422
        loc = "query" if container_type == "computed_table" else "select_clause"
        raise ValidationError((loc,), f"{loc}: {str(e).splitlines()[0]}") from None
    return [
        Field(name=n, type=field_type_of(t), native_type=str(t), nullable=t.nullable, ordinal=i)
        for i, (n, t) in enumerate(schema.items())
    ]


@router.post("/containers", response_model=r.Container)
def create_container(body: ComputedContainerCreate, session: SessionDep, request: Request, runner: RunnerDep) -> dict:
    """Create a computed container (table, file or join: see ``ComputedContainerCreate``),
    scanned like a table, and queue a profile of it (no inference) as Qualytics does; the
    operations listing's ``container`` filter finds that profile. 409 for a taken name; 422
    naming the key for a bad definition."""
    ds, query, definition = _definition(session, body)
    if repo.name_taken(session, ds.id, body.name):
        raise Conflict(f"datastore {ds.id} already has a container named '{body.name}'")
    fields = _query_fields(ds, body.container_type, query, definition, request.app.state.settings.secret_key, body.name)
    c = Container(
        datastore_id=ds.id,
        name=body.name,
        container_type=body.container_type,
        table_type=None,
        query=query,
        computed_definition=definition,
        tags=body.tags or [],
        additional_metadata=body.additional_metadata,
        description=body.description,
        fields=fields,
    )
    c = repo.add(session, c)
    profile = ProfileOperation(type="profile", datastore_id=ds.id, container_names=[c.name], inference_threshold=0)
    service.queue(session, profile, runner.submit, triggered_by="container creation", container_ids=[c.id])
    session.refresh(c)
    return ser.container_detail(c)


@router.post("/containers/validate", status_code=204)
def validate_container(
    body: ValidateBody, session: SessionDep, request: Request, timeout_seconds: int = Query(60, ge=1)
) -> Response:
    """Dry-run a computed container definition: 204 when it would be created, else 422
    naming the key and the reason (as Qualytics answers; qualytics-cli reads 204 as valid)."""
    ds, query, definition = _definition(session, body.container)
    _query_fields(
        ds, body.container.container_type, query, definition, request.app.state.settings.secret_key, body.container.name
    )
    return Response(status_code=204)


@router.patch("/containers", response_model=list[r.Container])
def bulk_tag_containers(body: list[ContainerTags], session: SessionDep) -> list[dict]:
    """Set the tags of several containers: ``[{id, tags}]``; 404 if any id is unknown."""
    rows = [repo.get(session, item.id) for item in body]
    for c, item in zip(rows, body, strict=False):
        c.tags = item.tags
    session.flush()
    return [ser.container(c) for c in rows]


@router.put("/containers/{container_id}", response_model=r.Container)
def update_container(
    container_id: int, body: ContainerUpdate, session: SessionDep, request: Request, runner: RunnerDep
) -> dict:
    """Update tags, metadata and description; a computed container's name and definition too (a computed
    table's ``query``; a computed file's or join's ``select_clause``, ``where_clause``,
    ``group_by_clause``: its fields are read again and a profile of it is queued, as on
    creation); the incremental identifier and partition field (``null`` clears them; they
    then survive later syncs). A new definition that loses fields with quality checks
    answers 409 naming them unless ``force_drop_fields`` is true; then those checks are
    archived (status Invalid)."""
    c = repo.get(session, container_id)
    if body.tags is not None:
        c.tags = body.tags
    if body.additional_metadata is not None:
        c.additional_metadata = body.additional_metadata
    if "description" in body.model_fields_set:
        c.description = body.description
    _set_tracking(c, body)
    identifier_changes = {k: getattr(body, k) for k in IDENTIFIER_SETTINGS if k in body.model_fields_set}
    if identifier_changes:
        before = (c.incremental_field_name, c.partition_field)
        set_identifiers(c, identifier_changes)
        if (c.incremental_field_name, c.partition_field) != before:
            # partitions of the old split no longer describe the container (their scans keep their names)
            repo.drop_partitions(session, c.id)
    if c.container_type in COMPUTED_TYPES:
        stored = c.computed_definition or {}
        if c.container_type == "computed_table" or stored.get("sources"):  # defined by a query
            changed = {"query": body.query} if body.query is not None else {}
        else:  # defined by clauses
            clauses = ("select_clause", "where_clause", "group_by_clause")
            changed = {k: getattr(body, k) for k in clauses if k in body.model_fields_set}
        if changed:
            current = {"query": stored.get("query", c.query), **stored, **changed}
            definition = ComputedContainerCreate.model_validate(
                {**current, "container_type": c.container_type, "datastore_id": c.datastore_id, "name": c.name}
            )
            ds, query, computed_definition = _definition(session, definition)
            fields = _query_fields(
                ds, c.container_type, query, computed_definition, request.app.state.settings.secret_key, c.name
            )
            _drop_fields(session, c, {f.name for f in fields}, force=body.force_drop_fields)
            c.fields = fields
            c.query, c.computed_definition = query, computed_definition
        if body.name is not None:
            c.name = body.name
        if changed:
            session.flush()
            profile = ProfileOperation(
                type="profile", datastore_id=c.datastore_id, container_names=[c.name], inference_threshold=0
            )
            service.queue(session, profile, runner.submit, triggered_by="container update", container_ids=[c.id])
    elif body.name is not None and body.name != c.name:
        raise ValidationError(("name",), "only computed containers can be renamed; tables keep the source's name")
    session.flush()
    return ser.container_detail(c)


def _set_tracking(c: Container, body: ContainerUpdate) -> None:
    """``exclude_fields``, ``row_identifier_field`` and ``freshness_tracking_enabled`` from
    ``body`` (those it sets). Raises ValidationError naming the key and an unknown field."""
    known = {f.name for f in c.fields}
    if "exclude_fields" in body.model_fields_set:
        names = body.exclude_fields or []
        for i, name in enumerate(names):
            if name not in known:
                raise ValidationError(("exclude_fields", i), f"container '{c.name}' has no field named '{name}'")
        c.exclude_fields = list(dict.fromkeys(names))
    if "row_identifier_field" in body.model_fields_set:
        identifier = body.row_identifier_field
        if identifier is not None and identifier not in known:
            raise ValidationError(("row_identifier_field",), f"container '{c.name}' has no field named '{identifier}'")
        c.row_identifier_field = identifier
    if body.freshness_tracking_enabled is not None:
        c.freshness_tracking_enabled = body.freshness_tracking_enabled


def _drop_fields(session, c: Container, kept: set[str], *, force: bool) -> None:
    """Before computed container ``c`` keeps only the fields ``kept``: 409 naming the lost
    fields that quality checks assert, unless ``force``; with ``force`` those checks are
    archived with status Invalid."""
    lost = sorted(f.name for f in c.fields if f.type != "Computed" and f.name not in kept)
    checks = check_repo.active_on_fields(session, c.id, lost)
    if not checks:
        return
    if not force:
        asserted = sorted({n for q in checks for n in (q.fields or []) if n in lost})
        raise Conflict(
            f"the new definition drops fields with quality checks: {', '.join(asserted)}; "
            "send force_drop_fields=true to drop them and archive their checks"
        )
    now = utcnow()
    for q in checks:
        q.deleted_at, q.status = now, "Invalid"


@router.delete("/containers/{container_id}", status_code=204)
def delete_container(container_id: int, session: SessionDep) -> Response:
    """Delete a container with its checks and anomalies (a synced table comes back on the next sync).
    409 while an operation of its datastore runs."""
    container = repo.get(session, container_id)
    ensure_idle(session, container.datastore_id, f"delete container {container_id}")
    session.delete(container)
    return Response(status_code=204)


@router.get("/containers/{container_id}/field-profiles", response_model=r.FieldProfilePage)
def field_profiles(container_id: int, session: SessionDep, page: PageDep) -> dict:
    """Field profiles of the container's latest successful profile (empty until one ran), paged."""
    repo.get(session, container_id)
    latest = repo.latest_profile(session, container_id)
    profiles = latest.field_profiles if latest else []
    start = (page.page - 1) * page.size
    items = [ser.field_profile(fp) for fp in profiles[start : start + page.size]]
    return page_of(items, len(profiles), page, max(1, -(-len(profiles) // page.size)))


@router.get("/containers/{container_id}/profile", response_model=r.ContainerProfileDetail)
def container_profile(container_id: int, session: SessionDep) -> dict:
    """The container's latest successful profile (the profile operation's ``container_profiles[]``
    entry, the one ``/field-profiles`` serves); 404 when none succeeded yet."""
    container = repo.get(session, container_id)
    cp = repo.latest_profile(session, container_id)
    if cp is None:
        raise NotFound(f"Container {container_id} has no successful profile yet")
    return {
        "id": cp.id,
        "created": ser.iso(cp.created),
        "parent_profile_id": None,
        "operation_id": cp.operation_id,
        "container": ser.container_stub(container),
        "records_count": cp.records_count,
        "records_processed": cp.records_processed,
        "checks_synchronized": cp.checks_synchronized,
        "checks_added": cp.checks_added,
        "checks_updated": cp.checks_updated,
        "field_profiles_count": len(cp.field_profiles),
        "result": cp.result,
        "message": cp.message,
    }


# -- computed fields ------------------------------------------------------------------


class ComputedFieldUpdate(BaseModel):
    """PUT /computed-fields/{id} (Qualytics' ``UpdateComputedField``: ``name, properties,
    source_fields, transformation, additional_metadata``). ``container_id`` may be sent
    but must be the field's container (422 otherwise): a computed field cannot move."""

    model_config = ConfigDict(extra="ignore")
    name: str = PField(min_length=1, max_length=1024)
    container_id: int | None = None
    transformation: Literal["customExpression", "cleanedEntityName", "convertFormattedNumeric"] = "customExpression"
    source_fields: list[str] = PField(default_factory=list)
    properties: dict[str, Any] = PField(default_factory=dict)
    additional_metadata: dict[str, Any] | None = None


class ComputedFieldBody(ComputedFieldUpdate):
    """POST /computed-fields (Qualytics' ``CreateComputedField``): ``container_id`` required."""

    container_id: int


def _computed_type(container: Container, body: ComputedFieldUpdate, exclude: str | None = None):
    if body.transformation != "customExpression":
        raise ValidationError(
            ("transformation",),
            f"transformation '{body.transformation}' is not supported yet; "
            "use customExpression with properties.column_expression",
        )
    try:
        expression = CustomExpressionProperties.model_validate(body.properties).column_expression
    except PydanticValidationError:
        expression = ""
    if not expression.strip():
        raise ValidationError(
            ("properties", "column_expression"), "customExpression needs properties.column_expression"
        )
    base = {f.name: f.native_type for f in container.fields if f.name != exclude and f.type != "Computed"}
    table = ibis.table({n: _dtype(t) for n, t in base.items()}, name="container")
    try:
        return to_ibis(expression, table).type()
    except ExpressionError as e:
        raise ValidationError(("properties", "column_expression"), f"column_expression: {e}") from None


def _dtype(native: str):
    try:
        return ibis.dtype(native)
    except Exception:  # noqa: BLE001
        return ibis.dtype("string")


def _sync_field(container: Container, name: str, dtype, old_name: str | None = None) -> None:
    fields = [f for f in container.fields if f.name not in (name, old_name)]
    fields.append(
        Field(name=name, type=field_type_of(dtype), native_type=str(dtype), nullable=True, ordinal=len(fields))
    )
    container.fields = fields


def _rebuild_dependents(session, container: Container, secret_key: str, runner) -> None:
    """Render again the computed files and joins built on ``container`` (clause-defined: their
    query inlines its computed fields) and read their fields again, after a computed field of it
    changed; a profile of each is queued, as on their own update. 409 naming the dependent
    container when its definition no longer works (e.g. it selects a field that went), or
    when it would lose fields that quality checks assert; nothing is changed then."""
    session.flush()
    keys = ("source_container_id", "left_container_id", "right_container_id")
    dependents = [
        c
        for c in repo.live_computed(session, container.datastore_id)
        if any((c.computed_definition or {}).get(k) == container.id for k in keys)
        and not (c.computed_definition or {}).get("sources")
    ]
    # every dependent is checked before any is changed or profiled: queueing a profile
    # commits, so a 409 after it would leave the change (a deleted field) half applied
    rebuilt = []
    for c in dependents:
        stored = dict(c.computed_definition or {})
        body = ComputedContainerCreate.model_validate(
            {**stored, "container_type": c.container_type, "datastore_id": c.datastore_id, "name": c.name}
        )
        try:
            ds, query, definition = _definition(session, body)
            fields = _query_fields(ds, c.container_type, query, definition, secret_key, c.name)
            _drop_fields(session, c, {f.name for f in fields}, force=False)  # raises only: no force
        except (ValidationError, Conflict) as e:
            raise Conflict(
                f"{c.container_type.replace('_', ' ')} '{c.name}' (container {c.id}) is built on container "
                f"'{container.name}' and would break: {e}"
            ) from None
        rebuilt.append((c, query, definition, fields))
    for c, query, definition, fields in rebuilt:
        if query != c.query or [(f.name, f.native_type) for f in fields] != [
            (f.name, f.native_type) for f in sorted(c.fields, key=lambda f: f.ordinal or 0)
        ]:
            c.query, c.computed_definition, c.fields = query, definition, fields
            session.flush()
            profile = ProfileOperation(
                type="profile", datastore_id=c.datastore_id, container_names=[c.name], inference_threshold=0
            )
            service.queue(session, profile, runner.submit, triggered_by="computed field change", container_ids=[c.id])


@router.post("/computed-fields", response_model=r.ComputedField)
def create_computed_field(body: ComputedFieldBody, session: SessionDep, request: Request, runner: RunnerDep) -> dict:
    """Add a field computed from a Spark-SQL expression over the container's fields; scans
    and checks see it like any other field, and the computed files and joins built on the
    container are rendered again (``_rebuild_dependents``)."""
    container = repo.get(session, body.container_id)
    if any(f.name == body.name for f in container.fields):
        raise Conflict(f"container {container.id} already has a field named '{body.name}'")
    dtype = _computed_type(container, body)
    cf = ComputedField(
        container_id=container.id,
        name=body.name,
        transformation=body.transformation,
        source_fields=body.source_fields,
        properties=body.properties,
        additional_metadata=body.additional_metadata,
    )
    repo.add_computed_field(session, cf)
    _sync_field(container, body.name, dtype)
    _rebuild_dependents(session, container, request.app.state.settings.secret_key, runner)
    session.flush()
    return ser.computed_field(cf)


@router.put("/computed-fields/{field_id}", response_model=r.ComputedField)
def update_computed_field(
    field_id: int, body: ComputedFieldUpdate, session: SessionDep, request: Request, runner: RunnerDep
) -> dict:
    """Replace a computed field's definition (its container stays); the computed files and
    joins built on its container are rendered again and their fields read again. 422 for a
    ``container_id`` other than the field's, or a bad expression; 409 for a name another
    field of the container has, or when a computed file or join built on it would break."""
    cf = repo.get_computed_field(session, field_id)
    if body.container_id is not None and body.container_id != cf.container_id:
        raise ValidationError(
            ("container_id",), f"computed field {cf.id} belongs to container {cf.container_id}; it cannot move"
        )
    container = repo.get(session, cf.container_id)
    if body.name != cf.name and any(f.name == body.name for f in container.fields):
        raise Conflict(f"container {container.id} already has a field named '{body.name}'")
    dtype = _computed_type(container, body, exclude=cf.name)
    old = cf.name
    cf.name, cf.transformation, cf.source_fields, cf.properties = (
        body.name,
        body.transformation,
        body.source_fields,
        body.properties,
    )
    cf.additional_metadata = body.additional_metadata
    _sync_field(container, body.name, dtype, old_name=old)
    _rebuild_dependents(session, container, request.app.state.settings.secret_key, runner)
    session.flush()
    return ser.computed_field(cf)


@router.delete("/computed-fields/{field_id}", status_code=204)
def delete_computed_field(field_id: int, session: SessionDep, request: Request, runner: RunnerDep) -> Response:
    """Delete a computed field; the computed files and joins built on its container are
    rendered again (409, nothing deleted, when one of them uses the field)."""
    cf = repo.get_computed_field(session, field_id)
    container = repo.get(session, cf.container_id)
    container.fields = [f for f in container.fields if f.name != cf.name]
    session.delete(cf)
    _rebuild_dependents(session, container, request.app.state.settings.secret_key, runner)
    return Response(status_code=204)
