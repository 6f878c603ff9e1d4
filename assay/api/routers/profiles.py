"""/container-profiles and /field-profiles: what profile operations measured, across
containers (Qualytics' container and field profile endpoints)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from ...errors import ValidationError
from ...store.repo import paginate
from ...store.repositories import profiles as repo
from .. import responses as r
from .. import serializers as ser
from ..deps import PageDep, SessionDep, page_of
from ..routing import Route

router = APIRouter(tags=["profiles"], route_class=Route)

Sort = Literal["asc", "desc"]
FIELD_TYPES = ("Integral", "Fractional", "Boolean", "String", "Date", "Timestamp", "Unknown")


@router.get("/container-profiles", response_model=r.ContainerProfilePage)
def list_container_profiles(
    session: SessionDep,
    page: PageDep,
    datastore: int | None = None,
    container: int | None = None,
    latest_only: bool = False,
    sort_created: Sort | None = None,
) -> dict:
    """Container profiles, paged, newest first (``sort_created=asc``: oldest first); filter by
    ``datastore`` or ``container`` id; ``latest_only``: each container's latest successful one."""
    stmt = repo.container_profiles(
        datastore=datastore, container=container, latest_only=latest_only, sort_created=sort_created
    )
    rows, total, pages = paginate(session, stmt, page.page, page.size)
    return page_of([ser.container_profile(cp, cp.container) for cp in rows], total, page, pages)


@router.get("/container-profiles/{profile_id}", response_model=r.ContainerProfileFull)
def get_container_profile(profile_id: int, session: SessionDep) -> dict:
    """One container profile with the fields it measured. 404 if unknown."""
    cp = repo.get_container_profile(session, profile_id)
    return ser.container_profile(cp, cp.container)


@router.get("/container-profiles/{profile_id}/field-profiles", response_model=list[r.FieldProfile])
def get_container_profile_field_profiles(profile_id: int, session: SessionDep) -> list[dict]:
    """The field profiles of one container profile, in the order they were measured. 404 if unknown."""
    return [ser.field_profile(fp) for fp in repo.get_container_profile(session, profile_id).field_profiles]


def _types(type_: list[str] | None) -> list[str]:
    unknown = sorted(set(type_ or []) - set(FIELD_TYPES))
    if unknown:
        raise ValidationError(
            ("type",), f"unknown field type {', '.join(unknown)}: one of {', '.join(FIELD_TYPES)}", "query"
        )
    return list(type_ or [])


@router.get("/field-profiles", response_model=r.FieldProfilePage)
def list_field_profiles(
    session: SessionDep,
    page: PageDep,
    name: str | None = None,
    type: Annotated[list[str] | None, Query()] = None,  # noqa: A002 - Qualytics' parameter name
    datastore: Annotated[list[int] | None, Query()] = None,
    container: Annotated[list[int] | None, Query()] = None,
    tag: Annotated[list[str] | None, Query()] = None,
    sort_name: Sort | None = None,
    sort_created: Sort | None = None,
    sort_type: Sort | None = None,
    sort_completeness: Sort | None = None,
    sort_active_checks: Sort | None = None,
    sort_active_anomalies: Sort | None = None,
    sort_quality_score: Sort | None = None,
    latest_only: bool = False,
) -> dict:
    """Field profiles from successful profiles, paged, newest first. Filters: ``name`` (part of
    the field name, case-insensitive), ``type`` (field types), ``datastore``, ``container``,
    ``tag`` (the field's tags; each repeatable), ``latest_only`` (each container's latest
    profile). Sorted by ``sort_name``, ``sort_type``, ``sort_created`` (asc/desc) in that order.
    ``sort_completeness``, ``sort_active_checks``, ``sort_active_anomalies`` and
    ``sort_quality_score`` are not supported: 422 naming the parameter."""
    for param, value in (
        ("sort_completeness", sort_completeness),
        ("sort_active_checks", sort_active_checks),
        ("sort_active_anomalies", sort_active_anomalies),
        ("sort_quality_score", sort_quality_score),
    ):
        if value is not None:
            raise ValidationError((param,), "sorting field profiles by this key is not supported", "query")
    sort = [
        (key, value) for key, value in (("name", sort_name), ("type", sort_type), ("created", sort_created)) if value
    ]
    stmt = repo.field_profiles(
        session,
        name=name,
        types=_types(type),
        datastores=datastore,
        containers=container,
        tags=tag,
        latest_only=latest_only,
        sort=sort,
    )
    rows, total, pages = paginate(session, stmt, page.page, page.size)
    return page_of([ser.field_profile(fp) for fp in rows], total, page, pages)


@router.get("/field-profiles/listing", response_model=list[r.FieldProfile])
def list_field_profiles_listing(
    session: SessionDep,
    id: int | None = None,  # noqa: A002 - Qualytics' parameter name
    datastore: int | None = None,
    containers: Annotated[list[int] | None, Query()] = None,
    latest_only: bool = False,
) -> list[dict]:
    """Field profiles unpaged, newest first: by profile ``id``, ``datastore``, ``containers``
    (repeatable) and ``latest_only`` (each container's latest successful profile)."""
    stmt = repo.field_profiles(
        session,
        ids=[id] if id is not None else None,
        datastores=[datastore] if datastore is not None else None,
        containers=containers,
        latest_only=latest_only,
    )
    return [ser.field_profile(fp) for fp in session.scalars(stmt)]


@router.get("/field-profiles/{profile_id}", response_model=r.FieldProfile)
def get_field_profile(profile_id: int, session: SessionDep) -> dict:
    """One field profile: the field's statistics from one container profile. 404 if unknown."""
    return ser.field_profile(repo.get_field_profile(session, profile_id))
