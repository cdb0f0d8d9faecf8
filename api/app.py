"""The HTTP service: ``create_app()`` builds it from the settings (``gi serve`` runs it with uvicorn).

One FastAPI app with routers by topic (``api/routes``, ``api/ogc``), a global authorization dependency that reads
``api/access.py``, problem-details errors (``api/problems.py``), size limits and security headers
(``api/middleware.py``), and the OpenAPI 3.0 description at ``/api``. To extend it, add a router module, list
its routes in ``api.access.ROUTES`` and include it in ``ROUTERS``; the factory refuses a route with no entry.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute
from sqlalchemy import Engine, event

from api import problems
from api.access import ROUTES
from api.deps import authorize
from api.grouping import UploadGroups
from api.middleware import LimitsAndHeaders
from api.ogc import routes as ogc_routes
from api.pages import dashboard as dashboard_pages
from api.pages import national_map
from api.pages import public as public_pages
from api.pages import signin as signin_pages
from api.pages.templating import mount_static
from api.routes import auth, imports, jobs, lab, labels, meta, openrosa, plans, reports, samples
from gi.accounts.tokens import PrincipalCache
from gi.db.routing import read_router
from gi.settings import Settings, get_settings

log = logging.getLogger("gi.api")

ROUTERS = [
    meta.router,
    ogc_routes.router,
    auth.router,
    samples.router,
    plans.router,
    labels.router,
    openrosa.router,
    lab.router,
    imports.router,
    jobs.router,
    reports.router,
    public_pages.router,
    signin_pages.router,
    dashboard_pages.router,
    national_map.router,
]

DESCRIPTION = """
Origin and quality supervision of Chinese geographical-indication (GI) products (地理标志产品监管).

Field inspectors upload samples and photos; supervisors plan seasonal inspections, record results and read maps
and reports of their region; the public reads published plans, notices and results. The production areas,
their versions, producers and (for supervisors) samples are served as OGC API - Features collections.

Sign in with `POST /auth/token` (OAuth2 password flow) and send `Authorization: Bearer <token>`.
Errors are RFC 9457 problem details (`application/problem+json`) that name the field.
"""


def served_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every API route of ``app``, through included routers."""
    try:  # FastAPI >= 0.16x includes routers lazily
        from fastapi.routing import iter_route_contexts
    except ImportError:  # pragma: no cover - older FastAPI lists its routes flat
        pairs = [(r, getattr(r, "path", "")) for r in app.routes]
    else:
        pairs = [(c.original_route, c.path or "") for c in iter_route_contexts(app.routes)]
    served = set()
    for route, path in pairs:
        if isinstance(route, APIRoute):
            for method in (route.methods or set()) - {"HEAD"}:
                served.add((method, path))
    return served


def check_access_table(app: FastAPI) -> None:
    """Every route has an entry in ``api.access.ROUTES`` and every entry a route; else refuse to start.

    Routers are included without a prefix, so a route's own path (what a request's scope names) is its full path.
    """
    served = served_routes(app)
    missing = sorted(served - set(ROUTES))
    stale = sorted(set(ROUTES) - served)
    if missing or stale:
        raise RuntimeError(
            f"api/access.py does not match the routes: missing {missing}, no route for {stale}"
        )


def _synchronous_commit(dbapi_connection: Any, record: Any) -> None:
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    dbapi_connection.execute("SET synchronous_commit TO on")
    dbapi_connection.autocommit = autocommit


def durable_commits(engine: Engine) -> None:
    """Commits of the service wait for their WAL to be written, whatever the server's default: an upload
    answered 201 survives a crash of PostgreSQL (the project's own dev cluster runs synchronous_commit=off)."""
    if not event.contains(engine, "connect", _synchronous_commit):
        event.listen(engine, "connect", _synchronous_commit)


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """The service on ``settings`` (default: the environment) and ``engine`` (default: the configured database)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        app.state.read_router.dispose()
        if engine is None and app.state.engine is not None:
            app.state.engine.dispose()

    app = FastAPI(
        title="GI supervision service (地理标志监管服务)",
        version="1.0",
        description=DESCRIPTION,
        openapi_url=None,  # served as OpenAPI 3.0 at /api (api/routes/meta.py)
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(authorize)],
        lifespan=lifespan,
    )
    app.openapi_version = "3.0.3"
    app.state.settings = settings
    app.state.engine = engine
    # Holders of tokens checked lately: a request with a known token is authorized without a thread-pool
    # hand-off, and its token confirmed by the request's first statement (api/deps.py authorize).
    app.state.principals = PrincipalCache()
    app.state.upload_groups = (
        UploadGroups()
    )  # JSON uploads arriving together in this worker (api/grouping.py)
    if engine is None:
        from gi.db import database_url, get_engine

        app.state.engine = get_engine(database_url(settings))
    durable_commits(app.state.engine)
    # Read-only routes (ReadSessionDep) read the replica while it is current (GI_DATABASE_REPLICA_URL).
    app.state.read_router = read_router(app.state.engine, settings)
    for router in ROUTERS:
        app.include_router(router)
    meta.mount_assets(app)
    reports.mount_assets(app)
    mount_static(app)
    check_access_table(app)
    problems.install(app)
    if settings.api_cors_origins:  # closed unless origins are configured
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.api_cors_origins,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
        )
    app.add_middleware(
        LimitsAndHeaders, max_bytes=settings.api_max_request_bytes, max_json_bytes=settings.api_max_json_bytes
    )
    return app
