"""The FastAPI application: every route under ``/api``, schema at ``/api/openapi.json``."""

from __future__ import annotations

import functools
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI
from starlette.routing import BaseRoute

from .. import __version__, web
from ..config import Settings, get_settings
from ..flows.dispatcher import Dispatcher
from ..operations.runner import Runner, freeze_startup_heap, thaw_heap
from ..operations.scheduler import Scheduler
from ..security import SignInThrottle
from ..store.db import Database, upgrade
from . import errors
from .first_admin import announce, ensure_first_admin
from .limits import InputLimits
from .policy import enforce
from .routers import (
    anomalies,
    comments,
    connections,
    containers,
    containers_write,
    datastores,
    enrichment,
    export,
    fields,
    flows,
    global_tags,
    health,
    insights,
    notification_rules,
    operations,
    partitions,
    profiles,
    quality_checks,
    scans,
    schedules,
    specifications,
    user_notifications,
    users,
)
from .routing import operation_id


def create_app(settings: Settings | None = None, *, start_workers: bool = True) -> FastAPI:
    """Build the app. On start it applies migrations to the metadata store, then starts
    ``settings.workers`` worker threads, re-queues operations a previous run left, and
    starts the scheduler (a tick every 5 s; safe with several servers on one store) and the
    flow dispatcher (delivers flow actions; safe with several servers and workers)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        upgrade(settings.database_url)
        app.state.settings = settings
        app.state.database = Database(settings.database_url, settings.secret_key)
        link = ensure_first_admin(app.state.database, settings.secret_key)
        if link:
            announce(link)
        app.state.runner = Runner(app.state.database, workers=settings.workers)
        app.state.scheduler = Scheduler(app.state.database, app.state.runner.submit)
        app.state.flow_dispatcher = Dispatcher(app.state.database, submit=app.state.runner.submit)
        if start_workers:
            app.state.runner.recover()
            app.state.runner.start_background(poll=False)  # reaps operations of lost workers
            app.state.scheduler.start()
            if settings.workers > 0:  # ASSAY_WORKERS=0: an API-only server; `assay worker` delivers
                app.state.flow_dispatcher.start()
            freeze_startup_heap()  # full garbage collections then skip what the server holds from its start
        try:
            yield
        finally:
            app.state.flow_dispatcher.stop()
            app.state.scheduler.stop()
            app.state.runner.shutdown(wait=True)
            if start_workers:
                thaw_heap()

    app = FastAPI(
        title="Assay",
        version=__version__,
        description="Open-source data quality with a Qualytics-compatible API.",
        openapi_url="/api/openapi.json",
        docs_url=None,  # served by assay.web from local assets (no CDN)
        redoc_url=None,
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
    )
    app.router.routes.extend(api_routes())
    app.state.sign_in_throttle = SignInThrottle()  # POST /api/auth/sign-in: 429 after 5 failures per email
    errors.install(app)
    app.add_middleware(InputLimits)  # body size, depth, lengths, control characters: limits.py
    errors.document(app)
    web.install(app)  # last: its catch-all route serves the UI for every path outside /api
    return app


@functools.cache
def api_routes() -> tuple[BaseRoute, ...]:
    """Every ``/api`` route, built once per process and shared by the apps
    :func:`create_app` makes (tests make hundreds: building them, FastAPI's dependency
    analysis and Pydantic adapters for about 190 operations, costs ~0.3 s of CPU each time).

    The routes hold no per-app state: an endpoint reaches its app's store, runner and
    settings through ``request.app.state``. (FastAPI's ``dependency_overrides``, which a
    route would look up on the app that built it, is not used.)"""
    builder = FastAPI(openapi_url=None, docs_url=None, redoc_url=None, generate_unique_id_function=operation_id)
    # Public: health, status, sign-in, first set-up and the CLI's browser login. Everything
    # else needs a token and passes the route's rule in policy.POLICY (role, team permission).
    public = APIRouter(prefix="/api")
    public.include_router(health.router)
    public.include_router(users.public)
    protected = APIRouter(prefix="/api", dependencies=[Depends(enforce)])
    # schedules before operations: /operations/schedule must not be taken for /operations/{id}
    for module in (
        specifications,  # before datastores, connections: /datastores/listing is no datastore id
        datastores,
        connections,
        containers,
        containers_write,
        fields,
        profiles,
        quality_checks,
        anomalies,
        comments,
        schedules,
        operations,
        partitions,
        global_tags,
        export,
        users,
        flows,
        user_notifications,
        notification_rules,
        insights,
        enrichment,
        scans,
    ):
        protected.include_router(module.router)
    protected.include_router(quality_checks.templates)
    builder.include_router(public)
    builder.include_router(protected)
    return tuple(builder.router.routes)
