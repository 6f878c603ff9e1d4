"""Container writes: computed tables (POST, validate), PUT, DELETE, bulk tag PATCH,
field profiles, and computed fields."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Literal

import ibis
from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict
from pydantic import Field as PField

from ...engine.expressions import ExpressionError, parse_query, to_ibis
from ...errors import Conflict, NotFound, ValidationError
from ...operations.incremental import IDENTIFIER_SETTINGS, set_identifiers
from ...security import datastore_secrets
from ...sources import field_type_of, open_source
from ...store.models import ComputedField, Container, Datastore, Field
from ...store.repo import ensure_idle
from ...store.repositories import containers as repo
from ...store.repositories import datastores as datastore_repo
from .. import responses as r
from .. import serializers as ser
from ..deps import PageDep, SessionDep, page_of
from ..routing import Route

router = APIRouter(tags=["containers"], route_class=Route)


class ComputedTableCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")
    container_type: Literal["computed_table"] = "computed_table"
    datastore_id: int
    name: str = PField(min_length=1, max_length=1024)
    query: str
    description: str | None = None
    tags: list[str] = PField(default_factory=list)
    additional_metadata: dict[str, Any] | None = None


class ContainerUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str | None = PField(default=None, min_length=1, max_length=1024)
    query: str | None = None
    tags: list[str] | None = None
    additional_metadata: dict[str, Any] | None = None
    incremental_field_name: str | None = None
    incremental_identifier_type: Literal["timestamp", "batch", "last-modified", "batch-value"] | None = None
    partition_field: str | None = None
    incremental_checkpoint: str | float | None = None


class ContainerTags(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: int
    tags: list[str]


class ValidateBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    container: ComputedTableCreate


DIALECTS = {"duckdb": "duckdb", "postgresql": "postgres", "mysql": "mysql", "sqlite": "sqlite"}


def _normalise(ds: Datastore, query: str) -> str:
    """The query parsed and re-rendered in the datastore's dialect. 422 when it is not one SELECT."""
    if ds.type not in DIALECTS:
        raise ValidationError(("datastore_id",), "computed tables need a database datastore (jdbc)")
    try:
        return parse_query(query, DIALECTS[ds.type])
    except ExpressionError as e:
        raise ValidationError(("query",), f"query: {e}") from None


def _query_fields(ds: Datastore, query: str, secret_key: str) -> list:
    """Fields of a computed table's query, by asking the engine for its schema."""
    normalised = _normalise(ds, query)
    try:
        with open_source(ds, datastore_secrets(secret_key, ds)) as source:
            schema = source.table(SimpleNamespace(container_type="computed_table", query=normalised, name="?")).schema()
    except Exception as e:  # noqa: BLE001 - the engine's reason goes back as a 422
        raise ValidationError(("query",), f"query: {str(e).splitlines()[0]}") from None
    return [
        Field(name=n, type=field_type_of(t), native_type=str(t), nullable=t.nullable, ordinal=i)
        for i, (n, t) in enumerate(schema.items())
    ]


@router.post("/containers", response_model=r.Container)
def create_container(body: ComputedTableCreate, session: SessionDep, request: Request) -> dict:
    """Create a computed table: a read-only SELECT over the datastore, scanned like a table."""
    ds = datastore_repo.get(session, body.datastore_id)
    if repo.name_taken(session, ds.id, body.name):
        raise Conflict(f"datastore {ds.id} already has a container named '{body.name}'")
    fields = _query_fields(ds, body.query, request.app.state.settings.secret_key)
    c = Container(
        datastore_id=ds.id,
        name=body.name,
        container_type="computed_table",
        table_type=None,
        query=_normalise(ds, body.query),
        tags=body.tags,
        additional_metadata=body.additional_metadata,
        fields=fields,
    )
    return ser.container(repo.add(session, c))


@router.post("/containers/validate", response_model=r.ContainerValidation)
def validate_container(
    body: ValidateBody, session: SessionDep, request: Request, timeout_seconds: int = Query(60, ge=1)
) -> dict:
    """Dry-run a computed table definition: 200 with its fields, or 422 saying why not."""
    ds = datastore_repo.get(session, body.container.datastore_id)
    fields = _query_fields(ds, body.container.query, request.app.state.settings.secret_key)
    return {"valid": True, "fields": [{"name": f.name, "type": f.type, "native_type": f.native_type} for f in fields]}


