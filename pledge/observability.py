"""Production observability: Prometheus metrics, request ids, structured logs without contacts.

- Every request gets an id (a safe incoming ``X-Request-ID``, or a new one), echoed in the
  response and carried by every log line written while the request runs, sync routes in the
  threadpool included: it lives in a context variable, which the threadpool copies.
- Every request is counted and timed per route *template* (``/c/{slug}/sign``), never per raw
  path, so the number of series stays bounded whatever addresses clients invent.
- ``GET /metrics`` answers loopback clients, or only the bearer of ``PLEDGE_METRICS_TOKEN``
  when one is set; everyone else gets the usual 404 page. With several worker processes
  (``PROMETHEUS_MULTIPROC_DIR`` set) each process writes its numbers to files there and a
  scrape, answered by any worker, adds them up.
- Log lines are JSON objects (production) or plain text, and a filter on the handlers
  replaces anything that looks like an email address or a phone number with ``[redacted]``:
  the formats, the filters and the handler are in ``pledge.logs``, re-exported here.

The metrics import the application's modules where they first need them.
"""

from __future__ import annotations

import contextlib
import glob
import hmac
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from pledge import logs
from pledge.config import get_settings
from pledge.logs import REQUEST_ID, REQUEST_ID_HEADER_RAW, request_id_from

if TYPE_CHECKING:
    import sqlalchemy as sa
    from fastapi import Request
    from starlette.responses import Response
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from pledge.supporters.models import Signing

log = logging.getLogger(__name__)

# The logging half, where the callers of this module have always found it.
REQUEST_ID_HEADER = logs.REQUEST_ID_HEADER
current_request_id = logs.current_request_id
redact = logs.redact
log_format = logs.log_format
log_handler = logs.log_handler
log_config = logs.log_config

# --- metrics -------------------------------------------------------------------------

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED = "unmatched"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BOT = "bot"  # the honeypot field was filled: nothing was stored
STORED = "stored"
LOOPBACK = frozenset({"127.0.0.1", "::1", "::ffff:127.0.0.1"})


def multiprocess_dir() -> str | None:
    """prometheus_client's own setting, read from the environment as the library reads it."""
    return os.environ.get(MULTIPROC_ENV) or None


@contextlib.contextmanager
def multiprocess_metrics(workers: int) -> Iterator[str | None]:
    """For several worker processes: a fresh folder for their metric files, named in the
    environment before the workers start (they inherit it), removed when serving ends.
    A folder the operator named already is used as it is."""
    given = multiprocess_dir()
    if workers <= 1 or given:
        yield given
        return
    path = tempfile.mkdtemp(prefix="pledge-metrics-")
    os.environ[MULTIPROC_ENV] = path
    try:
        yield path
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(path, ignore_errors=True)


def _forget_dead_processes(path: str) -> None:
    """A worker that died (and was replaced) leaves its open-stream gauge behind: drop it,
    or the sum would count its streams for ever. Counters of dead workers stay counted."""
    for name in glob.glob(os.path.join(path, "gauge_live*_*.db")):
        pid = os.path.basename(name).rsplit("_", 1)[-1].removesuffix(".db")
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            with contextlib.suppress(FileNotFoundError):
                os.remove(name)
        except OSError:
            pass  # it exists, under another user


class QueueCollector(Collector):
    """The moderation queue, read from the database when scraped: one grouped count."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterable[Metric]:
        from sqlalchemy.exc import SQLAlchemyError
        from sqlmodel import Session

        from pledge.moderation import service as moderation

        try:
            with Session(self.engine) as session:
                found = moderation.queue_depth(session)
        except SQLAlchemyError as error:
            log.warning("metrics: counting the moderation queue failed: %s", error)
            return
        depth = GaugeMetricFamily(
            "pledge_moderation_queue_depth",
            "Open hoax cases waiting for a moderator (new, or waiting for more information).",
        )
        depth.add_metric([], found.open)
        yield depth
        waiting = GaugeMetricFamily(
            "pledge_moderation_awaiting_approval",
            "Hoax verdicts waiting for a second moderator's approval.",
        )
        waiting.add_metric([], found.awaiting_approval)
        yield waiting


class _Registered(Collector):
    """The metrics of one process's registry, as part of the registry of one scrape."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterable[Metric]:
        return self.registry.collect()


