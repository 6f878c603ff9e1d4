"""Liveness and status: the only routes that need no token."""

from __future__ import annotations

from fastapi import APIRouter, Response

from .. import responses as r
from ..deps import DatabaseDep
from ..routing import Route

router = APIRouter(tags=["health"], route_class=Route)


@router.get("/health", status_code=204)
def health() -> Response:
    """204 while the server is up."""
    return Response(status_code=204)


@router.get("/status", response_model=r.ServerStatus)
def status(db: DatabaseDep) -> dict:
    """``{database_connection, rabbitmq_connection}``: "OK" or the error text."""
    try:
        db.ping()
        database = "OK"
    except Exception as e:  # noqa: BLE001
        database = str(e).splitlines()[0]
    return {"database_connection": database, "rabbitmq_connection": "OK", "queue": "embedded"}