@router.patch("/containers", response_model=list[r.Container])
def bulk_tag_containers(body: list[ContainerTags], session: SessionDep) -> list[dict]:
    """Set the tags of several containers: ``[{id, tags}]``; 404 if any id is unknown."""
    rows = [repo.get(session, item.id) for item in body]
    for c, item in zip(rows, body, strict=False):
        c.tags = item.tags
    session.flush()
    return [ser.container(c) for c in rows]


@router.put("/containers/{container_id}", response_model=r.Container)
def update_container(container_id: int, body: ContainerUpdate, session: SessionDep, request: Request) -> dict:
    """Update tags and metadata; a computed table's name and query too; the incremental
    identifier and partition field (``null`` clears them; they then survive later syncs)."""
    c = repo.get(session, container_id)
    if body.tags is not None:
        c.tags = body.tags
    if body.additional_metadata is not None:
        c.additional_metadata = body.additional_metadata
    identifier_changes = {k: getattr(body, k) for k in IDENTIFIER_SETTINGS if k in body.model_fields_set}
    if identifier_changes:
        before = (c.incremental_field_name, c.partition_field)
        set_identifiers(c, identifier_changes)
        if (c.incremental_field_name, c.partition_field) != before:
            # partitions of the old split no longer describe the container (their scans keep their names)
            repo.drop_partitions(session, c.id)
    if c.container_type == "computed_table":
        if body.query is not None:
            c.fields = _query_fields(c.datastore, body.query, request.app.state.settings.secret_key)
            c.query = _normalise(c.datastore, body.query)
        if body.name is not None:
            c.name = body.name
    elif body.name is not None and body.name != c.name:
        raise ValidationError(("name",), "only computed containers can be renamed; tables keep the source's name")
    session.flush()
    return ser.container(c)


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


class ComputedFieldBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str = PField(min_length=1, max_length=1024)
    container_id: int
    transformation: Literal["customExpression", "cleanedEntityName", "convertFormattedNumeric"] = "customExpression"
    source_fields: list[str] = PField(default_factory=list)
    properties: dict[str, Any] = PField(default_factory=dict)
    additional_metadata: dict[str, Any] | None = None


def _computed_type(container: Container, body: ComputedFieldBody, exclude: str | None = None):
    if body.transformation != "customExpression":
        raise ValidationError(
            ("transformation",),
            f"transformation '{body.transformation}' is not supported yet; "
            "use customExpression with properties.column_expression",
        )
    expression = body.properties.get("column_expression")
    if not isinstance(expression, str) or not expression.strip():
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


def _computed_json(cf: ComputedField) -> dict:
    return {
        "id": cf.id,
        "created": ser.iso(cf.created),
        "name": cf.name,
        "container_id": cf.container_id,
        "transformation": cf.transformation,
        "source_fields": cf.source_fields,
        "properties": cf.properties,
        "additional_metadata": cf.additional_metadata,
    }


def _sync_field(container: Container, name: str, dtype, old_name: str | None = None) -> None:
    fields = [f for f in container.fields if f.name not in (name, old_name)]
    fields.append(
        Field(name=name, type=field_type_of(dtype), native_type=str(dtype), nullable=True, ordinal=len(fields))
    )
    container.fields = fields


@router.post("/computed-fields", response_model=r.ComputedField)
def create_computed_field(body: ComputedFieldBody, session: SessionDep) -> dict:
    """Add a field computed from a Spark-SQL expression over the container's fields; scans
    and checks see it like any other field."""
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
    session.flush()
    return _computed_json(cf)


@router.put("/computed-fields/{field_id}", response_model=r.ComputedField)
def update_computed_field(field_id: int, body: ComputedFieldBody, session: SessionDep) -> dict:
    cf = repo.get_computed_field(session, field_id)
    container = repo.get(session, cf.container_id)
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
    session.flush()
    return _computed_json(cf)


@router.delete("/computed-fields/{field_id}", status_code=204)
def delete_computed_field(field_id: int, session: SessionDep) -> Response:
    cf = repo.get_computed_field(session, field_id)
    container = repo.get(session, cf.container_id)
    container.fields = [f for f in container.fields if f.name != cf.name]
    session.delete(cf)
    return Response(status_code=204)