class Metrics:
    """This app's counters, histogram and gauge. In one process they live in a registry of
    their own (so apps never share numbers); with several, in the files of the shared folder."""

    def __init__(self) -> None:
        from pledge.supporters.models import SignOutcome

        self.multiprocess_dir = multiprocess_dir()
        self.registry = CollectorRegistry()
        registry = self.registry
        self.requests = Counter(
            "pledge_http_requests",
            "HTTP requests answered, by method, route template and status class.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "pledge_http_request_duration_seconds",
            "Time to answer an HTTP request, by method, route template and status class "
            "(an event stream counts until it closes).",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.signings = Counter(
            "pledge_signings",
            "Sign-up forms taken, by outcome: a new supporter, a returning one who added "
            "pledges, one who had signed them all already, or a bot caught by the honeypot.",
            ["outcome"],
            registry=registry,
        )
        self.signatures = Counter(
            "pledge_signatures",
            "Pledges signed: one per supporter and pledge, as counted in the tallies.",
            registry=registry,
        )
        self.reports = Counter(
            "pledge_hoax_reports",
            "Hoax reports taken, by outcome: stored, or a bot caught by the honeypot.",
            ["outcome"],
            registry=registry,
        )
        self.streams = Gauge(
            "pledge_live_streams",
            "Open live-count event streams (summed over the live worker processes).",
            registry=registry,
            multiprocess_mode="livesum",
        )
        for outcome in (*SignOutcome, BOT):
            self.signings.labels(outcome=str(outcome))
        for outcome in (STORED, BOT):
            self.reports.labels(outcome=outcome)
        if self.multiprocess_dir is None:
            ProcessCollector(registry=registry)
        self.dropped = Counter(
            "pledge_log_lines_dropped",
            "Log lines left out because the log's stream could not take them (a full disk, a "
            "stderr nobody reads) and its buffer was full.",
            registry=registry,
        )
        self._streams_seen = -1
        # Lines this process dropped before this app was made are not its to count.
        self._dropped_seen = logs.lines_dropped()

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        labels = (method if method in METHODS else "other", route, f"{status // 100}xx")
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)

    def track_streams(self, streams: int) -> None:
        """Mirror this process's open streams; called on the event loop, so no lock."""
        if streams != self._streams_seen:
            self._streams_seen = streams
            self.streams.set(streams)

    def log_lines_dropped(self, dropped: int) -> None:
        """Mirror the lines this process's log handlers have dropped so far."""
        if dropped > self._dropped_seen:
            self.dropped.inc(dropped - self._dropped_seen)
            self._dropped_seen = dropped

    def signed(self, signing: Signing) -> None:
        if signing.supporter is None:
            self.signings.labels(outcome=BOT).inc()
            return
        self.signings.labels(outcome=signing.outcome.value).inc()
        if signing.added:
            self.signatures.inc(len(signing.added))

    def confirmed(self, signatures: int) -> None:
        """A signing confirmed: the pledges it signed are counted now."""
        if signatures:
            self.signatures.inc(signatures)

    def reported(self, stored: bool) -> None:
        self.reports.labels(outcome=STORED if stored else BOT).inc()

    def render(self, engine: sa.Engine) -> bytes:
        """The exposition text of one scrape: this process (or every worker) and the queue."""
        registry = CollectorRegistry(auto_describe=False)
        if self.multiprocess_dir is not None:
            _forget_dead_processes(self.multiprocess_dir)
            MultiProcessCollector(registry, path=self.multiprocess_dir)
        else:
            registry.register(_Registered(self.registry))
        registry.register(QueueCollector(engine))
        return generate_latest(registry)


