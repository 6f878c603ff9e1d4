"""/containers: list, listing, detail, fields."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ...insights import service as insights
from ...store.models import Container
from ...store.repo import paginate, with_any_json_value
from ...store.repositories import containers as repo
from ...store.repositories import datastores as datastore_repo
from ...store.repositories import favorites
from .. import responses as r
from .. import serializers as ser
from ..deps import PageDep, SessionDep, page_of
from ..routing import Route
from ..schemas import ToggleFavorite

router = APIRouter(prefix="/containers", tags=["containers"], route_class=Route)


@router.get("", response_model=r.ContainerPage)
def list_containers(
    session: SessionDep,
    page: PageDep,
    datastore: Annotated[list[int] | None, Query()] = None,
    container_type: Annotated[list[str] | None, Query()] = None,
    name: str | None = None,
    search: str | None = None,
    archived: str | None = None,
    tag: Annotated[list[str] | None, Query()] = None,
) -> dict:
    """Containers, paged; filters ``datastore`` (repeatable), ``container_type``, ``name``,
    ``search``, ``tag`` (any of them; repeatable), ``archived`` (``only`` / ``include``;
    default: live containers only)."""
    stmt = repo.listing(
        datastores=datastore, container_types=container_type, name=name, search=search, archived=archived
    )
    if tag:
        stmt = with_any_json_value(session, stmt, Container, Container.tags, tag)
    rows, total, pages = paginate(session, stmt, page.page, page.size)
    metrics = insights.container_metrics(session, rows)
    return page_of([ser.container(c, metrics[c.id]) for c in rows], total, page, pages)


@router.get("/listing", response_model=list[r.ContainerListing])
def listing(session: SessionDep, datastore: Annotated[list[int] | None, Query()] = None) -> list[dict]:
    """The live containers (what the CLI resolves names with): ``{id, name, container_type,
    table_type, deleted_at, favorite, volumetric_tracking_enabled, freshness_tracking_enabled,
    datastore: {id, name, store_type, type}}``."""
    for ds_id in datastore or []:
        datastore_repo.get(session, ds_id)
    return [ser.container_listing(c) for c in repo.live(session, datastore)]


@router.get("/{container_id}", response_model=r.Container)
def get_container(container_id: int, session: SessionDep) -> dict:
    """A container with its ``metrics`` (counts and quality score: docs/quality-score.md), its
    ``computed_fields`` and, when computed, its ``query`` and definition."""
    c = repo.get(session, container_id)
    return ser.container_detail(c, insights.container_metrics(session, [c])[c.id])


@router.get("/{container_id}/fields", response_model=list[r.Field])
def list_fields(container_id: int, session: SessionDep) -> list[dict]:
    """The container's fields in column order, as a bare list (as Qualytics answers and its
    clients, qualytics-cli among them, read it)."""
    container = repo.get(session, container_id)
    return ser.fields(session, list(container.fields))


@router.patch("/{container_id}/favorite", response_model=r.Container)
def update_favorite_container(container_id: int, body: ToggleFavorite, session: SessionDep) -> dict:
    """Mark (``{"favorite": true}``) or unmark a container as the caller's favourite: per user (another
    user's star is not changed nor seen), and not a change of the container (no activity entry)."""
    container = repo.get(session, container_id)
    favorites.set_favorite(session, container, body.favorite)
    return ser.container(container)
