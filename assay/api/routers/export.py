"""/export: write metadata export tables to the enrichment datastore (what the CLI's
`schedule export-metadata` cron lines call)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from ...errors import ValidationError
from ...operations.export import ExportError, export_asset, export_check_templates
from ...store.repositories import datastores as datastore_repo
from .. import responses as r
from ..deps import SessionDep
from ..routing import Route

router = APIRouter(prefix="/export", tags=["export"], route_class=Route)


def _export(
    session, request: Request, asset: str, datastore: int, containers: list[int] | None, include_deleted: bool
) -> dict:
    ds = datastore_repo.get(session, datastore)
    try:
        return {
            "datastore_id": ds.id,
            "asset_type": asset,
            **export_asset(
                session,
                ds,
                asset,
                containers or None,
                include_deleted,
                secret_key=request.app.state.settings.secret_key,
            ),
        }
    except ExportError as e:
        raise ValidationError(("datastore",), str(e), part="query") from None


@router.post("/anomalies", response_model=r.ExportResult)
def export_anomalies(
    session: SessionDep,
    request: Request,
    datastore: int,
    containers: Annotated[list[int] | None, Query()] = None,
    include_deleted: bool = False,
) -> dict:
    """Replace ``<prefix>_export_anomalies`` with the datastore's anomalies. 422 without enrichment."""
    return _export(session, request, "anomalies", datastore, containers, include_deleted)


@router.post("/checks", response_model=r.ExportResult)
def export_checks(
    session: SessionDep,
    request: Request,
    datastore: int,
    containers: Annotated[list[int] | None, Query()] = None,
    include_deleted: bool = False,
) -> dict:
    """Replace ``<prefix>_export_checks`` with the datastore's checks. 422 without enrichment."""
    return _export(session, request, "checks", datastore, containers, include_deleted)


@router.post("/field-profiles", response_model=r.ExportResult)
def export_field_profiles(
    session: SessionDep, request: Request, datastore: int, containers: Annotated[list[int] | None, Query()] = None
) -> dict:
    """Replace ``<prefix>_export_field_profiles``. 422 without enrichment."""
    return _export(session, request, "field_profiles", datastore, containers, False)


@router.post("/check-templates", status_code=204)
def export_templates(
    session: SessionDep,
    request: Request,
    enrich_datastore_id: int,
    template_ids: Annotated[list[int] | None, Query()] = None,
) -> Response:
    """Replace ``<prefix>_export_check_templates`` in an enrichment datastore; answers 204."""
    target = datastore_repo.get(session, enrich_datastore_id)
    if not target.enrichment_only:
        raise ValidationError(
            ("enrich_datastore_id",), f"datastore {target.id} is not an enrichment datastore", part="query"
        )
    export_check_templates(session, target, template_ids, secret_key=request.app.state.settings.secret_key)
    return Response(status_code=204)
