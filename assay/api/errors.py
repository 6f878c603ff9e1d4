"""Map domain errors to HTTP answers: 404, 409 and FastAPI-style 422s."""

from __future__ import annotations

import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError, StatementError

from ..engine.rules import RuleDefinitionError
from ..store.repo import Conflict, NotFound


class ErrorBody(BaseModel):
    """Every error answer: ``detail`` is a message, or for request validation a list of
    ``{loc, msg, type}`` naming each field and its problem."""

    detail: str | list[dict[str, Any]]


#: The error answers any route may give, for the OpenAPI schema.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": description}
    for code, description in (
        (400, "Bad request"),
        (401, "Missing, invalid, expired or revoked token"),
        (403, "Not allowed"),
        (404, "Not found"),
        (409, "Conflict with stored data or a running operation"),
        (413, "Request body too large (ASSAY_MAX_BODY_BYTES)"),
        (422, "Invalid input: the field and the problem"),
    )
}


def unprocessable(loc: tuple, message: str, kind: str = "value_error") -> JSONResponse:
    """A 422 in FastAPI's shape: ``{"detail": [{"loc": [...], "msg": ..., "type": ...}]}``."""
    return JSONResponse(status_code=422, content={"detail": [{"loc": ["body", *loc], "msg": message, "type": kind}]})


def json_safe(value: Any) -> Any:
    """``value`` (already JSON-encodable apart from floats) with every non-finite float as the
    string ``"NaN"``, ``"Infinity"`` or ``"-Infinity"``, so strict JSON can render it."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError):
        # FastAPI's own 422, except that the echoed ``input`` / ``ctx`` may hold NaN or
        # Infinity from the body (or 1e400, parsed as Infinity), which strict JSON cannot render.
        # A validator's exception in ``ctx.error`` is given as its message (FastAPI would send ``{}``).
        errors = [
            {**e, "ctx": {k: str(v) if isinstance(v, Exception) else v for k, v in e["ctx"].items()}}
            if isinstance(e.get("ctx"), dict)
            else e
            for e in exc.errors()
        ]
        return JSONResponse(status_code=422, content={"detail": json_safe(jsonable_encoder(errors))})

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
        return JSONResponse(
            status_code=422,
            content={
                "detail": "a number in the request is out of range: ids and counts are at most 9223372036854775807"
            },
        )

    @app.exception_handler(RecursionError)
    async def _recursion(_request: Request, _exc: RecursionError):
        # a backstop: input nested too deeply for a recursive parser that limits.py / the
        # expression parser did not bound first
        return JSONResponse(status_code=422, content={"detail": "the input is nested too deeply to be processed"})

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
