"""Map domain errors to HTTP answers, all in one shape, and document it in the OpenAPI.

The shape (``responses.Error``): ``{"detail": "<what is wrong>"}`` for 401, 404, 409 and
413; for a 422 about the request's content ``{"detail": [{"loc": [...], "msg": ...,
"type": ...}]}``, one entry per offending input, ``loc`` starting with ``body``, ``query``
or ``path``. ``NotFound`` → 404, ``Conflict`` and integrity errors → 409,
``ValidationError`` and ``RuleDefinitionError`` → 422 naming the field. A metadata store
that cannot be reached (``OperationalError``) → 503 ``{"detail": "the metadata store is
unavailable; try again later"}`` with ``Retry-After``; the driver's message, which names
hosts and databases, goes to the server's log only.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError, OperationalError, StatementError

from ..engine.rules import RuleDefinitionError
from ..errors import Conflict, NotFound, ValidationError

log = logging.getLogger(__name__)


def unprocessable(loc: tuple, message: str, kind: str = "value_error", part: str = "body") -> JSONResponse:
    """A 422 in FastAPI's shape: ``{"detail": [{"loc": [part, *loc], "msg": ..., "type": ...}]}``."""
    return JSONResponse(status_code=422, content={"detail": [{"loc": [part, *loc], "msg": message, "type": kind}]})


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

    @app.exception_handler(OperationalError)
    async def _store_unavailable(request: Request, exc: OperationalError):
        # the metadata store went away (server down, database dropped, disk gone, a lock
        # held past the busy timeout): the server is unavailable, not the request wrong.
        # The driver's message names hosts and databases: it goes to the log only.
        log.error("%s %s: the metadata store is unavailable: %s", request.method, request.url.path, exc.orig)
        return JSONResponse(
            status_code=503,
            content={"detail": "the metadata store is unavailable; try again later"},
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(StatementError)
    async def _statement(_request: Request, exc: StatementError):
        # A value the metadata store cannot even bind (a 20-digit id on SQLite) is bad input, not a bug.
        if isinstance(exc.orig, OverflowError) or "out of range" in str(exc.orig):
            return _out_of_range()
        raise exc

    @app.exception_handler(RuleDefinitionError)
    async def _rule(_request: Request, exc: RuleDefinitionError):
        return unprocessable(exc.loc, exc.message)

    @app.exception_handler(ValidationError)
    async def _validation(_request: Request, exc: ValidationError):
        return unprocessable(exc.loc, exc.message, part=exc.part)


# -- the error shape in the OpenAPI ----------------------------------------------------------
ERROR_DESCRIPTIONS = {
    401: "No valid bearer token: missing, malformed, expired or revoked",
    403: "The user's role or team permission does not allow this on a datastore they can see "
    "(docs/permissions.md); another team's objects answer 404 instead",
    404: "Something the request names does not exist; ``detail`` says what",
    409: "The request conflicts with the stored state (a duplicate name, an operation still running …)",
    413: "The request body is too large",
    429: "Too many attempts: ``Retry-After`` says how many seconds to wait",
    422: "The request's content is not acceptable: ``detail`` lists each offending input with its "
    "location (``loc``); a number out of range in the URL gets a sentence instead",
}
_WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def error_codes(method: str, operation: dict[str, Any]) -> list[int]:
    """The error statuses an OpenAPI ``operation`` may answer (each with an ``Error`` body):
    401 and 403 behind authentication (it declares ``security``; 403 when the policy refuses
    the user's role or team permission); 404 and 422 when it takes any parameter or a body
    (ids may not exist, values may be invalid); 409 for writes (POST, PUT, PATCH, DELETE);
    413 with a body; and any 4xx the route declares itself (``responses=`` on its decorator,
    e.g. sign-in's 401 and 429)."""
    codes = [int(code) for code in operation.get("responses", {}) if code.startswith("4") and code != "422"]
    if operation.get("security"):
        codes += [401, 403]
    if operation.get("parameters") or operation.get("requestBody"):
        codes += [404, 422]
    if method.upper() in _WRITES:
        codes.append(409)
    if operation.get("requestBody"):
        codes.append(413)
    return sorted(set(codes))


def document(app: FastAPI) -> None:
    """Make ``app.openapi()`` document the one error shape, ``Error`` (see ``responses.py``),
    for every error status each operation may answer (``error_codes``), in place of
    FastAPI's ``HTTPValidationError``."""
    from .responses import Error

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            servers=app.servers,
        )
        error_schema = Error.model_json_schema(ref_template="#/components/schemas/{model}")
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(error_schema.pop("$defs", {}))
        components["Error"] = error_schema
        ref = {"$ref": "#/components/schemas/Error"}
        for item in schema.get("paths", {}).values():
            for method, operation in item.items():
                responses = operation.setdefault("responses", {})
                responses.pop("422", None)  # FastAPI's HTTPValidationError: replaced by Error
                for code in error_codes(method, operation):
                    declared = responses.get(str(code), {}).get("description")
                    responses[str(code)] = {
                        "description": declared
                        if declared and declared != "Unsuccessful Response"
                        else ERROR_DESCRIPTIONS[code],
                        "content": {"application/json": {"schema": ref}},
                    }
        for unused in ("HTTPValidationError", "ValidationError"):
            components.pop(unused, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
