"""Map domain errors to HTTP answers: 404, 409 and FastAPI-style 422s."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError

from ..engine.rules import RuleDefinitionError
from ..store.repo import Conflict, NotFound


def unprocessable(loc: tuple, message: str, kind: str = "value_error") -> JSONResponse:
    """A 422 in FastAPI's shape: ``{"detail": [{"loc": [...], "msg": ..., "type": ...}]}``."""
    return JSONResponse(status_code=422, content={"detail": [{"loc": ["body", *loc], "msg": message, "type": kind}]})


def install(app: FastAPI) -> None:
    @app.exception_handler(NotFound)
    async def _not_found(_request: Request, exc: NotFound):
        return JSONResponse(status_code=404, content={"detail": str(exc)})

    @app.exception_handler(Conflict)
    async def _conflict(_request: Request, exc: Conflict):
        return JSONResponse(status_code=409, content={"detail": str(exc)})

    @app.exception_handler(IntegrityError)
    async def _integrity(_request: Request, exc: IntegrityError):
        return JSONResponse(status_code=409, content={"detail": f"conflict with stored data: {exc.orig}"})

    @app.exception_handler(RuleDefinitionError)
    async def _rule(_request: Request, exc: RuleDefinitionError):
        return unprocessable(exc.loc, exc.message)
