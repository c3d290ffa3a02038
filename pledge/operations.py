"""The operator's routes: the process is alive, the database answers, the Prometheus metrics.

For the load balancer and the monitoring, not part of the public API; listed in pledge.urls.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from pledge import observability
from pledge.db import ping


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
