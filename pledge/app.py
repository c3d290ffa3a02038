"""The application factory: settings, database, middleware, routers, static files, errors."""

from __future__ import annotations

import functools
import gc
import logging
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import Engine
from starlette.middleware.gzip import GZipMiddleware
from starlette.routing import BaseRoute

from pledge import errors, observability
from pledge.accounts.routes import router as accounts_router
from pledge.admin.routes import router as admin_router
from pledge.campaigns.routes import router as campaigns_router
from pledge.config import Settings, get_settings, use_settings
from pledge.dashboard.routes import router as dashboard_router
from pledge.db import create_db_engine, ping
from pledge.embeds import routes as embeds_routes
from pledge.embeds.live import LiveCounts, StreamsFirst
from pledge.embeds.routes import router as embeds_router
from pledge.hoaxes.routes import api_router as hoaxes_api_router
from pledge.hoaxes.routes import router as hoaxes_router
from pledge.moderation.routes import router as moderation_router
from pledge.privacy.routes import router as privacy_router
from pledge.ratelimit import limiter
from pledge.supporters import routes as supporters_routes
from pledge.supporters import service as supporters
from pledge.supporters.routes import router as supporters_router
from pledge.web import STATIC_DIR, CachedStaticFiles, WebMiddleware, api_description, render

log = logging.getLogger(__name__)

# Every router of HTML pages, in the order they are matched: a request is compared with each
# route in turn, so the public pages that carry the load come before the staff pages.
PAGE_ROUTERS: tuple[APIRouter, ...] = (
    supporters_router,
    campaigns_router,
    hoaxes_router,
    accounts_router,
    moderation_router,
    dashboard_router,
    admin_router,
    privacy_router,
)


HOT_ROUTES: tuple[BaseRoute, ...] = (
    *embeds_routes.hot_routes,
    *supporters_routes.hot_routes,
)


async def healthz() -> JSONResponse:
    """The process is alive. No I/O: answered on the event loop, never queued behind the
    thread pool."""
    return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})


def readyz(request: Request) -> JSONResponse:
    """The database answers: the process can serve."""
    ready = ping(request.app.state.engine)
    return JSONResponse(
        {"status": "ok" if ready else "unavailable", "database": ready},
        status_code=200 if ready else 503,
        headers={"Cache-Control": "no-store"},
    )


async def metrics(request: Request) -> Response:
    """The Prometheus text, for whom may read it (pledge.observability)."""
    return await observability.metrics_response(request)


# For the operator and the load balancer, not part of the public API.
OPERATIONS_ROUTES: tuple[tuple[str, Callable[..., Any]], ...] = (
    ("/healthz", healthz),
    ("/readyz", readyz),
    ("/metrics", metrics),
)


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """The app, with these settings (else the environment's) as the process's settings."""
    settings = settings or get_settings()
    use_settings(settings)
    app = FastAPI(
        title="Pledge platform API",
        summary="Live supporter counts of civic campaigns, open to every website.",
        version="1",
        docs_url=None,  # /api/docs is rendered by the site itself: no CDN, no inline script
        redoc_url=None,
        openapi_url="/api/openapi.json",
        # Prometheus metrics and our own access log cover what OpenTelemetry would: FastAPI
        # need not look for a tracer or meter provider on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    # The lean routes of the public API are described beside FastAPI's own.
    app.openapi = functools.partial(api_description, app)  # type: ignore[method-assign]
    app.state.engine = engine or create_db_engine(settings)
    app.state.limiter = limiter
    # Signatures are written in group commits: one queue per process.
    app.state.signings = supporters.signing_queue(app.state.engine)
    app.state.live = LiveCounts(
        app.state.engine,
        interval=settings.live_interval_seconds,
        keepalive=settings.live_keepalive_seconds,
        max_streams=settings.live_streams_max,
        secure=settings.secure_cookies,
    )
    errors.install(app, render_page=render)
    _add_middleware(app, settings)
    _add_routes(app)
    return app


def _add_middleware(app: FastAPI, settings: Settings) -> None:
    """The middleware, innermost first: each one added wraps those added before it."""
    app.add_middleware(WebMiddleware, settings=settings)
    app.add_middleware(GZipMiddleware, minimum_size=600, compresslevel=6)
    # Live-count streams are taken before the page machinery, which they would otherwise
    # carry for hours; they are still counted and logged.
    app.add_middleware(StreamsFirst, live=app.state.live)
    # Outermost: the request id is set before anything else runs, and every answer is counted.
    app.state.metrics = observability.Metrics()
    app.add_middleware(observability.ObservabilityMiddleware, metrics=app.state.metrics)


def _add_routes(app: FastAPI) -> None:
    """The routes in the order they are matched: the cheapest and busiest first (health
    checks, then the lean routes that carry the load: counters, the campaign page, signing),
    static files, then the routers."""
    for path, endpoint in OPERATIONS_ROUTES:
        app.add_api_route(path, endpoint, methods=["GET"], include_in_schema=False)
    app.router.routes.extend(HOT_ROUTES)
    app.mount("/static", CachedStaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(embeds_router)
    app.include_router(hoaxes_api_router)
    for router in PAGE_ROUTERS:
        # Pages and forms are not part of the JSON API that OpenAPI describes.
        app.include_router(router, include_in_schema=False)


def create_served_app() -> FastAPI:
    """The app as ``pledge serve`` builds it in each worker process.

    Everything made until now (the modules, the app, its routes and templates) lives as long
    as the process. Frozen out of the garbage collector's reach, it is not walked again at
    every full collection: those then take milliseconds instead of a tenth of a second, a
    pause every request in flight would wait through."""
    app = create_app()
    gc.collect()
    gc.freeze()
    return app
