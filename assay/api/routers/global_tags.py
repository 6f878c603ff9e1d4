"""/global-tags: tags that datastores, containers, checks and anomalies carry."""

from __future__ import annotations

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

router = APIRouter(prefix="/global-tags", tags=["global-tags"], route_class=Route)


class TagCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str = Field(min_length=1, max_length=255)
    color: str | None = None
    description: str | None = None
    category: str | None = None
    weight_modifier: int = Field(default=0, ge=-10, le=10)


def _tag(t: GlobalTag) -> dict:
    return {
        "id": t.id,
        "created": iso(t.created),
        "name": t.name,
        "color": t.color,
        "description": t.description,
        "category": t.category,
        "weight_modifier": t.weight_modifier,
        "type": "global",
    }


@router.get("", response_model=r.GlobalTagPage)
def list_tags(session: SessionDep, page: PageDep, search: str | None = None) -> dict:
    stmt = repo.listing(search=search)
    rows, total, pages = paginate(session, stmt, page.page, page.size)
    return page_of([_tag(t) for t in rows], total, page, pages)


@router.post("", response_model=r.GlobalTag)
def create_tag(body: TagCreate, session: SessionDep) -> dict:
    """Create a tag; 409 if the name is taken."""
    if repo.name_taken(session, body.name):
        raise Conflict(f"a global tag named '{body.name}' already exists")
    return _tag(repo.add(session, **body.model_dump()))


@router.get("/{name}", response_model=r.GlobalTag)
def get_tag(name: str, session: SessionDep) -> dict:
    return _tag(repo.by_name(session, name))


@router.delete("/{name}", status_code=204)
def delete_tag(name: str, session: SessionDep) -> Response:
    session.delete(repo.by_name(session, name))
    return Response(status_code=204)