def metrics_of(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


def signed(request: Request, signing: Signing) -> None:
    """Count a sign-up form that was taken."""
    metrics_of(request).signed(signing)


def confirmed(request: Request, signatures: int) -> None:
    """Count the pledges a confirmation signed."""
    metrics_of(request).confirmed(signatures)


def reported(request: Request, report: object | None) -> None:
    """Count a hoax report that was taken (None: the honeypot caught a bot)."""
    metrics_of(request).reported(report is not None)


def may_read_metrics(request: Request) -> bool:
    """With a token set, only its bearer; without one, only a client on this machine."""
    token = get_settings().metrics_token
    if token:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), token.encode()
        )
    return request.client is not None and request.client.host in LOOPBACK


async def metrics_response(request: Request) -> Response:
    """``GET /metrics``: the Prometheus text, or the site's ordinary 404 page."""
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import Response

    from pledge.errors import NotFound

    if not may_read_metrics(request):
        raise NotFound()
    metrics = metrics_of(request)
    metrics.track_streams(request.app.state.live.streams)
    # The queue count and, with several workers, the metric files: off the event loop.
    body = await run_in_threadpool(metrics.render, request.app.state.engine)
    return Response(
        body,
        media_type=CONTENT_TYPE_PLAIN_0_0_4,
        headers={"Cache-Control": "no-store"},
    )


# --- the middleware ------------------------------------------------------------------

# Path parameters that are secrets (a supporter's withdrawal token, a report's tracking
# code): the access line shows the template's placeholder instead.
SECRET_PARAMS = frozenset({"token", "code", "secret"})
PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")
PATH_MAX = 200
# Probes that would drown the access log: logged only at debug level.
QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})


def route_of(scope: Scope) -> tuple[str, str]:
    """The matched route's template, and the path as logged: the template filled in with
    the request's parameters, except secret ones. No query string, ever."""
    route = scope.get("route")
    template = getattr(route, "path", None)
    if isinstance(template, str):
        params = scope.get("path_params") or {}

        def fill(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in SECRET_PARAMS or name not in params:
                return match.group(0)
            return str(params[name])

        return template, PARAM.sub(fill, template)[:PATH_MAX]
    path = str(scope.get("path", ""))[:PATH_MAX]
    # A mounted app (the static files) was matched: its prefix became part of root_path.
    mounted = str(scope.get("root_path", ""))[len(str(scope.get("app_root_path", ""))) :]
    if scope.get("endpoint") is not None and mounted:
        return mounted + "/{path}", path
    return UNMATCHED, path


class ObservabilityMiddleware:
    """Per request: the id, the metrics, the access line and the open-stream gauge."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    def _track_streams(self, scope: Scope) -> None:
        live = getattr(getattr(scope.get("app"), "state", None), "live", None)
        if live is not None:
            self.metrics.track_streams(live.streams)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        incoming = None
        for key, value in scope["headers"]:
            if key == REQUEST_ID_HEADER_RAW:
                incoming = value.decode("latin-1")
                break
        request_id = request_id_from(incoming)
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        ended: float | None = None
        status = 500  # what the server answers when nothing was sent

        async def send_with_id(message: Message) -> None:
            nonlocal status, ended
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", ()),
                    (REQUEST_ID_HEADER_RAW, request_id.encode("latin-1")),
                ]
                # An event stream has just subscribed: the gauge shows it while it is open.
                self._track_streams(scope)
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                # The client has its answer; background tasks (mail) run after this.
                ended = time.perf_counter()
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except BaseException:
            self._finish(scope, status, (ended or time.perf_counter()) - started)
            # The id stays set: the server's own report of this error is logged with it,
            # and each request runs in a task (and so a context) of its own.
            raise
        self._finish(scope, status, (ended or time.perf_counter()) - started)
        REQUEST_ID.reset(token)

    def _finish(self, scope: Scope, status: int, duration: float) -> None:
        method = str(scope.get("method", ""))
        route, path = route_of(scope)
        self.metrics.observe(method, route, status, duration)
        self._track_streams(scope)
        client = scope.get("client")
        if status >= 500:
            level = logging.WARNING
        elif route in QUIET_ROUTES:
            level = logging.DEBUG
        else:
            level = logging.INFO
        line = logs.AccessLine(
            time.time(),
            level,
            REQUEST_ID.get(),
            method,
            route,
            path,
            status,
            round(duration * 1000, 1),
            client[0] if client else None,
        )
        self.metrics.log_lines_dropped(logs.write_access(line))
