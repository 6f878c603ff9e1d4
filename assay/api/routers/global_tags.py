"""/global-tags: tags that datastores, containers, checks and anomalies carry."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from ...store.models import GlobalTag
from ...store.repo import Conflict, NotFound, paginate
from ..deps import PageDep, SessionDep, page_of
from ..serializers import iso

router = APIRouter(prefix="/global-tags", tags=["global-tags"])


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


def _by_name(session, name: str) -> GlobalTag:
    tag = session.scalar(select(GlobalTag).where(GlobalTag.name == name))
    if tag is None:
        raise NotFound(f"Global tag '{name}' not found")
    return tag


@router.get("")
def list_tags(session: SessionDep, page: PageDep, search: str | None = None) -> dict:
    stmt = select(GlobalTag).order_by(GlobalTag.name)
    if search:
        stmt = stmt.where(GlobalTag.name.ilike(f"%{search}%"))
    rows, total, pages = paginate(session, stmt, page.page, page.size)
    return page_of([_tag(t) for t in rows], total, page, pages)


@router.post("")
def create_tag(body: TagCreate, session: SessionDep) -> dict:
    """Create a tag; 409 if the name is taken."""
    if session.scalar(select(GlobalTag.id).where(GlobalTag.name == body.name)):
        raise Conflict(f"a global tag named '{body.name}' already exists")
    tag = GlobalTag(**body.model_dump())
    session.add(tag)
    session.flush()
    return _tag(tag)


@router.get("/{name}")
def get_tag(name: str, session: SessionDep) -> dict:
    return _tag(_by_name(session, name))


@router.delete("/{name}", status_code=204)
def delete_tag(name: str, session: SessionDep) -> Response:
    session.delete(_by_name(session, name))
    return Response(status_code=204)
