"""Liveness and status: the only routes that need no token."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Response

from .. import responses as r
from ..deps import DatabaseDep
from ..routing import Route

log = logging.getLogger(__name__)

router = APIRouter(tags=["health"], route_class=Route)


@router.get("/health", status_code=204)
def health() -> Response:
    """204 while the server is up."""
    return Response(status_code=204)


@router.get("/status", response_model=r.ServerStatus)
def status(db: DatabaseDep) -> dict:
    """``{database_connection, rabbitmq_connection}``: "OK", or "unavailable" when the
    metadata store cannot be reached. This route needs no token, so the driver's message
    (it names hosts and databases) goes to the server's log only."""
    try:
        db.ping()
        database = "OK"
    except Exception as e:  # noqa: BLE001
        log.error("GET /api/status: the metadata store is unavailable: %s", str(e).splitlines()[0])
        database = "unavailable"
    return {"database_connection": database, "rabbitmq_connection": "OK", "queue": "embedded"}
