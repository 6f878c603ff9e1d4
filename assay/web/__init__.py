"""The web UI and the offline API docs, served by ``assay serve`` on the API's origin.

The UI is a TypeScript single-page app (``ui/``, React + Vite) built into
``assay/web/static/`` by ``make install`` (``npm ci && npm run build``; Node.js 20+) and
shipped as package data, so an installed wheel needs no Node. :func:`install` adds:

- ``GET /`` and every client route (``/datastores/3``, ``/anomalies?status=Active``): the
  built files when the path names one, ``index.html`` otherwise (the app routes in the
  browser). Paths under ``/api`` are never taken: an unknown ``/api/...`` stays a JSON 404.
- ``GET /api/docs``: Swagger UI from the built ``swagger/`` assets (no CDN), so the page
  works offline. Without a build, a short page says how to build the UI.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import Match, Route
from starlette.types import Scope

#: Where ``npm run build`` (in ``ui/``) writes the app; ``swagger/`` holds the docs assets.
STATIC_DIR = Path(__file__).parent / "static"

NOT_BUILT = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Assay</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>Assay</h1><p>The web UI is not built in this installation. Build it from a source checkout with
Node.js 20+: <code>make install</code> (or <code>cd ui &amp;&amp; npm ci &amp;&amp; npm run build</code>).</p>
<p>The REST API is at <a href="/api/openapi.json">/api/openapi.json</a>.</p></body></html>"""


def ui_built(static_dir: Path | None = None) -> bool:
    """True when the built UI (``index.html``) is present."""
    return ((static_dir or STATIC_DIR) / "index.html").is_file()


def _file_under(root: Path, relative: str) -> Path | None:
    """``root / relative`` when it is an existing file inside ``root`` (no ``..`` escapes)."""
    if not relative:
        return None
    candidate = (root / relative).resolve()
    try:
        candidate.relative_to(root.resolve())
    except ValueError:
        return None
    return candidate if candidate.is_file() else None


def install(app: FastAPI, static_dir: Path | None = None) -> None:
    """Add the API docs page and the UI routes to ``app`` (after every ``/api`` router);
    files come from ``static_dir`` (default :data:`STATIC_DIR`)."""
    static_dir = static_dir or STATIC_DIR

    @app.get("/api/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        if not (static_dir / "swagger" / "swagger-ui-bundle.js").is_file():
            return HTMLResponse(NOT_BUILT, status_code=503)
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/api/openapi.json",
            title=f"{app.title} API",
            swagger_js_url="/swagger/swagger-ui-bundle.js",
            swagger_css_url="/swagger/swagger-ui.css",
            swagger_favicon_url="/favicon.svg",
        )

    def ui(request: Request) -> Response:
        path = request.path_params["path"]
        found = _file_under(static_dir, path)
        if found is not None:
            # hashed assets never change; index.html and the rest are revalidated
            immutable = path.startswith("assets/")
            headers = {"Cache-Control": "public, max-age=31536000, immutable" if immutable else "no-cache"}
            return FileResponse(found, headers=headers)
        index = static_dir / "index.html"
        if not index.is_file():
            return HTMLResponse(NOT_BUILT, status_code=200 if path == "" else 404)
        if "." in path.rsplit("/", 1)[-1]:
            return PlainTextResponse(f"no file {path!r} in the web UI", status_code=404)  # not a client route
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    app.router.routes.append(_UIRoute("/{path:path}", ui, methods=["GET", "HEAD"], include_in_schema=False))


class _UIRoute(Route):
    """A catch-all route that never matches under ``/api``, so unknown API paths keep their
    JSON 404 and wrong methods their 405."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path = scope.get("path", "")
        if path == "/api" or path.startswith("/api/"):
            return Match.NONE, {}
        return super().matches(scope)
