"""Enrichment browsing: ``/datastores/{id}/listing`` (the enrichment tables) and
``/datastores/{id}/source-records`` (rows of one of them), as Qualytics serves them."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Query, Request

from ...confinement import PathNotAllowed, confine
from ...enrichment import browse
from ...enrichment.writer import target_of, write_lock
from ...errors import Conflict, ValidationError
from ...security import datastore_secrets
from ...sources import SourceError, open_source
from ...store.models import Datastore
from ...store.repositories import datastores as repo
from .. import responses as r
from .. import serializers as ser
from ..deps import SessionDep
from ..routing import Route

router = APIRouter(tags=["enrichment"], route_class=Route)


def _scope(session, datastore_id: int) -> tuple[Datastore, list[Datastore]]:
    """(the enrichment datastore to read, the source datastores whose tables are listed).
    For an enrichment datastore: itself and every datastore linked to it; for a source
    datastore: its linked enrichment datastore and itself. Raises Conflict (409) when a
    source datastore has no enrichment datastore linked."""
    ds = repo.get(session, datastore_id)
    if ds.enrichment_only:
        return ds, repo.linked_to(session, ds.id)
    if ds.enrichment_datastore is None:
        raise Conflict(
            f"datastore {ds.id} has no enrichment datastore linked; "
            "link one with PATCH /api/datastores/{id}/enrichment/{enrichment_id}"
        )
    return ds.enrichment_datastore, [ds]


@contextlib.contextmanager
def _opened(request: Request, enrichment: Datastore) -> Iterator[object]:
    secrets = datastore_secrets(request.app.state.settings.secret_key, enrichment)
    held: contextlib.AbstractContextManager = contextlib.nullcontext()
    if enrichment.type == "duckdb":
        # a DuckDB file this process is writing cannot be opened read-only meanwhile: wait
        with contextlib.suppress(ValueError):  # a file outside the data roots: open_source says so
            held = write_lock(target_of(enrichment, secrets))
    try:
        with held, open_source(enrichment, secrets) as source:
            yield source
    except SourceError as e:
        raise ValidationError(
            "datastore_id", f"cannot read enrichment datastore {enrichment.id}: {e}", part="path"
        ) from None


def _not_written_yet(enrichment: Datastore) -> bool:
    """A DuckDB or SQLite enrichment file that no scan has written yet (the first write
    creates it): it has no tables."""
    if not enrichment.enrichment_only or enrichment.type not in ("duckdb", "sqlite"):
        return False
    if enrichment.database in (None, "", ":memory:"):
        return False
    try:  # outside the data roots: open_source refuses it, with the same words either way
        return not confine(enrichment.database, ("database",)).exists()
    except PathNotAllowed:
        return False


def _listing(source, enrichment: Datastore, owners: list[Datastore], only_owned: bool) -> list[dict]:
    by_prefix = {d.enrichment_prefix: d for d in owners if d.enrichment_prefix}
    out = []
    for name in browse.tables(source):
        prefix, label = browse.owner_of(name, list(by_prefix))
        if prefix is None and only_owned:
            continue
        owner = by_prefix.get(prefix, enrichment) if prefix is not None else enrichment
        out.append({"name": name, "label": label, "datastore": ser.datastore_stub(owner)})
    return out


@router.get("/datastores/{datastore_id}/listing", response_model=list[r.EnrichmentTable])
def list_enrichment_tables(datastore_id: int, session: SessionDep, request: Request) -> list[dict]:
    """The tables of an enrichment datastore, each with its ``label`` (the name without its
    source datastore's prefix) and that source ``datastore``; for a source datastore, the
    tables of its linked enrichment datastore that carry its prefix."""
    enrichment, owners = _scope(session, datastore_id)
    if _not_written_yet(enrichment):
        return []
    with _opened(request, enrichment) as source:
        return _listing(source, enrichment, owners, only_owned=enrichment.id != datastore_id)


@router.get("/datastores/{datastore_id}/source-records", response_model=r.EnrichmentSourceRecords)
def list_enrichment_records(
    datastore_id: int,
    session: SessionDep,
    request: Request,
    path: Annotated[str, Query(min_length=1, description="the enrichment table, as /listing names it")],
    filter: Annotated[str | None, Query(description="column = 'value' comparisons joined by AND")] = None,
    limit: Annotated[int, Query(ge=1, le=browse.MAX_ROWS)] = 100,
) -> dict:
    """Up to ``limit`` rows of enrichment table ``path`` (e.g. ``<prefix>_source_records`` with
    ``filter=anomaly_uuid='…'``), as Qualytics answers: ``{source_records: "<JSON array>"}``
    with lower-case keys. 422 naming ``path`` for a table /listing does not list, or
    ``filter`` for one that is not ``column = 'value'`` joined by AND."""
    enrichment, owners = _scope(session, datastore_id)
    try:
        conditions = browse.parse_filter(filter) if filter else []
    except browse.BadFilter as e:
        raise ValidationError("filter", str(e), part="query") from None
    if _not_written_yet(enrichment):
        raise ValidationError("path", f"no enrichment table '{path}' in datastore {enrichment.id}", part="query")
    with _opened(request, enrichment) as source:
        names = {t["name"] for t in _listing(source, enrichment, owners, only_owned=enrichment.id != datastore_id)}
        if path not in names:
            raise ValidationError("path", f"no enrichment table '{path}' in datastore {enrichment.id}", part="query")
        try:
            records = browse.rows(source, path, conditions, limit)
        except browse.BadFilter as e:
            raise ValidationError("filter", str(e), part="query") from None
    return {"source_records": browse.as_text(records)}
