"""Short listings of connections and datastores, and the specifications of what Assay
supports: connection types (``/datastores/specifications``, generated from the connection
models in :mod:`assay.sources.specs`) and computed-field transformations."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter

from ...enrichment.writer import ENRICHMENT_TYPES
from ...errors import NotFound
from ...sources.specs import CONNECTION_MODELS, ConnectionSettings
from ...specs import spec_properties
from ...store.repositories import connections as connection_repo
from ...store.repositories import datastores as datastore_repo
from .. import responses as r
from ..deps import SessionDep
from ..routing import Route
from ..schemas import CustomExpressionProperties
from .connections import connection_json
from .datastores import KINDS

router = APIRouter(tags=["specifications"], route_class=Route)


@router.get("/connections/listing", response_model=list[r.ConnectionStub])
def get_connection_listing(session: SessionDep, supports_enrichment: bool | None = None) -> list[dict]:
    """Every connection as ``{created, id, name, connection_type, type}``, by id;
    ``supports_enrichment`` true (false): only those whose type can (cannot) hold an
    enrichment datastore."""
    types = None
    if supports_enrichment is not None:
        known = {m.TYPE for m in CONNECTION_MODELS}
        types = sorted(set(ENRICHMENT_TYPES) if supports_enrichment else known - set(ENRICHMENT_TYPES))
    rows = session.scalars(connection_repo.listing(types=types))
    keys = ("created", "id", "name", "connection_type", "type")
    return [{k: v for k, v in connection_json(c).items() if k in keys} for c in rows]


@router.get("/datastores/listing", response_model=list[r.DatastoreListing])
def get_datastore_listing(session: SessionDep, enrich_only: bool | None = None) -> list[dict]:
    """Every datastore as ``{id, name, store_type, type}``, by id; ``enrich_only`` true
    (false): only enrichment (source) datastores."""
    rows = session.scalars(datastore_repo.listing(enrichment_only=enrich_only))
    return [{"id": d.id, "name": d.name, "store_type": d.store_type, "type": d.type} for d in rows]


def _datastore_spec(model: type[ConnectionSettings]) -> dict:
    return {
        "display_name": model.DISPLAY_NAME,
        "type": model.TYPE,
        "implemented": True,
        "supports_enrichment": model.TYPE in ENRICHMENT_TYPES,
        "properties": spec_properties(model),
    }


@router.get("/datastores/specifications", response_model=list[r.DatastoreSpec])
def get_datastore_specifications(
    implemented: bool | None = None, supports_enrichment: bool | None = None
) -> list[dict]:
    """The connection types Assay reads, each with its settings; ``implemented=false`` is
    empty (Assay lists only what it implements); ``supports_enrichment`` narrows to the types
    that can (cannot) hold an enrichment datastore."""
    specs = [_datastore_spec(m) for m in CONNECTION_MODELS]
    if implemented is not None:
        specs = [s for s in specs if s["implemented"] is implemented]
    if supports_enrichment is not None:
        specs = [s for s in specs if s["supports_enrichment"] is supports_enrichment]
    return specs


@router.get("/datastores/specifications/{type}", response_model=r.DatastoreSpec)
def get_datastore_specification(type: str) -> dict:  # noqa: A002 - Qualytics' parameter name
    """The settings of connection type ``type`` (``postgresql``, ``duckdb``, ``local`` …, or
    an alias a datastore body takes: ``postgres``, ``mariadb``, ``file``); 404 naming the
    supported types for another."""
    canonical = KINDS.get(type.lower(), ("", ""))[1]
    for model in CONNECTION_MODELS:
        if canonical == model.TYPE:
            return _datastore_spec(model)
    raise NotFound(f"Connection type '{type}' is not supported; one of: {', '.join(m.TYPE for m in CONNECTION_MODELS)}")


@router.get("/computed-fields/specifications", response_model=list[r.ComputedFieldSpec])
def get_computed_field_specifications(
    transformation: Literal["cleanedEntityName", "convertFormattedNumeric", "customExpression"] | None = None,
) -> list[dict]:
    """The computed-field transformations Assay evaluates: ``customExpression`` (its
    ``properties`` generated from the model the API validates). ``transformation`` narrows
    to one; Qualytics' other transformations are empty (not supported)."""
    specs = [
        {
            "transformation": "customExpression",
            "description": "A Spark-SQL expression over the container's fields, evaluated for every record.",
            "fields": "multi",
            "fields_type_filter": None,
            "properties": spec_properties(CustomExpressionProperties),
        }
    ]
    return [s for s in specs if transformation in (None, s["transformation"])]
