"""Map domain errors to HTTP answers: 404, 409 and FastAPI-style 422s."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError, StatementError

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

    def _out_of_range() -> JSONResponse:
        return JSONResponse(status_code=422, content={
            "detail": "a number in the request is out of range: ids and counts are at most 9223372036854775807"})

    @app.exception_handler(OverflowError)
    async def _overflow(_request: Request, _exc: OverflowError):
        return _out_of_range()

    @app.exception_handler(StatementError)
    async def _statement(_request: Request, exc: StatementError):
        # A value the metadata store cannot even bind (a 20-digit id on SQLite) is bad input, not a bug.
        if isinstance(exc.orig, OverflowError) or "out of range" in str(exc.orig):
            return _out_of_range()
        raise exc

    @app.exception_handler(RuleDefinitionError)
    async def _rule(_request: Request, exc: RuleDefinitionError):
        return unprocessable(exc.loc, exc.message)
