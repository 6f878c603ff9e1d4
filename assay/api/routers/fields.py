"""/fields: the fields of every container (Qualytics' field endpoints), their tags, profiles
over time and change history; a field's profile by name in a container or a container profile.

A field's name and type come from its container's schema (sync), so only its tags change here.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from ...errors import NotFound, ValidationError
from ...store.models import Field
from ...store.repo import paginate
from ...store.repositories import containers as container_repo
from ...store.repositories import fields as repo
from .. import responses as r
from .. import serializers as ser
from ..auth import CurrentUser
from ..deps import PageDep, SessionDep, page_of
from ..limits import Tags
from ..routing import Route

router = APIRouter(tags=["fields"], route_class=Route)


class FieldUpdate(BaseModel):
    """PUT /fields/{id} (Qualytics' ``UpdateField``): ``tags`` replaces the field's tags;
    ``name`` may only repeat the current name (422 otherwise)."""

    model_config = ConfigDict(extra="ignore")
    name: str | None = None
    tags: Tags | None = None


class FieldBulkUpdate(BaseModel):
    """One item of PATCH /fields (Qualytics' ``BulkUpdateField``)."""

    model_config = ConfigDict(extra="ignore")
    id: int
    tags: Tags | None = None


@router.get("/fields", response_model=r.FieldPage)
def get_fields(session: SessionDep, page: PageDep, name: str | None = None, container_id: int | None = None) -> dict:
    """Fields of live containers, paged, by container and column order; ``name`` matches part
    of the name (case-insensitive), ``container_id`` narrows to one container."""
    rows, total, pages = paginate(session, repo.listing(name=name, container_id=container_id), page.page, page.size)
    return page_of(ser.fields(session, list(rows)), total, page, pages)


@router.get("/fields/listing", response_model=list[r.FieldListing])
def get_fields_listing(session: SessionDep, name: str | None = None, container_id: int | None = None) -> list[dict]:
    """The same fields as ``GET /fields``, unpaged, as ``{id, name, type, container_id}``."""
    rows = session.scalars(repo.listing(name=name, container_id=container_id))
    return [{"id": f.id, "name": f.name, "type": f.type, "container_id": f.container_id} for f in rows]


def _set_tags(session, field: Field, tags: list[str] | None, user_id: int) -> None:
    """Replace the field's tags, keeping a version when they change."""
    if tags is None or list(tags) == list(field.tags or []):
        return
    repo.add_version(session, field.id, user_id, {"tags": [list(field.tags or []), list(tags)]})
    field.tags = list(tags)


@router.patch("/fields", response_model=list[r.Field])
def bulk_update_fields(body: list[FieldBulkUpdate], session: SessionDep, user: CurrentUser) -> list[dict]:
    """Set the tags of several fields: ``[{id, tags}]``; 404 if any id is unknown (nothing changes)."""
    rows = [repo.get(session, item.id) for item in body]
    for field, item in zip(rows, body, strict=True):
        _set_tags(session, field, item.tags, user.id)
    session.flush()
    return ser.fields(session, rows)


@router.get("/fields/{field_id}", response_model=r.Field)
def get_field(field_id: int, session: SessionDep) -> dict:
    return ser.fields(session, [repo.get(session, field_id)])[0]


@router.put("/fields/{field_id}", response_model=r.Field)
def update_field(field_id: int, body: FieldUpdate, session: SessionDep, user: CurrentUser) -> dict:
    """Replace the field's tags. 422 naming ``name`` for another name: a field's name is
    its column's name in the source."""
    field = repo.get(session, field_id)
    if body.name is not None and body.name != field.name:
        raise ValidationError(("name",), f"a field keeps its source column's name '{field.name}'")
    _set_tags(session, field, body.tags, user.id)
    session.flush()
    return ser.fields(session, [field])[0]


@router.get("/fields/{field_id}/field-profiles", response_model=list[r.FieldProfile])
def get_field_profiles(
    field_id: int, session: SessionDep, limit: Annotated[int | None, Query(ge=1, le=1000)] = None
) -> list[dict]:
    """The field's profiles from successful profile operations, newest first (at most ``limit``)."""
    return [ser.field_profile(fp) for fp in repo.profiles(session, repo.get(session, field_id), limit)]


@router.get("/fields/{field_id}/history", response_model=r.FieldHistory)
def get_field_history(field_id: int, session: SessionDep) -> dict:
    """The changes made to the field through the API (its tags), oldest first."""
    field = repo.get(session, field_id)
    return {
        "created": ser.iso(field.container.created),
        "id": field.id,
        "versions": [
            {
                "changeset": v.changeset,
                "transaction": {"id": v.id, "issued_at": ser.iso(v.created), "user": ser.user_stub(v.user)},
                "operation_type": 1,
                "operation": "update",
            }
            for v in repo.versions(session, field.id)
        ],
    }


@router.get("/containers/{container_id}/field-profiles/{field_name}", response_model=r.FieldProfile)
def get_container_field_profile(container_id: int, field_name: str, session: SessionDep) -> dict:
    """The profile of field ``field_name`` in the container's latest successful profile;
    404 when the container has none or it did not profile that field."""
    container_repo.get(session, container_id)
    latest = container_repo.latest_profile(session, container_id)
    if latest is None:
        raise NotFound(f"Container {container_id} has no successful profile yet")
    return ser.field_profile(repo.profile_of(session, latest.id, field_name))


@router.get("/container-profiles/{profile_id}/field-profiles/{field_name}", response_model=r.FieldProfile)
def get_container_profile_field_profile(profile_id: int, field_name: str, session: SessionDep) -> dict:
    """The profile of field ``field_name`` in container profile ``profile_id``."""
    return ser.field_profile(repo.profile_of(session, profile_id, field_name))
