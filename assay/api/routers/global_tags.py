"""/global-tags: tags that datastores, containers, checks and anomalies carry."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from ...errors import Conflict
from ...store.models import GlobalTag
from ...store.repo import paginate
from ...store.repositories import tags as repo
from .. import responses as r
from ..deps import PageDep, SessionDep, page_of
from ..routing import Route
from ..serializers import iso

#: A tag's colour as Qualytics keeps it: hex ``#rrggbb``.
Color = Annotated[str, Field(pattern=r"^#[0-9A-Fa-f]{6}$", description="hex #rrggbb")]

router = APIRouter(prefix="/global-tags", tags=["global-tags"], route_class=Route)


class TagCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str = Field(min_length=1, max_length=255)
    color: Color | None = None
    description: str | None = None
    category: str | None = None
    weight_modifier: int = Field(default=0, ge=-10, le=10)


def _tag(t: GlobalTag, count: int) -> dict:
    """A tag with ``count``: the datastores, containers, fields, quality checks and anomalies carrying it."""
    return {
        "id": t.id,
        "created": iso(t.created),
        "name": t.name,
        "color": t.color,
        "description": t.description,
        "category": t.category,
        "weight_modifier": t.weight_modifier,
        "type": "global",
        "count": count,
    }


@router.get("", response_model=r.GlobalTagPage)
def list_tags(session: SessionDep, page: PageDep, search: str | None = None) -> dict:
    stmt = repo.listing(search=search)
    rows, total, pages = paginate(session, stmt, page.page, page.size)
    counts = repo.usage_counts(session)
    return page_of([_tag(t, counts.get(t.name, 0)) for t in rows], total, page, pages)


@router.post("", response_model=r.GlobalTag)
def create_tag(body: TagCreate, session: SessionDep) -> dict:
    """Create a tag; 409 if the name is taken."""
    if repo.name_taken(session, body.name):
        raise Conflict(f"a global tag named '{body.name}' already exists")
    return _tag(repo.add(session, **body.model_dump()), 0)


class TagUpdate(BaseModel):
    """PUT /global-tags/{name} (Qualytics' ``UpdateGlobalTag``): a new ``name`` renames the
    tag everywhere it is used; the other keys replace the tag's when given."""

    model_config = ConfigDict(extra="ignore")
    name: str | None = Field(default=None, min_length=1, max_length=255)
    color: Color | None = None
    description: str | None = None
    category: str | None = None
    weight_modifier: int | None = Field(default=None, ge=-10, le=10)


@router.get("/listing", response_model=list[r.GlobalTagListing])
def get_global_tags_listing(session: SessionDep) -> list[dict]:
    """Every tag by name, each with ``count``: the datastores, containers, fields, quality
    checks and anomalies that carry it. Registered before ``/{name}``."""
    counts = repo.usage_counts(session)
    return [_tag(t, counts.get(t.name, 0)) for t in session.scalars(repo.listing())]


@router.put("/{name}", response_model=r.GlobalTag)
def update_global_tag(name: str, body: TagUpdate, session: SessionDep) -> dict:
    """Update a tag; a new ``name`` renames it on every object carrying it (one transaction).
    404 for an unknown tag, 409 if the new name is taken."""
    tag = repo.by_name(session, name)
    if body.name is not None and body.name != tag.name:
        if repo.name_taken(session, body.name):
            raise Conflict(f"a global tag named '{body.name}' already exists")
        repo.rename(session, tag, body.name)
    for key in ("color", "description", "category", "weight_modifier"):
        if key in body.model_fields_set and (getattr(body, key) is not None or key != "weight_modifier"):
            setattr(tag, key, getattr(body, key))
    session.flush()
    return _tag(tag, repo.usage_counts(session).get(tag.name, 0))


@router.get("/{name}", response_model=r.GlobalTag)
def get_tag(name: str, session: SessionDep) -> dict:
    tag = repo.by_name(session, name)
    return _tag(tag, repo.usage_counts(session).get(tag.name, 0))


@router.delete("/{name}", status_code=204)
def delete_tag(name: str, session: SessionDep) -> Response:
    session.delete(repo.by_name(session, name))
    return Response(status_code=204)
