"""The application factory: settings, database, middleware, the routes of pledge.urls, errors."""

from __future__ import annotations

import functools
import gc
import logging

from fastapi import FastAPI
from sqlalchemy import Engine
from starlette.middleware.gzip import GZipMiddleware

from pledge import errors, observability
from pledge.config import Settings, get_settings, use_settings
from pledge.db import create_db_engine
from pledge.embeds.live import LiveCounts, StreamsFirst
from pledge.ratelimit import limiter
from pledge.supporters import service as supporters
from pledge.urls import API_ROUTERS, LEAN_ROUTES, OPERATIONS, PAGE_ROUTERS, STATIC
from pledge.web import CachedStaticFiles, WebMiddleware, api_description, render

log = logging.getLogger(__name__)


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
    # Signatures and their confirmations are written in group commits: a queue of each per
    # process.
    app.state.signings = supporters.signing_queue(app.state.engine)
    app.state.confirmations = supporters.confirmation_queue(app.state.engine)
    app.state.live = LiveCounts(
        app.state.engine,
        interval=settings.live_interval_seconds,
        keepalive=settings.live_keepalive_seconds,
        max_streams=settings.live_streams_max,
        per_client=settings.live_streams_per_address,
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
    """The routes of pledge.urls, in the order they are matched: the cheapest and busiest
    first (health checks, then the lean routes that carry the load: counters, the campaign
    page, signing), static files, then the routers."""
    for url in OPERATIONS:
        app.add_api_route(url.path, url.handler, methods=list(url.methods), **url.options)
    app.router.routes.extend(LEAN_ROUTES)
    app.mount(STATIC.path, CachedStaticFiles(directory=STATIC.directory), name=STATIC.name)
    # The routers' own routes, not copies: include_router would wrap each router for this app
    # and work out every route's parameters again at its first request (a tenth of a second
    # and more, for each app made). Pages and forms are left out of the API description by
    # their routers (pledge.urls).
    for router in (*API_ROUTERS, *PAGE_ROUTERS):
        app.router.routes.extend(router.routes)


GC_YOUNG_OBJECTS = 10_000


def create_served_app() -> FastAPI:
    """The app as ``pledge serve`` builds it in each worker process.

    Everything made until now (the modules, the app, its routes and templates) lives as long
    as the process. Frozen out of the garbage collector's reach, it is not walked again at
    every full collection: those then take milliseconds instead of a tenth of a second, a
    pause every request in flight would wait through.

    The youngest generation is collected after GC_YOUNG_OBJECTS more objects, not Python's
    700. Under load the objects of the requests in flight make up most of it: at 700 each of
    them was walked again and again, and collections took 4 to 5 % of a signing process's
    CPU; at 10,000, under 0.5 %. Only garbage in cycles waits longer to be freed, and a few
    thousand objects more are a megabyte or two at most."""
    app = create_app()
    gc.collect()
    gc.freeze()
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_OBJECTS, middle, old)
    return app
